//! Errors: misuse and bad configuration ([`SimError`]), and failed runs ([`Failure`]).

use std::fmt;
use std::time::Duration;

use crate::Seed;
use crate::time::Instant;
use crate::trace::Trace;
use crate::world::TaskId;

/// A configuration or API misuse error: the test is wrong, not the system under test.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SimError {
    /// No node has this name.
    UnknownNode(String),
    /// The [`NodeId`](crate::NodeId) was made by another world (another
    /// [`Sim`](crate::Sim)); ids are valid only in the world that made them.
    ForeignNode(String),
    /// A node with this name already exists.
    DuplicateNode(String),
    /// The name cannot be a node name.
    InvalidNodeName {
        /// The rejected name.
        name: String,
        /// Why.
        reason: &'static str,
    },
    /// The operation needs the node in another lifecycle state.
    NodeState {
        /// The node.
        node: String,
        /// What was attempted.
        operation: &'static str,
        /// The node's state, which does not allow it.
        state: crate::NodeState,
    },
    /// A configuration value is out of range.
    InvalidConfig(String),
    /// A simulation API was called where no simulation is running.
    OutsideSimulation(&'static str),
    /// A fault could not be applied.
    Fault(String),
}

impl fmt::Display for SimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SimError::UnknownNode(name) => write!(f, "unknown node {name:?}"),
            SimError::ForeignNode(id) => write!(
                f,
                "{id} was made by another simulation: a NodeId is valid only in the world that \
                 added the node; in this world, look the node up by name (`handle.node(\"n1\")`) \
                 or keep the id `add_node` returned here"
            ),
            SimError::DuplicateNode(name) => write!(f, "a node named {name:?} already exists"),
            SimError::InvalidNodeName { name, reason } => {
                write!(f, "invalid node name {name:?}: {reason}")
            }
            SimError::NodeState {
                node,
                operation,
                state,
            } => write!(f, "cannot {operation} node {node:?}: it is {state:?}"),
            SimError::InvalidConfig(message) => write!(f, "invalid configuration: {message}"),
            SimError::OutsideSimulation(api) => write!(f, "{}", outside_message(api)),
            SimError::Fault(reason) => write!(f, "cannot apply fault: {reason}"),
        }
    }
}

impl std::error::Error for SimError {}

pub(crate) fn outside_message(api: &str) -> String {
    format!(
        "detsim: `{api}` was called outside a simulation; call it from a future driven by \
         `Sim::run` (the test body, a node's init, or a task they spawn), or use a real runtime \
         (`detsim::real`, feature \"tokio\") outside simulation"
    )
}

