//! The run viewer: a recorded trace drawn as a space-time diagram, in one
//! self-contained HTML file (inline CSS, SVG drawn by a small inline script,
//! nothing fetched).
//!
//! [`RunView::new`] reads a [`Trace`] once and keeps what the picture needs:
//! a lane per node, each message as an [`Arrow`] from its send to its
//! delivery or drop (paired by the message id the network puts in its
//! events), marks on the lanes (crashes, restarts, pauses, clock changes,
//! panics, logs, disk faults and syncs), the fault plan's entries as bands,
//! the clients' history operations, and the failure. [`RunView::render_html`]
//! writes the page; the data travels in it compactly (message arrows as
//! base64 varints), and the script draws only what is on screen, so long
//! runs stay small and quick to open.
//!
//! The viewer reads nothing but the trace: the network's and the history's
//! events are decoded from their documented numbers (`net.*`: see
//! `detsim-net`'s `trace` module; `history.*`: see [`Recorder`](crate::history::Recorder)).

use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write as _;

use super::{EventKind, Trace};

/// What happened to one message on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArrowEnd {
    /// It reached its target socket.
    Delivered,
    /// The network lost it, for this reason (`loss`, `partition`, `node down`, …).
    Dropped(&'static str),
    /// The trace ended first.
    InFlight,
}

/// One message of a run, from its send to its delivery or drop.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Arrow {
    /// The network's id of the message (a retransmission or copy keeps it).
    pub id: u64,
    /// When it was sent (true virtual time, nanoseconds).
    pub sent: u64,
    /// When it was delivered or dropped (`None`: still in flight at the end).
    pub ended: Option<u64>,
    /// The sender's lane (node index).
    pub source: usize,
    /// The target's lane (node index).
    pub target: usize,
    /// Its type: the network's message kind and the lower of its two ports,
    /// such as `datagram :7000`.
    pub kind: String,
    /// Payload bytes.
    pub len: u32,
    /// How it ended.
    pub end: ArrowEnd,
    /// A link duplicated it: this is the copy.
    pub duplicate: bool,
    /// A Byzantine link corrupted it.
    pub corrupted: bool,
    /// A Byzantine link replayed an old datagram under this message.
    pub replayed: bool,
    /// A clog held it for a while.
    pub held: bool,
    /// A stream retransmitted it (an earlier copy was lost).
    pub retransmitted: bool,
}

/// The failure that ended a run, as the trace's last event tells it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FailureMark {
    /// When (nanoseconds).
    pub time: u64,
    /// The node's lane, if it happened on a node.
    pub lane: Option<usize>,
    /// The cause, as the failure report words it.
    pub cause: String,
}

/// A client operation of a recorded history, as the trace tells it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpMark {
    /// The operation's id in its history (`op 12`).
    pub op: u64,
    /// The client id the test gave it.
    pub client: u64,
    /// The lane of the node that called it.
    pub lane: usize,
    /// When it was called (nanoseconds).
    pub call: u64,
    /// When its outcome was recorded, if it was.
    pub end: Option<u64>,
    /// `ok`, `failed`, `unknown` (the client gave up) or `pending`.
    pub outcome: &'static str,
    /// What it did, as the recorder's describer words it.
    pub label: String,
    /// Named by the failure as an operation that could not be linearized.
    pub culprit: bool,
}

/// Buckets of the count of messages left out of the page.
const ELIDED_BUCKETS: usize = 2_000;

/// More lanes than a trace can name: a message event naming a node beyond
/// this is not one.
const NODES_MAX: usize = 1 << 20;

/// Kinds of marks on a lane, in the order of the page's legend.
const MARK_KINDS: [&str; 15] = [
    "crash",
    "restart",
    "pause",
    "resume",
    "clock",
    "panic",
    "buggify",
    "error",
    "warn",
    "info",
    "disk fault",
    "disk sync",
    "disk crash",
    "fault skipped",
    "other",
];

/// Drop reasons by the network's code (`detsim-net`'s `DropReason`).
const DROP_REASONS: [&str; 9] = [
    "unknown",
    "loss",
    "partition",
    "link down",
    "node down",
    "no socket",
    "inbox full",
    "queue full",
    "connection closed",
];

