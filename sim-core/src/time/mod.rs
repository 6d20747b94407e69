//! Time: the [`Instant`] every [`Clock`](crate::Clock) reads and the
//! [`Elapsed`] error of a timeout, in every build; with the simulator
//! (feature `sim`), virtual time: `now`, `sleep`, `sleep_until`, `timeout`
//! and `interval`.
//!
//! These free functions work inside a simulation like tokio's do inside a
//! runtime. A node has two clocks, as a real machine does:
//!
//! - its **monotonic** clock ([`now`], [`Instant`], sleeps, timeouts,
//!   intervals): it may drift (run fast or slow,
//!   [`SimHandle::clock_drift`][clock_drift]) but never jumps;
//! - its **wall** clock ([`system_now`]): it drifts with the monotonic one
//!   and also jumps when stepped
//!   ([`SimHandle::clock_jump`][clock_jump]), forwards or
//!   backwards, as NTP or an operator steps `CLOCK_REALTIME`.
//!
//! The world's true time is neither; the harness reads it. A sleep's deadline
//! is fixed in true time when the sleep is created, like a monotonic OS timer.
//!
//! Calling them outside a simulation panics with a message that says what to do.
//!
//! An [`Instant`] is plain data: nanoseconds since the origin of the clock
//! that produced it (the start of a world, or of a real runtime). Compare
//! instants of one clock only.
//!
#![cfg_attr(
    feature = "sim",
    doc = "[clock_drift]: crate::SimHandle::clock_drift\n[clock_jump]: crate::SimHandle::clock_jump"
)]
#![cfg_attr(
    not(feature = "sim"),
    doc = "[`now`]: crate#features\n[`system_now`]: crate#features\n\
           [clock_drift]: crate#features\n[clock_jump]: crate#features"
)]

mod elapsed;
mod instant;
#[cfg(feature = "sim")]
mod interval;
#[cfg(feature = "sim")]
mod sleep;

pub use elapsed::Elapsed;
pub use instant::Instant;
#[cfg(feature = "sim")]
pub use interval::{Interval, MissedTickBehavior, interval, interval_at};
#[cfg(feature = "sim")]
pub(crate) use sleep::true_deadline_after;
#[cfg(feature = "sim")]
pub use sleep::{Sleep, Timeout, sleep, sleep_until, timeout};

#[cfg(feature = "sim")]
use crate::world::with_world;

#[cfg(feature = "sim")]
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

#[cfg(feature = "sim")]
/// What every wall clock reads at true time zero, as a duration since the
/// Unix epoch: 2026-01-01T00:00:00Z. A run's wall-clock readings are the
/// same on every machine and every day.
pub const WALL_CLOCK_START: std::time::Duration = std::time::Duration::from_secs(1_767_225_600);

#[cfg(feature = "sim")]
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

#[cfg(feature = "sim")]
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

#[cfg(feature = "sim")]
/// The current virtual time, or `None` outside a simulation.
pub fn try_now() -> Option<Instant> {
    crate::world::with_world_opt(|w| w.local_now(w.current_node()))
}
