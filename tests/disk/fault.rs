//! The storage fault model: each fault injected by hand and drawn from the
//! seed, with the exact bytes seen afterwards (and after a restart).

use std::io::ErrorKind;

use detsim_disk::{
    Corruption, CrashMode, DiskConfig, DiskError, Fault, FaultConfig, File, OpenOptions, Storage,
    is_media_error,
};

use super::{config, crash_restart, disk_events, durable_file, fill, read_all, sectors, world};

/// Un-synced data is simply lost at a crash, so only the faults show.
fn simple() -> DiskConfig {
    DiskConfig {
        crash: CrashMode::LoseUnsynced,
        ..config()
    }
}

fn abc() -> Vec<u8> {
    [fill(b'A', 512), fill(b'B', 512), fill(b'C', 512)].concat()
}

fn path(p: &str) -> String {
    p.to_owned()
}

#[test]
fn a_latent_sector_error_fails_reads_of_its_sector_until_rewritten() {
    // Proves an LSE is EIO on that sector only, survives restarts, and a synced rewrite remaps it.
    let (mut sim, disks, n1) = world(1, simple());
    sim.run(async move {
        let storage = disks.storage(n1).unwrap();
        durable_file(&storage, "/f", &abc()).await;
        let fault = Fault::LatentSectorError {
            path: path("/f"),
            offset: 600,
        };
        disks.inject(n1, fault).unwrap();
        let file = storage.open("/f", OpenOptions::read_write()).await.unwrap();
        let mut buf = vec![0; 512];
        file.read_at(&mut buf, 0).await.unwrap();
        assert_eq!(buf, fill(b'A', 512));
        let error = file.read_at(&mut buf, 1000).await.unwrap_err();
        assert!(is_media_error(&error), "{error}");
        assert_eq!(error.raw_os_error(), Some(5));
        file.read_at(&mut buf, 1024).await.unwrap();
        crash_restart(n1);
        assert!(is_media_error(&read_all(&storage, "/f").await.unwrap_err()));
        let file = storage.open("/f", OpenOptions::read_write()).await.unwrap();
        file.write_at(&fill(b'D', 512), 512).await.unwrap();
        // Dirty data is served from the cache: no media read, no error.
        assert_eq!(
            sectors(&read_all(&storage, "/f").await.unwrap(), 512),
            "ADC"
        );
        file.sync_data().await.unwrap();
        crash_restart(n1);
        let bytes = read_all(&storage, "/f").await.unwrap();
        assert!(bytes == [fill(b'A', 512), fill(b'D', 512), fill(b'C', 512)].concat());
    })
    .unwrap();
}

#[test]
fn random_latent_sector_errors_are_sticky_and_come_from_the_seed() {
    // Proves seed 1 with read_error_probability 0.2 fails sectors 2, 3, then also 4, 5, and never heals them.
    let (mut sim, disks, n1) = world(1, config());
    let report = sim
        .run(async move {
            let storage = disks.storage(n1).unwrap();
            durable_file(&storage, "/f", &fill(b'A', 4096)).await;
            let faults = FaultConfig {
                read_error_probability: 0.2,
                ..FaultConfig::default()
            };
            disks.set_faults(n1, faults).unwrap();
            let file = storage.open("/f", OpenOptions::read_only()).await.unwrap();
            let mut rounds = Vec::new();
            for _ in 0..2 {
                let mut round = String::new();
                for index in 0..8u64 {
                    let mut buf = vec![0; 512];
                    let ok = file.read_at(&mut buf, index * 512).await.is_ok();
                    round.push(if ok { '.' } else { 'E' });
                }
                rounds.push(round);
            }
            rounds
        })
        .unwrap();
    assert_eq!(report.value, ["..EE....", "..EEEE.."]);
    // args: inode, sector, new (1) or already known (0).
    assert_eq!(
        disk_events(&report.trace, "disk.fault.read_error"),
        [
            "disk.fault.read_error [1, 2, 1, 0]",
            "disk.fault.read_error [1, 3, 1, 0]",
            "disk.fault.read_error [1, 2, 0, 0]",
            "disk.fault.read_error [1, 3, 0, 0]",
            "disk.fault.read_error [1, 4, 1, 0]",
            "disk.fault.read_error [1, 5, 1, 0]",
        ]
    );
}

