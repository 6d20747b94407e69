//! Sweeps find the planted bug, minimize its plan to the two faults that
//! matter, replay it exactly, shard exactly, and run the same in parallel.

use std::sync::Mutex;

use detsim::strategy;
use detsim::{Case, Cause, Fault, Seed, Shard, Sweep};
use proptest::prelude::*;

use super::planted;

fn sweep(name: &str) -> Sweep {
    Sweep::new(name)
        .ignore_env()
        .regressions(None)
        .progress(false)
        .artifacts(std::env::temp_dir().join("detsim-tests"))
}

fn fault_names(plan: &detsim::Plan) -> Vec<String> {
    plan.entries.iter().map(|e| e.fault.to_string()).collect()
}

#[test]
fn the_sweep_finds_the_bug_and_minimizes_it_to_the_two_faults() {
    // From 10+ generated faults down to "crash r1", then "crash p".
    let report = sweep("planted").seeds(200).run(planted::run).unwrap();
    eprintln!("{report}");
    assert_eq!(report.failures.len(), 1, "{report}");
    let failure = &report.failures[0];
    assert!(
        matches!(failure.failure.cause(), Cause::Always { name, .. } if name == "reads never go back in time"),
        "{report}"
    );
    let original = failure.failure.details().plan.as_ref().unwrap();
    assert!(
        original.len() >= 10,
        "the generated plan had {} faults",
        original.len()
    );
    let minimized = failure.minimized.as_ref().expect("minimized");
    assert_eq!(fault_names(minimized), ["crash r1", "crash p"], "{report}");
    // The minimized plan is saved and named in the replay line.
    let path = failure.minimized_path.as_ref().unwrap();
    assert_eq!(&detsim::Plan::load(path).unwrap(), minimized);
    let replay = failure.replay.as_deref().expect("a verified replay line");
    assert!(
        replay.starts_with(&format!("SIM_SEED={} SIM_PLAN=", failure.seed)),
        "{replay}"
    );
    // The sweep ran the seed again and saw the same failure, bit for bit.
    assert_eq!(
        failure.verification,
        detsim::Verification::Verified {
            fingerprint: failure.failure.trace().fingerprint
        }
    );
    assert!(failure.minimized_fingerprint.is_some(), "{report}");
    let text = report.to_string();
    assert_eq!(text.matches("  replay: ").count(), 1, "{text}");
    assert!(
        text.contains("verified: run again, same cause, same fingerprint"),
        "{text}"
    );
    // Seeds before the failing one passed: the sweep stopped at the first failure.
    assert_eq!(report.seeds_run, failure.seed.get() + 1);
}

#[test]
fn the_replay_reproduces_the_failure_and_its_fingerprint() {
    // Replaying the failing seed (with its minimized plan or with its own) fails the same way, bit for bit.
    let report = sweep("planted").seeds(200).run(planted::run).unwrap();
    let failure = &report.failures[0];
    let again = sweep("planted").replay(failure.seed, None, planted::run);
    let replayed = &again.failures[0].failure;
    assert_eq!(replayed.cause(), failure.failure.cause());
    assert_eq!(replayed.details().time, failure.failure.details().time);
    assert_eq!(
        replayed.trace().fingerprint,
        failure.failure.trace().fingerprint
    );
    let minimal = sweep("planted").replay(failure.seed, failure.minimized.clone(), planted::run);
    assert_eq!(
        minimal.failures[0].failure.cause().signature(),
        failure.failure.cause().signature()
    );
    let twice = sweep("planted").replay(failure.seed, failure.minimized.clone(), planted::run);
    assert_eq!(
        twice.failures[0].failure.trace().fingerprint,
        minimal.failures[0].failure.trace().fingerprint
    );
}

#[test]
fn parallel_and_serial_sweeps_give_identical_results() {
    // Same failures, same fingerprints, same seeds run, whatever the thread count.
    let run = |threads| {
        let report = sweep("planted-par")
            .seeds(60)
            .stop_on_failure(false)
            .minimize(false)
            .threads(threads)
            .run(planted::run)
            .unwrap();
        let failures: Vec<(Seed, detsim::Fingerprint)> = report
            .failures
            .iter()
            .map(|f| (f.seed, f.failure.trace().fingerprint))
            .collect();
        (report.seeds_run, failures, report.simulated)
    };
    let serial = run(1);
    assert!(!serial.1.is_empty(), "some seeds fail");
    assert_eq!(run(2), serial);
    assert_eq!(run(3), serial);
}

#[test]
fn shards_cover_every_seed_exactly_once() {
    // Four shards of 103 seeds run 103 distinct seeds between them.
    let seen = Mutex::new(Vec::new());
    for index in 0..4 {
        let report = sweep("shards")
            .seeds(103)
            .first_seed(1000)
            .shard(Shard::new(index, 4).unwrap())
            .run(|case| {
                seen.lock().unwrap().push(case.seed().get());
                case.builder().build().unwrap().run(async {})
            })
            .unwrap();
        assert_eq!(report.seeds_planned, if index < 3 { 26 } else { 25 });
    }
    let mut seen = seen.into_inner().unwrap();
    seen.sort_unstable();
    assert_eq!(seen, (1000..1103).collect::<Vec<u64>>());
}

