//! The trace: every event of a run, hashed into a fingerprint and optionally kept.

mod check;
mod event;
mod subscriber;
mod view;

use std::cell::{Cell, RefCell};
use std::fmt;
use std::hash::Hasher;
use std::io::Write;

use rustc_hash::FxHasher;
use serde::{Deserialize, Serialize};

pub use check::{Divergence, check_determinism};
pub(crate) use check::{NONDETERMINISM_HINT, compare};
pub use event::{Detail, Event, EventKind};
pub(crate) use event::{Hot, fingerprint_node_added};
pub(crate) use subscriber::{ConsoleLevel, dispatch};
pub use view::{Arrow, ArrowEnd, FailureMark, OpMark, RunView};

use crate::time::Instant;
use crate::world::NodeId;

/// What a world keeps of its trace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum TraceMode {
    /// Hash every event into the fingerprint, keep none (fast; the default).
    #[default]
    Fingerprint,
    /// Also keep every event (up to `events_max`), for export and diffing.
    Record {
        /// Events kept at most; later ones are hashed but not kept.
        events_max: usize,
    },
}

impl TraceMode {
    /// Record up to ten million events.
    pub const RECORD: TraceMode = TraceMode::Record {
        events_max: 10_000_000,
    };
}

/// The determinism fingerprint of a run: a hash over its whole event stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Fingerprint(pub u64);

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

pub(crate) struct TraceState {
    mode: TraceMode,
    /// Fed every event. In a cell, with the count, so that hashing an event
    /// takes no borrow: only a recording run borrows `kept`.
    hasher: Cell<FxHasher>,
    count: Cell<u64>,
    kept: RefCell<Kept>,
}

/// What a recording run keeps.
#[derive(Default)]
struct Kept {
    events: Vec<Event>,
    truncated: bool,
}

impl TraceState {
    pub(crate) fn new(mode: TraceMode) -> TraceState {
        TraceState {
            mode,
            hasher: Cell::new(FxHasher::default()),
            count: Cell::new(0),
            kept: RefCell::default(),
        }
    }

    #[inline]
    pub(crate) fn recording(&self) -> bool {
        matches!(self.mode, TraceMode::Record { .. })
    }

    /// Whether the kept events are being changed right now (a push from
    /// inside a push: only an OS call intercepted mid-push can do that).
    pub(crate) fn busy(&self) -> bool {
        self.kept.try_borrow_mut().is_err()
    }

    /// Feeds the event's time and node, then `rest`, to the fingerprint.
    #[inline]
    fn hash(&self, time: Instant, node: Option<NodeId>, rest: impl FnOnce(&mut FxHasher)) {
        // The position is implied by the order of hashing; time, node and kind are hashed.
        self.feed(|hasher| {
            hasher.write_u64(time.as_nanos());
            hasher.write_u32(node.map_or(u32::MAX, |n| n.index));
            rest(hasher);
        });
    }

    /// Feeds `words` to the fingerprint (see [`EventKind::implied_where`]
    /// for the events that hash no time and node).
    #[inline]
    fn feed(&self, words: impl FnOnce(&mut FxHasher)) {
        let mut hasher = self.hasher.take();
        words(&mut hasher);
        self.hasher.set(hasher);
    }

    pub(crate) fn push(&self, time: Instant, node: Option<NodeId>, kind: EventKind) {
        if kind.implied_where() {
            self.feed(|hasher| kind.fingerprint(hasher));
        } else {
            self.hash(time, node, |hasher| kind.fingerprint(hasher));
        }
        self.keep(time, node, kind);
    }

    /// Pushes one of the executor's hot events: hashed as plain integers, exactly
    /// as [`TraceState::push`] hashes its [`EventKind`], which is only built when
    /// recording.
    #[inline]
    pub(crate) fn push_hot(&self, time: Instant, node: Option<NodeId>, hot: Hot) {
        if hot.implied_where() {
            self.feed(|hasher| hasher.write_u64(hot.code()));
        } else {
            self.hash(time, node, |hasher| hasher.write_u64(hot.code()));
        }
        if self.recording() {
            self.keep(time, node, hot.kind());
        } else {
            self.count.set(self.count.get() + 1);
        }
    }

