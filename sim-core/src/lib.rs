//! detsim: deterministic simulation testing for distributed systems.
//!
//! A single-threaded executor drives virtual time, nodes that crash and
//! restart, and (through the `detsim-net` and `detsim-disk` extensions) a
//! simulated network and disks. Every random decision comes from one
//! [`Seed`], so a failing run replays exactly.
//!
//! ```
//! use std::time::Duration;
//! use detsim::{Seed, Sim, time};
//!
//! let mut sim = Sim::new(Seed::new(1));
//! sim.add_node("n1", |ctx| async move {
//!     time::sleep(Duration::from_secs(1)).await;
//!     tracing::info!(incarnation = ctx.incarnation(), "up");
//! }).unwrap();
//! let report = sim.run(async { time::sleep(Duration::from_secs(2)).await }).unwrap();
//! println!("{report}");
//! ```
//!
//! # Code map
//!
//! - `world/`: the executor: task slab (`task.rs`), timer queue (`timer.rs`),
//!   nodes and their local clocks (`node.rs`), the step loop (`mod.rs`).
//! - `sim.rs`: the public face: [`Sim`], [`SimBuilder`], [`SimHandle`], [`NodeContext`], [`Report`].
//! - `time/`: virtual [`time::Instant`], `sleep`, `timeout`, `interval`.
//! - `task.rs`, `random.rs`: ambient [`spawn`], [`yield_now`], [`random::with`].
//! - `rng.rs`, `seed.rs`: [`SimRng`] named streams, [`Seed`].
//! - `trace/`: [`Event`]s, the [`Fingerprint`], the `tracing` layer, [`check_determinism`].
//! - `runtime.rs`: the [`Clock`], [`Spawn`], [`Entropy`], [`Runtime`] traits;
//!   `real.rs` implements them on tokio (feature `tokio`).
//! - `extension.rs`: how sim-net and sim-disk plug in ([`Extension`]).
//! - `history/`: recording what clients saw and checking it is linearizable
//!   ([`history::Checker`], ready-made models, an HTML picture).
//! - `error.rs`: [`SimError`] (misuse) and [`Failure`] (a failed run).
//!
//! # Features
//!
//! - `tokio`: `real::TokioRuntime`, a real implementation of the runtime traits.
//! - `proptest`: `strategy`, proptest strategies for seeds and shrinking fault plans.
//! - `intercept`: inside a world, OS entropy and OS clocks are the world's, so
//!   third-party code that calls `rand::thread_rng()`, `HashMap::new()`,
//!   `Instant::now()` or `SystemTime::now()` replays exactly (`intercept`, the
//!   only module with `unsafe` code; Linux).

#![cfg_attr(not(feature = "intercept"), forbid(unsafe_code))]

pub mod assertions;
mod error;
mod explore;
mod extension;
mod fault;
pub mod history;
mod panic;
pub mod random;
mod rng;
mod runtime;
mod seed;
mod sim;
mod sweep;
mod task;
pub mod time;
mod trace;
mod world;

#[cfg(feature = "tokio")]
pub mod real;

#[cfg(all(feature = "intercept", target_os = "linux"))]
pub mod intercept;

/// Whether worlds of this build intercept OS entropy and clocks: the
/// `intercept` feature, on Linux (see the `intercept` module). Sweeps verify
/// every failure by replay either way.
pub const INTERCEPTS_OS: bool = cfg!(all(feature = "intercept", target_os = "linux"));

#[cfg(feature = "proptest")]
pub mod strategy;

pub use assertions::liveness;
pub use error::{BlockedTask, Cause, Failure, FailureInner, SimError};
pub use explore::{
    Campaign, CorpusEntry, CurvePoint, Explore, Fork, Forks, KeyStat, ParseForksError, Reached,
};
pub use extension::{Extension, FaultOutcome, NodeEvent, Undo};
pub use fault::{
    Fault, LinkChange, Nemesis, NemesisKind, Plan, PlanEntry, PlanError, Swarm, Topology,
};
pub use rng::SimRng;
pub use runtime::{Clock, Entropy, Runtime, Spawn, timeout_on};
pub use seed::{ParseSeedError, Seed};
pub use sim::{AsNode, INSTANT_STEPS_MAX, NodeContext, Report, Sim, SimBuilder, SimHandle, Timer};
pub use sweep::{
    Case, Nondeterminism, RunOutcome, SeedFailure, Shard, Sweep, SweepError, SweepReport,
    Verification, check_case_determinism,
};
pub use task::{YieldNow, context, current_node, handle, spawn, yield_now};
pub use trace::{
    Arrow, ArrowEnd, Detail, Divergence, Event, EventKind, FailureMark, Fingerprint, OpMark,
    RunView, Trace, TraceMode, check_determinism,
};
pub use world::{Coverage, JoinError, JoinHandle, NodeId, NodeState, PollOrder, TaskId};
