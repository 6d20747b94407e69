//! The recorder clients write their operations to.

use std::cell::RefCell;
use std::rc::Rc;

use super::recorded::check_operation;
use super::{History, OpId, Operation, Outcome};
use crate::time::Instant;

#[track_caller]
fn true_now(api: &'static str) -> Instant {
    crate::world::with_world(api, |w| w.now())
}

/// Where the clients of a simulated test record what they asked and what they saw.
///
/// Cheap to clone: every clone writes to the same history, so each simulated client
/// task can own one. A world is single threaded, so the recorder is neither `Send`
/// nor `Sync`. Times are given explicitly (virtual time, usually the simulation's clock).
///
/// An operation that is never completed is, at the end, an operation whose outcome
/// is unknown: it may have taken effect at any point after its call, or never.
///
/// # Examples
///
/// ```
/// use detsim::history::{Recorder, RegisterInput, RegisterOutput};
/// use detsim::time::Instant;
///
/// let recorder = Recorder::default();
/// let t = Instant::from_nanos;
/// let write = recorder.invoke_at(1, RegisterInput::Write(3), t(10));
/// let read = recorder.invoke_at(2, RegisterInput::Read, t(12));
/// recorder.ok_at(write, RegisterOutput::Written, t(20));
/// recorder.ok_at(read, RegisterOutput::Read(3), t(25));
/// assert_eq!(recorder.history().len(), 2);
/// ```
#[derive(Debug)]
pub struct Recorder<I, O> {
    history: Rc<RefCell<History<I, O>>>,
}

impl<I, O> Clone for Recorder<I, O> {
    fn clone(&self) -> Self {
        Recorder {
            history: Rc::clone(&self.history),
        }
    }
}

impl<I, O> Default for Recorder<I, O> {
    fn default() -> Self {
        Recorder {
            history: Rc::new(RefCell::new(History::default())),
        }
    }
}

impl<I, O> Recorder<I, O> {
    /// Records that `client` called an operation with `input` at `at`.
    ///
    /// Returns the id to complete it with.
    pub fn invoke_at(&self, client: u64, input: I, at: Instant) -> OpId {
        self.history.borrow_mut().push(Operation {
            client,
            input,
            call: at,
            outcome: Outcome::Unknown { at: None },
        })
    }

    /// Records that `op` took effect and returned `output` at `at`.
    ///
    /// # Panics
    ///
    /// Panics if `op` was not invoked on this recorder, was already completed, or
    /// is completed before its call.
    pub fn ok_at(&self, op: OpId, output: O, at: Instant) {
        self.complete(op, Outcome::Ok { output, at });
    }

    /// Records that `op` definitely did not take effect, as learnt at `at`.
    ///
    /// # Panics
    ///
    /// As [`Recorder::ok_at`].
    pub fn fail_at(&self, op: OpId, at: Instant) {
        self.complete(op, Outcome::Failed { at });
    }

    /// Records that the client gave up on `op` at `at` without knowing whether it took
    /// effect (a timeout, a crash). It may still take effect later, or never.
    ///
    /// # Panics
    ///
    /// As [`Recorder::ok_at`].
    pub fn unknown_at(&self, op: OpId, at: Instant) {
        self.complete(op, Outcome::Unknown { at: Some(at) });
    }

    /// Records that `client` called an operation with `input` now.
    ///
    /// "Now" is the world's **true** virtual time, not the calling node's
    /// possibly skewed clock: real-time order between clients is what
    /// linearizability is judged against.
    ///
    /// # Panics
    ///
    /// Panics outside a simulation (use [`Recorder::invoke_at`] there).
    #[track_caller]
    pub fn invoke(&self, client: u64, input: I) -> OpId {
        self.invoke_at(client, input, true_now("Recorder::invoke"))
    }

    /// Records that `op` took effect and returned `output` now (true virtual time).
    ///
    /// # Panics
    ///
    /// As [`Recorder::ok_at`], and outside a simulation.
    #[track_caller]
    pub fn ok(&self, op: OpId, output: O) {
        self.ok_at(op, output, true_now("Recorder::ok"));
    }

    /// Records that `op` definitely did not take effect, learnt now.
    ///
    /// # Panics
    ///
    /// As [`Recorder::ok_at`], and outside a simulation.
    #[track_caller]
    pub fn fail(&self, op: OpId) {
        self.fail_at(op, true_now("Recorder::fail"));
    }

    /// Records that the client gave up on `op` now without knowing its outcome.
    ///
    /// # Panics
    ///
    /// As [`Recorder::ok_at`], and outside a simulation.
    #[track_caller]
    pub fn unknown(&self, op: OpId) {
        self.unknown_at(op, true_now("Recorder::unknown"));
    }

    /// A copy of the history so far; operations still pending have an unknown outcome.
    pub fn history(&self) -> History<I, O>
    where
        I: Clone,
        O: Clone,
    {
        self.history.borrow().clone()
    }

    fn complete(&self, op: OpId, outcome: Outcome<O>) {
        let mut history = self.history.borrow_mut();
        let count = history.len();
        let operation = history.operation_mut(op).unwrap_or_else(|| {
            panic!("{op} was not invoked on this recorder (it holds {count} operations)")
        });
        assert!(
            matches!(operation.outcome, Outcome::Unknown { at: None }),
            "{op} already has an outcome; record exactly one outcome per operation"
        );
        let completed = Operation {
            client: operation.client,
            input: (),
            call: operation.call,
            outcome,
        };
        if let Err(error) = check_operation(op, &completed) {
            panic!("{error}; complete an operation at or after its call");
        }
        operation.outcome = completed.outcome;
    }
}
