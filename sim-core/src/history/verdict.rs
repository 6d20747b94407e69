//! What the checker concludes, and the evidence.

use std::fmt;

use super::OpId;

/// The answer of a linearizability check. It is never wrong: when the budget runs out
/// before the answer is known, it says [`CheckResult::Unknown`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use]
pub enum CheckResult {
    /// Some order of the operations, consistent with real time, is allowed by the model.
    Linearizable,
    /// No such order exists: the partition without one that the checker found first
    /// (the easiest, see [`Checker`](super::Checker)), with the partitions still
    /// undecided at that point.
    NotLinearizable(Counterexample),
    /// No partition is illegal, but these ran out of budget before an answer.
    Unknown(Vec<Undecided>),
}

impl CheckResult {
    /// Whether the history was proven linearizable.
    pub fn is_linearizable(&self) -> bool {
        matches!(self, CheckResult::Linearizable)
    }

    /// Whether the history was proven not linearizable.
    pub fn is_not_linearizable(&self) -> bool {
        matches!(self, CheckResult::NotLinearizable(_))
    }

    /// Whether the budget ran out before an answer.
    pub fn is_unknown(&self) -> bool {
        matches!(self, CheckResult::Unknown(_))
    }

    /// The counterexample, if the history is not linearizable.
    pub fn counterexample(&self) -> Option<&Counterexample> {
        match self {
            CheckResult::NotLinearizable(counterexample) => Some(counterexample),
            CheckResult::Linearizable | CheckResult::Unknown(_) => None,
        }
    }

    /// The partitions left undecided: those that ran out of budget, or (beside
    /// a counterexample) those still open when the illegal one was found.
    pub fn undecided(&self) -> &[Undecided] {
        match self {
            CheckResult::Linearizable => &[],
            CheckResult::NotLinearizable(counterexample) => &counterexample.undecided,
            CheckResult::Unknown(undecided) => undecided,
        }
    }

    /// The verdict in words: `linearizable`, `not linearizable` or `unknown`.
    ///
    /// ```
    /// use detsim::history::{Recorder, Register, RegisterInput, RegisterOutput, check};
    /// use detsim::time::Instant;
    ///
    /// let recorder = Recorder::default();
    /// let write = recorder.invoke_at(1, RegisterInput::Write(1), Instant::from_nanos(0));
    /// recorder.ok_at(write, RegisterOutput::Written, Instant::from_nanos(10));
    /// let read = recorder.invoke_at(2, RegisterInput::Read, Instant::from_nanos(20));
    /// recorder.ok_at(read, RegisterOutput::Read(0), Instant::from_nanos(30)); // stale
    /// let result = check(&Register::new(0), &recorder.history());
    /// assert_eq!(result.verdict(), "not linearizable");
    /// assert!(result.undecided().is_empty());
    /// ```
    pub fn verdict(&self) -> &'static str {
        match self {
            CheckResult::Linearizable => "linearizable",
            CheckResult::NotLinearizable(_) => "not linearizable",
            CheckResult::Unknown(_) => "unknown",
        }
    }
}

impl fmt::Display for CheckResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CheckResult::Linearizable => write!(f, "linearizable"),
            CheckResult::NotLinearizable(counterexample) => write!(f, "{counterexample}"),
            CheckResult::Unknown(undecided) => {
                write!(
                    f,
                    "unknown: {} partition(s) ran out of budget",
                    undecided.len()
                )?;
                for part in undecided {
                    write!(f, "\n  {part}")?;
                }
                Ok(())
            }
        }
    }
}

/// Why a history is not linearizable: in one partition, the longest prefix the search
/// could linearize, and the operations none of which could be placed after it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Counterexample {
    /// The index of the partition in the model's [`partition`](super::Model::partition).
    pub partition: usize,
    /// The partition's label.
    pub label: String,
    /// The longest linearizable prefix found, in linearization order.
    pub prefix: Vec<Linearized>,
    /// The state after the prefix.
    pub state: String,
    /// The operations that could have come next by real time, none of which leads to
    /// a linearization; the first is the one whose return forced the search back.
    pub unplaced: Vec<Unplaced>,
    /// The partitions still undecided when the check stopped at this one, in the
    /// model's order: each ran out of a budget ([`UndecidedReason::Stopped`] if only
    /// of the round's, see [`Checker`](super::Checker)).
    pub undecided: Vec<Undecided>,
}

