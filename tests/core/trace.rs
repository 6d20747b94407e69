//! The trace: events with virtual time and node, user logs, JSON lines export.

use std::time::Duration;

use detsim::{EventKind, Seed, Sim, Trace, TraceMode, time};

fn recorded_run() -> Trace {
    run_with(TraceMode::RECORD)
}

fn run_with(mode: TraceMode) -> Trace {
    let mut sim = Sim::builder(Seed::new(1))
        .trace(mode)
        .quiet()
        .build()
        .unwrap();
    sim.add_node("n2", |_| async {
        time::sleep(Duration::from_millis(12)).await;
        tracing::info!(key = 7, "hello from a node");
        tracing::debug!("not in the trace: below INFO");
    })
    .unwrap();
    sim.run(async {
        time::sleep(Duration::from_millis(20)).await;
        detsim::handle().crash("n2").unwrap();
    })
    .unwrap()
    .trace
}

#[test]
fn every_scheduling_decision_and_lifecycle_change_is_an_event() {
    // The exact event sequence of a small run, as the trace describes it.
    let trace = recorded_run();
    let lines: Vec<String> = trace.events.iter().map(|e| trace.describe(e)).collect();
    assert_eq!(
        lines,
        [
            "#0 t=0.000000s n2 node added: n2",
            "#1 t=0.000000s n2 spawn task0",
            "#2 t=0.000000s sim spawn task1",
            "#3 t=0.000000s n2 poll task0",
            "#4 t=0.000000s sim poll task1",
            "#5 t=0.012000s n2 timer #1 fired",
            "#6 t=0.012000s n2 poll task0",
            "#7 t=0.012000s n2 INFO integration::core::trace: hello from a node key=7",
            "#8 t=0.012000s n2 done task0",
            "#9 t=0.020000s sim timer #2 fired",
            "#10 t=0.020000s sim poll task1",
            "#11 t=0.020000s n2 crash",
            "#12 t=0.020000s sim done task1",
        ]
    );
    assert_eq!(trace.count, 13);
    assert!(!trace.truncated);
}

#[test]
fn user_tracing_events_are_stamped_with_time_and_node() {
    // A tracing::info! inside a node becomes a Log event at its virtual time on its node.
    let trace = recorded_run();
    let log = trace
        .events
        .iter()
        .find(|e| matches!(e.kind, EventKind::Log { .. }))
        .unwrap();
    assert_eq!(log.time.as_nanos(), 12_000_000);
    assert_eq!(trace.node_name(log.node), "n2");
    let EventKind::Log { level, message, .. } = &log.kind else {
        unreachable!()
    };
    assert_eq!(level, "INFO");
    assert_eq!(message, "hello from a node key=7");
}

#[test]
fn log_facade_records_are_stamped_and_traced_like_tracing_events() {
    // log::warn! inside a node (as crates on the `log` facade do) becomes a
    // Log event with its own target, level, virtual time and node.
    let mut sim = Sim::builder(Seed::new(2))
        .trace(TraceMode::RECORD)
        .quiet()
        .build()
        .unwrap();
    sim.add_node("n1", |_| async {
        time::sleep(Duration::from_millis(7)).await;
        log::warn!(target: "raft::log", "term {} is stale", 3);
        log::debug!("below INFO: not traced");
    })
    .unwrap();
    let report = sim.run(time::sleep(Duration::from_millis(10))).unwrap();
    let logs: Vec<(u64, String, String, String, String)> = report
        .trace
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Log {
                level,
                target,
                message,
            } => Some((
                e.time.as_nanos(),
                report.trace.node_name(e.node).to_owned(),
                level.clone(),
                target.clone(),
                message.clone(),
            )),
            _ => None,
        })
        .collect();
    assert_eq!(
        logs,
        [(
            7_000_000,
            "n1".to_owned(),
            "WARN".to_owned(),
            "raft::log".to_owned(),
            "term 3 is stale".to_owned()
        )]
    );
}

#[test]
fn traces_export_to_json_lines_and_read_back() {
    // Every event survives a JSON-lines round trip; each line names the node.
    let trace = recorded_run();
    let mut out = Vec::new();
    trace.write_json_lines(&mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert_eq!(text.lines().count(), trace.events.len());
    assert!(text.lines().nth(7).unwrap().contains(r#""node_name":"n2""#));
    let back = Trace::read_json_lines(&text).unwrap();
    assert_eq!(back, trace.events);
    assert_eq!(
        Trace::read_json_lines("{\"index\": 0}\nnot json")
            .unwrap_err()
            .split(':')
            .next(),
        Some("trace line 1")
    );
}

#[test]
fn recording_does_not_change_the_fingerprint() {
    // The fingerprint covers the same events whether or not they are kept.
    let fingerprint_only = run_with(TraceMode::Fingerprint).fingerprint;
    assert_eq!(fingerprint_only, recorded_run().fingerprint);
}
