//! Disk faults driven by a fault plan: applied at their instant, undone after
//! their duration, validated before the run.

use std::cell::RefCell;
use std::io::ErrorKind;
use std::rc::Rc;
use std::time::Duration;

use detsim::{Fault, Plan, PlanEntry, time};
use detsim_disk::{File, OpenOptions, Storage, is_media_error};

use super::{config, durable_file, read_all, world};

fn entry(at_ms: u64, fault: Fault, for_ms: u64) -> PlanEntry {
    PlanEntry::new(
        Duration::from_millis(at_ms),
        fault,
        Some(Duration::from_millis(for_ms)),
    )
}

/// Each second, `n1` writes and syncs; records what each sync returned.
fn sync_outcomes(plan: Plan) -> Vec<String> {
    let (mut sim, disks, n1) = world(3, config());
    sim.apply_plan(plan).unwrap();
    let seen = Rc::new(RefCell::new(Vec::new()));
    let s = seen.clone();
    sim.run(async move {
        let storage = disks.storage(n1).unwrap();
        let file = storage
            .open("/log", OpenOptions::read_write().create(true))
            .await
            .unwrap();
        for i in 0..5u64 {
            time::sleep_until(time::Instant::from_nanos(i * 1_000_000_000 + 500_000_000)).await;
            let write = file.write_at(&[i as u8; 100], i * 1024).await;
            let sync = file.sync_data().await;
            let outcome = match (write, sync) {
                (Err(e), _) if e.kind() == ErrorKind::StorageFull => "full".to_owned(),
                (Err(e), _) if is_media_error(&e) => "write EIO".to_owned(),
                (Ok(_), Err(e)) if is_media_error(&e) => "sync EIO".to_owned(),
                (Ok(_), Ok(())) => "ok".to_owned(),
                (w, s) => format!("{w:?} {s:?}"),
            };
            s.borrow_mut().push(format!("{i}: {outcome}"));
        }
    })
    .unwrap();
    seen.take()
}

#[test]
fn fsync_errors_hold_for_their_duration() {
    // Syncs at 1.5 s and 2.5 s fail (p = 1 from 1 s for 2 s); before and after they succeed.
    let outcomes = sync_outcomes(Plan::new(vec![entry(
        1000,
        Fault::DiskFsyncErrors {
            node: "n1".into(),
            probability: 1.0,
        },
        2000,
    )]));
    assert_eq!(
        outcomes,
        ["0: ok", "1: sync EIO", "2: sync EIO", "3: ok", "4: ok"]
    );
}

#[test]
fn write_errors_and_a_full_disk_hold_for_their_duration() {
    // Write EIO from 1 s to 2 s, then a full disk from 3 s to 4 s.
    let outcomes = sync_outcomes(Plan::new(vec![
        entry(
            1000,
            Fault::DiskWriteErrors {
                node: "n1".into(),
                probability: 1.0,
            },
            1000,
        ),
        entry(3000, Fault::DiskFull { node: "n1".into() }, 1000),
    ]));
    assert_eq!(
        outcomes,
        ["0: ok", "1: write EIO", "2: ok", "3: full", "4: ok"]
    );
}

#[test]
fn overlapping_faults_of_one_kind_restore_the_baseline_when_the_last_ends() {
    // Two overlapping full-disk faults (1–3 s and 1.5–3.5 s): full until 3.5 s, then space again.
    let outcomes = sync_outcomes(Plan::new(vec![
        entry(1000, Fault::DiskFull { node: "n1".into() }, 2000),
        entry(1500, Fault::DiskFull { node: "n1".into() }, 2000),
    ]));
    assert_eq!(outcomes, ["0: ok", "1: full", "2: full", "3: ok", "4: ok"]);
    // The same for fsync errors overlapping with different probabilities.
    let outcomes = sync_outcomes(Plan::new(vec![
        entry(
            1000,
            Fault::DiskFsyncErrors {
                node: "n1".into(),
                probability: 1.0,
            },
            1000,
        ),
        entry(
            1200,
            Fault::DiskFsyncErrors {
                node: "n1".into(),
                probability: 1.0,
            },
            2500,
        ),
    ]));
    assert_eq!(
        outcomes,
        [
            "0: ok",
            "1: sync EIO",
            "2: sync EIO",
            "3: sync EIO",
            "4: ok"
        ]
    );
}

