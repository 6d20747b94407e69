//! A lease service written the way third-party code often is: election
//! timeouts from `rand::rng()` (a thread-local generator the OS seeds), peers
//! kept in a std `HashMap` (whose iteration order the OS seeds), and how long
//! an election took measured with `std::time::Instant::now()`.
//!
//! The planted bug: a node that restarts after a crash trusts what it wrote
//! to its disk before the crash ("I hold the lease") instead of looking at
//! the lease; if another node took the lease while it was down, two nodes
//! believe they hold it.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::rc::Rc;
use std::time::Duration;

use detsim::{
    Case, Failure, Nemesis, NemesisKind, NodeContext, NodeState, Report, Topology, always, time,
};
use rand::Rng;

const NODES: [&str; 3] = ["n1", "n2", "n3"];
/// A lease lasts this long unless renewed.
const LEASE: Duration = Duration::from_millis(300);

/// The lease: who holds it and until when.
#[derive(Default)]
struct Lease {
    holder: Option<String>,
    expires: Option<time::Instant>,
}

/// What the nodes share: the lease (the "network" is memory), what each
/// node believes (lost in a crash), and what each wrote to its disk (kept).
#[derive(Default)]
struct World {
    lease: RefCell<Lease>,
    believes: RefCell<BTreeMap<String, bool>>,
    on_disk: RefCell<BTreeSet<String>>,
}

impl World {
    /// The running nodes that believe they hold the lease.
    fn holders(&self) -> Vec<String> {
        let handle = detsim::handle();
        self.believes
            .borrow()
            .iter()
            .filter(|(name, held)| {
                **held && handle.node_state(name.as_str()) == Ok(NodeState::Running)
            })
            .map(|(name, _)| name.clone())
            .collect()
    }
}

pub(crate) fn topology() -> Topology {
    Topology::nodes(NODES)
}

/// Crashes only: the bug needs a holder to crash and come back late.
pub(crate) fn nemesis() -> Nemesis {
    Nemesis::default()
        .kinds(&[NemesisKind::Crash])
        .window(Duration::from_millis(500), Duration::from_secs(8))
        .interval(Duration::from_millis(900))
        .durations(Duration::from_millis(200), Duration::from_millis(1500))
        .max_down(1)
}

/// Options of one run.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Options {
    /// Plant the bug.
    pub(crate) bug: bool,
    /// Intercept OS entropy and clocks (as the `intercept` feature does by default).
    pub(crate) intercept: bool,
}

/// One run of the lease service under the case's plan.
pub(crate) fn run(case: &Case, options: Options) -> Result<Report<()>, Failure> {
    let mut sim = case
        .builder()
        .intercept_os(options.intercept)
        .build()
        .expect("valid configuration");
    let world = Rc::new(World::default());
    for name in NODES {
        let world = world.clone();
        sim.add_node(name, move |ctx| node(ctx, world.clone(), options.bug))
            .expect("unique names");
    }
    let plan = case.plan(|| nemesis().plan(case.seed(), &topology()));
    sim.apply_plan(plan).expect("a valid plan");
    let w = world.clone();
    sim.run(async move {
        for _ in 0..100 {
            time::sleep(Duration::from_millis(100)).await;
            let holders = w.holders();
            always!(
                holders.len() <= 1,
                "at most one node believes it holds the lease ({:?} do)",
                holders
            );
        }
    })
}

async fn node(ctx: NodeContext, world: Rc<World>, bug: bool) {
    let me = ctx.name();
    // Peers in a std HashMap: the order of the greetings below is the
    // map's iteration order, which the OS seeds.
    let peers: HashMap<String, u64> = NODES
        .iter()
        .filter(|p| **p != me)
        .map(|p| ((*p).to_owned(), 0))
        .collect();
    for peer in peers.keys() {
        tracing::info!(%peer, "hello");
    }
    // The bug: trust the disk's "I hold the lease" after a restart.
    let started = std::time::Instant::now();
    let stale = bug && world.on_disk.borrow().contains(&me);
    world.believes.borrow_mut().insert(me.clone(), stale);
    loop {
        // Election timeout from a thread-local generator, as `raft-rs` does.
        let timeout = rand::rng().random_range(50..150);
        time::sleep(Duration::from_millis(timeout)).await;
        let now = time::now();
        let mut lease = world.lease.borrow_mut();
        let mine = lease.holder.as_deref() == Some(me.as_str());
        if mine || lease.expires.is_none_or(|e| now >= e) {
            if !mine {
                let after_ms = started.elapsed().as_millis() as u64;
                tracing::info!(after_ms, "took the lease");
                lease.holder = Some(me.clone());
            }
            lease.expires = Some(now.saturating_add(LEASE));
            world.believes.borrow_mut().insert(me.clone(), true);
            world.on_disk.borrow_mut().insert(me.clone());
        } else if !stale {
            world.believes.borrow_mut().insert(me.clone(), false);
        }
    }
}
