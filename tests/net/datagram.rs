//! Datagrams: exact orders for fixed seeds, FIFO, loss and duplication
//! rates, bandwidth queues, Byzantine faults, and the API's errors.

use std::time::Duration;

use detsim::{Seed, Sim};
use detsim_net::{
    Byzantine, DropReason, Latency, LinkProfile, Net, NetError, NetEventKind, UdpSocket,
};

use super::{count, net_lines, send, sleep_ms, world};

fn jitter() -> LinkProfile {
    LinkProfile::default().latency(Latency::uniform(
        Duration::from_millis(1),
        Duration::from_millis(10),
    ))
}

/// Sends `n` numbered datagrams a → b at once and returns b's receive order.
fn order(seed: u64, profile: LinkProfile, n: usize) -> Vec<String> {
    let mut w = world(seed, &["a", "b"], Net::builder().default_link(profile));
    w.sim
        .run(async move {
            for i in 0..n {
                send("a", "b", i.to_string());
            }
            sleep_ms(100).await;
        })
        .unwrap();
    let log = w.log.borrow();
    log.iter()
        .map(|r| String::from_utf8_lossy(&r.payload).into_owned())
        .collect()
}

#[test]
fn jitter_reorders_in_an_exact_seeded_order() {
    // Proves the delivery order under jitter is a pure function of the seed (snapshot).
    assert_eq!(
        order(1, jitter(), 10),
        ["2", "4", "3", "9", "0", "7", "6", "1", "5", "8"]
    );
    assert_eq!(order(1, jitter(), 10), order(1, jitter(), 10));
    assert_ne!(order(2, jitter(), 10), order(1, jitter(), 10));
}

#[test]
fn fifo_link_never_reorders() {
    // Proves a FIFO profile delivers in send order despite jitter (2000 messages).
    let got = order(3, jitter().fifo(true), 2000);
    let expected: Vec<String> = (0..2000).map(|i| i.to_string()).collect();
    assert_eq!(got, expected);
}

#[test]
fn exact_trace_of_a_send_and_a_delivery() {
    // Proves the trace shows every send and delivery with nodes, ports and lengths.
    let mut w = world(1, &["a", "b"], Net::builder());
    let report = w
        .sim
        .run(async {
            send("a", "b", "hi");
            sleep_ms(5).await;
        })
        .unwrap();
    assert_eq!(
        net_lines(&report.trace),
        [
            "0.000000s send a:49152 -> b:1 Datagram 2B",
            "0.001000s deliver a:49152 -> b:1 Datagram 2B",
        ]
    );
}

#[test]
fn loss_rate_is_within_statistical_bounds() {
    // Proves loss = 0.2 loses 20% of 4000 datagrams (within 4 standard deviations).
    let profile = LinkProfile::default().loss(0.2);
    let mut w = world(4, &["a", "b"], Net::builder().default_link(profile));
    let report = w
        .sim
        .run(async {
            for i in 0..4000 {
                send("a", "b", format!("{i}"));
            }
            sleep_ms(10).await;
        })
        .unwrap();
    let delivered = w.log.borrow().len() as f64;
    let sd = (4000.0f64 * 0.2 * 0.8).sqrt();
    assert!(
        (delivered - 3200.0).abs() < 4.0 * sd,
        "delivered {delivered}"
    );
    assert_eq!(
        count(&report.trace, NetEventKind::Drop(DropReason::Loss)),
        4000 - delivered as usize
    );
}

#[test]
fn duplication_rate_is_within_statistical_bounds() {
    // Proves duplicate = 0.1 delivers 10% extra copies of 4000 datagrams, each traced.
    let profile = LinkProfile::default().duplicate(0.1);
    let builder = Net::builder()
        .default_link(profile)
        .inbox_datagrams_max(10_000);
    let mut w = world(5, &["a", "b"], builder);
    let report = w
        .sim
        .run(async {
            for i in 0..4000 {
                send("a", "b", format!("{i}"));
            }
            sleep_ms(10).await;
        })
        .unwrap();
    let copies = w.log.borrow().len() as f64 - 4000.0;
    let sd = (4000.0f64 * 0.1 * 0.9).sqrt();
    assert!((copies - 400.0).abs() < 4.0 * sd, "copies {copies}");
    assert_eq!(
        count(&report.trace, NetEventKind::Duplicate),
        copies as usize
    );
}

