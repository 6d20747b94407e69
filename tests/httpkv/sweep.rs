//! Seed sweeps of the correct service.

use std::time::Duration;

use detsim::{Case, Seed, Sweep};
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
    // network, the chaos, the clients) is a function of the seed: the same
    // trace fingerprint and the same history summary twice.
    let options = short();
    let case = Case::new(Seed::new(7), None);
    let first = cluster::run(&case, &options).unwrap();
    let second = cluster::run(&case, &options).unwrap();
    assert_eq!(first.trace.fingerprint, second.trace.fingerprint);
    assert_eq!(first.value, second.value);
    assert!(first.value.operations > 100, "{:?}", first.value);
    assert!(first.value.answered > 50, "{:?}", first.value);
    assert!(first.value.faults > 0, "{:?}", first.value);
}
