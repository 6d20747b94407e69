//! Network faults driven by a fault plan: each kind cuts exactly what it
//! should for its duration, then heals; bad plans are rejected.

use std::time::Duration;

use detsim::{Fault, LinkChange, Plan, PlanEntry};
use detsim_net::{LinkProfile, Net};

use super::{send, sleep_ms, world};

const NODES: [&str; 4] = ["a", "b", "c", "d"];

fn entry(at_ms: u64, fault: Fault, for_ms: u64) -> PlanEntry {
    PlanEntry::new(
        Duration::from_millis(at_ms),
        fault,
        Some(Duration::from_millis(for_ms)),
    )
}

/// Under `fault` (from 100 ms for 1 s), which of all 12 directed pairs
/// deliver at 500 ms, and which deliver at 1500 ms (after the heal).
fn reachability(fault: Fault) -> (Vec<String>, Vec<String>) {
    let mut w = world(
        1,
        &NODES,
        Net::builder().default_link(LinkProfile::default()),
    );
    w.sim
        .apply_plan(Plan::new(vec![entry(100, fault, 1000)]))
        .unwrap();
    w.sim
        .run(async {
            for (at, tag) in [(500, "during"), (1500, "after")] {
                sleep_ms(at - detsim::handle().now().as_nanos() / 1_000_000).await;
                for from in NODES {
                    for to in NODES {
                        if from != to {
                            send(from, to, tag);
                        }
                    }
                }
            }
            sleep_ms(100).await;
        })
        .unwrap();
    let log = w.log.borrow();
    let pairs = |tag: &str| {
        let mut pairs: Vec<String> = log
            .iter()
            .filter(|r| r.payload == tag.as_bytes())
            .map(|r| format!("{}{}", r.from, r.to))
            .collect();
        pairs.sort();
        pairs
    };
    (pairs("during"), pairs("after"))
}

fn all_pairs() -> Vec<String> {
    let mut pairs = Vec::new();
    for from in NODES {
        for to in NODES {
            if from != to {
                pairs.push(format!("{from}{to}"));
            }
        }
    }
    pairs
}

fn without(cut: &[&str]) -> Vec<String> {
    all_pairs()
        .into_iter()
        .filter(|p| !cut.contains(&p.as_str()))
        .collect()
}

#[test]
fn a_partition_from_a_plan_splits_then_heals() {
    // [a, b] | [c, d]: nothing crosses the line while it lasts; everything flows after.
    let (during, after) = reachability(Fault::Partition {
        groups: vec![vec!["a".into(), "b".into()], vec!["c".into(), "d".into()]],
    });
    assert_eq!(
        during,
        without(&["ac", "ad", "bc", "bd", "ca", "cb", "da", "db"])
    );
    assert_eq!(after, all_pairs());
}

#[test]
fn isolate_one_way_and_cut_links_cut_exactly_their_links() {
    // Isolation cuts both directions of one node; one-way only a -> b; cut_links only the pairs given.
    let (during, _) = reachability(Fault::Isolate { node: "c".into() });
    assert_eq!(during, without(&["ac", "bc", "dc", "ca", "cb", "cd"]));
    let (during, after) = reachability(Fault::OneWay {
        from: "a".into(),
        to: "b".into(),
    });
    assert_eq!(during, without(&["ab"]));
    assert_eq!(after, all_pairs());
    let (during, _) = reachability(Fault::CutLinks {
        pairs: vec![("a".into(), "b".into()), ("c".into(), "d".into())],
    });
    assert_eq!(during, without(&["ab", "ba", "cd", "dc"]));
}

