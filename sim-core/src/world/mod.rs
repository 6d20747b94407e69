//! The world: task slab, ready queue, timers, nodes, randomness and trace of
//! one simulation, and the loop that drives them.
//!
//! One step polls one ready task or fires one due timer. When nothing is ready
//! virtual time jumps to the earliest deadline; when nothing is ready and no
//! timer is pending but the goal is unmet, the run is a deadlock.

mod checks;
mod faults;
mod node;
mod pct;
mod queue;
mod recycle;
mod task;
mod timer;
mod watchdog;

use std::any::{Any, TypeId};
use std::cell::{Cell, OnceCell, RefCell};
use std::collections::BTreeMap;
use std::future::Future;
use std::panic::{AssertUnwindSafe, Location};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Poll, RawWakerVTable, Waker};
use std::thread::ThreadId;
use std::time::Duration;

pub use checks::Coverage;
pub(crate) use checks::Invariant;
pub(crate) use faults::CustomFault;
pub(crate) use node::{InitFn, LocalClock, NodeEntry};
pub use node::{NodeId, NodeState};
pub(crate) use task::DropReason;
pub use task::JoinHandle;
pub(crate) use task::{JoinError, TaskId};
pub(crate) use timer::{Action, TimerKey, Timers};
pub(crate) use watchdog::{
    DEFAULT_LIMIT as WATCHDOG_DEFAULT, env_limit as watchdog_env_limit,
    parse_limit as parse_watchdog_limit,
};

use crate::Seed;
use crate::error::{BlockedTask, Cause, Failure, FailureInner, SimError};
use crate::extension::{Extension, NodeEvent};
use crate::rng::{ForkKeys, Keying, LazyRng, SimRng};
use crate::time::Instant;
use crate::trace::{ConsoleLevel, EventKind, Hot, TraceMode, TraceState};

/// How the world picks among tasks ready at the same instant.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum PollOrder {
    /// In the order they became ready.
    #[default]
    Fifo,
    /// Uniformly at random from the world's `sched` stream, to explore interleavings.
    Random,
    /// Probabilistic concurrency testing (PCT, Burckhardt et al. 2010):
    /// random task priorities from the `sched` stream, the highest-priority
    /// ready task runs, and at `depth - 1` random steps the running task
    /// drops to the lowest priority. Finds an ordering bug that needs
    /// `depth` specific orderings with a known probability.
    Pct {
        /// The bug depth aimed at (1: random priorities, no change points).
        depth: u32,
    },
}

#[derive(Clone, Debug)]
pub(crate) struct Config {
    pub(crate) seed: Seed,
    pub(crate) poll_order: PollOrder,
    pub(crate) steps_max: u64,
    /// The most steps at one virtual instant (a livelock guard).
    pub(crate) instant_steps_max: u64,
    /// Wall time a step may take before the watchdog ends the process (`None`: no watchdog).
    pub(crate) watchdog: Option<Duration>,
    pub(crate) time_limit: Option<Duration>,
    pub(crate) trace: TraceMode,
    pub(crate) replay: Option<String>,
    pub(crate) buggify: bool,
    /// Whether OS entropy and clocks are the world's (feature `intercept`).
    pub(crate) intercept: bool,
    /// Where the run leaves from its parent's future (empty: a plain run).
    pub(crate) forks: crate::Forks,
    /// Where the run leaves its coverage keys (only when a sweep explores).
    pub(crate) coverage_sink: Option<crate::explore::Sink>,
}

static WORLD_IDS: AtomicU64 = AtomicU64::new(1);

thread_local! {
    // `ManuallyDrop`: a thread-local without a destructor is read without
    // checking whether its destructor is registered. Nothing is lost: the
    // slot is empty whenever no `Enter` is alive, and an `Enter` empties it
    // as it drops (unwinding included) before its thread can end.
    static CURRENT: std::mem::ManuallyDrop<RefCell<Option<Rc<World>>>> =
        const { std::mem::ManuallyDrop::new(RefCell::new(None)) };
    static MIRROR: Mirror = const {
        Mirror {
            world: Cell::new(0),
            now: Cell::new(0),
            fast_clocks: Cell::new(false),
            polling: Cell::new(false),
            node: Cell::new(None),
        }
    };
}

/// A copy of what the hottest ambient calls (`sleep`, a fired sleep's poll)
/// read of the current world, in a thread-local without a destructor: read
/// in a few instructions, where looking the world up costs a few dozen.
/// The world keeps it equal to its own state: entering and leaving set it,
/// and the world updates it as its time moves, as its clocks leave the
/// identity fast path, and around each task poll.
pub(crate) struct Mirror {
    /// The current world's id (0: none).
    world: Cell<u64>,
    /// Its true time, in nanoseconds.
    now: Cell<u64>,
    /// Whether its nodes' monotonic clocks all read true time.
    fast_clocks: Cell<bool>,
    /// Whether the executor is polling one of its tasks (from the step
    /// loop: every timer due by now has fired).
    polling: Cell<bool>,
    /// Its current node (see [`World::current_node`]).
    node: Cell<Option<NodeId>>,
}

/// Whether the executor is polling a task on this thread (from the mirror).
#[inline]
pub(crate) fn mirror_polling() -> bool {
    MIRROR.try_with(|m| m.polling.get()).unwrap_or(false)
}

/// The current world's id, if any (from the mirror).
#[inline]
pub(crate) fn mirror_world_id() -> Option<u64> {
    let world = MIRROR.with(|m| m.world.get());
    (world != 0).then_some(world)
}

/// The current world's true time, if `world` is the current world.
#[inline]
pub(crate) fn mirror_now(world: u64) -> Option<Instant> {
    MIRROR.with(|m| (m.world.get() == world).then(|| Instant::from_nanos(m.now.get())))
}

/// The current world's current node, if a world is current (from the mirror).
#[inline]
pub(crate) fn mirror_node() -> Option<Option<NodeId>> {
    MIRROR.with(|m| (m.world.get() != 0).then(|| m.node.get()))
}

/// The mirror's reading: `(world, now, fast_clocks, polling)`.
#[inline]
pub(crate) fn mirror() -> (u64, Instant, bool, bool) {
    MIRROR.with(|m| {
        (
            m.world.get(),
            Instant::from_nanos(m.now.get()),
            m.fast_clocks.get(),
            m.polling.get(),
        )
    })
}

/// Makes the mirror show `world` (or no world).
fn mirror_world(world: Option<&World>) {
    MIRROR.with(|m| match world {
        Some(w) => {
            m.world.set(w.id);
            m.now.set(w.now.get().as_nanos());
            m.fast_clocks.set(w.clocks_identity.get());
            m.polling.set(w.current_task.get().is_some());
            m.node.set(w.current_node.get());
        }
        None => {
            m.world.set(0);
            m.polling.set(false);
            m.node.set(None);
        }
    });
}

/// Runs `f` on the world running on this thread, if any.
#[inline]
pub(crate) fn with_world_opt<R>(f: impl FnOnce(&World) -> R) -> Option<R> {
    let world = current_world()?;
    Some(f(&world))
}

/// The world running on this thread, if any. Not inlined, so that the
/// thread-local is read directly (code inlined into another crate reads it
/// through a call), and `f` above runs without the slot borrowed.
#[inline(never)]
fn current_world() -> Option<Rc<World>> {
    CURRENT.with(|current| current.borrow().clone())
}

/// [`with_world`] with the thread's world slot borrowed while `f` runs:
/// a dozen instructions fewer than cloning the world's `Rc` out, for the
/// hottest ambient calls of this crate (a random draw, a sleep's poll).
/// Not for code inlined into other crates, where the thread-local access
/// grows their code ([`with_world_opt`] keeps it in one function). `f` may
/// run a user's code (a waker's clone or drop, a draw's closure), which
/// cannot replace the slot meanwhile: entering a world from there is refused
/// by [`Enter::new`] with its message, and [`Enter::swap_in`] (a `Sim`
/// dropped there) enters nothing.
#[inline]
#[track_caller]
pub(crate) fn with_world_borrowed<R>(api: &'static str, f: impl FnOnce(&World) -> R) -> R {
    // `try_with`: the smaller call inlines where `with` (and its panic)
    // does not, and a thread-local without a destructor is always there.
    match CURRENT.try_with(|current| current.borrow().as_deref().map(f)) {
        Ok(Some(r)) => r,
        _ => outside(api),
    }
}

