//! Trace events: what happened, when, and on which node.

use std::borrow::Cow;
use std::fmt;
use std::hash::{Hash, Hasher};

use serde::{Deserialize, Serialize};

use crate::time::Instant;
use crate::world::{NodeId, TaskId};

/// One thing that happened in a world.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Event {
    /// Position in the trace, from 0.
    pub index: u64,
    /// True virtual time.
    pub time: Instant,
    /// The node it happened on (`None`: the test harness or the world itself).
    pub node: Option<NodeId>,
    /// What happened.
    #[serde(flatten)]
    pub kind: EventKind,
}

/// What happened.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventKind {
    /// A node joined the world.
    NodeAdded {
        /// Its name.
        name: String,
    },
    /// A task was spawned.
    Spawn {
        /// The new task.
        task: TaskId,
    },
    /// A task was polled (a scheduling decision).
    Poll {
        /// The task.
        task: TaskId,
    },
    /// A task's future completed.
    Done {
        /// The task.
        task: TaskId,
    },
    /// A task was aborted through its join handle.
    Aborted {
        /// The task.
        task: TaskId,
    },
    /// A timer fired.
    Timer {
        /// The timer's sequence number (insertion order).
        seq: u64,
    },
    /// The node crashed: all its tasks were dropped.
    Crash,
    /// The node restarted: its init ran again.
    Restart,
    /// The node was paused.
    Pause,
    /// The node was resumed.
    Resume,
    /// The node's local clock changed.
    Clock {
        /// Local minus true time, in nanoseconds, after the change.
        offset_ns: i64,
        /// Rate error in parts per million, after the change.
        drift_ppm: i64,
    },
    /// A task panicked.
    Panic {
        /// The task.
        task: TaskId,
        /// The panic message and location.
        message: String,
    },
    /// A `tracing` event from code running in the world.
    Log {
        /// `ERROR`, `WARN`, `INFO`, `DEBUG` or `TRACE`.
        level: String,
        /// The event's target (usually the module path).
        target: String,
        /// The message and fields, formatted.
        message: String,
    },
    /// A plan entry was applied.
    Fault {
        /// The entry's index in the plan (`entry` in JSON: `index` is the event's).
        #[serde(rename = "entry")]
        index: u64,
        /// The entry in plain words.
        fault: String,
    },
    /// A plan entry's duration ended and the fault was undone.
    FaultEnd {
        /// The entry's index in the plan (`entry` in JSON: `index` is the event's).
        #[serde(rename = "entry")]
        index: u64,
    },
    /// A plan entry could not be applied at its time (the run goes on).
    FaultSkipped {
        /// The entry's index in the plan (`entry` in JSON: `index` is the event's).
        #[serde(rename = "entry")]
        index: u64,
        /// Why.
        reason: String,
    },
    /// A `buggify!` site fired.
    Buggify {
        /// `file:line:column` of the site.
        site: String,
    },
    /// The run failed here: the last event of a failed run.
    Failure {
        /// The cause, as the failure report words it.
        cause: String,
    },
    /// An event of an extension (network, disk, …).
    Ext {
        /// A dotted name such as `net.deliver`.
        name: Cow<'static, str>,
        /// The numbers that identify the event; they are what the fingerprint covers.
        args: [u64; 4],
        /// A human-readable rendering (not part of the fingerprint).
        detail: Detail,
    },
}

/// Human-readable text attached to an event; excluded from equality and the
/// fingerprint, which cover the event's numbers only.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Detail(pub String);

impl PartialEq for Detail {
    fn eq(&self, _: &Detail) -> bool {
        true
    }
}

impl Eq for Detail {}

impl Hash for Detail {
    fn hash<H: Hasher>(&self, _: &mut H) {}
}

impl EventKind {
    /// Whether the event's time and node are implied by the events before
    /// it, so the fingerprint leaves them out: a task's poll and its end
    /// happen at the instant of the event before them (only a timer's
    /// firing starts an instant), on the node its spawn named (a task never
    /// moves).
    #[inline]
    pub(crate) fn implied_where(&self) -> bool {
        matches!(self, EventKind::Poll { .. } | EventKind::Done { .. })
    }

    /// Feeds the event into the fingerprint: the hot kinds by hand (a tag and
    /// a number), the rest through their derived `Hash`.
    pub(crate) fn fingerprint(&self, hasher: &mut impl Hasher) {
        match self {
            EventKind::Poll { task } => hasher.write_u64(task.0 << 8 | 1),
            EventKind::Timer { seq } => hasher.write_u64(seq << 8 | 2),
            EventKind::Spawn { task } => hasher.write_u64(task.0 << 8 | 3),
            EventKind::Done { task } => hasher.write_u64(task.0 << 8 | 4),
            EventKind::Ext { name, args, .. } => fingerprint_ext(hasher, name, args),
            other => {
                hasher.write_u8(6);
                other.hash(hasher);
            }
        }
    }
}

