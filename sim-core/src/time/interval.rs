//! Periodic ticks.

use std::future::poll_fn;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use super::{Instant, Sleep, now, sleep_until};

/// What an [`Interval`] does when ticks were missed (the task was busy,
/// paused, or the clock jumped).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MissedTickBehavior {
    /// Fire the missed ticks immediately, one after another, then keep the
    /// original schedule.
    #[default]
    Burst,
    /// Fire once now, then schedule the next tick a whole period later.
    Delay,
    /// Fire once now, then skip to the next tick on the original schedule.
    Skip,
}

/// Ticks every `period` of the node's local clock. Created by [`interval`].
#[derive(Debug)]
pub struct Interval {
    period: Duration,
    next: Instant,
    behavior: MissedTickBehavior,
    sleep: Option<Sleep>,
}

/// An interval whose first tick completes at once.
///
/// # Panics
///
/// Panics if `period` is zero, or when called outside a simulation.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use detsim::{Seed, Sim, time};
///
/// let mut sim = Sim::new(Seed::new(1));
/// let report = sim.run(async {
///     let mut ticks = time::interval(Duration::from_millis(100));
///     let mut at = Vec::new();
///     for _ in 0..3 {
///         at.push(ticks.tick().await.as_nanos() / 1_000_000);
///     }
///     at
/// }).unwrap();
/// assert_eq!(report.value, vec![0, 100, 200]);
/// ```
#[track_caller]
pub fn interval(period: Duration) -> Interval {
    interval_at(now(), period)
}

/// An interval whose first tick completes at `start`.
///
/// # Panics
///
/// Panics if `period` is zero.
#[track_caller]
pub fn interval_at(start: Instant, period: Duration) -> Interval {
    assert!(
        !period.is_zero(),
        "detsim::time::interval: the period must be above zero"
    );
    Interval {
        period,
        next: start,
        behavior: MissedTickBehavior::default(),
        sleep: None,
    }
}

impl Interval {
    /// Waits for the next tick and returns its scheduled instant.
    pub async fn tick(&mut self) -> Instant {
        poll_fn(|cx| self.poll_tick(cx)).await
    }

    /// Polls for the next tick.
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        let sleep = self
            .sleep
            .get_or_insert_with(|| sleep_until(self.next).eager());
        if Pin::new(sleep).poll(cx).is_pending() {
            return Poll::Pending;
        }
        self.sleep = None;
        let tick = self.next;
        let now = now();
        let missed = now.saturating_duration_since(tick) >= self.period;
        self.next = match (missed, self.behavior) {
            (false, _) | (true, MissedTickBehavior::Burst) => tick + self.period,
            (true, MissedTickBehavior::Delay) => now + self.period,
            (true, MissedTickBehavior::Skip) => {
                let behind = now.saturating_duration_since(tick).as_nanos();
                let period = self.period.as_nanos();
                let periods = (behind / period + 1) as u32;
                tick + self.period * periods
            }
        };
        Poll::Ready(tick)
    }

    /// Sets what happens to missed ticks.
    pub fn set_missed_tick_behavior(&mut self, behavior: MissedTickBehavior) {
        self.behavior = behavior;
    }

    /// The period.
    pub fn period(&self) -> Duration {
        self.period
    }
}

use std::future::Future as _;