#[test]
fn bandwidth_queues_messages_behind_earlier_ones_and_drops_when_full() {
    // Proves 100-byte messages on a 1000 B/s link leave 100 ms apart and the queue bound tail-drops.
    let profile = LinkProfile::default()
        .latency(Latency::Constant(Duration::from_millis(1)))
        .bandwidth(1000)
        .queue_bytes_max(300);
    let mut w = world(6, &["a", "b"], Net::builder().default_link(profile));
    let report = w
        .sim
        .run(async {
            for i in 0..4 {
                send("a", "b", vec![b'0' + i; 100]);
            }
            sleep_ms(1000).await;
        })
        .unwrap();
    let arrivals: Vec<u64> = w
        .log
        .borrow()
        .iter()
        .map(|r| r.at.as_nanos() / 1_000_000)
        .collect();
    // 100 ms on the wire each, then 1 ms of latency; the 4th finds 300 bytes
    // queued (the one on the wire counts) and 100 more would exceed 300.
    assert_eq!(arrivals, [101, 201, 301]);
    assert_eq!(
        count(&report.trace, NetEventKind::Drop(DropReason::QueueFull)),
        1
    );
}

#[test]
fn byzantine_link_flips_truncates_and_replays() {
    // Proves each Byzantine fault does what it says: one flipped bit, a shorter payload, old datagrams again.
    let run = |byzantine: Byzantine| {
        let profile = LinkProfile::default().byzantine(byzantine);
        let mut w = world(7, &["a", "b"], Net::builder().default_link(profile));
        let report = w
            .sim
            .run(async {
                for i in 0..50u8 {
                    send("a", "b", vec![i; 8]);
                }
                sleep_ms(10).await;
            })
            .unwrap();
        let got: Vec<Vec<u8>> = w.log.borrow().iter().map(|r| r.payload.clone()).collect();
        (got, report.trace)
    };
    let (flipped, trace) = run(Byzantine {
        flip: 1.0,
        ..Byzantine::default()
    });
    assert_eq!(flipped.len(), 50);
    for payload in &flipped {
        // Seven of the eight bytes keep the original value.
        let original = if payload[0] == payload[1] {
            payload[0]
        } else {
            payload[2]
        };
        let bits: u32 = payload.iter().map(|&b| (b ^ original).count_ones()).sum();
        assert_eq!(bits, 1, "{payload:?}");
    }
    assert_eq!(count(&trace, NetEventKind::Corrupt), 50);
    let (truncated, _) = run(Byzantine {
        truncate: 1.0,
        ..Byzantine::default()
    });
    assert!(truncated.iter().all(|p| p.len() < 8));
    let (replayed, trace) = run(Byzantine {
        replay: 0.5,
        ..Byzantine::default()
    });
    let replays = count(&trace, NetEventKind::Replay);
    assert!((10..=40).contains(&replays), "{replays} replays");
    assert_eq!(replayed.len(), 50 + replays);
}

