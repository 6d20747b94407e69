//! The fast checker against the brute-force one, on thousands of small random histories
//! of every ready-made model and a nondeterministic one: histories produced by a
//! sequential execution with random overlaps (linearizable by construction), and
//! mutations of them (often not).

use std::cell::{Cell, RefCell};
use std::collections::{BTreeSet, VecDeque};

use detsim::history::{
    Checker, CheckerOptions, History, KeyValue, KvInput, KvOutput, Log, LogInput, LogOutput, Model,
    Next, Operation, Outcome, Queue, QueueInput, QueueOutput, Register, RegisterInput,
    RegisterOutput, Set, SetInput, SetOutput, check_brute_force,
};
use detsim::time::Instant;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};

use super::models::LossyRegister;

/// Histories per model; seven models make fourteen thousand.
const CASES: u32 = 2000;
const OPERATIONS_MAX: usize = 9;

/// One operation of a generated sequential execution.
#[derive(Clone, Debug)]
struct RawOp {
    client: u64,
    kind: u8,
    a: u8,
    b: u8,
    /// For a nondeterministic reference: which way it goes.
    choice: u8,
    /// How long before its linearization point it is called, and after it returns.
    call_early: u64,
    return_late: u64,
    /// 0..=6: ok; 7: took effect, outcome unknown; 8: no effect, unknown; 9: failed.
    fate: u8,
}

#[derive(Clone, Debug)]
enum Mutation {
    SwapOutputs(Index, Index),
    SwapTimes(Index, Index),
    Shift(Index, i64),
    ForgetEffect(Index),
}

fn raw_op() -> impl Strategy<Value = RawOp> {
    (
        0..3u64,
        0..4u8,
        0..3u8,
        0..3u8,
        0..2u8,
        0..35u64,
        0..35u64,
        0..10u8,
    )
        .prop_map(
            |(client, kind, a, b, choice, call_early, return_late, fate)| RawOp {
                client,
                kind,
                a,
                b,
                choice,
                call_early,
                return_late,
                fate,
            },
        )
}

/// No mutation a third of the time, else one to three.
fn mutations() -> impl Strategy<Value = Vec<Mutation>> {
    let mutation = prop_oneof![
        2 => (any::<Index>(), any::<Index>()).prop_map(|(i, j)| Mutation::SwapOutputs(i, j)),
        2 => (any::<Index>(), any::<Index>()).prop_map(|(i, j)| Mutation::SwapTimes(i, j)),
        2 => (any::<Index>(), -60..60i64).prop_map(|(i, delta)| Mutation::Shift(i, delta)),
        1 => any::<Index>().prop_map(Mutation::ForgetEffect),
    ];
    prop_oneof![1 => Just(Vec::new()), 2 => prop::collection::vec(mutation, 1..=3)]
}

/// A model and an independent reference implementation that computes outputs, or
/// `None` when it refuses the operation (recorded as failed, without effect).
struct Spec<M: Model, R> {
    model: M,
    init: R,
    input: fn(u8, u8, u8) -> M::Input,
    apply: fn(&mut R, &M::Input, u8) -> Option<M::Output>,
}

/// Runs the sequential execution of `raw`, stretches each operation around its
/// linearization point, then applies `mutations`.
fn build<M: Model, R: Clone>(
    spec: &Spec<M, R>,
    raw: &[RawOp],
    mutations: &[Mutation],
) -> History<M::Input, M::Output>
where
    M::Output: Clone,
{
    let mut state = spec.init.clone();
    let mut operations: Vec<Operation<M::Input, M::Output>> = Vec::new();
    for (position, op) in raw.iter().enumerate() {
        let point = 40 + 20 * position as u64;
        let call = Instant::from_nanos(point - op.call_early);
        let returned = Instant::from_nanos(point + op.return_late);
        let input = (spec.input)(op.kind, op.a, op.b);
        let outcome = match op.fate {
            0..=7 => match (spec.apply)(&mut state, &input, op.choice) {
                Some(output) if op.fate < 7 => Outcome::Ok {
                    output,
                    at: returned,
                },
                Some(_) => Outcome::Unknown {
                    at: (op.choice == 0).then_some(returned),
                },
                None => Outcome::Failed { at: returned },
            },
            8 => Outcome::Unknown { at: None },
            _ => Outcome::Failed { at: returned },
        };
        operations.push(Operation {
            client: op.client,
            input,
            call,
            outcome,
        });
    }
    for mutation in mutations {
        mutate(&mut operations, mutation);
    }
    History::from_operations(operations).expect("mutations keep operations well formed")
}