#[test]
fn silent_corruption_flips_one_bit_at_rest() {
    // Proves a bit flip is read back without an error, at the exact bit, and stays after a restart.
    let (mut sim, disks, n1) = world(1, simple());
    sim.run(async move {
        let storage = disks.storage(n1).unwrap();
        durable_file(&storage, "/f", &abc()).await;
        let corruption = Corruption::BitFlip { bit: 8 * 10 + 1 };
        let fault = Fault::Corrupt {
            path: path("/f"),
            offset: 512,
            corruption,
        };
        disks.inject(n1, fault).unwrap();
        let mut expected = abc();
        expected[512 + 10] = b'B' ^ 0b10;
        assert!(read_all(&storage, "/f").await.unwrap() == expected);
        crash_restart(n1);
        let bytes = read_all(&storage, "/f").await.unwrap();
        assert_eq!(bytes[512 + 10], b'@');
        assert!(bytes == expected);
    })
    .unwrap();
}

#[test]
fn a_zeroed_sector_reads_as_zeros() {
    // Proves a zeroed sector is silent and persistent.
    let (mut sim, disks, n1) = world(1, simple());
    sim.run(async move {
        let storage = disks.storage(n1).unwrap();
        durable_file(&storage, "/f", &abc()).await;
        let fault = Fault::Corrupt {
            path: path("/f"),
            offset: 1100,
            corruption: Corruption::Zero,
        };
        disks.inject(n1, fault).unwrap();
        assert_eq!(
            sectors(&read_all(&storage, "/f").await.unwrap(), 512),
            "AB0"
        );
        crash_restart(n1);
        let bytes = read_all(&storage, "/f").await.unwrap();
        assert!(bytes == [fill(b'A', 512), fill(b'B', 512), fill(0, 512)].concat());
    })
    .unwrap();
}

#[test]
fn random_corruption_rots_sectors_the_seed_chooses() {
    // Proves seed 5 with corruption_probability 0.3 flips one bit in sectors 0 and 2 and zeroes sector 6.
    let (mut sim, disks, n1) = world(5, config());
    let report = sim
        .run(async move {
            let storage = disks.storage(n1).unwrap();
            durable_file(&storage, "/f", &fill(b'A', 4096)).await;
            let faults = FaultConfig {
                corruption_probability: 0.3,
                ..FaultConfig::default()
            };
            disks.set_faults(n1, faults).unwrap();
            let first = read_all(&storage, "/f").await.unwrap();
            disks.set_faults(n1, FaultConfig::default()).unwrap();
            crash_restart(n1);
            (first, read_all(&storage, "/f").await.unwrap())
        })
        .unwrap();
    let (first, after_restart) = report.value;
    assert_eq!(sectors(&first, 512), "?A?AAA0A");
    assert!(first == after_restart, "the rot is at rest");
    for sector in [0, 2] {
        let chunk = &first[sector * 512..(sector + 1) * 512];
        let flipped: u32 = chunk.iter().map(|b| (b ^ b'A').count_ones()).sum();
        assert_eq!(flipped, 1, "sector {sector} has exactly one flipped bit");
    }
    assert_eq!(
        disk_events(&report.trace, "disk.fault.corrupt"),
        [
            "disk.fault.corrupt [1, 0, 0, 0]",
            "disk.fault.corrupt [1, 2, 0, 0]",
            "disk.fault.corrupt [1, 6, 0, 0]",
        ]
    );
}

