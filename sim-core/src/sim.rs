//! The public face of a world: [`Sim`] (owns it), [`SimBuilder`], [`SimHandle`]
//! (controls it from inside), [`NodeContext`] (a node's view) and [`Report`].

use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::rc::Rc;
use std::time::Duration;

use std::collections::BTreeMap;

use crate::Seed;
use crate::error::{Cause, Failure, SimError};
use crate::extension::Extension;
use crate::fault::{Fault, Plan, PlanError};
use crate::rng::SimRng;
use crate::runtime::Clock;
use crate::time::Instant;
use crate::trace::{ConsoleLevel, Trace, TraceMode};
use crate::world::Coverage;
use crate::world::{Config, Enter, JoinHandle, NodeId, NodeState, PollOrder, World, with_world};

/// Builds a [`Sim`]. A world cannot be built without a seed.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use detsim::{PollOrder, Seed, Sim};
///
/// let sim = Sim::builder(Seed::new(42))
///     .poll_order(PollOrder::Random)
///     .time_limit(Duration::from_secs(60))
///     .steps_max(1_000_000)
///     .build()
///     .unwrap();
/// assert_eq!(sim.seed(), Seed::new(42));
/// ```
#[derive(Clone, Debug)]
pub struct SimBuilder {
    config: Config,
    console: Option<ConsoleLevel>,
    /// Set by [`SimBuilder::watchdog`]; otherwise `SIM_WATCHDOG` or the default.
    watchdog: Option<Option<Duration>>,
}

/// The default [`SimBuilder::instant_steps_max`].
pub const INSTANT_STEPS_MAX: u64 = 1_000_000;

impl SimBuilder {
    /// A builder for a world with `seed` and default options: FIFO poll
    /// order, at most 100 million steps, at most [`INSTANT_STEPS_MAX`] steps
    /// at one virtual instant, at most 24 hours of virtual time, a watchdog
    /// that ends the process when one step takes 20 s of wall time
    /// (`SIM_WATCHDOG`), fingerprint-only trace, console logging from
    /// `SIM_LOG` (default `info`).
    pub fn new(seed: Seed) -> SimBuilder {
        SimBuilder {
            config: Config {
                seed,
                poll_order: PollOrder::Fifo,
                steps_max: 100_000_000,
                instant_steps_max: INSTANT_STEPS_MAX,
                watchdog: Some(crate::world::WATCHDOG_DEFAULT),
                time_limit: Some(Duration::from_secs(24 * 3600)),
                trace: TraceMode::Fingerprint,
                replay: None,
                buggify: true,
                intercept: true,
                forks: crate::Forks::none(),
                coverage_sink: None,
            },
            console: None,
            watchdog: None,
        }
    }

    /// How tasks ready at the same instant are ordered.
    pub fn poll_order(mut self, order: PollOrder) -> SimBuilder {
        self.config.poll_order = order;
        self
    }

    /// The most steps (polls and timer firings) a run may take before it
    /// fails as a livelock.
    pub fn steps_max(mut self, steps_max: u64) -> SimBuilder {
        self.config.steps_max = steps_max;
        self
    }

    /// The most steps a run may take at one virtual instant before it fails
    /// as a livelock ([`Cause::Livelock`]): tasks that keep each other busy
    /// without ever waiting on time (`loop { yield_now().await }`, a zero
    /// sleep in a loop, a busy retry) are reported within a second instead
    /// of at the step limit. Default [`INSTANT_STEPS_MAX`].
    pub fn instant_steps_max(mut self, steps_max: u64) -> SimBuilder {
        self.config.instant_steps_max = steps_max;
        self
    }

    /// How much wall time one step (a poll, a timer firing) may take before
    /// the watchdog, a thread that watches every running world, prints the
    /// seed, the virtual time, the node and task being polled with where it
    /// was spawned, and the replay line, and ends the process (a task stuck
    /// in `loop {}` or a blocking call cannot be stopped any other way).
    /// `None` turns it off. Default: `SIM_WATCHDOG` (`30s`, `500ms`, `off`),
    /// else 20 s. The watchdog only watches: it changes nothing in a run.
    pub fn watchdog(mut self, limit: Option<Duration>) -> SimBuilder {
        self.watchdog = Some(limit);
        self
    }

    /// The most virtual time a run may reach before it fails.
    pub fn time_limit(mut self, limit: Duration) -> SimBuilder {
        self.config.time_limit = Some(limit);
        self
    }

    /// No virtual time limit (the step limit still applies).
    pub fn no_time_limit(mut self) -> SimBuilder {
        self.config.time_limit = None;
        self
    }

    /// What the trace keeps.
    pub fn trace(mut self, mode: TraceMode) -> SimBuilder {
        self.config.trace = mode;
        self
    }

