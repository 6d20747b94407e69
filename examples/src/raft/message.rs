//! What travels between nodes and clients: Raft's messages, client requests
//! and replies. All of it is plain serde data, sent as one datagram each.

use serde::{Deserialize, Serialize};

use super::kv::{ClientId, Op, OpResult};
use super::log::Entry;

/// A node's number in the cluster: `0..nodes`.
pub type NodeId = u8;

/// A message between two Raft nodes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RaftMessage {
    /// The sender.
    pub from: NodeId,
    /// The receiver.
    pub to: NodeId,
    /// The sender's term.
    pub term: u64,
    /// What it says.
    pub body: Body,
}

/// The kinds of Raft message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Body {
    /// A candidate asks for a vote.
    RequestVote {
        /// The candidate's last log index.
        last_index: u64,
        /// The candidate's last log term.
        last_term: u64,
    },
    /// The answer to a vote request.
    Vote {
        /// Whether the vote was granted.
        granted: bool,
    },
    /// The leader replicates entries (none: a heartbeat).
    Append {
        /// The index just before `entries`.
        prev_index: u64,
        /// The term of entry `prev_index`.
        prev_term: u64,
        /// The entries.
        entries: Vec<Entry>,
        /// The leader's commit index.
        commit: u64,
        /// The leader's latest read-index round, echoed back.
        read_round: u64,
    },
    /// The answer to an append.
    AppendReply {
        /// Whether the entries were accepted (and are durable).
        success: bool,
        /// On success, the last index known to match the leader's log; on
        /// failure, a hint: the follower's last index.
        index: u64,
        /// The read-index round of the append answered.
        read_round: u64,
    },
}

/// A client's request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    /// The client's session.
    pub client: ClientId,
    /// The command's number in the session (the same for every retry).
    pub seq: u64,
    /// The operation.
    pub op: Op,
}

/// The answer to a [`Request`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    /// The command's number in the session.
    pub seq: u64,
    /// What happened.
    pub outcome: Outcome,
}

/// What happened to a request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    /// It was applied (or read); the answer.
    Done(OpResult),
    /// This node is not the leader; it may know who is.
    NotLeader {
        /// The leader this node knows of.
        leader: Option<NodeId>,
    },
}

/// Everything that goes over the wire.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Wire {
    /// Between nodes.
    Raft(RaftMessage),
    /// From a client.
    Request(Request),
    /// To a client.
    Reply(Reply),
}

impl Wire {
    /// The message as bytes (postcard).
    ///
    /// # Panics
    ///
    /// Never for these types (postcard only fails for unsupported types).
    pub fn encode(&self) -> Vec<u8> {
        postcard::to_allocvec(self).expect("wire messages always encode")
    }

    /// A message from bytes; `None` for bytes that are not one.
    pub fn decode(bytes: &[u8]) -> Option<Wire> {
        postcard::from_bytes(bytes).ok()
    }
}
