//! Seed sweeps of the correct service.

use std::time::Duration;

use detsim::{Case, Seed, Sweep, check_case_determinism};
use examples::httpkv::cluster::{self, Options};

/// A shorter run than the sweep binary's, to keep the debug suite fast.
fn short() -> Options {
    Options {
        chaos_end: Duration::from_secs(5),
        liveness_within: Duration::from_secs(5),
        ..Options::default()
    }
}

#[test]
fn the_service_stays_linearizable_and_live_under_chaos() {
    // Proves: with crashes, pauses, clock faults, every partition kind,
    // clogs and latency spikes, every seed's history (HTTP requests over
    // simulated TCP) is linearizable and a client is served after the
    // faults heal. (httpkv-sweep runs the same test for hundreds of seeds.)
    let options = short();
    let report = Sweep::new("httpkv_linearizable_under_chaos")
        .seeds(16)
        .ignore_env()
        .regressions(None)
        .progress(false)
        .run(|case| cluster::run(case, &options))
        .unwrap();
    report.assert_passed();
}

#[test]
fn a_seed_replays_bit_for_bit() {
    // Proves the whole deployment (axum, hyper with the virtual timer, the
    // network, the chaos, the clients) is a function of the seed: two runs,
    // each on a fresh thread as a sweep runs them, record the same trace.
    // (On one thread the first run records one event more: std seeds its
    // `HashMap` keys, which axum's router draws, once per thread, and with
    // interception on that draw is an `os.entropy` event of the first world
    // only; everything else is the same.)
    let options = short();
    let case = Case::new(Seed::new(7), None);
    check_case_determinism(case.clone(), |c: &Case| cluster::run(c, &options))
        .unwrap_or_else(|divergence| panic!("{divergence}"));
    let report = cluster::run(&case, &options).unwrap();
    assert!(report.value.operations > 100, "{:?}", report.value);
    assert!(report.value.answered > 50, "{:?}", report.value);
    assert!(report.value.faults > 0, "{:?}", report.value);
}
