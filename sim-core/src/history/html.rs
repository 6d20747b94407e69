//! A picture of a history: each client's operations as bars on a time axis, per
//! partition, with the counterexample highlighted (after Porcupine's visualization).

use std::collections::BTreeMap;
use std::fmt::Write;

use super::{
    CheckResult, History, Model, OpId, Operation, Outcome, Partition, UnplacedReason,
    checker::partitions,
};

const LANE_HEIGHT: u64 = 26;
const BAR_HEIGHT: u64 = 20;
const TICK_WIDTH: u64 = 120;
/// The width of a label character, to shorten labels that would overflow their bar.
const CHAR_WIDTH: u64 = 6;
const LEFT_MARGIN: u64 = 90;

/// Renders `history` and its `result` as a self-contained HTML page (inline CSS and
/// SVG, nothing fetched), to save next to a failing seed and open in a browser.
///
/// Each partition is a figure with a row per client and a bar per operation from its
/// call to its return. Time is compressed: the x axis orders the partition's distinct
/// call and return times evenly, so short and long operations stay readable (hover a bar
/// for its exact times). Operations whose outcome is unknown extend to the right edge,
/// dashed; failed ones are grey. In the counterexample's partition, the longest
/// linearizable prefix is green and numbered in linearization order, the operations that
/// could not be placed next are red, and the partition comes first, unfolded.
///
/// # Examples
///
/// ```
/// use detsim::history::{check, render_html, Recorder, Register, RegisterInput, RegisterOutput};
/// use detsim::time::Instant;
///
/// let recorder = Recorder::default();
/// let read = recorder.invoke_at(1, RegisterInput::Read, Instant::from_nanos(0));
/// recorder.ok_at(read, RegisterOutput::Read(7), Instant::from_nanos(1));
/// let history = recorder.history();
/// let model = Register::new(0);
/// let html = render_html(&model, &history, &check(&model, &history));
/// assert!(html.contains("read() → 7"));
/// // std::fs::write("history.html", html)?;
/// ```
///
/// # Panics
///
/// If the model's partition is invalid, as [`Checker::check`](super::Checker::check).
pub fn render_html<M: Model>(
    model: &M,
    history: &History<M::Input, M::Output>,
    result: &CheckResult,
) -> String {
    let parts = partitions(model, history);
    let mut order: Vec<usize> = (0..parts.len()).collect();
    let first = match result {
        CheckResult::NotLinearizable(counterexample) => vec![counterexample.partition],
        CheckResult::Unknown(undecided) => undecided.iter().map(|part| part.partition).collect(),
        CheckResult::Linearizable => Vec::new(),
    };
    order.sort_by_key(|index| (!first.contains(index), *index));

    let mut page = String::new();
    page.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    page.push_str("<title>detsim history</title>\n<style>\n");
    page.push_str(STYLE);
    page.push_str("</style>\n</head>\n<body>\n<h1>detsim history</h1>\n");
    let verdict = match result {
        CheckResult::Linearizable => "linearizable",
        CheckResult::NotLinearizable(_) => "not linearizable",
        CheckResult::Unknown(_) => "unknown",
    };
    let _ = writeln!(
        page,
        "<p class=\"verdict {}\">{} operations in {} partitions: <b>{verdict}</b></p>",
        verdict.replace(' ', "-"),
        history.len(),
        parts.len()
    );
    page.push_str(
        "<p class=\"legend\"><span class=\"key linearized\">linearized prefix (numbered)</span> ",
    );
    page.push_str("<span class=\"key unplaced\">could not be placed next</span> ");
    page.push_str(
        "<span class=\"key ok\">ok</span> <span class=\"key unknown\">outcome unknown</span> ",
    );
    page.push_str("<span class=\"key failed\">failed</span></p>\n");
    if !result.is_linearizable() {
        let _ = writeln!(
            page,
            "<pre class=\"report\">{}</pre>",
            escape(&result.to_string())
        );
    }
    for index in order {
        render_partition(
            &mut page,
            model,
            history,
            result,
            index,
            &parts[index],
            first.contains(&index),
        );
    }
    page.push_str("</body>\n</html>\n");
    page
}

