//! Partitions: each kind blocks exactly the directions it should and
//! nothing else; in-flight messages follow the documented rule; heals.

use std::collections::BTreeSet;

use detsim_net::{DropReason, Net, NetBuilder, NetError, NetEventKind, Partition};

use super::{count, send, sleep_ms, world};

const NODES: [&str; 5] = ["a", "b", "c", "d", "e"];

fn zoned() -> NetBuilder {
    Net::builder()
        .region("eu")
        .region("us")
        .zone("eu-1", "eu")
        .zone("eu-2", "eu")
        .zone("us-1", "us")
        .place("a", "eu-1")
        .place("b", "eu-1")
        .place("c", "eu-2")
        .place("d", "us-1")
        .place("e", "us-1")
}

/// Starts `partition`, probes every directed pair with one datagram, and
/// returns the pairs that did not get through.
fn blocked(partition: Partition) -> BTreeSet<(String, String)> {
    let mut w = world(1, &NODES, zoned());
    let net = w.net.clone();
    w.sim
        .run(async move {
            net.partition(partition).unwrap();
            for from in NODES {
                for to in NODES {
                    if from != to {
                        send(from, to, "probe");
                    }
                }
            }
            sleep_ms(10).await;
        })
        .unwrap();
    let delivered: BTreeSet<(String, String)> = w
        .log
        .borrow()
        .iter()
        .map(|r| (r.from.clone(), r.to.clone()))
        .collect();
    let mut blocked = BTreeSet::new();
    for from in NODES {
        for to in NODES {
            let pair = (from.to_string(), to.to_string());
            if from != to && !delivered.contains(&pair) {
                blocked.insert(pair);
            }
        }
    }
    blocked
}

