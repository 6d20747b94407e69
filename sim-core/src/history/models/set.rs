//! A set of values.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;
use std::hash::Hash;
use std::marker::PhantomData;

use serde::{Deserialize, Serialize};

use crate::history::{Model, Next, OpId, Operation, Partition};

/// A set, empty at first, with add, remove, membership and whole-set reads.
///
/// When a history has no whole-set [`SetInput::Read`], elements are independent and
/// the model partitions the history by element.
///
/// # Examples
///
/// ```
/// use detsim::history::{Model, Set, SetInput, SetOutput};
/// use std::collections::BTreeSet;
///
/// let set = Set::<u32>::default();
/// let read = SetOutput::Read(BTreeSet::from([1]));
/// assert!(set.step(&BTreeSet::new(), &SetInput::Read, Some(&read)).is_illegal());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Set<V> {
    types: PhantomData<fn() -> V>,
}

impl<V> Default for Set<V> {
    fn default() -> Self {
        Set { types: PhantomData }
    }
}

/// An operation on a [`Set`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SetInput<V> {
    /// Add an element.
    Add(V),
    /// Remove an element.
    Remove(V),
    /// Ask whether an element is present.
    Contains(V),
    /// Read the whole set.
    Read,
}

/// The answer to a [`SetInput`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(
    rename_all = "snake_case",
    bound(deserialize = "V: Deserialize<'de> + Ord")
)]
pub enum SetOutput<V> {
    /// The add was applied.
    Added,
    /// The remove was applied.
    Removed,
    /// Whether the element was present.
    Contains(bool),
    /// The whole set.
    Read(BTreeSet<V>),
}

impl<V: Clone + Ord + Hash + Debug> Model for Set<V> {
    type State = BTreeSet<V>;
    type Input = SetInput<V>;
    type Output = SetOutput<V>;

    fn init(&self) -> BTreeSet<V> {
        BTreeSet::new()
    }

    fn step(
        &self,
        state: &BTreeSet<V>,
        input: &SetInput<V>,
        output: Option<&SetOutput<V>>,
    ) -> Next<BTreeSet<V>> {
        match (input, output) {
            (SetInput::Add(value), None | Some(SetOutput::Added)) => {
                let mut next = state.clone();
                next.insert(value.clone());
                Next::One(next)
            }
            (SetInput::Remove(value), None | Some(SetOutput::Removed)) => {
                let mut next = state.clone();
                next.remove(value);
                Next::One(next)
            }
            (SetInput::Contains(_) | SetInput::Read, None) => Next::One(state.clone()),
            (SetInput::Contains(value), Some(SetOutput::Contains(present))) => {
                Next::when(state.contains(value) == *present, state.clone())
            }
            (SetInput::Read, Some(SetOutput::Read(seen))) => {
                Next::when(seen == state, state.clone())
            }
            (_, Some(_)) => Next::Illegal,
        }
    }

    /// Membership tests and whole-set reads.
    fn is_read_only(&self, input: &SetInput<V>, _: Option<&SetOutput<V>>) -> bool {
        matches!(input, SetInput::Contains(_) | SetInput::Read)
    }

    /// One partition per element when no operation reads the whole set, else one.
    fn partition(&self, operations: &[Operation<SetInput<V>, SetOutput<V>>]) -> Vec<Partition> {
        let mut elements: BTreeMap<&V, Vec<OpId>> = BTreeMap::new();
        for (index, operation) in operations.iter().enumerate() {
            let element = match &operation.input {
                SetInput::Add(value) | SetInput::Remove(value) | SetInput::Contains(value) => value,
                SetInput::Read => {
                    return vec![Partition {
                        label: "the whole set".to_string(),
                        operations: (0..operations.len()).map(OpId::new).collect(),
                    }];
                }
            };
            elements.entry(element).or_default().push(OpId::new(index));
        }
        elements
            .into_iter()
            .map(|(element, operations)| Partition {
                label: format!("element {element:?}"),
                operations,
            })
            .collect()
    }

    fn describe_operation(&self, input: &SetInput<V>, output: Option<&SetOutput<V>>) -> String {
        let call = match input {
            SetInput::Add(value) => format!("add({value:?})"),
            SetInput::Remove(value) => format!("remove({value:?})"),
            SetInput::Contains(value) => format!("contains({value:?})"),
            SetInput::Read => "read()".to_string(),
        };
        match output {
            None => format!("{call} → ?"),
            Some(SetOutput::Added | SetOutput::Removed) => call,
            Some(SetOutput::Contains(present)) => format!("{call} → {present}"),
            Some(SetOutput::Read(seen)) => format!("{call} → {seen:?}"),
        }
    }

    fn state_bytes(&self, state: &BTreeSet<V>) -> usize {
        // B-tree nodes hold up to 11 elements, about two thirds full.
        std::mem::size_of::<BTreeSet<V>>() + state.len() * (std::mem::size_of::<V>() * 3 / 2 + 8)
    }
}
