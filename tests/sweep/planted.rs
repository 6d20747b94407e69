//! A primary–backup store with a planted bug that needs two specific faults:
//! a replica that restarts does not catch up (no state transfer), and reads
//! fail over to the first replica without checking it is current. Only a
//! crash of `r1` followed by a crash of the primary `p` shows a stale read.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use detsim::{Case, Failure, Nemesis, NemesisKind, Report, Topology, always, time};

/// The state every node shares (the "network" here is memory: the test is
/// about faults of processes).
#[derive(Default)]
struct Store {
    primary: Cell<u64>,
    r1: Cell<u64>,
    r2: Cell<u64>,
}

pub(crate) fn topology() -> Topology {
    Topology::nodes(["p", "r1", "r2"])
}

/// Crashes and pauses of any node, plus clock noise.
pub(crate) fn nemesis() -> Nemesis {
    Nemesis::default()
        .kinds(&[
            NemesisKind::Crash,
            NemesisKind::Pause,
            NemesisKind::ClockJump,
        ])
        .window(Duration::from_secs(1), Duration::from_secs(20))
        .interval(Duration::from_millis(1500))
        .durations(Duration::from_millis(600), Duration::from_secs(2))
        .max_down(1)
}

/// How the harness reports a stale read.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Check {
    /// `always!` with a literal name.
    Always,
    /// `always!` with format arguments (the values read).
    AlwaysFormatted,
    /// `SimHandle::fail_with` with a title and details full of numbers.
    FailWith,
    /// A plain `assert!` whose panic message carries the values.
    Panic,
}

/// One run of the store under the case's plan.
pub(crate) fn run(case: &Case) -> Result<Report<()>, Failure> {
    run_with(case, Check::Always)
}

/// One run of the store under the case's plan, reporting a stale read as `check` says.
pub(crate) fn run_with(case: &Case, check: Check) -> Result<Report<()>, Failure> {
    let mut sim = case.builder().build().expect("valid configuration");
    let store = Rc::new(Store::default());
    let s = store.clone();
    sim.add_node("p", move |_| {
        let s = s.clone();
        async move {
            // The primary's state survives restarts (think: it is on disk).
            loop {
                time::sleep(Duration::from_millis(50)).await;
                // Every write increments; replicas apply the same increment
                // (a paused replica still gets it, as a queue would deliver it).
                s.primary.set(s.primary.get() + 1);
                let h = detsim::handle();
                if h.node_state("r1") != Ok(detsim::NodeState::Crashed) {
                    s.r1.set(s.r1.get() + 1);
                }
                if h.node_state("r2") != Ok(detsim::NodeState::Crashed) {
                    s.r2.set(s.r2.get() + 1);
                }
            }
        }
    })
    .unwrap();
    for name in ["r1", "r2"] {
        let s = store.clone();
        sim.add_node(name, move |ctx| {
            let s = s.clone();
            async move {
                if ctx.incarnation() > 0 {
                    // PLANTED BUG: a restarted replica starts empty and never
                    // fetches what it missed.
                    match name {
                        "r1" => s.r1.set(0),
                        _ => s.r2.set(0),
                    }
                }
                std::future::pending::<()>().await
            }
        })
        .unwrap();
    }
    let plan = case.plan(|| nemesis().plan(case.seed(), &topology()));
    sim.apply_plan(plan).expect("a generated plan is valid");
    let s = store.clone();
    sim.run(async move {
        let h = detsim::handle();
        let mut seen = 0;
        for _ in 0..500 {
            time::sleep(Duration::from_millis(50)).await;
            let read = if h.node_state("p") == Ok(detsim::NodeState::Running) {
                s.primary.get()
            } else if h.node_state("r1") == Ok(detsim::NodeState::Running) {
                // PLANTED BUG: fail over to r1 without asking whether it is current.
                s.r1.get()
            } else {
                s.r2.get()
            };
            match check {
                Check::Always => always!(read >= seen, "reads never go back in time"),
                Check::AlwaysFormatted => always!(
                    read >= seen,
                    "reads never go back in time: read {} after {}",
                    read,
                    seen
                ),
                Check::FailWith if read < seen => h.fail_with(
                    "reads never go back in time",
                    format!("read {read} after {seen} at t={}", time::now()),
                ),
                Check::FailWith => {}
                Check::Panic => assert!(read >= seen, "read {read} after {seen}"),
            }
            seen = seen.max(read);
        }
    })
}
