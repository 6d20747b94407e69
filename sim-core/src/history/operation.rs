//! One client operation: what was asked, when, and what came back.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::time::Instant;

/// The identity of an operation: its position in its [`History`](super::History).
///
/// A [`Recorder`](super::Recorder) hands them out in invocation order, starting at 0.
///
/// # Examples
///
/// ```
/// use detsim::history::OpId;
///
/// assert_eq!(OpId::new(7).index(), 7);
/// assert_eq!(OpId::new(7).to_string(), "op 7");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OpId(u32);

impl OpId {
    /// The operation at position `index` of a history.
    ///
    /// # Panics
    ///
    /// Panics if `index` does not fit in 32 bits: a history holds at most 2³² operations.
    pub fn new(index: usize) -> OpId {
        OpId(u32::try_from(index).expect("a history holds at most 2^32 operations"))
    }

    /// The position of the operation in its history.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for OpId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "op {}", self.0)
    }
}

/// How an operation ended, as the client saw it.
///
/// Serialized in snake case: `{"ok":{"output":…,"at":…}}`, `{"failed":{"at":…}}`,
/// `{"unknown":{"at":null}}`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome<O> {
    /// The operation took effect and returned `output` at `at`.
    Ok {
        /// What the system answered.
        output: O,
        /// When the answer reached the client.
        at: Instant,
    },
    /// The operation definitely did not take effect (the system said so).
    ///
    /// The checker ignores it, as Knossos ignores `:fail`.
    Failed {
        /// When the client learnt it failed.
        at: Instant,
    },
    /// The client cannot tell whether the operation took effect: a timeout, a crash,
    /// or the history ended while it was in flight (Knossos' `:info`).
    ///
    /// The checker lets it take effect at any point after its call, or never.
    Unknown {
        /// When the client gave up, if it did (for display only: the operation may
        /// still take effect later), or `None` if it was still pending.
        at: Option<Instant>,
    },
}

/// One operation of a history: a client's call and its outcome.
///
/// Build them with a [`Recorder`](super::Recorder), or by hand and then
/// [`History::from_operations`](super::History::from_operations), which checks them.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Operation<I, O> {
    /// Who called: a client id of the test's choosing (a node or a simulated process).
    pub client: u64,
    /// What the client asked for.
    pub input: I,
    /// When the call was made.
    pub call: Instant,
    /// How it ended.
    pub outcome: Outcome<O>,
}

impl<I, O> Operation<I, O> {
    /// The output, if the operation completed with one.
    pub fn output(&self) -> Option<&O> {
        match &self.outcome {
            Outcome::Ok { output, .. } => Some(output),
            Outcome::Failed { .. } | Outcome::Unknown { .. } => None,
        }
    }

    /// When the client saw the outcome: `None` for an operation still pending.
    ///
    /// For an [`Outcome::Unknown`] this is only when the client gave up: for the
    /// checker such an operation never returns.
    pub fn returned(&self) -> Option<Instant> {
        match &self.outcome {
            Outcome::Ok { at, .. } | Outcome::Failed { at } => Some(*at),
            Outcome::Unknown { at } => *at,
        }
    }

    /// Whether the operation definitely took effect (it completed ok).
    pub fn is_ok(&self) -> bool {
        matches!(self.outcome, Outcome::Ok { .. })
    }

    /// Whether the operation definitely did not take effect.
    pub fn is_failed(&self) -> bool {
        matches!(self.outcome, Outcome::Failed { .. })
    }

    /// Whether the operation may or may not have taken effect.
    pub fn is_unknown(&self) -> bool {
        matches!(self.outcome, Outcome::Unknown { .. })
    }
}
