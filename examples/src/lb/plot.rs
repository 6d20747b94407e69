//! The plot: a self-contained SVG of the run, second by second — latency
//! (p50 and p99, log scale), availability, offered load and healthy
//! backends — over shaded phase bands.

use std::fmt::Write as _;
use std::time::Duration;

use crate::lb::metrics::{WindowStats, table};
use crate::lb::scenario::Outcome;

const WIDTH: f64 = 1000.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 930.0;
const LATENCY: (f64, f64) = (70.0, 300.0);
const AVAILABILITY: (f64, f64) = (340.0, 470.0);
const LOAD: (f64, f64) = (510.0, 650.0);
const HEIGHT: f64 = 700.0;

/// One bucket of the time series.
#[derive(Clone, Debug, PartialEq)]
pub struct Bucket {
    /// Its start.
    pub start: Duration,
    /// Requests issued in it.
    pub stats: WindowStats,
    /// Healthy and registered backends at its end (as last sampled).
    pub fleet: Option<(u32, u32)>,
}

/// The run in buckets of `width`, up to the end of the last phase.
///
/// # Panics
///
/// If `width` is zero.
pub fn series(outcome: &Outcome, width: Duration) -> Vec<Bucket> {
    assert!(!width.is_zero(), "a bucket lasts more than zero");
    let begin = outcome.phases.first().map_or(Duration::ZERO, |p| p.start);
    let end = outcome.phases.last().map_or(Duration::ZERO, |p| p.end);
    let count = (end - begin).as_nanos().div_ceil(width.as_nanos()) as usize;
    let mut by_bucket = vec![Vec::new(); count];
    for r in &outcome.recorder.requests {
        let Some(since) = r.start.checked_sub(begin) else {
            continue;
        };
        let i = (since.as_nanos() / width.as_nanos()) as usize;
        if let Some(bucket) = by_bucket.get_mut(i) {
            bucket.push(*r);
        }
    }
    let mut fleet = outcome.recorder.fleet.iter().peekable();
    let mut last = None;
    by_bucket
        .iter()
        .enumerate()
        .map(|(i, requests)| {
            let start = begin + width * i as u32;
            let end = start + width;
            while let Some(s) = fleet.next_if(|s| s.at <= end) {
                last = Some((s.healthy, s.registered));
            }
            Bucket {
                start,
                stats: WindowStats::of(requests, start, end),
                fleet: last,
            }
        })
        .collect()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Draws the run as an SVG document.
pub fn svg(outcome: &Outcome) -> String {
    let buckets = series(outcome, Duration::from_secs(1));
    let begin = outcome
        .phases
        .first()
        .map_or(0.0, |p| p.start.as_secs_f64());
    let end = outcome.phases.last().map_or(1.0, |p| p.end.as_secs_f64());
    let x = |t: f64| LEFT + (RIGHT - LEFT) * (t - begin) / (end - begin);
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(
        out,
        "<title>lb-zones, seed {}: a multi-zone service through Chaos Monkey, Latency Monkey, a slow disk, scale-out and Chaos Kong</title>",
        outcome.seed
    );
    let _ = writeln!(
        out,
        "<desc>\n{}\nfault plan:\n{}\n</desc>",
        escape(&table(&outcome.rows)),
        escape(&outcome.plan.to_string())
    );
    let _ = writeln!(
        out,
        r#"<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>"#
    );
    // Phase bands with their names.
    for (i, phase) in outcome.phases.iter().enumerate() {
        let (x0, x1) = (x(phase.start.as_secs_f64()), x(phase.end.as_secs_f64()));
        let fill = if i % 2 == 0 { "#f4f4f4" } else { "#e6eef7" };
        let _ = writeln!(
            out,
            r#"<rect class="phase" x="{x0:.1}" y="{}" width="{:.1}" height="{}" fill="{fill}"/>"#,
            LATENCY.0 - 30.0,
            x1 - x0,
            LOAD.1 - LATENCY.0 + 30.0
        );
        let _ = writeln!(
            out,
            r#"<text x="{:.1}" y="{}" text-anchor="middle" font-weight="bold">{}</text>"#,
            (x0 + x1) / 2.0,
            LATENCY.0 - 14.0,
            escape(&phase.name)
        );
    }
    // Time axis.
    let starts = outcome.phases.iter().map(|p| p.start.as_secs_f64());
    for t in starts.chain([end]) {
        let _ = writeln!(
            out,
            r#"<text x="{:.1}" y="{}" text-anchor="middle">{t:.0}s</text>"#,
            x(t),
            LOAD.1 + 16.0
        );
    }
    let _ = writeln!(
        out,
        r#"<text x="{:.1}" y="{}" text-anchor="middle">virtual time</text>"#,
        (LEFT + RIGHT) / 2.0,
        LOAD.1 + 34.0
    );

    // Latency, log scale from 1 ms to 2 s.
    let (lo, hi) = (1.0f64.log10(), 2000.0f64.log10());
    let y_latency = |ms: f64| {
        let v = ms.clamp(1.0, 2000.0).log10();
        LATENCY.1 - (LATENCY.1 - LATENCY.0) * (v - lo) / (hi - lo)
    };
    panel(&mut out, LATENCY, "latency (ms, log)");
    for ms in [1.0, 10.0, 100.0, 1000.0] {
        tick(&mut out, y_latency(ms), &format!("{ms:.0}"));
    }
    let point = |b: &Bucket, d: Option<Duration>| {
        d.map(|d| {
            (
                x(b.start.as_secs_f64() + 0.5),
                y_latency(d.as_secs_f64() * 1000.0),
            )
        })
    };
    line(
        &mut out,
        buckets.iter().map(|b| point(b, b.stats.p50)),
        "#1f77b4",
        "p50",
    );
    line(
        &mut out,
        buckets.iter().map(|b| point(b, b.stats.p99)),
        "#d62728",
        "p99",
    );
    legend(
        &mut out,
        LATENCY.1 - 22.0,
        &[("p50", "#1f77b4"), ("p99", "#d62728")],
    );

    // Availability, from the lowest tenth of a percent seen (at most 90%) to 100%.
    let lowest = buckets
        .iter()
        .map(|b| b.stats.availability())
        .fold(100.0f64, f64::min);
    let floor = (lowest / 10.0).floor().min(9.0) * 10.0;
    let y_avail = |pct: f64| {
        AVAILABILITY.1 - (AVAILABILITY.1 - AVAILABILITY.0) * (pct - floor) / (100.0 - floor)
    };
    panel(&mut out, AVAILABILITY, "availability (% of requests ok)");
    for pct in [floor, (floor + 100.0) / 2.0, 100.0] {
        tick(&mut out, y_avail(pct), &format!("{pct:.0}"));
    }
    let points = buckets.iter().map(|b| {
        (b.stats.requests > 0).then(|| {
            (
                x(b.start.as_secs_f64() + 0.5),
                y_avail(b.stats.availability()),
            )
        })
    });
    line(&mut out, points, "#2ca02c", "availability");

    // Offered load and backends.
    // Up to a round hundred above the busiest second.
    let load_max = buckets
        .iter()
        .map(|b| b.stats.requests)
        .max()
        .unwrap_or(0)
        .div_ceil(100)
        .max(1) as f64
        * 100.0;
    let backends_max = buckets
        .iter()
        .filter_map(|b| b.fleet.map(|(_, registered)| registered))
        .max()
        .unwrap_or(1)
        .max(1) as f64
        + 1.0;
    let y_load = |v: f64, max: f64| LOAD.1 - (LOAD.1 - LOAD.0) * v / max;
    panel(&mut out, LOAD, "load (requests/s) and backends");
    for v in [0.0, load_max / 2.0, load_max] {
        tick(&mut out, y_load(v, load_max), &format!("{v:.0}"));
    }
    for v in (0..backends_max as u32).step_by(3).map(f64::from) {
        let _ = writeln!(
            out,
            r##"<text x="{}" y="{:.1}" fill="#9467bd">{v:.0}</text>"##,
            RIGHT + 6.0,
            y_load(v, backends_max) + 4.0
        );
    }
    let points = buckets.iter().map(|b| {
        Some((
            x(b.start.as_secs_f64() + 0.5),
            y_load(b.stats.requests as f64, load_max),
        ))
    });
    line(&mut out, points, "#7f7f7f", "offered load");
    let step = |pick: fn((u32, u32)) -> u32| {
        buckets
            .iter()
            .map(move |b| {
                b.fleet.map(|f| {
                    (
                        x(b.start.as_secs_f64() + 1.0),
                        y_load(f64::from(pick(f)), backends_max),
                    )
                })
            })
            .collect::<Vec<_>>()
    };
    line(
        &mut out,
        step(|f| f.0).into_iter(),
        "#9467bd",
        "healthy backends",
    );
    line(
        &mut out,
        step(|f| f.1).into_iter(),
        "#c5b0d5",
        "registered backends",
    );
    legend(
        &mut out,
        LOAD.0,
        &[
            ("requests/s", "#7f7f7f"),
            ("healthy backends", "#9467bd"),
            ("registered", "#c5b0d5"),
        ],
    );
    out.push_str("</svg>\n");
    out
}

fn panel(out: &mut String, (top, bottom): (f64, f64), label: &str) {
    let _ = writeln!(
        out,
        r##"<rect x="{LEFT}" y="{top}" width="{}" height="{}" fill="none" stroke="#888"/>"##,
        RIGHT - LEFT,
        bottom - top
    );
    let _ = writeln!(
        out,
        r#"<text x="{}" y="{}" font-weight="bold">{}</text>"#,
        LEFT + 8.0,
        top + 16.0,
        escape(label)
    );
}

fn tick(out: &mut String, y: f64, label: &str) {
    let _ = writeln!(
        out,
        r##"<line x1="{LEFT}" x2="{RIGHT}" y1="{y:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" text-anchor="end">{label}</text>"##,
        LEFT - 6.0,
        y + 4.0
    );
}

/// A polyline, broken where a point is missing.
fn line(
    out: &mut String,
    points: impl Iterator<Item = Option<(f64, f64)>>,
    color: &str,
    name: &str,
) {
    let mut segments: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
    for p in points {
        match p {
            Some(p) => segments.last_mut().expect("one segment").push(p),
            None if segments.last().is_some_and(|s| !s.is_empty()) => segments.push(Vec::new()),
            None => {}
        }
    }
    for segment in segments.iter().filter(|s| !s.is_empty()) {
        let points: Vec<String> = segment
            .iter()
            .map(|(x, y)| format!("{x:.1},{y:.1}"))
            .collect();
        let _ = writeln!(
            out,
            r#"<polyline class="{}" points="{}" fill="none" stroke="{color}" stroke-width="1.8"/>"#,
            name.replace(' ', "-"),
            points.join(" ")
        );
    }
}

fn legend(out: &mut String, top: f64, entries: &[(&str, &str)]) {
    let mut x = RIGHT - 10.0;
    for (name, color) in entries.iter().rev() {
        let width = 30.0 + 7.0 * name.len() as f64;
        x -= width;
        let _ = writeln!(
            out,
            r#"<rect x="{x:.1}" y="{}" width="10" height="10" fill="{color}"/><text x="{:.1}" y="{}">{}</text>"#,
            top + 6.0,
            x + 13.0,
            top + 15.0,
            escape(name)
        );
    }
}
