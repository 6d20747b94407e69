//! Each planted bug is found: its seed fails, with a replay line, and a
//! stale read's plan is minimized. To keep `cargo test` fast, each test
//! starts at the seed where a release sweep from seed 0 first fails (see the
//! book's table); `kv-sweep --bug NAME` shows the search from scratch.

use detsim::Sweep;
use examples::raft::Bug;
use examples::raft::cluster::{self, Options};

/// Sweeps `seeds` seeds from `first` with `bug` planted on `nodes` nodes.
fn sweep(bug: Bug, nodes: usize, first: u64, seeds: u64, minimize: bool) -> detsim::SweepReport {
    let options = Options {
        bug: Some(bug),
        nodes,
        ..Options::default()
    };
    Sweep::new(&format!("raft_bug_{bug}"))
        .first_seed(first)
        .seeds(seeds)
        .ignore_env()
        .regressions(None)
        .progress(false)
        .minimize(minimize)
        .replay_command(format!(
            "cargo run --release -p examples --bin kv-sweep -- --nodes {nodes} --bug {bug}"
        ))
        .run(|case| cluster::run(case, &options))
        .unwrap()
}

#[test]
fn every_planted_bug_fails_its_first_seed() {
    // Proves each bug is caught, and by which check: (bug, nodes, the first
    // failing seed of a sweep from 0, what catches it).
    let table = [
        (
            Bug::AckBeforeDurable,
            5,
            0x1,
            "a client is served after the faults heal",
        ),
        (
            Bug::VoteWithoutPersist,
            5,
            0x1,
            "entries applied at an index are the same",
        ),
        (
            Bug::Figure8,
            3,
            0x169,
            "committed entries are never truncated",
        ),
        (Bug::StaleLeaderRead, 5, 0x17, "the history is linearizable"),
        (
            Bug::SkipChecksum,
            5,
            0x0,
            "entries applied at an index are the same",
        ),
        (
            Bug::NoTruncate,
            5,
            0x0,
            "entries applied at an index are the same",
        ),
    ];
    for (bug, nodes, seed, check) in table {
        let report = sweep(bug, nodes, seed, 1, false);
        assert_eq!(report.failures.len(), 1, "{bug} passed seed {seed:#x}");
        let failure = &report.failures[0];
        assert!(
            failure.failure.to_string().contains(check),
            "{bug}: {report}"
        );
        let replay = failure.replay.as_deref().expect("a verified replay line");
        assert!(replay.contains(&format!("--bug {bug}")));
    }
}

#[test]
fn a_stale_read_is_minimized_to_a_few_faults() {
    // Proves minimization: the failing plan shrinks, the failure stays the
    // same, and the replay line imposes the saved plan.
    let report = sweep(Bug::StaleLeaderRead, 5, 0x17, 1, true);
    let failure = &report.failures[0];
    let minimized = failure.minimized.as_ref().expect("a minimized plan");
    let original = failure.failure.details().plan.as_ref().unwrap().len();
    assert!(minimized.len() < original, "{report}");
    assert!(
        failure
            .replay
            .as_deref()
            .is_some_and(|r| r.starts_with("SIM_SEED=0x0000000000000017 SIM_PLAN="))
    );
}

#[test]
fn the_correct_store_passes_the_seeds_that_catch_the_bugs() {
    // Proves the failures above come from the bugs: the same seeds pass
    // without them.
    for (nodes, seed) in [(5, 0x0), (5, 0x1), (3, 0x169), (5, 0x17)] {
        let options = Options {
            nodes,
            ..Options::default()
        };
        let report = Sweep::new("raft_bug_seeds_without_bugs")
            .first_seed(seed)
            .seeds(1)
            .ignore_env()
            .regressions(None)
            .progress(false)
            .run(|case| cluster::run(case, &options))
            .unwrap();
        report.assert_passed();
    }
}
