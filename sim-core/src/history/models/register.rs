//! A read/write/compare-and-set register.

use std::fmt::Debug;
use std::hash::Hash;

use serde::{Deserialize, Serialize};

use crate::history::{Model, Next};

/// A single register holding a `V`, with reads, writes and compare-and-set.
///
/// # Examples
///
/// ```
/// use detsim::history::{Model, Next, Register, RegisterInput, RegisterOutput};
///
/// let register = Register::new(0);
/// let read_1 = (RegisterInput::Read, RegisterOutput::Read(1));
/// assert_eq!(register.step(&1, &read_1.0, Some(&read_1.1)), Next::One(1));
/// assert!(register.step(&0, &read_1.0, Some(&read_1.1)).is_illegal());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Register<V> {
    initial: V,
}

impl<V> Register<V> {
    /// A register that holds `initial` before the first write.
    pub fn new(initial: V) -> Self {
        Register { initial }
    }
}

/// An operation on a [`Register`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegisterInput<V> {
    /// Read the value.
    Read,
    /// Replace the value.
    Write(V),
    /// Replace the value with `new` if it is `expected`.
    Cas {
        /// The value the register must hold for the swap to happen.
        expected: V,
        /// The value written if it does.
        new: V,
    },
}

/// The answer to a [`RegisterInput`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegisterOutput<V> {
    /// The value read.
    Read(V),
    /// The write was applied.
    Written,
    /// Whether the compare-and-set swapped.
    Cas(bool),
}

impl<V: Clone + Eq + Hash + Debug> Model for Register<V> {
    type State = V;
    type Input = RegisterInput<V>;
    type Output = RegisterOutput<V>;

    fn init(&self) -> V {
        self.initial.clone()
    }

    fn step(
        &self,
        state: &V,
        input: &RegisterInput<V>,
        output: Option<&RegisterOutput<V>>,
    ) -> Next<V> {
        match (input, output) {
            (RegisterInput::Read, None) => Next::One(state.clone()),
            (RegisterInput::Read, Some(RegisterOutput::Read(value))) => {
                Next::when(value == state, state.clone())
            }
            (RegisterInput::Write(value), None | Some(RegisterOutput::Written)) => {
                Next::One(value.clone())
            }
            (RegisterInput::Cas { expected, new }, None) => Next::One(if state == expected {
                new.clone()
            } else {
                state.clone()
            }),
            (RegisterInput::Cas { expected, new }, Some(RegisterOutput::Cas(true))) => {
                Next::when(state == expected, new.clone())
            }
            (RegisterInput::Cas { expected, .. }, Some(RegisterOutput::Cas(false))) => {
                Next::when(state != expected, state.clone())
            }
            (_, Some(_)) => Next::Illegal,
        }
    }

    /// Reads, and compare-and-sets that did not swap.
    fn is_read_only(&self, input: &RegisterInput<V>, output: Option<&RegisterOutput<V>>) -> bool {
        matches!(
            (input, output),
            (RegisterInput::Read, _)
                | (RegisterInput::Cas { .. }, Some(RegisterOutput::Cas(false)))
        )
    }

    fn describe_operation(
        &self,
        input: &RegisterInput<V>,
        output: Option<&RegisterOutput<V>>,
    ) -> String {
        let call = match input {
            RegisterInput::Read => "read()".to_string(),
            RegisterInput::Write(value) => format!("write({value:?})"),
            RegisterInput::Cas { expected, new } => format!("cas({expected:?}, {new:?})"),
        };
        match output {
            None => format!("{call} → ?"),
            Some(RegisterOutput::Written) => call,
            Some(RegisterOutput::Read(value)) => format!("{call} → {value:?}"),
            Some(RegisterOutput::Cas(swapped)) => format!("{call} → {swapped}"),
        }
    }
}
