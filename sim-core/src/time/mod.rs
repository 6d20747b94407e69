//! Virtual time: `now`, `sleep`, `sleep_until`, `timeout` and `interval`.
//!
//! These free functions work inside a simulation like tokio's do inside a
//! runtime. A node has two clocks, as a real machine does:
//!
//! - its **monotonic** clock ([`now`], [`Instant`], sleeps, timeouts,
//!   intervals): it may drift (run fast or slow,
//!   [`SimHandle::clock_drift`](crate::SimHandle::clock_drift)) but never jumps;
//! - its **wall** clock ([`system_now`]): it drifts with the monotonic one
//!   and also jumps when stepped
//!   ([`SimHandle::clock_jump`](crate::SimHandle::clock_jump)), forwards or
//!   backwards, as NTP or an operator steps `CLOCK_REALTIME`.
//!
//! The world's true time is neither; the harness reads it. A sleep's deadline
//! is fixed in true time when the sleep is created, like a monotonic OS timer.
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

/// What every wall clock reads at true time zero, as a duration since the
/// Unix epoch: 2026-01-01T00:00:00Z. A run's wall-clock readings are the
/// same on every machine and every day.
pub const WALL_CLOCK_START: std::time::Duration = std::time::Duration::from_secs(1_767_225_600);

/// The calling node's wall clock (`CLOCK_REALTIME`): [`WALL_CLOCK_START`]
/// plus its monotonic time, plus every step a clock jump made (true time for
/// the harness). Unlike [`now`] it can go backwards.
///
/// # Panics
///
/// Panics when called outside a simulation.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use detsim::{Seed, Sim, time};
///
/// let mut sim = Sim::new(Seed::new(1));
/// let node = sim.add_node("n1", |_| std::future::pending::<()>()).unwrap();
/// let report = sim.run(async move {
///     time::sleep(Duration::from_secs(3)).await;
///     detsim::handle().clock_jump(node, -5_000_000_000).unwrap();
///     let wall = detsim::handle().spawn_on(node, async { time::system_now() }).unwrap();
///     wall.await.unwrap()
/// }).unwrap();
/// // 3 s after the start, stepped back by 5 s: 2 s before the start.
/// assert_eq!(report.value, UNIX_EPOCH + time::WALL_CLOCK_START - Duration::from_secs(2));
/// ```
#[track_caller]
pub fn system_now() -> std::time::SystemTime {
    with_world("detsim::time::system_now", |w| {
        wall_time(w.wall_nanos(w.current_node()))
    })
}

/// The `SystemTime` a wall clock reading (nanoseconds since
/// [`WALL_CLOCK_START`]) stands for.
pub(crate) fn wall_time(nanos: i128) -> std::time::SystemTime {
    let start = std::time::UNIX_EPOCH + WALL_CLOCK_START;
    let magnitude =
        std::time::Duration::from_nanos(u64::try_from(nanos.unsigned_abs()).unwrap_or(u64::MAX));
    if nanos >= 0 {
        start + magnitude
    } else {
        start - magnitude
    }
}

/// The current virtual time, or `None` outside a simulation.
pub fn try_now() -> Option<Instant> {
    crate::world::with_world_opt(|w| w.local_now(w.current_node()))
}
