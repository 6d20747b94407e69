//! Crash semantics: what survives a crash of un-synced data, lengths and names.

use std::cell::RefCell;
use std::io::ErrorKind;
use std::rc::Rc;
use std::time::Duration;

use detsim::{Seed, Sim};
use detsim_disk::{CrashMode, DiskConfig, Disks, File, OpenOptions, Storage};

use super::{config, crash_restart, disk_events, durable_file, fill, read_all, sectors, world};

fn mode(apply_probability: f64, torn_probability: f64) -> DiskConfig {
    DiskConfig {
        crash: CrashMode::Adversarial {
            apply_probability,
            torn_probability,
        },
        ..config()
    }
}

fn concat(parts: &[Vec<u8>]) -> Vec<u8> {
    parts.concat()
}

#[test]
fn unsynced_writes_are_lost_in_the_simple_mode() {
    // Proves LoseUnsynced keeps exactly the synced bytes and length.
    let (mut sim, disks, n1) = world(
        1,
        DiskConfig {
            crash: CrashMode::LoseUnsynced,
            ..config()
        },
    );
    sim.run(async move {
        let storage = disks.storage(n1).unwrap();
        durable_file(&storage, "/f", &fill(b'A', 512)).await;
        let file = storage.open("/f", OpenOptions::read_write()).await.unwrap();
        file.write_at(&fill(b'B', 512), 0).await.unwrap();
        file.append(&fill(b'C', 100)).await.unwrap();
        assert_eq!(read_all(&storage, "/f").await.unwrap().len(), 612);
        crash_restart(n1);
        assert_eq!(read_all(&storage, "/f").await.unwrap(), fill(b'A', 512));
    })
    .unwrap();
}

#[test]
fn unsynced_writes_can_all_be_applied() {
    // Proves the adversarial mode may apply every un-synced write (apply_probability 1).
    let (mut sim, disks, n1) = world(1, mode(1.0, 0.0));
    sim.run(async move {
        let storage = disks.storage(n1).unwrap();
        durable_file(&storage, "/f", &fill(b'A', 512)).await;
        let file = storage.open("/f", OpenOptions::read_write()).await.unwrap();
        file.write_at(&fill(b'B', 512), 0).await.unwrap();
        file.append(&fill(b'C', 100)).await.unwrap();
        crash_restart(n1);
        let expected = concat(&[fill(b'B', 512), fill(b'C', 100)]);
        assert_eq!(read_all(&storage, "/f").await.unwrap(), expected);
    })
    .unwrap();
}

#[test]
fn a_later_write_survives_while_an_earlier_one_is_lost() {
    // Proves reordering: for seed 1 the second un-synced write is durable and the first is not.
    let (mut sim, disks, n1) = world(1, mode(0.5, 0.0));
    let report = sim
        .run(async move {
            let storage = disks.storage(n1).unwrap();
            durable_file(&storage, "/f", &fill(b'A', 1024)).await;
            let file = storage.open("/f", OpenOptions::read_write()).await.unwrap();
            file.write_at(&fill(b'B', 512), 0).await.unwrap();
            file.write_at(&fill(b'C', 512), 512).await.unwrap();
            crash_restart(n1);
            read_all(&storage, "/f").await.unwrap()
        })
        .unwrap();
    assert_eq!(sectors(&report.value, 512), "AC");
    assert!(report.value == concat(&[fill(b'A', 512), fill(b'C', 512)]));
    // args: inode, op sequence, outcome (0 lost, 1 applied), sector mask.
    assert_eq!(
        disk_events(&report.trace, "disk.crash.write"),
        [
            "disk.crash.write [1, 6, 0, 0]".to_string(),
            format!("disk.crash.write [1, 7, 1, {}]", u64::MAX),
        ]
    );
}

#[test]
fn a_multi_sector_write_tears_at_sector_granularity() {
    // Proves a torn write leaves some of its sectors new and the others old, for seed 10.
    let (mut sim, disks, n1) = world(10, mode(0.0, 1.0));
    let report = sim
        .run(async move {
            let storage = disks.storage(n1).unwrap();
            durable_file(&storage, "/f", &fill(b'A', 2048)).await;
            let file = storage.open("/f", OpenOptions::read_write()).await.unwrap();
            file.write_at(&fill(b'B', 2048), 0).await.unwrap();
            crash_restart(n1);
            read_all(&storage, "/f").await.unwrap()
        })
        .unwrap();
    let expected = concat(&[
        fill(b'B', 512),
        fill(b'A', 512),
        fill(b'B', 512),
        fill(b'A', 512),
    ]);
    assert_eq!(sectors(&report.value, 512), "BABA");
    assert!(report.value == expected);
    // args: inode, op sequence, outcome (2 torn), mask of durable sectors (0 and 2).
    assert_eq!(
        disk_events(&report.trace, "disk.crash.write"),
        [format!("disk.crash.write [1, 6, 2, {}]", 0b0101)]
    );
}

