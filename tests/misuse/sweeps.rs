//! Sweeps that would pass silently: empty sweeps, ignored plans, closures that
//! ignore their seed, seeds that wrap, misleading panic reports.

use std::time::Duration;

use detsim::{Case, Cause, Failure, Report, Seed, Shard, Sim, Sweep, SweepError, random, time};

fn sweep(name: &str) -> Sweep {
    Sweep::new(name)
        .ignore_env()
        .regressions(None)
        .progress(false)
        .threads(1)
}

/// A test that uses its seed: a sleep of a seeded length.
fn seeded(case: &Case) -> Result<Report<()>, Failure> {
    let mut sim = case.builder().build().unwrap();
    sim.run(async {
        let ms = random::with(|rng| rng.below(1000));
        time::sleep(Duration::from_millis(ms)).await;
    })
}

#[test]
fn a_sweep_of_zero_seeds_is_an_error_unless_allowed() {
    // Proves 0 seeds no longer "passes", and that allowing it is explicit
    // and shows in the report.
    let error = sweep("zero").seeds(0).run(seeded).unwrap_err();
    assert!(matches!(error, SweepError::Empty(_)));
    assert_eq!(
        error.to_string(),
        "empty sweep: sweep zero: it asks for 0 seeds; it would pass without testing anything (if \
         that is intended, as for a CI shard that owns no seed, say so with `Sweep::allow_empty(true)`)"
    );
    let report = sweep("zero")
        .seeds(0)
        .allow_empty(true)
        .run(seeded)
        .unwrap();
    assert_eq!(report.seeds_run, 0);
    assert_eq!(
        report.warnings,
        ["no seed ran: it asks for 0 seeds, which `allow_empty` allows"]
    );
    assert!(
        report.to_string().contains("  warning: no seed ran"),
        "{report}"
    );
}

#[test]
fn a_shard_that_owns_no_seed_says_so() {
    // Proves the error names the shard when the range is too small for it.
    let error = sweep("shard")
        .seeds(3)
        .shard(Shard::new(5, 8).unwrap())
        .run(seeded)
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("sweep shard: shard 5/8 owns none of its 3 seeds"),
        "{error}"
    );
    let report = sweep("shard")
        .seeds(3)
        .shard(Shard::new(5, 8).unwrap())
        .allow_empty(true)
        .run(seeded)
        .unwrap();
    assert!(report.passed() && report.seeds_run == 0);
}

#[test]
fn a_zero_time_budget_is_refused_and_any_budget_runs_the_first_seed() {
    // Proves a budget cannot make a sweep run nothing: zero is an error, and
    // a budget spent before the first seed still runs that seed.
    let error = sweep("budget")
        .time_budget(Duration::ZERO)
        .run(seeded)
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "sweep configuration: a time budget of zero would start no seed; give it at least the time of one"
    );
    let report = sweep("budget")
        .seeds(50)
        .time_budget(Duration::from_nanos(1))
        .run(seeded)
        .unwrap();
    assert_eq!(report.seeds_run, 1);
    assert!(report.stopped_early);
}

#[test]
fn a_seed_range_past_the_last_seed_is_refused_instead_of_wrapping() {
    // Proves `first_seed(u64::MAX - 3)` with 100 seeds no longer wraps to 0,
    // while the 4 seeds that fit run.
    let error = sweep("wrap")
        .first_seed(u64::MAX - 3)
        .seeds(100)
        .run(seeded)
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "sweep configuration: 100 seeds from 0xfffffffffffffffc run past the last seed \
         0xffffffffffffffff: the range would wrap around to seed 0; lower the first seed or the count"
    );
    let report = sweep("wrap")
        .first_seed(u64::MAX - 3)
        .seeds(4)
        .run(seeded)
        .unwrap();
    assert_eq!(report.seeds_run, 4);
}

#[test]
fn a_closure_that_ignores_its_seed_gets_a_warning() {
    // Proves a sweep that runs one world under many seeds says so, and one
    // that uses its seed does not.
    let blind = sweep("blind")
        .seeds(20)
        .run(|_case| {
            let mut sim = Sim::new(Seed::new(1));
            sim.run(async {
                let ms = random::with(|rng| rng.below(1000));
                time::sleep(Duration::from_millis(ms)).await;
            })
        })
        .unwrap();
    assert!(blind.passed());
    assert_eq!(blind.warnings.len(), 1, "{blind}");
    assert!(
        blind.warnings[0].starts_with("all 20 passing seeds ran with the same fingerprint ")
            && blind.warnings[0].contains("the test closure seems to ignore its seed"),
        "{}",
        blind.warnings[0]
    );
    let sighted = sweep("sighted").seeds(20).run(seeded).unwrap();
    assert!(sighted.warnings.is_empty(), "{sighted}");
}