fn mutate<I, O: Clone>(operations: &mut [Operation<I, O>], mutation: &Mutation) {
    let count = operations.len();
    match mutation {
        Mutation::SwapOutputs(i, j) => {
            let (i, j) = (i.index(operations.len()), j.index(operations.len()));
            if let (Some(x), Some(y)) = (
                operations[i].output().cloned(),
                operations[j].output().cloned(),
            ) {
                set_output(&mut operations[i], y);
                set_output(&mut operations[j], x);
            }
        }
        Mutation::Shift(i, delta) => {
            let operation = &mut operations[i.index(count)];
            let shift =
                |at: Instant| Instant::from_nanos(at.as_nanos().saturating_add_signed(*delta));
            operation.call = shift(operation.call);
            match &mut operation.outcome {
                Outcome::Ok { at, .. }
                | Outcome::Failed { at }
                | Outcome::Unknown { at: Some(at) } => *at = shift(*at),
                Outcome::Unknown { at: None } => {}
            }
        }
        Mutation::ForgetEffect(i) => {
            // Claims an operation that took effect definitely did not.
            let operation = &mut operations[i.index(count)];
            let at = operation.returned().unwrap_or(operation.call);
            operation.outcome = Outcome::Failed { at };
        }
        Mutation::SwapTimes(i, j) => {
            // Moves two operations to each other's place in time, outcomes unchanged.
            let (i, j) = (i.index(count), j.index(count));
            let (call_i, call_j) = (operations[i].call, operations[j].call);
            let length =
                |operation: &Operation<I, O>| operation.returned().map(|at| at - operation.call);
            let (length_i, length_j) = (length(&operations[i]), length(&operations[j]));
            for (k, call, length) in [(i, call_j, length_j), (j, call_i, length_i)] {
                operations[k].call = call;
                match (&mut operations[k].outcome, length) {
                    (
                        Outcome::Ok { at, .. }
                        | Outcome::Failed { at }
                        | Outcome::Unknown { at: Some(at) },
                        Some(length),
                    ) => {
                        *at = call + length;
                    }
                    (
                        Outcome::Ok { at, .. }
                        | Outcome::Failed { at }
                        | Outcome::Unknown { at: Some(at) },
                        None,
                    ) => *at = call,
                    (Outcome::Unknown { at: None }, _) => {}
                }
            }
        }
    }
}

fn set_output<I, O>(operation: &mut Operation<I, O>, new: O) {
    if let Outcome::Ok { output, .. } = &mut operation.outcome {
        *output = new;
    }
}

/// Compares the checkers on `CASES` histories, and asserts both verdicts were common.
fn cross_check<M, R>(spec: Spec<M, R>)
where
    M: Model + Sync,
    M::Input: Sync + Clone + std::fmt::Debug,
    M::Output: Sync + Clone + std::fmt::Debug,
    M::State: Send,
    R: Clone,
{
    let checker = RefCell::new(Checker::with_options(
        &spec.model,
        CheckerOptions {
            threads: 1,
            ..Default::default()
        },
    ));
    let (linearizable, not_linearizable) = (Cell::new(0u32), Cell::new(0u32));
    let strategy = (
        prop::collection::vec(raw_op(), 2..=OPERATIONS_MAX),
        mutations(),
    );
    let config = Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::deterministic_rng(RngAlgorithm::ChaCha));
    let outcome = runner.run(&strategy, |(raw, mutations)| {
        let history = build(&spec, &raw, &mutations);
        let fast = checker.borrow_mut().check(&history);
        let brute = check_brute_force(&spec.model, &history);
        prop_assert!(!fast.is_unknown(), "a small history is decided: {fast}");
        prop_assert_eq!(
            fast.is_linearizable(),
            brute,
            "fast: {}\nhistory:\n{:#?}",
            fast,
            history
        );
        if mutations.is_empty() {
            prop_assert!(
                brute,
                "a sequential execution is linearizable:\n{:#?}",
                history
            );
        }
        match fast.counterexample() {
            None => linearizable.set(linearizable.get() + 1),
            Some(counterexample) => {
                not_linearizable.set(not_linearizable.get() + 1);
                check_counterexample(&spec.model, &history, counterexample)?;
            }
        }
        Ok(())
    });
    if let Err(failure) = outcome {
        panic!("{failure}");
    }
    let (yes, no) = (linearizable.get(), not_linearizable.get());
    println!("{yes} linearizable, {no} not");
    assert!(
        yes >= CASES / 5 && no >= CASES / 25,
        "too one-sided to test much: {yes} linearizable, {no} not"
    );
}

