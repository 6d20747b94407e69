//! Each planted bug is found by a sweep, with a replay line and (for those
//! found from a plan) a minimized plan. The seeds start where a release
//! sweep from seed 0 first fails, to keep `cargo test` fast; `kv-sweep
//! --bug NAME` shows the search from scratch.

use detsim::Sweep;
use examples::raft::Bug;
use examples::raft::cluster::{self, Options};

/// Sweeps `seeds` seeds from `first` with `bug` planted; returns the report.
fn sweep(bug: Bug, first: u64, seeds: u64, minimize: bool) -> detsim::SweepReport {
    let options = Options {
        bug: Some(bug),
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
            "cargo run --release -p examples --bin kv-sweep -- --bug {bug}"
        ))
        .run(|case| cluster::run(case, &options))
        .unwrap()
}

#[test]
fn stale_leader_reads_are_found_and_minimized() {
    // Proves the sweep finds reads served by a deposed leader, reports a
    // non-linearizable history, and shrinks the plan to a few faults.
    let report = sweep(Bug::StaleLeaderRead, 0x45, 1, true);
    let failure = &report.failures[0];
    assert!(
        failure.failure.to_string().contains("linearizable"),
        "{report}"
    );
    let minimized = failure.minimized.as_ref().expect("a minimized plan");
    let original = failure.failure.details().plan.as_ref().unwrap().len();
    assert!(minimized.len() < original, "{report}");
    assert!(
        failure
            .replay
            .starts_with("SIM_SEED=0x0000000000000045 SIM_PLAN=")
    );
}

#[test]
fn not_truncating_conflicts_is_found() {
    // Proves kept conflicting entries make nodes apply different entries.
    let report = sweep(Bug::NoTruncate, 0, 4, false);
    assert!(!report.passed());
    let text = report.failures[0].failure.to_string();
    assert!(
        text.contains("entries applied at an index are the same"),
        "{report}"
    );
}
