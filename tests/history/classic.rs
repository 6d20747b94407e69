//! Hand-written classic cases, each checked by the fast and the brute-force checker.

use detsim::history::{
    CheckResult, Checker, KeyValue, KvInput, KvOutput, OpId, Register, RegisterInput,
    RegisterOutput, UnplacedReason, check, check_brute_force,
};

use super::{failed, history, ok, pending, timed_out};

type Input = RegisterInput<u32>;
type Output = RegisterOutput<u32>;
use RegisterInput::{Cas, Read, Write};
use RegisterOutput::Written;

fn read(value: u32) -> Output {
    RegisterOutput::Read(value)
}

/// Checks with both checkers, asserts they agree, and returns the fast one's result.
fn verdict(operations: Vec<detsim::history::Operation<Input, Output>>) -> CheckResult {
    let history = history(operations);
    let model = Register::new(0);
    let result = check(&model, &history);
    assert!(!result.is_unknown(), "a tiny history is decided: {result}");
    assert_eq!(
        result.is_linearizable(),
        check_brute_force(&model, &history),
        "the checkers disagree: {result}"
    );
    result
}

#[test]
fn a_stale_read_is_not_linearizable_and_the_read_is_the_culprit() {
    // Proves a read that misses a write completed before it began is caught, and blamed.
    let result = verdict(vec![
        ok(1, Write(1), Written, 0, 10),
        ok(2, Read, read(0), 20, 30),
    ]);
    let counterexample = result.counterexample().expect("a stale read is illegal");
    assert_eq!(
        counterexample
            .prefix
            .iter()
            .map(|step| step.op)
            .collect::<Vec<_>>(),
        [OpId::new(0)]
    );
    assert_eq!(counterexample.state, "1");
    assert_eq!(counterexample.unplaced.len(), 1);
    assert_eq!(counterexample.unplaced[0].op, OpId::new(1));
    assert_eq!(counterexample.unplaced[0].description, "read() → 0");
    assert_eq!(counterexample.unplaced[0].reason, UnplacedReason::Illegal);
}

#[test]
fn a_read_concurrent_with_a_write_may_see_either_value() {
    // Proves overlapping operations may be ordered either way.
    assert!(
        verdict(vec![
            ok(1, Write(1), Written, 0, 30),
            ok(2, Read, read(0), 10, 20)
        ])
        .is_linearizable()
    );
    assert!(
        verdict(vec![
            ok(1, Write(1), Written, 0, 30),
            ok(2, Read, read(1), 10, 20)
        ])
        .is_linearizable()
    );
}

#[test]
fn a_lost_update_is_not_linearizable() {
    // Proves two compare-and-sets from the same value cannot both succeed.
    let cas = || Cas {
        expected: 0,
        new: 1,
    };
    let result = verdict(vec![
        ok(1, cas(), RegisterOutput::Cas(true), 0, 10),
        ok(2, cas(), RegisterOutput::Cas(true), 5, 15),
    ]);
    assert!(result.is_not_linearizable());
    // And the overwritten write of a read-modify-write, seen later, is a lost update too.
    let result = verdict(vec![
        ok(1, Write(1), Written, 0, 10),
        ok(2, Write(2), Written, 20, 30),
        ok(3, Read, read(1), 40, 50),
    ]);
    assert!(result.is_not_linearizable());
}

#[test]
fn a_read_of_a_value_never_written_is_not_linearizable() {
    // Proves an invented value is caught even with every operation concurrent.
    let result = verdict(vec![
        ok(1, Write(1), Written, 0, 100),
        ok(2, Read, read(7), 0, 100),
    ]);
    let counterexample = result.counterexample().expect("7 was never written");
    assert!(
        counterexample
            .unplaced
            .iter()
            .any(|unplaced| unplaced.description == "read() → 7")
    );
}

#[test]
fn concurrent_writes_may_land_in_either_order_but_only_one() {
    // Proves both orders of concurrent writes are allowed, and that reads must agree on one.
    let writes = || {
        vec![
            ok(1, Write(1), Written, 0, 10),
            ok(2, Write(2), Written, 0, 10),
        ]
    };
    for last in [1, 2] {
        let mut operations = writes();
        operations.push(ok(3, Read, read(last), 20, 30));
        operations.push(ok(4, Read, read(last), 40, 50));
        assert!(
            verdict(operations).is_linearizable(),
            "write {last} landed last"
        );
    }
    let mut operations = writes();
    operations.push(ok(3, Read, read(1), 20, 30));
    operations.push(ok(4, Read, read(2), 40, 50));
    assert!(
        verdict(operations).is_not_linearizable(),
        "the value flips with no write in between"
    );
}