#[test]
fn a_slow_disk_multiplies_latency_until_undone() {
    // With 1 ms per write, a 10x slow disk from 1 s to 2 s makes the write at 1.5 s take 10 ms.
    let mut cfg = config();
    cfg.latency = detsim_disk::LatencyConfig {
        write: detsim_disk::Latency::Fixed(Duration::from_millis(1)),
        ..detsim_disk::LatencyConfig::ZERO
    };
    let (mut sim, disks, n1) = world(3, cfg);
    sim.apply_plan(Plan::new(vec![entry(
        1000,
        Fault::DiskSlow {
            node: "n1".into(),
            factor: 10.0,
        },
        1000,
    )]))
    .unwrap();
    let report = sim
        .run(async move {
            let storage = disks.storage(n1).unwrap();
            let file = storage
                .open("/f", OpenOptions::read_write().create(true))
                .await
                .unwrap();
            let mut took = Vec::new();
            for at in [500u64, 1500, 2500] {
                time::sleep_until(time::Instant::from_nanos(at * 1_000_000)).await;
                let start = time::now();
                file.write_at(b"x", 0).await.unwrap();
                took.push((time::now() - start).as_millis());
            }
            took
        })
        .unwrap();
    assert_eq!(report.value, [1, 10, 1]);
}

#[test]
fn corruption_from_a_plan_rots_one_sector_of_a_file_deterministically() {
    // The same seed rots the same bytes; the rest of the file is intact.
    let rotten = |seed| {
        let (mut sim, disks, n1) = world(seed, config());
        sim.apply_plan(Plan::new(vec![PlanEntry::new(
            Duration::from_secs(1),
            Fault::DiskCorrupt {
                node: "n1".into(),
                file: Some("/data".into()),
            },
            None,
        )]))
        .unwrap();
        sim.run(async move {
            let storage = disks.storage(n1).unwrap();
            durable_file(&storage, "/data", &[0xAB; 2048]).await;
            time::sleep(Duration::from_secs(2)).await;
            read_all(&storage, "/data").await.unwrap()
        })
        .unwrap()
        .value
    };
    let bytes = rotten(11);
    assert_eq!(bytes.len(), 2048);
    let changed: Vec<usize> = (0..2048).filter(|i| bytes[*i] != 0xAB).collect();
    assert!(!changed.is_empty(), "something rotted");
    assert!(
        changed.iter().all(|i| i / 512 == changed[0] / 512),
        "within one 512-byte sector"
    );
    assert_eq!(rotten(11), bytes, "same seed, same rot");
}

#[test]
fn disk_faults_of_a_plan_are_validated_against_the_disks() {
    // Without disks installed the plan is rejected; a missing file is skipped at run time, traced.
    let mut sim = detsim::Sim::new(detsim::Seed::new(1));
    sim.add_node("n1", |_| async {}).unwrap();
    let err = sim
        .apply_plan(Plan::new(vec![entry(
            10,
            Fault::DiskFull { node: "n1".into() },
            10,
        )]))
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("no installed extension applies disk_full faults"),
        "{err}"
    );
    let (mut sim, _disks, _n1) = world(1, config());
    sim.apply_plan(Plan::new(vec![PlanEntry::new(
        Duration::from_millis(10),
        Fault::DiskCorrupt {
            node: "n1".into(),
            file: Some("/missing".into()),
        },
        None,
    )]))
    .unwrap();
    let report = sim.run_for(Duration::from_secs(1)).unwrap();
    let skipped: Vec<String> = report
        .trace
        .events
        .iter()
        .filter(|e| matches!(e.kind, detsim::EventKind::FaultSkipped { .. }))
        .map(|e| e.kind.to_string())
        .collect();
    assert_eq!(
        skipped,
        ["fault #0 skipped: no file \"/missing\" on n1's disk"]
    );
}
