//! The replicated state machine: a key-value map with get, put, delete and
//! compare-and-set, and client sessions so a retried command is applied once.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// A client's identity: its session.
pub type ClientId = u64;

/// An operation a client asks for.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Op {
    /// Read a key.
    Get {
        /// The key.
        key: String,
    },
    /// Set a key.
    Put {
        /// The key.
        key: String,
        /// The value.
        value: u64,
    },
    /// Remove a key.
    Delete {
        /// The key.
        key: String,
    },
    /// Set `key` to `new` if it holds `expected` (`None`: if it is absent).
    Cas {
        /// The key.
        key: String,
        /// What the key must hold.
        expected: Option<u64>,
        /// What it is set to if it does.
        new: u64,
    },
}

impl Op {
    /// The key the operation is about.
    pub fn key(&self) -> &str {
        match self {
            Op::Get { key } | Op::Put { key, .. } | Op::Delete { key } | Op::Cas { key, .. } => key,
        }
    }

    /// Whether it only reads (served by a read index, not through the log).
    pub fn is_read(&self) -> bool {
        matches!(self, Op::Get { .. })
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Get { key } => write!(f, "get({key})"),
            Op::Put { key, value } => write!(f, "put({key}, {value})"),
            Op::Delete { key } => write!(f, "delete({key})"),
            Op::Cas { key, expected, new } => write!(f, "cas({key}, {expected:?}, {new})"),
        }
    }
}

/// The answer to an [`Op`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OpResult {
    /// What a get read (`None`: absent).
    Value(Option<u64>),
    /// A put or delete was applied.
    Done,
    /// Whether a compare-and-set swapped.
    Swapped(bool),
}

/// What applying a command did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Applied {
    /// The command ran; its result.
    Fresh(OpResult),
    /// A retry of the client's last command: not run again; the first result.
    Duplicate(OpResult),
    /// An older command of the client, superseded: not run, no answer.
    Stale,
}

/// The last command a client's session ran, and its answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Session {
    seq: u64,
    result: OpResult,
}

/// The key-value map and the client sessions.
///
/// A client numbers its commands and sends one at a time, retrying with the
/// same number until it gets an answer. The session remembers the last number
/// and answer, so a retry that reaches the log twice runs once.
///
/// # Examples
///
/// ```
/// use examples::raft::kv::{Applied, Kv, Op, OpResult};
///
/// let mut kv = Kv::default();
/// let put = Op::Put { key: "x".into(), value: 1 };
/// assert_eq!(kv.apply(7, 1, &put), Applied::Fresh(OpResult::Done));
/// // The same command again (a retry): not applied twice.
/// assert_eq!(kv.apply(7, 1, &put), Applied::Duplicate(OpResult::Done));
/// assert_eq!(kv.get("x"), Some(1));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Kv {
    data: BTreeMap<String, u64>,
    sessions: BTreeMap<ClientId, Session>,
}

impl Kv {
    /// Applies command number `seq` of `client`.
    pub fn apply(&mut self, client: ClientId, seq: u64, op: &Op) -> Applied {
        if let Some(session) = self.sessions.get(&client) {
            if seq == session.seq {
                return Applied::Duplicate(session.result.clone());
            }
            if seq < session.seq {
                return Applied::Stale;
            }
        }
        let result = self.run(op);
        self.sessions.insert(
            client,
            Session {
                seq,
                result: result.clone(),
            },
        );
        Applied::Fresh(result)
    }

    /// Runs `op` on the map, without a session.
    pub fn run(&mut self, op: &Op) -> OpResult {
        match op {
            Op::Get { key } => OpResult::Value(self.get(key)),
            Op::Put { key, value } => {
                self.data.insert(key.clone(), *value);
                OpResult::Done
            }
            Op::Delete { key } => {
                self.data.remove(key);
                OpResult::Done
            }
            Op::Cas { key, expected, new } => {
                let swapped = self.data.get(key) == expected.as_ref();
                if swapped {
                    self.data.insert(key.clone(), *new);
                }
                OpResult::Swapped(swapped)
            }
        }
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<u64> {
        self.data.get(key).copied()
    }

    /// How many keys are set.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether no key is set.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(key: &str, value: u64) -> Op {
        Op::Put {
            key: key.into(),
            value,
        }
    }

    #[test]
    fn operations_follow_the_map_semantics() {
        // Proves get/put/delete/cas do what a map does.
        let mut kv = Kv::default();
        assert_eq!(kv.run(&Op::Get { key: "a".into() }), OpResult::Value(None));
        kv.run(&put("a", 1));
        let cas = |expected, new| Op::Cas {
            key: "a".into(),
            expected,
            new,
        };
        assert_eq!(kv.run(&cas(Some(2), 3)), OpResult::Swapped(false));
        assert_eq!(kv.run(&cas(Some(1), 3)), OpResult::Swapped(true));
        assert_eq!(kv.get("a"), Some(3));
        kv.run(&Op::Delete { key: "a".into() });
        assert_eq!(kv.run(&cas(None, 4)), OpResult::Swapped(true));
        assert_eq!(kv.get("a"), Some(4));
    }

    #[test]
    fn sessions_apply_a_retry_once_and_ignore_superseded_commands() {
        // Proves a duplicate gets the first answer without running again,
        // and an older command arriving late is not run at all.
        let mut kv = Kv::default();
        let cas = Op::Cas {
            key: "k".into(),
            expected: None,
            new: 1,
        };
        assert_eq!(
            kv.apply(1, 1, &cas),
            Applied::Fresh(OpResult::Swapped(true))
        );
        assert_eq!(
            kv.apply(1, 1, &cas),
            Applied::Duplicate(OpResult::Swapped(true))
        );
        assert_eq!(kv.apply(1, 2, &put("k", 5)), Applied::Fresh(OpResult::Done));
        assert_eq!(kv.apply(1, 1, &cas), Applied::Stale);
        assert_eq!(kv.get("k"), Some(5));
        // Another client's numbers are its own.
        assert_eq!(kv.apply(2, 1, &put("k", 6)), Applied::Fresh(OpResult::Done));
    }
}
