//! Network workloads: `pingpong` (W1), `broadcast` (W3), `seeds` (W4),
//! `worlds-net` (W5). Events are message deliveries (worlds for `seeds` and
//! `worlds-net`); the baseline is the bare loop doing the same number of
//! deliveries with the same 1 ms delay.

use detsim::{Seed, Sim};
use detsim_net::{Addr, Net, UdpSocket};

use super::{Sample, baseline, wall};

/// The bare loop's delay for a 1 ms link: `(min, max)` nanoseconds.
pub const ONE_WAY: (u64, u64) = (1_000_000, 1_000_000);

/// A world with two nodes, `a` serving echoes and the harness driving `b`
/// through `round_trips` 8-byte ping-pongs over a constant 1 ms link.
pub fn pingpong_world(seed: u64, round_trips: u64) -> f64 {
    let mut sim = Sim::builder(Seed::new(seed))
        .quiet()
        .build()
        .expect("valid config");
    Net::builder().install(&mut sim).expect("valid network");
    sim.add_node("a", |_| async {
        let socket = UdpSocket::bind(1).expect("free port");
        loop {
            let d = socket.recv().await.expect("open socket");
            socket.send_to(&d.payload, d.source).expect("valid target");
        }
    })
    .expect("fresh name");
    let b = sim.add_node("b", |_| async {}).expect("fresh name");
    let report = sim
        .run(async move {
            detsim::handle()
                .spawn_on(b, async move {
                    let socket = UdpSocket::bind(1).expect("free port");
                    let server: Addr = "a:1".parse().expect("node a exists");
                    let mut buf = [0u8; 8];
                    for i in 0..round_trips {
                        socket
                            .send_to(&i.to_le_bytes(), server)
                            .expect("valid target");
                        let (n, _) = socket.recv_from(&mut buf).await.expect("open socket");
                        assert_eq!(n, 8);
                        assert_eq!(u64::from_le_bytes(buf), i, "echo out of order");
                    }
                })
                .expect("node b exists")
                .await
                .expect("client ends normally")
        })
        .expect("pingpong runs");
    report.elapsed.as_secs_f64()
}

/// Round trips of `pingpong`.
pub const PINGPONG_ROUND_TRIPS: u64 = 200_000;

/// `pingpong` (W1): 2 nodes, 200 000 round trips of an 8-byte datagram, 1 ms one way.
pub fn pingpong() -> Sample {
    const ROUND_TRIPS: u64 = PINGPONG_ROUND_TRIPS;
    let events = 2 * ROUND_TRIPS;
    let (sim_s, elapsed) = wall(|| pingpong_world(1, ROUND_TRIPS));
    let base = baseline(events, 2, ONE_WAY);
    Sample::new("pingpong", events, elapsed, sim_s, base)
}

/// Nodes of `broadcast`.
pub const BROADCAST_NODES: u64 = 16;
/// Rounds of `broadcast`.
pub const BROADCAST_ROUNDS: u64 = 200;

