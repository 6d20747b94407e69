//! A lease service with fencing tokens, written once against detsim's
//! surface and run for real (`src/main.rs`) and in
//! simulation (`tests/sim.rs`).
//!
//! One server grants a lease to one client at a time. A grant lasts
//! [`Config::ttl`] on the server from the moment it received the request;
//! the client counts from the moment it *sent* the request and stops
//! [`Config::margin`] early, so it believes it holds the lease only while
//! the server would refuse everyone else. Every new grant carries a fencing
//! token, larger than every token before it, made durable before the grant
//! is sent ([`TokenStore`]), so a storage service can reject writes of an
//! older holder. A restarted server has forgotten who holds the lease: it
//! grants nothing for [`Config::grace`] (at least the ttl), so a lease
//! granted before the crash runs out first.
//!
//! The code is generic over [`detsim::Runtime`] (time, tasks, entropy),
//! [`detsim_net::Transport`] (datagrams) and [`detsim_disk::Storage`] (the
//! token file), and depends on the three crates without their default
//! feature `sim`: its production build (the `lease` binary) has no
//! simulator in it. Its tests take detsim as a dev-dependency and sweep
//! seeds with crashes, pauses, partitions and clock jumps.
//!
//! - `message.rs`: [`Request`] and [`Reply`], postcard on the wire.
//! - `token.rs`: [`TokenStore`], the durable fencing-token counter.
//! - `server.rs`: [`serve`], the server's loop, and [`Server`], its state machine.
//! - `client.rs`: [`LeaseClient`], [`Lease`], and [`worker`]: a client that
//!   acquires, holds (renewing) and releases, and reports what it believed.

mod client;
mod error;
mod message;
mod server;
mod token;

pub use client::{Belief, Lease, LeaseClient, WorkerOptions, worker};
pub use error::Error;
pub use message::{Reply, Request};
pub use server::{Server, serve};
pub use token::TokenStore;

use std::time::Duration;

/// The port the server listens on.
pub const PORT: u16 = 7000;

/// The lease's timing, shared by the server and its clients.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// How long a grant lasts on the server, from the moment it received
    /// the request.
    pub ttl: Duration,
    /// How much earlier than the ttl a client stops believing it holds the
    /// lease: room for the clocks' drift.
    pub margin: Duration,
    /// How long a (re)started server grants nothing, so the leases it
    /// granted before it crashed run out. Safe only if at least `ttl`.
    pub grace: Duration,
    /// How long a client waits for a reply before it sends again.
    pub reply_timeout: Duration,
    /// How many times a client sends a request before it gives up.
    pub attempts: u32,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            ttl: Duration::from_secs(2),
            margin: Duration::from_millis(200),
            grace: Duration::from_secs(2),
            reply_timeout: Duration::from_millis(100),
            attempts: 3,
        }
    }
}
