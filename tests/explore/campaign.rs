//! Campaigns: reproducible on any number of threads, and better than blind
//! seeds at a bug that needs two rare events in a row.

use std::time::Duration;

use detsim::{
    Case, Explore, Failure, Report, Sweep, SweepReport, always, coverage, random, sometimes, time,
};

/// A lock service with a planted bug that needs two rare events in a row:
/// a lease is rarely lost (1 in 10 000 ticks), and only if a second rare
/// event (a stale renewal, 1 in 200 ticks) follows within ten ticks does
/// a client see two holders. Blind seeds hit both in about one run in a
/// thousand; an explorer that forks the runs which lost a lease needs a
/// few dozen children.
fn lease(case: &Case) -> Result<Report<()>, Failure> {
    let mut sim = case.builder().build().expect("valid configuration");
    sim.run(async {
        let mut lost_at: Option<u32> = None;
        for tick in 0..200u32 {
            time::sleep(Duration::from_millis(10)).await;
            let (lose, stale) = random::with(|rng| (rng.below(10_000) == 0, rng.below(200) == 0));
            match lost_at {
                None if lose => {
                    lost_at = Some(tick);
                    coverage!("lease lost");
                }
                Some(at) if tick - at > 10 => lost_at = None,
                Some(_) => always!(!stale, "one lease holder at a time"),
                None => {}
            }
            sometimes!(lost_at.is_some(), "a lease was lost");
        }
    })
}

fn explore(explore: Explore, threads: usize) -> SweepReport {
    Sweep::new("explore_lease")
        .regressions(None)
        .progress(false)
        .minimize(false)
        .ignore_env()
        .threads(threads)
        .explore(explore.plot(false))
        .run(lease)
        .unwrap()
}

#[test]
fn guided_exploration_finds_a_two_step_bug_that_blind_seeds_miss() {
    // Proves: in the same budget of 600 runs, blind seeds (the same fresh
    // seeds, in order) do not find the bug and the explorer does; the
    // failure it reports is a forked run, verified by replay.
    let blind = explore(Explore::runs(600).blind(), 2);
    assert!(blind.passed(), "{blind}");
    assert_eq!(blind.seeds_run, 600);
    let guided = explore(Explore::runs(600), 2);
    let failure = guided.first_failure().expect("the explorer finds the bug");
    assert!(!failure.forks.is_empty(), "found by a fork: {failure}");
    assert!(failure.verification.is_verified());
    let replay = failure.replay.as_deref().unwrap();
    assert!(
        replay.starts_with(&format!(
            "SIM_FORKS={} SIM_SEED={}",
            failure.forks, failure.seed
        )),
        "{replay}"
    );
    let campaign = guided.exploration.as_ref().unwrap();
    eprintln!("{guided}");
    assert!(campaign.runs < 600, "{campaign}");
    assert!(campaign.keys.contains_key("user:lease lost="), "{campaign}");
    let target = campaign.targets["a lease was lost"];
    assert!(target.is_some());
}

#[test]
fn a_campaign_is_the_same_on_one_and_two_threads() {
    // Proves: corpus, coverage keys and first failure depend on the
    // campaign seed only, not on the number of threads.
    let one = explore(Explore::runs(300).campaign_seed(5), 1);
    let two = explore(Explore::runs(300).campaign_seed(5), 2);
    let (a, b) = (
        one.exploration.clone().unwrap(),
        two.exploration.clone().unwrap(),
    );
    assert_eq!(a.corpus, b.corpus);
    assert_eq!(a.keys, b.keys);
    assert_eq!(a.runs, b.runs);
    assert_eq!(a.first_failure_run, b.first_failure_run);
    let first = |r: &SweepReport| r.first_failure().map(|f| (f.seed, f.forks.clone()));
    assert_eq!(first(&one), first(&two));
    assert!(!a.corpus.is_empty());
    assert!(a.first_failure_run.is_some(), "{a}");
    let other = explore(Explore::runs(300).campaign_seed(6), 1);
    assert_ne!(
        first(&one),
        first(&other),
        "the campaign seed steers the search"
    );
}

#[test]
fn a_campaign_compares_with_blind_seeds_and_shards_split_the_fresh_seeds() {
    // Proves: `compare_blind` measures blind seeds in the same budget, and
    // two shards of one campaign run disjoint fresh seeds.
    let report = explore(Explore::runs(96).batch(32).compare_blind(true), 2);
    let campaign = report.exploration.unwrap();
    let blind = campaign.blind_curve.as_ref().expect("the blind curve");
    assert_eq!(blind.last().map(|p| p.runs), Some(campaign.runs));
    let shard = |index| {
        Sweep::new("explore_lease_shards")
            .regressions(None)
            .progress(false)
            .ignore_env()
            .shard(detsim::Shard::new(index, 2).unwrap())
            .explore(Explore::runs(300).warmup(20).plot(false))
            .run(lease)
            .unwrap()
            .exploration
            .unwrap()
    };
    let (zero, one) = (shard(0), shard(1));
    assert!(zero.corpus.iter().all(|e| e.seed.get() % 2 == 0), "{zero}");
    assert!(one.corpus.iter().all(|e| e.seed.get() % 2 == 1), "{one}");
    assert!(!zero.corpus.is_empty() || !one.corpus.is_empty());
}
