//! Histories and linearizability checking: record what clients saw, and prove it
//! linearizable or show exactly why not.
//!
//! - [`Recorder`] (`recorder.rs`): clients record each operation's call and outcome
//!   (ok, failed, or unknown) at a virtual [`Instant`](crate::time::Instant).
//! - [`History`] (`recorded.rs`, `operation.rs`): the recorded operations, plain data
//!   that round-trips through JSON lines.
//! - [`Model`] (`model.rs`): a sequential specification, possibly nondeterministic, that
//!   may split a history into independent partitions. Ready-made models (`models/`):
//!   [`Register`], [`KeyValue`], [`Queue`], [`Set`], [`Log`].
//! - [`Checker`] (`checker.rs`, `search.rs`, `memo.rs`): the Wing–Gong/Lowe search with
//!   memoization, partitions in parallel, per-partition budgets of time, steps and memory;
//!   the result, [`CheckResult`] (`verdict.rs`), carries a [`Counterexample`].
//! - [`check_brute_force`] (`brute.rs`): a slow reference checker for tests.
//! - [`render_html`] (`html.rs`): a self-contained picture of a history and its result.
//!
//! # Examples
//!
//! ```
//! use detsim::history::{Checker, KeyValue, KvInput, KvOutput, Recorder};
//! use detsim::time::Instant;
//!
//! let recorder = Recorder::default();
//! let t = Instant::from_nanos;
//! let put = recorder.invoke_at(1, KvInput::Put("x", 1), t(0));
//! let get = recorder.invoke_at(2, KvInput::Get("x"), t(5)); // concurrent with the put
//! recorder.ok_at(get, KvOutput::Get(Some(1)), t(8));
//! recorder.ok_at(put, KvOutput::Put, t(10));
//!
//! let result = Checker::new(KeyValue::default()).check(&recorder.history());
//! assert!(result.is_linearizable());
//! ```

mod brute;
mod checker;
mod error;
mod html;
mod memo;
mod model;
mod models;
mod operation;
mod recorded;
mod recorder;
mod search;
mod verdict;

pub use brute::{BRUTE_FORCE_OPERATIONS_MAX, check_brute_force};
pub use checker::{Checker, CheckerOptions, check};
pub use error::HistoryError;
pub use html::render_html;
pub use model::{Model, Next, Partition};
pub use models::{
    KeyValue, KvInput, KvOutput, Log, LogInput, LogOutput, Queue, QueueInput, QueueOutput,
    Register, RegisterInput, RegisterOutput, Set, SetInput, SetOutput,
};
pub use operation::{OpId, Operation, Outcome};
pub use recorded::History;
pub use recorder::Recorder;
pub use verdict::{
    CheckResult, Counterexample, Linearized, Undecided, UndecidedReason, Unplaced, UnplacedReason,
};
