//! `sleep`, `sleep_until` and `timeout`.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use super::{Elapsed, Instant};
use crate::world::{NodeId, TimerKey, World, with_world, with_world_opt};

/// A future that completes at a virtual deadline. Created by [`sleep`] and [`sleep_until`].
#[must_use = "a sleep does nothing unless awaited"]
#[derive(Debug)]
pub struct Sleep {
    world: u64,
    /// True-time deadline.
    deadline: Instant,
    key: Option<TimerKey>,
    /// Created outside a simulation (a test body built before `Sim::run`):
    /// the deadline is fixed at the first poll.
    deferred: Option<Deferred>,
    /// Whether a sleep already over at its first poll yields once (see
    /// [`sleep`]); `false` for an interval's ticks, which burst as tokio's do.
    yields: bool,
    /// Whether it has yielded.
    yielded: bool,
}

#[derive(Clone, Copy, Debug)]
enum Deferred {
    After(Duration),
    At(Instant),
}

impl Sleep {
    pub(crate) fn new_true(world: &World, deadline: Instant) -> Sleep {
        Sleep {
            world: world.id,
            deadline,
            key: None,
            deferred: None,
            yields: true,
            yielded: false,
        }
    }

    fn deferred(deferred: Deferred) -> Sleep {
        Sleep {
            world: 0,
            deadline: Instant::ZERO,
            key: None,
            deferred: Some(deferred),
            yields: true,
            yielded: false,
        }
    }

    /// This sleep, completing at once when it is already over (an
    /// interval's missed ticks).
    pub(crate) fn eager(mut self) -> Sleep {
        self.yields = false;
        self
    }

    /// Whether the deadline has passed.
    pub fn is_elapsed(&self) -> bool {
        self.deferred.is_none() && with_world_opt(|w| w.now() >= self.deadline).unwrap_or(false)
    }

    /// Moves the deadline to `deadline` on the calling node's clock.
    ///
    /// # Panics
    ///
    /// Panics when called outside a simulation.
    #[track_caller]
    pub fn reset(&mut self, deadline: Instant) {
        self.deferred = None;
        let deadline = with_world("Sleep::reset", |w| {
            self.world = w.id;
            if let Some(key) = self.key.take() {
                w.timers.borrow_mut().cancel(key);
            }
            w.true_deadline(w.current_node(), deadline)
        });
        self.deadline = deadline;
        self.yielded = false;
    }
}

pub(crate) fn true_deadline_after(
    world: &World,
    node: Option<NodeId>,
    duration: Duration,
) -> Instant {
    world.true_deadline_after(node, duration)
}

/// Waits for `duration` of the calling node's local clock.
///
/// Virtual time only passes when no task is ready, so a sleep costs nothing
/// in wall time. The deadline is fixed when the sleep is created; a sleep
/// created outside a simulation (say, the body handed to
/// [`Sim::run`](crate::Sim::run)) counts from its first poll.
///
/// A sleep that is already over when first polled (`sleep(Duration::ZERO)`,
/// a `sleep_until` in the past) yields once, as [`yield_now`](crate::yield_now)
/// does, before it completes: every other ready task runs first, and a loop
/// of zero sleeps is steps the livelock guard counts
/// ([`SimBuilder::instant_steps_max`](crate::SimBuilder::instant_steps_max))
/// instead of a poll that never returns.
///
/// # Panics
///
/// The sleep panics when polled outside a simulation.
pub fn sleep(duration: Duration) -> Sleep {
    with_world_opt(|w| Sleep::new_true(w, true_deadline_after(w, w.current_node(), duration)))
        .unwrap_or_else(|| Sleep::deferred(Deferred::After(duration)))
}

/// Waits until the calling node's local clock reads `deadline`.
///
/// # Panics
///
/// The sleep panics when polled outside a simulation.
pub fn sleep_until(deadline: Instant) -> Sleep {
    with_world_opt(|w| Sleep::new_true(w, w.true_deadline(w.current_node(), deadline)))
        .unwrap_or_else(|| Sleep::deferred(Deferred::At(deadline)))
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        with_world("detsim::time::sleep", |w| {
            if let Some(deferred) = this.deferred.take() {
                this.world = w.id;
                this.deadline = match deferred {
                    Deferred::After(duration) => true_deadline_after(w, w.current_node(), duration),
                    Deferred::At(local) => w.true_deadline(w.current_node(), local),
                };
            }
            assert_eq!(
                w.id, this.world,
                "detsim: a Sleep was polled in a simulation other than the one that created it"
            );
            if w.now() >= this.deadline {
                if let Some(key) = this.key.take() {
                    w.timers.borrow_mut().cancel(key);
                } else if this.yields && !this.yielded {
                    this.yielded = true;
                    cx.waker().wake_by_ref();
                    return Poll::Pending;
                }
                return Poll::Ready(());
            }
            w.register(&mut this.key, this.deadline, cx.waker());
            Poll::Pending
        })
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            let waker = with_world_opt(|w| {
                if w.id == self.world {
                    w.timers.borrow_mut().cancel(key)
                } else {
                    None
                }
            });
            // Dropped outside the timers borrow: a waker's destructor may re-enter.
            drop(waker);
        }
    }
}

pin_project_lite::pin_project! {
    /// A future with a deadline. Created by [`timeout`].
    #[must_use = "a timeout does nothing unless awaited"]
    #[derive(Debug)]
    pub struct Timeout<F> {
        #[pin]
        future: F,
        sleep: Sleep,
    }
}

/// Runs `future` for at most `duration` of virtual time.
///
/// The future is polled first, so one that is ready at the deadline wins.
///
/// # Panics
///
/// Panics when polled outside a simulation.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use detsim::{Seed, Sim, time};
///
/// let mut sim = Sim::new(Seed::new(1));
/// let report = sim.run(async {
///     let slow = time::sleep(Duration::from_secs(10));
///     time::timeout(Duration::from_secs(1), slow).await
/// }).unwrap();
/// assert!(report.value.is_err());
/// assert_eq!(report.elapsed.as_nanos(), 1_000_000_000);
/// ```
pub fn timeout<F: Future>(duration: Duration, future: F) -> Timeout<F> {
    Timeout {
        future,
        sleep: sleep(duration),
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Poll::Ready(output) = this.future.poll(cx) {
            return Poll::Ready(Ok(output));
        }
        match Pin::new(this.sleep).poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(Elapsed::new())),
            Poll::Pending => Poll::Pending,
        }
    }
}
