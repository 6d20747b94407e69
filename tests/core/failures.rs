//! Failures: panics, deadlocks, limits, leaks, misuse — each names seed, time and replay.

use std::time::Duration;

use detsim::{Cause, Seed, Sim, time};

#[test]
fn a_task_panic_fails_the_run_with_message_location_node_and_replay() {
    // The panic is caught, and the failure names seed, virtual time, node, message, location, replay.
    let mut sim = Sim::builder(Seed::new(0xdead)).build().unwrap();
    sim.add_node("n2", |_| async {
        time::sleep(Duration::from_millis(1500)).await;
        let v: Vec<u8> = Vec::new();
        let _ = v[3];
    })
    .unwrap();
    let failure = sim.run(time::sleep(Duration::from_secs(10))).unwrap_err();
    let d = failure.details();
    assert_eq!(d.seed, Seed::new(0xdead));
    assert_eq!(d.time.as_nanos(), 1_500_000_000);
    assert_eq!(d.node.as_deref(), Some("n2"));
    let Cause::Panic {
        message, location, ..
    } = &d.cause
    else {
        panic!("expected a panic, got {:?}", d.cause)
    };
    assert!(message.contains("index out of bounds"), "{message}");
    assert!(
        location.as_deref().unwrap().contains("failures.rs"),
        "{location:?}"
    );
    assert_eq!(
        d.replay,
        "SIM_SEED=0x000000000000dead cargo test -p tests -- --exact core::failures::a_task_panic_fails_the_run_with_message_location_node_and_replay"
    );
    let text = failure.to_string();
    assert!(
        text.starts_with(
            "simulation failed\n  seed:   0x000000000000dead\n  time:   t=1.500000s\n  node:   n2\n"
        ),
        "{text}"
    );
    // A failed world stays failed.
    assert_eq!(sim.run(async {}).unwrap_err(), failure);
}

#[test]
fn a_deadlock_is_reported_with_the_blocked_tasks() {
    // Nothing ready, nothing scheduled, body unfinished: a deadlock listing each task, its node and spawn site.
    let mut sim = Sim::new(Seed::new(3));
    sim.add_node("server", |_| futures::future::pending::<()>())
        .unwrap();
    let failure = sim
        .run(async {
            let (_tx, rx) = futures::channel::oneshot::channel::<()>();
            time::sleep(Duration::from_secs(2)).await;
            rx.await.unwrap();
        })
        .unwrap_err();
    let Cause::Deadlock { blocked } = failure.cause() else {
        panic!("expected a deadlock, got {:?}", failure.cause())
    };
    let nodes: Vec<&str> = blocked.iter().map(|b| b.node.as_str()).collect();
    assert_eq!(nodes, ["server", "sim"]);
    assert!(
        blocked.iter().all(|b| b.spawned_at.contains("failures.rs")),
        "{blocked:?}"
    );
    assert_eq!(failure.details().time.as_nanos(), 2_000_000_000);
    assert!(failure.to_string().contains("deadlock"));
}

#[test]
fn a_livelock_hits_the_step_limit() {
    // A task that yields forever never lets time pass; the step limit stops it.
    let mut sim = Sim::builder(Seed::new(4)).steps_max(1000).build().unwrap();
    let failure = sim
        .run(async {
            loop {
                detsim::yield_now().await;
            }
        })
        .unwrap_err();
    assert_eq!(failure.cause(), &Cause::StepLimit { steps_max: 1000 });
    assert_eq!(failure.details().steps, 1001);
}

#[test]
fn a_run_past_the_time_limit_fails_at_the_limit() {
    // Virtual time stops at the limit; the failure says so.
    let mut sim = Sim::builder(Seed::new(5))
        .time_limit(Duration::from_secs(60))
        .build()
        .unwrap();
    let failure = sim.run(time::sleep(Duration::from_secs(3600))).unwrap_err();
    let Cause::TimeLimit { limit, waiting } = failure.cause() else {
        panic!("not a time limit: {failure}");
    };
    assert_eq!(*limit, Duration::from_secs(60));
    // The one task, the body, waits since its only poll at t=0.
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0].node, "sim");
    assert_eq!(waiting[0].since.as_nanos(), 0);
    assert_eq!(failure.details().time.as_nanos(), 60_000_000_000);
}

