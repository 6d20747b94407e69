//! What the clients and the autoscaler observe, in virtual time: every
//! request's outcome and latency, the load balancer's view of its backends,
//! and the system's reactions; summarised per phase and per second.

use std::fmt::{self, Write as _};
use std::time::Duration;

use crate::lb::scenario::Phase;

/// One client request, from its first attempt to its last.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestRecord {
    /// When the client issued it (true virtual time since the world started).
    pub start: Duration,
    /// From the first attempt to the answer (or to giving up).
    pub latency: Duration,
    /// Whether an attempt succeeded.
    pub ok: bool,
    /// Attempts made (1 when the first one succeeded).
    pub attempts: u32,
}

/// The load balancer's state as the autoscaler saw it at one instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FleetSample {
    /// When.
    pub at: Duration,
    /// Backends registered with the load balancer.
    pub registered: u32,
    /// Of those, the ones its health checks consider healthy.
    pub healthy: u32,
}

/// Something the system did on its own (a health-check verdict, a scale-out).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reaction {
    /// When.
    pub at: Duration,
    /// Who acted (`lb`, `autoscaler`, a backend).
    pub actor: String,
    /// What happened, in plain words.
    pub what: String,
}

impl fmt::Display for Reaction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = format!("{:.3}s", self.at.as_secs_f64());
        write!(f, "t={at:>8} {:<10} {}", self.actor, self.what)
    }
}

/// Everything observed during one run. Shared (behind an `Rc<RefCell<_>>`)
/// by the clients, the load balancer and the autoscaler of one world; it is
/// the measuring instrument, not part of the system under test.
#[derive(Clone, Debug, Default)]
pub struct Recorder {
    /// Every request, in completion order.
    pub requests: Vec<RequestRecord>,
    /// The fleet as sampled by the autoscaler.
    pub fleet: Vec<FleetSample>,
    /// The system's reactions, in time order.
    pub reactions: Vec<Reaction>,
}

impl Recorder {
    /// Notes a reaction at `at`.
    pub fn react(&mut self, at: Duration, actor: &str, what: impl Into<String>) {
        self.reactions.push(Reaction {
            at,
            actor: actor.to_owned(),
            what: what.into(),
        });
    }
}