#[test]
fn a_lost_write_is_acknowledged_but_never_persisted() {
    // Proves a lost write is visible in the cache, gone once the cache drops it or the node crashes.
    let (mut sim, disks, n1) = world(1, simple());
    sim.run(async move {
        let storage = disks.storage(n1).unwrap();
        durable_file(&storage, "/f", &abc()).await;
        disks
            .inject(n1, Fault::LoseNextWrite { path: path("/f") })
            .unwrap();
        let file = storage.open("/f", OpenOptions::read_write()).await.unwrap();
        file.write_at(&fill(b'X', 512), 512).await.unwrap();
        file.write_at(&fill(b'Y', 512), 1024).await.unwrap();
        file.sync_data().await.unwrap();
        assert_eq!(
            sectors(&read_all(&storage, "/f").await.unwrap(), 512),
            "AXY"
        );
        disks.drop_caches(n1).unwrap();
        assert_eq!(
            sectors(&read_all(&storage, "/f").await.unwrap(), 512),
            "ABY"
        );
        crash_restart(n1);
        let bytes = read_all(&storage, "/f").await.unwrap();
        assert!(bytes == [fill(b'A', 512), fill(b'B', 512), fill(b'Y', 512)].concat());
    })
    .unwrap();
}

#[test]
fn random_lost_writes_come_from_the_seed() {
    // Proves seed 0 with lost_write_probability 0.5 loses the first and third of four synced writes.
    let (mut sim, disks, n1) = world(0, simple());
    let report = sim
        .run(async move {
            let storage = disks.storage(n1).unwrap();
            durable_file(&storage, "/f", &fill(b'A', 2048)).await;
            let faults = FaultConfig {
                lost_write_probability: 0.5,
                ..FaultConfig::default()
            };
            disks.set_faults(n1, faults).unwrap();
            let file = storage.open("/f", OpenOptions::read_write()).await.unwrap();
            for (i, byte) in [b'B', b'C', b'D', b'E'].into_iter().enumerate() {
                file.write_at(&fill(byte, 512), i as u64 * 512)
                    .await
                    .unwrap();
            }
            file.sync_data().await.unwrap();
            crash_restart(n1);
            read_all(&storage, "/f").await.unwrap()
        })
        .unwrap();
    assert_eq!(sectors(&report.value, 512), "ACAE");
    assert_eq!(disk_events(&report.trace, "disk.fault.lost_write").len(), 2);
}

#[test]
fn a_misdirected_write_lands_at_another_offset() {
    // Proves the aimed-at sector keeps its old bytes and another sector gets the new ones.
    let (mut sim, disks, n1) = world(1, simple());
    sim.run(async move {
        let storage = disks.storage(n1).unwrap();
        durable_file(&storage, "/f", &fill(b'A', 2048)).await;
        let fault = Fault::MisdirectNextWrite {
            path: path("/f"),
            shift_sectors: 2,
        };
        disks.inject(n1, fault).unwrap();
        let file = storage.open("/f", OpenOptions::read_write()).await.unwrap();
        file.write_at(&fill(b'B', 512), 0).await.unwrap();
        file.sync_data().await.unwrap();
        crash_restart(n1);
        let bytes = read_all(&storage, "/f").await.unwrap();
        assert_eq!(sectors(&bytes, 512), "AABA");
        assert!(bytes == [fill(b'A', 1024), fill(b'B', 512), fill(b'A', 512)].concat());
    })
    .unwrap();
}

