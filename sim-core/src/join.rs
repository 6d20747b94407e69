//! [`TaskId`] and [`JoinError`]: what a join handle reports, on a simulated
//! node and on a real runtime alike. Part of the surface (no world needed).

use std::fmt;

use serde::{Deserialize, Serialize};

/// Identifies a task for the lifetime of its runtime.
///
/// Ids are handed out in spawn order, starting at 0, and never reused; in a
/// simulation the same seed gives the same ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TaskId(pub(crate) u64);

impl TaskId {
    /// The id's number.
    pub fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "task{}", self.0)
    }
}

/// Why a task ended without producing its output: the error of a
/// [`Spawn::JoinHandle`](crate::Spawn::JoinHandle).
///
/// # Examples
///
/// ```
/// use detsim::JoinError;
///
/// fn describe(result: Result<u32, JoinError>) -> String {
///     match result {
///         Ok(value) => format!("got {value}"),
///         Err(JoinError::Crashed(_, node)) => format!("{node} crashed"),
///         Err(error) => error.to_string(),
///     }
/// }
/// assert_eq!(describe(Ok(7)), "got 7");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JoinError {
    /// The handle's `abort` was called.
    Aborted(TaskId),
    /// The task's node crashed (in a simulation; a real node's crash ends
    /// its process, handles and all).
    Crashed(TaskId, String),
    /// The runtime (a simulation's world) was dropped before the task finished.
    WorldDropped(TaskId),
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JoinError::Aborted(task) => write!(f, "{task} was aborted"),
            JoinError::Crashed(task, node) => write!(f, "{task} ended because node {node} crashed"),
            JoinError::WorldDropped(task) => {
                write!(f, "{task} ended because its world was dropped")
            }
        }
    }
}

impl std::error::Error for JoinError {}