/// How one bar is drawn.
struct Bar {
    op: OpId,
    client: u64,
    call: u64,
    end: Option<u64>,
    class: &'static str,
    label: String,
    title: String,
}

fn render_partition<M: Model>(
    page: &mut String,
    model: &M,
    history: &History<M::Input, M::Output>,
    result: &CheckResult,
    index: usize,
    partition: &Partition,
    open: bool,
) {
    let counterexample = result
        .counterexample()
        .filter(|counterexample| counterexample.partition == index);
    let mut bars: Vec<Bar> = partition
        .operations
        .iter()
        .map(|&op| {
            let operation = history.operation(op);
            let description = model.describe_operation(&operation.input, operation.output());
            let mut class = class_of(operation);
            let mut label = description.clone();
            let mut title = format!(
                "{op}, client {}: {description}\ncalled at {}, {}",
                operation.client,
                precise(operation.call.as_nanos()),
                outcome_text(operation)
            );
            if let Some(counterexample) = counterexample {
                if let Some(position) = counterexample.prefix.iter().position(|step| step.op == op)
                {
                    class = "linearized";
                    label = format!("{}. {description}", position + 1);
                    let _ = write!(
                        title,
                        "\nlinearized #{}, state after: {}",
                        position + 1,
                        counterexample.prefix[position].state
                    );
                } else if let Some(unplaced) = counterexample
                    .unplaced
                    .iter()
                    .find(|unplaced| unplaced.op == op)
                {
                    class = "unplaced";
                    let _ = write!(title, "\ncannot come next: {}", unplaced.reason);
                    if unplaced.reason == UnplacedReason::Illegal {
                        let _ = write!(title, " (state {})", counterexample.state);
                    }
                }
            }
            let end = match operation.outcome {
                Outcome::Ok { at, .. } | Outcome::Failed { at } => Some(at.as_nanos()),
                Outcome::Unknown { .. } => None,
            };
            Bar {
                op,
                client: operation.client,
                call: operation.call.as_nanos(),
                end,
                class,
                label,
                title,
            }
        })
        .collect();
    bars.sort_by_key(|bar| (bar.call, bar.op));

    // Compressed time: each distinct instant gets a tick; "never returned" is the last.
    let mut instants: Vec<u64> = bars
        .iter()
        .flat_map(|bar| [Some(bar.call), bar.end])
        .flatten()
        .collect();
    instants.sort_unstable();
    instants.dedup();
    let tick = |at: u64| {
        instants
            .binary_search(&at)
            .expect("every instant has a tick") as u64
    };
    let ticks = instants.len() as u64 + 1;
    let x = |tick: u64| LEFT_MARGIN + tick * TICK_WIDTH;

    // A row per client, with as many lanes as it has overlapping operations.
    let mut lanes: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
    let mut placed = Vec::with_capacity(bars.len());
    for bar in &bars {
        let start = tick(bar.call);
        let end = bar.end.map_or(ticks, tick);
        let client_lanes = lanes.entry(bar.client).or_default();
        let lane = match client_lanes
            .iter()
            .position(|free_from| *free_from <= start)
        {
            Some(lane) => lane,
            None => {
                client_lanes.push(0);
                client_lanes.len() - 1
            }
        };
        client_lanes[lane] = end + 1;
        placed.push((start, end, lane));
    }
    let mut row_top = BTreeMap::new();
    let mut top = 24;
    for (client, client_lanes) in &lanes {
        row_top.insert(*client, top);
        top += client_lanes.len() as u64 * LANE_HEIGHT + 6;
    }
    let width = x(ticks) + 20;
    let height = top + 10;

    let _ = writeln!(
        page,
        "<details{}><summary>partition {index}: {} ({} operations){}</summary>",
        if open { " open" } else { "" },
        escape(&partition.label),
        partition.operations.len(),
        if counterexample.is_some() {
            " — counterexample"
        } else {
            ""
        }
    );
    let _ = writeln!(
        page,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\">"
    );
    for (position, at) in instants.iter().enumerate() {
        let tx = x(position as u64);
        let _ = writeln!(
            page,
            "<line class=\"tick\" x1=\"{tx}\" y1=\"16\" x2=\"{tx}\" y2=\"{height}\"><title>{}</title></line>",
            precise(*at)
        );
    }
    for (client, y) in &row_top {
        let _ = writeln!(
            page,
            "<text class=\"client\" x=\"6\" y=\"{}\">client {client}</text>",
            y + 14
        );
    }
    for (bar, (start, end, lane)) in bars.iter().zip(placed) {
        let bx = x(start);
        let bw = (x(end) - bx).max(8);
        let by = row_top[&bar.client] + lane as u64 * LANE_HEIGHT;
        let label = shorten(
            &bar.label,
            usize::try_from((bw.saturating_sub(8)) / CHAR_WIDTH).unwrap_or(usize::MAX),
        );
        let _ = writeln!(
            page,
            "<g class=\"op {}\"><title>{}</title><rect x=\"{bx}\" y=\"{by}\" width=\"{bw}\" height=\"{BAR_HEIGHT}\" rx=\"3\"/>\
             <text x=\"{}\" y=\"{}\">{}</text></g>",
            bar.class,
            escape(&bar.title),
            bx + 4,
            by + 14,
            escape(&label)
        );
    }
    page.push_str("</svg>\n</details>\n");
}

