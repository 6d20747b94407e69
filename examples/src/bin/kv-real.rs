//! The same Raft key-value store, on real sockets, files and time: three
//! nodes on 127.0.0.1 (UDP), each with its own directory, and a client
//! doing a few operations; then the leader is stopped and the client
//! carries on with the two others. No line of the store differs from what
//! the simulation runs: only the backends passed to it.
//!
//! ```text
//! cargo run --release -p examples --bin kv-real
//! ```

use std::rc::Rc;
use std::time::Duration;

use detsim::real::TokioRuntime;
use detsim::{Clock, Seed, Spawn};
use detsim_disk::RealStorage;
use detsim_net::real::{Directory, RealNet};
use examples::raft::client::{Client, ClientOptions};
use examples::raft::cluster::PORT;
use examples::raft::kv::Op;
use examples::raft::server::{self, NoObserver, ServerConfig};

const NODES: [&str; 3] = ["n1", "n2", "n3"];

fn main() {
    let root = std::env::temp_dir().join(format!("kv-real-{}", std::process::id()));
    let runtime = TokioRuntime::new(Seed::new(1));
    let clock = runtime.clone();
    let dirs = root.clone();
    let code = runtime.block_on(async move {
        let mut directory = Directory::new();
        for (i, name) in NODES.iter().enumerate() {
            // n1:7000 is 127.0.0.1:27000, n2:7000 is 127.0.0.1:27100…
            directory = directory
                .node(name, 20_000 + 100 * i as u16)
                .expect("unique names");
        }
        directory = directory.node("client", 0).expect("unique names");
        let addresses: Vec<String> = NODES.iter().map(|n| format!("{n}:{PORT}")).collect();
        let mut servers = Vec::new();
        for (id, name) in NODES.iter().enumerate() {
            let dir = dirs.join(name);
            std::fs::create_dir_all(&dir).expect("a temporary directory");
            let storage = RealStorage::new(&dir).expect("a storage directory");
            let net = RealNet::new(directory.clone(), name).expect("a known node");
            let config = ServerConfig {
                id: id as u8,
                addresses: addresses.clone(),
                port: PORT,
                tick: Duration::from_millis(10),
                bugs: Default::default(),
            };
            let task = clock.spawn(server::run(
                net,
                storage,
                clock.clone(),
                config,
                Rc::new(NoObserver),
            ));
            servers.push(task);
        }
        let net = RealNet::new(directory.clone(), "client").expect("a known node");
        let options = ClientOptions::default();
        let mut client = Client::connect(&net, clock.clone(), 1, &addresses, options)
            .await
            .expect("a client socket");
        let start = clock.now();
        let key = || "greeting".to_owned();
        let ops = [
            Op::Put {
                key: key(),
                value: 1,
            },
            Op::Get { key: key() },
            Op::Cas {
                key: key(),
                expected: Some(1),
                new: 2,
            },
            Op::Get { key: key() },
        ];
        for op in ops {
            let result = client.call(op.clone()).await;
            println!(
                "{:>9.3}s  {op:<28} -> {result:?}",
                (clock.now() - start).as_secs_f64()
            );
        }
        let leader = client.leader_hint();
        println!("stopping {} (the leader)", NODES[leader]);
        servers[leader].abort();
        for op in [
            Op::Put {
                key: key(),
                value: 3,
            },
            Op::Get { key: key() },
            Op::Delete { key: key() },
        ] {
            let result = client.call(op.clone()).await;
            println!(
                "{:>9.3}s  {op:<28} -> {result:?}",
                (clock.now() - start).as_secs_f64()
            );
        }
        let ok = client.call(Op::Get { key: key() }).await
            == Some(examples::raft::kv::OpResult::Value(None));
        i32::from(!ok)
    });
    let _ = std::fs::remove_dir_all(&root);
    std::process::exit(code);
}