/// Runs `f` on the world running on this thread.
///
/// # Panics
///
/// Panics with a message naming `api` and what to do when no world runs here.
#[inline]
#[track_caller]
pub(crate) fn with_world<R>(api: &'static str, f: impl FnOnce(&World) -> R) -> R {
    match with_world_opt(f) {
        Some(r) => r,
        None => outside(api),
    }
}

#[cold]
#[inline(never)]
#[track_caller]
fn outside(api: &'static str) -> ! {
    panic!("{}", crate::error::outside_message(api))
}

/// Which OS clock an intercepted call reads.
#[cfg_attr(not(all(feature = "intercept", target_os = "linux")), allow(dead_code))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OsClock {
    /// `CLOCK_MONOTONIC` and kin: the node's monotonic clock.
    Monotonic,
    /// `CLOCK_REALTIME` and kin: the node's wall clock.
    Wall,
}

/// The world running on this thread, if it intercepts OS calls; never
/// panics (an OS call may come at any moment, even while this thread's
/// world is being torn down).
fn intercepting<R>(f: impl FnOnce(&World) -> R) -> Option<R> {
    CURRENT
        .try_with(|current| {
            let current = current.try_borrow().ok()?;
            let world = current.as_deref()?;
            world.config.intercept.then(|| f(world))
        })
        .ok()
        .flatten()
}

/// An intercepted clock read: `clock` of the current node (true time for
/// the harness) in nanoseconds since its start, or `None` outside a world.
#[cfg_attr(not(all(feature = "intercept", target_os = "linux")), allow(dead_code))]
pub(crate) fn os_clock_nanos(clock: OsClock) -> Option<i128> {
    intercepting(|w| {
        let now = w.now.get();
        let Some(node) = w.current_node() else {
            return i128::from(now.as_nanos());
        };
        match w.nodes.try_borrow() {
            Ok(nodes) => {
                let clock_of = &nodes[node.index()].clock;
                match clock {
                    OsClock::Monotonic => clock_of.local_nanos(now),
                    OsClock::Wall => clock_of.wall_nanos(now),
                }
            }
            // Read while the node table is being changed: true time, still deterministic.
            Err(_) => i128::from(now.as_nanos()),
        }
    })
}

/// Fills `bytes` from the current node's entropy stream; `false` outside a world.
#[cfg_attr(not(all(feature = "intercept", target_os = "linux")), allow(dead_code))]
pub(crate) fn os_entropy(bytes: &mut [u8]) -> bool {
    intercepting(|w| {
        let node = w.current_node();
        let key = node.map_or(u32::MAX, |n| n.index);
        let filled = match w.cold().os_entropy.try_borrow_mut() {
            Ok(mut streams) => {
                let rng = streams.entry(key).or_insert_with(|| {
                    let name: Rc<str> = match node {
                        None => Rc::from("sim"),
                        Some(n) => w.nodes.try_borrow().map_or_else(
                            |_| Rc::from(n.to_string()),
                            |nodes| nodes[n.index()].name.clone(),
                        ),
                    };
                    w.keying.stream(&["os-entropy/", &name])
                });
                rand_core::RngCore::fill_bytes(rng, bytes);
                true
            }
            Err(_) => false,
        };
        // Never panic inside a C entry point: skip the event if the trace is busy.
        if filled && !w.trace.busy() {
            let len = bytes.len();
            w.emit_ext(node, "os.entropy", [len as u64, 0, 0, 0], || {
                format!("{len} bytes of OS entropy")
            });
        }
        filled
    })
    .unwrap_or(false)
}

/// Makes `world` the current world of this thread until dropped.
pub(crate) struct Enter {
    previous: Option<Option<Rc<World>>>,
}

impl Enter {
    pub(crate) fn new(world: &Rc<World>) -> Enter {
        CURRENT.with(|current| {
            let mut current = current
                .try_borrow_mut()
                .expect("detsim: a world cannot be entered from inside a simulation step");
            if current.as_ref().is_some_and(|c| c.id == world.id) {
                return Enter { previous: None };
            }
            assert!(
                current.is_none(),
                "detsim: another simulation is already running on this thread; worlds cannot be nested \
                 (run them one after another, or in separate threads)"
            );
            let previous = current.replace(world.clone());
            mirror_world(Some(world));
            Enter {
                previous: Some(previous),
            }
        })
    }
}

impl Enter {
    /// Makes `world` current even if another world is (a world dropped inside
    /// another's task tears down with itself entered, then the other is
    /// current again); `None` when this thread is inside a world's own
    /// borrow, where nothing can be entered. Never panics: it runs in `Drop`.
    pub(crate) fn swap_in(world: &Rc<World>) -> Option<Enter> {
        CURRENT
            .try_with(|current| {
                let mut current = current.try_borrow_mut().ok()?;
                if current.as_ref().is_some_and(|c| c.id == world.id) {
                    return Some(Enter { previous: None });
                }
                let previous = current.replace(world.clone());
                mirror_world(Some(world));
                Some(Enter {
                    previous: Some(previous),
                })
            })
            .ok()
            .flatten()
    }

    /// Whether a world other than `world` is current on this thread.
    pub(crate) fn other_running(world: &World) -> bool {
        // The mirror names the current world whenever one is entered.
        mirror_world_id().is_some_and(|current| current != world.id)
    }
}

impl Drop for Enter {
    fn drop(&mut self) {
        if let Some(previous) = self.previous.take() {
            mirror_world(previous.as_deref());
            CURRENT.with(|current| *current.borrow_mut() = previous);
        }
    }
}

/// State shared with wakers, which must be `Send + Sync`.
pub(crate) struct Shared {
    owner: ThreadId,
    leaked: AtomicBool,
    leak: Mutex<Option<String>>,
    /// Wakes from this thread while the world was not running (the harness
    /// between two runs); delivered when the next run starts.
    pending: Mutex<Vec<(u32, TaskId)>>,
}

impl Shared {
    fn new() -> Shared {
        Shared {
            owner: std::thread::current().id(),
            leaked: AtomicBool::new(false),
            leak: Mutex::new(None),
            pending: Mutex::new(Vec::new()),
        }
    }

