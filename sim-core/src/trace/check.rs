//! The determinism self-check: run a seed twice and name the first difference.

use std::fmt;

use super::{Event, Fingerprint, Trace, TraceMode};
use crate::error::Failure;
use crate::{Report, Seed, Sim, SimBuilder};

/// Two runs of the same seed that did not produce the same trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Divergence {
    /// The seed.
    pub seed: Seed,
    /// The two fingerprints.
    pub fingerprints: (Fingerprint, Fingerprint),
    /// Index of the first differing event.
    pub index: u64,
    /// The first run's event there (`None`: the run had ended).
    pub first: Option<String>,
    /// The second run's event there.
    pub second: Option<String>,
}

impl fmt::Display for Divergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "determinism check failed for seed {}: fingerprints {} and {} differ; first difference at event #{}:",
            self.seed, self.fingerprints.0, self.fingerprints.1, self.index
        )?;
        writeln!(
            f,
            "  run 1: {}",
            self.first.as_deref().unwrap_or("<end of trace>")
        )?;
        write!(
            f,
            "  run 2: {}",
            self.second.as_deref().unwrap_or("<end of trace>")
        )?;
        writeln!(f)?;
        write!(f, "{NONDETERMINISM_HINT}")
    }
}

/// Where nondeterminism usually comes from, for every report that finds some.
pub(crate) const NONDETERMINISM_HINT: &str = "  something reads state outside the world; find what decides the first differing event. Likely sources:
    - a library's own randomness: rand::thread_rng()/rand::rng(), uuid::Uuid::new_v4(), getrandom
    - std::collections::HashMap/HashSet iteration order (RandomState keys come from the OS)
    - clocks read directly: std::time::Instant::now(), SystemTime::now(), in your code or a dependency (backoff, metrics, leases, tokens)
    - OS threads, a real runtime (tokio), or a channel shared with another thread
    - statics, globals or thread-locals that carry state from one run into the next
  detsim's `intercept` feature makes OS entropy and clocks the world's (see the book's chapter on determinism);
  state carried in statics must be reset by the test itself";

impl std::error::Error for Divergence {}

/// Runs `test` twice on worlds built from `builder` (with the trace
/// recorded) and compares the traces event by event.
///
/// Returns the fingerprint when both runs are identical.
///
/// # Errors
///
/// A [`Divergence`] naming the first event where the runs differ.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use detsim::{Seed, Sim, SimBuilder, check_determinism, time, random};
///
/// let fingerprint = check_determinism(Sim::builder(Seed::new(3)), |mut sim: Sim| {
///     sim.run(async {
///         let ms = random::with(|rng| rng.below(100));
///         time::sleep(Duration::from_millis(ms)).await;
///     })
/// }).unwrap();
/// # let _ = fingerprint;
/// ```
pub fn check_determinism<T>(
    builder: SimBuilder,
    test: impl Fn(Sim) -> Result<Report<T>, Failure>,
) -> Result<Fingerprint, Divergence> {
    let builder = match builder.trace_mode() {
        TraceMode::Record { .. } => builder,
        TraceMode::Fingerprint => builder.trace(TraceMode::RECORD),
    };
    let seed = builder.seed();
    let run = || {
        let sim = builder
            .clone()
            .build()
            .unwrap_or_else(|e| panic!("detsim::check_determinism: {e}"));
        match test(sim) {
            Ok(report) => report.trace,
            Err(failure) => failure.trace().clone(),
        }
    };
    let first = run();
    let second = run();
    compare(seed, &first, &second)
}

pub(crate) fn compare(
    seed: Seed,
    first: &Trace,
    second: &Trace,
) -> Result<Fingerprint, Divergence> {
    let differs_at = first
        .events
        .iter()
        .zip(&second.events)
        .position(|(a, b)| a != b)
        .or_else(|| {
            (first.events.len() != second.events.len())
                .then(|| first.events.len().min(second.events.len()))
        });
    if differs_at.is_none()
        && first.fingerprint == second.fingerprint
        && first.count == second.count
    {
        return Ok(first.fingerprint);
    }
    let index = differs_at.unwrap_or(first.events.len());
    let describe = |trace: &Trace, events: &[Event]| events.get(index).map(|e| trace.describe(e));
    let (mut a, mut b) = (
        describe(first, &first.events),
        describe(second, &second.events),
    );
    // Two events can differ in a field their words leave out (a timer's
    // sequence number, an extension event's numbers): then show every field,
    // so the two lines never read the same.
    if a.is_some() && a == b {
        let fields = |events: &[Event]| format!(" [{:?}]", events[index].kind);
        if let (Some(a), Some(b)) = (&mut a, &mut b) {
            a.push_str(&fields(&first.events));
            b.push_str(&fields(&second.events));
        }
        if a == b {
            let at = |events: &[Event]| {
                format!(
                    " [node {:?}, {} ns]",
                    events[index].node,
                    events[index].time.as_nanos()
                )
            };
            if let (Some(a), Some(b)) = (&mut a, &mut b) {
                a.push_str(&at(&first.events));
                b.push_str(&at(&second.events));
            }
        }
    }
    Err(Divergence {
        seed,
        fingerprints: (first.fingerprint, second.fingerprint),
        index: index as u64,
        first: a,
        second: b,
    })
}
