//! The history recorder and the linearizability checker, through the public API.

mod batch;
mod budget;
mod classic;
mod cross_check;
mod html;
mod models;
mod recording;

use detsim::history::{History, Operation, Outcome};
use detsim::time::Instant;

/// An operation that completed ok, called at `call` and returning at `returned` (nanoseconds).
fn ok<I, O>(client: u64, input: I, output: O, call: u64, returned: u64) -> Operation<I, O> {
    Operation {
        client,
        input,
        call: Instant::from_nanos(call),
        outcome: Outcome::Ok {
            output,
            at: Instant::from_nanos(returned),
        },
    }
}

/// An operation still pending at the end: its outcome is unknown.
fn pending<I, O>(client: u64, input: I, call: u64) -> Operation<I, O> {
    Operation {
        client,
        input,
        call: Instant::from_nanos(call),
        outcome: Outcome::Unknown { at: None },
    }
}

/// An operation the client gave up on at `gave_up`: its outcome is unknown.
fn timed_out<I, O>(client: u64, input: I, call: u64, gave_up: u64) -> Operation<I, O> {
    Operation {
        client,
        input,
        call: Instant::from_nanos(call),
        outcome: Outcome::Unknown {
            at: Some(Instant::from_nanos(gave_up)),
        },
    }
}

/// An operation that definitely did not take effect.
fn failed<I, O>(client: u64, input: I, call: u64, returned: u64) -> Operation<I, O> {
    Operation {
        client,
        input,
        call: Instant::from_nanos(call),
        outcome: Outcome::Failed {
            at: Instant::from_nanos(returned),
        },
    }
}

fn history<I, O>(operations: Vec<Operation<I, O>>) -> History<I, O> {
    History::from_operations(operations).expect("a well-formed history")
}
