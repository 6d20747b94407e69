//! Topology and link profiles: zones and regions give LAN/WAN latencies,
//! explicit links and edges take precedence, intermittent links go down
//! and up on a seeded schedule, and profiles change while the world runs.

use std::time::Duration;

use detsim_net::{DropReason, Intermittent, Latency, LinkProfile, Net, NetEventKind};

use super::{count, send, sleep_ms, world};

fn constant(ms: u64) -> LinkProfile {
    LinkProfile::default().latency(Latency::Constant(Duration::from_millis(ms)))
}

#[test]
fn zones_and_regions_set_lan_and_wan_latencies() {
    // Proves the latency matrix: same zone 1 ms, same region 5 ms, across regions 50 ms, zone override 7 ms.
    let builder = Net::builder()
        .region("eu")
        .region("us")
        .zone("eu-1", "eu")
        .zone("eu-2", "eu")
        .zone("eu-3", "eu")
        .zone("us-1", "us")
        .place("a", "eu-1")
        .place("b", "eu-1")
        .place("c", "eu-2")
        .place("d", "us-1")
        .place("e", "eu-3")
        .within_zone(constant(1))
        .within_region(constant(5))
        .across_regions(constant(50))
        .zone_link("eu-1", "eu-3", constant(7))
        .default_link(constant(500));
    let mut w = world(1, &["a", "b", "c", "d", "e", "f"], builder);
    w.sim
        .run(async {
            for to in ["b", "c", "d", "e", "f"] {
                send("a", to, to);
            }
            sleep_ms(600).await;
        })
        .unwrap();
    let got: Vec<(String, u64)> = w
        .log
        .borrow()
        .iter()
        .map(|r| (r.to.clone(), r.at.as_nanos() / 1_000_000))
        .collect();
    let expected =
        [("b", 1), ("c", 5), ("e", 7), ("d", 50), ("f", 500)].map(|(n, ms)| (n.to_string(), ms));
    assert_eq!(got, expected);
}

#[test]
fn explicit_links_beat_edges_which_beat_the_default() {
    // Proves profile precedence: link > edge of source > edge of target > default, and changes at run time.
    let builder = Net::builder()
        .default_link(constant(100))
        .edge("iot", constant(300))
        .link("a", "iot", constant(2));
    let mut w = world(1, &["a", "b", "iot"], builder);
    let net = w.net.clone();
    w.sim
        .run(async move {
            send("a", "iot", "a-iot");
            send("iot", "a", "iot-a");
            send("a", "b", "a-b");
            sleep_ms(400).await;
            net.set_link("a", "b", Some(constant(3))).unwrap();
            net.set_edge("iot", None).unwrap();
            send("a", "b", "a-b2");
            send("iot", "a", "iot-a2");
            sleep_ms(200).await;
            assert_eq!(net.link_profile("a", "b").unwrap(), constant(3));
        })
        .unwrap();
    let got: Vec<(String, u64)> = w
        .log
        .borrow()
        .iter()
        .map(|r| {
            (
                String::from_utf8_lossy(&r.payload).into_owned(),
                r.at.as_nanos() / 1_000_000,
            )
        })
        .collect();
    let expected = [
        ("a-iot", 2),
        ("a-b", 100),
        ("iot-a", 300),
        ("a-b2", 403),
        ("iot-a2", 500),
    ]
    .map(|(p, ms)| (p.to_string(), ms));
    assert_eq!(got, expected);
}

#[test]
fn an_intermittent_edge_goes_down_and_up_on_a_seeded_schedule() {
    // Proves an IoT node's intermittent uplink loses traffic only while down, both ways, deterministically.
    let profile = LinkProfile::cellular()
        .loss(0.0)
        .intermittent(Intermittent {
            up: Latency::uniform(Duration::from_secs(2), Duration::from_secs(4)),
            down: Latency::uniform(Duration::from_secs(1), Duration::from_secs(2)),
        });
    let run = || {
        let mut w = world(
            5,
            &["iot", "cloud"],
            Net::builder().edge("iot", profile.clone()),
        );
        let report = w
            .sim
            .run(async {
                for _ in 0..100 {
                    send("iot", "cloud", "up");
                    send("cloud", "iot", "down");
                    sleep_ms(200).await;
                }
                sleep_ms(6000).await;
            })
            .unwrap();
        let up = w.log.borrow().iter().filter(|r| r.to == "cloud").count();
        let down = w.log.borrow().iter().filter(|r| r.to == "iot").count();
        let lost = count(&report.trace, NetEventKind::Drop(DropReason::LinkDown));
        (up, down, lost, report.trace.fingerprint)
    };
    let (up, down, lost, fingerprint) = run();
    assert_eq!(up + down + lost, 200);
    assert!(lost > 20 && lost < 120, "lost {lost}");
    assert!(up > 40 && down > 40, "up {up} down {down}");
    assert_eq!(run().3, fingerprint);
}

#[test]
fn cellular_profile_is_slow_lossy_and_heavy_tailed() {
    // Proves the cellular preset: about 3% loss, at least 80 ms latency, queueing at 20 kB/s.
    let mut w = world(
        6,
        &["iot", "cloud"],
        Net::builder().edge("iot", LinkProfile::cellular()),
    );
    let report = w
        .sim
        .run(async {
            for i in 0..2000 {
                send("iot", "cloud", format!("{i:04}"));
                sleep_ms(10).await;
            }
            sleep_ms(6000).await;
        })
        .unwrap();
    let log = w.log.borrow();
    let lost = count(&report.trace, NetEventKind::Drop(DropReason::Loss));
    assert!((30..=100).contains(&lost), "lost {lost}");
    assert_eq!(log.len() + lost, 2000);
    let sent_ms =
        |r: &super::Received| String::from_utf8_lossy(&r.payload).parse::<u64>().unwrap() * 10;
    assert!(
        log.iter()
            .all(|r| r.at.as_nanos() / 1_000_000 >= sent_ms(r) + 80)
    );
}