/// Runs `plan` on a 1 ms network while `sends` (at ms, from, to, tag) go
/// out; returns every delivery as (`from->to:tag`, arrival ms), in arrival order.
fn deliveries(
    plan: Vec<PlanEntry>,
    sends: &[(u64, &'static str, &'static str, &'static str)],
) -> Vec<(String, u64)> {
    let mut w = world(
        1,
        &NODES,
        Net::builder().default_link(LinkProfile::default()),
    );
    w.sim.apply_plan(Plan::new(plan)).unwrap();
    let sends = sends.to_vec();
    w.sim
        .run(async move {
            for (at, from, to, tag) in sends {
                let now = detsim::handle().now().as_nanos() / 1_000_000;
                sleep_ms(at.saturating_sub(now)).await;
                send(from, to, tag);
            }
            sleep_ms(1000).await;
        })
        .unwrap();
    let log = w.log.borrow();
    log.iter()
        .map(|r| (r.short(), r.at.as_nanos() / 1_000_000))
        .collect()
}

fn spike(ms: u64) -> Fault {
    Fault::Link {
        from: "a".into(),
        to: "b".into(),
        change: LinkChange {
            extra_latency: Some(Duration::from_millis(ms)),
            ..LinkChange::default()
        },
    }
}

fn at(text: &str, ms: u64) -> (String, u64) {
    (text.to_owned(), ms)
}

#[test]
fn a_clogged_node_gets_its_traffic_late_when_the_clog_ends() {
    // Traffic to and from a clogged node is held, then delivered at 1.1 s, when the plan unclogs it.
    let got = deliveries(
        vec![entry(100, Fault::ClogNode { node: "b".into() }, 1000)],
        &[(500, "a", "b", "held"), (500, "a", "c", "free")],
    );
    assert_eq!(got, [at("a->c:free", 501), at("a->b:held", 1100)]);
}

#[test]
fn a_latency_spike_from_a_plan_delays_one_link_until_undone() {
    // +200 ms on a -> b from 100 ms to 1.1 s; b -> a unaffected; back to 1 ms after.
    let got = deliveries(
        vec![entry(100, spike(200), 1000)],
        &[
            (500, "a", "b", "slow"),
            (500, "b", "a", "fast"),
            (1500, "a", "b", "again"),
        ],
    );
    assert_eq!(
        got,
        [
            at("b->a:fast", 501),
            at("a->b:slow", 701),
            at("a->b:again", 1501)
        ]
    );
}

#[test]
fn overlapping_link_changes_restore_the_original_profile_at_the_end() {
    // +100 ms from 100 ms to 1.1 s, and +300 ms stacked on it from 300 ms to
    // 700 ms: overlapping changes of one link hold until the last of them
    // ends (at 0.9 s a datagram takes 1 + 100 + 300 ms), then the original
    // 1 ms profile returns — not the one the second change found.
    let got = deliveries(
        vec![entry(100, spike(100), 1000), entry(300, spike(300), 400)],
        &[(900, "a", "b", "late"), (1500, "a", "b", "normal")],
    );
    assert_eq!(got, [at("a->b:late", 1301), at("a->b:normal", 1501)]);
}

#[test]
fn zone_outages_cut_the_zone_and_unknown_zones_are_rejected() {
    // A zone outage cuts its nodes from the rest; a plan naming a zone that does not exist is rejected.
    let builder = Net::builder()
        .default_link(LinkProfile::default())
        .region("eu")
        .zone("z1", "eu")
        .zone("z2", "eu")
        .place("a", "z1")
        .place("b", "z1")
        .place("c", "z2")
        .place("d", "z2");
    let mut w = world(1, &NODES, builder);
    let err = w
        .sim
        .apply_plan(Plan::new(vec![entry(
            100,
            Fault::ZoneOutage { zone: "z9".into() },
            100,
        )]))
        .unwrap_err();
    assert_eq!(err.entry, Some(0));
    assert!(err.to_string().contains("z9"), "{err}");
    w.sim
        .apply_plan(Plan::new(vec![entry(
            100,
            Fault::ZoneOutage { zone: "z1".into() },
            1000,
        )]))
        .unwrap();
    w.sim
        .run(async {
            sleep_ms(500).await;
            send("a", "b", "inside");
            send("a", "c", "across");
            send("d", "c", "other");
            sleep_ms(100).await;
        })
        .unwrap();
    let got: Vec<String> = w.log.borrow().iter().map(|r| r.short()).collect();
    assert_eq!(got, ["a->b:inside", "d->c:other"]);
    let bad = Plan::new(vec![entry(
        100,
        Fault::Link {
            from: "a".into(),
            to: "b".into(),
            change: LinkChange {
                loss: Some(2.0),
                ..LinkChange::default()
            },
        },
        100,
    )]);
    assert!(
        w.sim
            .apply_plan(bad)
            .unwrap_err()
            .to_string()
            .contains("loss probability 2")
    );
}
