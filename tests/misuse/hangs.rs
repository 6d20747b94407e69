//! Tasks that never yield, zero sleeps, nested simulations, deadlocks hidden by
//! a ticking node, a node that crashes itself: bounded, reported, never a hang.

use std::cell::Cell;
use std::process::{Command, Output, Stdio};
use std::rc::Rc;
use std::time::Duration;

use detsim::{Cause, INSTANT_STEPS_MAX, Seed, Sim, time, yield_now};

/// Runs `misuse-child <scenario>` with `env`, killing it after `bound` of
/// wall time (the test then fails: the child hung past its watchdog).
fn child(scenario: &str, env: &[(&str, &str)], bound: Duration) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_misuse-child"));
    command
        .arg(scenario)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, value) in env {
        command.env(name, value);
    }
    let mut process = command.spawn().expect("misuse-child starts");
    #[allow(clippy::disallowed_methods)] // A wall-clock bound on a child process.
    let started = std::time::Instant::now();
    loop {
        if process.try_wait().expect("wait on misuse-child").is_some() {
            return process.wait_with_output().expect("misuse-child output");
        }
        if started.elapsed() > bound {
            let _ = process.kill();
            let output = process.wait_with_output().expect("misuse-child output");
            panic!(
                "misuse-child {scenario} still ran after {bound:?}: stderr:\n{}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_task_that_never_yields_is_ended_by_the_watchdog_naming_seed_node_task_and_replay() {
    // Proves `loop {}` in a node's task does not hang: after its one-second
    // limit the watchdog prints what was stuck and ends the process.
    let output = child("spin", &[], Duration::from_secs(60));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(101), "{stderr}");
    assert!(stderr.contains("simulation hung"), "{stderr}");
    assert!(stderr.contains("seed:   0x000000000000002a"), "{stderr}");
    assert!(stderr.contains("time:   t=1.500000s"), "{stderr}");
    assert!(stderr.contains("node:   n1"), "{stderr}");
    assert!(
        stderr.contains("has been in one poll for") && stderr.contains("misuse/child.rs:"),
        "the task and where it was spawned: {stderr}"
    );
    assert!(
        stderr.contains("replay: SIM_SEED=0x000000000000002a misuse-child spin"),
        "{stderr}"
    );
    assert!(!String::from_utf8_lossy(&output.stdout).contains("unreachable"));
}

#[test]
fn a_hang_inside_a_sweep_names_the_seed_that_hung() {
    // Proves the watchdog watches sweep workers too (limit from
    // SIM_WATCHDOG) and names the hung seed with the sweep's replay line.
    let output = child(
        "spin-in-sweep",
        &[("SIM_WATCHDOG", "1s")],
        Duration::from_secs(60),
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(101), "{stderr}");
    assert!(stderr.contains("seed:   0x0000000000000003"), "{stderr}");
    assert!(stderr.contains("node:   worker"), "{stderr}");
    assert!(
        stderr.contains("replay: SIM_SEED=0x0000000000000003 misuse-child spin-in-sweep"),
        "{stderr}"
    );
}

#[test]
fn the_watchdog_leaves_a_long_run_of_short_steps_alone() {
    // Proves the limit is per step, not per run: a run that takes seconds,
    // each step a fraction of the 100 ms limit, finishes.
    let output = child("long-but-moving", &[], Duration::from_secs(120));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.starts_with("finished: "), "{stdout}");
}

#[test]
fn a_bad_watchdog_limit_is_a_configuration_error() {
    // Proves a zero limit is refused rather than firing at once.
    let error = Sim::builder(Seed::new(1))
        .watchdog(Some(Duration::ZERO))
        .build()
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid configuration: the watchdog limit must be above zero (or None for no watchdog)"
    );
}

/// The livelock failure of `sim`'s run of a yielding loop on node `n1`.
fn livelock_of(
    body: impl Fn() -> std::pin::Pin<Box<dyn std::future::Future<Output = ()>>> + 'static,
) -> detsim::Failure {
    let mut sim = Sim::builder(Seed::new(9))
        .instant_steps_max(50_000)
        .build()
        .unwrap();
    sim.add_node("n1", move |_| body()).unwrap();
    sim.run(time::sleep(Duration::from_secs(1))).unwrap_err()
}

#[test]
fn a_loop_of_zero_sleeps_is_a_livelock_not_a_hang() {
    // Proves a zero sleep yields (it used to return at once, so the loop
    // never left its poll) and the loop is reported at the instant it spins.
    let failure = livelock_of(|| {
        Box::pin(async {
            time::sleep(Duration::from_millis(250)).await;
            loop {
                time::sleep(Duration::ZERO).await;
            }
        })
    });
    let Cause::Livelock {
        instant_steps_max,
        last,
    } = failure.cause()
    else {
        panic!("not a livelock: {failure}");
    };
    assert_eq!(*instant_steps_max, 50_000);
    let last = last.as_ref().expect("the task polled last");
    assert_eq!(last.node, "n1");
    assert!(last.spawned_at.contains("misuse/hangs.rs"), "{last}");
    assert_eq!(failure.details().time.as_nanos(), 250_000_000);
    assert_eq!(failure.details().node, None);
    let text = failure.to_string();
    assert!(
        text.contains("livelock: more than 50000 steps at one virtual instant"),
        "{text}"
    );
    assert!(text.contains("the task the limit stopped: task"), "{text}");
}

