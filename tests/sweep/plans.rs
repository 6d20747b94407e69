//! Plans as data: JSON, validation naming the entry, application at exact times.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use detsim::{EventKind, Fault, Plan, PlanEntry, Seed, Sim, TraceMode, time};

fn world() -> Sim {
    let mut sim = Sim::builder(Seed::new(1))
        .trace(TraceMode::RECORD)
        .quiet()
        .build()
        .unwrap();
    for name in ["n1", "n2", "n3"] {
        sim.add_node(name, |_| std::future::pending()).unwrap();
    }
    sim
}

fn entry(at_ms: u64, fault: Fault, for_ms: Option<u64>) -> PlanEntry {
    PlanEntry::new(
        Duration::from_millis(at_ms),
        fault,
        for_ms.map(Duration::from_millis),
    )
}

#[test]
fn a_plan_is_applied_at_its_instants_and_undone_after_its_durations() {
    // Crash at 1 s for 2 s, pause at 1.5 s until a resume at 4 s: states at each instant, and the trace.
    let mut sim = world();
    let plan = Plan::new(vec![
        entry(1000, Fault::Crash { node: "n1".into() }, Some(2000)),
        entry(1500, Fault::Pause { node: "n2".into() }, None),
        entry(4000, Fault::Resume { node: "n2".into() }, None),
    ]);
    sim.apply_plan(plan.clone()).unwrap();
    let states = Rc::new(RefCell::new(Vec::new()));
    let s = states.clone();
    let report = sim
        .run(async move {
            let h = detsim::handle();
            for ms in [500, 1200, 2000, 3500, 4500] {
                time::sleep_until(time::Instant::from_nanos(ms * 1_000_000)).await;
                s.borrow_mut().push(format!(
                    "{ms}: {:?} {:?}",
                    h.node_state("n1").unwrap(),
                    h.node_state("n2").unwrap()
                ));
            }
        })
        .unwrap();
    assert_eq!(
        *states.borrow(),
        [
            "500: Running Running",
            "1200: Crashed Running",
            "2000: Crashed Paused",
            "3500: Running Paused",
            "4500: Running Running"
        ]
    );
    let faults: Vec<String> = report
        .trace
        .events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Fault { .. } | EventKind::FaultEnd { .. }))
        .map(|e| format!("{} {}", e.time, e.kind))
        .collect();
    assert_eq!(
        faults,
        [
            "1.000000s fault #0: t=1.000000s crash n1 for 2s",
            "1.500000s fault #1: t=1.500000s pause n2",
            "3.000000s fault #0 undone",
            "4.000000s fault #2: t=4.000000s resume n2"
        ]
    );
    assert_eq!(report.plan, Some(plan));
}

#[test]
fn bad_plans_are_rejected_naming_the_entry() {
    // Unknown nodes, impossible entries, out-of-range values and faults nobody applies.
    let check = |entries: Vec<PlanEntry>| {
        world()
            .apply_plan(Plan::new(entries))
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        check(vec![entry(10, Fault::Crash { node: "n9".into() }, None)]),
        "plan entry 0 (t=0.010000s crash n9): unknown node \"n9\""
    );
    assert_eq!(
        check(vec![entry(10, Fault::Restart { node: "n1".into() }, None)]),
        "plan entry 0 (t=0.010000s restart n1): n1 is not held crashed by an earlier entry without a duration"
    );
    assert!(
        check(vec![
            entry(10, Fault::Crash { node: "n1".into() }, Some(1000)),
            entry(500, Fault::Crash { node: "n1".into() }, None),
        ])
        .starts_with("plan entry 1 (t=0.500000s crash n1): n1 is already crashed")
    );
    assert!(
        check(vec![entry(
            10,
            Fault::DiskReadErrors {
                node: "n1".into(),
                probability: 1.5
            },
            None
        )])
        .ends_with("read error probability 1.5 is outside [0, 1]")
    );
    assert!(check(vec![entry(10, Fault::Isolate { node: "n1".into() }, None)])
        .ends_with("no installed extension applies isolate faults (install detsim-net for network faults, detsim-disk for disk faults)"));
    assert!(
        check(vec![entry(
            10,
            Fault::Custom {
                name: "flood".into(),
                args: serde_json::Value::Null
            },
            None
        )])
        .contains("no handler for custom fault \"flood\"")
    );
}

#[test]
fn plans_load_from_json_and_reject_malformed_files() {
    // Durations in words, unknown kinds and fields are errors, a round trip is exact.
    let plan = Plan::from_json(
        r#"{"entries": [{"at": "250ms", "duration": "1.5s", "fault": {"kind": "clock_jump", "node": "n2", "delta_ns": -2000000000}}]}"#,
    )
    .unwrap();
    assert_eq!(
        plan.to_string(),
        "t=0.250000s clock jump n2 wall clock by -2.000s for 1.5s"
    );
    assert_eq!(Plan::from_json(&plan.to_json()).unwrap(), plan);
    let unknown =
        Plan::from_json(r#"{"entries": [{"at": "1s", "fault": {"kind": "meteor"}}]}"#).unwrap_err();
    assert!(
        unknown
            .to_string()
            .starts_with("plan: malformed plan: unknown variant `meteor`"),
        "{unknown}"
    );
    let unit = Plan::from_json(
        r#"{"entries": [{"at": "1 fortnight", "fault": {"kind": "heal_network"}}]}"#,
    )
    .unwrap_err();
    assert!(unit.to_string().contains("unknown unit"), "{unit}");
    let drift = Plan::from_json(r#"{"entries": [{"at": "1s", "fault": {"kind": "clock_drift", "node": "a", "ppm": 2000000}}]}"#).unwrap_err();
    assert_eq!(drift.entry, Some(0));
    assert!(
        Plan::load("/nonexistent.json")
            .unwrap_err()
            .to_string()
            .contains("cannot read")
    );
}

#[test]
fn custom_faults_run_their_handler_and_undo() {
    // A user fault by name, with arguments, undone after its duration.
    let mut sim = world();
    let log = Rc::new(RefCell::new(Vec::new()));
    let l = log.clone();
    sim.enter(|h| {
        h.on_custom_fault("flood", move |args| {
            let l = l.clone();
            l.borrow_mut()
                .push(format!("{} flood {args}", detsim::time::now()));
            Ok(Some(Box::new(move || {
                l.borrow_mut().push(format!("{} dry", detsim::time::now()))
            })))
        })
    });
    sim.apply_plan(Plan::new(vec![entry(
        100,
        Fault::Custom {
            name: "flood".into(),
            args: serde_json::json!({"rate": 3}),
        },
        Some(400),
    )]))
    .unwrap();
    sim.run_for(Duration::from_secs(1)).unwrap();
    assert_eq!(
        *log.borrow(),
        ["0.100000s flood {\"rate\":3}", "0.500000s dry"]
    );
}
