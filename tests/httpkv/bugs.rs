//! The planted bug is found, and only a partition shows it. To keep `cargo
//! test` fast, the test starts at the seed where a release sweep from seed
//! 0 first fails (see the book's chapter); `httpkv-sweep --bug NAME` shows
//! the search from scratch.

use detsim::{NemesisKind, Sweep, SweepReport};
use examples::httpkv::Bug;
use examples::httpkv::cluster::{self, Options};

/// The first failing seed of `httpkv-sweep --bug local-read-on-timeout`.
const FIRST_FAILING_SEED: u64 = 0x4;

fn sweep(options: &Options, first: u64, seeds: u64, minimize: bool) -> SweepReport {
    Sweep::new("httpkv_bug")
        .first_seed(first)
        .seeds(seeds)
        .ignore_env()
        .regressions(None)
        .progress(false)
        .minimize(minimize)
        .replay_command("cargo run --release -p examples --bin httpkv-sweep -- --clients 3 --bug local-read-on-timeout")
        .run(|case| cluster::run(case, options))
        .unwrap()
}

#[test]
fn a_local_read_on_timeout_fails_its_seed_and_shrinks_to_a_partition() {
    // Proves the sweep catches the stale read through the history check,
    // the minimized plan still fails and keeps a cut link (the partition
    // that isolates a replica), and the replay line imposes the saved plan.
    let options = Options {
        bug: Some(Bug::LocalReadOnTimeout),
        ..Options::default()
    };
    let report = sweep(&options, FIRST_FAILING_SEED, 1, true);
    assert_eq!(report.failures.len(), 1, "{report}");
    let failure = &report.failures[0];
    assert!(
        failure
            .failure
            .to_string()
            .contains("the history is linearizable"),
        "{report}"
    );
    let minimized = failure.minimized.as_ref().expect("a minimized plan");
    let original = failure.failure.details().plan.as_ref().unwrap().len();
    assert!(minimized.len() < original, "{report}");
    assert!(
        minimized
            .entries
            .iter()
            .any(|e| matches!(e.fault.kind(), "cut_links" | "isolate" | "partition")),
        "{report}"
    );
    assert!(
        failure
            .replay
            .starts_with("SIM_SEED=0x0000000000000004 SIM_PLAN="),
        "{}",
        failure.replay
    );
}

#[test]
fn the_correct_service_passes_the_seed_that_catches_the_bug() {
    // Proves the failure above comes from the bug: the same seed, the same
    // faults, without it, passes.
    sweep(&Options::default(), FIRST_FAILING_SEED, 1, false).assert_passed();
}

#[test]
fn without_network_faults_the_bug_stays_hidden() {
    // Proves the bug needs a partition: with crashes and clock faults only
    // (a minority down at a time), a quorum always answers in time and the
    // same seeds pass with the bug planted.
    let options = Options {
        bug: Some(Bug::LocalReadOnTimeout),
        kinds: vec![
            NemesisKind::Crash,
            NemesisKind::ClockJump,
            NemesisKind::ClockDrift,
        ],
        chaos_end: std::time::Duration::from_secs(5),
        liveness_within: std::time::Duration::from_secs(5),
        ..Options::default()
    };
    sweep(&options, FIRST_FAILING_SEED, 3, false).assert_passed();
}