/// Feeds an [`EventKind::NodeAdded`] named `name` into the fingerprint, as
/// [`EventKind::fingerprint`] does, without building the event.
pub(crate) fn fingerprint_node_added(hasher: &mut impl Hasher, name: &str) {
    hasher.write_u8(6);
    // The derived `Hash`: the discriminant, then the fields (a `String`
    // hashes as its `str`).
    std::mem::discriminant(&EventKind::NodeAdded {
        name: String::new(),
    })
    .hash(hasher);
    name.hash(hasher);
}

/// Feeds an [`EventKind::Ext`] into the fingerprint.
#[inline]
pub(crate) fn fingerprint_ext(hasher: &mut impl Hasher, name: &str, args: &[u64; 4]) {
    hasher.write_u8(5);
    hasher.write(name.as_bytes());
    for arg in args {
        hasher.write_u64(*arg);
    }
}

/// The executor's hot events, as plain integers: what
/// [`EventKind::fingerprint`] hashes for them, without building the event.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Hot {
    Poll(TaskId),
    Timer(u64),
    Spawn(TaskId),
    Done(TaskId),
}

impl Hot {
    /// The number hashed for the event (the same as its `EventKind`'s).
    #[inline]
    pub(crate) fn code(self) -> u64 {
        match self {
            Hot::Poll(task) => task.0 << 8 | 1,
            Hot::Timer(seq) => seq << 8 | 2,
            Hot::Spawn(task) => task.0 << 8 | 3,
            Hot::Done(task) => task.0 << 8 | 4,
        }
    }

    /// [`EventKind::implied_where`] of the event.
    #[inline]
    pub(crate) fn implied_where(self) -> bool {
        matches!(self, Hot::Poll(_) | Hot::Done(_))
    }

    pub(crate) fn kind(self) -> EventKind {
        match self {
            Hot::Poll(task) => EventKind::Poll { task },
            Hot::Timer(seq) => EventKind::Timer { seq },
            Hot::Spawn(task) => EventKind::Spawn { task },
            Hot::Done(task) => EventKind::Done { task },
        }
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EventKind::NodeAdded { name } => write!(f, "node added: {name}"),
            EventKind::Spawn { task } => write!(f, "spawn {task}"),
            EventKind::Poll { task } => write!(f, "poll {task}"),
            EventKind::Done { task } => write!(f, "done {task}"),
            EventKind::Aborted { task } => write!(f, "aborted {task}"),
            EventKind::Timer { seq } => write!(f, "timer #{seq} fired"),
            EventKind::Crash => write!(f, "crash"),
            EventKind::Restart => write!(f, "restart"),
            EventKind::Pause => write!(f, "pause"),
            EventKind::Resume => write!(f, "resume"),
            EventKind::Clock {
                offset_ns,
                drift_ppm,
            } => write!(f, "clock offset {offset_ns}ns drift {drift_ppm}ppm"),
            EventKind::Panic { task, message } => write!(f, "{task} panicked: {message}"),
            EventKind::Log {
                level,
                target,
                message,
            } => write!(f, "{level} {target}: {message}"),
            EventKind::Fault { index, fault } => write!(f, "fault #{index}: {fault}"),
            EventKind::FaultEnd { index } => write!(f, "fault #{index} undone"),
            EventKind::FaultSkipped { index, reason } => {
                write!(f, "fault #{index} skipped: {reason}")
            }
            EventKind::Buggify { site } => write!(f, "buggify fired at {site}"),
            EventKind::Failure { cause } => write!(f, "failed: {cause}"),
            EventKind::Ext { name, args, detail } => {
                if detail.0.is_empty() {
                    write!(f, "{name} {args:?}")
                } else {
                    write!(f, "{name} {}", detail.0)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::hash::Hasher;

    use rustc_hash::FxHasher;

    use super::*;

    /// The allocation-free fingerprint of a `NodeAdded` event is the event's own.
    #[test]
    fn node_added_fingerprint_matches_the_event() {
        for name in ["", "n1", "a-much-longer-node-name.with_dots"] {
            let mut built = FxHasher::default();
            EventKind::NodeAdded {
                name: name.to_owned(),
            }
            .fingerprint(&mut built);
            let mut lazy = FxHasher::default();
            fingerprint_node_added(&mut lazy, name);
            assert_eq!(built.finish(), lazy.finish(), "{name:?}");
        }
    }
}
