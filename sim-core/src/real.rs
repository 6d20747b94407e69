//! A real runtime for the [`Runtime`](crate::Runtime) traits: OS time and
//! tokio's local task set. Enabled by the `tokio` feature.
//!
//! The same protocol code that runs on a simulated node runs here on real
//! time; nothing in this module is used by simulations, and nothing in it
//! needs the simulator (it is part of the surface).

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::runtime::{Clock, Entropy, Spawn};
use crate::time::Instant;
use crate::{JoinError, Seed, TaskId};

/// Real time and tokio tasks behind the runtime traits.
///
/// Must be used inside [`TokioRuntime::block_on`] (a current-thread tokio
/// runtime with a `LocalSet`), because tasks need not be `Send`.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use detsim::{Clock, Spawn, real::TokioRuntime};
///
/// let rt = TokioRuntime::new(detsim::Seed::new(1));
/// let out = rt.clone().block_on(async move {
///     let task = rt.spawn(async { 7 });
///     rt.sleep(Duration::from_millis(1)).await;
///     task.await.unwrap()
/// });
/// assert_eq!(out, 7);
/// ```
#[derive(Clone)]
pub struct TokioRuntime {
    start: std::time::Instant,
    rng: Rc<RefCell<SplitMix64>>,
    tasks: Rc<RefCell<u64>>,
}

impl TokioRuntime {
    /// A runtime whose random numbers come from `seed` (time, of course, does not).
    ///
    /// The numbers are a SplitMix64 sequence: well spread, fine for jitter,
    /// backoff and ids, not for secrets (seed it from the OS, or use a
    /// cryptographic generator, for those).
    #[allow(clippy::disallowed_methods)] // Real time is this type's purpose.
    pub fn new(seed: Seed) -> TokioRuntime {
        TokioRuntime {
            start: std::time::Instant::now(),
            rng: Rc::new(RefCell::new(SplitMix64(seed.get()))),
            tasks: Rc::new(RefCell::new(0)),
        }
    }

    /// Runs `future` to completion on a new current-thread tokio runtime with
    /// a local task set.
    ///
    /// # Panics
    ///
    /// Panics if tokio cannot build the runtime.
    pub fn block_on<F: Future>(self, future: F) -> F::Output {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("detsim::real: cannot build a tokio runtime");
        let local = tokio::task::LocalSet::new();
        local.block_on(&runtime, future)
    }

    fn to_std(&self, instant: Instant) -> tokio::time::Instant {
        tokio::time::Instant::from_std(self.start + instant.as_duration())
    }
}

impl Clock for TokioRuntime {
    #[allow(clippy::disallowed_methods)] // Real time is this type's purpose.
    fn now(&self) -> Instant {
        let elapsed = self.start.elapsed();
        Instant::from_nanos(u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX))
    }

    fn sleep(&self, duration: Duration) -> impl Future<Output = ()> + 'static {
        tokio::time::sleep(duration)
    }

    fn sleep_until(&self, deadline: Instant) -> impl Future<Output = ()> + 'static {
        tokio::time::sleep_until(self.to_std(deadline))
    }

    #[allow(clippy::disallowed_methods)] // Real time is this type's purpose.
    fn system_time(&self) -> std::time::SystemTime {
        std::time::SystemTime::now()
    }
}

/// A tokio task's join handle, with detsim's [`JoinError`].
pub struct RealJoinHandle<T> {
    id: TaskId,
    inner: tokio::task::JoinHandle<T>,
}

impl<T> RealJoinHandle<T> {
    /// Aborts the task.
    pub fn abort(&self) {
        self.inner.abort();
    }
}

impl<T> Future for RealJoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let id = self.id;
        match Pin::new(&mut self.inner).poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Ok(value)) => Poll::Ready(Ok(value)),
            Poll::Ready(Err(error)) if error.is_panic() => {
                std::panic::resume_unwind(error.into_panic())
            }
            Poll::Ready(Err(_)) => Poll::Ready(Err(JoinError::Aborted(id))),
        }
    }
}

impl Spawn for TokioRuntime {
    type JoinHandle<T: 'static> = RealJoinHandle<T>;

    fn spawn<F>(&self, future: F) -> RealJoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let id = {
            let mut next = self.tasks.borrow_mut();
            *next += 1;
            TaskId(*next - 1)
        };
        RealJoinHandle {
            id,
            inner: tokio::task::spawn_local(future),
        }
    }
}

impl Entropy for TokioRuntime {
    fn next_u64(&self) -> u64 {
        self.rng.borrow_mut().next_u64()
    }
}

/// SplitMix64 (Steele, Lea and Flood, OOPSLA 2014): one `u64` of state, no
/// dependency, so the surface needs no random-number crate.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::SplitMix64;

    #[test]
    fn splitmix_matches_the_reference_sequence() {
        // Proves the generator is SplitMix64: the reference outputs for seed 0.
        let mut rng = SplitMix64(0);
        assert_eq!(rng.next_u64(), 0xe220_a839_7b1d_cdaf);
        assert_eq!(rng.next_u64(), 0x6e78_9e6a_a1b9_65f4);
        assert_eq!(rng.next_u64(), 0x06c4_5d18_8009_454f);
    }
}