fn pairs(list: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

fn both_ways(list: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    let mut all = pairs(list);
    all.extend(list.iter().map(|(a, b)| (b.to_string(), a.to_string())));
    all
}

#[test]
fn split_blocks_exactly_the_links_between_groups() {
    // Proves [a,b] | [c,d,e] cuts the 6 cross pairs both ways and nothing inside a group.
    let expected = both_ways(&[
        ("a", "c"),
        ("a", "d"),
        ("a", "e"),
        ("b", "c"),
        ("b", "d"),
        ("b", "e"),
    ]);
    assert_eq!(
        blocked(Partition::split([["a", "b"].as_slice(), &["c", "d", "e"]])),
        expected
    );
}

#[test]
fn isolate_blocks_every_link_of_one_node() {
    // Proves isolating c cuts c's 4 links both ways and no other.
    let expected = both_ways(&[("c", "a"), ("c", "b"), ("c", "d"), ("c", "e")]);
    assert_eq!(blocked(Partition::Isolate("c".into())), expected);
}

#[test]
fn one_way_drops_only_a_to_b() {
    // Proves a simplex cut loses a→b while b→a and everything else flows.
    assert_eq!(
        blocked(Partition::one_way(["a"], ["b"])),
        pairs(&[("a", "b")])
    );
    assert_eq!(
        blocked(Partition::one_way(["a", "b"], ["c"])),
        pairs(&[("a", "c"), ("b", "c")])
    );
}

#[test]
fn partial_cuts_a_from_b_but_both_reach_c() {
    // Proves a partial partition cuts only a↔b: both still reach c, d and e.
    assert_eq!(
        blocked(Partition::partial(["a"], ["b"])),
        both_ways(&[("a", "b")])
    );
}

#[test]
fn zone_and_region_cuts_isolate_their_nodes() {
    // Proves a zone cut separates the zone's nodes from all others, and a region cut the region's.
    assert_eq!(
        blocked(Partition::Zone("eu-2".into())),
        both_ways(&[("c", "a"), ("c", "b"), ("c", "d"), ("c", "e")])
    );
    assert_eq!(
        blocked(Partition::Region("us".into())),
        both_ways(&[
            ("d", "a"),
            ("d", "b"),
            ("d", "c"),
            ("e", "a"),
            ("e", "b"),
            ("e", "c"),
        ])
    );
}

#[test]
fn heal_one_keeps_the_others_and_heal_all_ends_them() {
    // Proves healing one partition leaves the others in force, and heal_all restores every link.
    let mut w = world(1, &["a", "b", "c"], Net::builder());
    let net = w.net.clone();
    w.sim
        .run(async move {
            let ab = net.partial(&["a"], &["b"]).unwrap();
            let ac = net.cut_one_way(&["a"], &["c"]).unwrap();
            net.heal(ab).unwrap();
            assert!(net.reaches("a", "b").unwrap());
            assert!(!net.reaches("a", "c").unwrap());
            assert!(net.reaches("c", "a").unwrap());
            assert_eq!(net.partitions(), [ac]);
            assert_eq!(net.heal(ab), Err(NetError::UnknownPartition(ab.0)));
            net.isolate("b").unwrap();
            net.heal_all();
            assert!(net.partitions().is_empty());
            for (x, y) in [("a", "b"), ("a", "c"), ("b", "c")] {
                assert!(net.reaches(x, y).unwrap() && net.reaches(y, x).unwrap());
            }
        })
        .unwrap();
}

#[test]
fn a_message_in_flight_when_a_cut_starts_is_lost_even_if_healed_before_arrival() {
    // Proves the in-flight rule: cut at 50 ms and healed at 60 ms loses a message sent at 0 arriving at 100.
    let profile = detsim_net::LinkProfile::default().latency(detsim_net::Latency::Constant(
        std::time::Duration::from_millis(100),
    ));
    let mut w = world(1, &["a", "b"], Net::builder().default_link(profile));
    let net = w.net.clone();
    let report = w
        .sim
        .run(async move {
            send("a", "b", "doomed");
            sleep_ms(50).await;
            let cut = net.isolate("b").unwrap();
            sleep_ms(10).await;
            net.heal(cut).unwrap();
            send("a", "b", "fine");
            sleep_ms(200).await;
        })
        .unwrap();
    let got: Vec<String> = w.log.borrow().iter().map(|r| r.short()).collect();
    assert_eq!(got, ["a->b:fine"]);
    assert_eq!(
        count(&report.trace, NetEventKind::Drop(DropReason::Partition)),
        1
    );
}

#[test]
fn bad_partitions_are_rejected() {
    // Proves unknown names, empty sides and overlapping sides are errors naming the problem.
    let mut w = world(1, &["a", "b"], Net::builder());
    let net = w.net.clone();
    w.sim
        .run(async move {
            assert_eq!(
                net.isolate("zz"),
                Err(NetError::UnknownNode("zz".into()))
            );
            assert_eq!(
                net.cut_zone("nowhere"),
                Err(NetError::UnknownZone("nowhere".into()))
            );
            assert_eq!(
                net.cut_region("nowhere"),
                Err(NetError::UnknownRegion("nowhere".into()))
            );
            assert_eq!(
                net.partial(&["a"], &["a", "b"]).unwrap_err().to_string(),
                "invalid network configuration: partition partial [a] <-/-> [a, b]: a node is on two sides"
            );
            assert!(net.cut_one_way(&[], &["a"]).is_err());
            assert!(net.split(&[&["a"]]).is_err());
            assert!(net.partitions().is_empty());
        })
        .unwrap();
}

#[test]
fn a_node_added_later_is_isolated_by_an_active_isolate() {
    // Proves rules apply to links created later, including those of nodes added while cut.
    let mut w = world(1, &["a"], Net::builder());
    let net = w.net.clone();
    w.sim
        .run(async move {
            net.isolate("a").unwrap();
            detsim::handle().add_node("late", |_| async {}).unwrap();
            assert!(!net.reaches("late", "a").unwrap());
            assert!(!net.reaches("a", "late").unwrap());
        })
        .unwrap();
}
