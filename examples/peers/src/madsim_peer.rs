//! The workloads on madsim 0.2.34 (built with `--cfg madsim`): a
//! `Runtime::with_seed_and_config` world per run, nodes from `create_node`
//! with an IP each, `madsim::net::UdpSocket`, `madsim::time::sleep`, and the
//! world's seeded `madsim::rand::thread_rng`.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use madsim::net::UdpSocket;
use madsim::rand::{Rng, thread_rng};
use madsim::runtime::{NodeHandle, Runtime};
use madsim::time::{TimeHandle, sleep};

use crate::workloads::{
    BROADCAST_NODES, BROADCAST_SEED, ONE_WAY, TIMER_MAX_MS, TIMERS_SEED, Worlds,
};

/// This peer's worlds (see [`Worlds`]).
pub const WORLDS: Worlds = Worlds {
    pingpong: pingpong_world,
    timers_node: timers_node_world,
    broadcast: broadcast_world,
};

/// Virtual seconds since the current world began.
fn elapsed() -> f64 {
    TimeHandle::current().elapsed().as_secs_f64()
}

/// A world's config: no loss, every packet 1 ms on the wire. (madsim draws a
/// latency from `send_latency`, a half-open range, for each packet; a range
/// one nanosecond wide always gives 1 ms.)
fn config() -> madsim::Config {
    madsim::Config {
        net: madsim::net::Config {
            packet_loss_rate: 0.0,
            send_latency: ONE_WAY..ONE_WAY + Duration::from_nanos(1),
        },
        ..madsim::Config::default()
    }
}

/// The simulated address of node `i` (a documentation range: nothing leaves
/// the simulator).
fn ip(i: u64) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1 + i as u8))
}

/// Port every workload's sockets bind.
const PORT: u16 = 1;

/// Binds a socket on `node`. madsim drops a packet whose destination is not
/// bound when it is sent, and runs ready tasks in random order, so the
/// workloads bind every socket before any task sends.
async fn bind_on(node: &NodeHandle) -> UdpSocket {
    node.spawn(async { UdpSocket::bind(("0.0.0.0", PORT)).await.expect("free port") })
        .await
        .expect("bind task ends normally")
}

/// detsim's `pingpong_world`: node `a` echoes, node `b` drives `round_trips`
/// 8-byte ping-pongs from a task the harness spawns on it. Returns the
/// virtual seconds covered.
fn pingpong_world(seed: u64, round_trips: u64) -> f64 {
    let rt = Runtime::with_seed_and_config(seed, config());
    let a = rt.create_node().name("a").ip(ip(0)).build();
    let b = rt.create_node().name("b").ip(ip(1)).build();
    let server = SocketAddr::new(ip(0), PORT);
    rt.block_on(async move {
        let socket = bind_on(&a).await;
        a.spawn(async move {
            let mut buf = [0u8; 8];
            loop {
                let (n, from) = socket.recv_from(&mut buf).await.expect("open socket");
                socket.send_to(from, &buf[..n]).await.expect("valid target");
            }
        });
        let socket = bind_on(&b).await;
        b.spawn(async move {
            let mut buf = [0u8; 8];
            for i in 0..round_trips {
                socket
                    .send_to(server, &i.to_le_bytes())
                    .await
                    .expect("valid target");
                let (n, _) = socket.recv_from(&mut buf).await.expect("open socket");
                assert_eq!(n, 8);
                assert_eq!(u64::from_le_bytes(buf), i, "echo out of order");
            }
        })
        .await
        .expect("client ends normally");
        elapsed()
    })
}

/// detsim's `timers_node_world`: `tasks` tasks spawned on one node, each
/// sleeping 1..=1000 ms drawn from the world's RNG, `sleeps` times. Returns
/// the firings and the virtual seconds covered.
fn timers_node_world(tasks: u64, sleeps: u64) -> (u64, f64) {
    let rt = Runtime::with_seed_and_config(TIMERS_SEED, config());
    let node = rt.create_node().name("n1").build();
    rt.block_on(async move {
        let handles: Vec<_> = (0..tasks)
            .map(|_| {
                node.spawn(async move {
                    for _ in 0..sleeps {
                        let ms = thread_rng().gen_range(1..=TIMER_MAX_MS);
                        sleep(Duration::from_millis(ms)).await;
                    }
                    sleeps
                })
            })
            .collect();
        let mut fired = 0;
        for handle in handles {
            fired += handle.await.expect("timer task ends normally");
        }
        (fired, elapsed())
    })
}

/// detsim's `broadcast_world`: 16 nodes, `rounds` rounds of all-to-all.
/// Returns the messages received and the virtual seconds covered.
fn broadcast_world(rounds: u64) -> (u64, f64) {
    const NODES: u64 = BROADCAST_NODES;
    let rt = Runtime::with_seed_and_config(BROADCAST_SEED, config());
    let nodes: Vec<NodeHandle> = (0..NODES)
        .map(|i| rt.create_node().name(format!("n{i}")).ip(ip(i)).build())
        .collect();
    let peers: Vec<SocketAddr> = (0..NODES).map(|i| SocketAddr::new(ip(i), PORT)).collect();
    rt.block_on(async move {
        let mut sockets = Vec::new();
        for node in &nodes {
            sockets.push(bind_on(node).await);
        }
        let tasks: Vec<_> = nodes
            .iter()
            .zip(sockets)
            .enumerate()
            .map(|(i, (node, socket))| {
                let peers = peers.clone();
                node.spawn(async move {
                    let me = peers[i];
                    let mut buf = [0u8; 8];
                    let mut early = 0u64;
                    let mut received = 0u64;
                    for round in 0..rounds {
                        let payload = round.to_le_bytes();
                        for &peer in &peers {
                            if peer != me {
                                socket.send_to(peer, &payload).await.expect("valid target");
                            }
                        }
                        let mut got = std::mem::take(&mut early);
                        while got < NODES - 1 {
                            let (n, _) = socket.recv_from(&mut buf).await.expect("open socket");
                            assert_eq!(n, 8, "8-byte payload");
                            received += 1;
                            let r = u64::from_le_bytes(buf);
                            if r == round {
                                got += 1;
                            } else {
                                assert_eq!(r, round + 1, "a peer ran two rounds ahead");
                                early += 1;
                            }
                        }
                    }
                    received
                })
            })
            .collect();
        let mut total = 0;
        for task in tasks {
            total += task.await.expect("node task ends normally");
        }
        (total, elapsed())
    })
}