/// Message kinds by the network's code (`detsim-net`'s `MessageKind`).
const MESSAGE_KINDS: [&str; 6] = ["datagram", "syn", "syn-ack", "refuse", "data", "fin"];

/// A run, read from its trace, ready to draw.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use detsim::{RunView, Seed, Sim, TraceMode};
///
/// let mut sim = Sim::builder(Seed::new(1)).trace(TraceMode::RECORD).build().unwrap();
/// let n1 = sim.add_node("n1", |_| std::future::pending::<()>()).unwrap();
/// let report = sim.run(async move {
///     detsim::time::sleep(Duration::from_secs(1)).await;
///     detsim::handle().crash(n1).unwrap();
/// }).unwrap();
/// let view = RunView::new(&report.trace);
/// assert_eq!(view.lanes(), ["n1"]);
/// let html = view.render_html();
/// assert!(html.contains("class=\"lane-name\""));
/// // std::fs::write("run.html", html)?;
/// ```
#[derive(Clone, Debug, Default)]
pub struct RunView {
    title: String,
    lanes: Vec<String>,
    arrows: Vec<Arrow>,
    /// `(time, lane, kind, text)`.
    marks: Vec<(u64, usize, usize, String)>,
    /// `(lane, start, end, kind)`: 0 down, 1 paused.
    intervals: Vec<(usize, u64, u64, u8)>,
    /// `(entry, start, end, text)`.
    faults: Vec<(u64, u64, Option<u64>, String)>,
    ops: Vec<OpMark>,
    failure: Option<FailureMark>,
    end: u64,
    truncated: bool,
    kept: usize,
    count: u64,
    detail_max: usize,
    focus: Option<(u64, u64)>,
}

impl RunView {
    /// Messages drawn one by one at most, by default: beyond, the page keeps
    /// every message of a window around the failure (the detail window), and
    /// elsewhere only the unusual ones, so a long run stays a few megabytes.
    pub const DETAIL_MAX: usize = 150_000;

