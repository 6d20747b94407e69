//! Ambient task functions: `spawn`, `yield_now`, `handle`.

use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::world::{JoinHandle, NodeId, with_world};
use crate::{NodeContext, SimHandle};

/// Spawns a task on the calling task's node (the harness for the test body).
///
/// The future need not be `Send`: a world is single-threaded.
///
/// # Panics
///
/// Panics when called outside a simulation.
#[track_caller]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    let location = Location::caller();
    with_world("detsim::spawn", |w| {
        w.spawn(w.current_node(), future, location)
    })
}

/// Lets every other ready task run before this one continues.
///
/// # Panics
///
/// The returned future panics when polled outside a simulation.
pub fn yield_now() -> YieldNow {
    YieldNow { yielded: false }
}

/// The future of [`yield_now`].
#[must_use = "yield_now does nothing unless awaited"]
#[derive(Debug)]
pub struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// The control handle of the world running on this thread.
///
/// # Panics
///
/// Panics when called outside a simulation.
#[track_caller]
pub fn handle() -> SimHandle {
    SimHandle::current()
}

/// The node of the calling task: `None` for the test harness, and outside
/// any simulation (so code shared with production can ask safely).
pub fn current_node() -> Option<NodeId> {
    crate::world::with_world_opt(|w| w.current_node()).flatten()
}

/// The calling task's view of its node, as passed to a node's init.
///
/// # Panics
///
/// Panics when called outside a simulation.
#[track_caller]
pub fn context() -> NodeContext {
    with_world("detsim::context", |w| w.context())
}
