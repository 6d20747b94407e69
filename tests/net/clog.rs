//! Clogging: hold all traffic on a link or node, then release it late in a
//! seeded order (FIFO links keep theirs).

use std::time::Duration;

use detsim_net::{Latency, LinkProfile, Net, NetEventKind};

use super::{count, send, sleep_ms, world};

/// Clogs a → b, sends 8 numbered datagrams, releases at 1 s; returns
/// (arrival ms, payload) as b saw them, and how many were held.
fn clog_and_release(seed: u64, profile: LinkProfile) -> (Vec<(u64, String)>, usize) {
    let mut w = world(seed, &["a", "b"], Net::builder().default_link(profile));
    let net = w.net.clone();
    let report = w
        .sim
        .run(async move {
            net.clog_link("a", "b").unwrap();
            for i in 0..8 {
                send("a", "b", i.to_string());
            }
            sleep_ms(1000).await;
            assert_eq!(net.held(), 8);
            net.unclog_link("a", "b").unwrap();
            assert_eq!(net.held(), 0);
            sleep_ms(10).await;
        })
        .unwrap();
    let got = w
        .log
        .borrow()
        .iter()
        .map(|r| {
            (
                r.at.as_nanos() / 1_000_000,
                String::from_utf8_lossy(&r.payload).into_owned(),
            )
        })
        .collect();
    (got, count(&report.trace, NetEventKind::Hold))
}

#[test]
fn clog_then_release_delivers_everything_late_in_a_seeded_order() {
    // Proves nothing passes a clog, everything arrives at the release, in a seeded (snapshot) order.
    let (got, held) = clog_and_release(1, LinkProfile::default());
    assert_eq!(held, 8);
    assert!(got.iter().all(|(ms, _)| *ms == 1000), "{got:?}");
    let order: Vec<&str> = got.iter().map(|(_, p)| p.as_str()).collect();
    assert_eq!(order, ["6", "0", "7", "2", "1", "5", "3", "4"]);
    let (again, _) = clog_and_release(1, LinkProfile::default());
    assert_eq!(got, again);
}

#[test]
fn release_keeps_the_order_of_a_fifo_link() {
    // Proves a clogged FIFO link releases its messages in send order.
    let profile = LinkProfile::default()
        .latency(Latency::uniform(
            Duration::from_millis(1),
            Duration::from_millis(20),
        ))
        .fifo(true);
    let (got, _) = clog_and_release(2, profile);
    let order: Vec<&str> = got.iter().map(|(_, p)| p.as_str()).collect();
    assert_eq!(order, ["0", "1", "2", "3", "4", "5", "6", "7"]);
}

#[test]
fn clogging_a_node_holds_both_directions_and_only_its_links() {
    // Proves a node clog holds traffic to and from it while other links flow, and unclog releases it.
    let mut w = world(3, &["a", "b", "c"], Net::builder());
    let net = w.net.clone();
    let log = w.log.clone();
    w.sim
        .run(async move {
            net.clog_node("b").unwrap();
            send("a", "b", "ab");
            send("b", "c", "bc");
            send("a", "c", "ac");
            sleep_ms(100).await;
            let seen: Vec<String> = log.borrow().iter().map(|r| r.short()).collect();
            assert_eq!(seen, ["a->c:ac"]);
            net.unclog_node("b").unwrap();
            sleep_ms(1).await;
            let mut seen: Vec<String> = log.borrow().iter().map(|r| r.short()).collect();
            seen.sort();
            assert_eq!(seen, ["a->b:ab", "a->c:ac", "b->c:bc"]);
        })
        .unwrap();
}
