//! Bad input and misuse of the world: plans, node ids, APIs called outside a
//! simulation, over-long paths, determinism reports that must not read alike.

use std::time::Duration;

use detsim::{Fault, Plan, PlanEntry, Seed, Sim, SimError, check_determinism, time};
use detsim_disk::Storage;
use detsim_net::{Net, NetError, UdpSocket};

#[test]
fn a_duration_of_the_wrong_type_in_a_plan_says_what_a_duration_is() {
    // Proves JSON numbers that are no nanosecond count, and non-numbers,
    // get a message about durations, not about serde's internals.
    let plan = |at: &str| {
        Plan::from_json(&format!(
            r#"{{"entries": [{{"at": {at}, "fault": {{"kind": "crash", "node": "n1"}}}}]}}"#
        ))
        .unwrap_err()
        .to_string()
    };
    let negative = plan("-1");
    assert!(negative.contains("duration -1 is negative"), "{negative}");
    let huge = plan("1e30");
    assert!(
        huge.contains("is not a whole number of nanoseconds: write it as text with a unit"),
        "{huge}"
    );
    let boolean = plan("true");
    assert!(
        boolean.contains("a duration: nanoseconds as a whole number, or text like \"250ms\""),
        "{boolean}"
    );
    for text in [&negative, &huge, &boolean] {
        assert!(!text.contains("untagged"), "{text}");
    }
}

#[test]
fn a_node_id_from_another_simulation_is_refused() {
    // Proves an id carried over from another Sim no longer crashes whichever
    // node has the same number here, in the core and in the network.
    let mut first = Sim::new(Seed::new(1));
    let _a = first
        .add_node("a", |_| std::future::pending::<()>())
        .unwrap();
    let foreign = first
        .add_node("b", |_| std::future::pending::<()>())
        .unwrap();
    let mut second = Sim::new(Seed::new(2));
    Net::builder().install(&mut second).unwrap();
    let here = second
        .add_node("x", |_| std::future::pending::<()>())
        .unwrap();
    let _y = second
        .add_node("y", |_| std::future::pending::<()>())
        .unwrap();
    let error = second.crash(foreign).unwrap_err();
    assert!(matches!(error, SimError::ForeignNode(_)));
    assert_eq!(
        error.to_string(),
        "node#1 was made by another simulation: a NodeId is valid only in the world that added \
         the node; in this world, look the node up by name (`handle.node(\"n1\")`) or keep the id \
         `add_node` returned here"
    );
    let report = second
        .run(async move {
            let net = Net::current().unwrap();
            let clog = net.clog_link(here, foreign);
            let state = detsim::handle().node_state("y").unwrap();
            (clog.map_err(|e| e.to_string()), state)
        })
        .unwrap();
    let (clog, state) = report.value;
    let clog = clog.unwrap_err();
    assert!(
        clog.contains("node#1 was made by another simulation"),
        "{clog}"
    );
    assert_eq!(
        state,
        detsim::NodeState::Running,
        "node y (#1 here) untouched"
    );
    // Ids compare by number, so the same seed's traces stay equal.
    assert_eq!(foreign.index(), 1);
}

fn crash(at_ms: u64, node: &str, duration_ms: Option<u64>) -> PlanEntry {
    PlanEntry::new(
        Duration::from_millis(at_ms),
        Fault::Crash { node: node.into() },
        duration_ms.map(Duration::from_millis),
    )
}

#[test]
fn a_second_plan_that_contradicts_the_first_is_refused() {
    // Proves overlapping plans are an error when applied, not an entry
    // skipped at run time and noted only in the trace.
    let mut sim = Sim::new(Seed::new(3));
    sim.add_node("n1", |_| std::future::pending::<()>())
        .unwrap();
    sim.apply_plan(Plan::new(vec![crash(1000, "n1", Some(3000))]))
        .unwrap();
    let error = sim
        .apply_plan(Plan::new(vec![crash(2000, "n1", Some(500))]))
        .unwrap_err();
    assert_eq!(error.entry, Some(0));
    assert_eq!(
        error.to_string(),
        "plan entry 0 (t=2.000000s crash n1 for 500ms): conflicts with a plan applied earlier to \
         this world: plan entry 1 (t=2.000000s crash n1 for 500ms): n1 is already crashed by an \
         earlier entry"
    );
}

