//! The sequential specification a history is checked against.

use std::fmt::Debug;
use std::hash::Hash;

use super::{OpId, Operation};

/// A sequential specification, in the spirit of Porcupine's `Model`.
///
/// The checker looks for an order of the operations, consistent with real time, in
/// which every step is allowed by the model. A model says, for a state and an
/// operation, which states the operation may lead to ([`Next`]).
///
/// `output` is `None` when the operation's outcome is unknown: the operation took
/// effect (the checker is trying to place it), but nobody saw its answer, so the
/// model must accept whatever it would have answered.
///
/// States are compared and hashed to remember which (set of placed operations, state)
/// pairs were already explored, so `State` must implement `Eq` and `Hash` faithfully:
/// two states that behave differently must not be equal.
///
/// # Examples
///
/// A counter whose `Add` returns the new value:
///
/// ```
/// use detsim::history::{Model, Next};
///
/// struct Counter;
///
/// impl Model for Counter {
///     type State = u64;
///     type Input = u64; // add this much
///     type Output = u64; // the new value
///
///     fn init(&self) -> u64 {
///         0
///     }
///
///     fn step(&self, state: &u64, add: &u64, output: Option<&u64>) -> Next<u64> {
///         let new = state + add;
///         Next::when(output.is_none_or(|seen| *seen == new), new)
///     }
/// }
///
/// assert_eq!(Counter.step(&1, &2, Some(&3)), Next::One(3));
/// assert_eq!(Counter.step(&1, &2, Some(&4)), Next::Illegal);
/// ```
pub trait Model {
    /// The state of the specified object; `Eq` and `Hash` are used for memoization.
    type State: Clone + Eq + Hash + Debug;
    /// An operation's input: what a client asks for.
    type Input: Debug;
    /// An operation's output: what the client was answered.
    type Output: Debug;

    /// The state before any operation.
    fn init(&self) -> Self::State;

    /// The states `input` may lead to from `state` when it answers `output`
    /// (`None`: any answer), or [`Next::Illegal`] if it cannot happen.
    fn step(
        &self,
        state: &Self::State,
        input: &Self::Input,
        output: Option<&Self::Output>,
    ) -> Next<Self::State>;

    /// Whether the operation leaves every state it is legal in unchanged, such as a read
    /// or a compare-and-set that answered it did not swap. `output` is `None` when the
    /// outcome is unknown.
    ///
    /// The checker linearizes a read-only operation as soon as it is legal and never
    /// reconsiders, which keeps concurrent reads from multiplying the search. The
    /// default, `false`, is always correct; answering `true` for an operation that can
    /// change a state makes the checker wrong.
    fn is_read_only(&self, input: &Self::Input, output: Option<&Self::Output>) -> bool {
        let _ = (input, output);
        false
    }

    /// Splits a history into independent sub-histories checked separately
    /// (P-compositionality: a history is linearizable exactly when every part is).
    ///
    /// The default is one partition holding every operation. Each operation should be
    /// in exactly one partition; the checker panics on an out-of-range or repeated id.
    /// Partitions are checked, and reported, in the order returned.
    fn partition(&self, operations: &[Operation<Self::Input, Self::Output>]) -> Vec<Partition> {
        vec![Partition {
            label: "all operations".to_string(),
            operations: (0..operations.len()).map(OpId::new).collect(),
        }]
    }

    /// A short human description of an operation, for counterexamples and pictures.
    fn describe_operation(&self, input: &Self::Input, output: Option<&Self::Output>) -> String {
        match output {
            Some(output) => format!("{input:?} → {output:?}"),
            None => format!("{input:?} → ?"),
        }
    }

    /// A short human description of a state.
    fn describe_state(&self, state: &Self::State) -> String {
        format!("{state:?}")
    }

    /// The bytes a copy of `state` occupies, counting what it owns on the heap: the
    /// checker's memory budget ([`CheckerOptions::memory_max`](super::CheckerOptions))
    /// adds this up over the states it keeps. The default, `size_of::<State>()`, is
    /// right for states without heap; models whose state holds a collection override it.
    fn state_bytes(&self, state: &Self::State) -> usize {
        let _ = state;
        std::mem::size_of::<Self::State>()
    }
}

