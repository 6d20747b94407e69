//! The recorder clients write their operations to.

use std::cell::RefCell;
use std::fmt::{self, Debug};
use std::rc::Rc;

use super::recorded::check_operation;
use super::{History, OpId, Operation, Outcome};
use crate::time::Instant;

#[track_caller]
fn true_now(api: &'static str) -> Instant {
    crate::world::with_world(api, |w| w.now())
}

/// Adds a `history.*` event to the trace of the running world: the numbers
/// (operation, client) are fingerprinted; the label is only rendered when
/// the trace is recorded.
#[track_caller]
fn emit(
    api: &'static str,
    name: &'static str,
    op: OpId,
    client: u64,
    label: impl FnOnce() -> String,
) {
    crate::world::with_world(api, |w| {
        w.emit_ext(
            w.current_node(),
            name,
            [op.index() as u64, client, 0, 0],
            label,
        );
    });
}

/// How a recorder words an operation in the trace.
type Describer<I, O> = Rc<dyn Fn(&I, Option<&O>) -> String>;

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
pub struct Recorder<I, O> {
    history: Rc<RefCell<History<I, O>>>,
    describe: Option<Describer<I, O>>,
}

impl<I: Debug, O: Debug> Debug for Recorder<I, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recorder")
            .field("history", &self.history)
            .finish_non_exhaustive()
    }
}

impl<I, O> Clone for Recorder<I, O> {
    fn clone(&self) -> Self {
        Recorder {
            history: Rc::clone(&self.history),
            describe: self.describe.clone(),
        }
    }
}

impl<I, O> Default for Recorder<I, O> {
    fn default() -> Self {
        Recorder {
            history: Rc::new(RefCell::new(History::default())),
            describe: None,
        }
    }
}

impl<I, O> Recorder<I, O> {
    /// Words operations with `describe` (usually the model's
    /// [`describe_operation`](super::Model::describe_operation)) in the
    /// trace's `history.*` events, which the run viewer draws; the default is
    /// the input's and output's `Debug` form.
    ///
    /// # Examples
    ///
    /// ```
    /// use detsim::history::{KeyValue, KvInput, KvOutput, Model, Recorder};
    ///
    /// let model = KeyValue::<&str, u64>::default();
    /// let recorder: Recorder<KvInput<&str, u64>, KvOutput<u64>> =
    ///     Recorder::default().describe_with(move |input, output| model.describe_operation(input, output));
    /// # let _ = recorder;
    /// ```
    pub fn describe_with(mut self, describe: impl Fn(&I, Option<&O>) -> String + 'static) -> Self {
        self.describe = Some(Rc::new(describe));
        self
    }

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
    ///
    /// In a world, the call is also a `history.invoke` event of the trace
    /// (args: operation, client), on the calling node.
    #[track_caller]
    pub fn invoke(&self, client: u64, input: I) -> OpId
    where
        I: Debug,
        O: Debug,
    {
        let op = self.invoke_at(client, input, true_now("Recorder::invoke"));
        self.emit_op("Recorder::invoke", "history.invoke", op);
        op
    }

    /// Emits `history.<name>` for an operation, worded with its output if it has one.
    #[track_caller]
    fn emit_op(&self, api: &'static str, name: &'static str, op: OpId)
    where
        I: Debug,
        O: Debug,
    {
        let history = self.history.borrow();
        let Some(operation) = history.operations().get(op.index()) else {
            return;
        };
        let client = operation.client;
        emit(api, name, op, client, || match &self.describe {
            Some(describe) => describe(&operation.input, operation.output()),
            None => match operation.output() {
                Some(output) => format!("{:?} → {output:?}", operation.input),
                None => format!("{:?}", operation.input),
            },
        });
    }

    /// Records that `op` took effect and returned `output` now (true virtual time).
    ///
    /// # Panics
    ///
    /// As [`Recorder::ok_at`], and outside a simulation.
    #[track_caller]
    pub fn ok(&self, op: OpId, output: O)
    where
        I: Debug,
        O: Debug,
    {
        self.ok_at(op, output, true_now("Recorder::ok"));
        self.emit_op("Recorder::ok", "history.ok", op);
    }

    /// Records that `op` definitely did not take effect, learnt now.
    ///
    /// # Panics
    ///
    /// As [`Recorder::ok_at`], and outside a simulation.
    #[track_caller]
    pub fn fail(&self, op: OpId)
    where
        I: Debug,
        O: Debug,
    {
        self.fail_at(op, true_now("Recorder::fail"));
        self.emit_op("Recorder::fail", "history.fail", op);
    }

    /// Records that the client gave up on `op` now without knowing its outcome.
    ///
    /// # Panics
    ///
    /// As [`Recorder::ok_at`], and outside a simulation.
    #[track_caller]
    pub fn unknown(&self, op: OpId)
    where
        I: Debug,
        O: Debug,
    {
        self.unknown_at(op, true_now("Recorder::unknown"));
        self.emit_op("Recorder::unknown", "history.unknown", op);
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