#[test]
fn api_errors_are_clear() {
    // Proves oversize datagrams, double binds, unknown nodes and harness binds are errors with clear text.
    let mut sim = Sim::new(Seed::new(1));
    Net::builder()
        .datagram_size_max(100)
        .install(&mut sim)
        .unwrap();
    let a = sim.add_node("a", |_| async {}).unwrap();
    let errors = sim
        .run(async move {
            let harness = UdpSocket::bind(1).unwrap_err();
            detsim::handle()
                .spawn_on(a, async move {
                    let socket = UdpSocket::bind(1).unwrap();
                    vec![
                        harness,
                        UdpSocket::bind(1).unwrap_err(),
                        socket.send_to(&[0; 101], "a:1").unwrap_err(),
                        socket.send_to(b"x", "zz:1").unwrap_err(),
                        socket.send_to(b"x", "a").unwrap_err(),
                    ]
                })
                .unwrap()
                .await
                .unwrap()
        })
        .unwrap()
        .value;
    let text: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    assert_eq!(
        text,
        [
            "sockets are bound from inside a node: call this from a node's init or a task it spawns",
            "address a:1 is already in use",
            "datagram of 101 bytes exceeds the maximum of 100",
            "unknown node \"zz\"",
            "invalid address \"a\": expected `node:port`, like `n1:7000`",
        ]
    );
    assert_eq!(errors[2], NetError::TooBig { len: 101, max: 100 });
}

#[test]
fn crashed_target_and_unbound_port_lose_silently() {
    // Proves sending to a crashed node or an unbound port succeeds and is traced as a drop with its reason.
    let mut w = world(8, &["a", "b"], Net::builder());
    let report = w
        .sim
        .run(async {
            detsim::handle().crash("b").unwrap();
            send("a", "b", "lost");
            detsim::handle()
                .spawn_on("a", async {
                    UdpSocket::bind(0).unwrap().send_to(b"x", "a:9").unwrap();
                })
                .unwrap();
            sleep_ms(5).await;
        })
        .unwrap();
    assert!(w.log.borrow().is_empty());
    assert_eq!(
        count(&report.trace, NetEventKind::Drop(DropReason::NodeDown)),
        1
    );
    assert_eq!(
        count(&report.trace, NetEventKind::Drop(DropReason::NoSocket)),
        1
    );
}

#[test]
fn full_inbox_drops_arrivals() {
    // Proves a socket's inbox is bounded: arrivals beyond it are dropped with `inbox full`.
    let mut sim = Sim::builder(Seed::new(9))
        .trace(detsim::TraceMode::RECORD)
        .build()
        .unwrap();
    Net::builder()
        .inbox_datagrams_max(3)
        .install(&mut sim)
        .unwrap();
    sim.add_node("b", |_| async {
        let _socket = UdpSocket::bind(1).unwrap();
        sleep_ms(1000).await; // never reads
    })
    .unwrap();
    sim.add_node("a", |_| async {}).unwrap();
    let report = sim
        .run(async {
            sleep_ms(1).await;
            for _ in 0..5 {
                send("a", "b", "x");
            }
            sleep_ms(5).await;
        })
        .unwrap();
    assert_eq!(count(&report.trace, NetEventKind::Deliver), 3);
    assert_eq!(
        count(&report.trace, NetEventKind::Drop(DropReason::InboxFull)),
        2
    );
}

#[test]
fn heavy_tailed_latency_has_a_tail() {
    // Proves a Pareto link delivers most messages near its scale and a few far later, within its cap.
    let profile = LinkProfile::default().latency(Latency::Pareto {
        scale: Duration::from_millis(10),
        shape: 1.2,
        max: Duration::from_secs(2),
    });
    let mut w = world(10, &["a", "b"], Net::builder().default_link(profile));
    w.sim
        .run(async {
            for i in 0..2000 {
                send("a", "b", format!("{i}"));
            }
            sleep_ms(3000).await;
        })
        .unwrap();
    let mut ms: Vec<u64> = w
        .log
        .borrow()
        .iter()
        .map(|r| r.at.as_nanos() / 1_000_000)
        .collect();
    ms.sort_unstable();
    assert_eq!(ms.len(), 2000);
    assert!(ms[0] >= 10 && *ms.last().unwrap() <= 2000);
    assert!(ms[1000] < 25, "median {} ms", ms[1000]);
    assert!(ms[1990] > 200, "p99.5 {} ms", ms[1990]);
}

