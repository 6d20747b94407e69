//! Small traits protocol code can be generic over, so the same code runs in a
//! simulation (`NodeContext`, `SimHandle`, feature `sim`) and on a real
//! runtime (`real::TokioRuntime`, feature `tokio`).
//!
//! Part of the surface: the traits name only surface types ([`Instant`],
//! [`JoinError`], [`Elapsed`]), so they compile without the simulator.

use std::future::Future;
use std::time::Duration;

use futures::FutureExt;

use crate::JoinError;
use crate::time::{Elapsed, Instant};

/// Reads the time and waits.
pub trait Clock {
    /// The current monotonic time: on a simulated node, virtual time as its
    /// local clock reads it; on a real runtime, the time since it started.
    fn now(&self) -> Instant;

    /// Waits for `duration`.
    fn sleep(&self, duration: Duration) -> impl Future<Output = ()> + 'static;

    /// Waits until `deadline`.
    fn sleep_until(&self, deadline: Instant) -> impl Future<Output = ()> + 'static;

    /// The wall clock (`CLOCK_REALTIME`): it can jump, so measure intervals
    /// with [`now`](Clock::now) and use this only for timestamps, leases
    /// against other machines' clocks, and the like.
    fn system_time(&self) -> std::time::SystemTime;
}

/// Starts tasks. Futures need not be `Send`: simulated worlds are single-threaded,
/// and real runtimes use a local task set.
pub trait Spawn {
    /// Awaits a spawned task's output.
    type JoinHandle<T: 'static>: Future<Output = Result<T, JoinError>> + 'static;

    /// Spawns `future`.
    fn spawn<F>(&self, future: F) -> Self::JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static;
}

/// Random numbers.
pub trait Entropy {
    /// A random `u64`.
    fn next_u64(&self) -> u64;

    /// Fills `dest` with random bytes.
    fn fill_bytes(&self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(8) {
            let bytes = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }
}

/// Everything a protocol node needs from its runtime.
///
/// Protocol code written against it (and sim-net's `Transport`, sim-disk's
/// `Storage`) compiles with the surface alone
/// (`default-features = false`); the simulator implements it for its nodes,
/// `real::TokioRuntime` (feature `tokio`) on real time.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use detsim::{Clock, Entropy, Runtime, time::Instant};
///
/// /// Waits a random part of `period`, then says until when a lease of `ttl` holds.
/// async fn renew<R: Runtime>(rt: &R, period: Duration, ttl: Duration) -> Instant {
///     let jitter = rt.next_u64() % (period.as_millis() as u64 + 1);
///     rt.sleep(Duration::from_millis(jitter)).await;
///     rt.now() + ttl
/// }
/// ```
pub trait Runtime: Clock + Spawn + Entropy + Clone + 'static {}

impl<T: Clock + Spawn + Entropy + Clone + 'static> Runtime for T {}

/// Runs `future` for at most `duration` of `clock`'s time.
///
/// # Errors
///
/// [`Elapsed`] if the deadline came first.
pub async fn timeout_on<C: Clock, F: Future>(
    clock: &C,
    duration: Duration,
    future: F,
) -> Result<F::Output, Elapsed> {
    let sleep = clock.sleep(duration);
    futures::pin_mut!(future, sleep);
    futures::select_biased! {
        output = future.fuse() => Ok(output),
        () = sleep.fuse() => Err(Elapsed::new()),
    }
}

/// The simulation's implementations: a node's context and the harness's handle.
#[cfg(feature = "sim")]
mod simulation {
    use std::future::Future;
    use std::time::Duration;

    use super::{Clock, Entropy, Spawn};
    use crate::time::Instant;
    use crate::world::JoinHandle;
    use crate::{NodeContext, SimHandle};

    impl Clock for NodeContext {
        fn now(&self) -> Instant {
            NodeContext::now(self)
        }

        fn sleep(&self, duration: Duration) -> impl Future<Output = ()> + 'static {
            NodeContext::sleep(self, duration)
        }

        fn sleep_until(&self, deadline: Instant) -> impl Future<Output = ()> + 'static {
            NodeContext::sleep_until(self, deadline)
        }

        fn system_time(&self) -> std::time::SystemTime {
            NodeContext::system_time(self)
        }
    }

    impl Spawn for NodeContext {
        type JoinHandle<T: 'static> = JoinHandle<T>;

        #[track_caller]
        fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
        where
            F: Future + 'static,
            F::Output: 'static,
        {
            NodeContext::spawn(self, future)
        }
    }

    impl Entropy for NodeContext {
        fn next_u64(&self) -> u64 {
            self.with_rng(rand_core::RngCore::next_u64)
        }
    }

    impl Clock for SimHandle {
        fn now(&self) -> Instant {
            SimHandle::now(self)
        }

        fn sleep(&self, duration: Duration) -> impl Future<Output = ()> + 'static {
            self.with(|w| crate::time::Sleep::new_true(w, w.now().saturating_add(duration)))
        }

        fn sleep_until(&self, deadline: Instant) -> impl Future<Output = ()> + 'static {
            self.with(|w| crate::time::Sleep::new_true(w, deadline))
        }

        fn system_time(&self) -> std::time::SystemTime {
            self.with(|w| crate::time::wall_time(w.wall_nanos(None)))
        }
    }

    impl Spawn for SimHandle {
        type JoinHandle<T: 'static> = JoinHandle<T>;

        #[track_caller]
        fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
        where
            F: Future + 'static,
            F::Output: 'static,
        {
            let location = std::panic::Location::caller();
            self.with(|w| w.spawn(None, future, location))
        }
    }

    impl Entropy for SimHandle {
        fn next_u64(&self) -> u64 {
            self.with(|w| w.with_rng(None, rand_core::RngCore::next_u64))
        }
    }
}