    /// Makes a kept `Shared` as new for the next world on its thread.
    fn reset(&self) {
        debug_assert_eq!(self.owner, std::thread::current().id());
        // A leak is recorded before it is flagged: no flag, no record.
        if self.leaked.swap(false, Ordering::AcqRel) {
            *self.leak.lock().unwrap_or_else(|e| e.into_inner()) = None;
        }
        self.pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    pub(crate) fn foreign_wake(&self, task: TaskId) {
        let here = std::thread::current();
        if here.id() == self.owner {
            // A waker fired from this thread outside a run: deterministic (the
            // harness decides when), so deliver it at the next run. Slot is
            // unknown here; `u32::MAX` means "look it up".
            self.pending
                .lock()
                .expect("pending wakes lock poisoned")
                .push((u32::MAX, task));
            return;
        }
        let mut leak = self.leak.lock().expect("leak lock poisoned");
        if leak.is_none() {
            *leak = Some(format!(
                "the waker of {task} was invoked from OS thread {:?} ({:?}), not the thread running the \
                 simulation; something outside the world (an OS thread, a real runtime, a channel shared \
                 with another thread) is driving it",
                here.name().unwrap_or("unnamed"),
                here.id()
            ));
        }
        self.leaked.store(true, Ordering::Release);
    }
}

/// The identity of a waker: its data and vtable pointers.
pub(crate) type WakerIdentity = (*const (), *const RawWakerVTable);

/// The identity of `waker`.
#[inline]
fn identity(waker: &Waker) -> WakerIdentity {
    (waker.data(), waker.vtable() as *const RawWakerVTable)
}

/// The identity no waker has.
const NO_WAKER: WakerIdentity = (std::ptr::null(), std::ptr::null());

struct ExtensionEntry {
    type_id: TypeId,
    any: Rc<dyn Any>,
    hooks: Rc<dyn Extension>,
}

pub(crate) struct World {
    pub(crate) id: u64,
    pub(crate) console: ConsoleLevel,
    pub(crate) config: Config,
    now: Cell<Instant>,
    steps: Cell<u64>,
    /// The step count when virtual time last moved: the livelock guard
    /// counts the steps after it.
    instant_start: Cell<u64>,
    /// The step count past which a step fails: the lower of the step limit
    /// and the livelock guard's bound for the current instant.
    steps_stop: Cell<u64>,
    /// What the watchdog sees of this run (shared by the worlds of this thread).
    heartbeat: Arc<watchdog::Heartbeat>,
    /// The task slab and the ready queue.
    tasks: RefCell<task::Tasks>,
    /// Wakers of ended tasks that nothing holds any more, for new tasks.
    spare_wakers: RefCell<Vec<Arc<task::TaskWaker>>>,
    pub(crate) timers: RefCell<Timers>,
    nodes: RefCell<Vec<NodeEntry>>,
    /// Node ids by name, sorted by name (a vector: its buffer is recycled).
    node_names: RefCell<Vec<(Rc<str>, NodeId)>>,
    /// The node names of the last world dropped on this thread, in the order
    /// added (see `recycle`).
    last_names: Vec<(Rc<str>, u32)>,
    paused: Cell<usize>,
    /// Fast path of the nodes' monotonic clocks: while no node's clock was ever
    /// drifted, every monotonic clock reads true time and the clock arithmetic
    /// is skipped. Cleared, for good, by the first drift.
    clocks_identity: Cell<bool>,
    sched_rng: RefCell<LazyRng>,
    /// The PCT policy's state, when the poll order is `Pct`.
    pct: RefCell<Option<Box<pct::Pct>>>,
    harness_rng: RefCell<LazyRng>,
    trace: TraceState,
    /// The node whose code runs now (a task's poll, a timer callback).
    current_node: Cell<Option<NodeId>>,
    /// The task being polled (`None` in an extension's timer callback).
    current_task: Cell<Option<(u32, TaskId)>>,
    /// Identity of the polled task's own waker, to recognise it without cloning.
    current_waker: Cell<WakerIdentity>,
    pub(crate) drop_reason: RefCell<Option<DropReason>>,
    extensions: RefCell<Vec<ExtensionEntry>>,
    shared: Arc<Shared>,
    failed: RefCell<Option<Failure>>,
    /// A failure raised by a check inside a step; the loop returns it after the step.
    pending: RefCell<Option<Failure>>,
    failing: Cell<bool>,
    /// Whether [`World::after_step`] has anything to do: a failure is pending
    /// or an invariant is installed.
    checks_armed: Cell<bool>,
    /// What most worlds never use, allocated on first use (see [`Cold`]).
    cold: OnceCell<Box<Cold>>,
    /// How streams are keyed: the seed, and the fork keys of a forked run.
    pub(crate) keying: Keying,
    /// The next fork instant (`Instant::MAX` when none is left): one
    /// comparison each time virtual time advances.
    next_fork: Cell<Instant>,
    /// What this run reached, when a sweep explores.
    pub(crate) reached: Option<Box<RefCell<crate::explore::Reached>>>,
}

/// The parts of a world that most worlds never use: fault plans, checks,
/// coverage, `buggify!` sites, intercepted entropy. They live in one box
/// made on first use, which keeps [`World`] small (a fresh world is one
/// allocation that malloc serves from its small-size cache).
#[derive(Default)]
pub(crate) struct Cold {
    pub(crate) plan: RefCell<Option<crate::Plan>>,
    /// Plan entries that could not be applied when due, in words.
    pub(crate) skipped_faults: RefCell<Vec<String>>,
    pub(crate) custom_faults: RefCell<BTreeMap<String, CustomFault>>,
    pub(crate) coverage: RefCell<BTreeMap<&'static str, Coverage>>,
    pub(crate) buggify_sites: RefCell<BTreeMap<&'static str, (bool, SimRng)>>,
    pub(crate) invariants: RefCell<Vec<checks::Invariant>>,
    /// Entropy streams of intercepted `getrandom` calls, by node (`u32::MAX`: the harness).
    os_entropy: RefCell<BTreeMap<u32, SimRng>>,
}

impl World {
    /// A new world, made in its shared allocation (it is big: every move is
    /// a copy).
    pub(crate) fn new(config: Config, console: ConsoleLevel) -> Rc<World> {
        let seed = config.seed;
        let forks = (!config.forks.is_empty()).then(|| {
            Arc::new(ForkKeys::new(
                seed,
                config.forks.as_slice().iter().map(|f| f.seed.get()),
            ))
        });
        let keying = Keying { seed, forks };
        let mut spare = recycle::take();
        let shared = spare.shared().unwrap_or_else(|| Arc::new(Shared::new()));
        let world = Rc::new(World {
            console,
            id: WORLD_IDS.fetch_add(1, Ordering::Relaxed),
            now: Cell::new(Instant::ZERO),
            steps: Cell::new(0),
            instant_start: Cell::new(0),
            steps_stop: Cell::new(config.steps_max.min(config.instant_steps_max)),
            heartbeat: watchdog::heartbeat(),
            tasks: RefCell::new(task::Tasks::with_buffers(spare.task_slots, spare.ready)),
            spare_wakers: RefCell::new(spare.wakers),
            timers: RefCell::new(Timers::with_buffers(spare.timer_slots, spare.near)),
            nodes: RefCell::new(spare.nodes),
            node_names: RefCell::new(spare.names),
            last_names: spare.last_names,
            paused: Cell::new(0),
            clocks_identity: Cell::new(true),
            sched_rng: RefCell::new(LazyRng::new(keying.clone(), "sched")),
            pct: RefCell::new(match config.poll_order {
                PollOrder::Pct { depth } => Some(Box::new(pct::Pct::new(
                    depth,
                    &mut keying.stream(&["sched/pct"]),
                ))),
                _ => None,
            }),
            harness_rng: RefCell::new(LazyRng::new(keying.clone(), "harness")),
            trace: TraceState::new(config.trace),
            current_node: Cell::new(None),
            current_task: Cell::new(None),
            current_waker: Cell::new(NO_WAKER),
            drop_reason: RefCell::new(None),
            extensions: RefCell::new(spare.extensions),
            shared,
            failed: RefCell::new(None),
            pending: RefCell::new(None),
            failing: Cell::new(false),
            checks_armed: Cell::new(false),
            cold: OnceCell::new(),
            keying,
            next_fork: Cell::new(Instant::MAX),
            reached: config.coverage_sink.as_ref().map(|_| Box::default()),
            config,
        });
        world.cross_forks();
        world
    }

    /// Enters the fork epoch of the current instant: every stream re-keys
    /// at its next draw.
    fn cross_forks(&self) {
        let Some(keys) = &self.keying.forks else {
            return;
        };
        let now = self.now.get().as_duration();
        let forks = self.config.forks.as_slice();
        let passed = forks.iter().take_while(|f| f.at <= now).count();
        keys.set_epoch(passed);
        self.next_fork.set(
            forks
                .get(passed)
                .map_or(Instant::MAX, |f| Instant::ZERO.saturating_add(f.at)),
        );
        if passed > 0 && forks[passed - 1].at == now {
            self.emit(
                None,
                EventKind::Ext {
                    name: "sim.fork".into(),
                    args: [passed as u64, forks[passed - 1].seed.get(), 0, 0],
                    detail: crate::trace::Detail(String::new()),
                },
            );
        }
    }

    pub(crate) fn seed(&self) -> Seed {
        self.config.seed
    }

    /// The cold parts, made now if they were not yet.
    pub(crate) fn cold(&self) -> &Cold {
        self.cold.get_or_init(Box::default)
    }

    /// The cold parts, if anything made them.
    pub(crate) fn cold_opt(&self) -> Option<&Cold> {
        self.cold.get().map(|cold| &**cold)
    }