#[test]
fn entries_of_several_plans_are_numbered_once_each() {
    // Proves two plans' entries get distinct numbers in the trace (both used
    // to be #0), in the order the plans were applied.
    let mut sim = Sim::builder(Seed::new(3))
        .trace(detsim::TraceMode::RECORD)
        .build()
        .unwrap();
    sim.add_node("n1", |_| std::future::pending::<()>())
        .unwrap();
    sim.add_node("n2", |_| std::future::pending::<()>())
        .unwrap();
    sim.apply_plan(Plan::new(vec![crash(1000, "n1", Some(100))]))
        .unwrap();
    sim.apply_plan(Plan::new(vec![crash(500, "n2", Some(100))]))
        .unwrap();
    sim.run_for(Duration::from_secs(2)).unwrap();
    let faults: Vec<(u64, String)> = sim
        .trace()
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            detsim::EventKind::Fault { index, fault } => Some((*index, fault.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        faults,
        [
            (1, "t=0.500000s crash n2 for 100ms".to_owned()),
            (0, "t=1.000000s crash n1 for 100ms".to_owned()),
        ]
    );
}

#[test]
fn a_plan_entry_already_in_the_past_is_refused() {
    // Proves an entry due at 1 s applied at 5 s is an error (it used to be
    // applied late without a word), and that shifting the plan fixes it.
    let mut sim = Sim::new(Seed::new(4));
    sim.add_node("n1", |_| std::future::pending::<()>())
        .unwrap();
    sim.run_for(Duration::from_secs(5)).unwrap();
    let plan = Plan::new(vec![crash(1000, "n1", Some(100))]);
    let error = sim.apply_plan(plan.clone()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "plan entry 0 (t=1.000000s crash n1 for 100ms): it is due at t=1.000000s, but the world \
         is already at t=5.000000s: a plan's times count from the start of the run; apply it \
         earlier, or shift it to start now (`plan.shifted(…)`)"
    );
    sim.apply_plan(plan.shifted(Duration::from_secs(5)))
        .unwrap();
    let report = sim.run_for(Duration::from_secs(2)).unwrap();
    assert_eq!(report.plan.unwrap().entries[0].at, Duration::from_secs(6));
}

#[test]
fn an_entry_skipped_at_run_time_is_in_the_report() {
    // Proves an entry that cannot apply when due (its node was crashed by
    // hand) is listed in the run's report, not only in the trace.
    let mut sim = Sim::builder(Seed::new(5)).quiet().build().unwrap();
    let n1 = sim
        .add_node("n1", |_| std::future::pending::<()>())
        .unwrap();
    sim.apply_plan(Plan::new(vec![crash(1000, "n1", None)]))
        .unwrap();
    let report = sim
        .run(async move {
            detsim::handle().crash(n1).unwrap();
            time::sleep(Duration::from_secs(2)).await;
        })
        .unwrap();
    assert_eq!(
        report.skipped_faults,
        ["#0 t=1.000000s crash n1: cannot crash node \"n1\": it is Crashed"]
    );
    assert!(
        report.to_string().contains("1 plan entries skipped"),
        "{report}"
    );
}

#[test]
fn calls_outside_a_simulation_say_so() {
    // Proves the network names the real cause (no simulation), and
    // `current_node`, which returns an Option, does not panic.
    assert_eq!(detsim::current_node(), None);
    let error = UdpSocket::bind(7000).unwrap_err();
    assert_eq!(error, NetError::OutsideSimulation("UdpSocket::bind"));
    assert!(
        error
            .to_string()
            .starts_with("`UdpSocket::bind` was called outside a simulation"),
        "{error}"
    );
    assert!(matches!(
        detsim_net::TcpListener::bind(7000),
        Err(NetError::OutsideSimulation("TcpListener::bind"))
    ));
}

#[test]
fn an_error_about_a_huge_path_does_not_echo_it() {
    // Proves a 10 KB name gives a short message that still says what is wrong.
    let mut sim = Sim::new(Seed::new(6));
    let disks = detsim_disk::Disks::install(&sim, detsim_disk::DiskConfig::default()).unwrap();
    let node = sim
        .add_node("n1", |_| std::future::pending::<()>())
        .unwrap();
    let long = format!("/{}", "x".repeat(10_000));
    let component = format!("/dir/{}", "y".repeat(300));
    let report = sim
        .run(async move {
            let storage = disks.storage(node).unwrap();
            let options = detsim_disk::OpenOptions::read_write().create(true);
            let a = storage.open(&long, options).await.unwrap_err();
            let b = storage.open(&component, options).await.unwrap_err();
            (a.to_string(), b.to_string())
        })
        .unwrap();
    let (whole, part) = report.value;
    assert!(whole.len() < 200, "{} bytes: {whole}", whole.len());
    assert!(whole.contains("path of 10001 bytes is too long"), "{whole}");
    assert!(part.len() < 250, "{} bytes: {part}", part.len());
    assert!(
        part.contains("has a component of 300 bytes, longer than Linux's NAME_MAX of 255")
            && part.contains("(305 bytes)"),
        "{part}"
    );
}

#[test]
fn a_determinism_report_never_shows_two_identical_lines() {
    // Proves a divergence in a field the words leave out (here a sleep's
    // nanoseconds, taken from the OS clock) shows the fields that differ.
    // Two runs a few microseconds apart sleep for different nanoseconds,
    // unless the clock's remainders happen to agree: try until they do not.
    let divergence = (0..20)
        .find_map(|_| diverging_run().err())
        .expect("twenty pairs of runs all agreed");
    let (a, b) = (
        divergence.first.clone().unwrap(),
        divergence.second.clone().unwrap(),
    );
    assert_ne!(a, b, "{divergence}");
    assert!(
        a.contains(" ns]") && b.contains(" ns]"),
        "the nanoseconds shown: {divergence}"
    );
}

fn diverging_run() -> Result<detsim::Fingerprint, detsim::Divergence> {
    let builder = Sim::builder(Seed::new(7)).intercept_os(false);
    check_determinism(builder, |mut sim| {
        sim.run(async {
            #[allow(clippy::disallowed_methods)] // The OS clock is the leak under test.
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .subsec_nanos();
            time::sleep(Duration::from_nanos(u64::from(nanos % 997) + 1)).await;
            std::thread::sleep(Duration::from_micros(3));
        })
    })
}

#[test]
fn the_nemesis_defaults_are_the_documented_ones() {
    // Proves the defaults the book's table and the rustdoc state (they used
    // to be written only in the source) are what `Nemesis::default()` does.
    let nemesis = detsim::Nemesis::default();
    let text = nemesis.to_string();
    assert!(
        text.ends_with(
            "; faults from 1s to 30s, one every 2s on average, lasting 500ms–5s; at most 1 node down at once"
        ),
        "{text}"
    );
    assert_eq!(
        nemesis.weights.keys().copied().collect::<Vec<_>>(),
        detsim::NemesisKind::PROCESS_AND_NETWORK
    );
    assert!(text.starts_with("kinds Crash, Pause, "), "{text}");
}