    /// The command line a failure report prints to replay the run (default:
    /// `SIM_SEED=<seed> cargo test -p <package> -- --exact <test>`, guessed
    /// from the test thread's name).
    pub fn replay(mut self, command: impl Into<String>) -> SimBuilder {
        self.config.replay = Some(command.into());
        self
    }

    /// Which `tracing` events of code in the world are printed, as
    /// `t=1.000000s n1 INFO target: message` lines: a level name (`error`,
    /// `warn`, `info`, `debug`, `trace`) or `off`. Overrides `SIM_LOG`.
    ///
    /// # Errors
    ///
    /// [`SimError::InvalidConfig`] for another word.
    pub fn console(mut self, level: &str) -> Result<SimBuilder, SimError> {
        self.console = Some(ConsoleLevel::parse(level)?);
        Ok(self)
    }

    /// Whether `buggify!()` sites may fire (default: yes).
    pub fn buggify(mut self, enabled: bool) -> SimBuilder {
        self.config.buggify = enabled;
        self
    }

    /// Whether the world intercepts OS entropy and clocks (default: yes; it
    /// takes effect only in a build with the `intercept` feature, see
    /// [`INTERCEPTS_OS`](crate::INTERCEPTS_OS)). Off, third-party calls to
    /// `getrandom` or `clock_gettime` reach the OS even inside the world.
    pub fn intercept_os(mut self, intercept: bool) -> SimBuilder {
        self.config.intercept = intercept;
        self
    }

    /// Forks the run (see [`Forks`](crate::Forks)): it draws like its
    /// parent up to each fork instant, and from new randomness after.
    pub fn forks(mut self, forks: crate::Forks) -> SimBuilder {
        self.config.forks = forks;
        self
    }

    /// The run's forks.
    pub fn fork_chain(&self) -> &crate::Forks {
        &self.config.forks
    }

    /// Leaves the run's coverage keys in `sink` (an exploring sweep's case does).
    pub(crate) fn coverage_sink(mut self, sink: Option<crate::explore::Sink>) -> SimBuilder {
        self.config.coverage_sink = sink;
        self
    }

    /// Prints no log lines (for sweeps).
    pub fn quiet(mut self) -> SimBuilder {
        self.console = Some(ConsoleLevel::off());
        self
    }

    /// The seed.
    pub fn seed(&self) -> Seed {
        self.config.seed
    }

    /// What the trace keeps.
    pub fn trace_mode(&self) -> TraceMode {
        self.config.trace
    }

    /// Replaces the seed (to run the same configuration for another seed).
    pub fn with_seed(mut self, seed: Seed) -> SimBuilder {
        self.config.seed = seed;
        self
    }

    /// Builds the world.
    ///
    /// # Errors
    ///
    /// [`SimError::InvalidConfig`] for a zero step limit, a zero time limit,
    /// a zero watchdog limit, or a malformed `SIM_LOG` or `SIM_WATCHDOG`.
    pub fn build(mut self) -> Result<Sim, SimError> {
        if self.config.steps_max == 0 {
            return Err(SimError::InvalidConfig(
                "steps_max must be above zero".into(),
            ));
        }
        if self.config.instant_steps_max == 0 {
            return Err(SimError::InvalidConfig(
                "instant_steps_max must be above zero".into(),
            ));
        }
        self.config.watchdog = match self.watchdog {
            Some(Some(Duration::ZERO)) => {
                return Err(SimError::InvalidConfig(
                    "the watchdog limit must be above zero (or None for no watchdog)".into(),
                ));
            }
            Some(limit) => limit,
            None => crate::world::watchdog_env_limit().map_err(SimError::InvalidConfig)?,
        };
        if self.config.time_limit == Some(Duration::ZERO) {
            return Err(SimError::InvalidConfig(
                "time_limit must be above zero".into(),
            ));
        }
        if let TraceMode::Record { events_max: 0 } = self.config.trace {
            return Err(SimError::InvalidConfig(
                "trace events_max must be above zero".into(),
            ));
        }
        let console = match self.console {
            Some(console) => console,
            None => ConsoleLevel::from_env()?,
        };
        let world = World::new(self.config, console);
        Ok(Sim { world })
    }
}

/// A simulated world: nodes, tasks, virtual time and randomness, all driven
/// by one thread from one seed.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use detsim::{Seed, Sim, time};
///
/// let mut sim = Sim::new(Seed::new(7));
/// let server = sim.add_node("server", |_ctx| async {
///     loop {
///         time::sleep(Duration::from_secs(1)).await;
///         tracing::info!("tick");
///     }
/// }).unwrap();
/// let report = sim.run(async move {
///     time::sleep(Duration::from_millis(2500)).await;
///     detsim::handle().crash(server).unwrap();
///     time::sleep(Duration::from_secs(1)).await;
/// }).unwrap();
/// assert_eq!(report.elapsed.as_nanos(), 3_500_000_000);
/// ```
pub struct Sim {
    world: Rc<World>,
}

