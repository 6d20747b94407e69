//! always!, sometimes!, invariants, liveness and buggify!.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use detsim::{Cause, Seed, Sim, Sweep, always, buggify, liveness, sometimes, time};

#[test]
fn always_fails_the_run_where_it_was_false() {
    // The failure names the assertion and its location, at the virtual time it failed.
    let mut sim = Sim::builder(Seed::new(1)).quiet().build().unwrap();
    let failure = sim
        .run(async {
            for i in 0..10u64 {
                time::sleep(Duration::from_millis(100)).await;
                always!(i < 7, "fewer than seven");
            }
        })
        .unwrap_err();
    let Cause::Always {
        name,
        location,
        message,
    } = failure.cause()
    else {
        panic!("{failure}")
    };
    assert_eq!(name, "fewer than seven");
    assert_eq!(message, "fewer than seven");
    assert!(location.contains("assertions.rs"), "{location}");
    assert_eq!(failure.details().time.as_nanos(), 800_000_000);
    assert_eq!(failure.details().coverage["fewer than seven"].evaluated, 8);
}

#[test]
fn sweeps_list_the_sometimes_that_never_held() {
    // Coverage sums across seeds; an unreachable `sometimes!` is reported.
    let report = Sweep::new("coverage")
        .ignore_env()
        .regressions(None)
        .progress(false)
        .seeds(20)
        .run(|case| {
            let mut sim = case.builder().build().unwrap();
            sim.run(async {
                let x = detsim::random::with(|r| r.below(10));
                sometimes!(x == 3, "drew a three");
                sometimes!(x == 10, "drew a ten");
            })
        })
        .unwrap();
    assert_eq!(report.coverage["drew a three"].evaluated, 20);
    assert!(report.coverage["drew a three"].held > 0);
    assert_eq!(report.sometimes_never(), ["drew a ten"]);
    assert!(report.to_string().contains("sometimes! that never held"));
}

#[test]
fn invariants_are_checked_after_every_step() {
    // The step that breaks the invariant is the one that fails.
    let balance = Rc::new(Cell::new(10i64));
    let mut sim = Sim::builder(Seed::new(1)).quiet().build().unwrap();
    let b = balance.clone();
    sim.enter(|h| {
        h.invariant("balance is never negative", move || {
            if b.get() >= 0 {
                Ok(())
            } else {
                Err(format!("balance {}", b.get()))
            }
        })
    });
    let b = balance.clone();
    let failure = sim
        .run(async move {
            for _ in 0..20 {
                time::sleep(Duration::from_secs(1)).await;
                b.set(b.get() - 3);
            }
        })
        .unwrap_err();
    assert_eq!(
        failure.cause(),
        &Cause::Invariant {
            name: "balance is never negative".into(),
            message: "balance -2".into()
        }
    );
    assert_eq!(failure.details().time.as_nanos(), 4_000_000_000);
}

#[test]
fn liveness_passes_when_the_goal_is_reached_in_time() {
    // A goal reached 3 s after the heal, within a 5 s bound, returns its output.
    let mut sim = Sim::new(Seed::new(1));
    let report = sim
        .run(async {
            liveness(
                "progress",
                time::Instant::from_nanos(1_000_000_000),
                Duration::from_secs(5),
                String::new,
                async {
                    time::sleep(Duration::from_secs(3)).await;
                    42
                },
            )
            .await
        })
        .unwrap();
    assert_eq!(report.value, 42);
    assert_eq!(report.elapsed.as_nanos(), 4_000_000_000);
}

#[test]
fn liveness_fails_with_the_state_at_the_deadline() {
    // A goal never reached fails at heal + bound, with the state described then.
    let mut sim = Sim::new(Seed::new(1));
    let failure = sim
        .run(async {
            liveness(
                "a leader is elected",
                time::Instant::from_nanos(2_000_000_000),
                Duration::from_secs(3),
                || "term 7, no leader, 2 of 3 up".to_owned(),
                std::future::pending::<()>(),
            )
            .await
        })
        .unwrap_err();
    let Cause::Liveness {
        name,
        deadline,
        state,
    } = failure.cause()
    else {
        panic!("{failure}")
    };
    assert_eq!(name, "a leader is elected");
    assert_eq!(deadline.as_nanos(), 5_000_000_000);
    assert_eq!(state, "term 7, no leader, 2 of 3 up");
}

fn buggify_pattern(seed: u64) -> Vec<bool> {
    Sim::builder(Seed::new(seed))
        .quiet()
        .build()
        .unwrap()
        .run(async { (0..40).map(|_| buggify!()).collect::<Vec<bool>>() })
        .unwrap()
        .value
}

#[test]
fn buggify_is_per_seed_per_site_and_off_outside() {
    // Deterministic per seed; enabled sites fire sometimes; some seeds never enable the site; off outside and when disabled.
    assert_eq!(buggify_pattern(5), buggify_pattern(5));
    let patterns: Vec<Vec<bool>> = (0..40).map(buggify_pattern).collect();
    let enabled = patterns.iter().filter(|p| p.iter().any(|b| *b)).count();
    assert!(
        (3..=20).contains(&enabled),
        "{enabled} of 40 seeds enabled the site"
    );
    for pattern in patterns.iter().filter(|p| p.iter().any(|b| *b)) {
        assert!(
            pattern.iter().any(|b| !*b),
            "an enabled site still does not always fire"
        );
    }
    assert!(!buggify!());
    let off = Sim::builder(Seed::new(5))
        .buggify(false)
        .quiet()
        .build()
        .unwrap()
        .run(async { (0..40).any(|_| buggify!()) })
        .unwrap()
        .value;
    assert!(!off);
}

#[test]
fn invariants_can_be_checked_at_chosen_times() {
    // A periodic invariant sees the state only at its instants: it fails at the first check after the breach.
    let level = Rc::new(Cell::new(0u32));
    let mut sim = Sim::builder(Seed::new(1)).quiet().build().unwrap();
    let l = level.clone();
    sim.enter(|h| {
        h.invariant_every("level stays below 5", Duration::from_secs(2), move || {
            if l.get() < 5 {
                Ok(())
            } else {
                Err(format!("level {}", l.get()))
            }
        })
    });
    let l = level.clone();
    let failure = sim
        .run(async move {
            for _ in 0..20 {
                time::sleep(Duration::from_millis(700)).await;
                l.set(l.get() + 1);
            }
        })
        .unwrap_err();
    // Level 5 is reached at 3.5 s; the check at 4 s catches it.
    assert_eq!(failure.details().time.as_nanos(), 4_000_000_000);
    assert_eq!(
        failure.cause(),
        &Cause::Invariant {
            name: "level stays below 5".into(),
            message: "level 5".into()
        }
    );
}
