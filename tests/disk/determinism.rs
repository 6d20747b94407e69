//! Determinism: the same seed gives the same trace, disk decisions included;
//! each disk draws from its own streams.

use std::time::Duration;

use detsim::{Seed, Sim, check_determinism, random};
use detsim_disk::{DiskConfig, Disks, FaultConfig, File, OpenOptions, Storage};

use super::{crash_restart, read_all, sectors};

fn chaotic() -> DiskConfig {
    DiskConfig {
        sector_size: 512,
        faults: FaultConfig {
            read_error_probability: 0.01,
            corruption_probability: 0.01,
            lost_write_probability: 0.05,
            misdirected_write_probability: 0.05,
            write_error_probability: 0.05,
            sync_error_probability: 0.1,
        },
        ..DiskConfig::default()
    }
}

/// A node that writes, reads and syncs at random offsets forever.
fn scribbler(sim: &mut Sim, name: &str) -> detsim::NodeId {
    sim.add_node(name, |_| async {
        let storage = detsim_disk::storage().unwrap();
        let Ok(file) = storage
            .open("/data", OpenOptions::read_write().create(true))
            .await
        else {
            return;
        };
        let _ = storage.sync_dir("/").await;
        for i in 0u64.. {
            let offset = random::with(|rng| rng.below(16)) * 300;
            let _ = file.write_at(&[i as u8; 700], offset).await;
            if i % 3 == 0 {
                let _ = file.sync_data().await;
            }
            let _ = file.read_at(&mut [0; 512], offset).await;
        }
    })
    .unwrap()
}

fn run(mut sim: Sim) -> Result<detsim::Report<Vec<u8>>, detsim::Failure> {
    Disks::install(&sim, chaotic()).unwrap();
    let n1 = scribbler(&mut sim, "n1");
    let disks = sim.extension::<Disks>().unwrap();
    sim.run(async move {
        for _ in 0..4 {
            let wait = random::with(|rng| 1 + rng.below(5_000));
            detsim::time::sleep(Duration::from_micros(wait)).await;
            crash_restart(n1);
        }
        detsim::time::sleep(Duration::from_millis(3)).await;
        let storage = disks.storage(n1).unwrap();
        detsim::handle().crash(n1).unwrap();
        read_all(&storage, "/data").await.unwrap_or_default()
    })
}

#[test]
fn the_same_seed_gives_the_same_trace_under_crashes_and_faults() {
    // Proves every disk op, fault and crash decision replays identically for three seeds.
    for seed in 1..=3 {
        let fingerprint = check_determinism(Sim::builder(Seed::new(seed)).quiet(), run);
        if let Err(divergence) = fingerprint {
            panic!("{divergence}");
        }
    }
}

#[test]
fn different_seeds_give_different_disks() {
    // Proves the seed drives the disk: two seeds, two traces and two final files.
    let a = run(Sim::builder(Seed::new(1)).quiet().build().unwrap()).unwrap();
    let b = run(Sim::builder(Seed::new(2)).quiet().build().unwrap()).unwrap();
    assert_ne!(a.trace.fingerprint, b.trace.fingerprint);
    assert_ne!(a.value, b.value);
}

#[test]
fn another_nodes_disk_activity_does_not_shift_this_disks_decisions() {
    // Proves per-disk named streams: n1's crash outcome is the same with or without a busy n2.
    let outcome = |with_n2: bool| {
        let mut sim = Sim::builder(Seed::new(4)).quiet().build().unwrap();
        let disks = Disks::install(&sim, chaotic()).unwrap();
        let n1 = sim.add_node("n1", |_| async {}).unwrap();
        if with_n2 {
            scribbler(&mut sim, "n2");
        }
        sim.run(async move {
            let storage = disks.storage(n1).unwrap();
            disks.set_faults(n1, FaultConfig::default()).unwrap();
            let file = storage
                .open("/f", OpenOptions::read_write().create(true))
                .await
                .unwrap();
            file.sync_all().await.unwrap();
            storage.sync_dir("/").await.unwrap();
            for (i, byte) in (b'a'..=b'h').enumerate() {
                file.write_at(&[byte; 512], i as u64 * 512).await.unwrap();
            }
            detsim::time::sleep(Duration::from_millis(5)).await;
            crash_restart(n1);
            sectors(&read_all(&storage, "/f").await.unwrap(), 512)
        })
        .unwrap()
        .value
    };
    let alone = outcome(false);
    assert_eq!(alone, outcome(true));
    assert_eq!(alone, "00cde0g");
}