impl Sim {
    /// A world with `seed` and the default options.
    pub fn new(seed: Seed) -> Sim {
        SimBuilder::new(seed)
            .build()
            .unwrap_or_else(|e| panic!("detsim: {e}"))
    }

    /// A builder for a world with `seed`.
    pub fn builder(seed: Seed) -> SimBuilder {
        SimBuilder::new(seed)
    }

    /// The seed.
    pub fn seed(&self) -> Seed {
        self.world.seed()
    }

    /// The world's true virtual time.
    pub fn now(&self) -> Instant {
        self.world.now()
    }

    /// A handle that controls this world from inside it (and, through
    /// [`Sim::enter`], from outside).
    pub fn handle(&self) -> SimHandle {
        SimHandle {
            world: self.world.id,
        }
    }

    /// Runs `f` with this world entered, so handles and ambient APIs work.
    pub fn enter<R>(&self, f: impl FnOnce(SimHandle) -> R) -> R {
        let _enter = Enter::new(&self.world);
        f(self.handle())
    }

    /// Adds a node named `name` whose tasks start with `init`; `init` runs
    /// again on every restart. See [`SimHandle::add_node`].
    ///
    /// # Errors
    ///
    /// [`SimError::DuplicateNode`] or [`SimError::InvalidNodeName`].
    #[track_caller]
    pub fn add_node<F, Fut>(&mut self, name: &str, init: F) -> Result<NodeId, SimError>
    where
        F: Fn(NodeContext) -> Fut + 'static,
        Fut: Future<Output = ()> + 'static,
    {
        let location = Location::caller();
        // Entered, the world is at hand: no second lookup through a handle.
        let _enter = Enter::new(&self.world);
        self.world.add_node(name, init_fn(init), location)
    }

    /// Crashes a node now. See [`SimHandle::crash`].
    ///
    /// # Errors
    ///
    /// See [`SimHandle::crash`].
    pub fn crash(&mut self, node: impl AsNode) -> Result<(), SimError> {
        self.enter(|h| h.crash(node))
    }

    /// Restarts a crashed node now. See [`SimHandle::restart`].
    ///
    /// # Errors
    ///
    /// See [`SimHandle::restart`].
    pub fn restart(&mut self, node: impl AsNode) -> Result<(), SimError> {
        self.enter(|h| h.restart(node))
    }

    /// Installs an extension. See [`SimHandle::install`].
    ///
    /// # Errors
    ///
    /// See [`SimHandle::install`].
    pub fn install<T: Extension>(&mut self, extension: Rc<T>) -> Result<(), SimError> {
        let _enter = Enter::new(&self.world);
        self.world.install(extension)
    }

    /// The installed extension of type `T`.
    pub fn extension<T: Extension>(&self) -> Option<Rc<T>> {
        self.world.extension::<T>()
    }

    /// Validates a fault plan and schedules it. See [`SimHandle::apply_plan`].
    ///
    /// # Errors
    ///
    /// See [`SimHandle::apply_plan`].
    pub fn apply_plan(&mut self, plan: Plan) -> Result<(), PlanError> {
        self.enter(|h| h.apply_plan(plan))
    }

    /// Runs the world until `body` completes, and returns its output with a
    /// report of the run.
    ///
    /// `body` runs as a task of the test harness (node `sim`). Other tasks
    /// keep their state when `run` returns, so a world can be run again.
    ///
    /// # Errors
    ///
    /// A [`Failure`] when a task panics, the world deadlocks, a step or time
    /// limit is exceeded, or a determinism leak is detected. Once a world has
    /// failed, every later `run` returns the same failure.
    #[track_caller]
    pub fn run<F>(&mut self, body: F) -> Result<Report<F::Output>, Failure>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let location = Location::caller();
        let world = self.world.clone();
        assert!(
            !Enter::other_running(&world),
            "detsim: `Sim::run` was called inside another simulation (seed {}): worlds cannot be \
             nested on one thread; run them one after another, or each on its own thread",
            world.seed()
        );
        let _enter = Enter::new(&world);
        crate::trace::dispatch(|| {
            let mut handle = world.spawn(None, body, location);
            world.run_until(&|| handle.is_finished())?;
            match handle.try_take() {
                Some(Ok(value)) => Ok(Report {
                    value,
                    seed: world.seed(),
                    elapsed: world.now(),
                    steps: world.steps(),
                    trace: world.trace_summary(),
                    plan: world.plan(),
                    skipped_faults: world.skipped_faults(),
                    coverage: world.coverage_summary(),
                }),
                Some(Err(error)) => Err(world.failure(
                    Cause::Check {
                        message: format!("the test body ended without output: {error}"),
                    },
                    None,
                )),
                None => unreachable!("run_until returned before the body finished"),
            }
        })
    }

    /// Runs the world for `duration` of virtual time.
    ///
    /// # Errors
    ///
    /// As [`Sim::run`].
    #[track_caller]
    pub fn run_for(&mut self, duration: Duration) -> Result<Report<()>, Failure> {
        self.run(async move { crate::time::sleep(duration).await })
    }

    /// The trace so far.
    pub fn trace(&self) -> Trace {
        self.world.trace_summary()
    }
}