    /// Reads a recorded trace. A trace without kept events (fingerprint
    /// mode) gives an empty picture.
    pub fn new(trace: &Trace) -> RunView {
        let mut view = RunView {
            title: "detsim run".to_owned(),
            lanes: trace.node_names.clone(),
            truncated: trace.truncated,
            kept: trace.events.len(),
            count: trace.count,
            detail_max: RunView::DETAIL_MAX,
            ..RunView::default()
        };
        let mut sim_lane: Option<usize> = None;
        let mut pending: BTreeMap<u64, VecDeque<usize>> = BTreeMap::new();
        let mut seen_ids: BTreeMap<u64, ()> = BTreeMap::new();
        let mut down: BTreeMap<usize, u64> = BTreeMap::new();
        let mut paused: BTreeMap<usize, u64> = BTreeMap::new();
        let mut ops: BTreeMap<u64, usize> = BTreeMap::new();
        for event in &trace.events {
            let t = event.time.as_nanos();
            view.end = view.end.max(t);
            let lane = match event.node {
                Some(node) => {
                    if view.lanes.len() <= node.index() {
                        view.lanes.resize(node.index() + 1, "?".to_owned());
                    }
                    node.index()
                }
                None => usize::MAX,
            };
            let mut lane_or_sim = |view: &mut RunView| {
                if lane != usize::MAX {
                    return lane;
                }
                *sim_lane.get_or_insert_with(|| {
                    view.lanes.push("sim".to_owned());
                    view.lanes.len() - 1
                })
            };
            match &event.kind {
                EventKind::NodeAdded { name } if lane != usize::MAX => {
                    view.lanes[lane].clone_from(name);
                }
                EventKind::Crash => {
                    let lane = lane_or_sim(&mut view);
                    view.mark(t, lane, 0, String::new());
                    down.entry(lane).or_insert(t);
                }
                EventKind::Restart => {
                    let lane = lane_or_sim(&mut view);
                    view.mark(t, lane, 1, String::new());
                    if let Some(start) = down.remove(&lane) {
                        view.intervals.push((lane, start, t, 0));
                    }
                }
                EventKind::Pause => {
                    let lane = lane_or_sim(&mut view);
                    view.mark(t, lane, 2, String::new());
                    paused.entry(lane).or_insert(t);
                }
                EventKind::Resume => {
                    let lane = lane_or_sim(&mut view);
                    view.mark(t, lane, 3, String::new());
                    if let Some(start) = paused.remove(&lane) {
                        view.intervals.push((lane, start, t, 1));
                    }
                }
                EventKind::Clock {
                    offset_ns,
                    drift_ppm,
                } => {
                    let lane = lane_or_sim(&mut view);
                    let text = format!("clock offset {} drift {drift_ppm} ppm", signed(*offset_ns));
                    view.mark(t, lane, 4, text);
                }
                EventKind::Panic { task, message } => {
                    let lane = lane_or_sim(&mut view);
                    view.mark(t, lane, 5, format!("{task} panicked: {message}"));
                }
                EventKind::Buggify { site } => {
                    let lane = lane_or_sim(&mut view);
                    view.mark(t, lane, 6, format!("buggify at {site}"));
                }
                EventKind::Log {
                    level,
                    target,
                    message,
                } => {
                    let kind = match level.as_str() {
                        "ERROR" => 7,
                        "WARN" => 8,
                        _ => 9,
                    };
                    let lane = lane_or_sim(&mut view);
                    view.mark(t, lane, kind, format!("{level} {target}: {message}"));
                }
                EventKind::Fault { index, fault } => {
                    view.faults.push((*index, t, None, fault.clone()));
                }
                EventKind::FaultEnd { index } => {
                    if let Some(band) = view
                        .faults
                        .iter_mut()
                        .rev()
                        .find(|band| band.0 == *index && band.2.is_none())
                    {
                        band.2 = Some(t);
                    }
                }
                EventKind::FaultSkipped { index, reason } => {
                    let lane = lane_or_sim(&mut view);
                    view.mark(
                        t,
                        lane,
                        13,
                        format!("plan entry #{index} skipped: {reason}"),
                    );
                }
                EventKind::Failure { cause } => {
                    view.failure = Some(FailureMark {
                        time: t,
                        lane: (lane != usize::MAX).then_some(lane),
                        cause: cause.clone(),
                    });
                }
                EventKind::Ext { name, args, detail } => {
                    if let Some(what) = name.strip_prefix("net.") {
                        view.net(t, lane, what, args, &detail.0, &mut pending, &mut seen_ids);
                    } else if let Some(what) = name.strip_prefix("history.") {
                        let lane = lane_or_sim(&mut view);
                        view.history(t, lane, what, args, &detail.0, &mut ops);
                    } else if let Some(what) = name.strip_prefix("disk.") {
                        let kind = if what.starts_with("fault") || what == "inject" {
                            Some(10)
                        } else if what.starts_with("sync") {
                            Some(11)
                        } else if what.starts_with("crash") {
                            Some(12)
                        } else {
                            None
                        };
                        if let Some(kind) = kind {
                            let lane = lane_or_sim(&mut view);
                            view.mark(t, lane, kind, format!("{name} {}", detail.0));
                        }
                    } else if lane != usize::MAX {
                        view.mark(t, lane, 14, format!("{name} {}", detail.0));
                    }
                }
                _ => {}
            }
        }
        for (lane, start) in down {
            view.intervals.push((lane, start, view.end, 0));
        }
        for (lane, start) in paused {
            view.intervals.push((lane, start, view.end, 1));
        }
        view.intervals.sort_unstable();
        if let Some(failure) = &view.failure {
            for op in culprits(&failure.cause) {
                if let Some(&index) = ops.get(&op) {
                    view.ops[index].culprit = true;
                }
            }
        }
        view
    }

    /// Sets the page's title (default `detsim run`).
    pub fn title(mut self, title: impl Into<String>) -> RunView {
        self.title = title.into();
        self
    }

    /// Shows this window first (nanoseconds of true time) instead of the one
    /// around the failure, and centres the detail window on it.
    pub fn window(mut self, from: u64, to: u64) -> RunView {
        self.focus = Some((from.min(to), from.max(to)));
        self
    }