    /// Pushes an extension's event: hashed as [`TraceState::push`] hashes an
    /// [`EventKind::Ext`], which is only built (and `detail` only called) when
    /// recording.
    #[inline]
    pub(crate) fn push_ext(
        &self,
        time: Instant,
        node: Option<NodeId>,
        name: &'static str,
        args: [u64; 4],
        detail: impl FnOnce() -> String,
    ) {
        self.hash(time, node, |hasher| {
            event::fingerprint_ext(hasher, name, &args);
        });
        if self.recording() {
            let kind = EventKind::Ext {
                name: name.into(),
                args,
                detail: Detail(detail()),
            };
            self.keep(time, node, kind);
        } else {
            self.count.set(self.count.get() + 1);
        }
    }

    /// Pushes an event whose fingerprint `hash` feeds exactly as
    /// [`EventKind::fingerprint`] would; `kind` is built only when recording
    /// (so an event carrying text allocates nothing on a fingerprinting run).
    #[inline]
    pub(crate) fn push_lazy(
        &self,
        time: Instant,
        node: Option<NodeId>,
        hash: impl FnOnce(&mut FxHasher),
        kind: impl FnOnce() -> EventKind,
    ) {
        self.hash(time, node, hash);
        if self.recording() {
            self.keep(time, node, kind());
        } else {
            self.count.set(self.count.get() + 1);
        }
    }

    /// Counts an event already hashed, and keeps it when recording.
    fn keep(&self, time: Instant, node: Option<NodeId>, kind: EventKind) {
        let index = self.count.get();
        self.count.set(index + 1);
        if let TraceMode::Record { events_max } = self.mode {
            let mut kept = self.kept.borrow_mut();
            if kept.events.len() < events_max {
                kept.events.push(Event {
                    index,
                    time,
                    node,
                    kind,
                });
            } else {
                kept.truncated = true;
            }
        }
    }

    pub(crate) fn summary(&self) -> Trace {
        let hasher = self.hasher.take();
        let fingerprint = Fingerprint(hasher.finish());
        self.hasher.set(hasher);
        let kept = self.kept.borrow();
        Trace {
            fingerprint,
            count: self.count.get(),
            events: kept.events.clone(),
            truncated: kept.truncated,
            node_names: Vec::new(),
        }
    }
}

/// The trace of a run: its fingerprint and, in [`TraceMode::Record`], its events.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Trace {
    /// The determinism fingerprint.
    pub fingerprint: Fingerprint,
    /// How many events happened.
    pub count: u64,
    /// The kept events (empty unless recording).
    pub events: Vec<Event>,
    /// Whether events were dropped because `events_max` was reached.
    pub truncated: bool,
    /// Node names by [`NodeId`] index, for display.
    pub node_names: Vec<String>,
}

impl Default for Fingerprint {
    fn default() -> Fingerprint {
        Fingerprint(FxHasher::default().finish())
    }
}

impl Trace {
    /// The name of a node, or `sim` for the harness.
    pub fn node_name(&self, node: Option<NodeId>) -> &str {
        match node {
            Some(node) => self
                .node_names
                .get(node.index())
                .map(String::as_str)
                .unwrap_or("?"),
            None => "sim",
        }
    }

    /// One line for an event: `#12 t=1.000000s n1 poll task3`.
    pub fn describe(&self, event: &Event) -> String {
        format!(
            "#{} t={} {} {}",
            event.index,
            event.time,
            self.node_name(event.node),
            event.kind
        )
    }