impl fmt::Debug for Sim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sim")
            .field("seed", &self.world.seed())
            .field("now", &self.world.now())
            .field("nodes", &self.world.node_count())
            .field("tasks", &self.world.live_tasks())
            .finish()
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        // Tasks hold wakers and user state; drop them with the world entered
        // so their destructors can use the world.
        // Never panic here: a second panic while unwinding (a `Sim` dropped
        // by a panic inside another world's task) would abort the process
        // before the first panic's message is shown.
        let world = self.world.clone();
        let _enter = Enter::swap_in(&world);
        let _ = crate::panic::catch(std::panic::AssertUnwindSafe(|| world.clear()));
    }
}

/// The outcome of a successful [`Sim::run`].
#[derive(Clone, Debug)]
pub struct Report<T> {
    /// The body's output.
    pub value: T,
    /// The world's seed.
    pub seed: Seed,
    /// Virtual (true) time at the end of the run.
    pub elapsed: Instant,
    /// Steps taken so far (task polls and timer firings).
    pub steps: u64,
    /// The trace so far: fingerprint, event count, and the events if recorded.
    pub trace: Trace,
    /// The fault plan applied, if any.
    pub plan: Option<Plan>,
    /// The plan's entries that could not be applied when due (a crash of a
    /// node the test had already crashed by hand, say), in words.
    pub skipped_faults: Vec<String>,
    /// `always!`/`sometimes!` counts: how often each was evaluated and held.
    pub coverage: BTreeMap<String, Coverage>,
}

impl<T> fmt::Display for Report<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "seed {}: ran to t={} in {} steps, {} events, fingerprint {}",
            self.seed, self.elapsed, self.steps, self.trace.count, self.trace.fingerprint
        )?;
        if !self.skipped_faults.is_empty() {
            write!(
                f,
                "; {} plan entries skipped: {}",
                self.skipped_faults.len(),
                self.skipped_faults.join("; ")
            )?;
        }
        Ok(())
    }
}

/// A pending callback scheduled with [`SimHandle::call_at`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timer {
    world: u64,
    key: crate::world::TimerKey,
}

/// A node's init as the world keeps it: spawns `init`'s future on the node.
fn init_fn<F, Fut>(init: F) -> crate::world::InitFn
where
    F: Fn(NodeContext) -> Fut + 'static,
    Fut: Future<Output = ()> + 'static,
{
    let make = move || -> crate::world::InitFn {
        Rc::new(move |world, node, location| {
            let future = init(NodeContext::new(world.id, Some(node)));
            world.spawn_detached(Some(node), future, location);
        })
    };
    // A closure with no state and nothing to drop (`|_| async { … }` that
    // captures nothing) behaves the same whichever value of its type is
    // called: every node given one shares one, instead of a new allocation.
    if std::mem::size_of::<F>() == 0 && !std::mem::needs_drop::<F>() {
        stateless_init(std::any::TypeId::of::<F>(), make)
    } else {
        make()
    }
}

/// The shared init of the stateless closure type `type_id`, made by `make`
/// the first time on this thread.
fn stateless_init(
    type_id: std::any::TypeId,
    make: impl FnOnce() -> crate::world::InitFn,
) -> crate::world::InitFn {
    /// How many stateless init types a thread keeps.
    const KEPT: usize = 16;
    thread_local! {
        static STATELESS: std::cell::RefCell<Vec<(std::any::TypeId, crate::world::InitFn)>> =
            const { std::cell::RefCell::new(Vec::new()) };
    }
    let mut make = Some(make);
    let shared = STATELESS
        .try_with(|kept| {
            let mut kept = kept.try_borrow_mut().ok()?;
            if let Some((_, init)) = kept.iter().find(|(t, _)| *t == type_id) {
                return Some(init.clone());
            }
            let init = make.take()?();
            if kept.len() < KEPT {
                kept.push((type_id, init.clone()));
            }
            Some(init)
        })
        .ok()
        .flatten();
    match (shared, make) {
        (Some(init), _) => init,
        (None, Some(make)) => make(),
        (None, None) => unreachable!("an init made is returned"),
    }
}

