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
