//! A first-in first-out queue.

use std::collections::VecDeque;
use std::fmt::Debug;
use std::hash::Hash;
use std::marker::PhantomData;

use serde::{Deserialize, Serialize};

use crate::history::{Model, Next};

/// A FIFO queue, empty at first; dequeuing an empty queue answers `None`.
///
/// # Examples
///
/// ```
/// use detsim::history::{Model, Next, Queue, QueueInput, QueueOutput};
/// use std::collections::VecDeque;
///
/// let queue = Queue::<u32>::default();
/// let state = VecDeque::from([1, 2]);
/// let dequeue_2 = QueueOutput::Dequeued(Some(2));
/// assert!(queue.step(&state, &QueueInput::Dequeue, Some(&dequeue_2)).is_illegal());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Queue<V> {
    types: PhantomData<fn() -> V>,
}

impl<V> Default for Queue<V> {
    fn default() -> Self {
        Queue { types: PhantomData }
    }
}

/// An operation on a [`Queue`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueueInput<V> {
    /// Add a value at the back.
    Enqueue(V),
    /// Take the value at the front.
    Dequeue,
}

/// The answer to a [`QueueInput`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueueOutput<V> {
    /// The value was enqueued.
    Enqueued,
    /// The value taken, or `None` if the queue was empty.
    Dequeued(Option<V>),
}

impl<V: Clone + Eq + Hash + Debug> Model for Queue<V> {
    type State = VecDeque<V>;
    type Input = QueueInput<V>;
    type Output = QueueOutput<V>;

    fn init(&self) -> VecDeque<V> {
        VecDeque::new()
    }

    fn step(
        &self,
        state: &VecDeque<V>,
        input: &QueueInput<V>,
        output: Option<&QueueOutput<V>>,
    ) -> Next<VecDeque<V>> {
        match (input, output) {
            (QueueInput::Enqueue(value), None | Some(QueueOutput::Enqueued)) => {
                let mut next = state.clone();
                next.push_back(value.clone());
                Next::One(next)
            }
            (QueueInput::Dequeue, None) => {
                let mut next = state.clone();
                next.pop_front();
                Next::One(next)
            }
            (QueueInput::Dequeue, Some(QueueOutput::Dequeued(value))) => {
                if value.as_ref() != state.front() {
                    return Next::Illegal;
                }
                let mut next = state.clone();
                next.pop_front();
                Next::One(next)
            }
            (_, Some(_)) => Next::Illegal,
        }
    }

    /// Dequeues that found the queue empty.
    fn is_read_only(&self, input: &QueueInput<V>, output: Option<&QueueOutput<V>>) -> bool {
        matches!(
            (input, output),
            (QueueInput::Dequeue, Some(QueueOutput::Dequeued(None)))
        )
    }

    fn describe_operation(&self, input: &QueueInput<V>, output: Option<&QueueOutput<V>>) -> String {
        match (input, output) {
            (QueueInput::Enqueue(value), None) => format!("enqueue({value:?}) → ?"),
            (QueueInput::Enqueue(value), Some(_)) => format!("enqueue({value:?})"),
            (QueueInput::Dequeue, None) => "dequeue() → ?".to_string(),
            (QueueInput::Dequeue, Some(QueueOutput::Dequeued(value))) => {
                format!("dequeue() → {value:?}")
            }
            (QueueInput::Dequeue, Some(QueueOutput::Enqueued)) => {
                "dequeue() → enqueued".to_string()
            }
        }
    }

    fn state_bytes(&self, state: &VecDeque<V>) -> usize {
        std::mem::size_of::<VecDeque<V>>() + state.capacity() * std::mem::size_of::<V>()
    }
}
