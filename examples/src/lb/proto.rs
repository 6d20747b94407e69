//! The messages on the wire: serde types encoded with postcard, one per
//! datagram.

use serde::{Deserialize, Serialize};

/// The load balancer's port for client requests.
pub const LB_PORT: u16 = 80;
/// The load balancer's control port (registrations, statistics).
pub const LB_ADMIN_PORT: u16 = 9000;
/// A backend's port for requests.
pub const BACKEND_PORT: u16 = 8080;
/// A backend's health-check port.
pub const HEALTH_PORT: u16 = 8081;

/// How a request (or one try of it) ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Status {
    /// Done, and durable on the backend's disk.
    Ok,
    /// The backend's queue is full: try elsewhere.
    Overloaded,
    /// The backend could not persist the request (a disk error).
    Failed,
    /// The load balancer has no healthy backend, or every try failed.
    Unavailable,
}

/// Every message of the example.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Message {
    /// Client → load balancer.
    Request {
        /// The client's id for it.
        id: u64,
    },
    /// Load balancer → client.
    Response {
        /// The request's id.
        id: u64,
        /// How it ended.
        status: Status,
    },
    /// Load balancer → backend: one try of a request.
    Forward {
        /// The request's id.
        id: u64,
        /// Time left before nobody waits for the answer; the backend drops
        /// work whose budget ran out while it was queued.
        budget_us: u64,
    },
    /// Backend → load balancer.
    Done {
        /// The request's id.
        id: u64,
        /// How it ended.
        status: Status,
    },
    /// Load balancer → backend's health port.
    HealthCheck,
    /// Backend → load balancer.
    Healthy,
    /// Backend → load balancer's control port, at every boot until acknowledged.
    Register {
        /// The backend's node name.
        name: String,
        /// Its zone.
        zone: String,
    },
    /// Load balancer → backend.
    Registered,
    /// Autoscaler → load balancer's control port.
    StatsQuery,
    /// Load balancer → autoscaler.
    Stats {
        /// Client requests received since the load balancer started.
        requests: u64,
        /// Backends registered.
        registered: u32,
        /// Backends the health checks consider healthy.
        healthy: u32,
    },
}

impl Message {
    /// The message as bytes.
    pub(crate) fn encode(&self) -> Vec<u8> {
        detsim_net::encode(self).expect("every message encodes")
    }

    /// A message from bytes; `None` for bytes that are not one.
    pub(crate) fn decode(bytes: &[u8]) -> Option<Message> {
        detsim_net::decode(bytes).ok()
    }
}