/// The states an operation may lead to: none, one, or several (a nondeterministic model).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Next<S> {
    /// The operation cannot happen in this state with this output.
    Illegal,
    /// The operation leads to exactly this state (the cheap, common case).
    One(S),
    /// The operation may lead to any of these states; an empty list is [`Next::Illegal`].
    Many(Vec<S>),
}

impl<S> Next<S> {
    /// `Next::One(state)` if `legal`, else `Next::Illegal`.
    pub fn when(legal: bool, state: S) -> Next<S> {
        if legal {
            Next::One(state)
        } else {
            Next::Illegal
        }
    }

    /// Whether no state is possible.
    pub fn is_illegal(&self) -> bool {
        match self {
            Next::Illegal => true,
            Next::One(_) => false,
            Next::Many(states) => states.is_empty(),
        }
    }

    /// The possible states, as a list.
    pub fn into_vec(self) -> Vec<S> {
        match self {
            Next::Illegal => Vec::new(),
            Next::One(state) => vec![state],
            Next::Many(states) => states,
        }
    }
}

impl<S> From<Option<S>> for Next<S> {
    fn from(state: Option<S>) -> Self {
        match state {
            Some(state) => Next::One(state),
            None => Next::Illegal,
        }
    }
}

/// A part of a history checked on its own, such as the operations on one key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Partition {
    /// A human name for the part, such as `key "x"`.
    pub label: String,
    /// Its operations.
    pub operations: Vec<OpId>,
}

impl Partition {
    /// One partition per distinct `key` of the operations, in key order,
    /// labelled `key {key:?}`: the usual [`Model::partition`] of a store whose
    /// operations each touch one key.
    ///
    /// # Examples
    ///
    /// ```
    /// use detsim::history::{Operation, Outcome, Partition};
    /// use detsim::time::Instant;
    ///
    /// let op = |key: &'static str| Operation {
    ///     client: 0,
    ///     input: key,
    ///     call: Instant::ZERO,
    ///     outcome: Outcome::Unknown { at: None },
    /// };
    /// let operations: Vec<Operation<&str, ()>> = vec![op("b"), op("a"), op("b")];
    /// let parts = Partition::by_key(&operations, |key| *key);
    /// assert_eq!(parts.len(), 2);
    /// assert_eq!(parts[0].label, "key \"a\"");
    /// assert_eq!(parts[1].operations.len(), 2);
    /// ```
    pub fn by_key<'a, I, O, K: Ord + std::fmt::Debug + 'a>(
        operations: &'a [Operation<I, O>],
        key: impl Fn(&'a I) -> K,
    ) -> Vec<Partition> {
        let mut keys: std::collections::BTreeMap<K, Vec<OpId>> = std::collections::BTreeMap::new();
        for (index, operation) in operations.iter().enumerate() {
            keys.entry(key(&operation.input))
                .or_default()
                .push(OpId::new(index));
        }
        keys.into_iter()
            .map(|(key, operations)| Partition {
                label: format!("key {key:?}"),
                operations,
            })
            .collect()
    }
}

/// A reference to a model is a model, so a [`Checker`](super::Checker) can borrow one.
impl<M: Model + ?Sized> Model for &M {
    type State = M::State;
    type Input = M::Input;
    type Output = M::Output;

    fn init(&self) -> Self::State {
        (**self).init()
    }

    fn step(
        &self,
        state: &Self::State,
        input: &Self::Input,
        output: Option<&Self::Output>,
    ) -> Next<Self::State> {
        (**self).step(state, input, output)
    }

    fn is_read_only(&self, input: &Self::Input, output: Option<&Self::Output>) -> bool {
        (**self).is_read_only(input, output)
    }

    fn partition(&self, operations: &[Operation<Self::Input, Self::Output>]) -> Vec<Partition> {
        (**self).partition(operations)
    }

    fn describe_operation(&self, input: &Self::Input, output: Option<&Self::Output>) -> String {
        (**self).describe_operation(input, output)
    }

    fn describe_state(&self, state: &Self::State) -> String {
        (**self).describe_state(state)
    }

    fn state_bytes(&self, state: &Self::State) -> usize {
        (**self).state_bytes(state)
    }
}
