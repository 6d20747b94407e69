//! Determinism: the same seed gives the same trace, event for event, with
//! every feature of the network on at once.

use std::time::Duration;

use detsim::{Seed, Sim, check_determinism};
use detsim_net::{
    Byzantine, Intermittent, Latency, LinkProfile, Net, TcpListener, TcpStream, UdpSocket,
};
use futures::{AsyncReadExt, AsyncWriteExt};

use super::sleep_ms;

/// A world that uses everything: jitter, loss, duplication, Byzantine
/// faults, bandwidth, an intermittent edge, zones, every partition kind,
/// clogs, streams, crashes and restarts.
fn chaos(mut sim: Sim) -> Result<detsim::Report<u64>, detsim::Failure> {
    let chaotic = LinkProfile::default()
        .latency(Latency::LogNormal {
            median: Duration::from_millis(5),
            sigma: 0.5,
        })
        .loss(0.05)
        .duplicate(0.05)
        .bandwidth(1_000_000)
        .byzantine(Byzantine {
            flip: 0.02,
            truncate: 0.02,
            replay: 0.02,
        });
    for name in ["a", "b", "c", "d", "e"] {
        sim.add_node(name, |ctx| async move {
            let socket = UdpSocket::bind(1).unwrap();
            let peers = ["a:1", "b:1", "c:1", "d:1", "e:1"];
            detsim::spawn(async {
                if let Ok(listener) = TcpListener::bind(2) {
                    while let Ok((mut stream, _)) = listener.accept().await {
                        detsim::spawn(async move {
                            let mut buf = [0u8; 64];
                            while let Ok(n) = stream.read(&mut buf).await {
                                if n == 0 || stream.write_all(&buf[..n]).await.is_err() {
                                    break;
                                }
                            }
                        });
                    }
                }
            });
            for round in 0u64.. {
                let target = peers[ctx.with_rng(|r| r.below(5)) as usize];
                socket.send_to(&round.to_le_bytes(), target).unwrap();
                if round % 10 == 0 {
                    let target = format!("{}:2", &target[..1]);
                    if let Ok(mut stream) = TcpStream::connect(target.as_str()).await {
                        let _ = stream.write_all(b"stream bytes").await;
                        let mut buf = [0u8; 12];
                        let _ = stream.read_exact(&mut buf).await;
                    }
                }
                while let Ok(Some(_)) = socket.try_recv() {}
                sleep_ms(ctx.with_rng(|r| 1 + r.below(20))).await;
            }
        })
        .unwrap();
    }
    let net = Net::builder()
        .default_link(chaotic)
        .region("eu")
        .zone("eu-1", "eu")
        .edge(
            "e",
            LinkProfile::cellular().intermittent(Intermittent {
                up: Latency::Exponential {
                    mean: Duration::from_millis(800),
                },
                down: Latency::Exponential {
                    mean: Duration::from_millis(300),
                },
            }),
        )
        .stream_timeout(Duration::from_secs(1))
        .install(&mut sim)
        .unwrap();
    sim.run(async move {
        let h = detsim::handle();
        net.place("a", "eu-1").unwrap();
        sleep_ms(300).await;
        let split = net.split(&[&["a", "b"], &["c", "d", "e"]]).unwrap();
        sleep_ms(300).await;
        net.heal(split).unwrap();
        net.cut_one_way(&["a"], &["c"]).unwrap();
        net.partial(&["b"], &["d"]).unwrap();
        net.cut_zone("eu-1").unwrap();
        sleep_ms(300).await;
        net.heal_all();
        net.clog_node("c").unwrap();
        net.clog_link("a", "b").unwrap();
        sleep_ms(300).await;
        net.unclog_all();
        h.crash("d").unwrap();
        sleep_ms(200).await;
        h.restart("d").unwrap();
        net.isolate("b").unwrap();
        sleep_ms(1500).await;
        net.heal_all();
        sleep_ms(500).await;
        net.in_flight() as u64
    })
}

#[test]
fn same_seed_same_trace_with_every_feature_on() {
    // Proves two runs of the chaotic world produce identical traces, and another seed differs.
    let first = check_determinism(Sim::builder(Seed::new(42)).quiet(), chaos).unwrap();
    let again = check_determinism(Sim::builder(Seed::new(42)).quiet(), chaos).unwrap();
    assert_eq!(first, again);
    let other = check_determinism(Sim::builder(Seed::new(43)).quiet(), chaos).unwrap();
    assert_ne!(first, other);
}

#[test]
fn the_chaotic_world_exercises_every_kind_of_event() {
    // Proves the determinism test is not vacuous: sends, deliveries, every drop reason it can cause, dups, corruption, holds.
    use detsim_net::{DropReason, NetEventKind};
    let sim = Sim::builder(Seed::new(42))
        .quiet()
        .trace(detsim::TraceMode::RECORD)
        .build()
        .unwrap();
    let report = chaos(sim).unwrap();
    for kind in [
        NetEventKind::Send,
        NetEventKind::Deliver,
        NetEventKind::Duplicate,
        NetEventKind::Corrupt,
        NetEventKind::Replay,
        NetEventKind::Hold,
        NetEventKind::Release,
        NetEventKind::Drop(DropReason::Loss),
        NetEventKind::Drop(DropReason::Partition),
        NetEventKind::Drop(DropReason::LinkDown),
        NetEventKind::Drop(DropReason::NodeDown),
    ] {
        assert!(super::count(&report.trace, kind) > 0, "no {kind:?} event");
    }
}