/// The `broadcast` simulation (W3): 16 nodes, 200 rounds of all-to-all; each
/// node sends to the 15 others and waits for the 15 messages of the round.
/// Returns the virtual seconds covered and the messages received.
pub fn broadcast_world() -> (f64, u64) {
    const NODES: u64 = BROADCAST_NODES;
    const ROUNDS: u64 = BROADCAST_ROUNDS;
    let mut sim = Sim::builder(Seed::new(3))
        .quiet()
        .build()
        .expect("valid config");
    Net::builder().install(&mut sim).expect("valid network");
    let names: Vec<String> = (0..NODES).map(|i| format!("n{i}")).collect();
    let ids: Vec<_> = names
        .iter()
        .map(|name| sim.add_node(name, |_| async {}).expect("fresh name"))
        .collect();
    let report = sim
        .run(async move {
            let handle = detsim::handle();
            let peers: Vec<Addr> = ids.iter().map(|&id| Addr::new(id, 1)).collect();
            let tasks: Vec<_> = ids
                .iter()
                .map(|&id| {
                    let peers = peers.clone();
                    handle
                        .spawn_on(id, async move {
                            let socket = UdpSocket::bind(1).expect("free port");
                            let me = socket.local_addr();
                            let mut early = 0u64;
                            let mut received = 0u64;
                            for round in 0..ROUNDS {
                                let payload = round.to_le_bytes();
                                for &peer in &peers {
                                    if peer != me {
                                        socket.send_to(&payload, peer).expect("valid target");
                                    }
                                }
                                let mut got = std::mem::take(&mut early);
                                while got < NODES - 1 {
                                    let d = socket.recv().await.expect("open socket");
                                    received += 1;
                                    let r = u64::from_le_bytes(
                                        d.payload.try_into().expect("8-byte payload"),
                                    );
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
                        .expect("node exists")
                })
                .collect();
            let mut total = 0;
            for task in tasks {
                total += task.await.expect("node task ends normally");
            }
            total
        })
        .expect("broadcast runs");
    (report.elapsed.as_secs_f64(), report.value)
}

/// `broadcast` (W3): [`broadcast_world`], timed.
pub fn broadcast() -> Sample {
    let events = BROADCAST_NODES * (BROADCAST_NODES - 1) * BROADCAST_ROUNDS;
    let ((sim_s, received), elapsed) = wall(broadcast_world);
    assert_eq!(received, events);
    let base = baseline(events, BROADCAST_NODES, ONE_WAY);
    Sample::new("broadcast", events, elapsed, sim_s, base)
}

/// Worlds of `seeds`.
pub const SEEDS_WORLDS: u64 = 200;
/// Round trips per world of `seeds`.
pub const SEEDS_ROUND_TRIPS: u64 = 2_000;

/// The `seeds` simulation (W4): 200 fresh worlds, each 2 000 ping-pong round
/// trips. Returns the virtual seconds covered.
pub fn seeds_worlds() -> f64 {
    (0..SEEDS_WORLDS)
        .map(|seed| pingpong_world(seed, SEEDS_ROUND_TRIPS))
        .sum::<f64>()
}

/// 200 fresh worlds, each 2 000 ping-pong round trips. Events are worlds.
pub fn seeds() -> Sample {
    const WORLDS: u64 = SEEDS_WORLDS;
    const ROUND_TRIPS: u64 = SEEDS_ROUND_TRIPS;
    let (sim_s, elapsed) = wall(seeds_worlds);
    let (_, base_elapsed) = wall(|| {
        for _ in 0..WORLDS {
            std::hint::black_box(baseline(2 * ROUND_TRIPS, 2, ONE_WAY));
        }
    });
    let base = WORLDS as f64 / base_elapsed.as_secs_f64().max(1e-9);
    Sample::new("seeds", WORLDS, elapsed, sim_s, base)
}

/// Worlds of `worlds-net`.
pub const NET_WORLDS: u64 = 2_000;

/// The `worlds-net` simulation (W5): 2 000 fresh worlds, each with a network,
/// two nodes and one ping-pong round trip. Returns the virtual seconds covered.
pub fn net_worlds() -> f64 {
    (0..NET_WORLDS).map(|seed| pingpong_world(seed, 1)).sum()
}

/// `worlds-net` (W5): [`net_worlds`], timed. Events are worlds; the baseline is
/// a bare loop's fresh world doing one round trip.
pub fn worlds_net() -> Sample {
    let (sim_s, elapsed) = wall(net_worlds);
    let (_, base_elapsed) = wall(|| {
        for _ in 0..NET_WORLDS {
            std::hint::black_box(super::bare_loop(2, 2, ONE_WAY));
        }
    });
    let base = NET_WORLDS as f64 / base_elapsed.as_secs_f64().max(1e-9);
    Sample::new("worlds-net", NET_WORLDS, elapsed, sim_s, base)
}
