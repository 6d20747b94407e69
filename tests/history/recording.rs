//! The recorder, and histories as JSON lines.

use detsim::history::{
    History, HistoryError, OpId, Outcome, Recorder, RegisterInput, RegisterOutput,
};
use detsim::time::Instant;

type RegisterHistory = History<RegisterInput<u32>, RegisterOutput<u32>>;

fn recorded() -> RegisterHistory {
    let recorder = Recorder::default();
    let client = recorder.clone();
    let t = Instant::from_nanos;
    let write = recorder.invoke_at(1, RegisterInput::Write(3), t(10));
    let read = client.invoke_at(2, RegisterInput::Read, t(12));
    let cas = client.invoke_at(
        3,
        RegisterInput::Cas {
            expected: 3,
            new: 4,
        },
        t(13),
    );
    let lost = client.invoke_at(4, RegisterInput::Write(9), t(14));
    client.invoke_at(5, RegisterInput::Read, t(15)); // never completes
    recorder.ok_at(write, RegisterOutput::Written, t(20));
    client.ok_at(read, RegisterOutput::Read(3), t(25));
    client.fail_at(cas, t(26));
    recorder.unknown_at(lost, t(40));
    recorder.history()
}

#[test]
fn clones_of_a_recorder_write_one_history_in_invocation_order() {
    // Proves ids follow invocation order across clones and every kind of outcome is kept.
    let history = recorded();
    assert_eq!(history.len(), 5);
    let clients: Vec<_> = history
        .iter()
        .map(|(op, operation)| (op.index(), operation.client))
        .collect();
    assert_eq!(clients, [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5)]);
    assert!(history.operation(OpId::new(0)).is_ok());
    assert_eq!(
        history.operation(OpId::new(1)).output(),
        Some(&RegisterOutput::Read(3))
    );
    assert!(history.operation(OpId::new(2)).is_failed());
    assert_eq!(
        history.operation(OpId::new(3)).outcome,
        Outcome::Unknown {
            at: Some(Instant::from_nanos(40))
        }
    );
    assert_eq!(
        history.operation(OpId::new(4)).outcome,
        Outcome::Unknown { at: None }
    );
}

#[test]
fn a_history_round_trips_through_json_lines() {
    // Proves a saved history reads back identical, in a stable, readable format.
    let history = recorded();
    let text = history.to_json_lines().expect("serializable");
    let first = text.lines().next().expect("a line per operation");
    assert_eq!(
        first,
        r#"{"client":1,"input":{"write":3},"call":10,"outcome":{"ok":{"output":"written","at":20}}}"#
    );
    assert_eq!(text.lines().count(), 5);
    assert_eq!(RegisterHistory::from_json_lines(&text), Ok(history.clone()));
    let spaced = text.replace('\n', "\n\n");
    assert_eq!(RegisterHistory::from_json_lines(&spaced), Ok(history));
}

#[test]
fn malformed_json_lines_name_the_bad_line() {
    // Proves reading a corrupt file is a clear error, not a panic or a partial history.
    let mut text = recorded().to_json_lines().expect("serializable");
    text.push_str("{\"client\":1,\"input\":\"read\"}\n");
    let error =
        RegisterHistory::from_json_lines(&text).expect_err("the last line has no call time");
    assert!(
        matches!(error, HistoryError::Json { line: 6, .. }),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .starts_with("line 6 of the history is not an operation: missing field `call`"),
        "{error}"
    );
}

#[test]
fn an_operation_returning_before_its_call_is_rejected() {
    // Proves histories are well formed whichever way they are built.
    let text =
        r#"{"client":1,"input":"read","call":50,"outcome":{"ok":{"output":{"read":0},"at":20}}}"#;
    let error = RegisterHistory::from_json_lines(text).expect_err("returns before its call");
    assert_eq!(
        error.to_string(),
        "op 0 returns at 20 ns, before its call at 50 ns"
    );
    assert_eq!(
        error,
        HistoryError::ReturnBeforeCall {
            op: OpId::new(0),
            call: Instant::from_nanos(50),
            returned: Instant::from_nanos(20)
        }
    );
}

#[test]
fn completing_an_operation_twice_panics_with_advice() {
    // Proves a misuse of the recorder is loud and says what to do, and leaves the history intact.
    let recorder = Recorder::<RegisterInput<u32>, RegisterOutput<u32>>::default();
    let op = recorder.invoke_at(1, RegisterInput::Read, Instant::from_nanos(5));
    recorder.ok_at(op, RegisterOutput::Read(0), Instant::from_nanos(6));
    let again = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        recorder.fail_at(op, Instant::from_nanos(7))
    }));
    let message = again.expect_err("a second outcome is a misuse");
    let message = message
        .downcast_ref::<String>()
        .expect("a formatted message");
    assert_eq!(
        message,
        "op 0 already has an outcome; record exactly one outcome per operation"
    );
    let early = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let op = recorder.invoke_at(1, RegisterInput::Read, Instant::from_nanos(50));
        recorder.ok_at(op, RegisterOutput::Read(0), Instant::from_nanos(40));
    }));
    let message = early.expect_err("returning before the call is a misuse");
    let message = message
        .downcast_ref::<String>()
        .expect("a formatted message");
    assert!(
        message.ends_with("complete an operation at or after its call"),
        "{message}"
    );
    assert_eq!(
        recorder.history().operation(OpId::new(1)).outcome,
        Outcome::Unknown { at: None }
    );
}