#[test]
fn a_failing_seed_is_remembered_and_runs_first_next_time() {
    // The regressions file gets the seed; the next sweep (over other seeds) runs it first.
    let path = std::env::temp_dir().join(format!("detsim-regressions-{}.txt", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let first = sweep("regressions")
        .regressions(Some(path.clone()))
        .seeds(200)
        .minimize(false)
        .run(planted::run)
        .unwrap();
    let seed = first.failures[0].seed;
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.contains(&format!("{seed}  # always reads never go back in time")),
        "{text}"
    );
    let order = Mutex::new(Vec::new());
    let second = sweep("regressions")
        .regressions(Some(path.clone()))
        .seeds(3)
        .first_seed(100_000)
        .minimize(false)
        .threads(1)
        .run(|case| {
            order.lock().unwrap().push(case.seed());
            planted::run(case)
        })
        .unwrap();
    assert_eq!(
        order.lock().unwrap()[0],
        seed,
        "the remembered seed runs first"
    );
    assert_eq!(second.failures[0].seed, seed);
    std::fs::write(&path, "0x1\nnot-a-seed\n").unwrap();
    let error = sweep("regressions")
        .regressions(Some(path.clone()))
        .run(planted::run)
        .unwrap_err();
    assert!(error.to_string().contains("line 2"), "{error}");
    let _ = std::fs::remove_file(&path);
}

#[test]
fn a_panic_in_the_test_closure_is_that_seeds_failure() {
    // Setup code that panics outside the world fails the seed; the sweep goes on reporting.
    let report = sweep("closure-panic")
        .seeds(5)
        .run(|case| {
            assert!(case.seed().get() != 3, "seed three is cursed");
            case.builder().build().unwrap().run(async {})
        })
        .unwrap();
    assert_eq!(report.failures.len(), 1);
    assert_eq!(report.failures[0].seed, Seed::new(3));
    assert!(report.to_string().contains("seed three is cursed"));
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    // Searched by a `proptest!` instead of a sweep, the plan shrinks to the
    // same two faults. Not a #[test] itself: it fails, by design; the test
    // below runs it and reads the shrunk plan.
    fn proptest_shrinks_to_the_same_two_faults(
        plan in strategy::plan(planted::nemesis(), planted::topology(), 14)
    ) {
        let passed = planted::run(&Case::new(Seed::new(7), Some(plan.clone()))).is_ok();
        if !passed {
            // The last failing case proptest tries is the shrunk one.
            SHRUNK.with(|s| *s.borrow_mut() = Some(plan.clone()));
        }
        prop_assert!(passed);
    }
}

thread_local! {
    static SHRUNK: std::cell::RefCell<Option<detsim::Plan>> = const { std::cell::RefCell::new(None) };
}

#[test]
fn proptest_path_finds_and_shrinks_the_bug() {
    // Run the property by hand to inspect the final (shrunk) failing plan.
    let result = std::panic::catch_unwind(proptest_shrinks_to_the_same_two_faults);
    assert!(result.is_err(), "proptest finds the bug");
    let shrunk = SHRUNK.with(|s| s.borrow().clone()).expect("a failing plan");
    let kinds: Vec<&Fault> = shrunk.entries.iter().map(|e| &e.fault).collect();
    assert_eq!(
        kinds,
        [
            &Fault::Crash { node: "r1".into() },
            &Fault::Crash { node: "p".into() }
        ],
        "{shrunk}"
    );
}

#[test]
fn failures_that_differ_only_in_numbers_minimize_alike() {
    // always! with arguments, fail_with with a counterexample, and a panic
    // whose message carries the values all shrink to the same two faults as
    // a literal always!: the signature masks numbers or compares the title.
    for check in [
        planted::Check::AlwaysFormatted,
        planted::Check::FailWith,
        planted::Check::Panic,
    ] {
        let report = sweep("planted-alike")
            .seeds(200)
            .run(|case: &detsim::Case| planted::run_with(case, check))
            .unwrap();
        assert_eq!(report.failures.len(), 1, "{check:?}: {report}");
        let failure = &report.failures[0];
        let minimized = failure.minimized.as_ref().expect("minimized");
        assert_eq!(
            fault_names(minimized),
            ["crash r1", "crash p"],
            "{check:?}: {report}"
        );
        let signature = failure.failure.cause().signature();
        let expected = match check {
            planted::Check::AlwaysFormatted => {
                "always reads never go back in time: read {} after {}".to_owned()
            }
            planted::Check::FailWith => "reported reads never go back in time".to_owned(),
            _ => format!(
                "panic at {}: read # after #",
                match failure.failure.cause() {
                    Cause::Panic { location, .. } => location.clone().unwrap(),
                    other => panic!("{other}"),
                }
            ),
        };
        assert_eq!(signature, expected);
        assert!(
            report
                .to_string()
                .contains(&format!("  signature: {expected}")),
            "{report}"
        );
    }
}
