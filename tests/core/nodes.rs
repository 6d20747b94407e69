//! Nodes: crash, restart, pause, resume, scale-out, local clocks, scheduled faults.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use detsim::{JoinError, NodeEvent, NodeState, Seed, Sim, SimError, time};

use super::Log;

fn ticker(
    log: Log,
    name: &'static str,
) -> impl Fn(detsim::NodeContext) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()>>> {
    move |ctx| {
        let log = log.clone();
        Box::pin(async move {
            log.at(format!("{name} up #{}", ctx.incarnation()));
            loop {
                time::sleep(Duration::from_secs(1)).await;
                log.at(format!("{name} tick"));
            }
        })
    }
}

#[test]
fn crash_drops_every_task_and_restart_reruns_init() {
    // A crash runs destructors, cancels timers and ends join handles; restart starts init afresh.
    struct Guard(Log, &'static str);
    impl Drop for Guard {
        fn drop(&mut self) {
            self.0.at(format!("drop {}", self.1));
        }
    }
    let log = Log::default();
    let mut sim = Sim::new(Seed::new(1));
    let l = log.clone();
    let n1 = sim
        .add_node("n1", move |ctx| {
            let l = l.clone();
            async move {
                l.at(format!("n1 up #{}", ctx.incarnation()));
                let l2 = l.clone();
                ctx.spawn(async move {
                    let _g = Guard(l2.clone(), "child");
                    time::sleep(Duration::from_secs(100)).await;
                    l2.at("child woke (must not happen)");
                });
                let _g = Guard(l.clone(), "init");
                time::sleep(Duration::from_secs(100)).await;
            }
        })
        .unwrap();
    let l = log.clone();
    let report = sim
        .run(async move {
            time::sleep(Duration::from_secs(1)).await;
            let h = detsim::handle();
            let child = h
                .spawn_on(n1, time::sleep(Duration::from_secs(50)))
                .unwrap();
            h.crash(n1).unwrap();
            assert_eq!(h.node_state(n1).unwrap(), NodeState::Crashed);
            assert!(matches!(child.await, Err(JoinError::Crashed(_, ref n)) if n == "n1"));
            l.at("crashed");
            time::sleep(Duration::from_secs(1)).await;
            h.restart(n1).unwrap();
            time::sleep(Duration::from_secs(1)).await;
            assert_eq!(h.incarnation(n1).unwrap(), 1);
        })
        .unwrap();
    assert_eq!(
        log.take(),
        [
            "0ms n1 up #0",
            "1000ms drop init",
            "1000ms drop child",
            "1000ms crashed",
            "2000ms n1 up #1"
        ]
    );
    // The crashed tasks' 100 s timers were cancelled: the run ended at 3 s.
    assert_eq!(report.elapsed.as_nanos(), 3_000_000_000);
}

#[test]
fn pause_freezes_a_node_and_resume_continues_in_order() {
    // While paused nothing of the node runs; on resume the overdue tick fires once, then the schedule continues.
    let log = Log::default();
    let mut sim = Sim::new(Seed::new(1));
    sim.add_node("n1", ticker(log.clone(), "n1")).unwrap();
    sim.run(async {
        let h = detsim::handle();
        time::sleep(Duration::from_millis(1500)).await;
        h.pause("n1").unwrap();
        time::sleep(Duration::from_secs(3)).await;
        h.resume("n1").unwrap();
        time::sleep(Duration::from_millis(1200)).await;
    })
    .unwrap();
    assert_eq!(
        log.take(),
        [
            "0ms n1 up #0",
            "1000ms n1 tick",
            "4500ms n1 tick",
            "5500ms n1 tick"
        ]
    );
}

#[test]
fn lifecycle_misuse_is_a_clear_error() {
    // Unknown names, double crashes, restarting a running node and bad names are errors, not panics.
    let mut sim = Sim::new(Seed::new(1));
    sim.add_node("n1", |_| async {}).unwrap();
    assert_eq!(
        sim.crash("nope").unwrap_err().to_string(),
        "unknown node \"nope\""
    );
    assert_eq!(
        sim.restart("n1").unwrap_err().to_string(),
        "cannot restart node \"n1\": it is Running"
    );
    sim.crash("n1").unwrap();
    assert!(matches!(sim.crash("n1"), Err(SimError::NodeState { .. })));
    assert!(matches!(
        sim.add_node("n1", |_| async {}),
        Err(SimError::DuplicateNode(_))
    ));
    assert!(matches!(
        sim.add_node("a b", |_| async {}),
        Err(SimError::InvalidNodeName { .. })
    ));
    assert!(matches!(
        sim.add_node("sim", |_| async {}),
        Err(SimError::InvalidNodeName { .. })
    ));
    assert!(matches!(
        sim.add_node("", |_| async {}),
        Err(SimError::InvalidNodeName { .. })
    ));
}

#[test]
fn nodes_can_be_added_while_the_world_runs() {
    // Scale-out: a node added at t=2s starts at once and runs alongside the first.
    let log = Log::default();
    let mut sim = Sim::new(Seed::new(1));
    sim.add_node("n1", ticker(log.clone(), "n1")).unwrap();
    let l = log.clone();
    sim.run(async move {
        time::sleep(Duration::from_millis(2500)).await;
        detsim::handle().add_node("n2", ticker(l, "n2")).unwrap();
        time::sleep(Duration::from_millis(1100)).await;
    })
    .unwrap();
    assert_eq!(
        log.take(),
        [
            "0ms n1 up #0",
            "1000ms n1 tick",
            "2000ms n1 tick",
            "2500ms n2 up #0",
            "3000ms n1 tick",
            "3500ms n2 tick"
        ]
    );
}

#[test]
fn faults_can_be_scheduled_from_outside_the_node() {
    // schedule() runs a crash and a restart at exact virtual times.
    let log = Log::default();
    let mut sim = Sim::new(Seed::new(1));
    sim.add_node("n1", ticker(log.clone(), "n1")).unwrap();
    sim.run(async {
        let h = detsim::handle();
        h.schedule(time::Instant::from_nanos(1_500_000_000), |h| {
            h.crash("n1").unwrap()
        });
        h.schedule(time::Instant::from_nanos(3_000_000_000), |h| {
            h.restart("n1").unwrap()
        });
        time::sleep(Duration::from_millis(4500)).await;
    })
    .unwrap();
    assert_eq!(
        log.take(),
        [
            "0ms n1 up #0",
            "1000ms n1 tick",
            "3000ms n1 up #1",
            "4000ms n1 tick"
        ]
    );
}

#[test]
fn local_clocks_skew_and_drift_while_true_time_stays_monotonic() {
    // A node's monotonic clock drifts but never jumps, and its sleeps follow
    // it; its wall clock drifts and jumps; true time is unaffected.
    let mut sim = Sim::new(Seed::new(1));
    let readings = Rc::new(std::cell::RefCell::new(Vec::new()));
    let r = readings.clone();
    sim.add_node("n1", move |_| {
        let r = r.clone();
        async move {
            loop {
                // 1 s of local time.
                time::sleep(Duration::from_secs(1)).await;
                let wall = time::system_now()
                    .duration_since(std::time::UNIX_EPOCH + time::WALL_CLOCK_START)
                    .unwrap();
                r.borrow_mut().push((
                    time::now().as_nanos() / 1_000_000,
                    wall.as_millis() as u64,
                    detsim::handle().now().as_nanos() / 1_000_000,
                ));
            }
        }
    })
    .unwrap();
    sim.run(async {
        let h = detsim::handle();
        time::sleep(Duration::from_millis(1500)).await;
        h.clock_jump("n1", 10_000_000_000).unwrap(); // +10 s
        h.clock_drift("n1", 1_000_000 / 4).unwrap(); // 25% fast
        time::sleep(Duration::from_secs(3)).await;
        assert!(matches!(
            h.clock_drift("n1", -2_000_000),
            Err(SimError::InvalidConfig(_))
        ));
    })
    .unwrap();
    // (monotonic ms, wall ms, true ms): before the jump all agree; the jump
    // moves only the wall clock (+10 s); the sleep started at t=1 s keeps its
    // true deadline (2 s), then sleeps last 800 ms of true time at 1.25x.
    assert_eq!(
        *readings.borrow(),
        [
            (1000, 1000, 1000),
            (2125, 12125, 2000),
            (3125, 13125, 2800),
            (4125, 14125, 3600),
            (5125, 15125, 4400)
        ]
    );
}

#[test]
fn extensions_hear_every_lifecycle_event() {
    // Hooks receive Added, Crash, Restart, Pause and Resume, in order.
    #[derive(Default)]
    struct Hooks(std::cell::RefCell<Vec<(String, NodeEvent)>>);
    impl detsim::Extension for Hooks {
        fn on_node_event(&self, node: detsim::NodeId, event: NodeEvent) {
            let name = detsim::handle().node_name(node).unwrap();
            self.0.borrow_mut().push((name, event));
        }
    }
    let mut sim = Sim::new(Seed::new(1));
    let hooks = Rc::new(Hooks::default());
    sim.install(hooks.clone()).unwrap();
    assert!(
        sim.install(Rc::new(Hooks::default())).is_err(),
        "one per type"
    );
    sim.add_node("n1", |_| async {}).unwrap();
    let ran = Rc::new(Cell::new(false));
    let r = ran.clone();
    sim.run(async move {
        let h = detsim::handle();
        h.pause("n1").unwrap();
        h.resume("n1").unwrap();
        h.crash("n1").unwrap();
        h.restart("n1").unwrap();
        r.set(true);
    })
    .unwrap();
    assert!(ran.get());
    let events: Vec<NodeEvent> = hooks.0.borrow().iter().map(|(_, e)| *e).collect();
    assert_eq!(
        events,
        [
            NodeEvent::Added,
            NodeEvent::Pause,
            NodeEvent::Resume,
            NodeEvent::Crash,
            NodeEvent::Restart
        ]
    );
}

#[test]
fn successive_worlds_on_a_thread_name_their_nodes_their_own_way() {
    // A world made after another on the same thread may share the last
    // world's node names: each still sees its own names, in its own order,
    // and traces exactly like the same world made first on a fresh thread.
    fn world(names: &[&str]) -> (Vec<String>, detsim::Trace) {
        let mut sim = Sim::builder(Seed::new(5))
            .trace(detsim::TraceMode::Record { events_max: 1000 })
            .quiet()
            .build()
            .unwrap();
        for name in names {
            sim.add_node(name, |_| async {
                let ms = detsim::random::with(|rng| rng.below(10));
                time::sleep(Duration::from_millis(ms)).await;
            })
            .unwrap();
        }
        let seen = sim.enter(|h| {
            h.nodes()
                .into_iter()
                .map(|n| h.node_name(n).unwrap())
                .collect()
        });
        let report = sim.run_for(Duration::from_millis(20)).unwrap();
        (seen, report.trace)
    }
    let orders: [&[&str]; 4] = [&["a", "b"], &["b", "a"], &["a", "bb", "c"], &["a"]];
    let alone: Vec<_> = orders
        .iter()
        .map(|names| std::thread::scope(|s| s.spawn(|| world(names)).join().unwrap()))
        .collect();
    for (names, (seen, trace)) in orders.iter().zip(&alone) {
        assert_eq!(seen, names);
        assert_eq!(&trace.node_names, seen);
    }
    for _ in 0..2 {
        for (names, (seen, trace)) in orders.iter().zip(&alone) {
            let (again, again_trace) = world(names);
            assert_eq!(&again, seen);
            assert_eq!(again_trace.fingerprint, trace.fingerprint);
            assert_eq!(again_trace.events, trace.events);
        }
    }
}

#[test]
fn nodes_with_stateless_inits_each_start_their_own_tasks_in_every_world() {
    // Inits that capture nothing may be shared between nodes and between
    // the worlds of a thread: each node still runs its own init at start
    // and at every restart (also one that restarts its own node), an init
    // with state keeps its own, and each world traces like the same world
    // made first on a fresh thread.
    fn world(seed: u64) -> (Vec<String>, detsim::Fingerprint) {
        let mut sim = Sim::builder(Seed::new(seed))
            .trace(detsim::TraceMode::Record { events_max: 1000 })
            .quiet()
            .build()
            .unwrap();
        let starts = Rc::new(Cell::new(0u32));
        let counted = starts.clone();
        for name in ["a", "b"] {
            sim.add_node(name, |ctx| async move {
                let ms = detsim::random::with(|rng| rng.below(5)) + 1;
                time::sleep(Duration::from_millis(ms)).await;
                tracing::info!("{} up #{}", ctx.name(), ctx.incarnation());
            })
            .unwrap();
        }
        // Restarts itself once from inside its init.
        sim.add_node("c", |ctx| {
            if ctx.incarnation() == 0 {
                let h = ctx.sim();
                let me = ctx.id().unwrap();
                h.crash(me).unwrap();
                h.restart(me).unwrap();
            }
            async move { tracing::info!("c up #{}", ctx.incarnation()) }
        })
        .unwrap();
        sim.add_node("d", move |_| {
            counted.set(counted.get() + 1);
            async {}
        })
        .unwrap();
        let report = sim
            .run(async {
                time::sleep(Duration::from_millis(10)).await;
                let h = detsim::handle();
                for name in ["a", "d"] {
                    h.crash(name).unwrap();
                    h.restart(name).unwrap();
                }
                time::sleep(Duration::from_millis(10)).await;
            })
            .unwrap();
        assert_eq!(starts.get(), 2);
        let logs = report
            .trace
            .events
            .iter()
            .filter_map(|e| match &e.kind {
                detsim::EventKind::Log { message, .. } => Some(message.clone()),
                _ => None,
            })
            .collect();
        (logs, report.trace.fingerprint)
    }
    let alone: Vec<_> = (1..=3)
        .map(|seed| std::thread::scope(|s| s.spawn(move || world(seed)).join().unwrap()))
        .collect();
    for (logs, _) in &alone {
        let mut sorted = logs.clone();
        sorted.sort();
        // The init that restarted its own node spawned both futures: the
        // restart's and its own, each on incarnation 1 by the time it runs.
        assert_eq!(
            sorted,
            ["a up #0", "a up #1", "b up #0", "c up #1", "c up #1"],
            "{logs:?}"
        );
    }
    for _ in 0..2 {
        for (seed, expected) in (1..=3).zip(&alone) {
            assert_eq!(&world(seed), expected);
        }
    }
}
