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
            // A task poll catches its panics too (see `catch_polled`).
            if CATCHING.with(Cell::get) > 0 || crate::world::mirror_polling() {
                let location = info.location().map(|l| l.to_string());
                LAST.with(|last| *last.borrow_mut() = location);
            } else {
                previous(info);
            }
        }));
    });
}

/// Installs the panic hook (once per process); call before [`catch_raw`].
#[inline]
pub(crate) fn install() {
    if !HOOK.is_completed() && !std::thread::panicking() {
        install_hook();
    }
}

/// The payload of a caught panic.
pub(crate) type Payload = Box<dyn std::any::Any + Send>;

/// Runs `f`, catching a panic as its payload: the executor's per-poll path
/// ([`install`] the hook first). [`Panic::from_payload`] reads it.
#[inline]
pub(crate) fn catch_raw<R>(f: impl FnOnce() -> R + UnwindSafe) -> Result<R, Payload> {
    CATCHING.with(|c| c.set(c.get() + 1));
    let result = std::panic::catch_unwind(f);
    CATCHING.with(|c| c.set(c.get() - 1));
    result
}

/// Runs `f`, a task's poll, catching a panic as its payload: the caller has
/// marked the poll in the world's mirror, which the hook reads as it reads
/// [`catch_raw`]'s count (one flag for both, set once per poll).
#[inline]
pub(crate) fn catch_polled<R>(f: impl FnOnce() -> R + UnwindSafe) -> Result<R, Payload> {
    debug_assert!(crate::world::mirror_polling(), "the poll is marked");
    std::panic::catch_unwind(f)
}

/// Runs `f`, turning a panic into a [`Panic`].
pub(crate) fn catch<R>(f: impl FnOnce() -> R + UnwindSafe) -> Result<R, Panic> {
    install();
    catch_raw(f).map_err(Panic::from_payload)
}

impl Panic {
    /// The message and location of a caught panic. (A task's unwind out of
    /// crashing its own node is no panic: the executor checks
    /// [`Panic::crashed_itself`] first.)
    #[cold]
    #[inline(never)]
    pub(crate) fn from_payload(payload: Payload) -> Panic {
        if payload.is::<CrashedItself>() {
            return Panic {
                message: String::new(),
                location: None,
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
        Panic { message, location }
    }

    /// Whether the payload is a task's unwind out of crashing its own node
    /// (see [`crash_unwind`]).
    #[inline]
    pub(crate) fn crashed_itself(payload: &Payload) -> bool {
        payload.is::<CrashedItself>()
    }
}
