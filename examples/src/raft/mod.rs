//! A replicated key-value store on Raft, written against detsim's traits
//! as a user would, with planted bugs the seed sweep finds.
//!
//! # Code map
//!
//! - `node.rs`: [`node::RaftNode`], the Raft state machine without I/O.
//! - `log.rs`: entries and the in-memory log; `message.rs`: the wire.
//! - `kv.rs`: the key-value state machine with client sessions.
//! - `storage.rs`: the on-disk format (checksummed records, two-copy state
//!   file) and recovery.
//! - `bugs.rs`: [`Bug`], the planted mistakes.

pub mod bugs;
pub mod client;
pub mod cluster;
pub mod kv;
pub mod log;
pub mod message;
pub mod node;
pub mod persist;
pub mod server;
pub mod storage;

pub use bugs::Bug;
