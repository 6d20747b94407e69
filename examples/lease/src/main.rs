//! The lease service in production: a server and three contending clients
//! in one process, on real time (`detsim::real::TokioRuntime`), UDP on
//! 127.0.0.1 (`detsim_net::real`) and a real directory for the token file
//! (`detsim_disk::RealStorage`). The code is the one the simulation tests
//! run; this binary is built without the simulator.
//!
//! ```text
//! cargo run -p lease -- 5      # five seconds of contention, then a summary
//! ```

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use detsim::real::TokioRuntime;
use detsim::{Clock, Seed, Spawn};
use detsim_disk::RealStorage;
use detsim_net::real::{Directory, RealNet};
use lease::{Belief, Config, LeaseClient, PORT, WorkerOptions, serve, worker};

const CLIENTS: [&str; 3] = ["c1", "c2", "c3"];

fn main() {
    let seconds: u64 = match std::env::args().nth(1).map(|a| a.parse()) {
        None => 3,
        Some(Ok(seconds)) => seconds,
        Some(Err(_)) => {
            eprintln!("usage: lease [SECONDS]");
            std::process::exit(2);
        }
    };
    let root = std::env::temp_dir().join(format!("lease-{}", std::process::id()));
    std::fs::create_dir_all(&root).expect("a temporary directory");
    let storage = RealStorage::new(&root).expect("a storage directory");
    let runtime = TokioRuntime::new(Seed::new(u64::from(std::process::id())));
    let rt = runtime.clone();
    let grants = runtime.block_on(async move {
        let mut directory = Directory::new().node("lease", 0).expect("unique names");
        for name in CLIENTS {
            directory = directory.node(name, 0).expect("unique names");
        }
        let config = Config::default();
        let net = RealNet::new(directory.clone(), "lease").expect("a known node");
        let server = rt.spawn(serve(rt.clone(), net, storage, PORT, config));
        // Let the server bind and sit out its grace period.
        rt.sleep(config.grace).await;
        let grants = Rc::new(RefCell::new(0u32));
        let mut workers = Vec::new();
        for (i, name) in CLIENTS.iter().enumerate() {
            let net = RealNet::new(directory.clone(), name).expect("a known node");
            let server_addr = format!("lease:{PORT}");
            let client = LeaseClient::new(rt.clone(), &net, &server_addr, i as u64 + 1, config)
                .await
                .expect("a client socket");
            let (grants, name) = (grants.clone(), *name);
            let report = move |belief: Belief| match belief {
                Belief::Holds { token, from, until } => {
                    *grants.borrow_mut() += 1;
                    println!("{from} {name} holds token {token} until {until}");
                }
                Belief::Gone { token, at } => println!("{at} {name} lets token {token} go"),
            };
            workers.push(rt.spawn(worker(client, WorkerOptions::default(), report)));
        }
        rt.sleep(Duration::from_secs(seconds)).await;
        drop((server, workers));
        *grants.borrow()
    });
    std::fs::remove_dir_all(&root).expect("removing the temporary directory");
    println!("{grants} grants and renewals in {seconds}s");
}
