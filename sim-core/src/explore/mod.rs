//! Guided exploration beside sweeps: forked runs, the coverage signal, and
//! the search that spends a campaign's runs where coverage is rare.
//!
//! The world knows only two things of it: its streams re-key at fork
//! instants ([`Forks`]), and it leaves what it reached in a sink
//! ([`Reached`]). Everything else lives here and in the sweep driver.

pub(crate) mod campaign;
mod coverage;
mod fork;
mod plot;

pub use campaign::{Campaign, CorpusEntry, CurvePoint, Explore, KeyStat};
pub use coverage::Reached;
pub(crate) use coverage::Sink;
pub use fork::{Fork, Forks, ParseForksError};
