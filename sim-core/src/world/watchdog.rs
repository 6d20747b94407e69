//! The watchdog: a wall-clock thread that notices a run whose step never ends.
//!
//! One thread cannot preempt a task that never returns from its poll (a
//! `loop {}`, a blocking call): the step limit never sees another step. So
//! every thread that runs worlds keeps a [`Heartbeat`] that its world updates
//! with plain relaxed stores — the steps completed, the task being polled,
//! the virtual time — and one process-wide thread looks at all heartbeats a
//! few times a second. When a running world has completed no step for its
//! limit of wall time, the watchdog prints the seed, the virtual time, the
//! node and task being polled with the place it was spawned, and the replay
//! line, then ends the process: the stuck thread cannot be stopped any other
//! way.
//!
//! **Nothing here decides anything in a run**: the world only writes to its
//! heartbeat, never reads the watchdog's clock, so a run is the same whether
//! or not the watchdog looks.

use std::cell::RefCell;
use std::panic::Location;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

use crate::Seed;
use crate::time::Instant;

/// The default limit: a step (one poll or one timer firing) that takes this
/// much wall time is taken to be stuck.
pub(crate) const DEFAULT_LIMIT: Duration = Duration::from_secs(20);

/// How often the watchdog looks, at most (and at least ten times per limit).
const LOOK_EVERY_MAX: Duration = Duration::from_millis(250);

/// The exit status of a process the watchdog ends (Rust's status for a
/// failed test, so `cargo test` reports the test binary as failed).
pub(crate) const EXIT_STATUS: i32 = 101;

/// What a world publishes for the watchdog. One per OS thread, shared by the
/// worlds that run on it one after another.
pub(crate) struct Heartbeat {
    /// Steps completed by the world running now (any increasing counter works).
    pub(crate) steps: AtomicU64,
    /// Whether a world on this thread is inside its step loop.
    pub(crate) running: AtomicBool,
    /// The task being polled: its id + 1 (0: no task is being polled).
    pub(crate) polling: AtomicU64,
    /// The world's virtual time, in nanoseconds (stored when time advances).
    pub(crate) now: AtomicU64,
    /// The running world's limit in nanoseconds (0: off).
    pub(crate) limit: AtomicU64,
    /// What the report names: the world's seed, replay line, nodes and tasks.
    pub(crate) info: Mutex<Info>,
    /// The thread the worlds run on (its name is the test's, for the replay line).
    thread: std::thread::Thread,
}

/// The slow-changing facts of the running world, for the report.
#[derive(Default)]
pub(crate) struct Info {
    pub(crate) world: u64,
    pub(crate) seed: Seed,
    /// The replay line the world was given (`None`: the default one).
    pub(crate) replay: Option<String>,
    /// Node names by index.
    pub(crate) nodes: Vec<String>,
    /// By task slot: the task's id, node index and spawn site.
    pub(crate) tasks: Vec<Option<(u64, Option<u32>, &'static Location<'static>)>>,
}

thread_local! {
    static HEARTBEAT: RefCell<Option<Arc<Heartbeat>>> = const { RefCell::new(None) };
}

/// Every heartbeat, for the watchdog thread.
static HEARTBEATS: Mutex<Vec<Weak<Heartbeat>>> = Mutex::new(Vec::new());

/// The limit from `SIM_WATCHDOG`, read once per process.
static ENV_LIMIT: OnceLock<Result<Option<Duration>, String>> = OnceLock::new();

/// The limit `SIM_WATCHDOG` asks for: a duration (`30s`, `500ms`), or `off`;
/// [`DEFAULT_LIMIT`] when unset.
///
/// # Errors
///
/// The variable's text is not a duration or `off`.
pub(crate) fn env_limit() -> Result<Option<Duration>, String> {
    ENV_LIMIT
        .get_or_init(|| match std::env::var("SIM_WATCHDOG") {
            Err(_) => Ok(Some(DEFAULT_LIMIT)),
            Ok(text) => parse_limit(&text).map_err(|e| format!("SIM_WATCHDOG: {e}")),
        })
        .clone()
}

/// Parses a watchdog limit: `off`, or a duration above zero.
pub(crate) fn parse_limit(text: &str) -> Result<Option<Duration>, String> {
    let text = text.trim();
    if text == "off" {
        return Ok(None);
    }
    match crate::fault::parse_duration(text) {
        Ok(Duration::ZERO) => Err("the watchdog limit must be above zero (or `off`)".into()),
        Ok(limit) => Ok(Some(limit)),
        Err(e) => Err(format!("{e}, or `off`")),
    }
}

/// This thread's heartbeat, registered with the watchdog on first use.
pub(crate) fn heartbeat() -> Arc<Heartbeat> {
    HEARTBEAT.with(|slot| {
        slot.borrow_mut()
            .get_or_insert_with(|| {
                let heartbeat = Arc::new(Heartbeat {
                    steps: AtomicU64::new(0),
                    running: AtomicBool::new(false),
                    polling: AtomicU64::new(0),
                    now: AtomicU64::new(0),
                    limit: AtomicU64::new(0),
                    info: Mutex::new(Info::default()),
                    thread: std::thread::current(),
                });
                register(&heartbeat);
                heartbeat
            })
            .clone()
    })
}