#[test]
fn random_misdirected_writes_come_from_the_seed() {
    // Proves seed 3 sends a write aimed at sector 3 to sector 4.
    let (mut sim, disks, n1) = world(3, simple());
    let report = sim
        .run(async move {
            let storage = disks.storage(n1).unwrap();
            durable_file(&storage, "/f", &fill(b'A', 4096)).await;
            let faults = FaultConfig {
                misdirected_write_probability: 1.0,
                ..FaultConfig::default()
            };
            disks.set_faults(n1, faults).unwrap();
            let file = storage.open("/f", OpenOptions::read_write()).await.unwrap();
            file.write_at(&fill(b'B', 512), 3 * 512).await.unwrap();
            file.sync_data().await.unwrap();
            crash_restart(n1);
            read_all(&storage, "/f").await.unwrap()
        })
        .unwrap();
    assert_eq!(sectors(&report.value, 512), "AAAABAAA");
    // args: inode, offset, length, shift in sectors.
    assert_eq!(
        disk_events(&report.trace, "disk.fault.misdirected_write"),
        ["disk.fault.misdirected_write [1, 1536, 512, 1]"]
    );
}

#[test]
fn a_failed_write_returns_eio_and_writes_nothing() {
    // Proves a write error leaves the file untouched and the next write works.
    let (mut sim, disks, n1) = world(1, simple());
    sim.run(async move {
        let storage = disks.storage(n1).unwrap();
        durable_file(&storage, "/f", &fill(b'A', 512)).await;
        disks
            .inject(n1, Fault::FailNextWrite { path: path("/f") })
            .unwrap();
        let file = storage.open("/f", OpenOptions::read_write()).await.unwrap();
        let error = file.append(&fill(b'B', 512)).await.unwrap_err();
        assert!(is_media_error(&error));
        assert_eq!(file.len().unwrap(), 512);
        file.append(&fill(b'C', 512)).await.unwrap();
        file.sync_data().await.unwrap();
        crash_restart(n1);
        assert_eq!(sectors(&read_all(&storage, "/f").await.unwrap(), 512), "AC");
    })
    .unwrap();
}

#[test]
fn fsyncgate_a_failed_sync_drops_the_dirty_data_and_a_retry_succeeds() {
    // Proves Linux's page-cache behaviour: EIO once, then a "successful" retry, and the data is lost.
    let (mut sim, disks, n1) = world(1, simple());
    let report = sim
        .run(async move {
            let storage = disks.storage(n1).unwrap();
            durable_file(&storage, "/f", &fill(b'A', 1024)).await;
            disks
                .inject(n1, Fault::FailNextSync { path: path("/f") })
                .unwrap();
            let file = storage.open("/f", OpenOptions::read_write()).await.unwrap();
            file.write_at(&fill(b'B', 512), 0).await.unwrap();
            file.append(&fill(b'C', 512)).await.unwrap();
            let error = file.sync_data().await.unwrap_err();
            assert!(is_media_error(&error));
            // The pages are marked clean but still cached: reads see the new bytes...
            assert_eq!(
                sectors(&read_all(&storage, "/f").await.unwrap(), 512),
                "BAC"
            );
            // ...and the retry reports success, though nothing reaches the media.
            file.sync_data().await.unwrap();
            crash_restart(n1);
            read_all(&storage, "/f").await.unwrap()
        })
        .unwrap();
    assert!(report.value == fill(b'A', 1024));
    // args: inode, dirty operations dropped.
    assert_eq!(
        disk_events(&report.trace, "disk.fault.sync_error"),
        ["disk.fault.sync_error [1, 2, 0, 0]"]
    );
}

#[test]
fn random_write_and_sync_errors_come_from_the_seed() {
    // Proves seed 0's exact sequence of write/sync failures and the holes the dropped data leaves.
    let (mut sim, disks, n1) = world(0, simple());
    let report = sim
        .run(async move {
            let storage = disks.storage(n1).unwrap();
            durable_file(&storage, "/f", b"").await;
            let faults = FaultConfig {
                sync_error_probability: 0.5,
                write_error_probability: 0.2,
                ..FaultConfig::default()
            };
            disks.set_faults(n1, faults).unwrap();
            let file = storage.open("/f", OpenOptions::read_write()).await.unwrap();
            let mut log = String::new();
            for i in 0..8u8 {
                let written = file.append(&fill(b'a' + i, 512)).await.is_ok();
                log.push(if written { 'w' } else { 'W' });
                let synced = file.sync_data().await.is_ok();
                log.push(if synced { 's' } else { 'S' });
            }
            crash_restart(n1);
            (log, read_all(&storage, "/f").await.unwrap())
        })
        .unwrap();
    let (log, bytes) = report.value;
    // W: write EIO, S: sync EIO (its data dropped). A sync with nothing dirty cannot fail.
    assert_eq!(log, "WswSwswswSwsWswS");
    assert_eq!(sectors(&bytes, 512), "0cd0f");
}

