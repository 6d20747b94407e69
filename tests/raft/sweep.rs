//! Seed sweeps of the correct store.

use detsim::{Case, Seed, Sweep};
use examples::raft::cluster::{self, Options};

#[test]
fn the_store_stays_linearizable_and_live_under_chaos() {
    // Proves: with crashes, power losses, every partition kind, clogs, clock
    // skew and disk faults, every seed's history is linearizable, nodes apply
    // the same entries, and a client is served after the faults heal.
    // (kv-sweep runs the same test for 10 000 seeds in release.)
    let options = Options::default();
    let report = Sweep::new("raft_linearizable_under_chaos")
        .seeds(24)
        .progress(false)
        .run(|case| cluster::run(case, &options))
        .unwrap();
    report.assert_passed();
}

#[test]
fn a_seed_replays_bit_for_bit() {
    // Proves the whole cluster (network, disks, chaos, clients) is a
    // function of the seed: the same trace fingerprint twice.
    let options = Options {
        chaos_end: std::time::Duration::from_secs(6),
        ..Options::default()
    };
    let case = Case::new(Seed::new(7), None);
    let first = cluster::run(&case, &options).unwrap();
    let second = cluster::run(&case, &options).unwrap();
    assert_eq!(first.trace.fingerprint, second.trace.fingerprint);
    assert_eq!(first.value, second.value);
    assert!(first.value.operations > 50, "{:?}", first.value);
    assert!(first.value.faults > 0);
}