/// Something that names a node: a [`NodeId`] or the node's name.
pub trait AsNode {
    /// Resolves to the node's id in the current world.
    ///
    /// # Errors
    ///
    /// [`SimError::UnknownNode`].
    fn resolve(&self, handle: &SimHandle) -> Result<NodeId, SimError>;

    /// The id itself, when this is one (checked by the caller, in the
    /// world it already has at hand).
    #[doc(hidden)]
    fn as_id(&self) -> Option<NodeId> {
        None
    }
}

impl AsNode for NodeId {
    fn resolve(&self, handle: &SimHandle) -> Result<NodeId, SimError> {
        handle.with(|w| w.check_node(*self)).map(|()| *self)
    }

    fn as_id(&self) -> Option<NodeId> {
        Some(*self)
    }
}

impl AsNode for &str {
    fn resolve(&self, handle: &SimHandle) -> Result<NodeId, SimError> {
        handle.with(|w| w.node_id(self))
    }
}

impl AsNode for String {
    fn resolve(&self, handle: &SimHandle) -> Result<NodeId, SimError> {
        self.as_str().resolve(handle)
    }
}

/// Controls a world from inside it: add, crash, restart, pause and resume
/// nodes, skew their clocks, schedule actions, reach extensions.
///
/// A handle is a small `Copy` value; it works while its world is running on
/// the current thread (or entered with [`Sim::enter`]).
///
/// # Panics
///
/// Every method panics when the handle's world is not the one running on this thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SimHandle {
    pub(crate) world: u64,
}

impl SimHandle {
    /// The handle of the world running on this thread.
    ///
    /// # Panics
    ///
    /// Panics outside a simulation.
    #[inline]
    #[track_caller]
    pub fn current() -> SimHandle {
        match crate::world::mirror_world_id() {
            Some(world) => SimHandle { world },
            None => with_world("detsim::handle", |w| SimHandle { world: w.id }),
        }
    }

    /// The handle of the world running on this thread, if any.
    #[inline]
    pub fn try_current() -> Option<SimHandle> {
        crate::world::mirror_world_id().map(|world| SimHandle { world })
    }

    #[track_caller]
    pub(crate) fn with<R>(&self, f: impl FnOnce(&World) -> R) -> R {
        let id = self.world;
        with_world("SimHandle", |w| {
            assert_eq!(
                w.id, id,
                "detsim: this handle belongs to another simulation than the one running on this thread"
            );
            f(w)
        })
    }

    /// The world's seed.
    pub fn seed(&self) -> Seed {
        self.with(|w| w.seed())
    }

    /// The world's true virtual time (nodes read skewed local clocks through
    /// [`time::now`](crate::time::now)).
    #[inline]
    pub fn now(&self) -> Instant {
        match crate::world::mirror_now(self.world) {
            Some(now) => now,
            None => self.with(|w| w.now()),
        }
    }

    /// Adds a node while the world runs (scale-out); its `init` starts at once.
    ///
    /// # Errors
    ///
    /// [`SimError::DuplicateNode`] or [`SimError::InvalidNodeName`] (names
    /// are ASCII letters, digits, `-`, `_`, `.`; `sim` is reserved).
    #[track_caller]
    pub fn add_node<F, Fut>(&self, name: &str, init: F) -> Result<NodeId, SimError>
    where
        F: Fn(NodeContext) -> Fut + 'static,
        Fut: Future<Output = ()> + 'static,
    {
        self.add_node_at(name, init, Location::caller())
    }

    fn add_node_at<F, Fut>(
        &self,
        name: &str,
        init: F,
        location: &'static Location<'static>,
    ) -> Result<NodeId, SimError>
    where
        F: Fn(NodeContext) -> Fut + 'static,
        Fut: Future<Output = ()> + 'static,
    {
        let init = init_fn(init);
        self.with(|w| w.add_node(name, init, location))
    }

    /// The node named `name`.
    ///
    /// # Errors
    ///
    /// [`SimError::UnknownNode`].
    pub fn node(&self, name: &str) -> Result<NodeId, SimError> {
        self.with(|w| w.node_id(name))
    }

    /// Every node, in the order added.
    pub fn nodes(&self) -> Vec<NodeId> {
        self.with(|w| {
            (0..w.node_count() as u32)
                .map(|i| NodeId::new(i, w.id))
                .collect()
        })
    }

    /// A node's name.
    ///
    /// # Errors
    ///
    /// [`SimError::UnknownNode`].
    pub fn node_name(&self, node: impl AsNode) -> Result<String, SimError> {
        let node = node.resolve(self)?;
        Ok(self.with(|w| w.node_name(node).to_string()))
    }

    /// A node's name, shared with the world (no copy): for extensions that
    /// keep the names of the nodes they hear of. `None` for an unknown node.
    pub fn node_name_shared(&self, node: NodeId) -> Option<Rc<str>> {
        self.with(|w| w.check_node(node).ok().map(|()| w.node_name(node)))
    }

