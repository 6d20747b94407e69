//! What a failure report gives a person: one replay line, the picture of
//! the run, a timeline of the last events, and saved plans that a later
//! failure of the same seed does not overwrite.

use std::time::Duration;

use detsim::{Case, Fault, Plan, PlanEntry, Sweep, time};

use super::planted;

fn sweep(name: &str, dir: &str) -> Sweep {
    Sweep::new(name)
        .ignore_env()
        .regressions(None)
        .progress(false)
        .artifacts(std::env::temp_dir().join(dir))
}

#[test]
fn a_failure_report_has_one_replay_line_a_picture_and_a_timeline() {
    // Proves the report of a minimized failure names one line to paste, the picture it wrote, and the last events in words.
    let report = sweep("planted-report", "detsim-tests-report")
        .seeds(200)
        .run(planted::run)
        .unwrap();
    let text = report.to_string();
    let failure = &report.failures[0];
    let replay = failure
        .replay
        .as_ref()
        .expect("a verified failure has a replay line");
    assert_eq!(text.matches("replay:").count(), 1, "{text}");
    assert!(text.contains(&format!("  replay: {replay}\n")), "{text}");
    assert!(
        replay.contains("SIM_PLAN="),
        "the line replays the minimized plan"
    );
    let view = failure.view.as_ref().expect("the picture is written");
    assert!(text.contains(&format!("  picture: {}\n", view.display())));
    let html = std::fs::read_to_string(view).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(
        html.contains("<p class=\"failure-mark\""),
        "the picture marks the failure"
    );
    // The timeline: recorded from the minimized plan's run, ending at the failure.
    assert!(
        text.contains(&format!(
            "  the last {} events before the failure:\n",
            failure.timeline.len()
        )),
        "{text}"
    );
    let last = failure.timeline.last().expect("a timeline");
    assert!(
        last.contains("sim  failed: always!(\"reads never go back in time\") was false at"),
        "{last}"
    );
    // The two minimized faults are in it, at their instants, and so are the crashes they caused.
    let minimized = failure.minimized.as_ref().unwrap();
    for entry in &minimized.entries {
        let at = detsim::time::Instant::ZERO + entry.at;
        assert!(
            failure
                .timeline
                .iter()
                .any(|line| line.starts_with(&format!("t={at}")) && line.contains("fault #")),
            "{entry} in {:#?}",
            failure.timeline
        );
    }
    assert!(
        failure
            .timeline
            .iter()
            .any(|line| line.ends_with("  crash"))
    );
}

#[test]
fn the_replay_of_a_seed_writes_its_picture_next_to_its_trace() {
    // Proves SIM_SEED's path (Sweep::replay) draws the run and keeps the timeline of the failure.
    let report = sweep("planted-again", "detsim-tests-replay")
        .seeds(200)
        .minimize(false)
        .run(planted::run)
        .unwrap();
    let seed = report.failures[0].seed;
    let replay = sweep("planted-again", "detsim-tests-replay").replay(seed, None, planted::run);
    let failure = &replay.failures[0];
    let view = failure.view.as_ref().expect("the picture is written");
    assert_eq!(
        view.file_name().unwrap().to_string_lossy(),
        format!("planted-again-{seed}.view.html")
    );
    assert!(
        view.with_file_name(format!("planted-again-{seed}.trace.jsonl"))
            .exists()
    );
    assert!(!failure.timeline.is_empty());
    assert_eq!(replay.to_string().matches("replay:").count(), 1);
}

#[test]
fn a_later_failure_of_the_same_seed_does_not_overwrite_the_saved_plan() {
    // Proves plans are saved under their content: an earlier replay line keeps pointing at its own plan.
    let dir = "detsim-tests-plans";
    let first = sweep("planted-plans", dir)
        .seeds(200)
        .run(planted::run)
        .unwrap();
    let failure = &first.failures[0];
    let saved = failure.minimized_path.clone().unwrap();
    let plan = failure.minimized.clone().unwrap();
    // The same sweep name and seed, another failure: it fails whatever its plan.
    let other = |case: &Case| {
        let mut sim = case.builder().build().unwrap();
        sim.add_node("r2", |_| std::future::pending::<()>())
            .unwrap();
        let plan = case.plan(|| {
            Plan::new(vec![PlanEntry::new(
                Duration::from_secs(1),
                Fault::Crash { node: "r2".into() },
                Some(Duration::from_secs(1)),
            )])
        });
        sim.apply_plan(plan).unwrap();
        sim.run(async {
            time::sleep(Duration::from_secs(3)).await;
            detsim::handle().fail("another bug");
            time::sleep(Duration::from_millis(1)).await;
        })
    };
    let second = sweep("planted-plans", dir)
        .first_seed(failure.seed.get())
        .seeds(1)
        .run(other)
        .unwrap();
    let later = second.failures[0].minimized_path.clone().unwrap();
    assert_ne!(later, saved);
    assert_eq!(
        Plan::load(&saved).unwrap(),
        plan,
        "the first plan is intact"
    );
    assert_eq!(
        Some(Plan::load(&later).unwrap()),
        second.failures[0].minimized,
        "the second plan is saved under its own name"
    );
}