fn register(heartbeat: &Arc<Heartbeat>) {
    let mut all = HEARTBEATS.lock().unwrap_or_else(|e| e.into_inner());
    all.retain(|weak| weak.strong_count() > 0);
    all.push(Arc::downgrade(heartbeat));
    drop(all);
    static STARTED: std::sync::Once = std::sync::Once::new();
    STARTED.call_once(|| {
        // The watchdog reads the wall clock and runs on its own thread: it
        // only watches, and decides nothing in any run.
        #[allow(clippy::disallowed_methods)]
        let started = std::thread::Builder::new()
            .name("detsim-watchdog".into())
            .spawn(watch);
        if let Err(e) = started {
            eprintln!("detsim: cannot start the watchdog thread ({e}); a hung step will hang");
        }
    });
}

/// What the watchdog remembers of one heartbeat.
struct Seen {
    heartbeat: Weak<Heartbeat>,
    steps: u64,
    since: std::time::Instant,
}

#[allow(clippy::disallowed_methods)] // The watchdog's whole job is wall time.
fn watch() {
    let mut seen: Vec<Seen> = Vec::new();
    loop {
        let now = std::time::Instant::now();
        let all: Vec<Weak<Heartbeat>> =
            HEARTBEATS.lock().unwrap_or_else(|e| e.into_inner()).clone();
        seen.retain(|s| s.heartbeat.strong_count() > 0);
        let mut look_every = LOOK_EVERY_MAX;
        for weak in all {
            let Some(heartbeat) = weak.upgrade() else {
                continue;
            };
            let steps = heartbeat.steps.load(Ordering::Relaxed);
            let running = heartbeat.running.load(Ordering::Relaxed);
            let limit = Duration::from_nanos(heartbeat.limit.load(Ordering::Relaxed));
            let entry = match seen.iter_mut().find(|s| s.heartbeat.ptr_eq(&weak)) {
                Some(entry) => entry,
                None => {
                    seen.push(Seen {
                        heartbeat: weak.clone(),
                        steps,
                        since: now,
                    });
                    seen.last_mut().expect("just pushed")
                }
            };
            if !running || limit.is_zero() || steps != entry.steps {
                entry.steps = steps;
                entry.since = now;
                continue;
            }
            look_every = look_every.min(limit / 10);
            let stuck = now.duration_since(entry.since);
            if stuck >= limit {
                eprintln!("{}", report(&heartbeat, stuck));
                std::process::exit(EXIT_STATUS);
            }
        }
        std::thread::sleep(look_every.max(Duration::from_millis(1)));
    }
}

/// The watchdog's report of a stuck world.
fn report(heartbeat: &Heartbeat, stuck: Duration) -> String {
    let info = heartbeat.info.lock().unwrap_or_else(|e| e.into_inner());
    let polling = heartbeat.polling.load(Ordering::Relaxed);
    let time = Instant::from_nanos(heartbeat.now.load(Ordering::Relaxed));
    let task = (polling > 0)
        .then(|| {
            let id = polling - 1;
            info.tasks.iter().flatten().find(|(task, ..)| *task == id)
        })
        .flatten();
    let node = match task {
        Some((_, Some(node), _)) => info
            .nodes
            .get(*node as usize)
            .cloned()
            .unwrap_or_else(|| format!("node#{node}")),
        _ => "sim".to_owned(),
    };
    let what = match task {
        Some((id, _, site)) => format!(
            "task{id} has been in one poll for {:.1}s of wall time without returning (spawned at {site}): \
             a loop that never reaches an `.await` that waits (`loop {{}}`, a busy retry on `try_recv`), \
             or a blocking call (a std lock, a channel, `thread::sleep`, real I/O)",
            stuck.as_secs_f64()
        ),
        None => format!(
            "no step completed for {:.1}s of wall time, and no task is being polled: a timer callback \
             (an extension's or `call_at`'s) or the world's own code is stuck",
            stuck.as_secs_f64()
        ),
    };
    let replay = info.replay.clone().unwrap_or_else(|| {
        format!(
            "SIM_SEED={} {}",
            info.seed,
            crate::error::command_for(&heartbeat.thread)
        )
    });
    format!(
        "simulation hung: the detsim watchdog ends the process\n  \
           seed:   {}\n  \
           time:   t={time}\n  \
           node:   {node}\n  \
           cause:  {what}\n  \
           replay: {replay}\n  \
           (the replay line was not run again: a hung run cannot be rerun in this process; \
           the watchdog's limit is SIM_WATCHDOG, or `SimBuilder::watchdog`)",
        info.seed
    )
}
