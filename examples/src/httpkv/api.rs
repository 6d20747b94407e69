//! The JSON bodies of the public and internal APIs.

use serde::{Deserialize, Serialize};

/// The version of a value: a logical counter, made unique by the replica
/// that wrote it and that replica's incarnation (a restarted replica may
/// have forgotten its last counter).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Stamp {
    /// Bigger wins.
    pub counter: u64,
    /// The coordinating replica (1-based; 0: never written).
    pub replica: u64,
    /// The coordinator's incarnation.
    pub incarnation: u64,
}

/// A replica's copy of one key: the value (`None`: deleted or never
/// written) and its version.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Versioned {
    /// The version.
    pub stamp: Stamp,
    /// The value.
    pub value: Option<u64>,
}

/// The body of `PUT /kv/{key}` and of a `GET /kv/{key}` answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValueBody {
    /// The value (`null`: absent).
    pub value: Option<u64>,
}

/// The body of a `503 Service Unavailable`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unavailable {
    /// What went wrong.
    pub error: String,
    /// Whether the write may have reached some replicas (so may still take
    /// effect); `false`: it certainly did not.
    pub maybe_applied: bool,
}
