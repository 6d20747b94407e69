//! Determinism: same seed same fingerprint, across runs and threads; leaks are caught.

use std::time::Duration;

use detsim::{Fingerprint, PollOrder, Seed, Sim, check_determinism, random, time};

/// A workload with randomness everywhere: random sleeps, random poll order, crashes.
fn workload(seed: u64) -> Fingerprint {
    let mut sim = Sim::builder(Seed::new(seed))
        .poll_order(PollOrder::Random)
        .quiet()
        .build()
        .unwrap();
    for n in 0..3 {
        sim.add_node(&format!("n{n}"), |_| async {
            loop {
                let ms = random::with(|rng| 1 + rng.below(50));
                time::sleep(Duration::from_millis(ms)).await;
                for _ in 0..random::with(|rng| rng.below(3)) {
                    detsim::spawn(async { detsim::yield_now().await });
                }
            }
        })
        .unwrap();
    }
    sim.run(async {
        let h = detsim::handle();
        for _ in 0..5 {
            let ms = random::with(|rng| rng.below(200));
            time::sleep(Duration::from_millis(ms)).await;
            let victim = format!("n{}", random::with(|rng| rng.below(3)));
            if h.crash(victim.as_str()).is_ok() {
                time::sleep(Duration::from_millis(30)).await;
                h.restart(victim.as_str()).unwrap();
            }
        }
    })
    .unwrap()
    .trace
    .fingerprint
}

#[test]
fn the_same_seed_gives_the_same_fingerprint_for_100_seeds() {
    // Two runs of each of 100 seeds agree; the seeds do not all collide.
    let mut distinct = std::collections::BTreeSet::new();
    for seed in 0..100 {
        let first = workload(seed);
        assert_eq!(workload(seed), first, "seed {seed} is not deterministic");
        distinct.insert(first);
    }
    assert_eq!(
        distinct.len(),
        100,
        "different seeds give different fingerprints"
    );
}

#[test]
fn worlds_in_parallel_threads_match_worlds_run_alone() {
    // Worlds share no state: two threads running seeds at once get the serial results.
    let serial: Vec<Fingerprint> = (0..20).map(workload).collect();
    let parallel: Vec<Fingerprint> = std::thread::scope(|scope| {
        let evens = scope.spawn(|| (0..20).step_by(2).map(workload).collect::<Vec<_>>());
        let odds = scope.spawn(|| (1..20).step_by(2).map(workload).collect::<Vec<_>>());
        let (evens, odds) = (evens.join().unwrap(), odds.join().unwrap());
        let mut all = Vec::new();
        for i in 0..10 {
            all.push(evens[i]);
            all.push(odds[i]);
        }
        all
    });
    assert_eq!(parallel, serial);
}

#[test]
fn check_determinism_passes_a_deterministic_test() {
    // The self-check returns the fingerprint both runs share.
    let fingerprint = check_determinism(Sim::builder(Seed::new(8)).quiet(), |mut sim| {
        sim.add_node("n1", |_| async {
            let ms = random::with(|rng| rng.below(100));
            time::sleep(Duration::from_millis(ms)).await;
        })
        .unwrap();
        sim.run(async { time::sleep(Duration::from_secs(1)).await })
    })
    .unwrap();
    assert_ne!(fingerprint, Fingerprint::default());
}

#[test]
fn check_determinism_names_the_first_divergence_of_a_hash_map_order() {
    // A body whose spawn order follows a randomly seeded HashMap is caught, with the first differing event.
    let divergence = check_determinism(Sim::builder(Seed::new(8)).quiet(), |mut sim| {
        sim.run(async {
            #[allow(clippy::disallowed_types)]
            let map: std::collections::HashMap<u64, u64> = (0..32).map(|i| (i, i)).collect();
            for (_, ms) in map {
                detsim::spawn(time::sleep(Duration::from_millis(ms)));
            }
            time::sleep(Duration::from_millis(100)).await;
        })
    })
    .unwrap_err();
    assert_ne!(divergence.fingerprints.0, divergence.fingerprints.1);
    let text = divergence.to_string();
    assert!(text.contains("first difference at event #"), "{text}");
    assert!(divergence.first.is_some() && divergence.second.is_some());
    assert_ne!(divergence.first, divergence.second);
}

#[test]
fn check_determinism_catches_os_time() {
    // A body that sleeps for a duration read from the OS clock diverges when
    // the world does not intercept OS clocks, and replays when it does.
    let body = || async {
        #[allow(clippy::disallowed_methods)]
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        time::sleep(Duration::from_nanos(1 + (nanos % 1_000_003) as u64)).await;
    };
    let intercepted = check_determinism(Sim::builder(Seed::new(8)).quiet(), |mut sim| {
        sim.run(body())
    });
    assert!(intercepted.is_ok(), "{intercepted:?}");
    let builder = Sim::builder(Seed::new(8)).quiet().intercept_os(false);
    let divergence = check_determinism(builder, |mut sim| sim.run(body()));
    // Two reads of the OS clock nanoseconds apart virtually never agree modulo a prime.
    assert!(
        divergence.is_err(),
        "OS time should make the two runs differ"
    );
}
