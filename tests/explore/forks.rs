//! Forked runs: the parent's prefix exactly, a new future, one replay line.

use std::time::Duration;

use detsim::time::Instant;
use detsim::{Case, Failure, Forks, Report, Seed, Trace, TraceMode, random, time};

/// A node that sleeps random amounts and records what it drew.
fn wander(case: &Case) -> Result<Report<Vec<u64>>, Failure> {
    let mut sim = case
        .builder()
        .trace(TraceMode::RECORD)
        .build()
        .expect("valid configuration");
    sim.run(async {
        let mut draws = Vec::new();
        for _ in 0..40 {
            let ms = random::with(|rng| rng.below(100));
            draws.push(ms);
            time::sleep(Duration::from_millis(ms + 1)).await;
        }
        draws
    })
}

fn events_before(trace: &Trace, at: Duration) -> Vec<String> {
    let at = Instant::ZERO.saturating_add(at);
    trace
        .events
        .iter()
        .filter(|e| e.time < at)
        .map(|e| format!("{e:?}"))
        .collect()
}

#[test]
fn a_forked_run_replays_bit_for_bit_and_keeps_its_parents_prefix() {
    // Proves: same seed + same forks = same fingerprint; the events before
    // the fork instant are the parent's; the future after it is not.
    let forks: Forks = "1s:0x9".parse().unwrap();
    let parent = wander(&Case::new(Seed::new(42), None)).unwrap();
    let child = wander(&Case::new(Seed::new(42), None).with_forks(forks.clone())).unwrap();
    let again = wander(&Case::new(Seed::new(42), None).with_forks(forks)).unwrap();
    assert_eq!(child.trace.fingerprint, again.trace.fingerprint);
    assert_eq!(child.value, again.value);
    assert_ne!(child.trace.fingerprint, parent.trace.fingerprint);
    let cut = Duration::from_secs(1);
    let prefix = events_before(&parent.trace, cut);
    assert!(prefix.len() > 20, "the prefix is not trivial");
    assert_eq!(prefix, events_before(&child.trace, cut));
    // Every draw made before 1 s is the parent's; the first after differs.
    let mut elapsed = 0;
    let mut same = 0;
    for (a, b) in parent.value.iter().zip(&child.value) {
        if elapsed >= 1000 {
            break;
        }
        assert_eq!(a, b);
        elapsed += a + 1;
        same += 1;
    }
    assert_ne!(parent.value[same..], child.value[same..]);
}

#[test]
fn a_second_fork_keeps_the_first_forks_prefix() {
    // Proves: a chain of forks is a chain of prefixes.
    let one: Forks = "500ms:0x1".parse().unwrap();
    let two = one.fork_at(Duration::from_millis(1500), Seed::new(2));
    assert_eq!(two.to_string(), "0.5s:0x1,1.5s:0x2");
    let a = wander(&Case::new(Seed::new(7), None).with_forks(one)).unwrap();
    let b = wander(&Case::new(Seed::new(7), None).with_forks(two)).unwrap();
    let cut = Duration::from_millis(1500);
    assert_eq!(events_before(&a.trace, cut), events_before(&b.trace, cut));
    assert_ne!(a.trace.fingerprint, b.trace.fingerprint);
}

#[test]
fn a_forked_runs_plan_keeps_the_parents_faults_before_the_fork_and_redraws_the_rest() {
    // Proves: `Case::plan_from` splices the parent's plan before the fork
    // instant with the fork seed's plan after it, and stays consistent.
    use detsim::{Nemesis, NemesisKind, Topology};
    let topology = Topology::nodes(["a", "b", "c"]);
    let nemesis = Nemesis::default()
        .kinds(&[NemesisKind::Crash, NemesisKind::Pause])
        .window(Duration::from_secs(1), Duration::from_secs(20))
        .interval(Duration::from_millis(800))
        .durations(Duration::from_millis(100), Duration::from_millis(600))
        .max_down(1);
    let generate = |seed| nemesis.plan(seed, &topology);
    let parent = Case::new(Seed::new(3), None).plan_from(generate);
    let forks: Forks = "8s:0x5".parse().unwrap();
    let child = Case::new(Seed::new(3), None)
        .with_forks(forks.clone())
        .plan_from(generate);
    let cut = Duration::from_secs(8);
    let before = |plan: &detsim::Plan| -> Vec<String> {
        plan.entries
            .iter()
            .filter(|e| e.at < cut)
            .map(|e| e.to_string())
            .collect()
    };
    let after = |plan: &detsim::Plan| -> Vec<String> {
        plan.entries
            .iter()
            .filter(|e| e.at >= cut)
            .map(|e| e.to_string())
            .collect()
    };
    assert!(!before(&parent).is_empty());
    assert_eq!(before(&parent), before(&child));
    assert!(!after(&child).is_empty());
    assert_ne!(after(&parent), after(&child));
    let again = Case::new(Seed::new(3), None)
        .with_forks(forks)
        .plan_from(generate);
    assert_eq!(
        child, again,
        "the spliced plan is a function of seed and forks"
    );
    // An imposed plan (a replay, the minimizer) wins over the forks.
    let imposed = Case::new(Seed::new(3), Some(parent.clone()))
        .with_forks("8s:0x5".parse().unwrap())
        .plan_from(generate);
    assert_eq!(imposed, parent);
}
