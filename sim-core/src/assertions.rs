//! `always!`, `sometimes!`, `buggify!`, and liveness goals.
//!
//! `always!` fails the run when its condition is false. `sometimes!` never
//! fails anything: a sweep counts how often each one held, and its summary
//! lists those that never did — a sign that the faults never drove the system
//! into that state. Both are inspired by Antithesis' assertions.

use std::future::Future;
use std::time::Duration;

use crate::error::Cause;
use crate::runtime::timeout_on;
use crate::time::Instant;
use crate::world::{with_world, with_world_opt};

/// Fails the run if `cond` is false; counts evaluations for the sweep summary.
///
/// The message is a literal, optionally a format string with arguments
/// (`always!(a <= b, "commit index {} never exceeds {}", a, b)`). The
/// literal as written names the assertion: coverage is counted under it and
/// a minimizer compares failures by it, so the arguments may change from run
/// to run; they are formatted only when the condition is false.
///
/// Outside a simulation a false condition panics, like `assert!`.
///
/// # Examples
///
/// ```
/// use detsim::{Seed, Sim, always};
///
/// let mut sim = Sim::new(Seed::new(1));
/// let failure = sim.run(async {
///     let balance = -5;
///     always!(balance >= 0, "balance is never negative");
/// }).unwrap_err();
/// assert!(failure.to_string().contains("balance is never negative"));
/// ```
#[macro_export]
macro_rules! always {
    ($cond:expr, $name:literal $(,)?) => {
        $crate::assertions::always_at(
            $cond,
            $name,
            concat!(file!(), ":", line!(), ":", column!()),
            || ::std::string::String::from($name),
        )
    };
    ($cond:expr, $name:literal, $($arg:tt)+) => {
        $crate::assertions::always_at(
            $cond,
            $name,
            concat!(file!(), ":", line!(), ":", column!()),
            || ::std::format!($name, $($arg)+),
        )
    };
}

/// Counts whether `cond` held; never fails the run. A sweep lists the
/// `sometimes!` that never held.
///
/// Like [`always!`], the literal names it; format arguments are accepted
/// (so both macros read alike) but never evaluated.
///
/// # Examples
///
/// ```
/// use detsim::{Seed, Sim, sometimes};
///
/// let report = Sim::new(Seed::new(1)).run(async {
///     for i in 0..10 {
///         sometimes!(i == 3, "saw three");
///         sometimes!(i > 10, "saw a big number");
///     }
/// }).unwrap();
/// assert_eq!(report.coverage["saw three"].held, 1);
/// assert_eq!(report.coverage["saw a big number"].held, 0);
/// ```
#[macro_export]
macro_rules! sometimes {
    ($cond:expr, $name:literal $(,)?) => {
        $crate::assertions::sometimes_at($cond, $name)
    };
    ($cond:expr, $name:literal, $($arg:tt)+) => {{
        if false {
            // Type-checks the arguments without evaluating them.
            let _ = ::std::format!($name, $($arg)+);
        }
        $crate::assertions::sometimes_at($cond, $name)
    }};
}

/// `true` on rare occasions, to drive code under test down rare paths
/// (FoundationDB's BUGGIFY): each site is enabled in a quarter of the seeds,
/// and an enabled site fires a quarter of the times it is reached. Always
/// `false` outside a simulation or when the world disables it.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use detsim::{buggify, time};
///
/// async fn flush() {
///     if buggify!() {
///         // A slow flush that production rarely sees.
///         time::sleep(Duration::from_secs(2)).await;
///     }
/// }
/// assert!(!buggify!(), "off outside a simulation");
/// ```
#[macro_export]
macro_rules! buggify {
    () => {
        $crate::assertions::buggify_at(concat!(file!(), ":", line!(), ":", column!()))
    };
}

#[doc(hidden)]
pub fn always_at(
    cond: bool,
    name: &'static str,
    location: &'static str,
    message: impl FnOnce() -> String,
) {
    let inside = with_world_opt(|w| w.assertion(false, name, cond)).is_some();
    if cond {
        return;
    }
    // Formatted outside the world's borrow: the arguments may call into the world.
    let message = message();
    if !inside {
        panic!("always!({name:?}) was false at {location}: {message}");
    }
    with_world_opt(|w| {
        w.fail_now(
            Cause::Always {
                name: name.to_owned(),
                message,
                location: location.to_owned(),
            },
            w.current_node(),
        )
    });
}

#[doc(hidden)]
pub fn sometimes_at(cond: bool, name: &'static str) {
    with_world_opt(|w| w.assertion(true, name, cond));
}

#[doc(hidden)]
pub fn coverage_at(name: &'static str, value: impl FnOnce() -> String) {
    with_world_opt(|w| w.cover_user(name, value));
}

/// Names an abstract state the run reached, for the explorer: a coverage
/// key `user:<name>=<value>` (the value's `Debug` form). An exploring sweep
/// ([`Sweep::explore`](crate::Sweep::explore)) spends its time forking
/// runs that reached rare keys; anywhere else the macro does nothing (the
/// value is not even formatted).
///
/// Keep values small and abstract (a term gap, a role, a count bucket), not
/// raw state: each distinct value is a key of its own.
///
/// # Examples
///
/// ```
/// use detsim::{Seed, Sim, coverage};
///
/// Sim::new(Seed::new(1)).run(async {
///     let (term, entry_term) = (3u64, 2u64);
///     coverage!("leader has an uncommitted entry of an earlier term", term - entry_term);
///     coverage!("reached the end");
/// }).unwrap();
/// ```
#[macro_export]
macro_rules! coverage {
    ($name:literal $(,)?) => {
        $crate::assertions::coverage_at($name, ::std::string::String::new)
    };
    ($name:literal, $value:expr $(,)?) => {
        $crate::assertions::coverage_at($name, || ::std::format!("{:?}", $value))
    };
}

#[doc(hidden)]
pub fn buggify_at(site: &'static str) -> bool {
    with_world_opt(|w| w.buggify(site)).unwrap_or(false)
}

/// Liveness: from true virtual time `after` (when the last fault has healed,
/// say [`Plan::quiet_from`](crate::Plan::quiet_from)), `goal` must complete
/// within `within`; otherwise the run fails with [`Cause::Liveness`], naming
/// the goal and the state `state` describes at the deadline.
///
/// Returns the goal's output.
///
/// # Panics
///
/// Panics when called outside a simulation.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use detsim::{Seed, Sim, liveness, time::{self, Instant}};
///
/// let mut sim = Sim::new(Seed::new(1));
/// let failure = sim.run(async {
///     let never = std::future::pending::<()>();
///     liveness("a leader is elected", Instant::from_nanos(5_000_000_000),
///              Duration::from_secs(10), || "no leader".to_owned(), never).await;
/// }).unwrap_err();
/// assert_eq!(failure.details().time.as_nanos(), 15_000_000_000);
/// assert!(failure.to_string().contains("a leader is elected"));
/// ```
pub async fn liveness<F: Future>(
    name: &'static str,
    after: Instant,
    within: Duration,
    state: impl Fn() -> String,
    goal: F,
) -> F::Output {
    let handle = with_world("detsim::liveness", |w| crate::SimHandle { world: w.id });
    crate::Clock::sleep_until(&handle, after).await;
    match timeout_on(&handle, within, goal).await {
        Ok(output) => output,
        Err(_) => {
            let deadline = handle.now();
            handle.with(|w| {
                w.fail_now(
                    Cause::Liveness {
                        name: name.to_owned(),
                        deadline,
                        state: state(),
                    },
                    w.current_node(),
                )
            });
            std::future::pending().await
        }
    }
}
