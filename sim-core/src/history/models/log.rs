//! An append-only log.

use std::fmt::Debug;
use std::hash::Hash;
use std::marker::PhantomData;

use serde::{Deserialize, Serialize};

use crate::history::{Model, Next};

/// An append-only log, empty at first, read whole.
///
/// An append may report the offset it landed at (as Kafka does); if it does, the
/// offset is checked too.
///
/// # Examples
///
/// ```
/// use detsim::history::{Log, LogInput, LogOutput, Model, Next};
///
/// let log = Log::<char>::default();
/// let appended_at_1 = LogOutput::Appended(Some(1));
/// assert_eq!(log.step(&vec!['a'], &LogInput::Append('b'), Some(&appended_at_1)), Next::One(vec!['a', 'b']));
/// assert!(log.step(&vec![], &LogInput::Append('b'), Some(&appended_at_1)).is_illegal());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Log<V> {
    types: PhantomData<fn() -> V>,
}

impl<V> Default for Log<V> {
    fn default() -> Self {
        Log { types: PhantomData }
    }
}

/// An operation on a [`Log`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogInput<V> {
    /// Append an entry.
    Append(V),
    /// Read every entry.
    Read,
}

/// The answer to a [`LogInput`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogOutput<V> {
    /// The entry was appended, at this offset if the system says.
    Appended(Option<u64>),
    /// Every entry, oldest first.
    Read(Vec<V>),
}

impl<V: Clone + Eq + Hash + Debug> Model for Log<V> {
    type State = Vec<V>;
    type Input = LogInput<V>;
    type Output = LogOutput<V>;

    fn init(&self) -> Vec<V> {
        Vec::new()
    }

    fn step(
        &self,
        state: &Vec<V>,
        input: &LogInput<V>,
        output: Option<&LogOutput<V>>,
    ) -> Next<Vec<V>> {
        match (input, output) {
            (LogInput::Append(value), None | Some(LogOutput::Appended(None))) => {
                let mut next = state.clone();
                next.push(value.clone());
                Next::One(next)
            }
            (LogInput::Append(value), Some(LogOutput::Appended(Some(offset)))) => {
                if u64::try_from(state.len()).ok() != Some(*offset) {
                    return Next::Illegal;
                }
                let mut next = state.clone();
                next.push(value.clone());
                Next::One(next)
            }
            (LogInput::Read, None) => Next::One(state.clone()),
            (LogInput::Read, Some(LogOutput::Read(seen))) => {
                Next::when(seen == state, state.clone())
            }
            (_, Some(_)) => Next::Illegal,
        }
    }

    /// Reads.
    fn is_read_only(&self, input: &LogInput<V>, _: Option<&LogOutput<V>>) -> bool {
        matches!(input, LogInput::Read)
    }

    fn describe_operation(&self, input: &LogInput<V>, output: Option<&LogOutput<V>>) -> String {
        let call = match input {
            LogInput::Append(value) => format!("append({value:?})"),
            LogInput::Read => "read()".to_string(),
        };
        match output {
            None => format!("{call} → ?"),
            Some(LogOutput::Appended(None)) => call,
            Some(LogOutput::Appended(Some(offset))) => format!("{call} → @{offset}"),
            Some(LogOutput::Read(seen)) => format!("{call} → {seen:?}"),
        }
    }

    fn state_bytes(&self, state: &Vec<V>) -> usize {
        std::mem::size_of::<Vec<V>>() + state.capacity() * std::mem::size_of::<V>()
    }
}
