//! sim-core: the executor, virtual time, nodes, randomness, failures, trace.

mod determinism;
mod executor;
mod failures;
mod nodes;
mod pct;
mod rng;
mod runtime;
mod time;
mod trace;

use std::cell::RefCell;
use std::rc::Rc;

/// A shared log that tasks append to, to assert exact orders.
#[derive(Clone, Default)]
pub(crate) struct Log(Rc<RefCell<Vec<String>>>);

impl Log {
    pub(crate) fn push(&self, entry: impl Into<String>) {
        self.0.borrow_mut().push(entry.into());
    }

    /// Appends `entry` prefixed with the current virtual time in milliseconds.
    pub(crate) fn at(&self, entry: impl std::fmt::Display) {
        let ms = detsim::time::now().as_nanos() / 1_000_000;
        self.push(format!("{ms}ms {entry}"));
    }

    pub(crate) fn take(&self) -> Vec<String> {
        std::mem::take(&mut self.0.borrow_mut())
    }
}