/// The `q`-quantile (0 < q ≤ 1) of sorted values, by nearest rank.
///
/// # Panics
///
/// If `q` is not in (0, 1].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use examples::lb::percentile;
///
/// let ms = |v: u64| Duration::from_millis(v);
/// let sorted: Vec<_> = (1..=100).map(ms).collect();
/// assert_eq!(percentile(&sorted, 0.5), Some(ms(50)));
/// assert_eq!(percentile(&sorted, 0.99), Some(ms(99)));
/// assert_eq!(percentile(&sorted, 1.0), Some(ms(100)));
/// assert_eq!(percentile(&[], 0.5), None);
/// ```
pub fn percentile(sorted: &[Duration], q: f64) -> Option<Duration> {
    assert!(q > 0.0 && q <= 1.0, "a quantile is in (0, 1], got {q}");
    if sorted.is_empty() {
        return None;
    }
    debug_assert!(sorted.is_sorted(), "percentile needs sorted values");
    let rank = (q * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// Availability and latency of the requests issued in one window.
#[derive(Clone, Debug, PartialEq)]
pub struct WindowStats {
    /// Requests issued in the window.
    pub requests: u64,
    /// Of those, the ones that succeeded.
    pub succeeded: u64,
    /// Client attempts beyond the first (retries).
    pub retries: u64,
    /// Median latency of the successful requests.
    pub p50: Option<Duration>,
    /// 99th percentile latency of the successful requests.
    pub p99: Option<Duration>,
    /// 99.9th percentile latency of the successful requests.
    pub p999: Option<Duration>,
}

impl WindowStats {
    /// Summarises the requests issued in `[start, end)`.
    pub fn of(requests: &[RequestRecord], start: Duration, end: Duration) -> WindowStats {
        let mut latencies = Vec::new();
        let (mut count, mut retries) = (0, 0);
        for r in requests
            .iter()
            .filter(|r| r.start >= start && r.start < end)
        {
            count += 1;
            retries += u64::from(r.attempts.saturating_sub(1));
            if r.ok {
                latencies.push(r.latency);
            }
        }
        latencies.sort_unstable();
        WindowStats {
            requests: count,
            succeeded: latencies.len() as u64,
            retries,
            p50: percentile(&latencies, 0.5),
            p99: percentile(&latencies, 0.99),
            p999: percentile(&latencies, 0.999),
        }
    }

    /// The share of requests that succeeded, in percent (100 with no request).
    pub fn availability(&self) -> f64 {
        if self.requests == 0 {
            100.0
        } else {
            100.0 * self.succeeded as f64 / self.requests as f64
        }
    }
}

/// One row of the result table.
#[derive(Clone, Debug, PartialEq)]
pub struct PhaseStats {
    /// The phase.
    pub phase: Phase,
    /// Its requests.
    pub stats: WindowStats,
    /// Fewest and most healthy backends the autoscaler saw in the phase.
    pub healthy: (u32, u32),
    /// Backends registered at the end of the phase.
    pub registered: u32,
}

impl PhaseStats {
    /// Summarises every phase.
    pub fn of(recorder: &Recorder, phases: &[Phase]) -> Vec<PhaseStats> {
        phases
            .iter()
            .map(|phase| {
                let mut samples = recorder
                    .fleet
                    .iter()
                    .filter(|s| s.at >= phase.start && s.at < phase.end);
                let healthy = samples.clone().fold(None, |acc, s| match acc {
                    None => Some((s.healthy, s.healthy)),
                    Some((lo, hi)) => Some((s.healthy.min(lo), s.healthy.max(hi))),
                });
                PhaseStats {
                    phase: phase.clone(),
                    stats: WindowStats::of(&recorder.requests, phase.start, phase.end),
                    healthy: healthy.unwrap_or((0, 0)),
                    registered: samples.next_back().map_or(0, |s| s.registered),
                }
            })
            .collect()
    }
}

/// Seconds, written short: `10s`, `2.5s`.
pub(crate) fn secs(d: Duration) -> String {
    let ms = d.as_millis();
    if ms % 1000 == 0 {
        format!("{}s", ms / 1000)
    } else {
        format!("{}s", d.as_secs_f64())
    }
}

/// Milliseconds with one decimal, `-` when absent.
pub(crate) fn ms(d: Option<Duration>) -> String {
    match d {
        Some(d) => format!("{:.1}", d.as_secs_f64() * 1000.0),
        None => "-".into(),
    }
}

/// The result table, as printed by `lb-zones`.
pub fn table(rows: &[PhaseStats]) -> String {
    let mut out = String::new();
    let name_width = rows
        .iter()
        .map(|r| r.phase.name.len())
        .max()
        .unwrap_or(0)
        .max("phase".len());
    let _ = writeln!(
        out,
        "{:<name_width$}  {:>9}  {:>8}  {:>7}  {:>7}  {:>6}  {:>6}  {:>8}  {:>7}",
        "phase", "window", "requests", "ok %", "retries", "p50 ms", "p99 ms", "p99.9 ms", "healthy",
    );
    for row in rows {
        let window = format!("{}-{}", secs(row.phase.start), secs(row.phase.end));
        let (lo, hi) = row.healthy;
        let backends = if lo == hi {
            format!("{hi}")
        } else {
            format!("{lo}-{hi}")
        };
        let _ = writeln!(
            out,
            "{:<name_width$}  {:>9}  {:>8}  {:>7.2}  {:>7}  {:>6}  {:>6}  {:>8}  {:>7}",
            row.phase.name,
            window,
            row.stats.requests,
            row.stats.availability(),
            row.stats.retries,
            ms(row.stats.p50),
            ms(row.stats.p99),
            ms(row.stats.p999),
            backends,
        );
    }
    out
}