#[test]
fn a_send_is_stamped_with_the_sender_and_a_delivery_with_the_target() {
    // Proves the trace puts `net.send` on the sending node and `net.deliver` on the receiver.
    let mut w = world(1, &["a", "b"], Net::builder());
    let report = w
        .sim
        .run(async move {
            send("a", "b", "x".to_string());
            sleep_ms(10).await;
        })
        .unwrap();
    let trace = &report.trace;
    let stamped: Vec<(String, String)> = trace
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            detsim::EventKind::Ext { name, .. } if name.starts_with("net.") => Some((
                name.to_string(),
                trace.node_names[e.node.unwrap().index()].clone(),
            )),
            _ => None,
        })
        .collect();
    assert_eq!(
        stamped,
        [
            ("net.send".to_string(), "a".to_string()),
            ("net.deliver".to_string(), "b".to_string())
        ]
    );
}

#[test]
fn clones_of_a_socket_share_its_port_and_each_datagram_goes_to_one_receiver() {
    // Two tasks receive on clones of one socket: every datagram reaches
    // exactly one of them, in a seeded order; the port stays bound until the
    // last clone is dropped.
    let run = || {
        let mut sim = Sim::builder(Seed::new(4)).quiet().build().unwrap();
        Net::builder().install(&mut sim).unwrap();
        let got = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
        let g = got.clone();
        let server = sim
            .add_node("server", move |_| {
                let g = g.clone();
                async move {
                    let socket = UdpSocket::bind(7000).unwrap();
                    for task in ["t1", "t2"] {
                        let (socket, g) = (socket.clone(), g.clone());
                        detsim::spawn(async move {
                            loop {
                                let d = socket.recv().await.unwrap();
                                g.borrow_mut().push(format!(
                                    "{task}:{}",
                                    String::from_utf8_lossy(&d.payload)
                                ));
                                detsim::time::sleep(Duration::from_millis(5)).await;
                            }
                        });
                    }
                    drop(socket);
                    std::future::pending::<()>().await
                }
            })
            .unwrap();
        let client = sim.add_node("client", |_| async {}).unwrap();
        sim.run(async move {
            let h = detsim::handle();
            h.spawn_on(client, async {
                let socket = UdpSocket::bind(0).unwrap();
                for i in 0..4 {
                    socket
                        .send_to(i.to_string().as_bytes(), "server:7000")
                        .unwrap();
                    detsim::time::sleep(Duration::from_millis(1)).await;
                }
            })
            .unwrap()
            .await
            .unwrap();
            detsim::time::sleep(Duration::from_millis(100)).await;
            // The port is still bound: the tasks hold clones.
            let again = h
                .spawn_on(server, async { UdpSocket::bind(7000).map(|_| ()) })
                .unwrap()
                .await
                .unwrap();
            assert!(matches!(again, Err(NetError::AddrInUse(_))), "{again:?}");
        })
        .unwrap();
        got.borrow().clone()
    };
    let got = run();
    let mut payloads: Vec<&str> = got.iter().map(|g| &g[3..]).collect();
    payloads.sort_unstable();
    assert_eq!(payloads, ["0", "1", "2", "3"]);
    assert!(got.iter().any(|g| g.starts_with("t1:")), "{got:?}");
    assert!(got.iter().any(|g| g.starts_with("t2:")), "{got:?}");
    assert_eq!(got, run());
}

