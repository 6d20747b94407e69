//! A key-value map, checked key by key.

use std::fmt::Debug;
use std::hash::Hash;
use std::marker::PhantomData;

use serde::{Deserialize, Serialize};

use crate::history::{Model, Next, Operation, Partition};

/// A key-value map with get, put, delete and compare-and-set, every key absent at first.
///
/// Keys are independent, so the model partitions a history by key and its state is
/// the value of one key (`None`: absent). Histories of thousands of operations over
/// many keys check fast because each key is searched alone.
///
/// # Examples
///
/// ```
/// use detsim::history::{KeyValue, KvInput, KvOutput, Model};
///
/// let kv = KeyValue::<&str, u32>::default();
/// let get = KvInput::Get("x");
/// assert!(kv.step(&None, &get, Some(&KvOutput::Get(Some(1)))).is_illegal());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyValue<K, V> {
    types: PhantomData<fn() -> (K, V)>,
}

impl<K, V> Default for KeyValue<K, V> {
    fn default() -> Self {
        KeyValue { types: PhantomData }
    }
}

/// An operation on a [`KeyValue`] map.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KvInput<K, V> {
    /// Read a key.
    Get(K),
    /// Set a key.
    Put(K, V),
    /// Remove a key.
    Delete(K),
    /// Set `key` to `new` if it holds `expected` (`None`: if it is absent).
    Cas {
        /// The key.
        key: K,
        /// The value the key must hold for the swap to happen.
        expected: Option<V>,
        /// The value written if it does.
        new: V,
    },
}

impl<K, V> KvInput<K, V> {
    /// The key the operation is about.
    pub fn key(&self) -> &K {
        match self {
            KvInput::Get(key) | KvInput::Put(key, _) | KvInput::Delete(key) => key,
            KvInput::Cas { key, .. } => key,
        }
    }
}

/// The answer to a [`KvInput`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KvOutput<V> {
    /// The value read (`None`: absent).
    Get(Option<V>),
    /// The put was applied.
    Put,
    /// The delete was applied.
    Delete,
    /// Whether the compare-and-set swapped.
    Cas(bool),
}

impl<K, V> Model for KeyValue<K, V>
where
    K: Ord + Debug,
    V: Clone + Eq + Hash + Debug,
{
    type State = Option<V>;
    type Input = KvInput<K, V>;
    type Output = KvOutput<V>;

    fn init(&self) -> Option<V> {
        None
    }

    fn step(
        &self,
        state: &Option<V>,
        input: &KvInput<K, V>,
        output: Option<&KvOutput<V>>,
    ) -> Next<Option<V>> {
        match (input, output) {
            (KvInput::Get(_), None) => Next::One(state.clone()),
            (KvInput::Get(_), Some(KvOutput::Get(value))) => {
                Next::when(value == state, state.clone())
            }
            (KvInput::Put(_, value), None | Some(KvOutput::Put)) => Next::One(Some(value.clone())),
            (KvInput::Delete(_), None | Some(KvOutput::Delete)) => Next::One(None),
            (KvInput::Cas { expected, new, .. }, None) => Next::One(if state == expected {
                Some(new.clone())
            } else {
                state.clone()
            }),
            (KvInput::Cas { expected, new, .. }, Some(KvOutput::Cas(true))) => {
                Next::when(state == expected, Some(new.clone()))
            }
            (KvInput::Cas { expected, .. }, Some(KvOutput::Cas(false))) => {
                Next::when(state != expected, state.clone())
            }
            (_, Some(_)) => Next::Illegal,
        }
    }

    /// Gets, and compare-and-sets that did not swap.
    fn is_read_only(&self, input: &KvInput<K, V>, output: Option<&KvOutput<V>>) -> bool {
        matches!(
            (input, output),
            (KvInput::Get(_), _) | (KvInput::Cas { .. }, Some(KvOutput::Cas(false)))
        )
    }

    /// One partition per key, in key order.
    fn partition(&self, operations: &[Operation<KvInput<K, V>, KvOutput<V>>]) -> Vec<Partition> {
        Partition::by_key(operations, KvInput::key)
    }

    fn describe_operation(&self, input: &KvInput<K, V>, output: Option<&KvOutput<V>>) -> String {
        let call = match input {
            KvInput::Get(key) => format!("get({key:?})"),
            KvInput::Put(key, value) => format!("put({key:?}, {value:?})"),
            KvInput::Delete(key) => format!("delete({key:?})"),
            KvInput::Cas { key, expected, new } => format!("cas({key:?}, {expected:?}, {new:?})"),
        };
        match output {
            None => format!("{call} → ?"),
            Some(KvOutput::Put | KvOutput::Delete) => call,
            Some(KvOutput::Get(value)) => format!("{call} → {value:?}"),
            Some(KvOutput::Cas(swapped)) => format!("{call} → {swapped}"),
        }
    }
}
