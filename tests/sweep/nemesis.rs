//! Chaos generators: functions of the seed, within their bounds, swarm variety.

use std::collections::BTreeSet;
use std::time::Duration;

use detsim::{Fault, Nemesis, NemesisKind, Seed, Swarm, Topology};

fn five() -> Topology {
    let mut topology = Topology::nodes(["a", "b", "c", "d", "e"]);
    topology
        .zones
        .insert("z1".into(), vec!["a".into(), "b".into()]);
    topology
        .regions
        .insert("eu".into(), vec!["a".into(), "b".into(), "c".into()]);
    topology
}

#[test]
fn plans_are_functions_of_the_seed() {
    // Same seed, same plan; different seeds, different plans.
    let nemesis = Nemesis::default();
    let plans: BTreeSet<String> = (0..20)
        .map(|s| nemesis.plan(Seed::new(s), &five()).to_json())
        .collect();
    assert_eq!(plans.len(), 20);
    assert_eq!(
        nemesis.plan(Seed::new(3), &five()),
        nemesis.plan(Seed::new(3), &five())
    );
}

#[test]
fn plans_respect_the_window_and_the_down_bound() {
    // Faults start inside the window, end by its end, and never take down more than down_max nodes at once.
    let nemesis = Nemesis::default()
        .kinds(&[NemesisKind::Crash, NemesisKind::Pause, NemesisKind::Isolate])
        .window(Duration::from_secs(5), Duration::from_secs(60))
        .interval(Duration::from_millis(300))
        .max_down(2);
    for seed in 0..50 {
        let plan = nemesis.plan(Seed::new(seed), &five());
        assert!(plan.len() > 20);
        for entry in &plan.entries {
            assert!(entry.at >= Duration::from_secs(5));
            assert!(entry.end() <= Duration::from_secs(60));
        }
        // Sweep over entry starts: count overlapping downs.
        for probe in &plan.entries {
            let down = plan
                .entries
                .iter()
                .filter(|e| e.at <= probe.at && probe.at < e.end())
                .count();
            assert!(
                down <= 2,
                "seed {seed}: {down} nodes down at {:?}",
                probe.at
            );
        }
    }
}

#[test]
fn every_partition_kind_has_its_shape() {
    // Halves split evenly; a majority ring lets each node see a majority; a bridge keeps one node in both sides.
    let only = |kind| {
        Nemesis::default()
            .kinds(&[kind])
            .plan(Seed::new(9), &five())
    };
    let halves = only(NemesisKind::PartitionHalves);
    let Fault::Partition { groups } = &halves.entries[0].fault else {
        panic!("{halves}")
    };
    assert_eq!((groups[0].len(), groups[1].len()), (2, 3));
    let ring = only(NemesisKind::PartitionMajorityRing);
    let Fault::CutLinks { pairs } = &ring.entries[0].fault else {
        panic!("{ring}")
    };
    // 5 nodes, each sees itself and its two ring neighbours: 5 of 10 pairs are cut.
    assert_eq!(pairs.len(), 5);
    for node in ["a", "b", "c", "d", "e"] {
        let cut = pairs.iter().filter(|(x, y)| x == node || y == node).count();
        assert_eq!(
            4 - cut,
            2,
            "{node} reaches two others: with itself, a majority of 5"
        );
    }
    let bridge = only(NemesisKind::PartitionBridge);
    let Fault::CutLinks { pairs } = &bridge.entries[0].fault else {
        panic!("{bridge}")
    };
    assert_eq!(pairs.len(), 4, "2 x 2 cut pairs, the bridge in neither");
    let zone = only(NemesisKind::ZoneOutage);
    assert_eq!(
        zone.entries[0].fault,
        Fault::ZoneOutage { zone: "z1".into() }
    );
    let region = only(NemesisKind::RegionOutage);
    assert_eq!(
        region.entries[0].fault,
        Fault::RegionOutage {
            region: "eu".into()
        }
    );
}

#[test]
fn swarm_testing_varies_the_enabled_kinds_per_seed() {
    // Each seed enables a different subset; over many seeds every kind appears and none is always on.
    let swarm = Swarm::new(Nemesis::default());
    let mut subsets = BTreeSet::new();
    let mut seen_kinds = BTreeSet::new();
    for seed in 0..40 {
        let nemesis = Nemesis::default().swarm(Seed::new(seed));
        let enabled: Vec<NemesisKind> = nemesis.enabled_kinds(&five());
        assert!(!enabled.is_empty());
        assert!(enabled.len() < 14, "seed {seed} enabled everything");
        seen_kinds.extend(enabled.iter().copied());
        subsets.insert(enabled);
        assert_eq!(
            swarm.plan(Seed::new(seed), &five()),
            nemesis.plan(Seed::new(seed), &five())
        );
    }
    assert!(subsets.len() > 30, "{} distinct subsets", subsets.len());
    assert_eq!(seen_kinds.len(), 14);
}