/// A counterexample's prefix is a real linearization of those operations, consistent with
/// real time, and something is left that cannot be placed.
fn check_counterexample<M: Model>(
    model: &M,
    history: &History<M::Input, M::Output>,
    counterexample: &detsim::history::Counterexample,
) -> Result<(), TestCaseError> {
    let mut states = vec![model.init()];
    for step in &counterexample.prefix {
        let operation = history.operation(step.op);
        let next: Vec<_> = states
            .iter()
            .flat_map(|state| {
                model
                    .step(state, &operation.input, operation.output())
                    .into_vec()
            })
            .collect();
        states = next
            .into_iter()
            .filter(|state| model.describe_state(state) == step.state)
            .collect();
        prop_assert!(
            !states.is_empty(),
            "{} cannot follow the prefix before it",
            step.op
        );
    }
    for (position, earlier) in counterexample.prefix.iter().enumerate() {
        for later in &counterexample.prefix[position + 1..] {
            let later = history.operation(later.op);
            let ended_first = later.is_ok()
                && later
                    .returned()
                    .is_some_and(|at| at < history.operation(earlier.op).call);
            prop_assert!(
                !ended_first,
                "the prefix puts an operation after one that returned before its call"
            );
        }
    }
    prop_assert!(
        !counterexample.unplaced.is_empty(),
        "a counterexample names what cannot be placed"
    );
    Ok(())
}

#[test]
fn the_register_checker_agrees_with_brute_force() {
    // Proves the search is exact for reads, writes and compare-and-sets, with unknown and failed outcomes.
    cross_check(Spec {
        model: Register::new(0u8),
        init: 0u8,
        input: |kind, a, b| match kind {
            0 | 3 => RegisterInput::Read,
            1 => RegisterInput::Write(a),
            _ => RegisterInput::Cas {
                expected: a,
                new: b,
            },
        },
        apply: |state, input, _| {
            Some(match input {
                RegisterInput::Read => RegisterOutput::Read(*state),
                RegisterInput::Write(value) => {
                    *state = *value;
                    RegisterOutput::Written
                }
                RegisterInput::Cas { expected, new } => {
                    let swapped = state == expected;
                    if swapped {
                        *state = *new;
                    }
                    RegisterOutput::Cas(swapped)
                }
            })
        },
    });
}

#[test]
fn the_key_value_checker_agrees_with_brute_force() {
    // Proves per-key partitions change no verdict.
    cross_check(Spec {
        model: KeyValue::<u8, u8>::default(),
        init: [None::<u8>; 2],
        input: |kind, a, b| match kind {
            0 => KvInput::Get(a % 2),
            1 => KvInput::Put(a % 2, b),
            2 => KvInput::Delete(a % 2),
            _ => KvInput::Cas {
                key: a % 2,
                expected: (b > 0).then_some(b),
                new: a,
            },
        },
        apply: |map, input, _| {
            Some({
                let slot = &mut map[usize::from(*input.key())];
                match input {
                    KvInput::Get(_) => KvOutput::Get(*slot),
                    KvInput::Put(_, value) => {
                        *slot = Some(*value);
                        KvOutput::Put
                    }
                    KvInput::Delete(_) => {
                        *slot = None;
                        KvOutput::Delete
                    }
                    KvInput::Cas { expected, new, .. } => {
                        let swapped = slot == expected;
                        if swapped {
                            *slot = Some(*new);
                        }
                        KvOutput::Cas(swapped)
                    }
                }
            })
        },
    });
}