    /// A node's lifecycle state.
    ///
    /// # Errors
    ///
    /// [`SimError::UnknownNode`].
    pub fn node_state(&self, node: impl AsNode) -> Result<NodeState, SimError> {
        let node = node.resolve(self)?;
        Ok(self.with(|w| w.node_state(node)))
    }

    /// How many times the node has crashed (its incarnation number).
    ///
    /// # Errors
    ///
    /// [`SimError::UnknownNode`].
    pub fn incarnation(&self, node: impl AsNode) -> Result<u64, SimError> {
        let node = node.resolve(self)?;
        Ok(self.with(|w| w.node_incarnation(node)))
    }

    /// Crashes a running or paused node: every task of it is dropped at once
    /// (destructors run, its timers are cancelled, nothing of it is polled
    /// again, join handles report [`JoinError::Crashed`](crate::JoinError::Crashed)),
    /// and extensions are told (the network closes its sockets, the disk loses
    /// what was not synced). A task that crashes its own node stops at once:
    /// the call does not return to it (it unwinds, running the task's
    /// destructors, as the machine it models would simply stop).
    ///
    /// # Errors
    ///
    /// [`SimError::UnknownNode`], or [`SimError::NodeState`] if it is already crashed.
    pub fn crash(&self, node: impl AsNode) -> Result<(), SimError> {
        let node = node.resolve(self)?;
        self.with(|w| w.crash(node))
    }

    /// Restarts a crashed node: extensions are told, then its init runs again.
    ///
    /// # Errors
    ///
    /// [`SimError::UnknownNode`], or [`SimError::NodeState`] unless it is crashed.
    pub fn restart(&self, node: impl AsNode) -> Result<(), SimError> {
        let node = node.resolve(self)?;
        self.with(|w| w.restart(node))
    }

    /// Pauses a running node (a GC stall): its tasks are not polled and its
    /// timers do not fire until [`SimHandle::resume`]; nothing is lost.
    ///
    /// # Errors
    ///
    /// [`SimError::UnknownNode`], or [`SimError::NodeState`] unless it is running.
    pub fn pause(&self, node: impl AsNode) -> Result<(), SimError> {
        let node = node.resolve(self)?;
        self.with(|w| w.pause(node))
    }

    /// Resumes a paused node: tasks woken meanwhile run in the order they
    /// were woken, and timers that came due fire.
    ///
    /// # Errors
    ///
    /// [`SimError::UnknownNode`], or [`SimError::NodeState`] unless it is paused.
    pub fn resume(&self, node: impl AsNode) -> Result<(), SimError> {
        let node = node.resolve(self)?;
        self.with(|w| w.resume(node))
    }

    /// Steps a node's wall clock ([`time::system_now`](crate::time::system_now))
    /// by `delta_nanos` (negative: backwards). Its monotonic clock
    /// ([`time::now`](crate::time::now), sleeps, timers) never jumps.
    ///
    /// # Errors
    ///
    /// [`SimError::UnknownNode`].
    pub fn clock_jump(&self, node: impl AsNode, delta_nanos: i64) -> Result<(), SimError> {
        let node = node.resolve(self)?;
        self.with(|w| w.adjust_clock(node, delta_nanos, None))
    }

    /// Sets a node's clock drift in parts per million (`1000`: its clock runs
    /// 0.1% fast; `-1000`: 0.1% slow) from now on.
    ///
    /// # Errors
    ///
    /// [`SimError::UnknownNode`], or [`SimError::InvalidConfig`] outside `(-1e6, 1e6)`.
    pub fn clock_drift(&self, node: impl AsNode, drift_ppm: i64) -> Result<(), SimError> {
        let node = node.resolve(self)?;
        self.with(|w| w.adjust_clock(node, 0, Some(drift_ppm)))
    }

