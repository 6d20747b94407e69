//! Disk workloads: `disk-random-write`, `disk-append`. Events are disk
//! operations (writes and syncs), each with the default latency distributions.

use detsim::{Seed, Sim, random};
use detsim_disk::{DiskConfig, Disks, File, OpenOptions, Storage};

use super::{Sample, baseline, wall};

const BLOCK: usize = 4096;

/// 4 KiB writes at random 4 KiB-aligned offsets of a 64 MiB file, with a
/// `sync_data` every 16 writes.
pub fn random_write() -> Sample {
    const WRITES: u64 = 200_000;
    const FILE: u64 = 64 << 20;
    let events = WRITES + WRITES / 16;
    let mut sim = Sim::builder(Seed::new(11))
        .quiet()
        .build()
        .expect("valid config");
    let disks = Disks::install(&sim, DiskConfig::default()).expect("valid disk config");
    let node = sim.add_node("n1", |_| async {}).expect("fresh name");
    let (report, elapsed) = wall(|| {
        sim.run(async move {
            let storage = disks.storage(node).expect("a node's disk");
            let file = storage
                .open("/data", OpenOptions::read_write().create(true))
                .await
                .expect("create the file");
            file.set_len(FILE).await.expect("size the file");
            let block = vec![0x5A; BLOCK];
            for i in 1..=WRITES {
                let offset = random::with(|rng| rng.below(FILE / BLOCK as u64)) * BLOCK as u64;
                file.write_at(&block, offset).await.expect("write");
                if i % 16 == 0 {
                    file.sync_data().await.expect("sync");
                }
            }
        })
        .expect("disk-random-write runs")
    });
    let base = baseline(events, 1, (2_000, 10_000));
    Sample::new(
        "disk-random-write",
        events,
        elapsed,
        report.elapsed.as_secs_f64(),
        base,
    )
}

/// Sequential 4 KiB appends with a `sync_data` every 64, in 16 MiB segments
/// (a new segment is created and the old one removed, like a rotating WAL).
pub fn append() -> Sample {
    const APPENDS: u64 = 200_000;
    const SEGMENT: u64 = 4096;
    let events = APPENDS + APPENDS / 64;
    let mut sim = Sim::builder(Seed::new(12))
        .quiet()
        .build()
        .expect("valid config");
    let disks = Disks::install(&sim, DiskConfig::default()).expect("valid disk config");
    let node = sim.add_node("n1", |_| async {}).expect("fresh name");
    let (report, elapsed) = wall(|| {
        sim.run(async move {
            let storage = disks.storage(node).expect("a node's disk");
            let block = vec![0xA5; BLOCK];
            let create = OpenOptions::read_write().create(true);
            let mut file = storage.open("/wal-0", create).await.expect("create");
            for i in 1..=APPENDS {
                file.append(&block).await.expect("append");
                if i % 64 == 0 {
                    file.sync_data().await.expect("sync");
                }
                if i % SEGMENT == 0 {
                    let segment = i / SEGMENT;
                    file = storage
                        .open(&format!("/wal-{segment}"), create)
                        .await
                        .expect("next segment");
                    storage
                        .remove_file(&format!("/wal-{}", segment - 1))
                        .await
                        .expect("remove the old segment");
                    storage.sync_dir("/").await.expect("sync the directory");
                }
            }
        })
        .expect("disk-append runs")
    });
    let base = baseline(events, 1, (2_000, 10_000));
    Sample::new(
        "disk-append",
        events,
        elapsed,
        report.elapsed.as_secs_f64(),
        base,
    )
}