    /// How many messages the page draws one by one at most (default
    /// [`RunView::DETAIL_MAX`]). A longer run keeps every message, disk sync, `INFO`
    /// log and client operation of a window around the failure (or
    /// [`RunView::window`]); outside it, drops, copies, corruption, faults,
    /// node events, disk faults and warnings only, and the page counts the
    /// messages it left out.
    pub fn detail_max(mut self, messages: usize) -> RunView {
        self.detail_max = messages.max(1);
        self
    }

    /// The stretch of time (nanoseconds) in which everything is drawn: the
    /// whole run if it has at most `detail_max` messages, else the
    /// `detail_max` messages sent nearest the first window's middle.
    pub fn detail_window(&self) -> (u64, u64) {
        if self.arrows.len() <= self.detail_max {
            return (0, self.end);
        }
        let (from, to) = self.first_window();
        let middle = from / 2 + to / 2;
        let at = self.arrows.partition_point(|a| a.sent < middle);
        let half = self.detail_max / 2;
        let lo = at.saturating_sub(half);
        let hi = (lo + self.detail_max).min(self.arrows.len());
        let lo = hi.saturating_sub(self.detail_max);
        let start = self.arrows[lo].sent;
        let end = if hi == self.arrows.len() {
            self.end
        } else {
            self.arrows[hi].sent.saturating_sub(1)
        };
        (start.min(from), end.max(to.min(self.end)))
    }

    /// The lanes: node names by index, then `sim` if the harness had events to draw.
    pub fn lanes(&self) -> &[String] {
        &self.lanes
    }

    /// Every message, in send order.
    pub fn arrows(&self) -> &[Arrow] {
        &self.arrows
    }

    /// The client operations recorded in the trace, in call order.
    pub fn operations(&self) -> &[OpMark] {
        &self.ops
    }

    /// The failure, if the run failed.
    pub fn failure(&self) -> Option<&FailureMark> {
        self.failure.as_ref()
    }

    fn mark(&mut self, t: u64, lane: usize, kind: usize, text: String) {
        self.marks.push((t, lane, kind, text));
    }

    #[allow(clippy::too_many_arguments)]
    fn net(
        &mut self,
        t: u64,
        lane: usize,
        what: &str,
        args: &[u64; 4],
        detail: &str,
        pending: &mut BTreeMap<u64, VecDeque<usize>>,
        seen: &mut BTreeMap<u64, ()>,
    ) {
        let id = args[0] >> 32 | args[1] >> 32 << 32;
        let source = (args[0] & 0xffff_ffff) as usize;
        let target = (args[1] & 0xffff_ffff) as usize;
        let ports = args[2];
        let (source_port, target_port) = (ports & 0xffff, ports >> 16 & 0xffff);
        let kind = MESSAGE_KINDS
            .get((ports >> 32 & 0xff) as usize)
            .copied()
            .unwrap_or("message");
        let new_arrow = |duplicate: bool, replayed: bool, retransmitted: bool| Arrow {
            id,
            sent: t,
            ended: None,
            source,
            target,
            kind: format!("{kind} :{}", source_port.min(target_port)),
            len: args[3] as u32,
            end: ArrowEnd::InFlight,
            duplicate,
            corrupted: false,
            replayed,
            held: false,
            retransmitted,
        };
        let message = matches!(
            what,
            "send" | "dup" | "replay" | "corrupt" | "hold" | "deliver" | "drop" | "release"
        );
        if !message {
            // Model changes (partitions, heals, clogs, resets): a mark on
            // the lane of the node the event is stamped with, if any.
            if lane != usize::MAX {
                self.mark(t, lane, 14, format!("net.{what} {detail}"));
            }
            return;
        }
        // Node indices of a world are small; anything else is not a message event.
        if source >= NODES_MAX || target >= NODES_MAX {
            return;
        }
        for lane in [source, target] {
            if self.lanes.len() <= lane {
                self.lanes.resize(lane + 1, "?".to_owned());
            }
        }
        match what {
            "send" => {
                let again = seen.insert(id, ()).is_some();
                self.arrows.push(new_arrow(false, false, again));
                pending
                    .entry(id)
                    .or_default()
                    .push_back(self.arrows.len() - 1);
            }
            "dup" | "replay" => {
                self.arrows
                    .push(new_arrow(what == "dup", what == "replay", false));
                pending
                    .entry(id)
                    .or_default()
                    .push_back(self.arrows.len() - 1);
            }
            "corrupt" => {
                if let Some(&index) = pending.get(&id).and_then(|queue| queue.back()) {
                    self.arrows[index].corrupted = true;
                }
            }
            "hold" => {
                if let Some(&index) = pending.get(&id).and_then(|queue| queue.front()) {
                    self.arrows[index].held = true;
                }
            }
            "deliver" | "drop" => {
                let queue = pending.get_mut(&id);
                let Some(index) = queue.and_then(VecDeque::pop_front) else {
                    return;
                };
                if pending.get(&id).is_some_and(VecDeque::is_empty) {
                    pending.remove(&id);
                }
                let arrow = &mut self.arrows[index];
                arrow.ended = Some(t);
                arrow.end = if what == "deliver" {
                    ArrowEnd::Delivered
                } else {
                    ArrowEnd::Dropped(
                        DROP_REASONS
                            .get((ports >> 40 & 0xff) as usize)
                            .copied()
                            .unwrap_or("unknown"),
                    )
                };
            }
            _ => {}
        }
    }