impl fmt::Display for Counterexample {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "not linearizable: partition {} ({}) has no linearization",
            self.partition, self.label
        )?;
        writeln!(
            f,
            "longest linearizable prefix ({} operations):",
            self.prefix.len()
        )?;
        for (position, step) in self.prefix.iter().enumerate() {
            writeln!(
                f,
                "  {:>3}. {}: {}  ⇒ {}",
                position + 1,
                step.op,
                step.description,
                step.state
            )?;
        }
        write!(
            f,
            "state after it: {}\nthen none of these can be placed:",
            self.state
        )?;
        for unplaced in &self.unplaced {
            write!(
                f,
                "\n  {}: {} ({})",
                unplaced.op, unplaced.description, unplaced.reason
            )?;
        }
        if !self.undecided.is_empty() {
            write!(
                f,
                "\nstill undecided when the check stopped: {} partition(s)",
                self.undecided.len()
            )?;
            for part in &self.undecided {
                write!(f, "\n  {part}")?;
            }
        }
        Ok(())
    }
}

/// An operation of a counterexample's prefix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Linearized {
    /// The operation.
    pub op: OpId,
    /// Its description by the model.
    pub description: String,
    /// The state right after it.
    pub state: String,
}

/// An operation that could not be placed after a counterexample's prefix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unplaced {
    /// The operation.
    pub op: OpId,
    /// Its description by the model.
    pub description: String,
    /// Why it cannot come next.
    pub reason: UnplacedReason,
}

/// Why an operation cannot come next.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnplacedReason {
    /// The model forbids it in the state after the prefix.
    Illegal,
    /// The model allows it, but no linearization continues from there.
    DeadEnd,
}

impl fmt::Display for UnplacedReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UnplacedReason::Illegal => write!(f, "illegal in that state"),
            UnplacedReason::DeadEnd => write!(f, "legal, but every continuation fails"),
        }
    }
}

/// A partition whose search ran out of budget.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Undecided {
    /// The index of the partition in the model's [`partition`](super::Model::partition).
    pub partition: usize,
    /// The partition's label.
    pub label: String,
    /// The number of operations checked in the partition (failed ones excluded).
    pub operations: usize,
    /// Which budget ran out.
    pub reason: UndecidedReason,
    /// Model steps taken before giving up.
    pub steps: u64,
    /// Memo entries held when giving up.
    pub memo_entries: usize,
    /// The bytes those memo entries held (see
    /// [`CheckerOptions::memory_max`](super::CheckerOptions)).
    pub memo_bytes: usize,
}

impl fmt::Display for Undecided {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "partition {} ({}, {} operations): {} after {} steps and {} memo entries ({} bytes)",
            self.partition,
            self.label,
            self.operations,
            self.reason,
            self.steps,
            self.memo_entries,
            self.memo_bytes
        )
    }
}

/// Which budget of [`CheckerOptions`](super::CheckerOptions) ran out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UndecidedReason {
    /// `time_max`: the search took too long (depends on the machine).
    Time,
    /// `steps_max`: the search took too many model steps.
    Steps,
    /// `memo_entries_max` or `memory_max`: the search would have used too much memory.
    Memory,
    /// No budget of its own ran out: the check stopped because another partition was
    /// found not linearizable first (the steps are those of the last round tried).
    Stopped,
}

impl fmt::Display for UndecidedReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UndecidedReason::Time => write!(f, "time budget exhausted"),
            UndecidedReason::Steps => write!(f, "step budget exhausted"),
            UndecidedReason::Memory => write!(f, "memory budget exhausted"),
            UndecidedReason::Stopped => {
                write!(f, "not decided when another partition was found illegal")
            }
        }
    }
}