#[test]
fn writes_past_the_capacity_fail_with_storage_full() {
    // Proves ENOSPC at capacity, that overwrites need no space, and that a durable removal frees it.
    let (mut sim, disks, n1) = world(
        1,
        DiskConfig {
            capacity: 2048,
            ..simple()
        },
    );
    let report = sim
        .run(async move {
            let storage = disks.storage(n1).unwrap();
            let file = storage
                .open("/f", OpenOptions::read_write().create(true))
                .await
                .unwrap();
            file.write_at(&fill(b'A', 1536), 0).await.unwrap();
            let error = file.append(&fill(b'B', 1024)).await.unwrap_err();
            assert_eq!(error.kind(), ErrorKind::StorageFull);
            assert!(
                error.to_string().contains("no space left on device"),
                "{error}"
            );
            assert_eq!(file.len().unwrap(), 1536);
            file.append(&fill(b'B', 512)).await.unwrap();
            file.write_at(&fill(b'C', 2048), 0).await.unwrap();
            assert_eq!(disks.usage(n1).unwrap().used, 2048);
            file.close().unwrap();
            storage.remove_file("/f").await.unwrap();
            // Until the removal is durable a crash may bring the file back: it keeps its space.
            assert_eq!(disks.usage(n1).unwrap().used, 2048);
            storage.sync_dir("/").await.unwrap();
            assert_eq!(disks.usage(n1).unwrap().used, 0);
            disks.set_capacity(n1, 512).unwrap();
            let g = storage
                .open("/g", OpenOptions::read_write().create(true))
                .await
                .unwrap();
            g.append(&fill(b'D', 512)).await.unwrap();
            g.append(b"x").await.unwrap_err().kind()
        })
        .unwrap();
    assert_eq!(report.value, ErrorKind::StorageFull);
    assert_eq!(disk_events(&report.trace, "disk.fault.no_space").len(), 2);
}

#[test]
fn injection_at_a_bad_target_is_a_clear_error() {
    // Proves every way of aiming a fault wrong is reported, not ignored.
    let (mut sim, disks, n1) = world(1, config());
    sim.run(async move {
        let storage = disks.storage(n1).unwrap();
        durable_file(&storage, "/f", &fill(b'A', 100)).await;
        storage.create_dir("/d").await.unwrap();
        let cases = [
            (
                Fault::FailNextSync {
                    path: path("/nope"),
                },
                "no such file or directory: /nope",
            ),
            (
                Fault::FailNextSync { path: path("/d") },
                "it is a directory",
            ),
            (
                Fault::LatentSectorError {
                    path: path("/f"),
                    offset: 100,
                },
                "offset 100 is past the end",
            ),
            (
                Fault::MisdirectNextWrite {
                    path: path("/f"),
                    shift_sectors: 0,
                },
                "non-zero shift",
            ),
            (
                Fault::Corrupt {
                    path: path("/f"),
                    offset: 0,
                    corruption: Corruption::BitFlip { bit: 4096 },
                },
                "bit 4096 is past the sector",
            ),
            (
                Fault::LoseNextWrite { path: path("../f") },
                "\"..\" component",
            ),
        ];
        for (fault, needle) in cases {
            let error = disks.inject(n1, fault).unwrap_err();
            assert!(matches!(error, DiskError::FaultTarget { .. }));
            assert!(error.to_string().contains(needle), "{error}");
        }
    })
    .unwrap();
}
