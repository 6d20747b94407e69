//! Virtual time: `now`, `sleep`, `sleep_until`, `timeout` and `interval`.
//!
//! These free functions work inside a simulation like tokio's do inside a
//! runtime. Inside a node they read and wait on the node's **local** clock,
//! which may be skewed or drift (see [`SimHandle::clock_jump`](crate::SimHandle::clock_jump));
//! the world's true time stays monotonic. A sleep's deadline is fixed in true
//! time when the sleep is created, like a monotonic OS timer.
//!
//! Calling them outside a simulation panics with a message that says what to do.

mod instant;
mod interval;
mod sleep;

pub use instant::Instant;
pub use interval::{Interval, MissedTickBehavior, interval, interval_at};
pub(crate) use sleep::true_deadline_after;
pub use sleep::{Elapsed, Sleep, Timeout, sleep, sleep_until, timeout};

use crate::world::with_world;

/// The current virtual time, as the calling node's local clock reads it
/// (true time for the test harness).
///
/// # Panics
///
/// Panics when called outside a simulation.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use detsim::{Seed, Sim, time};
///
/// let mut sim = Sim::new(Seed::new(1));
/// let report = sim.run(async {
///     time::sleep(Duration::from_secs(3)).await;
///     time::now()
/// }).unwrap();
/// assert_eq!(report.value.as_nanos(), 3_000_000_000);
/// ```
#[track_caller]
pub fn now() -> Instant {
    with_world("detsim::time::now", |w| w.local_now(w.current_node()))
}

/// The current virtual time, or `None` outside a simulation.
pub fn try_now() -> Option<Instant> {
    crate::world::with_world_opt(|w| w.local_now(w.current_node()))
}
