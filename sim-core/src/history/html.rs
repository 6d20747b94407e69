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
    let verdict = result.verdict();
    let _ = writeln!(
        page,
        "<p class=\"verdict {}\">{} in {}: <b>{verdict}</b></p>",
        verdict.replace(' ', "-"),
        plural(history.len(), "operation"),
        plural(parts.len(), "partition")
    );
    if let Some(counterexample) = result.counterexample() {
        let _ = writeln!(
            page,
            "<p class=\"explain\">{}</p>",
            escape(&explain(model, history, counterexample))
        );
    }
    page.push_str(
        "<p class=\"legend\"><span class=\"key linearized\">linearized prefix (numbered)</span> ",
    );
    page.push_str(
        "<span class=\"key assumed\">outcome unknown, assumed applied (numbered)</span> ",
    );
    page.push_str("<span class=\"key unplaced\">could not be placed next</span> ");
    page.push_str(
        "<span class=\"key ok\">ok</span> <span class=\"key unknown\">outcome unknown</span> ",
    );
    page.push_str("<span class=\"key failed\">failed</span> ");
    page.push_str("<span class=\"zoom\">time axis: <button data-zoom=\"1\">fit</button><button data-zoom=\"2\">×2</button><button data-zoom=\"4\">×4</button><button data-zoom=\"8\">×8</button><button data-zoom=\"16\">×16</button></span></p>\n");
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
    page.push_str("<script>\n");
    page.push_str(SCRIPT);
    page.push_str("</script>\n</body>\n</html>\n");
    page
}

/// The counterexample in words: the operation that cannot come next, what
/// completed last before it was called, where the state it is judged
/// against comes from, and what ran concurrently with it.
fn explain<M: Model>(
    model: &M,
    history: &History<M::Input, M::Output>,
    counterexample: &super::Counterexample,
) -> String {
    let Some(first) = counterexample.unplaced.first() else {
        return String::new();
    };
    let op = history.operation(first.op);
    let describe = |id: OpId| {
        let operation = history.operation(id);
        model.describe_operation(&operation.input, operation.output())
    };
    let mut text = format!(
        "{} ({}, client {}) called at t={}, {}: ",
        describe(first.op),
        first.op,
        op.client,
        format_instant(op.call.as_nanos()),
        outcome_text(op)
    );
    let placed: Vec<OpId> = counterexample.prefix.iter().map(|step| step.op).collect();
    let last_completed = placed
        .iter()
        .filter(|&&id| history.operation(id).is_ok())
        .filter_map(|&id| {
            let returned = history.operation(id).returned()?;
            (returned <= op.call).then_some((returned, id))
        })
        .max();
    let last_change = placed
        .iter()
        .filter(|&&id| {
            let other = history.operation(id);
            other.is_ok() && !model.is_read_only(&other.input, other.output())
        })
        .filter_map(|&id| {
            let returned = history.operation(id).returned()?;
            (returned <= op.call).then_some((returned, id))
        })
        .max();
    let mut said = |what: &str, last: Option<(crate::time::Instant, OpId)>| match last {
        Some((returned, id)) => {
            let _ = write!(
                text,
                "the last {what} to complete before it was called was {} ({id}, client {}, returned at t={}); ",
                describe(id),
                history.operation(id).client,
                format_instant(returned.as_nanos())
            );
        }
        None => {
            let _ = write!(text, "no {what} completed before it was called; ");
        }
    };
    said("operation", last_completed);
    if last_change != last_completed {
        said("change of the state", last_change);
    }
    if let Some(step) = counterexample.prefix.last() {
        let last = history.operation(step.op);
        if last.is_unknown() {
            let _ = write!(
                text,
                "the state it is judged against, {}, comes from {} ({}, client {}) whose outcome is unknown: the search assumed it applied just before; ",
                counterexample.state,
                describe(step.op),
                step.op,
                last.client
            );
        } else {
            let _ = write!(
                text,
                "after the linearized operations the state is {}; ",
                counterexample.state
            );
        }
    }
    let end = op
        .returned()
        .unwrap_or(crate::time::Instant::from_nanos(u64::MAX));
    let partition = partitions(model, history)
        .into_iter()
        .nth(counterexample.partition)
        .map(|partition| partition.operations)
        .unwrap_or_default();
    let concurrent: Vec<OpId> = partition
        .into_iter()
        .filter(|&id| {
            let other = history.operation(id);
            id != first.op
                && !other.is_failed()
                && other.call <= end
                && other.returned().is_none_or(|r| r >= op.call)
        })
        .collect();
    let reason = match first.reason {
        UnplacedReason::Illegal => "the model forbids it in that state",
        UnplacedReason::DeadEnd => "the model allows it, but nothing can follow it",
    };
    if concurrent.is_empty() {
        let _ = write!(text, "{reason}, and no operation overlaps it in time.");
    } else {
        let named: Vec<String> = concurrent
            .iter()
            .take(5)
            .map(|&id| format!("{id} {}", describe(id)))
            .collect();
        let more = concurrent.len().saturating_sub(5);
        let _ = write!(
            text,
            "{reason}, and no order of the {} overlapping it in time ({}{}) allows it.",
            plural(concurrent.len(), "operation"),
            named.join(", "),
            if more > 0 {
                format!(", and {more} more")
            } else {
                String::new()
            }
        );
    }
    text
}