/// `label`, cut to `chars` characters with an ellipsis if longer (the bar's title has it whole).
fn shorten(label: &str, chars: usize) -> String {
    if label.chars().count() <= chars.max(1) {
        return label.to_string();
    }
    let mut short: String = label.chars().take(chars.saturating_sub(1).max(1)).collect();
    short.push('…');
    short
}

/// An instant in seconds with nanosecond precision.
fn precise(nanos: u64) -> String {
    format!("{}.{:09}s", nanos / 1_000_000_000, nanos % 1_000_000_000)
}

fn class_of<I, O>(operation: &Operation<I, O>) -> &'static str {
    match operation.outcome {
        Outcome::Ok { .. } => "ok",
        Outcome::Failed { .. } => "failed",
        Outcome::Unknown { .. } => "unknown",
    }
}

fn outcome_text<I, O>(operation: &Operation<I, O>) -> String {
    match &operation.outcome {
        Outcome::Ok { at, .. } => format!("returned ok at {}", precise(at.as_nanos())),
        Outcome::Failed { at } => format!("failed at {}", precise(at.as_nanos())),
        Outcome::Unknown { at: Some(at) } => {
            format!("gave up at {}, outcome unknown", precise(at.as_nanos()))
        }
        Outcome::Unknown { at: None } => "still pending, outcome unknown".to_string(),
    }
}

fn escape(text: &str) -> String {
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

const STYLE: &str = "body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
.verdict b { font-size: 1.1em; }
.verdict.not-linearizable b { color: #b3261e; }
.verdict.linearizable b { color: #2e7d32; }
.verdict.unknown b { color: #a15c00; }
pre.report { background: #f6f6f6; padding: 0.8em; overflow-x: auto; }
.legend .key { display: inline-block; padding: 0 0.5em; margin-right: 0.5em; border-radius: 3px; }
summary { cursor: pointer; font-weight: 600; margin: 0.6em 0; }
svg { display: block; font-size: 12px; }
line.tick { stroke: #e4e4e4; }
text.client { fill: #555; }
.op rect { stroke-width: 1.2; }
.op text { fill: #111; pointer-events: none; }
.op:hover rect { stroke-width: 2.5; }
.ok rect, .key.ok { fill: #dce6f2; stroke: #6b8db5; background: #dce6f2; }
.linearized rect, .key.linearized { fill: #c8e6c9; stroke: #2e7d32; background: #c8e6c9; }
.unplaced rect, .key.unplaced { fill: #f8c9c4; stroke: #b3261e; background: #f8c9c4; }
.unknown rect, .key.unknown { fill: #fff3d6; stroke: #a15c00; stroke-dasharray: 4 3; background: #fff3d6; }
.failed rect, .key.failed { fill: #eeeeee; stroke: #999999; background: #eeeeee; }
.failed text { fill: #888; text-decoration: line-through; }
";
