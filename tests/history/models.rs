//! The ready-made models, each caught on its characteristic anomaly.

use std::collections::BTreeSet;

use detsim::history::{
    KeyValue, KvInput, KvOutput, Log, LogInput, LogOutput, Model, Next, Queue, QueueInput,
    QueueOutput, Set, SetInput, SetOutput, check, check_brute_force,
};

use super::{history, ok, pending};

#[test]
fn a_queue_must_dequeue_in_fifo_order() {
    // Proves the queue model rejects a reordering and accepts the right order.
    let history_of = |first: u8| {
        history(vec![
            ok(1, QueueInput::Enqueue(1), QueueOutput::Enqueued, 0, 10),
            ok(1, QueueInput::Enqueue(2), QueueOutput::Enqueued, 20, 30),
            ok(
                2,
                QueueInput::Dequeue,
                QueueOutput::Dequeued(Some(first)),
                40,
                50,
            ),
        ])
    };
    let model = Queue::default();
    assert!(check(&model, &history_of(1)).is_linearizable());
    assert!(check(&model, &history_of(2)).is_not_linearizable());
    assert!(!check_brute_force(&model, &history_of(2)));
}

#[test]
fn a_queue_loses_nothing_and_duplicates_nothing() {
    // Proves a value dequeued twice, or dequeued from an empty queue, is caught.
    let twice = history(vec![
        ok(1, QueueInput::Enqueue(1), QueueOutput::Enqueued, 0, 10),
        ok(
            2,
            QueueInput::Dequeue,
            QueueOutput::Dequeued(Some(1)),
            20,
            30,
        ),
        ok(
            3,
            QueueInput::Dequeue,
            QueueOutput::Dequeued(Some(1)),
            20,
            30,
        ),
    ]);
    assert!(check(&Queue::default(), &twice).is_not_linearizable());
    let empty = history(vec![
        ok(1, QueueInput::Enqueue(1), QueueOutput::Enqueued, 0, 10),
        ok(2, QueueInput::Dequeue, QueueOutput::Dequeued(None), 20, 30),
    ]);
    assert!(check(&Queue::default(), &empty).is_not_linearizable());
}

#[test]
fn a_set_partitions_by_element_unless_read_whole() {
    // Proves the set model splits per element, and keeps one partition when a read sees everything.
    let operations = vec![
        ok(1, SetInput::Add(1), SetOutput::Added, 0, 10),
        ok(1, SetInput::Add(2), SetOutput::Added, 0, 10),
        ok(2, SetInput::Contains(2), SetOutput::Contains(false), 20, 30),
    ];
    let model = Set::default();
    let partitions = model.partition(history(operations.clone()).operations());
    assert_eq!(
        partitions
            .iter()
            .map(|part| part.label.as_str())
            .collect::<Vec<_>>(),
        ["element 1", "element 2"]
    );
    let result = check(&model, &history(operations.clone()));
    assert_eq!(
        result
            .counterexample()
            .map(|counterexample| counterexample.label.as_str()),
        Some("element 2")
    );

    let mut with_read = operations[..2].to_vec();
    with_read.push(ok(
        2,
        SetInput::Read,
        SetOutput::Read(BTreeSet::from([1])),
        20,
        30,
    ));
    assert_eq!(
        model
            .partition(history(with_read.clone()).operations())
            .len(),
        1
    );
    assert!(check(&model, &history(with_read)).is_not_linearizable());
}

#[test]
fn a_log_keeps_appends_in_order_and_offsets_honest() {
    // Proves the log model rejects reordered reads and wrong offsets.
    let appends = || {
        vec![
            ok(
                1,
                LogInput::Append('a'),
                LogOutput::Appended(Some(0)),
                0,
                10,
            ),
            ok(1, LogInput::Append('b'), LogOutput::Appended(None), 20, 30),
        ]
    };
    let with_read = |seen: Vec<char>| {
        let mut operations = appends();
        operations.push(ok(2, LogInput::Read, LogOutput::Read(seen), 40, 50));
        history(operations)
    };
    let model = Log::default();
    assert!(check(&model, &with_read(vec!['a', 'b'])).is_linearizable());
    assert!(check(&model, &with_read(vec!['b', 'a'])).is_not_linearizable());
    assert!(check(&model, &with_read(vec!['a'])).is_not_linearizable());
    let wrong_offset = history(vec![ok(
        1,
        LogInput::Append('a'),
        LogOutput::Appended(Some(1)),
        0,
        10,
    )]);
    assert!(check(&model, &wrong_offset).is_not_linearizable());
}

