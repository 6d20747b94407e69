//! The planted bugs are found; the stale local read's minimized plan
//! replays, and only a partition shows it. To keep `cargo test` fast, each
//! test starts at the seed where a release sweep from seed 0 first fails
//! (see the book's chapter); `httpkv-sweep --bug NAME` shows the search
//! from scratch.

use detsim::{Case, NemesisKind, Plan, Seed, Sweep, SweepReport};
use examples::httpkv::Bug;
use examples::httpkv::cluster::{self, Options};

/// The first failing seed of `httpkv-sweep --bug local-read-on-timeout`.
const FIRST_FAILING_SEED: u64 = 0x11;

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

/// The plan `httpkv-sweep --bug local-read-on-timeout` minimizes seed
/// 0x11's 7 faults to (saved as JSON next to its replay line): `r3` cut off
/// from the others for 2.215 s.
const MINIMIZED_PLAN: &str = r#"{"entries": [
  {"at": "7.784s", "duration": "2.215s",
   "fault": {"kind": "partition", "groups": [["r3"], ["r2", "r1"]]}}
]}"#;

fn buggy() -> Options {
    Options {
        bug: Some(Bug::LocalReadOnTimeout),
        ..Options::default()
    }
}

#[test]
fn a_local_read_on_timeout_fails_its_first_seed() {
    // Proves the sweep catches the stale read through the history check,
    // verified by a second run, and hands out a replay line for the bug.
    let report = sweep(&buggy(), FIRST_FAILING_SEED, 1, false);
    assert_eq!(report.failures.len(), 1, "{report}");
    let failure = &report.failures[0];
    let text = failure.failure.to_string();
    assert!(text.contains("the history is linearizable"), "{report}");
    assert!(text.contains("not linearizable"), "{report}");
    let replay = failure
        .replay
        .as_deref()
        .expect("a verified failure replays");
    assert_eq!(
        replay,
        "SIM_SEED=0x0000000000000011 cargo run --release -p examples --bin httpkv-sweep -- --clients 3 --bug local-read-on-timeout"
    );
}

#[test]
fn the_minimized_plan_is_one_partition_and_fails_without_it_passes() {
    // Proves the minimized plan (a single partition) replays the failure,
    // and that the partition is what it needs: the same seed with no
    // faults at all passes with the bug planted.
    let plan = Plan::from_json(MINIMIZED_PLAN).unwrap();
    assert_eq!(plan.len(), 1);
    let seed = Seed::new(FIRST_FAILING_SEED);
    let failure = cluster::run(&Case::new(seed, Some(plan)), &buggy()).unwrap_err();
    assert!(
        failure.to_string().contains("the history is linearizable"),
        "{failure}"
    );
    cluster::run(&Case::new(seed, Some(Plan::new(Vec::new()))), &buggy()).unwrap();
}

/// The first failing seed of `httpkv-sweep --bug skip-write-back` (274 seeds from 0).
const SKIP_WRITE_BACK_SEED: u64 = 0x111;

#[test]
fn a_read_without_write_back_fails_its_first_seed() {
    // Proves the rarer bug is caught too: a read that returns a value only
    // a minority holds, then a later read that does not see it.
    let options = Options {
        bug: Some(Bug::SkipWriteBack),
        ..Options::default()
    };
    let report = sweep(&options, SKIP_WRITE_BACK_SEED, 1, false);
    assert_eq!(report.failures.len(), 1, "{report}");
    let text = report.failures[0].failure.to_string();
    assert!(text.contains("the history is linearizable"), "{report}");
}

#[test]
fn the_correct_service_passes_the_seeds_that_catch_the_bugs() {
    // Proves the failures above come from the bugs: the same seeds, the
    // same faults, without them, pass.
    for seed in [FIRST_FAILING_SEED, SKIP_WRITE_BACK_SEED] {
        sweep(&Options::default(), seed, 1, false).assert_passed();
    }
}

#[test]
fn without_network_faults_the_bug_stays_hidden() {
    // Proves the bug needs a partition: with crashes and clock faults only
    // (a minority down at a time), a quorum always answers in time and the
    // same seeds pass with the bug planted.
    let options = Options {
        kinds: vec![
            NemesisKind::Crash,
            NemesisKind::ClockJump,
            NemesisKind::ClockDrift,
        ],
        chaos_end: std::time::Duration::from_secs(5),
        liveness_within: std::time::Duration::from_secs(5),
        ..buggy()
    };
    sweep(&options, FIRST_FAILING_SEED, 10, false).assert_passed();
}