#[test]
fn a_torn_append_extends_the_length_over_zeros() {
    // Proves the classic ALICE symptom (seed 3): the size update lands, a middle appended sector reads as zeros.
    let (mut sim, disks, n1) = world(3, mode(0.0, 1.0));
    let bytes = sim
        .run(async move {
            let storage = disks.storage(n1).unwrap();
            durable_file(&storage, "/log", b"").await;
            let file = storage
                .open("/log", OpenOptions::read_write())
                .await
                .unwrap();
            file.append(&fill(b'R', 1536)).await.unwrap();
            crash_restart(n1);
            read_all(&storage, "/log").await.unwrap()
        })
        .unwrap()
        .value;
    assert_eq!(sectors(&bytes, 512), "R0R");
    assert!(bytes == concat(&[fill(b'R', 512), fill(0, 512), fill(b'R', 512)]));
}

#[test]
fn length_changes_are_durable_only_after_a_sync() {
    // Proves an un-synced truncation is undone by a crash and a synced one is not.
    let (mut sim, disks, n1) = world(
        1,
        DiskConfig {
            crash: CrashMode::LoseUnsynced,
            ..config()
        },
    );
    sim.run(async move {
        let storage = disks.storage(n1).unwrap();
        durable_file(&storage, "/f", &fill(b'A', 1024)).await;
        let file = storage.open("/f", OpenOptions::read_write()).await.unwrap();
        file.set_len(100).await.unwrap();
        assert_eq!(file.len().unwrap(), 100);
        crash_restart(n1);
        assert_eq!(read_all(&storage, "/f").await.unwrap(), fill(b'A', 1024));
        let file = storage.open("/f", OpenOptions::read_write()).await.unwrap();
        file.set_len(100).await.unwrap();
        file.sync_data().await.unwrap();
        file.set_len(700).await.unwrap();
        crash_restart(n1);
        assert_eq!(read_all(&storage, "/f").await.unwrap(), fill(b'A', 100));
    })
    .unwrap();
}

#[test]
fn a_created_file_without_a_directory_sync_vanishes() {
    // Proves a synced file whose name was never made durable is gone after a crash (ALICE).
    let (mut sim, disks, n1) = world(
        1,
        DiskConfig {
            crash: CrashMode::LoseUnsynced,
            ..config()
        },
    );
    sim.run(async move {
        let storage = disks.storage(n1).unwrap();
        durable_file(&storage, "/old", b"old").await;
        let file = storage
            .open("/new", OpenOptions::read_write().create(true))
            .await
            .unwrap();
        file.write_at(b"new", 0).await.unwrap();
        file.sync_all().await.unwrap();
        assert_eq!(storage.read_dir("/").await.unwrap(), ["new", "old"]);
        crash_restart(n1);
        assert_eq!(storage.read_dir("/").await.unwrap(), ["old"]);
        let error = read_all(&storage, "/new").await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::NotFound);
        assert_eq!(disks.usage(n1).unwrap().used, 512);
    })
    .unwrap();
}

#[test]
fn write_then_rename_without_a_directory_sync_can_lose_the_rename() {
    // Proves the ALICE atomic-replace bug: without sync_dir the old contents come back.
    for (sync_dir, names, contents) in [
        (false, vec!["config"], b"version 1".as_slice()),
        (true, vec!["config"], b"version 2".as_slice()),
    ] {
        let (mut sim, disks, n1) = world(
            1,
            DiskConfig {
                crash: CrashMode::LoseUnsynced,
                ..config()
            },
        );
        sim.run(async move {
            let storage = disks.storage(n1).unwrap();
            durable_file(&storage, "/config", b"version 1").await;
            let tmp = storage
                .open("/config.tmp", OpenOptions::read_write().create(true))
                .await
                .unwrap();
            tmp.write_at(b"version 2", 0).await.unwrap();
            tmp.sync_all().await.unwrap();
            storage.rename("/config.tmp", "/config").await.unwrap();
            if sync_dir {
                storage.sync_dir("/").await.unwrap();
            }
            assert_eq!(read_all(&storage, "/config").await.unwrap(), b"version 2");
            crash_restart(n1);
            assert_eq!(storage.read_dir("/").await.unwrap(), names);
            assert_eq!(read_all(&storage, "/config").await.unwrap(), contents);
        })
        .unwrap();
    }
}