    fn history(
        &mut self,
        t: u64,
        lane: usize,
        what: &str,
        args: &[u64; 4],
        detail: &str,
        ops: &mut BTreeMap<u64, usize>,
    ) {
        let op = args[0];
        if what == "invoke" {
            ops.insert(op, self.ops.len());
            self.ops.push(OpMark {
                op,
                client: args[1],
                lane,
                call: t,
                end: None,
                outcome: "pending",
                label: detail.to_owned(),
                culprit: false,
            });
            return;
        }
        let Some(&index) = ops.get(&op) else {
            return;
        };
        let mark = &mut self.ops[index];
        mark.end = Some(t);
        mark.outcome = match what {
            "ok" => "ok",
            "fail" => "failed",
            _ => "unknown",
        };
        if !detail.is_empty() {
            mark.label = detail.to_owned();
        }
    }

    /// The page: one self-contained HTML file.
    pub fn render_html(&self) -> String {
        let mut texts = Texts::default();
        let mut kinds = Texts::default();
        let mut page = String::with_capacity(64 * 1024 + self.arrows.len() * 12);
        page.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        let _ = writeln!(page, "<title>{}</title>", escape(&self.title));
        page.push_str("<style>\n");
        page.push_str(include_str!("view.css"));
        page.push_str("</style>\n</head>\n<body>\n<header>\n");
        let _ = writeln!(page, "<h1>{}</h1>", escape(&self.title));
        let dropped = self
            .arrows
            .iter()
            .filter(|a| matches!(a.end, ArrowEnd::Dropped(_)))
            .count();
        let _ = write!(
            page,
            "<p class=\"summary\">{}, {} ({} dropped), {}, {}; ran to t={}",
            plural(self.lanes.len(), "lane"),
            plural(self.arrows.len(), "message"),
            dropped,
            plural(self.faults.len(), "fault"),
            plural(self.ops.len(), "client operation"),
            seconds(self.end)
        );
        if self.truncated {
            let _ = write!(
                page,
                " <b>(the trace was truncated: only the first {} of {} events were kept)</b>",
                self.kept, self.count
            );
        }
        let detail = self.detail_window();
        if detail != (0, self.end) {
            let _ = write!(
                page,
                "<br>every message, disk sync, info log and client operation is drawn from t={} to t={}; \
                 elsewhere only drops, copies, faults, node events, disk faults and warnings \
                 (the grey strip on the left counts the rest; trace-view --from/--to draws another stretch)",
                seconds(detail.0),
                seconds(detail.1)
            );
        }
        page.push_str("</p>\n");
        if let Some(failure) = &self.failure {
            let _ = writeln!(
                page,
                "<p class=\"failure-mark\" data-time-ns=\"{}\">failed at t={}{}: {}</p>",
                failure.time,
                seconds(failure.time),
                failure
                    .lane
                    .map(|lane| format!(" on {}", self.lanes[lane]))
                    .unwrap_or_default(),
                escape(first_line(&failure.cause))
            );
        }
        page.push_str(CONTROLS);
        page.push_str("<div id=\"lanes-head\">");
        for (index, lane) in self.lanes.iter().enumerate() {
            let _ = write!(
                page,
                "<div class=\"lane-name\" data-lane=\"{index}\">{}</div>",
                escape(lane)
            );
        }
        page.push_str("</div>\n</header>\n");
        page.push_str(
            "<div id=\"scroller\"><div id=\"spacer\"></div><svg id=\"view\"></svg></div>\n<div id=\"tip\"></div>\n",
        );

        // What is drawn one by one: everything in the detail window, only the
        // unusual outside it; the left-out messages are counted per bucket.
        let detail = self.detail_window();
        let inside = |t: u64| t >= detail.0 && t <= detail.1;
        let bucket = (self.end / ELIDED_BUCKETS as u64).max(1);
        let mut elided = Vec::new();
        let arrows: Vec<&Arrow> = self
            .arrows
            .iter()
            .filter(|arrow| {
                let unusual = arrow.end != ArrowEnd::Delivered
                    || arrow.duplicate
                    || arrow.corrupted
                    || arrow.replayed
                    || arrow.held
                    || arrow.retransmitted;
                let keep = unusual || inside(arrow.sent);
                if !keep {
                    let index = (arrow.sent / bucket) as usize;
                    if elided.len() <= index {
                        elided.resize(index + 1, 0u64);
                    }
                    elided[index] += 1;
                }
                keep
            })
            .collect();
        let marks: Vec<&(u64, usize, usize, String)> = self
            .marks
            .iter()
            .filter(|(t, _, kind, _)| !matches!(kind, 9 | 11 | 14) || inside(*t))
            .collect();
        let ops: Vec<&OpMark> = self
            .ops
            .iter()
            .filter(|op| op.culprit || inside(op.call) || op.end.is_some_and(inside))
            .collect();

        // The data: small tables as JSON, arrows and marks as base64 varints.
        let mut bytes = Vec::with_capacity(arrows.len() * 8);
        let mut previous = 0u64;
        for arrow in &arrows {
            let sent = arrow.sent / 1_000;
            let ended = arrow.ended.map_or(sent, |t| t / 1_000);
            let outcome = match arrow.end {
                ArrowEnd::Delivered => 0,
                ArrowEnd::InFlight => 1,
                ArrowEnd::Dropped(reason) => {
                    2 + DROP_REASONS.iter().position(|r| *r == reason).unwrap_or(0) as u64
                }
            };
            let flags = u64::from(arrow.duplicate)
                | u64::from(arrow.corrupted) << 1
                | u64::from(arrow.replayed) << 2
                | u64::from(arrow.held) << 3
                | u64::from(arrow.retransmitted) << 4;
            varint(&mut bytes, sent.saturating_sub(previous));
            varint(&mut bytes, ended.saturating_sub(sent));
            varint(&mut bytes, arrow.source as u64);
            varint(&mut bytes, arrow.target as u64);
            varint(&mut bytes, kinds.index(&arrow.kind) as u64);
            varint(&mut bytes, outcome | flags << 4);
            varint(&mut bytes, u64::from(arrow.len));
            previous = sent;
        }
        let _ = write!(
            page,
            "<script type=\"application/json\" id=\"run-data\" data-arrows=\"{}\" data-marks=\"{}\">{{",
            arrows.len(),
            marks.len()
        );
        let _ = write!(page, "\"end\":{},\"lanes\":[", self.end / 1_000);
        join(&mut page, self.lanes.iter(), |p, lane| json_string(p, lane));
        page.push_str("],\"msgs\":\"");
        base64(&mut page, &bytes);
        page.push_str("\",\"marks\":\"");
        let mut bytes = Vec::with_capacity(marks.len() * 5);
        let mut previous = 0u64;
        for (t, lane, kind, text) in &marks {
            let t = t / 1_000;
            varint(&mut bytes, t.saturating_sub(previous));
            varint(&mut bytes, *lane as u64);
            varint(&mut bytes, *kind as u64);
            varint(&mut bytes, texts.index(text) as u64);
            previous = t;
        }
        base64(&mut page, &bytes);
        page.push_str("\",\"intervals\":[");
        join(&mut page, self.intervals.iter(), |p, (lane, a, b, kind)| {
            let _ = write!(p, "[{lane},{},{},{kind}]", a / 1_000, b / 1_000);
        });
        page.push_str("],\"faults\":[");
        join(&mut page, self.faults.iter(), |p, (entry, a, b, text)| {
            let end = b.map_or(-1, |b| (b / 1_000) as i64);
            let _ = write!(p, "[{entry},{},{end},{}]", a / 1_000, texts.index(text));
        });
        page.push_str("],\"ops\":[");
        join(&mut page, ops.iter(), |p, op| {
            let end = op.end.map_or(-1, |b| (b / 1_000) as i64);
            let _ = write!(
                p,
                "[{},{},{end},\"{}\",{},{},{},{}]",
                op.lane,
                op.call / 1_000,
                op.outcome,
                texts.index(&op.label),
                op.op,
                op.client,
                u8::from(op.culprit)
            );
        });
        page.push_str("],\"failure\":");
        match &self.failure {
            Some(failure) => {
                let _ = write!(
                    page,
                    "[{},{},",
                    failure.time / 1_000,
                    failure.lane.map_or(-1, |l| l as i64)
                );
                json_string(&mut page, &failure.cause);
                page.push(']');
            }
            None => page.push_str("null"),
        }
        let (from, to) = self.first_window();
        let _ = write!(page, ",\"window\":[{},{}]", from / 1_000, to / 1_000);
        let _ = write!(
            page,
            ",\"detail\":[{},{}]",
            detail.0 / 1_000,
            detail.1 / 1_000
        );
        page.push_str(",\"elided\":[");
        join(&mut page, elided.iter(), |p, n| {
            let _ = write!(p, "{n}");
        });
        let _ = write!(page, "],\"bucket\":{}", bucket / 1_000);
        page.push_str(",\"markKinds\":[");
        join(&mut page, MARK_KINDS.iter(), |p, kind| json_string(p, kind));
        page.push_str("],\"dropReasons\":[");
        join(&mut page, DROP_REASONS.iter(), |p, r| json_string(p, r));
        page.push_str("],\"kinds\":[");
        join(&mut page, kinds.list.iter(), |p, kind| json_string(p, kind));
        page.push_str("],\"texts\":[");
        join(&mut page, texts.list.iter(), |p, text| json_string(p, text));
        page.push_str("]}</script>\n<script>\n");
        page.push_str(include_str!("view.js"));
        page.push_str("</script>\n</body>\n</html>\n");
        page
    }

