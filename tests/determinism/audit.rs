//! Sweeps verify what they report: the lease service with its planted bug,
//! with and without interception.

use detsim::{Case, Seed, Sweep, Verification, check_case_determinism};

use super::lease::{self, Options};

fn sweep(name: &str) -> Sweep {
    Sweep::new(name)
        .seeds(60)
        .regressions(None)
        .progress(false)
        .ignore_env()
        .replay_command("cargo test -p tests -- --exact determinism")
        .artifacts(std::env::temp_dir().join("detsim-tests-determinism"))
}

const BUGGY: Options = Options {
    bug: true,
    intercept: true,
};

#[test]
fn with_interception_the_bug_is_found_minimized_and_replays_on_one_and_two_threads() {
    // A node drawing from thread_rng and iterating a HashMap replays bit for bit.
    let run = |case: &Case| lease::run(case, BUGGY);
    let serial = sweep("lease-1").threads(1).run(run).unwrap();
    eprintln!("{serial}");
    let parallel = sweep("lease-2").threads(2).run(run).unwrap();
    assert_eq!(serial.failures.len(), 1, "{serial}");
    let (a, b) = (&serial.failures[0], &parallel.failures[0]);
    assert_eq!(a.seed, b.seed);
    assert_eq!(a.failure.trace().fingerprint, b.failure.trace().fingerprint);
    assert_eq!(a.failure.cause().signature(), b.failure.cause().signature());
    assert!(
        a.failure
            .cause()
            .signature()
            .starts_with("always at most one node believes it holds the lease"),
        "{serial}"
    );
    assert!(a.verification.is_verified(), "{serial}");
    let minimized = a.minimized.as_ref().expect("a minimized plan");
    assert!(minimized.len() < a.failure.details().plan.as_ref().unwrap().len());
    assert!(minimized.entries.iter().all(|e| e.fault.kind() == "crash"));
    assert_eq!(a.minimized_fingerprint, b.minimized_fingerprint);
    let replay = a.replay.as_deref().expect("a verified replay line");
    assert!(replay.contains("SIM_PLAN="), "{replay}");
    // Replaying (as SIM_SEED and SIM_PLAN do) gives the minimized run, bit for bit.
    let again = sweep("lease-1").replay(a.seed, a.minimized.clone(), run);
    assert_eq!(
        Some(again.failures[0].failure.trace().fingerprint),
        a.minimized_fingerprint
    );
    // The first failing seed is named, with how many seeds ran.
    assert_eq!(serial.first_failure().unwrap().position, a.seed.get());
    assert!(serial.to_string().contains(&format!(
        "first failure: seed {}, seed number {} of the sweep",
        a.seed,
        a.seed.get() + 1
    )));
}

#[test]
fn without_interception_the_sweep_says_not_deterministic_and_prints_no_replay_line() {
    // The same bug with OS entropy and clocks leaking: the failure is
    // reported with the first divergence, and without a replay line.
    let leaky = Options {
        bug: true,
        intercept: false,
    };
    let report = sweep("lease-leaky")
        .run(|case: &Case| lease::run(case, leaky))
        .unwrap();
    eprintln!("{report}");
    assert_eq!(report.failures.len(), 1, "{report}");
    let failure = &report.failures[0];
    let Verification::NotDeterministic(evidence) = &failure.verification else {
        panic!("expected not deterministic: {report}")
    };
    assert_eq!(evidence.runs.len(), 2);
    assert!(evidence.divergence.is_some(), "{report}");
    assert!(failure.replay.is_none());
    assert!(failure.minimized.is_none());
    let text = report.to_string();
    assert!(!text.contains("replay:"), "{text}");
    assert!(text.contains("NOT DETERMINISTIC"), "{text}");
    assert!(text.contains("rand::thread_rng()"), "{text}");
    assert!(
        text.contains("first difference of two recorded runs"),
        "{text}"
    );
}

#[test]
fn an_audit_runs_seeds_twice_and_catches_what_passes() {
    // Without the bug nothing fails, so only the audit can see the leak.
    let correct = Options {
        bug: false,
        intercept: true,
    };
    let clean = sweep("lease-audit")
        .seeds(12)
        .check_determinism(3)
        .run(|case: &Case| lease::run(case, correct))
        .unwrap();
    clean.assert_passed();
    assert_eq!(clean.audited, 4, "{clean}");
    assert!(
        clean
            .to_string()
            .contains("determinism audited: 4 seeds ran twice")
    );
    let leaky = Options {
        bug: false,
        intercept: false,
    };
    let caught = sweep("lease-audit-leaky")
        .seeds(12)
        .check_determinism(1)
        .run(|case: &Case| lease::run(case, leaky))
        .unwrap();
    assert_eq!(caught.failures.len(), 1, "{caught}");
    assert_eq!(caught.failures[0].seed, Seed::new(0));
    assert!(
        matches!(
            caught.failures[0].failure.cause(),
            detsim::Cause::DeterminismLeak { .. }
        ),
        "{caught}"
    );
    assert!(caught.failures[0].replay.is_none());
}

#[test]
fn check_case_determinism_takes_a_sweeps_closure() {
    // The same closure a sweep runs: deterministic with interception, and
    // the first divergence named without it.
    let correct = Options {
        bug: false,
        intercept: true,
    };
    let fingerprint = check_case_determinism(Case::new(Seed::new(4), None), |c: &Case| {
        lease::run(c, correct)
    })
    .unwrap();
    let again = check_case_determinism(Case::new(Seed::new(4), None), |c: &Case| {
        lease::run(c, correct)
    })
    .unwrap();
    assert_eq!(fingerprint, again);
    let leaky = Options {
        bug: false,
        intercept: false,
    };
    let divergence = check_case_determinism(Case::new(Seed::new(4), None), |c: &Case| {
        lease::run(c, leaky)
    })
    .unwrap_err();
    assert!(divergence.to_string().contains("HashMap"), "{divergence}");
}

#[test]
fn shards_find_the_same_failures_as_one_sweep() {
    // Every failure and its fingerprint is the same whether the seeds run in
    // one sweep or in two shards (threads and thread-local state differ).
    let run = |case: &Case| lease::run(case, BUGGY);
    let failures = |shard: Option<detsim::Shard>| {
        let mut sweep = sweep("lease-shards")
            .seeds(16)
            .stop_on_failure(false)
            .minimize(false);
        if let Some(shard) = shard {
            sweep = sweep.shard(shard);
        }
        let report = sweep.run(run).unwrap();
        report
            .failures
            .iter()
            .map(|f| (f.seed, f.failure.trace().fingerprint))
            .collect::<Vec<_>>()
    };
    let whole = failures(None);
    assert!(whole.len() >= 2, "{whole:?}");
    let mut sharded = failures(Some(detsim::Shard::new(0, 2).unwrap()));
    sharded.extend(failures(Some(detsim::Shard::new(1, 2).unwrap())));
    sharded.sort();
    assert_eq!(sharded, whole);
}
