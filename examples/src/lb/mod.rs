//! A multi-zone service behind a load balancer, through the failures that
//! AWS and Netflix made famous: Chaos Monkey (a backend dies), Latency
//! Monkey (one zone's network slows down), a slow disk (a gray failure),
//! a rising load that the autoscaler answers by adding backends to the
//! running world, and Chaos Kong (a whole zone is lost).
//!
//! Everything is a simulated node on the simulated network (`detsim-net`
//! datagrams, three zones of one region) with a simulated disk
//! (`detsim-disk`), written against detsim's public APIs; the faults are a
//! [`detsim::Plan`]. The clients measure, in virtual time, availability and
//! latency per phase ([`table`]) and second by second ([`plot::svg`]).
//!
//! ```no_run
//! use examples::lb::{Scenario, table};
//!
//! let outcome = Scenario::default().run().unwrap();
//! println!("{}", outcome.plan);
//! print!("{}", table(&outcome.rows));
//! ```
//!
//! # Code map
//!
//! - `scenario.rs`: [`Scenario`] (the world, the [`Phase`]s, the plan, the run), [`Tuning`], [`Outcome`].
//! - `balancer.rs`: the load balancer: registrations, health checks, power-of-two-choices, failover.
//! - `backend.rs`: a backend: a bounded queue, one worker, a synced [`Journal`] record per request.
//! - `client.rs`: open-loop clients with per-attempt timeouts and jittered retries.
//! - `autoscaler.rs`: scale-out: new backend nodes added while the world runs.
//! - `journal.rs`: [`Journal`], a checksummed append-only file on the `Storage` traits.
//! - `proto.rs`: the messages ([`Message`]) and ports.
//! - `metrics.rs`: [`Recorder`], [`percentile`], [`WindowStats`], [`PhaseStats`], [`table`].
//! - `plot.rs`: the SVG plot.

mod autoscaler;
mod backend;
mod balancer;
mod client;
mod journal;
mod metrics;
pub mod plot;
mod proto;
mod scenario;

pub use journal::{JOURNAL_PATH, Journal};
pub use metrics::{
    FleetSample, PhaseStats, Reaction, Recorder, RequestRecord, WindowStats, percentile, table,
};
pub use proto::{BACKEND_PORT, HEALTH_PORT, LB_ADMIN_PORT, LB_PORT, Message, Status};
pub use scenario::{
    AUTOSCALER, LB, Outcome, Phase, REGION, Scenario, ScenarioError, Tuning, ZONES, backend_name,
};