    /// Spawns a task on `node` (from the harness or another node).
    ///
    /// On a crashed node the task never runs and its handle reports
    /// [`JoinError::Crashed`](crate::JoinError::Crashed).
    ///
    /// # Errors
    ///
    /// [`SimError::UnknownNode`].
    #[track_caller]
    pub fn spawn_on<F>(
        &self,
        node: impl AsNode,
        future: F,
    ) -> Result<JoinHandle<F::Output>, SimError>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let location = Location::caller();
        // An id is checked in the same visit to the world as the spawn.
        let id = node.as_id();
        let node = match id {
            Some(id) => id,
            None => node.resolve(self)?,
        };
        self.with(|w| {
            if id.is_some() {
                w.check_node(node)?;
            }
            Ok(w.spawn(Some(node), future, location))
        })
    }

    /// Runs `action` at true virtual time `at` (at once if it has passed),
    /// from a harness task: the way to schedule faults from outside a node.
    #[track_caller]
    pub fn schedule<F>(&self, at: Instant, action: F) -> JoinHandle<()>
    where
        F: FnOnce(SimHandle) + 'static,
    {
        let location = Location::caller();
        let handle = *self;
        self.with(|w| {
            let sleep = crate::time::Sleep::new_true(w, at);
            w.spawn(
                None,
                async move {
                    sleep.await;
                    action(handle);
                },
                location,
            )
        })
    }

    /// Installs an extension (the network, the disks, or your own).
    ///
    /// # Errors
    ///
    /// [`SimError::InvalidConfig`] if one of the same type is installed.
    pub fn install<T: Extension>(&self, extension: Rc<T>) -> Result<(), SimError> {
        self.with(|w| w.install(extension))
    }

    /// The installed extension of type `T`.
    pub fn extension<T: Extension>(&self) -> Option<Rc<T>> {
        self.with(|w| w.extension::<T>())
    }

    /// Validates a fault plan against this world and schedules its entries:
    /// each fault is applied at its instant and undone when its duration ends.
    /// The plan is recorded in the trace (one event per applied entry) and in
    /// failure reports. Add nodes and install extensions first.
    ///
    /// # Errors
    ///
    /// A [`PlanError`] naming the first bad entry: an unknown node, zone or
    /// region, a value out of range, a fault no installed extension applies,
    /// or an entry the plan itself makes impossible (a restart of a node it
    /// never crashed).
    pub fn apply_plan(&self, plan: Plan) -> Result<(), PlanError> {
        self.with(|w| w.apply_plan(plan))
    }

    /// Applies one fault now (without a duration: undo it with another fault).
    ///
    /// # Errors
    ///
    /// [`SimError::Fault`] with the reason it cannot be applied.
    pub fn apply_fault(&self, fault: &Fault) -> Result<(), SimError> {
        self.with(|w| w.apply_fault(fault))
            .map(drop)
            .map_err(SimError::Fault)
    }

    /// The plan applied to this world so far.
    pub fn plan(&self) -> Option<Plan> {
        self.with(|w| w.plan())
    }

    /// Registers the handler of `Fault::Custom` faults named `name`: it gets
    /// the fault's arguments and returns how to undo it, or why it cannot apply.
    pub fn on_custom_fault(
        &self,
        name: &str,
        handler: impl Fn(&serde_json::Value) -> Result<Option<crate::Undo>, String> + 'static,
    ) {
        self.with(|w| {
            w.cold()
                .custom_faults
                .borrow_mut()
                .insert(name.to_owned(), Rc::new(handler))
        });
    }

    /// Registers an invariant checked after every step; an `Err` fails the
    /// run with [`Cause::Invariant`] naming it. Keep it cheap: it runs often.
    pub fn invariant(&self, name: &str, check: impl Fn() -> Result<(), String> + 'static) {
        self.with(|w| {
            w.add_invariant(crate::world::Invariant {
                name: name.to_owned(),
                check: Rc::new(check),
            })
        });
    }

    /// Registers an invariant checked every `period` of true virtual time
    /// (from now), for checks too costly to run after every step.
    #[track_caller]
    pub fn invariant_every(
        &self,
        name: &str,
        period: Duration,
        check: impl Fn() -> Result<(), String> + 'static,
    ) -> JoinHandle<()> {
        let location = Location::caller();
        let name = name.to_owned();
        let handle = *self;
        self.with(|w| {
            w.spawn(
                None,
                async move {
                    let mut next = handle.now();
                    loop {
                        next = next.saturating_add(period);
                        Clock::sleep_until(&handle, next).await;
                        if let Err(message) = check() {
                            handle.with(|w| {
                                w.fail_now(
                                    Cause::Invariant {
                                        name: name.clone(),
                                        message,
                                    },
                                    None,
                                )
                            });
                            return;
                        }
                    }
                },
                location,
            )
        })
    }

    /// Fails the run at the end of the current step with [`Cause::Check`].
    ///
    /// A minimizer compares such failures by the message with its numbers
    /// masked; when the message carries particulars that change with the
    /// plan (a counterexample), use [`fail_with`](SimHandle::fail_with).
    pub fn fail(&self, message: impl Into<String>) {
        let message = message.into();
        self.with(|w| w.fail_now(Cause::Check { message }, w.current_node()));
    }

    /// Fails the run at the end of the current step with [`Cause::Reported`]:
    /// `title` names the failure (a minimizer keeps shrinking a plan while the
    /// same title fails), `details` explain this occurrence (a history
    /// checker's counterexample, say) and may differ from run to run.
    ///
    /// # Examples
    ///
    /// ```
    /// use detsim::{Cause, Seed, Sim};
    ///
    /// let mut sim = Sim::new(Seed::new(1));
    /// let failure = sim.run(async {
    ///     detsim::handle().fail_with("history is linearizable", "get(x) -> 3 after put(x, 4)");
    /// }).unwrap_err();
    /// assert_eq!(failure.cause().signature(), "reported history is linearizable");
    /// assert!(failure.to_string().contains("history is linearizable: get(x) -> 3 after put(x, 4)"));
    /// ```
    pub fn fail_with(&self, title: impl Into<String>, details: impl Into<String>) {
        let cause = Cause::Reported {
            title: title.into(),
            details: details.into(),
        };
        self.with(|w| w.fail_now(cause, w.current_node()));
    }

    /// Appends an extension event to the trace. `args` are what the
    /// fingerprint covers; `detail` is only rendered when the trace is recorded.
    pub fn emit(
        &self,
        node: Option<NodeId>,
        name: &'static str,
        args: [u64; 4],
        detail: impl FnOnce() -> String,
    ) {
        self.with(|w| w.emit_ext(node, name, args, detail))
    }

    /// Runs `callback` at true virtual time `at` (at once if it has passed)
    /// as a step of its own, with `node` as the current node; the returned
    /// timer can be cancelled. This is the cheap event primitive extensions
    /// build on (a message delivery is one such callback).
    pub fn call_at(
        &self,
        at: Instant,
        node: Option<NodeId>,
        callback: impl FnOnce() + 'static,
    ) -> Timer {
        self.with(|w| Timer {
            world: w.id,
            key: w.call_at(at, node, Box::new(callback)),
        })
    }

    /// Cancels a timer from [`SimHandle::call_at`]; returns whether it was
    /// still pending.
    pub fn cancel(&self, timer: Timer) -> bool {
        self.with(|w| w.id == timer.world && w.timers.borrow_mut().cancel(timer.key).is_some())
    }

    /// Draws from a named random stream of the world: `f` gets a generator
    /// that depends only on the seed and `stream`. Extensions use this to
    /// keep their decisions independent of everything else.
    pub fn stream_rng(&self, stream: &str) -> SimRng {
        self.with(|w| w.keying.stream(&[stream]))
    }
}