#[test]
fn the_queue_checker_agrees_with_brute_force() {
    // Proves the search is exact for a model whose state grows.
    cross_check(Spec {
        model: Queue::<u8>::default(),
        init: VecDeque::<u8>::new(),
        input: |kind, a, _| {
            if kind < 2 {
                QueueInput::Enqueue(a)
            } else {
                QueueInput::Dequeue
            }
        },
        apply: |queue, input, _| {
            Some(match input {
                QueueInput::Enqueue(value) => {
                    queue.push_back(*value);
                    QueueOutput::Enqueued
                }
                QueueInput::Dequeue => QueueOutput::Dequeued(queue.pop_front()),
            })
        },
    });
}

#[test]
fn the_set_checker_agrees_with_brute_force() {
    // Proves per-element partitions (and whole-set reads) change no verdict.
    cross_check(Spec {
        model: Set::<u8>::default(),
        init: BTreeSet::<u8>::new(),
        input: |kind, a, b| match kind {
            0 => SetInput::Add(a),
            1 => SetInput::Remove(a),
            2 => SetInput::Contains(a),
            _ if b == 0 => SetInput::Read,
            _ => SetInput::Contains(b),
        },
        apply: |set, input, _| {
            Some(match input {
                SetInput::Add(value) => {
                    set.insert(*value);
                    SetOutput::Added
                }
                SetInput::Remove(value) => {
                    set.remove(value);
                    SetOutput::Removed
                }
                SetInput::Contains(value) => SetOutput::Contains(set.contains(value)),
                SetInput::Read => SetOutput::Read(set.clone()),
            })
        },
    });
}

#[test]
fn the_log_checker_agrees_with_brute_force() {
    // Proves the search is exact for appends with and without offsets, and whole reads.
    cross_check(Spec {
        model: Log::<u8>::default(),
        init: Vec::<u8>::new(),
        input: |kind, a, _| {
            if kind < 2 {
                LogInput::Append(a)
            } else {
                LogInput::Read
            }
        },
        apply: |log, input, choice| {
            Some(match input {
                LogInput::Append(value) => {
                    log.push(*value);
                    LogOutput::Appended((choice == 0).then_some(log.len() as u64 - 1))
                }
                LogInput::Read => LogOutput::Read(log.clone()),
            })
        },
    });
}

#[test]
fn the_nondeterministic_checker_agrees_with_brute_force() {
    // Proves the search is exact when a step may lead to several states.
    cross_check(Spec {
        model: LossyRegister,
        init: 0u8,
        input: |kind, a, _| if kind < 2 { Some(a) } else { None },
        apply: |state, input, choice| {
            Some(match input {
                Some(value) => {
                    let replaced = *state;
                    if choice == 0 {
                        *state = *value;
                    }
                    replaced
                }
                None => *state,
            })
        },
    });
}

/// A lock: acquiring a held lock or releasing a free one cannot happen (a partial model).
struct Lock;

impl Model for Lock {
    type State = bool;
    type Input = bool; // true: acquire, false: release
    type Output = ();

    fn init(&self) -> bool {
        false
    }

    fn step(&self, held: &bool, acquire: &bool, _: Option<&()>) -> Next<bool> {
        Next::when(held != acquire, *acquire)
    }
}

#[test]
fn the_lock_checker_agrees_with_brute_force() {
    // Proves unknown operations are optional, not merely placeable last, for a model
    // where some operations cannot happen in some states.
    cross_check(Spec {
        model: Lock,
        init: false,
        input: |kind, _, _| kind < 2,
        apply: |held, acquire, _| {
            if held == acquire {
                return None;
            }
            *held = *acquire;
            Some(())
        },
    });
}
