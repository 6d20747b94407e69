//! The error of a timeout.

use std::fmt;

/// The error of a timeout whose deadline passed first: of
/// [`timeout_on`](crate::timeout_on) on any [`Clock`](crate::Clock), and of
/// the simulation's ambient `time::timeout`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Elapsed(());

impl Elapsed {
    pub(crate) fn new() -> Elapsed {
        Elapsed(())
    }
}

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl std::error::Error for Elapsed {}
