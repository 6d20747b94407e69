//! What a failure leaves behind for people: the last events before it in
//! words, the recorded trace and its picture next to each other, and plan
//! files whose names never collide.

use std::hash::Hasher;
use std::path::{Path, PathBuf};

use rustc_hash::FxHasher;

use crate::fault::Plan;
use crate::trace::{EventKind, RunView, Trace};

/// Lines of the textual timeline at the end of a failure report.
pub(crate) const TIMELINE_LINES_MAX: usize = 40;

/// The last events of a recorded trace that tell the story, one line each
/// (`t=1.234567s  n2  crash`), at most `lines_max`: scheduling (polls,
/// timers, spawns), disk reads and writes and message sends are left out
/// (a delivery or drop says as much), and deliveries fill at most a quarter
/// of the lines, so the faults, crashes, logs, drops and client operations
/// before a failure are not crowded out by heartbeats.
pub(crate) fn timeline(trace: &Trace, lines_max: usize) -> Vec<String> {
    let width = trace
        .node_names
        .iter()
        .map(String::len)
        .max()
        .unwrap_or(3)
        .max(3);
    let deliveries_max = lines_max / 4;
    let (mut deliveries, mut others) = (0, 0);
    let mut chosen: Vec<&crate::trace::Event> = Vec::new();
    for event in trace.events.iter().rev() {
        if !tells(&event.kind) {
            continue;
        }
        let delivery = matches!(&event.kind, EventKind::Ext { name, .. } if name == "net.deliver");
        if delivery && deliveries < deliveries_max {
            deliveries += 1;
            chosen.push(event);
        } else if !delivery && others < lines_max - deliveries_max {
            others += 1;
            chosen.push(event);
        }
        if deliveries + others == lines_max {
            break;
        }
    }
    chosen.reverse();
    chosen
        .into_iter()
        .map(|event| {
            let mut what = match &event.kind {
                // Extensions often start their text with the event's name.
                EventKind::Ext { name, detail, .. } if detail.0.starts_with(name.as_ref()) => {
                    detail.0.clone()
                }
                kind => kind.to_string(),
            };
            if let Some((first, _)) = what.split_once('\n') {
                what = format!("{first} …");
            }
            format!(
                "{:<13}  {:<width$}  {what}",
                format!("t={}", event.time),
                trace.node_name(event.node)
            )
        })
        .collect()
}

fn tells(kind: &EventKind) -> bool {
    match kind {
        EventKind::Poll { .. }
        | EventKind::Timer { .. }
        | EventKind::Spawn { .. }
        | EventKind::Done { .. }
        | EventKind::NodeAdded { .. } => false,
        EventKind::Ext { name, .. } => {
            let routine_disk = name.starts_with("disk.")
                && !name.starts_with("disk.fault")
                && !name.starts_with("disk.crash");
            let noise = matches!(name.as_ref(), "net.send" | "net.release");
            !(routine_disk || noise)
        }
        _ => true,
    }
}

/// `<dir>/<name>-<seed>-<hash>.plan.json`: the hash of the plan's JSON, so
/// two different plans of one seed never overwrite each other and a replay
/// line keeps pointing at the plan it was printed with.
pub(crate) fn plan_path(dir: &Path, name: &str, seed: crate::Seed, plan: &Plan) -> PathBuf {
    let mut hasher = FxHasher::default();
    hasher.write(plan.to_json().as_bytes());
    let hash = hasher.finish();
    dir.join(format!(
        "{name}-{seed}-{:08x}.plan.json",
        hash as u32 ^ (hash >> 32) as u32
    ))
}

/// Writes the trace (JSON lines) and its picture (HTML) under `dir` as
/// `<stem>.trace.jsonl` and `<stem>.view.html`; returns their paths.
pub(crate) fn write_trace_and_view(
    dir: &Path,
    stem: &str,
    title: &str,
    trace: &Trace,
) -> std::io::Result<(PathBuf, PathBuf)> {
    std::fs::create_dir_all(dir)?;
    let trace_path = dir.join(format!("{stem}.trace.jsonl"));
    let file = std::fs::File::create(&trace_path)?;
    trace.write_json_lines(std::io::BufWriter::new(file))?;
    let view_path = dir.join(format!("{stem}.view.html"));
    let html = RunView::new(trace).title(title).render_html();
    std::fs::write(&view_path, html)?;
    Ok((trace_path, view_path))
}