#[test]
fn a_yield_loop_is_reported_by_the_default_instant_limit() {
    // Proves the default guard is the one that fires (not the 100 M step
    // limit): a million steps at one instant, reported at that instant.
    let mut sim = Sim::new(Seed::new(3));
    sim.add_node("n1", |_| async {
        loop {
            yield_now().await;
        }
    })
    .unwrap();
    let failure = sim.run(time::sleep(Duration::from_secs(1))).unwrap_err();
    assert!(
        matches!(failure.cause(), Cause::Livelock { instant_steps_max, .. } if *instant_steps_max == INSTANT_STEPS_MAX),
        "{failure}"
    );
    assert_eq!(failure.details().time.as_nanos(), 0);
    // The node's init ran, then exactly the limit's steps at t=0, plus the one over it.
    assert_eq!(failure.details().steps, INSTANT_STEPS_MAX + 1);
}

#[test]
fn a_sleep_already_over_yields_once_to_the_other_ready_tasks() {
    // Proves the order: a zero sleep lets a task that became ready after it
    // run first, then completes, without time passing.
    let order = Rc::new(std::cell::RefCell::new(Vec::new()));
    let mut sim = Sim::new(Seed::new(1));
    let (a, b) = (order.clone(), order.clone());
    let report = sim
        .run(async move {
            let other = detsim::spawn(async move { b.borrow_mut().push("other") });
            a.borrow_mut().push("before");
            time::sleep(Duration::ZERO).await;
            a.borrow_mut().push("after");
            other.await.unwrap();
        })
        .unwrap();
    assert_eq!(*order.borrow(), ["before", "other", "after"]);
    assert_eq!(report.elapsed.as_nanos(), 0);
}

#[test]
fn a_deadlock_behind_a_ticking_node_lists_the_waiting_tasks_at_the_time_limit() {
    // Proves the time-limit report names the task that waits forever (on a
    // channel nobody sends to) first, while a heartbeat keeps time moving.
    let mut sim = Sim::builder(Seed::new(4))
        .time_limit(Duration::from_secs(600))
        .build()
        .unwrap();
    sim.add_node("ticker", |_| async {
        loop {
            time::sleep(Duration::from_secs(1)).await;
        }
    })
    .unwrap();
    sim.add_node("stuck", |_| async {
        time::sleep(Duration::from_millis(1500)).await;
        let (_tx, rx) = futures::channel::oneshot::channel::<()>();
        let _ = rx.await;
    })
    .unwrap();
    let failure = sim.run(std::future::pending::<()>()).unwrap_err();
    let Cause::TimeLimit { limit, waiting } = failure.cause() else {
        panic!("not a time limit: {failure}");
    };
    assert_eq!(*limit, Duration::from_secs(600));
    // The body (polled once at t=0) and the stuck node (last polled at
    // 1.5 s) waited longest; the ticker last ran at the limit itself.
    let summary: Vec<(String, u64)> = waiting
        .iter()
        .map(|t| (t.node.clone(), t.since.as_nanos()))
        .collect();
    assert_eq!(
        summary,
        [
            ("sim".to_owned(), 0),
            ("stuck".to_owned(), 1_500_000_000),
            ("ticker".to_owned(), 600_000_000_000),
        ]
    );
    let text = failure.to_string();
    assert!(
        text.contains("the tasks that waited longest") && text.contains("on stuck (spawned at"),
        "{text}"
    );
}

#[test]
fn a_node_that_crashes_itself_stops_at_once() {
    // Proves nothing of the task runs after its own crash (it used to run
    // on until its next `.await`), its destructors run, and the node is crashed.
    struct Guard(Rc<Cell<bool>>);
    impl Drop for Guard {
        fn drop(&mut self) {
            self.0.set(true);
        }
    }
    let after = Rc::new(Cell::new(false));
    let dropped = Rc::new(Cell::new(false));
    let mut sim = Sim::new(Seed::new(2));
    let (a, d) = (after.clone(), dropped.clone());
    let node = sim
        .add_node("n1", move |ctx| {
            let (a, d) = (a.clone(), d.clone());
            async move {
                let _guard = Guard(d);
                time::sleep(Duration::from_secs(1)).await;
                let me = ctx.id().expect("a node's task");
                let _ = detsim::handle().crash(me);
                a.set(true);
            }
        })
        .unwrap();
    let report = sim
        .run(async move {
            time::sleep(Duration::from_secs(2)).await;
            detsim::handle().node_state(node).unwrap()
        })
        .unwrap();
    assert_eq!(report.value, detsim::NodeState::Crashed);
    assert!(!after.get(), "the task ran past its own crash");
    assert!(dropped.get(), "the task's destructors did not run");
}

#[test]
fn a_simulation_run_inside_another_is_a_clear_failure_not_an_abort() {
    // Proves the nested world's panic reaches the outer world's report with
    // its message (the inner Sim's drop used to panic again and abort).
    let mut outer = Sim::new(Seed::new(5));
    let failure = outer
        .run(async {
            let mut inner = Sim::new(Seed::new(6));
            let _ = inner.run(async {});
        })
        .unwrap_err();
    let text = failure.to_string();
    assert!(
        text.contains("`Sim::run` was called inside another simulation (seed 0x0000000000000006)")
            && text.contains("worlds cannot be nested"),
        "{text}"
    );
    assert!(text.contains("seed:   0x0000000000000005"), "{text}");
}

#[test]
fn a_simulation_made_and_dropped_inside_another_is_harmless() {
    // Proves building (not running) a world inside a task is allowed and its
    // drop tears it down without disturbing the running one.
    let mut outer = Sim::new(Seed::new(5));
    let report = outer
        .run(async {
            let inner = Sim::new(Seed::new(6));
            drop(inner);
            time::sleep(Duration::from_millis(5)).await;
            detsim::handle().seed()
        })
        .unwrap();
    assert_eq!(report.value, Seed::new(5));
}
