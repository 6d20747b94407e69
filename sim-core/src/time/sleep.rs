//! `sleep`, `sleep_until` and `timeout`.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use super::{Elapsed, Instant};
use crate::world::{
    NodeId, TimerKey, World, mirror, with_world, with_world_borrowed, with_world_opt,
};

/// A future that completes at a virtual deadline. Created by [`sleep`] and [`sleep_until`].
#[must_use = "a sleep does nothing unless awaited"]
#[derive(Debug)]
pub struct Sleep {
    world: u64,
    /// True-time deadline; for a deferred sleep, the duration (`After`) or
    /// the local deadline (`At`) in nanoseconds, until the first poll.
    deadline: Instant,
    key: Option<TimerKey>,
    /// Created outside a simulation (a test body built before `Sim::run`):
    /// the deadline is fixed at the first poll.
    deferred: Deferred,
    /// Whether a sleep already over at its first poll yields once (see
    /// [`sleep`]); `false` for an interval's ticks, which burst as tokio's do.
    yields: bool,
    /// Whether it has yielded.
    yielded: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Deferred {
    /// Not deferred: `deadline` is the true deadline.
    No,
    /// `deadline` holds a duration on the polling node's clock.
    After,
    /// `deadline` holds a deadline on the polling node's clock.
    At,
}

impl Sleep {
    #[inline]
    pub(crate) fn new_true(world: &World, deadline: Instant) -> Sleep {
        Sleep::in_world(world.id, deadline)
    }

    #[inline]
    fn in_world(world: u64, deadline: Instant) -> Sleep {
        Sleep {
            world,
            deadline,
            key: None,
            deferred: Deferred::No,
            yields: true,
            yielded: false,
        }
    }

    #[cold]
    fn deferred(deferred: Deferred, nanos: Instant) -> Sleep {
        Sleep {
            world: 0,
            deadline: nanos,
            key: None,
            deferred,
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
        self.deferred == Deferred::No
            && with_world_opt(|w| w.now() >= self.deadline).unwrap_or(false)
    }

    /// Moves the deadline to `deadline` on the calling node's clock.
    ///
    /// # Panics
    ///
    /// Panics when called outside a simulation.
    #[track_caller]
    pub fn reset(&mut self, deadline: Instant) {
        self.deferred = Deferred::No;
        let deadline = with_world("Sleep::reset", |w| {
            self.world = w.id;
            if let Some(key) = self.key.take() {
                let action = w.timers.borrow_mut().cancel(key);
                drop(action);
            }
            w.true_deadline(w.current_node(), deadline)
        });
        self.deadline = deadline;
        self.yielded = false;
    }

    /// Fixes the deadline of a sleep created outside a simulation.
    #[cold]
    #[inline(never)]
    fn start(&mut self, w: &World) {
        self.world = w.id;
        self.deadline = match self.deferred {
            Deferred::After => true_deadline_after(
                w,
                w.current_node(),
                Duration::from_nanos(self.deadline.as_nanos()),
            ),
            Deferred::At => w.true_deadline(w.current_node(), self.deadline),
            Deferred::No => self.deadline,
        };
        self.deferred = Deferred::No;
    }

    #[inline(never)]
    fn poll_slow(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        with_world_borrowed("detsim::time::sleep", |w| self.poll_in(w, cx))
    }

    #[inline]
    fn poll_in(&mut self, w: &World, cx: &mut Context<'_>) -> Poll<()> {
        if self.deferred != Deferred::No {
            self.start(w);
        }
        if w.id != self.world {
            other_world();
        }
        if w.now() >= self.deadline {
            if let Some(key) = self.key.take() {
                let action = w.timers.borrow_mut().cancel(key);
                drop(action);
            } else if self.yields && !self.yielded {
                self.yielded = true;
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            return Poll::Ready(());
        }
        w.register(&mut self.key, self.deadline, cx.waker());
        Poll::Pending
    }
}

#[cold]
#[inline(never)]
#[track_caller]
fn other_world() -> ! {
    panic!("detsim: a Sleep was polled in a simulation other than the one that created it")
}

#[inline]
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
#[inline]
pub fn sleep(duration: Duration) -> Sleep {
    // While every clock reads true time, the deadline is true time plus the
    // duration on any node: the mirror has all it takes.
    let (world, now, fast_clocks, _) = mirror();
    if world != 0 && fast_clocks {
        return Sleep::in_world(world, now.saturating_add(duration));
    }
    sleep_slow(duration)
}

#[inline(never)]
fn sleep_slow(duration: Duration) -> Sleep {
    match with_world_opt(|w| Sleep::new_true(w, true_deadline_after(w, w.current_node(), duration)))
    {
        Some(sleep) => sleep,
        // Beyond `u64` nanoseconds every deadline saturates alike.
        None => Sleep::deferred(
            Deferred::After,
            Instant::from_nanos(u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)),
        ),
    }
}

/// Waits until the calling node's local clock reads `deadline`.
///
/// # Panics
///
/// The sleep panics when polled outside a simulation.
#[inline]
pub fn sleep_until(deadline: Instant) -> Sleep {
    match with_world_opt(|w| Sleep::new_true(w, w.true_deadline(w.current_node(), deadline))) {
        Some(sleep) => sleep,
        None => Sleep::deferred(Deferred::At, deadline),
    }
}

impl Future for Sleep {
    type Output = ();

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        // Polled by the executor with the deadline past, a registered sleep's
        // timer has fired: every timer due by now fires before any task is
        // polled, and a sleep registers only while its deadline is ahead.
        // So it completes without the world (the timer needs no cancel).
        // A registered sleep is never deferred: registering fixed its deadline.
        let (world, now, _, polling) = mirror();
        if polling && this.key.is_some() && world == this.world && now >= this.deadline {
            debug_assert_eq!(this.deferred, Deferred::No);
            this.key = None;
            return Poll::Ready(());
        }
        this.poll_slow(cx)
    }
}

impl Drop for Sleep {
    #[inline]
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            cancel_dropped(self.world, key);
        }
    }
}

/// Cancels the timer of a sleep dropped before it fired.
#[inline(never)]
fn cancel_dropped(world: u64, key: TimerKey) {
    let waker = with_world_opt(|w| {
        if w.id == world {
            w.timers.borrow_mut().cancel(key)
        } else {
            None
        }
    });
    // Dropped outside the timers borrow: a waker's destructor may re-enter.
    drop(waker);
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
