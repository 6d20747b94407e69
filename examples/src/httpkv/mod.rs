//! An HTTP/JSON key-value service, written as an ordinary axum + hyper
//! service, replicated over HTTP with a quorum scheme, and brought under
//! simulation by changing only where its listener, HTTP client, spawns and
//! timers come from.
//!
//! # Code map
//!
//! - `api.rs`: what travels in the JSON bodies: [`api::Stamp`],
//!   [`api::Versioned`], [`api::ValueBody`], [`api::Unavailable`].
//! - `runtime.rs`: [`runtime::Runtime`], the service's only door to the
//!   world (sleep, and an HTTP call to a peer), with [`runtime::SimRuntime`]
//!   (detsim) and [`runtime::RealRuntime`] (tokio and hyper-util);
//!   [`runtime::send`], one HTTP/1.1 request over a simulated stream.
//! - `service.rs`: the axum `Router`: the public API (`/kv/{key}`) and the
//!   replicas' API (`/internal/kv/{key}`), and the quorum reads and writes.
//! - `serve.rs`: the accept loop on a simulated listener (hyper's http1
//!   server with [`detsim_net::SimTimer`]).
//! - `cluster.rs`: the simulated world the sweep runs: replicas, clients
//!   recording a history, the swarm nemesis, the checks.
//! - `bugs.rs`: [`Bug`], the planted mistakes.

pub mod api;
pub mod bugs;
pub mod cluster;
pub mod runtime;
pub mod serve;
pub mod service;

pub use bugs::Bug;