/// `1 operation`, `2 operations`.
fn plural(n: usize, thing: &str) -> String {
    if n == 1 {
        format!("1 {thing}")
    } else {
        format!("{n} {thing}s")
    }
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
                "{op}, client {}: {description}\ncalled at t={}, {}",
                operation.client,
                format_instant(operation.call.as_nanos()),
                outcome_text(operation)
            );
            if let Some(counterexample) = counterexample {
                if let Some(position) = counterexample.prefix.iter().position(|step| step.op == op)
                {
                    label = format!("{}. {description}", position + 1);
                    if operation.is_unknown() {
                        class = "assumed";
                        let _ = write!(
                            title,
                            "\noutcome unknown — assumed applied here, #{}, state after: {}",
                            position + 1,
                            counterexample.prefix[position].state
                        );
                    } else {
                        class = "linearized";
                        let _ = write!(
                            title,
                            "\nlinearized #{}, state after: {}",
                            position + 1,
                            counterexample.prefix[position].state
                        );
                    }
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
    let height = top + 10;
    // Percent of the figure's width: the figure fits the window, and the
    // zoom buttons widen it inside its scroller while the labels stay put.
    let x = |tick: u64| tick as f64 * 100.0 / ticks as f64;

    let _ = writeln!(
        page,
        "<details{}><summary>partition {index}: {} ({}){}</summary>",
        if open { " open" } else { "" },
        escape(&partition.label),
        plural(partition.operations.len(), "operation"),
        if counterexample.is_some() {
            " — counterexample"
        } else {
            ""
        }
    );
    let _ = writeln!(
        page,
        "<div class=\"figure\"><svg class=\"clients\" width=\"{LEFT_MARGIN}\" height=\"{height}\">"
    );
    for (client, y) in &row_top {
        let _ = writeln!(
            page,
            "<text class=\"client\" x=\"6\" y=\"{}\">client {client}</text>",
            y + 14
        );
    }
    let _ = writeln!(
        page,
        "</svg><div class=\"scroller\"><svg class=\"bars\" width=\"100%\" height=\"{height}\">"
    );
    for (position, at) in instants.iter().enumerate() {
        let tx = x(position as u64);
        let _ = writeln!(
            page,
            "<line class=\"tick\" x1=\"{tx:.3}%\" y1=\"16\" x2=\"{tx:.3}%\" y2=\"{height}\"><title>t={}</title></line>",
            format_instant(*at)
        );
    }
    for (bar, (start, end, lane)) in bars.iter().zip(placed) {
        let bx = x(start);
        let bw = x(end) - bx;
        let by = row_top[&bar.client] + lane as u64 * LANE_HEIGHT;
        // A nested svg clips its label to the bar, whatever the zoom.
        let _ = writeln!(
            page,
            "<g class=\"op {}\"><title>{}</title><svg x=\"{bx:.3}%\" y=\"{by}\" width=\"{bw:.3}%\" height=\"{BAR_HEIGHT}\" style=\"overflow:hidden\">\
             <rect width=\"100%\" height=\"{}\" rx=\"3\"/>\
             <text x=\"4\" y=\"14\">{}</text></svg></g>",
            bar.class,
            escape(&bar.title),
            BAR_HEIGHT,
            escape(&bar.label)
        );
    }
    page.push_str("</svg></div></div>\n</details>\n");
}

/// An instant in the unit that suits it: `84 ns`, `1.5 µs`, `12.25 ms`,
/// `10.56529794 s` (exact, trailing zeros trimmed).
fn format_instant(nanos: u64) -> String {
    let (whole, fraction, digits, unit) = match nanos {
        0..1_000 => return format!("{nanos} ns"),
        1_000..1_000_000 => (nanos / 1_000, nanos % 1_000, 3, "µs"),
        1_000_000..1_000_000_000 => (nanos / 1_000_000, nanos % 1_000_000, 6, "ms"),
        _ => (nanos / 1_000_000_000, nanos % 1_000_000_000, 9, "s"),
    };
    if fraction == 0 {
        return format!("{whole} {unit}");
    }
    let fraction = format!("{fraction:0digits$}");
    format!("{whole}.{} {unit}", fraction.trim_end_matches('0'))
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
        Outcome::Ok { at, .. } => format!("returned ok at t={}", format_instant(at.as_nanos())),
        Outcome::Failed { at } => format!("failed at t={}", format_instant(at.as_nanos())),
        Outcome::Unknown { at: Some(at) } => {
            format!(
                "gave up at t={}, outcome unknown",
                format_instant(at.as_nanos())
            )
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
.explain { max-width: 70em; background: #fff4f2; border-left: 4px solid #b3261e; padding: 0.5em 0.8em; }
pre.report { background: #f6f6f6; padding: 0.8em; overflow-x: auto; max-height: 16em; }
.legend .key { display: inline-block; padding: 0 0.5em; margin-right: 0.5em; border-radius: 3px; }
.legend .zoom { margin-left: 1em; }
summary { cursor: pointer; font-weight: 600; margin: 0.6em 0; }
.figure { display: flex; }
.figure svg.clients { flex: none; }
.figure .scroller { flex: 1; overflow-x: auto; }
svg { display: block; font-size: 12px; }
line.tick { stroke: #ececec; }
text.client { fill: #555; }
.op rect { stroke-width: 1.2; }
.op text { fill: #111; pointer-events: none; }
.op:hover rect { stroke-width: 2.5; }
.ok rect, .key.ok { fill: #dce6f2; stroke: #6b8db5; background: #dce6f2; }
.linearized rect, .key.linearized { fill: #c8e6c9; stroke: #2e7d32; background: #c8e6c9; }
.assumed rect, .key.assumed { fill: #eef7ee; stroke: #2e7d32; stroke-dasharray: 5 3; background: #eef7ee; border: 1px dashed #2e7d32; }
.unplaced rect, .key.unplaced { fill: #f8c9c4; stroke: #b3261e; stroke-width: 2.5; background: #f8c9c4; }
.unknown rect, .key.unknown { fill: #fff3d6; stroke: #a15c00; stroke-dasharray: 4 3; background: #fff3d6; }
.failed rect, .key.failed { fill: #eeeeee; stroke: #999999; background: #eeeeee; }
.failed text { fill: #888; text-decoration: line-through; }
";

/// Zoom on the time axis: the bars' figure widens inside its scroller (the
/// client labels stay), centred on the first operation that could not be placed.
const SCRIPT: &str = r#"document.querySelectorAll("[data-zoom]").forEach(function (button) {
  button.addEventListener("click", function () {
    var zoom = +button.dataset.zoom;
    document.querySelectorAll("svg.bars").forEach(function (svg) {
      svg.setAttribute("width", (100 * zoom) + "%");
    });
    var bad = document.querySelector(".op.unplaced");
    if (bad) {
      var scroller = bad.closest(".scroller");
      var box = bad.getBoundingClientRect(), outer = scroller.getBoundingClientRect();
      scroller.scrollLeft += box.left - outer.left - outer.width / 3;
    }
  });
});
"#;