#[test]
fn a_key_value_map_checks_keys_independently() {
    // Proves per-key partitions in key order, and that a delete is seen as absence.
    let operations = vec![
        ok(1, KvInput::Put("b", 1), KvOutput::Put, 0, 10),
        ok(1, KvInput::Put("a", 1), KvOutput::Put, 0, 10),
        ok(1, KvInput::Delete("a"), KvOutput::Delete, 20, 30),
        ok(2, KvInput::Get("a"), KvOutput::Get(None), 40, 50),
        ok(2, KvInput::Get("b"), KvOutput::Get(Some(1)), 40, 50),
        ok(
            2,
            KvInput::Cas {
                key: "c",
                expected: None,
                new: 3,
            },
            KvOutput::Cas(true),
            40,
            50,
        ),
        pending(
            3,
            KvInput::Cas {
                key: "b",
                expected: Some(1),
                new: 2,
            },
            60,
        ),
    ];
    let model = KeyValue::default();
    let labels: Vec<_> = model
        .partition(history(operations.clone()).operations())
        .into_iter()
        .map(|part| part.label)
        .collect();
    assert_eq!(labels, ["key \"a\"", "key \"b\"", "key \"c\""]);
    assert!(check(&model, &history(operations.clone())).is_linearizable());

    let mut stale = operations;
    stale.push(ok(2, KvInput::Get("a"), KvOutput::Get(Some(1)), 60, 70));
    let result = check(&model, &history(stale));
    assert_eq!(
        result
            .counterexample()
            .map(|counterexample| counterexample.label.as_str()),
        Some("key \"a\"")
    );
}

/// A register whose writes return the value they replace, and may be lost: a
/// nondeterministic model.
pub(super) struct LossyRegister;

impl Model for LossyRegister {
    type State = u8;
    type Input = Option<u8>; // Some: write, None: read
    type Output = u8; // the value read, or replaced

    fn init(&self) -> u8 {
        0
    }

    fn step(&self, state: &u8, input: &Option<u8>, output: Option<&u8>) -> Next<u8> {
        match input {
            Some(value) if output.is_none_or(|seen| seen == state) => {
                Next::Many(vec![*state, *value])
            }
            Some(_) => Next::Illegal,
            None => Next::when(output.is_none_or(|seen| seen == state), *state),
        }
    }

    fn is_read_only(&self, input: &Option<u8>, _: Option<&u8>) -> bool {
        input.is_none()
    }
}

#[test]
fn a_nondeterministic_model_explores_every_possible_state() {
    // Proves the checker follows each state a step may lead to, and rejects what none allows.
    let lost = history(vec![ok(1, Some(1), 0, 0, 10), ok(2, None, 0, 20, 30)]);
    assert!(check(&LossyRegister, &lost).is_linearizable());
    let kept = history(vec![ok(1, Some(1), 0, 0, 10), ok(2, None, 1, 20, 30)]);
    assert!(check(&LossyRegister, &kept).is_linearizable());
    let invented = history(vec![ok(1, Some(1), 0, 0, 10), ok(2, None, 2, 20, 30)]);
    assert!(check(&LossyRegister, &invented).is_not_linearizable());
    // Once a read saw the write, it cannot be lost any more.
    let regress = history(vec![
        ok(1, Some(1), 0, 0, 10),
        ok(2, None, 1, 20, 30),
        ok(2, None, 0, 40, 50),
    ]);
    assert!(check(&LossyRegister, &regress).is_not_linearizable());
    assert!(!check_brute_force(&LossyRegister, &regress));
}
