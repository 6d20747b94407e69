//! detsim: deterministic simulation testing for distributed systems.
//!
//! A single-threaded executor drives virtual time, nodes that crash and
//! restart, and (through the `detsim-net` and `detsim-disk` extensions) a
//! simulated network and disks. Every random decision comes from one
//! [`Seed`], so a failing run replays exactly.
//!
//! Protocol code is written against small traits ([`Clock`], [`Spawn`],
//! [`Entropy`], [`Runtime`]) that need no simulator: it depends on the
//! crate's *surface* (`default-features = false`, plus `tokio` for the real
//! runtime) and takes the simulator (the default feature `sim`) as a
//! dev-dependency only. See [Features](#features).
//!
//! ```
//! # #[cfg(feature = "sim")] {
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
//! # }
//! ```
//!
//! # Code map
//!
//! The surface, compiled in every build:
//!
//! - `runtime.rs`: the [`Clock`], [`Spawn`], [`Entropy`], [`Runtime`] traits
//!   and [`timeout_on`]; the simulation's implementations of them sit in
//!   its `simulation` module (feature `sim`).
//! - `time/instant.rs`, `time/elapsed.rs`: [`time::Instant`], the plain
//!   monotonic instant every clock returns, and [`time::Elapsed`].
//! - `join.rs`: [`TaskId`], [`JoinError`].
//! - `seed.rs`: [`Seed`].
//! - `real.rs`: `real::TokioRuntime`, the traits on tokio and OS time (feature `tokio`).
//!
//! The simulator (feature `sim`):
//!
//! - `world/`: the executor: task slab (`task.rs`), timer queue (`timer.rs`),
//!   nodes and their local clocks (`node.rs`), the step loop (`mod.rs`).
//! - `sim.rs`: the public face: [`Sim`], [`SimBuilder`], [`SimHandle`], [`NodeContext`], [`Report`].
//! - `time/`: virtual `now`, `sleep`, `timeout`, `interval`.
//! - `task.rs`, `random.rs`: ambient [`spawn`], [`yield_now`], [`random::with`].
//! - `rng.rs`: [`SimRng`] named streams.
//! - `trace/`: [`Event`]s, the [`Fingerprint`], the `tracing` layer, [`check_determinism`].
//! - `extension.rs`: how sim-net and sim-disk plug in ([`Extension`]).
//! - `history/`: recording what clients saw and checking it is linearizable
//!   ([`history::Checker`], ready-made models, an HTML picture).
//! - `error.rs`: [`SimError`] (misuse) and [`Failure`] (a failed run).
//!
//! # Features
//!
//! - `sim` (default): the simulator: worlds, virtual time, sweeps, faults,
//!   traces, history checking. Without it (`default-features = false`) only
//!   the surface compiles, with `futures` and `serde` as its only
//!   dependencies: no world, no random-number crates, no `tracing`, no
//!   `proptest`. The surface's paths are the same in both builds, so
//!   protocol code compiles unchanged in its tests (with `sim`, from the
//!   dev-dependency) and in production (without).
//! - `tokio`: `real::TokioRuntime`, a real implementation of the runtime
//!   traits (needs no `sim`).
//! - `proptest` (implies `sim`): `strategy`, proptest strategies for seeds
//!   and shrinking fault plans.
//! - `intercept` (implies `sim`): inside a world, OS entropy and OS clocks
//!   are the world's, so third-party code that calls `rand::thread_rng()`,
//!   `HashMap::new()`, `Instant::now()` or `SystemTime::now()` replays
//!   exactly (`intercept`, the only module with `unsafe` code; Linux).
//!
#![cfg_attr(
    not(feature = "sim"),
    doc = "[`Sim`]: #features
[`SimBuilder`]: #features
[`SimHandle`]: #features
[`NodeContext`]: #features
[`Report`]: #features
[`spawn`]: #features
[`yield_now`]: #features
[`random::with`]: #features
[`SimRng`]: #features
[`Event`]: #features
[`Fingerprint`]: #features
[`check_determinism`]: #features
[`Extension`]: #features
[`history::Checker`]: #features
[`SimError`]: #features
[`Failure`]: #features
"
)]
#![cfg_attr(not(feature = "intercept"), forbid(unsafe_code))]

/// Items of the simulator: compiled with the `sim` feature only.
macro_rules! cfg_sim {
    ($($item:item)*) => {
        $(
            #[cfg(feature = "sim")]
            $item
        )*
    };
}

// The surface: the runtime traits and the value types they name.
mod join;
mod runtime;
mod seed;
pub mod time;

#[cfg(feature = "tokio")]
pub mod real;

pub use join::{JoinError, TaskId};
pub use runtime::{Clock, Entropy, Runtime, Spawn, timeout_on};
pub use seed::{ParseSeedError, Seed};

// The simulator.
cfg_sim! {
    pub mod assertions;
    mod error;
    mod explore;
    mod extension;
    mod fault;
    pub mod history;
    mod panic;
    pub mod random;
    mod rng;
    mod sim;
    mod sweep;
    mod task;
    mod trace;
    mod world;

    /// Whether worlds of this build intercept OS entropy and clocks: the
    /// `intercept` feature, on Linux (see the `intercept` module). Sweeps verify
    /// every failure by replay either way.
    pub const INTERCEPTS_OS: bool = cfg!(all(feature = "intercept", target_os = "linux"));

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
    pub use sim::{
        AsNode, INSTANT_STEPS_MAX, NodeContext, Report, Sim, SimBuilder, SimHandle, Timer,
    };
    pub use sweep::{
        Case, Nondeterminism, RunOutcome, SeedFailure, Shard, Sweep, SweepError, SweepReport,
        Verification, check_case_determinism,
    };
    pub use task::{YieldNow, context, current_node, handle, spawn, yield_now};
    pub use trace::{
        Arrow, ArrowEnd, Detail, Divergence, Event, EventKind, FailureMark, Fingerprint, OpMark,
        RunView, Trace, TraceMode, check_determinism,
    };
    pub use world::{Coverage, JoinHandle, NodeId, NodeState, PollOrder};
}

#[cfg(all(feature = "intercept", target_os = "linux"))]
pub mod intercept;

#[cfg(feature = "proptest")]
pub mod strategy;