    /// Writes the kept events as JSON lines, one object per event, with the
    /// node's name next to its id.
    ///
    /// # Errors
    ///
    /// Returns the writer's error.
    pub fn write_json_lines(&self, mut out: impl Write) -> std::io::Result<()> {
        #[derive(Serialize)]
        struct Line<'a> {
            #[serde(flatten)]
            event: &'a Event,
            node_name: &'a str,
        }
        for event in &self.events {
            let line = Line {
                event,
                node_name: self.node_name(event.node),
            };
            serde_json::to_writer(&mut out, &line)?;
            out.write_all(b"\n")?;
        }
        Ok(())
    }

    /// Reads a trace written by [`Trace::write_json_lines`]: its events, and
    /// the node names from their `node_added` events (the fingerprint is not
    /// in the file: it stays the default).
    ///
    /// # Errors
    ///
    /// Names the first line that is not an event.
    pub fn from_json_lines(input: &str) -> Result<Trace, String> {
        let events = Trace::read_json_lines(input)?;
        let mut node_names: Vec<String> = Vec::new();
        for event in &events {
            if let (EventKind::NodeAdded { name }, Some(node)) = (&event.kind, event.node) {
                if node_names.len() <= node.index() {
                    node_names.resize(node.index() + 1, "?".to_owned());
                }
                node_names[node.index()].clone_from(name);
            }
        }
        Ok(Trace {
            fingerprint: Fingerprint::default(),
            count: events.len() as u64,
            events,
            truncated: false,
            node_names,
        })
    }

    /// Reads events written by [`Trace::write_json_lines`].
    ///
    /// # Errors
    ///
    /// Names the first line that is not an event.
    pub fn read_json_lines(input: &str) -> Result<Vec<Event>, String> {
        input
            .lines()
            .enumerate()
            .filter(|(_, line)| !line.trim().is_empty())
            .map(|(n, line)| {
                serde_json::from_str(line).map_err(|e| format!("trace line {}: {e}", n + 1))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::join::TaskId;

    fn fingerprint(events: &[(u64, Option<u32>, EventKind)], hot: bool) -> u64 {
        let state = TraceState::new(TraceMode::Fingerprint);
        for (time, node, kind) in events {
            let (time, node) = (Instant::from_nanos(*time), node.map(|n| NodeId::new(n, 1)));
            let as_hot = match kind {
                EventKind::Poll { task } => Some(Hot::Poll(*task)),
                EventKind::Done { task } => Some(Hot::Done(*task)),
                EventKind::Timer { seq } => Some(Hot::Timer(*seq)),
                EventKind::Spawn { task } => Some(Hot::Spawn(*task)),
                _ => None,
            };
            match as_hot {
                Some(event) if hot => state.push_hot(time, node, event),
                _ => state.push(time, node, kind.clone()),
            }
        }
        state.summary().fingerprint.0
    }

    /// A poll and a task's end hash neither time nor node (the events before
    /// them fix both), yet every event still counts: hot and built events
    /// hash alike, and a trace differing in a timer's time, a timer's node,
    /// or which task is polled has another fingerprint.
    #[test]
    fn polls_hash_their_task_and_the_events_before_fix_the_rest() {
        let task = TaskId(7);
        let base = vec![
            (0, Some(0), EventKind::Spawn { task }),
            (0, Some(0), EventKind::Poll { task }),
            (5, Some(0), EventKind::Timer { seq: 1 }),
            (5, Some(0), EventKind::Poll { task }),
            (5, Some(0), EventKind::Done { task }),
        ];
        assert_eq!(fingerprint(&base, true), fingerprint(&base, false));
        let mut later = base.clone();
        for event in &mut later[2..] {
            event.0 = 6;
        }
        let mut elsewhere = base.clone();
        elsewhere[2].1 = Some(1);
        let mut other = base.clone();
        other[3].2 = EventKind::Poll { task: TaskId(8) };
        let mut fewer = base.clone();
        fewer.pop();
        let prints = [&base, &later, &elsewhere, &other, &fewer].map(|t| fingerprint(t, true));
        for (i, a) in prints.iter().enumerate() {
            for b in &prints[i + 1..] {
                assert_ne!(a, b, "{prints:x?}");
            }
        }
    }
}
