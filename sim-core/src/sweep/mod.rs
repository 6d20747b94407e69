//! Seed sweeps: run a test for many seeds on all cores, shard them across
//! machines, remember failing seeds, replay one exactly, and minimize the
//! fault plan of a failure.

mod artifacts;
mod case;
mod env;
mod minimize;
mod order;
mod progress;
mod regressions;
mod report;
mod runner;

pub use case::Case;
pub use env::{Shard, SweepError};
pub(crate) use progress::Progress;
pub(crate) use regressions::read_forked as read_forked_regressions;
pub use report::{Nondeterminism, RunOutcome, SeedFailure, SweepReport, Verification};
pub(crate) use runner::{CaseOutcome, run_case};
pub use runner::{Sweep, check_case_determinism};