/// Why a run failed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Cause {
    /// A task panicked (the panic was caught; the process did not abort).
    Panic {
        /// The task (`None`: a timer callback of an extension).
        task: Option<TaskId>,
        /// The panic message.
        message: String,
        /// `file:line:column` of the panic, when known.
        location: Option<String>,
    },
    /// Nothing was ready and nothing was scheduled, but the run's goal was unmet.
    Deadlock {
        /// Every live task: where it was spawned, and on which node.
        blocked: Vec<BlockedTask>,
    },
    /// More steps than the configured `steps_max` (a livelock guard).
    StepLimit {
        /// The limit.
        steps_max: u64,
    },
    /// Too many steps at one virtual instant (`SimBuilder::instant_steps_max`):
    /// tasks kept each other busy without ever waiting on time — a
    /// `loop { yield_now().await }`, a zero sleep in a loop, a busy retry.
    Livelock {
        /// The limit.
        instant_steps_max: u64,
        /// The task polled last, when the step was a poll.
        last: Option<BlockedTask>,
    },
    /// Virtual time would pass the configured limit.
    TimeLimit {
        /// The limit.
        limit: Duration,
        /// The tasks that waited longest without being polled (a deadlock
        /// among them hides behind nodes that keep time moving), at most
        /// [`Cause::WAITING_SHOWN`], longest first.
        waiting: Vec<BlockedTask>,
    },
    /// The test closure of a sweep panicked outside any world (an
    /// `unwrap()` on a misconfigured builder or plan, an assertion after
    /// the run): no world ran to the failure, so there is no trace.
    ClosurePanic {
        /// The panic message.
        message: String,
        /// `file:line:column` of the panic, when known.
        location: Option<String>,
    },
    /// detsim was used in a way that would make the run mean less than it
    /// seems (a `SIM_PLAN` the test never applied, say).
    Misuse {
        /// What was wrong and what to do.
        message: String,
    },
    /// Something outside the world touched it: a waker fired from another OS thread.
    DeterminismLeak {
        /// What was detected.
        detail: String,
    },
    /// A check of the user failed.
    Check {
        /// The check's message.
        message: String,
    },
    /// An invariant registered with [`SimHandle::invariant`](crate::SimHandle::invariant) did not hold.
    Invariant {
        /// The invariant's name.
        name: String,
        /// What it reported.
        message: String,
    },
    /// An `always!` assertion was false.
    Always {
        /// The assertion's name: its message template, as written.
        name: String,
        /// The message with its arguments filled in (the name when it has none).
        message: String,
        /// `file:line:column` of the assertion.
        location: String,
    },
    /// The test failed the run with [`SimHandle::fail_with`](crate::SimHandle::fail_with):
    /// a title that names the failure and details that may change from run to run.
    Reported {
        /// What failed (compared by minimization).
        title: String,
        /// The particulars (a counterexample, say), not compared.
        details: String,
    },
    /// After the faults healed, the goal was not reached in time.
    Liveness {
        /// The goal's name.
        name: String,
        /// When it should have been reached.
        deadline: Instant,
        /// The system's state at the deadline, as the test described it.
        state: String,
    },
}

impl Cause {
    /// What identifies this failure across runs of the same seed with
    /// smaller plans: the kind, where it happened, and the message with its
    /// numbers masked (`to_commit 12 is out of range` and `to_commit 9 is out
    /// of range` are one failure), without task ids or times. Invariants,
    /// `always!` and liveness goals are compared by name, and
    /// [`Cause::Reported`] by its title alone.
    ///
    /// # Examples
    ///
    /// ```
    /// use detsim::Cause;
    ///
    /// let a = Cause::Check { message: "to_commit 12 is out of range [last_index 9]".into() };
    /// let b = Cause::Check { message: "to_commit 7 is out of range [last_index 0x3]".into() };
    /// assert_eq!(a.signature(), "check: to_commit # is out of range [last_index #]");
    /// assert_eq!(a.signature(), b.signature());
    /// ```
    pub fn signature(&self) -> String {
        match self {
            Cause::Panic {
                message, location, ..
            } => format!(
                "panic at {}: {}",
                location.as_deref().unwrap_or("?"),
                mask_numbers(message)
            ),
            Cause::Deadlock { .. } => "deadlock".to_owned(),
            Cause::StepLimit { .. } => "step limit".to_owned(),
            Cause::Livelock { .. } => "livelock".to_owned(),
            Cause::TimeLimit { .. } => "time limit".to_owned(),
            Cause::ClosurePanic { message, location } => format!(
                "closure panic at {}: {}",
                location.as_deref().unwrap_or("?"),
                mask_numbers(message)
            ),
            Cause::Misuse { message } => format!("misuse: {}", mask_numbers(message)),
            Cause::DeterminismLeak { .. } => "determinism leak".to_owned(),
            Cause::Check { message } => format!("check: {}", mask_numbers(message)),
            Cause::Invariant { name, .. } => format!("invariant {name}"),
            Cause::Always { name, .. } => format!("always {name}"),
            Cause::Reported { title, .. } => format!("reported {title}"),
            Cause::Liveness { name, .. } => format!("liveness {name}"),
        }
    }
}

