//! The trace: every event of a run, hashed into a fingerprint and optionally kept.

mod check;
mod event;
mod subscriber;
mod view;

use std::fmt;
use std::hash::Hasher;
use std::io::Write;

use rustc_hash::FxHasher;
use serde::{Deserialize, Serialize};

pub use check::{Divergence, check_determinism};
pub(crate) use check::{NONDETERMINISM_HINT, compare};
pub(crate) use event::Hot;
pub use event::{Detail, Event, EventKind};
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
    hasher: FxHasher,
    count: u64,
    events: Vec<Event>,
    truncated: bool,
}

impl TraceState {
    pub(crate) fn new(mode: TraceMode) -> TraceState {
        TraceState {
            mode,
            hasher: FxHasher::default(),
            count: 0,
            events: Vec::new(),
            truncated: false,
        }
    }

    pub(crate) fn recording(&self) -> bool {
        matches!(self.mode, TraceMode::Record { .. })
    }

    pub(crate) fn push(&mut self, time: Instant, node: Option<NodeId>, kind: EventKind) {
        // The position is implied by the order of hashing; time, node and kind are hashed.
        self.hasher.write_u64(time.as_nanos());
        self.hasher.write_u32(node.map_or(u32::MAX, |n| n.index));
        kind.fingerprint(&mut self.hasher);
        self.keep(time, node, kind);
    }

    /// Pushes one of the executor's hot events: hashed as plain integers, exactly
    /// as [`TraceState::push`] hashes its [`EventKind`], which is only built when
    /// recording.
    #[inline]
    pub(crate) fn push_hot(&mut self, time: Instant, node: Option<NodeId>, hot: Hot) {
        self.hasher.write_u64(time.as_nanos());
        self.hasher.write_u32(node.map_or(u32::MAX, |n| n.index));
        self.hasher.write_u64(hot.code());
        if self.recording() {
            self.keep(time, node, hot.kind());
        } else {
            self.count += 1;
        }
    }

    /// Pushes an extension's event: hashed as [`TraceState::push`] hashes an
    /// [`EventKind::Ext`], which is only built (and `detail` only called) when
    /// recording.
    #[inline]
    pub(crate) fn push_ext(
        &mut self,
        time: Instant,
        node: Option<NodeId>,
        name: &'static str,
        args: [u64; 4],
        detail: impl FnOnce() -> String,
    ) {
        self.hasher.write_u64(time.as_nanos());
        self.hasher.write_u32(node.map_or(u32::MAX, |n| n.index));
        event::fingerprint_ext(&mut self.hasher, name, &args);
        if self.recording() {
            let kind = EventKind::Ext {
                name: name.into(),
                args,
                detail: Detail(detail()),
            };
            self.keep(time, node, kind);
        } else {
            self.count += 1;
        }
    }

    /// Counts an event already hashed, and keeps it when recording.
    fn keep(&mut self, time: Instant, node: Option<NodeId>, kind: EventKind) {
        let index = self.count;
        self.count += 1;
        if let TraceMode::Record { events_max } = self.mode {
            if self.events.len() < events_max {
                self.events.push(Event {
                    index,
                    time,
                    node,
                    kind,
                });
            } else {
                self.truncated = true;
            }
        }
    }

    pub(crate) fn summary(&self) -> Trace {
        Trace {
            fingerprint: Fingerprint(self.hasher.finish()),
            count: self.count,
            events: self.events.clone(),
            truncated: self.truncated,
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