    /// The fault plan applied so far.
    pub(crate) fn plan(&self) -> Option<crate::Plan> {
        self.cold_opt().and_then(|c| c.plan.borrow().clone())
    }

    /// The plan entries skipped so far, in words.
    pub(crate) fn skipped_faults(&self) -> Vec<String> {
        self.cold_opt()
            .map_or_else(Vec::new, |c| c.skipped_faults.borrow().clone())
    }

    pub(crate) fn now(&self) -> Instant {
        self.now.get()
    }

    pub(crate) fn steps(&self) -> u64 {
        self.steps.get()
    }

    #[inline]
    pub(crate) fn current_node(&self) -> Option<NodeId> {
        self.current_node.get()
    }

    // ----- trace -----

    pub(crate) fn emit(&self, node: Option<NodeId>, kind: EventKind) {
        self.trace.push(self.now.get(), node, kind);
    }

    /// Emits one of the executor's hot events (see [`Hot`]).
    #[inline]
    pub(crate) fn emit_hot(&self, node: Option<NodeId>, hot: Hot) {
        self.trace.push_hot(self.now.get(), node, hot);
    }

    /// Emits an extension's event; `detail` runs only when recording.
    #[inline]
    pub(crate) fn emit_ext(
        &self,
        node: Option<NodeId>,
        name: &'static str,
        args: [u64; 4],
        detail: impl FnOnce() -> String,
    ) {
        self.trace
            .push_ext(self.now.get(), node, name, args, detail);
    }

    /// Registers (or refreshes) the timer of a sleep that wakes `waker` at
    /// `deadline`. The polling task's own waker is stored as a task reference,
    /// which fires without touching the waker's reference count.
    #[inline(always)]
    pub(crate) fn register(&self, key: &mut Option<TimerKey>, deadline: Instant, waker: &Waker) {
        let identity = identity(waker);
        // The common case, a task's first poll of its own sleep, in one go.
        if key.is_none() && self.current_waker.get() == identity {
            if let Some((slot, id)) = self.current_task.get() {
                let mut timers = self.timers.borrow_mut();
                *key = Some(timers.insert_task(deadline, slot, id));
                return;
            }
        }
        self.register_other(key, deadline, waker, identity);
    }

    /// [`World::register`] for a refresh, or a waker other than the polled task's.
    #[inline(never)]
    fn register_other(
        &self,
        key: &mut Option<TimerKey>,
        deadline: Instant,
        waker: &Waker,
        identity: WakerIdentity,
    ) {
        let own = if self.current_waker.get() == identity {
            self.current_task.get()
        } else {
            None
        };
        let action = || match own {
            Some((slot, id)) => Action::Task(slot, id),
            None => Action::Wake(waker.clone()),
        };
        let mut timers = self.timers.borrow_mut();
        match key {
            // A timer passed to another waker keeps its node (a task's
            // timer has its task's; see `Timers::insert_task`).
            Some(key) => timers.update(*key, |old| match (old, own) {
                (Some(Action::Task(s, i)), Some((s2, i2))) if (*s, *i) == (s2, i2) => None,
                (Some(Action::Wake(w)), None) if w.will_wake(waker) => None,
                _ => Some(action()),
            }),
            None => *key = Some(timers.insert(deadline, self.current_node.get(), action())),
        }
    }

    /// Runs `callback` at true time `at` as a step of its own, with `node` as
    /// the current node.
    pub(crate) fn call_at(
        &self,
        at: Instant,
        node: Option<NodeId>,
        callback: Box<dyn FnOnce()>,
    ) -> TimerKey {
        let at = at.max(self.now.get());
        self.timers
            .borrow_mut()
            .insert(at, node, Action::Call(callback))
    }

    pub(crate) fn trace_summary(&self) -> crate::trace::Trace {
        let trace = &self.trace;
        let mut summary = trace.summary();
        // Names are only needed to describe kept events.
        if trace.recording() {
            summary.node_names = self
                .nodes
                .borrow()
                .iter()
                .map(|n| n.name.to_string())
                .collect();
        }
        summary
    }

    // ----- tasks -----

    pub(crate) fn spawn<F>(
        &self,
        node: Option<NodeId>,
        future: F,
        spawned_at: &'static Location<'static>,
    ) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let mut handle = None;
        let spawned = self.spawn_with(node, spawned_at, |id| {
            let (future, join) = task::spawned(id, future);
            handle = Some(join);
            future
        });
        match (spawned, handle) {
            (Ok(_), Some(handle)) => handle,
            (Err((id, name)), _) => JoinHandle::failed(id, JoinError::Crashed(id, name)),
            (Ok(_), None) => unreachable!("a spawned task has a join handle"),
        }
    }

    /// Spawns a task nobody joins (a node's init): no join state is made.
    pub(crate) fn spawn_detached<F>(
        &self,
        node: Option<NodeId>,
        future: F,
        spawned_at: &'static Location<'static>,
    ) where
        F: Future + 'static,
        F::Output: 'static,
    {
        let _ = self.spawn_with(node, spawned_at, |id| task::detached(id, future));
    }

    /// Spawns the future `make` builds for the new task's id; on a crashed
    /// node spawns nothing and returns the id it used and the node's name.
    fn spawn_with<G>(
        &self,
        node: Option<NodeId>,
        spawned_at: &'static Location<'static>,
        make: impl FnOnce(TaskId) -> G,
    ) -> Result<TaskId, (TaskId, String)>
    where
        G: Future<Output = ()> + 'static,
    {
        let mut tasks = self.tasks.borrow_mut();
        let id = tasks.next_id();
        let mut name = watchdog::NO_NAME;
        if let Some(node) = node {
            let nodes = self.nodes.borrow();
            let entry = &nodes[node.index()];
            if entry.state == NodeState::Crashed {
                return Err((id, entry.name.to_string()));
            }
            name = entry.watch_name;
        }
        let slot = tasks.next_slot();
        let spare = self.spare_wakers.borrow_mut().pop();
        let waker = task::waker_for(spare, self.id, slot, id, &self.shared);
        let task = task::new_task(waker, make(id));
        let waker = identity(task.waker());
        let inserted = tasks.insert(task::TaskEntry {
            id,
            node,
            task: Some(task),
            queued: true,
            kill: None,
            spawned_at,
            polled_at: self.now.get(),
            whereabouts: watchdog::whereabouts(spawned_at, name),
            waker,
        });
        debug_assert_eq!(inserted, slot);
        tasks.ready.push_back((slot, id));
        drop(tasks);
        self.emit_hot(node, Hot::Spawn(id));
        Ok(id)
    }

    /// Keeps a finished task's waker for the next task, if nothing else holds it.
    #[inline]
    fn keep_waker(&self, handle: Option<Arc<task::TaskWaker>>) {
        if let Some(handle) = task::reusable(handle) {
            let mut spare = self.spare_wakers.borrow_mut();
            if spare.len() < recycle::KEPT_MAX {
                spare.push(handle);
            }
        }
    }

    /// Makes a task ready (called by its waker).
    #[inline]
    pub(crate) fn schedule(&self, slot: u32, id: TaskId) {
        self.tasks.borrow_mut().schedule(slot, id);
    }

    pub(crate) fn abort(&self, id: TaskId) {
        let removed = {
            let mut tasks = self.tasks.borrow_mut();
            let Some(slot) = tasks.find(id) else { return };
            let entry = tasks.slot_mut(slot).expect("found slot is live");
            let node = entry.node;
            if entry.task.is_none() {
                // Aborting itself (or the task being polled): drop after the poll.
                entry.kill = Some(DropReason::Aborted);
                self.emit(node, EventKind::Aborted { task: id });
                return;
            }
            let entry = tasks.remove(slot).expect("found slot is live");
            self.emit(node, EventKind::Aborted { task: id });
            entry.task
        };
        self.drop_tasks(DropReason::Aborted, removed.into_iter().collect());
    }

    fn drop_tasks(&self, reason: DropReason, tasks: Vec<task::BoxTask>) {
        if tasks.is_empty() {
            return;
        }
        let previous = self.drop_reason.replace(Some(reason));
        drop(tasks);
        *self.drop_reason.borrow_mut() = previous;
    }