/// Replaces every number in `text` (decimal digits, with an optional
/// fraction; `0x…` hexadecimal) with `#`, so that messages which differ only
/// in their numbers compare equal.
fn mask_numbers(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        // A digit that continues a word (`n2`, `x86`) is part of a name, not a number.
        let starts_word = i > 0 && (bytes[i - 1].is_ascii_alphabetic() || bytes[i - 1] == b'_');
        if c.is_ascii_digit() && !starts_word {
            let hex = c == b'0' && bytes.get(i + 1).is_some_and(|b| *b == b'x' || *b == b'X');
            i += if hex { 2 } else { 1 };
            while i < bytes.len()
                && (bytes[i].is_ascii_digit()
                    || bytes[i] == b'_'
                    || (hex && bytes[i].is_ascii_hexdigit())
                    || (bytes[i] == b'.' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit)))
            {
                i += 1;
            }
            out.push('#');
        } else {
            let ch = text[i..].chars().next().expect("in bounds");
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

impl Cause {
    /// How many waiting tasks a [`Cause::TimeLimit`] lists.
    pub const WAITING_SHOWN: usize = 10;
}

/// A task that was still waiting when a run failed (a deadlock, a time
/// limit), or the task a livelock polled last.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockedTask {
    /// The task.
    pub task: TaskId,
    /// Its node's name, or `sim` for the harness.
    pub node: String,
    /// `file:line:column` of the spawn.
    pub spawned_at: String,
    /// When it was last polled (when it was spawned, if never).
    pub since: Instant,
}

impl fmt::Display for BlockedTask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} on {} (spawned at {}), last polled at t={}",
            self.task, self.node, self.spawned_at, self.since
        )
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cause::Panic {
                task,
                message,
                location,
            } => {
                match task {
                    Some(task) => write!(f, "{task} panicked")?,
                    None => write!(
                        f,
                        "a timer callback (an extension's, a fault plan's or `call_at`'s) panicked"
                    )?,
                }
                if let Some(location) = location {
                    write!(f, " at {location}")?;
                }
                write!(f, ": {message}")
            }
            Cause::Deadlock { blocked } => {
                write!(
                    f,
                    "deadlock: no task is ready and no timer is pending, but the run's goal is unmet; {} task(s) blocked:",
                    blocked.len()
                )?;
                for task in blocked {
                    write!(f, "\n    {task}")?;
                }
                Ok(())
            }
            Cause::Livelock {
                instant_steps_max,
                last,
            } => {
                write!(
                    f,
                    "livelock: more than {instant_steps_max} steps at one virtual instant without \
                     time passing: a task loops without waiting on time (`loop {{ yield_now().await }}`, \
                     a zero sleep in a loop, a busy retry); raise `instant_steps_max` if the burst is \
                     legitimate"
                )?;
                if let Some(last) = last {
                    write!(f, "\n    the last task polled: {last}")?;
                }
                Ok(())
            }
            Cause::StepLimit { steps_max } => write!(
                f,
                "step limit exceeded: more than {steps_max} steps (a livelock? raise `steps_max` if the run is legitimately long)"
            ),
            Cause::TimeLimit { limit, waiting } => {
                write!(
                    f,
                    "time limit exceeded: virtual time would pass {limit:?} (raise `time_limit` if the run is legitimately long)"
                )?;
                if !waiting.is_empty() {
                    write!(
                        f,
                        "; the tasks that waited longest (a deadlock among them, while other \
                         nodes keep time moving, looks like this):"
                    )?;
                    for task in waiting {
                        write!(f, "\n    {task}")?;
                    }
                }
                Ok(())
            }
            Cause::ClosurePanic { message, location } => {
                write!(f, "the test closure panicked outside any world")?;
                if let Some(location) = location {
                    write!(f, " at {location}")?;
                }
                write!(f, ": {message}")
            }
            Cause::Misuse { message } => write!(f, "misuse: {message}"),
            Cause::DeterminismLeak { detail } => write!(f, "determinism leak: {detail}"),
            Cause::Check { message } => write!(f, "check failed: {message}"),
            Cause::Invariant { name, message } => {
                write!(f, "invariant {name:?} violated: {message}")
            }
            Cause::Always {
                name,
                message,
                location,
            } => {
                write!(f, "always!({name:?}) was false at {location}")?;
                if message != name {
                    write!(f, ": {message}")?;
                }
                Ok(())
            }
            Cause::Reported { title, details } => write!(f, "{title}: {details}"),
            Cause::Liveness {
                name,
                deadline,
                state,
            } => write!(
                f,
                "liveness: {name:?} was not reached by t={deadline} after the faults healed; state: {state}"
            ),
        }
    }
}