    /// The window shown first (nanoseconds): the operations the failure
    /// names, from call to return, else the second before the failure, else
    /// a second from just before the first fault, else the first second.
    fn first_window(&self) -> (u64, u64) {
        const SECOND: u64 = 1_000_000_000;
        if let Some(focus) = self.focus {
            return focus;
        }
        let culprits: Vec<&OpMark> = self.ops.iter().filter(|op| op.culprit).collect();
        if let (Some(first), Some(failure)) = (culprits.first(), &self.failure) {
            let from = culprits
                .iter()
                .map(|op| op.call)
                .min()
                .unwrap_or(first.call);
            let to = culprits
                .iter()
                .map(|op| op.end.unwrap_or(failure.time))
                .max()
                .unwrap_or(failure.time);
            let margin = ((to - from) / 10).max(SECOND / 20);
            return (from.saturating_sub(margin), (to + margin).min(self.end));
        }
        if let Some(failure) = &self.failure {
            return (failure.time.saturating_sub(SECOND), self.end);
        }
        if let Some(&(_, start, _, _)) = self.faults.first() {
            let from = start.saturating_sub(SECOND / 4);
            return (from, (from + SECOND).min(self.end));
        }
        (0, self.end.min(SECOND))
    }
}

/// The operations a failure's cause names as impossible to place next
/// (the lines after "none of these can be placed:").
fn culprits(cause: &str) -> Vec<u64> {
    let Some((_, rest)) = cause.split_once("none of these can be placed:") else {
        return Vec::new();
    };
    rest.lines()
        .filter_map(|line| {
            let line = line.trim_start().strip_prefix("op ")?;
            let digits: String = line.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        })
        .collect()
}