    /// Drops every task and timer (the world is being torn down).
    pub(crate) fn clear(&self) {
        // The whole slab is moved out and dropped in slot order, outside the
        // borrow (a task's destructor may call into the world).
        let mut slots = self.tasks.borrow_mut().take_all();
        if !slots.is_empty() {
            // The tasks' wakers, for the next world's tasks if nothing else
            // holds them once every task is gone.
            {
                let mut spare = self.spare_wakers.borrow_mut();
                for entry in task::live_mut(&mut slots) {
                    if let Some(task) = entry.task.as_mut() {
                        spare.extend(task.as_mut().retire());
                    }
                }
            }
            let previous = self.drop_reason.replace(Some(DropReason::WorldDropped));
            // In slot order, as dropping the vector would.
            slots.clear();
            *self.drop_reason.borrow_mut() = previous;
            self.spare_wakers
                .borrow_mut()
                .retain_mut(|handle| Arc::get_mut(handle).is_some());
        }
        self.tasks.borrow_mut().restore(slots);
        let wakers = self.timers.borrow_mut().clear();
        drop(wakers);
        self.extensions.borrow_mut().clear();
    }

    // ----- nodes -----

    pub(crate) fn add_node(
        &self,
        name: &str,
        init: InitFn,
        spawned_at: &'static Location<'static>,
    ) -> Result<NodeId, SimError> {
        validate_node_name(name)?;
        let (id, shared) = {
            let mut names = self.node_names.borrow_mut();
            let Err(position) = names.binary_search_by(|(n, _)| (**n).cmp(name)) else {
                return Err(SimError::DuplicateNode(name.to_owned()));
            };
            let mut nodes = self.nodes.borrow_mut();
            let id = NodeId::new(
                u32::try_from(nodes.len()).expect("more than 2^32 nodes"),
                self.id,
            );
            // Worlds of a sweep name their nodes alike: the last world's
            // node of this index likely had this name.
            let (name, watch_name) = match self.last_names.get(nodes.len()) {
                Some((last, watch_name)) if **last == *name => (last.clone(), *watch_name),
                _ => (Rc::from(name), watchdog::name_index(name)),
            };
            names.insert(position, (name.clone(), id));
            nodes.push(NodeEntry {
                rng: LazyRng::node(self.keying.clone(), name.clone()),
                name: name.clone(),
                state: NodeState::Running,
                init,
                clock: LocalClock::default(),
                parked: Vec::new(),
                incarnation: 0,
                spawned_at,
                watch_name,
            });
            (id, name)
        };
        self.trace.push_lazy(
            self.now.get(),
            Some(id),
            |hasher| crate::trace::fingerprint_node_added(hasher, name),
            || EventKind::NodeAdded {
                name: name.to_owned(),
            },
        );
        self.notify_added(id, &shared);
        self.start_node(id);
        Ok(id)
    }

    fn start_node(&self, node: NodeId) {
        let (init, spawned_at) = {
            let nodes = self.nodes.borrow();
            let entry = &nodes[node.index()];
            (entry.init.clone(), entry.spawned_at)
        };
        init(self, node, spawned_at);
    }

    pub(crate) fn node_id(&self, name: &str) -> Result<NodeId, SimError> {
        let names = self.node_names.borrow();
        match names.binary_search_by(|(n, _)| (**n).cmp(name)) {
            Ok(index) => Ok(names[index].1),
            Err(_) => Err(SimError::UnknownNode(name.to_owned())),
        }
    }

    pub(crate) fn check_node(&self, node: NodeId) -> Result<(), SimError> {
        if !node.made_by(self.id) {
            return Err(SimError::ForeignNode(node.to_string()));
        }
        if node.index() < self.nodes.borrow().len() {
            Ok(())
        } else {
            Err(SimError::UnknownNode(node.to_string()))
        }
    }

    pub(crate) fn node_name(&self, node: NodeId) -> Rc<str> {
        self.nodes.borrow()[node.index()].name.clone()
    }

    pub(crate) fn node_state(&self, node: NodeId) -> NodeState {
        self.nodes.borrow()[node.index()].state
    }

    pub(crate) fn node_count(&self) -> usize {
        self.nodes.borrow().len()
    }

    pub(crate) fn node_incarnation(&self, node: NodeId) -> u64 {
        self.nodes.borrow()[node.index()].incarnation
    }

    fn require_state(
        &self,
        node: NodeId,
        operation: &'static str,
        allowed: &[NodeState],
    ) -> Result<NodeState, SimError> {
        self.check_node(node)?;
        let nodes = self.nodes.borrow();
        let state = nodes[node.index()].state;
        if allowed.contains(&state) {
            Ok(state)
        } else {
            Err(SimError::NodeState {
                node: nodes[node.index()].name.to_string(),
                operation,
                state,
            })
        }
    }

    pub(crate) fn crash(&self, node: NodeId) -> Result<(), SimError> {
        let previous =
            self.require_state(node, "crash", &[NodeState::Running, NodeState::Paused])?;
        let name = {
            let mut nodes = self.nodes.borrow_mut();
            let entry = &mut nodes[node.index()];
            entry.state = NodeState::Crashed;
            entry.incarnation += 1;
            entry.parked.clear();
            entry.name.to_string()
        };
        if previous == NodeState::Paused {
            self.paused.set(self.paused.get() - 1);
        }
        self.emit(Some(node), EventKind::Crash);
        self.console_node(node, "crashed");
        let dropped: Vec<task::BoxTask> = {
            let mut tasks = self.tasks.borrow_mut();
            let mut dropped = Vec::new();
            for slot in 0..tasks.slot_count() {
                let Some(entry) = tasks.slot_mut(slot) else {
                    continue;
                };
                if entry.node != Some(node) {
                    continue;
                }
                if entry.task.is_none() {
                    entry.kill = Some(DropReason::Crashed(name.clone()));
                } else if let Some(task) = tasks.remove(slot).and_then(|e| e.task) {
                    dropped.push(task);
                }
            }
            dropped
        };
        self.drop_tasks(DropReason::Crashed(name), dropped);
        self.notify(node, NodeEvent::Crash);
        // A task of the crashed node that is being polled (it crashed its own
        // node) must not run another line: a real machine stops at once.
        if self.current_task.get().is_some() && self.current_node.get() == Some(node) {
            crate::panic::crash_unwind();
        }
        Ok(())
    }

    pub(crate) fn restart(&self, node: NodeId) -> Result<(), SimError> {
        self.require_state(node, "restart", &[NodeState::Crashed])?;
        self.nodes.borrow_mut()[node.index()].state = NodeState::Running;
        self.emit(Some(node), EventKind::Restart);
        self.console_node(node, "restarted");
        self.notify(node, NodeEvent::Restart);
        self.start_node(node);
        Ok(())
    }

    pub(crate) fn pause(&self, node: NodeId) -> Result<(), SimError> {
        self.require_state(node, "pause", &[NodeState::Running])?;
        self.nodes.borrow_mut()[node.index()].state = NodeState::Paused;
        self.paused.set(self.paused.get() + 1);
        self.emit(Some(node), EventKind::Pause);
        self.console_node(node, "paused");
        self.notify(node, NodeEvent::Pause);
        Ok(())
    }

    pub(crate) fn resume(&self, node: NodeId) -> Result<(), SimError> {
        self.require_state(node, "resume", &[NodeState::Paused])?;
        let parked = {
            let mut nodes = self.nodes.borrow_mut();
            let entry = &mut nodes[node.index()];
            entry.state = NodeState::Running;
            std::mem::take(&mut entry.parked)
        };
        self.paused.set(self.paused.get() - 1);
        self.tasks.borrow_mut().ready.extend(parked);
        self.emit(Some(node), EventKind::Resume);
        self.console_node(node, "resumed");
        self.notify(node, NodeEvent::Resume);
        Ok(())
    }

    // ----- clocks and randomness -----

