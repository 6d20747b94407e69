//! The multi-zone load-balancer example (`examples::lb`): failover,
//! scale-out, the effect of each fault on availability and latency, the
//! plot, the journal, and determinism.

mod journal;
mod scenario;

use std::sync::OnceLock;
use std::time::Duration;

use detsim::Seed;
use examples::lb::{Outcome, Scenario};

/// The scenario the tests run: the default one with 4 s phases, so that a
/// debug build runs it in about a second.
pub(crate) fn short(seed: u64) -> Scenario {
    Scenario {
        seed: Seed::new(seed),
        phase_length: Duration::from_secs(4),
        ..Scenario::default()
    }
}

/// The run most tests read: seed 0x2a, run once per test binary.
pub(crate) fn outcome() -> &'static Outcome {
    static OUTCOME: OnceLock<Outcome> = OnceLock::new();
    OUTCOME.get_or_init(|| short(0x2a).run().unwrap_or_else(|e| panic!("{e}")))
}
