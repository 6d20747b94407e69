//! hyper 1.x's runtime traits in a world: `hyper::rt::Read` and `Write` for
//! the simulated [`TcpStream`], [`SimExecutor`] (spawns on the calling
//! task's node) and [`SimTimer`] (sleeps on the node's virtual clock).
//!
//! hyper's `Timer` speaks `std::time::Instant`. [`SimTimer`] maps virtual
//! time onto a fixed `std::time::Instant` origin taken once, when the timer
//! is made: `now()` is the origin plus the node's virtual clock, and
//! `sleep_until(deadline)` sleeps until virtual `deadline - origin`. Every
//! deadline hyper computes from the timer's `now()` is therefore virtual and
//! exact; the origin's wall-clock value never decides anything.

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::rt::ReadBufCursor;

use crate::TcpStream;

/// How many bytes one `hyper::rt::Read::poll_read` moves at most (hyper
/// reads into uninitialised memory, which safe code fills through a copy).
const READ_CHUNK: usize = 16 * 1024;

impl hyper::rt::Read for TcpStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let mut chunk = [0u8; READ_CHUNK];
        let len = buf.remaining().min(READ_CHUNK);
        if len == 0 {
            return Poll::Ready(Ok(()));
        }
        match futures::io::AsyncRead::poll_read(self, cx, &mut chunk[..len]) {
            Poll::Ready(Ok(n)) => {
                buf.put_slice(&chunk[..n]);
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl hyper::rt::Write for TcpStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        futures::io::AsyncWrite::poll_write(self, cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        futures::io::AsyncWrite::poll_flush(self, cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        futures::io::AsyncWrite::poll_close(self, cx)
    }
}

/// A `hyper::rt::Executor` that spawns on the node of the task that calls
/// it, as [`detsim::spawn`] does: hyper spawns from inside a connection's
/// task, so its background work (an HTTP/2 connection's streams, a client
/// connection's driver) belongs to the node that owns the connection and
/// dies with it in a crash.
///
/// Futures need not be `Send`: a world is single-threaded.
///
/// # Panics
///
/// `execute` panics when called outside a simulation.
///
/// # Examples
///
/// ```
/// use detsim_net::SimExecutor;
/// use hyper::rt::Executor;
///
/// let mut sim = detsim::Sim::new(detsim::Seed::new(1));
/// let report = sim.run(async {
///     let (tx, rx) = futures::channel::oneshot::channel();
///     SimExecutor::default().execute(async move { tx.send(7).unwrap() });
///     rx.await.unwrap()
/// }).unwrap();
/// assert_eq!(report.value, 7);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct SimExecutor;

impl<F> hyper::rt::Executor<F> for SimExecutor
where
    F: Future + 'static,
    F::Output: 'static,
{
    #[track_caller]
    fn execute(&self, future: F) {
        // Dropping the handle detaches the task.
        drop(detsim::spawn(future));
    }
}

/// A `hyper::rt::Timer` on the calling node's virtual clock.
///
/// Give it to hyper's builders (`.timer(SimTimer::new())`) so header-read
/// timeouts, keep-alive and HTTP/2 pings run on virtual time. Without a
/// timer hyper reads `std::time::Instant::now()` where it needs the time,
/// which is wall-clock time: not deterministic.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use detsim_net::SimTimer;
/// use hyper::rt::Timer;
///
/// let mut sim = detsim::Sim::new(detsim::Seed::new(1));
/// let report = sim.run(async {
///     let timer = SimTimer::new();
///     let start = timer.now();
///     timer.sleep(Duration::from_millis(250)).await;
///     timer.now() - start
/// }).unwrap();
/// assert_eq!(report.value, Duration::from_millis(250));
/// assert_eq!(report.elapsed, detsim::time::Instant::ZERO + Duration::from_millis(250));
/// ```
#[derive(Clone, Copy)]
pub struct SimTimer {
    /// The `std::time::Instant` that stands for virtual time zero.
    origin: std::time::Instant,
}

impl fmt::Debug for SimTimer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimTimer").finish_non_exhaustive()
    }
}

impl Default for SimTimer {
    fn default() -> SimTimer {
        SimTimer::new()
    }
}

impl SimTimer {
    /// A timer whose `std::time::Instant`s stand for the virtual clock.
    pub fn new() -> SimTimer {
        // The one wall-clock read: an opaque origin. Only differences of the
        // instants this timer hands out are ever used, and those are virtual.
        #[allow(clippy::disallowed_methods)]
        let origin = std::time::Instant::now();
        SimTimer { origin }
    }

    /// The virtual instant that `instant` (one of this timer's) stands for.
    pub fn to_virtual(&self, instant: std::time::Instant) -> detsim::time::Instant {
        detsim::time::Instant::ZERO + instant.saturating_duration_since(self.origin)
    }

    /// The `std::time::Instant` that stands for the virtual `instant`.
    pub fn to_std(&self, instant: detsim::time::Instant) -> std::time::Instant {
        self.origin + instant.saturating_duration_since(detsim::time::Instant::ZERO)
    }
}

impl hyper::rt::Timer for SimTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(SimSleep(detsim::time::sleep(duration)))
    }

    fn sleep_until(&self, deadline: std::time::Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(SimSleep(detsim::time::sleep_until(
            self.to_virtual(deadline),
        )))
    }

    fn now(&self) -> std::time::Instant {
        self.to_std(detsim::time::now())
    }

    fn reset(&self, sleep: &mut Pin<Box<dyn hyper::rt::Sleep>>, new_deadline: std::time::Instant) {
        let deadline = self.to_virtual(new_deadline);
        match sleep.as_mut().downcast_mut_pin::<SimSleep>() {
            Some(mut ours) => ours.0.reset(deadline),
            None => *sleep = self.sleep_until(new_deadline),
        }
    }
}

/// The sleep [`SimTimer`] hands to hyper: a [`detsim::time::Sleep`].
#[derive(Debug)]
pub struct SimSleep(detsim::time::Sleep);

impl Future for SimSleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.get_mut().0).poll(cx)
    }
}

impl hyper::rt::Sleep for SimSleep {}