    #[inline]
    pub(crate) fn local_now(&self, node: Option<NodeId>) -> Instant {
        if self.clocks_identity.get() {
            return self.now.get();
        }
        match node {
            Some(node) => self.nodes.borrow()[node.index()]
                .clock
                .local(self.now.get()),
            None => self.now.get(),
        }
    }

    /// `node`'s wall clock, in nanoseconds since [`crate::time::WALL_CLOCK_START`]
    /// (the harness reads true time).
    pub(crate) fn wall_nanos(&self, node: Option<NodeId>) -> i128 {
        match node {
            Some(node) => self.nodes.borrow()[node.index()]
                .clock
                .wall_nanos(self.now.get()),
            None => i128::from(self.now.get().as_nanos()),
        }
    }

    /// The true instant at which `node`'s clock reads `local`.
    #[inline]
    pub(crate) fn true_deadline(&self, node: Option<NodeId>, local: Instant) -> Instant {
        if self.clocks_identity.get() {
            return local.max(self.now.get());
        }
        match node {
            Some(node) => self.nodes.borrow()[node.index()]
                .clock
                .true_deadline(self.now.get(), local),
            None => local.max(self.now.get()),
        }
    }

    /// The true instant at which `node`'s clock will have advanced by `duration`.
    #[inline]
    pub(crate) fn true_deadline_after(&self, node: Option<NodeId>, duration: Duration) -> Instant {
        let now = self.now.get();
        if node.is_none() || self.clocks_identity.get() {
            return now.saturating_add(duration);
        }
        self.true_deadline_after_drifted(node, duration)
    }

    #[inline(never)]
    fn true_deadline_after_drifted(&self, node: Option<NodeId>, duration: Duration) -> Instant {
        self.true_deadline(node, self.local_now(node).saturating_add(duration))
    }

    pub(crate) fn adjust_clock(
        &self,
        node: NodeId,
        jump_nanos: i64,
        drift_ppm: Option<i64>,
    ) -> Result<(), SimError> {
        self.check_node(node)?;
        if let Some(drift) = drift_ppm {
            if drift <= -1_000_000 || drift >= 1_000_000 {
                return Err(SimError::InvalidConfig(format!(
                    "clock drift {drift} ppm is out of range: it must be in (-1000000, 1000000)"
                )));
            }
        }
        // A drift leaves the identity fast path of the monotonic clocks, for
        // good (a jump moves only the wall clock, which has no fast path).
        if drift_ppm.is_some() {
            self.clocks_identity.set(false);
            MIRROR.with(|m| {
                if m.world.get() == self.id {
                    m.fast_clocks.set(false);
                }
            });
        }
        let now = self.now.get();
        let (offset_ns, drift) = {
            let mut nodes = self.nodes.borrow_mut();
            let clock = &mut nodes[node.index()].clock;
            if jump_nanos != 0 {
                clock.jump(jump_nanos);
            }
            if let Some(drift) = drift_ppm {
                clock.set_drift(now, drift);
            }
            (clock.offset_nanos(now), clock.drift_ppm())
        };
        self.emit(
            Some(node),
            EventKind::Clock {
                offset_ns: offset_ns.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64,
                drift_ppm: drift,
            },
        );
        Ok(())
    }

    #[inline]
    pub(crate) fn with_rng<R>(&self, node: Option<NodeId>, f: impl FnOnce(&mut SimRng) -> R) -> R {
        match node {
            Some(node) => f(self.nodes.borrow_mut()[node.index()].rng.get()),
            None => f(self.harness_rng.borrow_mut().get()),
        }
    }

    // ----- extensions -----

    pub(crate) fn install<T: Extension>(&self, extension: Rc<T>) -> Result<(), SimError> {
        let mut extensions = self.extensions.borrow_mut();
        if extensions.iter().any(|e| e.type_id == TypeId::of::<T>()) {
            return Err(SimError::InvalidConfig(format!(
                "extension {} is already installed",
                std::any::type_name::<T>()
            )));
        }
        extensions.push(ExtensionEntry {
            type_id: TypeId::of::<T>(),
            any: extension.clone(),
            hooks: extension,
        });
        Ok(())
    }

    pub(crate) fn extension<T: Extension>(&self) -> Option<Rc<T>> {
        let extensions = self.extensions.borrow();
        let entry = extensions.iter().find(|e| e.type_id == TypeId::of::<T>())?;
        entry.any.clone().downcast::<T>().ok()
    }

    fn extension_hooks(&self) -> Vec<Rc<dyn Extension>> {
        self.extensions
            .borrow()
            .iter()
            .map(|e| e.hooks.clone())
            .collect()
    }

    /// Tells the extensions installed now, in install order, of a node
    /// event (without collecting them: one fewer allocation per node).
    fn notify(&self, node: NodeId, event: NodeEvent) {
        self.each_hook(|hook| hook.on_node_event(node, event));
    }

    /// [`World::notify`] of an added node, with its name.
    fn notify_added(&self, node: NodeId, name: &Rc<str>) {
        self.each_hook(|hook| hook.on_node_added(node, name));
    }

    /// Runs `f` on each extension installed now, in install order, with no
    /// borrow held (a hook may install another extension).
    fn each_hook(&self, mut f: impl FnMut(&dyn Extension)) {
        let count = self.extensions.borrow().len();
        for index in 0..count {
            let hook = match self.extensions.borrow().get(index) {
                Some(entry) => entry.hooks.clone(),
                None => return,
            };
            f(&*hook);
        }
    }

    // ----- the loop -----

    /// Runs steps until `done()` holds.
    pub(crate) fn run_until(&self, done: &dyn Fn() -> bool) -> Result<(), Failure> {
        if let Some(failure) = self.failed.borrow().as_ref() {
            return Err(failure.clone());
        }
        self.deliver_pending_wakes();
        let _watched = self.watch();
        let result = self.run_loop(done);
        if let (Some(sink), Some(reached)) = (&self.config.coverage_sink, self.reached.as_deref()) {
            *sink.lock().expect("coverage sink lock") = reached.borrow().clone();
        }
        if let Err(failure) = &result {
            *self.failed.borrow_mut() = Some(failure.clone());
        }
        result
    }

    fn deliver_pending_wakes(&self) {
        let pending =
            std::mem::take(&mut *self.shared.pending.lock().expect("pending lock poisoned"));
        for (_, id) in pending {
            let slot = self.tasks.borrow().find(id);
            if let Some(slot) = slot {
                self.schedule(slot, id);
            }
        }
    }