#[test]
fn a_panic_of_the_closure_is_reported_as_the_closure_s_not_a_timer_s() {
    // Proves a closure's own panic (here: applying a plan that names an
    // unknown node) reads as what it is, with no made-up fingerprint.
    let report = sweep("closure")
        .seeds(3)
        .minimize(false)
        .run(|case| {
            let mut sim = case.builder().build().unwrap();
            sim.add_node("n1", |_| std::future::pending::<()>())
                .unwrap();
            let plan = detsim::Plan::from_json(
                r#"{"entries": [{"at": "1s", "fault": {"kind": "crash", "node": "n9"}}]}"#,
            )
            .unwrap();
            sim.apply_plan(plan).unwrap();
            sim.run(time::sleep(Duration::from_secs(2)))
        })
        .unwrap();
    let failure = &report.failures[0].failure;
    let Cause::ClosurePanic { message, location } = failure.cause() else {
        panic!("not a closure panic: {failure}");
    };
    // The user's `unwrap()` shows the error's Debug form.
    assert!(
        message.contains(r#"message: "unknown node \"n9\"""#),
        "{message}"
    );
    assert!(
        location.as_deref().unwrap().contains("misuse/sweeps.rs"),
        "{location:?}"
    );
    let text = failure.to_string();
    assert!(
        text.contains("cause:  the test closure panicked outside any world at "),
        "{text}"
    );
    assert!(
        text.contains("trace:  none (no world ran to the failure)"),
        "{text}"
    );
    assert!(!text.contains("timer callback"), "{text}");
}

/// Output of `misuse-child <scenario>` with `env` set (bounded: these exit at once).
fn child(scenario: &str, env: &[(&str, &str)]) -> String {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_misuse-child"));
    command.arg(scenario);
    for (name, value) in env {
        command.env(name, value);
    }
    let output = command.output().expect("misuse-child runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn a_bad_environment_is_refused_before_any_seed_runs() {
    // Proves SIM_LOG and SIM_WATCHDOG typos and SIM_SEEDS=0 are the sweep's
    // errors, not a panic of every case's `build().unwrap()`.
    assert_eq!(
        child("sweep-env", &[("SIM_LOG", "verbose")]),
        "refused: sweep environment: SIM_LOG: invalid configuration: log level \"verbose\" is not \
         one of off, error, warn, info, debug, trace\n"
    );
    assert!(
        child("sweep-env", &[("SIM_WATCHDOG", "soon")])
            .starts_with("refused: sweep environment: SIM_WATCHDOG: duration \"soon\""),
    );
    assert!(
        child("sweep-env", &[("SIM_SEEDS", "0")]).starts_with(
            "refused: empty sweep: sweep sweep-env: it asks for 0 seeds (SIM_SEEDS=0)"
        ),
    );
    assert!(child("sweep-env", &[]).starts_with("ran: sweep sweep-env: 3 of 3 seeds, 0 failed"));
}

#[test]
fn a_plan_the_test_never_asks_for_fails_the_replay() {
    // Proves SIM_PLAN is not ignored silently: a test that does not take its
    // plan from the case fails the replay saying so; one that does passes.
    let dir = std::env::temp_dir().join(format!("detsim-misuse-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let plan = dir.join("plan.json");
    std::fs::write(
        &plan,
        r#"{"entries": [{"at": "500ms", "duration": "100ms", "fault": {"kind": "crash", "node": "n1"}}]}"#,
    )
    .unwrap();
    let plan = plan.to_str().unwrap();
    let artifacts = dir.to_str().unwrap();
    let env = [
        ("SIM_SEED", "0x5"),
        ("SIM_PLAN", plan),
        ("SIM_ARTIFACTS", artifacts),
        ("SIM_LOG", "off"),
    ];
    let ignored = child("plan-ignored", &env);
    assert!(ignored.contains("1 failed"), "{ignored}");
    assert!(
        ignored.contains(
            "cause:  misuse: SIM_PLAN imposed a plan, but the test never asked its case for one"
        ),
        "{ignored}"
    );
    let taken = child("plan-taken", &env);
    assert!(taken.contains("0 failed"), "{taken}");
    std::fs::remove_dir_all(&dir).unwrap();
}
