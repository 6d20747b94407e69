//! A recorded history: the operations clients made, in invocation order.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{HistoryError, OpId, Operation, Outcome};

/// What clients saw: every operation with its call time and outcome.
///
/// A history is always well formed: no operation returns before its call.
/// It is plain data, so it can be saved next to a failing seed as JSON lines
/// (one operation per line, its position being its [`OpId`]) and checked again offline.
///
/// # Examples
///
/// ```
/// use detsim::history::{History, Operation, Outcome};
/// use detsim::time::Instant;
///
/// let write = Operation {
///     client: 1,
///     input: "write 3".to_string(),
///     call: Instant::from_nanos(10),
///     outcome: Outcome::Ok { output: "ok".to_string(), at: Instant::from_nanos(20) },
/// };
/// let history = History::from_operations(vec![write])?;
/// let text = history.to_json_lines()?;
/// assert_eq!(History::<String, String>::from_json_lines(&text)?, history);
/// # Ok::<(), detsim::history::HistoryError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct History<I, O> {
    operations: Vec<Operation<I, O>>,
}

impl<I, O> Default for History<I, O> {
    fn default() -> Self {
        History {
            operations: Vec::new(),
        }
    }
}

impl<I, O> History<I, O> {
    /// A history made of `operations`, the `i`-th having `OpId::new(i)`.
    ///
    /// # Errors
    ///
    /// [`HistoryError::ReturnBeforeCall`] if an operation's outcome is dated before its call.
    pub fn from_operations(operations: Vec<Operation<I, O>>) -> Result<Self, HistoryError> {
        for (index, operation) in operations.iter().enumerate() {
            check_operation(OpId::new(index), operation)?;
        }
        Ok(History { operations })
    }

    /// The operations, in the order they were recorded.
    pub fn operations(&self) -> &[Operation<I, O>] {
        &self.operations
    }

    /// The operation `op`.
    ///
    /// # Panics
    ///
    /// Panics if `op` is not an operation of this history.
    pub fn operation(&self, op: OpId) -> &Operation<I, O> {
        let count = self.operations.len();
        self.operations
            .get(op.index())
            .unwrap_or_else(|| panic!("{op} is not in this history of {count} operations"))
    }

    /// The number of operations.
    pub fn len(&self) -> usize {
        self.operations.len()
    }

    /// Whether no operation was recorded.
    pub fn is_empty(&self) -> bool {
        self.operations.is_empty()
    }

    /// The operations with their ids.
    pub fn iter(&self) -> impl Iterator<Item = (OpId, &Operation<I, O>)> {
        self.operations
            .iter()
            .enumerate()
            .map(|(index, operation)| (OpId::new(index), operation))
    }

    pub(super) fn push(&mut self, operation: Operation<I, O>) -> OpId {
        let op = OpId::new(self.operations.len());
        self.operations.push(operation);
        op
    }

    pub(super) fn operation_mut(&mut self, op: OpId) -> Option<&mut Operation<I, O>> {
        self.operations.get_mut(op.index())
    }

    /// The history as JSON lines: one operation per line, in order.
    ///
    /// # Errors
    ///
    /// [`HistoryError::Serialize`] if an input or output cannot be represented in JSON
    /// (a map with non-string keys, for example).
    pub fn to_json_lines(&self) -> Result<String, HistoryError>
    where
        I: Serialize,
        O: Serialize,
    {
        let mut text = String::new();
        for (op, operation) in self.iter() {
            let line =
                serde_json::to_string(operation).map_err(|error| HistoryError::Serialize {
                    op,
                    message: error.to_string(),
                })?;
            text.push_str(&line);
            text.push('\n');
        }
        Ok(text)
    }

    /// Reads a history written by [`History::to_json_lines`]. Blank lines are skipped.
    ///
    /// # Errors
    ///
    /// [`HistoryError::Json`] naming the first line that is not an operation, and
    /// [`HistoryError::ReturnBeforeCall`] for an operation that returns before its call.
    pub fn from_json_lines(text: &str) -> Result<Self, HistoryError>
    where
        I: DeserializeOwned,
        O: DeserializeOwned,
    {
        let mut operations = Vec::new();
        for (number, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let operation = serde_json::from_str(line).map_err(|error| HistoryError::Json {
                line: number + 1,
                message: error.to_string(),
            })?;
            operations.push(operation);
        }
        History::from_operations(operations)
    }
}

pub(super) fn check_operation<I, O>(
    op: OpId,
    operation: &Operation<I, O>,
) -> Result<(), HistoryError> {
    let returned = match &operation.outcome {
        Outcome::Ok { at, .. } | Outcome::Failed { at } => Some(*at),
        Outcome::Unknown { at } => *at,
    };
    match returned {
        Some(returned) if returned < operation.call => Err(HistoryError::ReturnBeforeCall {
            op,
            call: operation.call,
            returned,
        }),
        _ => Ok(()),
    }
}