    fn run_loop(&self, done: &dyn Fn() -> bool) -> Result<(), Failure> {
        let time_limit = self
            .config
            .time_limit
            .map(|limit| Instant::ZERO.saturating_add(limit));
        crate::panic::install();
        // The goal is the body's end, so it can only change when a task ends.
        let mut ended_seen = u64::MAX;
        // A wake from another thread (a determinism leak) is noticed before
        // the run ends and before virtual time moves on, so it fails the
        // run at the instant it came in.
        loop {
            let mut tasks = self.tasks.borrow_mut();
            if ended_seen != tasks.ended {
                ended_seen = tasks.ended;
                drop(tasks);
                if done() {
                    return self.unless_leaked();
                }
                tasks = self.tasks.borrow_mut();
            }
            if self.config.poll_order != PollOrder::Fifo {
                self.pick_ready(&mut tasks.ready);
            }
            if let Some((slot, id)) = tasks.ready.pop_front() {
                if !self.step_count() {
                    drop(tasks);
                    return Err(self.limit_failure(Some((slot, id))));
                }
                self.poll(tasks, slot, id)?;
                self.after_step()?;
                continue;
            }
            drop(tasks);
            self.unless_leaked()?;
            let deadline = self.timers.borrow_mut().next_deadline();
            let Some(deadline) = deadline else {
                return Err(self.deadlock());
            };
            if let Some(limit) = time_limit {
                if deadline > limit {
                    self.now.set(limit.max(self.now.get()));
                    MIRROR.with(|m| m.now.set(self.now.get().as_nanos()));
                    let limit = self.config.time_limit.unwrap_or_default();
                    let waiting = self.waiting_longest(Cause::WAITING_SHOWN);
                    return Err(self.failure(Cause::TimeLimit { limit, waiting }, None));
                }
            }
            debug_assert!(deadline >= self.now.get(), "a timer is in the past");
            if deadline > self.now.get() {
                self.advance(deadline);
            }
            let now = self.now.get();
            loop {
                let mut timers = self.timers.borrow_mut();
                let Some((seq, timer_node, action)) = timers.pop_due(now) else {
                    break;
                };
                if let (Action::Task(slot, id), false) = (&action, self.checks_armed.get()) {
                    // Timers that wake their own task, in a row under one
                    // borrow of the timers and one of the tasks: scheduling
                    // runs no other code, and with no check armed a step
                    // ends there.
                    // Steps are counted in a local and published once the
                    // batch ends (nothing in it reads them).
                    let mut tasks = self.tasks.borrow_mut();
                    let (mut steps, stop) = (self.steps.get(), self.steps_stop.get());
                    let mut next = Some((seq, *slot, *id));
                    while let Some((seq, slot, id)) = next {
                        steps += 1;
                        if steps > stop {
                            drop((timers, tasks));
                            self.steps.set(steps);
                            self.heartbeat.steps.store(steps, Ordering::Relaxed);
                            return Err(self.limit_failure(None));
                        }
                        let node = tasks.schedule(slot, id);
                        self.emit_hot(node, Hot::Timer(seq));
                        next = timers.pop_due_task(now);
                    }
                    self.steps.set(steps);
                    self.heartbeat.steps.store(steps, Ordering::Relaxed);
                    continue;
                }
                drop(timers);
                if !self.step_count() {
                    return Err(self.limit_failure(None));
                }
                match action {
                    Action::Task(slot, id) => {
                        let node = self.tasks.borrow_mut().schedule(slot, id);
                        self.emit_hot(node, Hot::Timer(seq));
                    }
                    Action::Wake(waker) => {
                        self.emit_hot(timer_node, Hot::Timer(seq));
                        waker.wake();
                    }
                    Action::Call(callback) => {
                        self.emit_hot(timer_node, Hot::Timer(seq));
                        self.call(timer_node, callback)?;
                    }
                }
                self.after_step()?;
            }
        }
    }

    /// Moves virtual time forward to `now`.
    #[inline]
    fn advance(&self, now: Instant) {
        self.now.set(now);
        MIRROR.with(|m| m.now.set(now.as_nanos()));
        self.heartbeat.now.store(now.as_nanos(), Ordering::Relaxed);
        // A new instant: the livelock guard counts from here.
        let steps = self.steps.get();
        self.instant_start.set(steps);
        self.steps_stop.set(
            self.config
                .steps_max
                .min(steps.saturating_add(self.config.instant_steps_max)),
        );
        if now >= self.next_fork.get() {
            self.cross_forks();
        }
    }

    /// Picks the next ready task under the random and PCT poll orders and
    /// puts it at the front of `ready`, to be popped next (so the FIFO order's
    /// pop is the step loop's only one).
    #[cold]
    #[inline(never)]
    fn pick_ready(&self, ready: &mut queue::Queue<(u32, TaskId)>) {
        if let Some(picked) = self.pick_ready_out(ready) {
            ready.push_front(picked);
        }
    }

    /// Removes the next ready task under the random and PCT poll orders.
    fn pick_ready_out(&self, ready: &mut queue::Queue<(u32, TaskId)>) -> Option<(u32, TaskId)> {
        match self.config.poll_order {
            PollOrder::Random if ready.len() > 1 => {
                let index = self.sched_rng.borrow_mut().get().below(ready.len() as u64) as usize;
                ready.swap_remove_back(index)
            }
            PollOrder::Pct { .. } => {
                let mut pct = self.pct.borrow_mut();
                let pct = pct.as_mut().expect("the PCT state exists under PCT");
                let index = pct.pick(
                    ready.iter().map(|(_, id)| *id),
                    self.steps.get() + 1,
                    self.sched_rng.borrow_mut().get(),
                );
                ready.remove(index)
            }
            _ => ready.pop_front(),
        }
    }

    /// Runs a timer's callback as a step, with `node` as the current node.
    fn call(&self, node: Option<NodeId>, callback: Box<dyn FnOnce()>) -> Result<(), Failure> {
        self.current_node.set(node);
        MIRROR.with(|m| m.node.set(node));
        let result = crate::panic::catch(AssertUnwindSafe(callback));
        self.current_node.set(None);
        MIRROR.with(|m| m.node.set(None));
        match result {
            Ok(()) => Ok(()),
            Err(panic) => Err(self.failure(
                Cause::Panic {
                    task: None,
                    message: panic.message,
                    location: panic.location,
                },
                node,
            )),
        }
    }

    /// The leak failure if a wake came from another thread.
    #[inline]
    fn unless_leaked(&self) -> Result<(), Failure> {
        if self.shared.leaked.load(Ordering::Acquire) {
            return Err(self.leak_failure());
        }
        Ok(())
    }

    #[cold]
    fn leak_failure(&self) -> Failure {
        let detail = self
            .shared
            .leak
            .lock()
            .expect("leak lock poisoned")
            .clone()
            .unwrap_or_default();
        self.failure(Cause::DeterminismLeak { detail }, None)
    }

    /// Counts a step against the limits; `false` when it passes one (see
    /// [`World::limit_failure`]).
    #[inline]
    fn step_count(&self) -> bool {
        let steps = self.steps.get() + 1;
        self.steps.set(steps);
        self.heartbeat.steps.store(steps, Ordering::Relaxed);
        steps <= self.steps_stop.get()
    }

    /// The failure of a step past a limit (`polling`: the task it was to poll):
    /// the step limit, else the livelock guard.
    #[cold]
    #[inline(never)]
    fn limit_failure(&self, polling: Option<(u32, TaskId)>) -> Failure {
        // A leak, if any, is what went wrong first.
        if let Err(leak) = self.unless_leaked() {
            return leak;
        }
        let steps_max = self.config.steps_max;
        if self.steps.get() > steps_max {
            return self.failure(Cause::StepLimit { steps_max }, None);
        }
        debug_assert!(
            self.steps.get() - self.instant_start.get() > self.config.instant_steps_max,
            "a step stops for the step limit or the livelock guard"
        );
        self.livelock(polling)
    }

    /// Polls the task in `slot` (the step `tasks`, borrowed, just picked).
    #[inline]
    fn poll(
        &self,
        mut tasks: std::cell::RefMut<'_, task::Tasks>,
        slot: u32,
        id: TaskId,
    ) -> Result<(), Failure> {
        let heartbeat: &watchdog::Heartbeat = &self.heartbeat;
        let (mut task, node, waker) = {
            let Some(entry) = tasks.get_mut(slot, id) else {
                return Ok(());
            };
            if self.paused.get() > 0 {
                if let Some(node) = entry.node {
                    let mut nodes = self.nodes.borrow_mut();
                    if nodes[node.index()].state == NodeState::Paused {
                        nodes[node.index()].parked.push((slot, id));
                        return Ok(());
                    }
                }
            }
            entry.queued = false;
            entry.polled_at = self.now.get();
            heartbeat
                .polling_where
                .store(entry.whereabouts, Ordering::Relaxed);
            heartbeat.polling.store(id.0 + 1, Ordering::Relaxed);
            let task = entry
                .task
                .take()
                .expect("detsim bug: a ready task is already being polled");
            (task, entry.node, entry.waker)
        };
        drop(tasks);
        self.current_node.set(node);
        self.current_task.set(Some((slot, id)));
        self.current_waker.set(waker);
        self.emit_hot(node, Hot::Poll(id));
        MIRROR.with(|m| {
            m.polling.set(true);
            m.node.set(node);
        });
        let result = crate::panic::catch_polled(AssertUnwindSafe(|| task.as_mut().poll_task()));
        MIRROR.with(|m| {
            m.polling.set(false);
            m.node.set(None);
        });
        self.current_node.set(None);
        // With no task current, the waker identity left behind matches
        // nothing (see `register`).
        self.current_task.set(None);
        heartbeat.polling.store(0, Ordering::Relaxed);
        match result {
            Ok(Poll::Pending) => {
                let mut tasks = self.tasks.borrow_mut();
                if let Some(entry) = tasks.get_mut(slot, id) {
                    if entry.kill.is_none() {
                        entry.task = Some(task);
                        return Ok(());
                    }
                }
                drop(tasks);
                self.killed(slot, id, task);
                Ok(())
            }
            Ok(Poll::Ready(())) => {
                let reason = {
                    let mut tasks = self.tasks.borrow_mut();
                    tasks.remove(slot).and_then(|e| e.kill)
                };
                self.emit_hot(node, Hot::Done(id));
                match reason {
                    Some(reason) => self.drop_tasks(reason, vec![task]),
                    None => {
                        let handle = task.as_mut().retire();
                        drop(task);
                        self.keep_waker(handle);
                    }
                }
                Ok(())
            }
            // A task that crashed its own node unwound out of its poll at once:
            // the crash already marked it to be dropped, as after a `Pending`.
            Err(payload) if crate::panic::Panic::crashed_itself(&payload) => {
                drop(payload);
                self.killed(slot, id, task);
                Ok(())
            }
            Err(payload) => Err(self.panicked(slot, id, node, task, payload)),
        }
    }

