//! What clients and the server say, encoded with postcard
//! (`detsim_net::encode`, part of sim-net's surface).

use serde::{Deserialize, Serialize};

/// A client's request. `request` numbers the client's sends: a reply
/// answers one send, so a late reply to an earlier send is ignored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Request {
    /// Grant me the lease (or extend it, if I hold it).
    Acquire {
        /// The client.
        client: u64,
        /// The send's number.
        request: u64,
    },
    /// Extend the lease I hold with `token`.
    Renew {
        /// The client.
        client: u64,
        /// The send's number.
        request: u64,
        /// The lease's fencing token.
        token: u64,
    },
    /// I no longer hold the lease with `token`.
    Release {
        /// The client.
        client: u64,
        /// The send's number.
        request: u64,
        /// The lease's fencing token.
        token: u64,
    },
}

impl Request {
    /// The send's number.
    pub fn request(&self) -> u64 {
        match *self {
            Request::Acquire { request, .. }
            | Request::Renew { request, .. }
            | Request::Release { request, .. } => request,
        }
    }
}

/// The server's answer to one send.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Reply {
    /// The lease is yours for a ttl from the moment the server received the send.
    Granted {
        /// The send answered.
        request: u64,
        /// The lease's fencing token.
        token: u64,
    },
    /// Someone else holds the lease, or the server is in its grace period.
    Busy {
        /// The send answered.
        request: u64,
    },
    /// The server does not know this lease any more (it expired and went to
    /// someone else, or the server restarted).
    Lost {
        /// The send answered.
        request: u64,
    },
    /// The lease is free (if it was yours).
    Released {
        /// The send answered.
        request: u64,
    },
}

impl Reply {
    /// The send answered.
    pub fn request(&self) -> u64 {
        match *self {
            Reply::Granted { request, .. }
            | Reply::Busy { request }
            | Reply::Lost { request }
            | Reply::Released { request } => request,
        }
    }
}