/// A table of strings, each stored once and referred to by index.
#[derive(Default)]
struct Texts {
    list: Vec<String>,
    index: BTreeMap<String, usize>,
}

impl Texts {
    fn index(&mut self, text: &str) -> usize {
        if let Some(&index) = self.index.get(text) {
            return index;
        }
        self.list.push(text.to_owned());
        self.index.insert(text.to_owned(), self.list.len() - 1);
        self.list.len() - 1
    }
}

const CONTROLS: &str = "<div class=\"controls\">\
<button id=\"zoom-in\" title=\"zoom in (or ctrl + wheel)\">+</button>\
<button id=\"zoom-out\" title=\"zoom out\">−</button>\
<button id=\"show-window\" title=\"the window around the failure\">failure window</button>\
<button id=\"show-all\" title=\"the whole run\">whole run</button>\
<label><input type=\"checkbox\" id=\"compress\" checked> compress quiet time</label>\
<span id=\"position\"></span>\
<details id=\"filters\"><summary>filters</summary><div id=\"filter-lists\"></div></details>\
</div>\n";

/// `n thing` or `n things`.
pub(crate) fn plural(n: usize, thing: &str) -> String {
    if n == 1 {
        format!("1 {thing}")
    } else {
        format!("{n} {thing}s")
    }
}

