//! The workloads on turmoil 0.7.2 (built without `--cfg madsim`): a
//! `turmoil::Builder` world per run with `min_message_latency` =
//! `max_message_latency` = 1 ms and a seeded RNG, `sim.host` for servers,
//! `sim.client` for what drives the run, `turmoil::net::UdpSocket`, and tokio's
//! `spawn` and `time::sleep` on each host's runtime.

use std::cell::{Cell, RefCell};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::rc::Rc;
use std::time::Duration;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use turmoil::net::UdpSocket;

use crate::workloads::{
    BROADCAST_NODES, BROADCAST_SEED, ONE_WAY, TIMER_MAX_MS, TIMERS_SEED, Worlds,
};

/// This peer's worlds (see [`Worlds`]).
pub const WORLDS: Worlds = Worlds {
    pingpong: pingpong_world,
    timers_node: timers_node_world,
    broadcast: broadcast_world,
};

/// A world: constant 1 ms links (turmoil draws each message's latency between
/// the two bounds), no loss, turmoil's default 1 ms tick, and no limit on
/// virtual time (the default stops a run after 10 virtual seconds).
fn sim<'a>(seed: u64) -> turmoil::Sim<'a> {
    turmoil::Builder::new()
        .min_message_latency(ONE_WAY)
        .max_message_latency(ONE_WAY)
        .simulation_duration(Duration::from_secs(1 << 40))
        .rng_seed(seed)
        .build()
}

/// Port every workload's sockets bind.
const PORT: u16 = 1;

/// Binds this host's socket.
async fn bind() -> UdpSocket {
    UdpSocket::bind((Ipv4Addr::UNSPECIFIED, PORT))
        .await
        .expect("free port")
}

/// detsim's `pingpong_world`: host `a` echoes, client `b` drives
/// `round_trips` 8-byte ping-pongs. Returns the virtual seconds covered.
fn pingpong_world(seed: u64, round_trips: u64) -> f64 {
    let mut sim = sim(seed);
    sim.host("a", || async {
        let socket = bind().await;
        let mut buf = [0u8; 8];
        loop {
            let (n, from) = socket.recv_from(&mut buf).await?;
            socket.send_to(&buf[..n], from).await?;
        }
    });
    sim.client("b", async move {
        let socket = bind().await;
        let server = SocketAddr::new(turmoil::lookup("a"), PORT);
        let mut buf = [0u8; 8];
        for i in 0..round_trips {
            socket.send_to(&i.to_le_bytes(), server).await?;
            let (n, _) = socket.recv_from(&mut buf).await?;
            assert_eq!(n, 8);
            assert_eq!(u64::from_le_bytes(buf), i, "echo out of order");
        }
        Ok(())
    });
    sim.run().expect("pingpong runs");
    sim.elapsed().as_secs_f64()
}

thread_local! {
    /// `timers-node`'s RNG: turmoil has no RNG for the software it runs, so a
    /// seeded generator of the kind turmoil uses inside (`SmallRng`), shared by
    /// the node's tasks as detsim's and madsim's world RNG is.
    static RNG: RefCell<SmallRng> = RefCell::new(SmallRng::seed_from_u64(TIMERS_SEED));
}

/// detsim's `timers_node_world`: `tasks` tasks spawned (`tokio::spawn`) on
/// one host, each sleeping 1..=1000 ms drawn from a seeded RNG, `sleeps`
/// times. Returns the firings and the virtual seconds covered.
fn timers_node_world(tasks: u64, sleeps: u64) -> (u64, f64) {
    let mut sim = sim(TIMERS_SEED);
    let fired = Rc::new(Cell::new(0));
    let total = fired.clone();
    sim.client("n1", async move {
        RNG.with(|rng| *rng.borrow_mut() = SmallRng::seed_from_u64(TIMERS_SEED));
        let handles: Vec<_> = (0..tasks)
            .map(|_| {
                tokio::spawn(async move {
                    for _ in 0..sleeps {
                        let ms = RNG.with(|rng| rng.borrow_mut().random_range(1..=TIMER_MAX_MS));
                        tokio::time::sleep(Duration::from_millis(ms)).await;
                    }
                    sleeps
                })
            })
            .collect();
        for handle in handles {
            total.set(total.get() + handle.await?);
        }
        Ok(())
    });
    sim.run().expect("timers-node runs");
    (fired.get(), sim.elapsed().as_secs_f64())
}

/// detsim's `broadcast_world`: 16 clients, `rounds` rounds of all-to-all.
/// Returns the messages received and the virtual seconds covered.
fn broadcast_world(rounds: u64) -> (u64, f64) {
    const NODES: u64 = BROADCAST_NODES;
    let mut sim = sim(BROADCAST_SEED);
    let received = Rc::new(Cell::new(0));
    for i in 0..NODES {
        let total = received.clone();
        sim.client(format!("n{i}"), async move {
            let socket = bind().await;
            let peers: Vec<SocketAddr> = (0..NODES)
                .map(|j| SocketAddr::new(turmoil::lookup(format!("n{j}")), PORT))
                .collect();
            let me: IpAddr = turmoil::lookup(format!("n{i}"));
            let mut buf = [0u8; 8];
            let mut early = 0u64;
            for round in 0..rounds {
                let payload = round.to_le_bytes();
                for &peer in &peers {
                    if peer.ip() != me {
                        socket.send_to(&payload, peer).await?;
                    }
                }
                let mut got = std::mem::take(&mut early);
                while got < NODES - 1 {
                    let (n, _) = socket.recv_from(&mut buf).await?;
                    assert_eq!(n, 8, "8-byte payload");
                    total.set(total.get() + 1);
                    let r = u64::from_le_bytes(buf);
                    if r == round {
                        got += 1;
                    } else {
                        assert_eq!(r, round + 1, "a peer ran two rounds ahead");
                        early += 1;
                    }
                }
            }
            Ok(())
        });
    }
    sim.run().expect("broadcast runs");
    (received.get(), sim.elapsed().as_secs_f64())
}