#[test]
fn an_unknown_write_that_was_observed_must_be_assumed_applied() {
    // Proves an operation with unknown outcome may take effect after its call.
    let result = verdict(vec![pending(1, Write(1), 0), ok(2, Read, read(1), 20, 30)]);
    assert!(result.is_linearizable());
    // Even long after the client gave up on it.
    let result = verdict(vec![
        timed_out(1, Write(1), 0, 5),
        ok(2, Read, read(0), 20, 30),
        ok(2, Read, read(1), 40, 50),
    ]);
    assert!(result.is_linearizable());
}

#[test]
fn an_unknown_write_that_was_never_observed_must_not_be_assumed_applied() {
    // Proves an operation with unknown outcome may also never take effect.
    let result = verdict(vec![
        pending(1, Write(1), 0),
        ok(2, Read, read(0), 20, 30),
        ok(2, Read, read(0), 40, 50),
    ]);
    assert!(result.is_linearizable());
}

#[test]
fn an_unknown_write_takes_effect_at_most_once_and_not_before_its_call() {
    // Proves the checker does not let an unknown operation apply twice or early.
    let flip_flop = vec![
        pending(1, Write(1), 0),
        ok(2, Read, read(1), 20, 30),
        ok(2, Read, read(0), 40, 50),
    ];
    assert!(verdict(flip_flop).is_not_linearizable());
    let early = vec![ok(2, Read, read(1), 20, 30), pending(1, Write(1), 40)];
    assert!(verdict(early).is_not_linearizable());
}

#[test]
fn an_unknown_compare_and_set_applies_with_the_result_the_state_dictates() {
    // Proves an unknown outcome accepts any output, but not any effect.
    let cas = Cas {
        expected: 5,
        new: 6,
    };
    let result = verdict(vec![pending(1, cas, 0), ok(2, Read, read(6), 20, 30)]);
    assert!(
        result.is_not_linearizable(),
        "the register never held 5, so the swap cannot have happened"
    );
}

#[test]
fn a_failed_write_never_takes_effect() {
    // Proves operations that definitely failed are ignored.
    assert!(
        verdict(vec![
            failed(1, Write(1), 0, 10),
            ok(2, Read, read(1), 20, 30)
        ])
        .is_not_linearizable()
    );
    assert!(
        verdict(vec![
            failed(1, Write(1), 0, 10),
            ok(2, Read, read(0), 20, 30)
        ])
        .is_linearizable()
    );
}

#[test]
fn operations_touching_at_one_instant_are_concurrent() {
    // Proves the documented tie rule: a return and a call at the same instant may be ordered either way.
    assert!(
        verdict(vec![
            ok(1, Write(1), Written, 0, 10),
            ok(2, Read, read(0), 10, 20)
        ])
        .is_linearizable()
    );
    assert!(
        verdict(vec![
            ok(1, Write(1), Written, 0, 10),
            ok(2, Read, read(0), 11, 20)
        ])
        .is_not_linearizable()
    );
}

#[test]
fn an_empty_history_and_a_history_of_failures_are_linearizable() {
    // Proves the degenerate cases are decided, not reported unknown.
    assert!(verdict(Vec::new()).is_linearizable());
    assert!(verdict(vec![failed(1, Read, 0, 10)]).is_linearizable());
}

#[test]
fn the_first_illegal_key_is_reported_whatever_the_thread_count() {
    // Proves partitions are reported in the model's order, independently of parallelism.
    let get =
        |key: u32, value: Option<u32>| ok(1, KvInput::Get(key), KvOutput::Get(value), 100, 110);
    let mut operations = Vec::new();
    for key in 0..40 {
        operations.push(ok(2, KvInput::Put(key, key), KvOutput::Put, 0, 10));
        // Keys 7, 21 and 33 read stale values; the rest are fine.
        let stale = [7, 21, 33].contains(&key);
        operations.push(get(key, if stale { None } else { Some(key) }));
    }
    let history = history(operations);
    let mut results = Vec::new();
    for threads in [1, 2, 4] {
        let options = detsim::history::CheckerOptions {
            threads,
            ..Default::default()
        };
        let result = Checker::with_options(KeyValue::default(), options).check(&history);
        let counterexample = result.counterexample().expect("three keys are stale");
        assert_eq!(counterexample.label, "key 7");
        assert_eq!(counterexample.partition, 7);
        results.push(result);
    }
    assert!(
        results.windows(2).all(|pair| pair[0] == pair[1]),
        "the same result for every thread count"
    );
}

#[test]
fn a_counterexample_reads_as_text() {
    // Proves the report names the prefix, the state and the culprit, as a snapshot.
    let result = verdict(vec![
        ok(1, Write(1), Written, 0, 10),
        ok(2, Read, read(0), 20, 30),
    ]);
    assert_eq!(
        result.to_string(),
        "not linearizable: partition 0 (all operations) has no linearization\n\
         longest linearizable prefix (1 operations):\n    \
         1. op 0: write(1)  ⇒ 1\n\
         state after it: 1\n\
         then none of these can be placed:\n  \
         op 1: read() → 0 (illegal in that state)"
    );
}
