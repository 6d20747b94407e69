//! What can go wrong reading or building a history.

use std::fmt;

use super::OpId;
use crate::time::Instant;

/// An invalid history: malformed JSON lines, or an operation that returns before
/// it is called.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HistoryError {
    /// A line of a JSON-lines history is not an operation.
    Json {
        /// The line number, counting from 1.
        line: usize,
        /// What the JSON parser said.
        message: String,
    },
    /// An operation could not be serialized.
    Serialize {
        /// The operation.
        op: OpId,
        /// What the JSON serializer said.
        message: String,
    },
    /// An operation's outcome is dated before its call.
    ReturnBeforeCall {
        /// The operation.
        op: OpId,
        /// When it was called.
        call: Instant,
        /// When it claims to have returned.
        returned: Instant,
    },
}

impl fmt::Display for HistoryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HistoryError::Json { line, message } => {
                write!(
                    f,
                    "line {line} of the history is not an operation: {message}"
                )
            }
            HistoryError::Serialize { op, message } => {
                write!(f, "{op} cannot be serialized as json: {message}")
            }
            HistoryError::ReturnBeforeCall { op, call, returned } => {
                write!(
                    f,
                    "{op} returns at {} ns, before its call at {} ns",
                    returned.as_nanos(),
                    call.as_nanos()
                )
            }
        }
    }
}

impl std::error::Error for HistoryError {}