/// A failed run: everything needed to understand and replay it.
///
/// Its `Display` prints the seed first, then the virtual time, the node, the
/// cause and the one line that replays the run.
#[derive(Clone, Debug, PartialEq)]
pub struct Failure(Box<FailureInner>);

/// The fields of a [`Failure`].
#[derive(Clone, Debug, PartialEq)]
pub struct FailureInner {
    /// The world's seed.
    pub seed: Seed,
    /// Virtual (true) time of the failure.
    pub time: Instant,
    /// The node it happened on, if any (`None`: the harness or the world).
    pub node: Option<String>,
    /// What went wrong.
    pub cause: Cause,
    /// The command line that replays this run.
    pub replay: String,
    /// Steps taken before the failure.
    pub steps: u64,
    /// The run's trace up to the failure.
    pub trace: Trace,
    /// The fault plan applied to the run, if any.
    pub plan: Option<crate::Plan>,
    /// `always!`/`sometimes!` counts of the run.
    pub coverage: std::collections::BTreeMap<String, crate::Coverage>,
}

impl Failure {
    pub(crate) fn new(inner: FailureInner) -> Failure {
        Failure(Box::new(inner))
    }

    /// The world's seed.
    pub fn seed(&self) -> Seed {
        self.0.seed
    }

    /// The cause.
    pub fn cause(&self) -> &Cause {
        &self.0.cause
    }

    /// All fields.
    pub fn details(&self) -> &FailureInner {
        &self.0
    }

    /// The trace up to the failure.
    pub fn trace(&self) -> &Trace {
        &self.0.trace
    }

    /// The replay command line.
    pub fn replay(&self) -> &str {
        &self.0.replay
    }
}

impl Failure {
    /// Everything but the replay line: a sweep prints that line only once it
    /// has seen it reproduce.
    pub(crate) fn fmt_body(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.0;
        writeln!(f, "simulation failed")?;
        writeln!(f, "  seed:   {}", inner.seed)?;
        writeln!(f, "  time:   t={}", inner.time)?;
        writeln!(f, "  node:   {}", inner.node.as_deref().unwrap_or("sim"))?;
        writeln!(f, "  cause:  {}", inner.cause)?;
        if matches!(inner.cause, Cause::ClosurePanic { .. }) && inner.trace.count == 0 {
            writeln!(f, "  trace:  none (no world ran to the failure)")?;
        } else {
            writeln!(
                f,
                "  trace:  {} events, fingerprint {}, {} steps",
                inner.trace.count, inner.trace.fingerprint, inner.steps
            )?;
        }
        if let Some(plan) = inner.plan.as_ref().filter(|p| !p.is_empty()) {
            writeln!(f, "  plan:   {} faults", plan.len())?;
            for entry in &plan.entries {
                writeln!(f, "          {entry}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.fmt_body(f)?;
        write!(f, "  replay: {}", self.0.replay)
    }
}

impl std::error::Error for Failure {}

/// The default replay line: libtest names each test's thread after the test,
/// and cargo tells the package, so the line is usually exact.
pub(crate) fn default_replay(seed: Seed) -> String {
    format!("SIM_SEED={seed} {}", default_command())
}

/// `cargo test -p <package> -- --exact <test>`, from the calling test's thread.
pub(crate) fn default_command() -> String {
    command_for(&std::thread::current())
}

/// [`default_command`] for the test running on `thread`.
pub(crate) fn command_for(thread: &std::thread::Thread) -> String {
    let package = std::env::var("CARGO_PKG_NAME").ok();
    match (thread.name().filter(|n| *n != "main"), package) {
        (Some(test), Some(package)) => format!("cargo test -p {package} -- --exact {test}"),
        (Some(test), None) => format!("cargo test -- --exact {test}"),
        (None, _) => "<the same command>".to_owned(),
    }
}