#[test]
fn a_received_payload_buffer_carries_only_its_own_bytes() {
    // Payload buffers that `recv_from` copied out carry later datagrams, in
    // this network and the next ones on the thread: each datagram arrives
    // with exactly the bytes sent, and each world traces like a fresh one.
    fn world(payloads: &'static [&'static [u8]]) -> (Vec<Vec<u8>>, detsim::Fingerprint) {
        let mut sim = Sim::builder(Seed::new(9)).quiet().build().unwrap();
        Net::builder().install(&mut sim).unwrap();
        sim.add_node("a", |_| async {}).unwrap();
        sim.add_node("b", |_| async {}).unwrap();
        let report = sim
            .run(async move {
                let h = detsim::handle();
                let b = h.node("b").unwrap();
                let a = h.node("a").unwrap();
                let received = h
                    .spawn_on(b, async move {
                        let socket = UdpSocket::bind(1).unwrap();
                        let mut got = Vec::new();
                        for i in 0..payloads.len() {
                            if i % 2 == 0 {
                                let mut buf = [0u8; 64];
                                let (n, _) = socket.recv_from(&mut buf).await.unwrap();
                                got.push(buf[..n].to_vec());
                            } else {
                                got.push(socket.recv().await.unwrap().payload);
                            }
                        }
                        got
                    })
                    .unwrap();
                h.spawn_on(a, async move {
                    let socket = UdpSocket::bind(1).unwrap();
                    for payload in payloads {
                        socket.send_to(payload, "b:1").unwrap();
                        detsim::time::sleep(Duration::from_millis(2)).await;
                    }
                })
                .unwrap()
                .await
                .unwrap();
                received.await.unwrap()
            })
            .unwrap();
        (report.value, report.trace.fingerprint)
    }
    let long: &[&[u8]] = &[b"a long first payload", b"xy", b"", b"third", b"q"];
    let short: &[&[u8]] = &[b"s", b"", b"tt", b"a longer payload than before"];
    let alone: Vec<_> = [long, short]
        .iter()
        .map(|p| std::thread::scope(|s| s.spawn(|| world(p)).join().unwrap()))
        .collect();
    for _ in 0..2 {
        for (payloads, (got, fingerprint)) in [long, short].iter().zip(&alone) {
            let again = world(payloads);
            assert_eq!(&again.0, got);
            assert_eq!(&again.1, fingerprint);
            let sent: Vec<Vec<u8>> = payloads.iter().map(|p| p.to_vec()).collect();
            assert_eq!(got, &sent);
        }
    }
}

#[test]
fn a_socket_bound_on_a_released_binding_is_wholly_its_own() {
    // Released bindings are rewritten for later sockets, in this network
    // and the next ones on the thread: each socket names its own address,
    // its clones keep its port until the last goes, a dropped socket's port
    // binds again, and each world traces like the same world on a fresh
    // thread.
    fn world(ports: &'static [u16]) -> (Vec<String>, detsim::Fingerprint) {
        let mut sim = Sim::builder(Seed::new(3)).quiet().build().unwrap();
        Net::builder().install(&mut sim).unwrap();
        let a = sim.add_node("a", |_| async {}).unwrap();
        sim.add_node("b", |_| async {}).unwrap();
        let report = sim
            .run(async move {
                let h = detsim::handle();
                h.spawn_on(a, async move {
                    let mut seen = Vec::new();
                    for &port in ports {
                        let socket = UdpSocket::bind(port).unwrap();
                        let clone = socket.clone();
                        drop(socket);
                        // The clone still holds the port.
                        let again = UdpSocket::bind(clone.local_addr().port);
                        assert!(matches!(again, Err(NetError::AddrInUse(_))), "{again:?}");
                        clone.send_to(b"x", "b:9").unwrap();
                        seen.push(clone.local_addr().to_string());
                        drop(clone);
                        let rebound = UdpSocket::bind(port).unwrap();
                        seen.push(rebound.local_addr().to_string());
                    }
                    seen
                })
                .unwrap()
                .await
                .unwrap()
            })
            .unwrap();
        (report.value, report.trace.fingerprint)
    }
    let first: &[u16] = &[7, 0, 8];
    let second: &[u16] = &[0, 9];
    let alone: Vec<_> = [first, second]
        .iter()
        .map(|p| std::thread::scope(|s| s.spawn(|| world(p)).join().unwrap()))
        .collect();
    assert_eq!(alone[0].0[0], "a:7");
    assert_eq!(alone[0].0[4], "a:8");
    for _ in 0..2 {
        for (ports, (seen, fingerprint)) in [first, second].iter().zip(&alone) {
            let again = world(ports);
            assert_eq!(&again.0, seen);
            assert_eq!(&again.1, fingerprint);
        }
    }
}