    /// Drops a task that was crashed or aborted while it was being polled.
    #[cold]
    #[inline(never)]
    fn killed(&self, slot: u32, id: TaskId, task: task::BoxTask) {
        let kill = {
            let mut tasks = self.tasks.borrow_mut();
            match tasks.get_mut(slot, id) {
                Some(entry) => match entry.kill.take() {
                    Some(reason) => {
                        tasks.remove(slot);
                        Some(reason)
                    }
                    None => {
                        entry.task = Some(task);
                        return;
                    }
                },
                None => Some(DropReason::Aborted),
            }
        };
        if let Some(reason) = kill {
            self.drop_tasks(reason, vec![task]);
        }
    }

    /// The failure of a task that panicked in its poll.
    #[cold]
    #[inline(never)]
    fn panicked(
        &self,
        slot: u32,
        id: TaskId,
        node: Option<NodeId>,
        task: task::BoxTask,
        payload: crate::panic::Payload,
    ) -> Failure {
        let panic = crate::panic::Panic::from_payload(payload);
        self.tasks.borrow_mut().remove(slot);
        let message = panic.message.clone();
        self.emit(
            node,
            EventKind::Panic {
                task: id,
                message: message.clone(),
            },
        );
        // The future may be in any state: drop it, and ignore a second panic.
        let _ = crate::panic::catch(AssertUnwindSafe(move || drop(task)));
        self.failure(
            Cause::Panic {
                task: Some(id),
                message,
                location: panic.location,
            },
            node,
        )
    }

    fn deadlock(&self) -> Failure {
        let blocked = {
            let tasks = self.tasks.borrow();
            tasks.iter().map(|entry| self.blocked_task(entry)).collect()
        };
        self.failure(Cause::Deadlock { blocked }, None)
    }

    fn blocked_task(&self, entry: &task::TaskEntry) -> BlockedTask {
        BlockedTask {
            task: entry.id,
            node: entry
                .node
                .map_or_else(|| "sim".to_owned(), |n| self.node_name(n).to_string()),
            spawned_at: entry.spawned_at.to_string(),
            since: entry.polled_at,
        }
    }

    /// The `count` live tasks polled longest ago (ties in spawn order).
    fn waiting_longest(&self, count: usize) -> Vec<BlockedTask> {
        let tasks = self.tasks.borrow();
        let mut entries: Vec<&task::TaskEntry> = tasks.iter().collect();
        entries.sort_by_key(|entry| (entry.polled_at, entry.id));
        entries
            .into_iter()
            .take(count)
            .map(|entry| self.blocked_task(entry))
            .collect()
    }

    /// The livelock failure, naming the task the step was about to poll.
    #[cold]
    fn livelock(&self, polling: Option<(u32, TaskId)>) -> Failure {
        let last = polling.and_then(|(slot, id)| {
            let tasks = self.tasks.borrow();
            tasks.get(slot, id).map(|entry| self.blocked_task(entry))
        });
        self.failure(
            Cause::Livelock {
                instant_steps_max: self.config.instant_steps_max,
                last,
            },
            None,
        )
    }

    // ----- what the watchdog sees -----

    /// Marks this world as running for the watchdog until the guard drops,
    /// first giving it this world's seed and replay line.
    fn watch(&self) -> Watched<'_> {
        let heartbeat = &self.heartbeat;
        {
            let mut info = heartbeat.info.lock().unwrap_or_else(|e| e.into_inner());
            if info.world != self.id {
                info.world = self.id;
                info.seed = self.config.seed;
                info.replay.clone_from(&self.config.replay);
            }
        }
        let limit = self.config.watchdog.map_or(0, |limit| {
            u64::try_from(limit.as_nanos()).unwrap_or(u64::MAX)
        });
        heartbeat.limit.store(limit, Ordering::Relaxed);
        heartbeat
            .now
            .store(self.now.get().as_nanos(), Ordering::Relaxed);
        heartbeat.polling.store(0, Ordering::Relaxed);
        heartbeat.running.store(true, Ordering::Relaxed);
        Watched(heartbeat)
    }

    pub(crate) fn failure(&self, cause: Cause, node: Option<NodeId>) -> Failure {
        let seed = self.config.seed;
        // The failure's instant ends the trace, so a viewer can mark it.
        self.emit(
            node,
            EventKind::Failure {
                cause: cause.to_string(),
            },
        );
        Failure::new(FailureInner {
            seed,
            time: self.now.get(),
            node: node.map(|n| self.node_name(n).to_string()),
            cause,
            replay: self
                .config
                .replay
                .clone()
                .unwrap_or_else(|| crate::error::default_replay(seed)),
            steps: self.steps.get(),
            trace: self.trace_summary(),
            plan: self.plan(),
            coverage: self.coverage_summary(),
        })
    }

    pub(crate) fn live_tasks(&self) -> usize {
        self.tasks.borrow().live
    }
}

impl Drop for World {
    fn drop(&mut self) {
        let (task_slots, ready) = self.tasks.get_mut().take_buffers();
        let (timer_slots, near) = self.timers.get_mut().take_buffers();
        let mut nodes = std::mem::take(self.nodes.get_mut());
        let mut last_names = std::mem::take(&mut self.last_names);
        last_names.clear();
        // Shared, not moved out: a node entry is big.
        last_names.extend(
            nodes
                .iter()
                .take(recycle::KEPT_MAX)
                .map(|node| (node.name.clone(), node.watch_name)),
        );
        // The nodes' and extensions' contents are dropped here, before
        // their buffers move on.
        nodes.clear();
        let mut extensions = std::mem::take(self.extensions.get_mut());
        extensions.clear();
        let mut names = std::mem::take(self.node_names.get_mut());
        names.clear();
        let wakers = std::mem::take(self.spare_wakers.get_mut());
        let shared = self.shared.clone();
        recycle::keep(|spare| {
            spare.task_slots = task_slots;
            spare.ready = ready;
            spare.timer_slots = timer_slots;
            spare.near = near;
            spare.nodes = nodes;
            spare.extensions = extensions;
            spare.names = names;
            spare.last_names = last_names;
            spare.wakers = wakers;
            spare.shared = Some(shared);
        });
    }
}

/// Keeps the watchdog looking at a world while its step loop runs.
struct Watched<'a>(&'a watchdog::Heartbeat);

impl Drop for Watched<'_> {
    fn drop(&mut self) {
        self.0.running.store(false, Ordering::Relaxed);
    }
}

fn validate_node_name(name: &str) -> Result<(), SimError> {
    let reason = if name.is_empty() {
        Some("it is empty")
    } else if name == "sim" {
        Some("`sim` is reserved for the test harness")
    } else if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        Some("use ASCII letters, digits, `-`, `_` and `.` only")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(SimError::InvalidNodeName {
            name: name.to_owned(),
            reason,
        }),
        None => Ok(()),
    }
}