fn seconds(nanos: u64) -> String {
    format!("{}", crate::time::Instant::from_nanos(nanos))
}

fn signed(nanos: i64) -> String {
    if nanos < 0 {
        format!(
            "-{}",
            crate::time::Instant::from_nanos(nanos.unsigned_abs())
        )
    } else {
        format!(
            "+{}",
            crate::time::Instant::from_nanos(nanos.unsigned_abs())
        )
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("")
}

fn join<T>(
    page: &mut String,
    items: impl Iterator<Item = T>,
    mut each: impl FnMut(&mut String, T),
) {
    for (n, item) in items.enumerate() {
        if n > 0 {
            page.push(',');
        }
        each(page, item);
    }
}

fn json_string(page: &mut String, text: &str) {
    page.push('"');
    for c in text.chars() {
        match c {
            '"' => page.push_str("\\\""),
            '\\' => page.push_str("\\\\"),
            '\n' => page.push_str("\\n"),
            // `<` never appears raw, so the data cannot close its script element.
            '<' => page.push_str("\\u003c"),
            c if (c as u32) < 0x20 => {
                let _ = write!(page, "\\u{:04x}", c as u32);
            }
            c => page.push(c),
        }
    }
    page.push('"');
}

fn varint(bytes: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        bytes.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    bytes.push(value as u8);
}

fn base64(page: &mut String, bytes: &[u8]) {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for chunk in bytes.chunks(3) {
        let n = u32::from(chunk[0]) << 16
            | u32::from(chunk.get(1).copied().unwrap_or(0)) << 8
            | u32::from(chunk.get(2).copied().unwrap_or(0));
        for i in 0..4 {
            if i <= chunk.len() {
                page.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                page.push('=');
            }
        }
    }
}

pub(crate) fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            _ => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_standard_alphabet() {
        // Proves the encoder the page decodes with `atob` pads like RFC 4648.
        let mut out = String::new();
        base64(&mut out, b"Man");
        base64(&mut out, b"Ma");
        base64(&mut out, b"M");
        assert_eq!(out, "TWFuTWE=TQ==");
    }

    #[test]
    fn culprits_are_the_operations_that_could_not_be_placed() {
        // Proves the failure's own words name the operations the page highlights.
        let cause = "not linearizable\n  1. op 3: put\nthen none of these can be placed:\n  op 12: get → 1 (illegal)\n  op 7: get";
        assert_eq!(culprits(cause), [12, 7]);
        assert!(culprits("panic").is_empty());
    }
}