#[test]
fn a_removed_file_reappears_without_a_directory_sync() {
    // Proves removal is a directory operation: un-synced, the file and its data come back.
    let (mut sim, disks, n1) = world(
        1,
        DiskConfig {
            crash: CrashMode::LoseUnsynced,
            ..config()
        },
    );
    sim.run(async move {
        let storage = disks.storage(n1).unwrap();
        durable_file(&storage, "/a", b"alive").await;
        storage.remove_file("/a").await.unwrap();
        assert!(storage.read_dir("/").await.unwrap().is_empty());
        crash_restart(n1);
        assert_eq!(storage.read_dir("/").await.unwrap(), ["a"]);
        assert_eq!(read_all(&storage, "/a").await.unwrap(), b"alive");
        storage.remove_file("/a").await.unwrap();
        storage.sync_dir("/").await.unwrap();
        crash_restart(n1);
        assert!(storage.read_dir("/").await.unwrap().is_empty());
        assert_eq!(disks.usage(n1).unwrap().used, 0);
    })
    .unwrap();
}

#[test]
fn unsynced_directory_operations_survive_as_a_prefix() {
    // Proves the adversarial mode keeps a prefix of the directory journal: for seed 5, two of three.
    let (mut sim, disks, n1) = world(5, mode(0.5, 0.0));
    let report = sim
        .run(async move {
            let storage = disks.storage(n1).unwrap();
            for name in ["/a", "/b", "/c"] {
                storage
                    .open(name, OpenOptions::read_write().create(true))
                    .await
                    .unwrap();
            }
            crash_restart(n1);
            storage.read_dir("/").await.unwrap()
        })
        .unwrap();
    assert_eq!(report.value, ["a", "b"]);
    // args: sequence, kind (0 link), inode, survived.
    assert_eq!(
        disk_events(&report.trace, "disk.crash.name"),
        [
            "disk.crash.name [1, 0, 1, 1]",
            "disk.crash.name [3, 0, 2, 1]",
            "disk.crash.name [5, 0, 3, 0]",
        ]
    );
}

#[test]
fn a_new_directory_needs_its_parent_synced() {
    // Proves durability is per directory: syncing /d does not make /d itself durable.
    let (mut sim, disks, n1) = world(
        1,
        DiskConfig {
            crash: CrashMode::LoseUnsynced,
            ..config()
        },
    );
    sim.run(async move {
        let storage = disks.storage(n1).unwrap();
        storage.create_dir("/d").await.unwrap();
        durable_file_in(&storage, "/d/f").await;
        storage.sync_dir("/d").await.unwrap();
        crash_restart(n1);
        assert!(storage.read_dir("/").await.unwrap().is_empty());
        storage.create_dir("/d").await.unwrap();
        storage.sync_dir("/").await.unwrap();
        durable_file_in(&storage, "/d/f").await;
        storage.sync_dir("/d").await.unwrap();
        crash_restart(n1);
        assert_eq!(storage.read_dir("/d").await.unwrap(), ["f"]);
        assert_eq!(read_all(&storage, "/d/f").await.unwrap(), b"inside");
    })
    .unwrap();
}

async fn durable_file_in(storage: &detsim_disk::SimStorage, path: &str) {
    let file = storage
        .open(path, OpenOptions::read_write().create(true))
        .await
        .unwrap();
    file.write_at(b"inside", 0).await.unwrap();
    file.sync_all().await.unwrap();
}

#[test]
fn a_restarted_node_finds_its_durable_state_through_the_ambient_disk() {
    // Proves the disk survives crash and restart, and init sees exactly the synced value.
    let mut sim = Sim::builder(Seed::new(9)).quiet().build().unwrap();
    Disks::install(
        &sim,
        DiskConfig {
            crash: CrashMode::LoseUnsynced,
            ..DiskConfig::default()
        },
    )
    .unwrap();
    // (incarnation, the state it found)
    type Seen = Rc<RefCell<Vec<(u64, Vec<u8>)>>>;
    let seen: Seen = Rc::default();
    let log = seen.clone();
    let n1 = sim
        .add_node("n1", move |ctx| {
            let log = log.clone();
            async move {
                let file = detsim_disk::open("/state", OpenOptions::read_write().create(true))
                    .await
                    .unwrap();
                let mut buf = vec![0; file.len().unwrap() as usize];
                file.read_at(&mut buf, 0).await.unwrap();
                log.borrow_mut().push((ctx.incarnation(), buf));
                if ctx.incarnation() == 0 {
                    file.write_at(b"v1", 0).await.unwrap();
                    file.sync_all().await.unwrap();
                    detsim_disk::storage().unwrap().sync_dir("/").await.unwrap();
                    file.write_at(b"v2", 0).await.unwrap();
                }
                std::future::pending::<()>().await;
            }
        })
        .unwrap();
    sim.run(async move {
        detsim::time::sleep(Duration::from_secs(1)).await;
        crash_restart(n1);
        detsim::time::sleep(Duration::from_secs(1)).await;
    })
    .unwrap();
    assert_eq!(*seen.borrow(), [(0, Vec::new()), (1, b"v1".to_vec())]);
}

