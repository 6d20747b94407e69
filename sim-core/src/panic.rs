//! Catching task panics with their message and location.
//!
//! A process-wide panic hook (installed once) records the location of panics
//! on threads that are running a simulation step, and keeps them off the
//! console: the failure report prints them, with the seed. Other panics go to
//! the previous hook unchanged.

use std::cell::{Cell, RefCell};
use std::panic::{AssertUnwindSafe, PanicHookInfo, UnwindSafe};
use std::sync::Once;

pub(crate) struct Panic {
    pub(crate) message: String,
    pub(crate) location: Option<String>,
    /// Not a panic: a task crashed its own node and unwound out of its poll
    /// (see [`crash_unwind`]).
    pub(crate) crashed_itself: bool,
}

/// The payload of the unwind that stops a task which crashed its own node.
struct CrashedItself;

/// Stops the calling task at once: it crashed its own node, so nothing of
/// it may run past this point. Unwinds to the executor's poll (without the
/// panic hook: this is not a panic), which drops the task as crashed.
pub(crate) fn crash_unwind() -> ! {
    std::panic::resume_unwind(Box::new(CrashedItself))
}

thread_local! {
    static CATCHING: Cell<u32> = const { Cell::new(0) };
    static LAST: RefCell<Option<String>> = const { RefCell::new(None) };
}

static HOOK: Once = Once::new();

fn install_hook() {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info: &PanicHookInfo<'_>| {
            if CATCHING.with(Cell::get) > 0 {
                let location = info.location().map(|l| l.to_string());
                LAST.with(|last| *last.borrow_mut() = location);
            } else {
                previous(info);
            }
        }));
    });
}

/// Runs `f`, turning a panic into a [`Panic`].
pub(crate) fn catch<R>(f: impl FnOnce() -> R + UnwindSafe) -> Result<R, Panic> {
    if !std::thread::panicking() {
        install_hook();
    }
    CATCHING.with(|c| c.set(c.get() + 1));
    let result = std::panic::catch_unwind(f);
    CATCHING.with(|c| c.set(c.get() - 1));
    result.map_err(|payload| {
        if payload.is::<CrashedItself>() {
            return Panic {
                message: String::new(),
                location: None,
                crashed_itself: true,
            };
        }
        let message = if let Some(s) = payload.downcast_ref::<&str>() {
            (*s).to_owned()
        } else if let Some(s) = payload.downcast_ref::<String>() {
            s.clone()
        } else {
            "<a panic payload that is not a string>".to_owned()
        };
        let location = LAST.with(|last| last.borrow_mut().take());
        // Dropping the payload could itself panic: keep that out of the world.
        let _ = std::panic::catch_unwind(AssertUnwindSafe(move || drop(payload)));
        Panic {
            message,
            location,
            crashed_itself: false,
        }
    })
}