/// A node's view of its world: its id and name, its clock, spawning onto it,
/// and its random stream. Passed to the node's init on every (re)start.
///
/// Implements the [`Runtime`](crate::Runtime) traits, so protocol code written
/// against them runs on a node unchanged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NodeContext {
    world: u64,
    node: Option<NodeId>,
}

impl NodeContext {
    pub(crate) fn new(world: u64, node: Option<NodeId>) -> NodeContext {
        NodeContext { world, node }
    }

    fn handle(&self) -> SimHandle {
        SimHandle { world: self.world }
    }

    /// The node (`None` for the harness's context).
    pub fn id(&self) -> Option<NodeId> {
        self.node
    }

    /// The node's name (`sim` for the harness).
    pub fn name(&self) -> String {
        match self.node {
            Some(node) => self.handle().with(|w| w.node_name(node).to_string()),
            None => "sim".to_owned(),
        }
    }

    /// The world's control handle.
    pub fn sim(&self) -> SimHandle {
        self.handle()
    }

    /// The node's local time.
    pub fn now(&self) -> Instant {
        self.handle().with(|w| w.local_now(self.node))
    }

    /// The node's wall clock (see [`time::system_now`](crate::time::system_now)).
    pub fn system_time(&self) -> std::time::SystemTime {
        self.handle()
            .with(|w| crate::time::wall_time(w.wall_nanos(self.node)))
    }

    /// Sleeps for `duration` of the node's local clock.
    pub fn sleep(&self, duration: Duration) -> crate::time::Sleep {
        self.handle().with(|w| {
            crate::time::Sleep::new_true(
                w,
                crate::time::true_deadline_after(w, self.node, duration),
            )
        })
    }

    /// Sleeps until the node's local clock reads `deadline`.
    pub fn sleep_until(&self, deadline: Instant) -> crate::time::Sleep {
        self.handle()
            .with(|w| crate::time::Sleep::new_true(w, w.true_deadline(self.node, deadline)))
    }

    /// Spawns a task on this node.
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let location = Location::caller();
        self.handle().with(|w| w.spawn(self.node, future, location))
    }

    /// Runs `f` with the node's random stream.
    pub fn with_rng<R>(&self, f: impl FnOnce(&mut SimRng) -> R) -> R {
        self.handle().with(|w| w.with_rng(self.node, f))
    }

    /// How many times this node has crashed before this incarnation.
    pub fn incarnation(&self) -> u64 {
        match self.node {
            Some(node) => self.handle().with(|w| w.node_incarnation(node)),
            None => 0,
        }
    }
}

impl World {
    pub(crate) fn context(&self) -> NodeContext {
        NodeContext::new(self.id, self.current_node())
    }
}