#[test]
fn handles_opened_before_a_crash_are_stale() {
    // Proves a file handle does not outlive its node's crash.
    let (mut sim, disks, n1) = world(1, config());
    sim.run(async move {
        let storage = disks.storage(n1).unwrap();
        durable_file(&storage, "/f", b"x").await;
        let file = storage.open("/f", OpenOptions::read_write()).await.unwrap();
        crash_restart(n1);
        let error = file.write_at(b"y", 0).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidInput);
        assert!(
            error.to_string().contains("stale file handle: /f"),
            "{error}"
        );
        assert!(file.len().is_err());
    })
    .unwrap();
}

/// Runs `body` on a fresh world with the default (adversarial) crash mode, for seeds 0..20.
fn for_seeds(
    body: impl Fn(
        detsim_disk::SimStorage,
        detsim::NodeId,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>,
) {
    for seed in 0..20 {
        let (mut sim, disks, n1) = world(seed, DiskConfig::default());
        let storage = sim.enter(|_| disks.storage(n1).unwrap());
        sim.run(body(storage, n1)).unwrap();
    }
}

#[test]
fn a_file_renamed_across_directories_survives_under_its_new_name_only() {
    // Proves the reproduction: create /a/x, sync it, rename to /b/x, sync /b then /a,
    // crash: /b lists x and /a does not, for every seed of the default crash mode.
    for_seeds(|storage, n1| {
        Box::pin(async move {
            storage.create_dir("/a").await.unwrap();
            storage.create_dir("/b").await.unwrap();
            storage.sync_dir("/").await.unwrap();
            durable_file_in(&storage, "/a/x").await;
            storage.rename("/a/x", "/b/x").await.unwrap();
            storage.sync_dir("/b").await.unwrap();
            storage.sync_dir("/a").await.unwrap();
            crash_restart(n1);
            assert!(storage.read_dir("/a").await.unwrap().is_empty());
            assert_eq!(storage.read_dir("/b").await.unwrap(), ["x"]);
            assert_eq!(read_all(&storage, "/b/x").await.unwrap(), b"inside");
        })
    });
}

#[test]
fn a_new_file_renamed_into_a_directory_never_keeps_two_names() {
    // Proves the shorter reproduction: create /x, rename to /a/x, sync /a, sync /,
    // crash: only /a/x exists.
    for_seeds(|storage, n1| {
        Box::pin(async move {
            storage.create_dir("/a").await.unwrap();
            storage.sync_dir("/").await.unwrap();
            durable_file_in(&storage, "/x").await;
            storage.rename("/x", "/a/x").await.unwrap();
            storage.sync_dir("/a").await.unwrap();
            storage.sync_dir("/").await.unwrap();
            crash_restart(n1);
            assert_eq!(storage.read_dir("/").await.unwrap(), ["a"]);
            assert_eq!(storage.read_dir("/a").await.unwrap(), ["x"]);
        })
    });
}

#[test]
fn a_renamed_directory_keeps_its_synced_contents_under_the_new_name() {
    // Proves a directory moved into another, with both parents synced, survives whole.
    for_seeds(|storage, n1| {
        Box::pin(async move {
            storage.create_dir("/d").await.unwrap();
            storage.create_dir("/p").await.unwrap();
            storage.sync_dir("/").await.unwrap();
            durable_file_in(&storage, "/d/f").await;
            storage.sync_dir("/d").await.unwrap();
            storage.rename("/d", "/p/moved").await.unwrap();
            storage.sync_dir("/p").await.unwrap();
            crash_restart(n1);
            assert_eq!(storage.read_dir("/").await.unwrap(), ["p"]);
            assert_eq!(storage.read_dir("/p").await.unwrap(), ["moved"]);
            assert_eq!(read_all(&storage, "/p/moved/f").await.unwrap(), b"inside");
        })
    });
}