#[test]
fn bad_configuration_is_an_error() {
    // Zero limits and unknown log levels are rejected at build time.
    assert!(Sim::builder(Seed::new(1)).steps_max(0).build().is_err());
    assert!(
        Sim::builder(Seed::new(1))
            .time_limit(Duration::ZERO)
            .build()
            .is_err()
    );
    let err = Sim::builder(Seed::new(1)).console("loud").unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid configuration: log level \"loud\" is not one of off, error, warn, info, debug, trace"
    );
}

#[test]
fn calling_a_sim_api_outside_a_simulation_says_what_to_do() {
    // Outside a world, ambient APIs panic with an actionable message, and try_* variants return None.
    let message_of =
        |payload: Box<dyn std::any::Any + Send>| payload.downcast_ref::<String>().unwrap().clone();
    let spawn = std::panic::catch_unwind(|| detsim::spawn(async {})).unwrap_err();
    assert!(
        message_of(spawn).starts_with("detsim: `detsim::spawn` was called outside a simulation; call it from a future driven by `Sim::run`"),
    );
    let now = std::panic::catch_unwind(detsim::time::now).unwrap_err();
    assert!(message_of(now).contains("`detsim::time::now` was called outside a simulation"));
    // A sleep can be built outside (it is the body of a run) but not awaited there.
    let poll = std::panic::catch_unwind(|| {
        futures::executor::block_on(detsim::time::sleep(Duration::from_secs(1)))
    })
    .unwrap_err();
    assert!(message_of(poll).contains("`detsim::time::sleep` was called outside a simulation"));
    assert!(detsim::time::try_now().is_none());
    assert!(detsim::SimHandle::try_current().is_none());
}

#[test]
fn a_waker_fired_from_another_thread_is_a_determinism_leak() {
    // A task woken by an OS thread fails the run, naming the leak.
    let mut sim = Sim::new(Seed::new(6));
    let failure = sim
        .run(wake_from_a_thread(Some(Duration::from_secs(1))))
        .unwrap_err();
    let Cause::DeterminismLeak { detail } = failure.cause() else {
        panic!("expected a leak, got {:?}", failure.cause())
    };
    assert!(
        detail.contains("not the thread running the simulation"),
        "{detail}"
    );
    // Noticed before virtual time moves on: the run fails at the instant
    // the wake came in, not a second later.
    assert_eq!(failure.details().time.as_nanos(), 0, "{failure}");
}

#[test]
fn a_leak_fails_a_run_that_ends_before_time_moves_on() {
    let mut sim = Sim::builder(Seed::new(6)).quiet().build().unwrap();
    let failure = sim.run(wake_from_a_thread(None)).unwrap_err();
    assert!(
        matches!(failure.cause(), Cause::DeterminismLeak { .. }),
        "{failure}"
    );
}

/// A test body that wakes one of its tasks from an OS thread (a determinism
/// leak), then sleeps `then` of virtual time and joins the task; with no
/// `then`, it ends at once, at the instant of the wake.
async fn wake_from_a_thread(then: Option<Duration>) {
    let (tx, rx) = futures::channel::oneshot::channel::<u32>();
    let waiter = detsim::spawn(async move {
        let _ = rx.await;
    });
    // Let the waiter register its waker with the channel, then wake it from an OS thread.
    detsim::yield_now().await;
    #[allow(clippy::disallowed_methods)]
    let thread = std::thread::spawn(move || tx.send(1).unwrap());
    thread.join().unwrap();
    if let Some(then) = then {
        time::sleep(then).await;
        let _ = waiter.await;
    }
}

#[test]
fn a_leak_in_one_world_does_not_fail_the_next_world_on_the_thread() {
    // The next world on a thread may take over the last world's state shared
    // with wakers: it starts with no leak and no pending wakes, and traces
    // like the same world made first on a fresh thread.
    fn leaky() -> Cause {
        let mut sim = Sim::builder(Seed::new(6)).quiet().build().unwrap();
        sim.run(wake_from_a_thread(Some(Duration::from_secs(1))))
            .unwrap_err()
            .cause()
            .clone()
    }
    fn clean() -> detsim::Fingerprint {
        let mut sim = Sim::builder(Seed::new(6)).quiet().build().unwrap();
        sim.run(async {
            let waiter = detsim::spawn(async { time::sleep(Duration::from_millis(3)).await });
            detsim::yield_now().await;
            waiter.await.unwrap();
        })
        .expect("no leak in this world")
        .trace
        .fingerprint
    }
    let alone = std::thread::scope(|s| s.spawn(clean).join().unwrap());
    for _ in 0..3 {
        assert!(matches!(leaky(), Cause::DeterminismLeak { .. }));
        assert_eq!(clean(), alone);
    }
}
