//! The filesystem API: open options, directories, renames, reads and writes,
//! and a clear error for every misuse and bad input.

use std::io::ErrorKind;

use detsim::{Seed, Sim};
use detsim_disk::{
    CrashMode, DiskConfig, DiskError, Disks, FaultConfig, File, Latency, LatencyConfig,
    OpenOptions, Storage,
};

use super::{config, durable_file, fill, read_all, world};

fn kind<T: std::fmt::Debug>(result: std::io::Result<T>) -> ErrorKind {
    result.unwrap_err().kind()
}

#[test]
fn open_options_behave_like_open2() {
    // Proves create, create_new, truncate and access modes, with Linux's error kinds.
    let (mut sim, disks, n1) = world(1, config());
    sim.run(async move {
        let s = disks.storage(n1).unwrap();
        let rw = OpenOptions::read_write();
        assert_eq!(kind(s.open("/f", rw).await), ErrorKind::NotFound);
        let f = s.open("/f", rw.create(true)).await.unwrap();
        f.write_at(b"hello", 0).await.unwrap();
        assert_eq!(
            kind(s.open("/f", rw.create_new(true)).await),
            ErrorKind::AlreadyExists
        );
        let t = s.open("/f", rw.truncate(true)).await.unwrap();
        assert_eq!(t.len().unwrap(), 0);
        assert_eq!(f.len().unwrap(), 0, "both handles see the same inode");
        let ro = s.open("/f", OpenOptions::read_only()).await.unwrap();
        let error = ro.write_at(b"x", 0).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::PermissionDenied);
        assert_eq!(error.to_string(), "/f was not opened for writing");
        let wo = s
            .open("/f", OpenOptions::default().write(true))
            .await
            .unwrap();
        assert_eq!(
            kind(wo.read_at(&mut [0; 4], 0).await),
            ErrorKind::PermissionDenied
        );
        let invalid = [
            OpenOptions::default(),
            OpenOptions::read_only().create(true),
        ];
        for options in invalid {
            assert_eq!(kind(s.open("/f", options).await), ErrorKind::InvalidInput);
        }
        s.create_dir("/d").await.unwrap();
        assert_eq!(
            kind(s.open("/d", OpenOptions::read_only()).await),
            ErrorKind::IsADirectory
        );
        assert_eq!(
            kind(s.open("/missing/f", rw.create(true)).await),
            ErrorKind::NotFound
        );
        assert_eq!(
            kind(s.open("/f/g", rw.create(true)).await),
            ErrorKind::NotADirectory
        );
    })
    .unwrap();
}

#[test]
fn malformed_paths_are_invalid_input_everywhere() {
    // Proves `..`, `.`, empty components and NUL bytes are refused by every operation.
    let (mut sim, disks, n1) = world(1, config());
    sim.run(async move {
        let s = disks.storage(n1).unwrap();
        for path in ["", "/a//b", "/a/../b", "/./a", "/a/", "a\0b"] {
            let create = OpenOptions::read_write().create(true);
            assert_eq!(
                kind(s.open(path, create).await),
                ErrorKind::InvalidInput,
                "{path:?}"
            );
            assert_eq!(
                kind(s.create_dir(path).await),
                ErrorKind::InvalidInput,
                "{path:?}"
            );
            assert_eq!(
                kind(s.rename("/x", path).await),
                ErrorKind::InvalidInput,
                "{path:?}"
            );
            assert_eq!(
                kind(s.read_dir(path).await),
                ErrorKind::InvalidInput,
                "{path:?}"
            );
            assert_eq!(
                kind(s.sync_dir(path).await),
                ErrorKind::InvalidInput,
                "{path:?}"
            );
        }
        let error = s.remove_file("/a/..").await.unwrap_err();
        assert!(
            error.to_string().contains("has a \"..\" component"),
            "{error}"
        );
    })
    .unwrap();
}

#[test]
fn overflowing_offsets_are_invalid_input() {
    // Proves offsets past the largest file size are refused before touching anything.
    let (mut sim, disks, n1) = world(1, config());
    sim.run(async move {
        let s = disks.storage(n1).unwrap();
        let f = s
            .open("/f", OpenOptions::read_write().create(true))
            .await
            .unwrap();
        assert_eq!(
            kind(f.write_at(b"xy", u64::MAX - 1).await),
            ErrorKind::InvalidInput
        );
        assert_eq!(
            kind(f.write_at(b"x", i64::MAX as u64).await),
            ErrorKind::InvalidInput
        );
        assert_eq!(
            kind(f.read_at(&mut [0; 8], u64::MAX).await),
            ErrorKind::InvalidInput
        );
        assert_eq!(kind(f.set_len(u64::MAX).await), ErrorKind::InvalidInput);
        let error = f.write_at(b"xy", u64::MAX - 1).await.unwrap_err();
        assert!(
            error.to_string().contains("is not a valid file position"),
            "{error}"
        );
        assert_eq!(f.len().unwrap(), 0);
        // Past ext4's largest file (16 TiB - 4 KiB) but inside an i64: EFBIG, nothing written.
        let max = detsim_disk::FILE_SIZE_MAX;
        assert_eq!(max, (16 << 40) - 4096);
        assert_eq!(kind(f.write_at(b"z", max).await), ErrorKind::FileTooLarge);
        assert_eq!(
            kind(f.write_at(b"yz", max - 1).await),
            ErrorKind::FileTooLarge
        );
        assert_eq!(kind(f.set_len(max + 1).await), ErrorKind::FileTooLarge);
        f.write_at(b"", max + 1).await.unwrap();
        assert_eq!(f.read_at(&mut [0; 8], max + 1).await.unwrap(), 0);
        assert_eq!(f.len().unwrap(), 0);
        // The largest valid offset works, sparsely.
        f.write_at(b"z", max - 1).await.unwrap();
        assert_eq!(f.len().unwrap(), max);
        assert_eq!(disks.usage(n1).unwrap().used, 512);
    })
    .unwrap();
}

#[test]
fn a_closed_file_refuses_every_operation() {
    // Proves use after close is an InvalidInput error naming the file, and closing twice too.
    let (mut sim, disks, n1) = world(1, config());
    sim.run(async move {
        let s = disks.storage(n1).unwrap();
        let f = s
            .open("/f", OpenOptions::read_write().create(true))
            .await
            .unwrap();
        f.close().unwrap();
        let error = f.read_at(&mut [0; 1], 0).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidInput);
        assert_eq!(error.to_string(), "operation on a closed file: /f");
        assert_eq!(kind(f.write_at(b"x", 0).await), ErrorKind::InvalidInput);
        assert_eq!(kind(f.append(b"x").await), ErrorKind::InvalidInput);
        assert_eq!(kind(f.set_len(1).await), ErrorKind::InvalidInput);
        assert_eq!(kind(f.sync_data().await), ErrorKind::InvalidInput);
        assert_eq!(kind(f.sync_all().await), ErrorKind::InvalidInput);
        assert_eq!(kind(f.len()), ErrorKind::InvalidInput);
        assert_eq!(kind(f.close()), ErrorKind::InvalidInput);
    })
    .unwrap();
}

#[test]
fn directories_list_sorted_and_refuse_wrong_operations() {
    // Proves create/remove/list of directories and their error kinds.
    let (mut sim, disks, n1) = world(1, config());
    sim.run(async move {
        let s = disks.storage(n1).unwrap();
        s.create_dir("/d").await.unwrap();
        assert_eq!(kind(s.create_dir("/d").await), ErrorKind::AlreadyExists);
        for name in ["/d/b", "/d/c", "/d/a"] {
            s.open(name, OpenOptions::read_write().create(true))
                .await
                .unwrap();
        }
        s.create_dir("/d/sub").await.unwrap();
        assert_eq!(s.read_dir("/d").await.unwrap(), ["a", "b", "c", "sub"]);
        assert_eq!(s.read_dir("/").await.unwrap(), ["d"]);
        assert_eq!(kind(s.remove_dir("/d").await), ErrorKind::DirectoryNotEmpty);
        assert_eq!(kind(s.remove_file("/d/sub").await), ErrorKind::IsADirectory);
        assert_eq!(kind(s.remove_dir("/d/a").await), ErrorKind::NotADirectory);
        assert_eq!(kind(s.read_dir("/d/a").await), ErrorKind::NotADirectory);
        assert_eq!(kind(s.sync_dir("/d/a").await), ErrorKind::NotADirectory);
        assert_eq!(kind(s.remove_dir("/").await), ErrorKind::ResourceBusy);
        assert_eq!(kind(s.remove_file("/").await), ErrorKind::IsADirectory);
        assert_eq!(kind(s.create_dir("/").await), ErrorKind::AlreadyExists);
        assert_eq!(kind(s.read_dir("/nope").await), ErrorKind::NotFound);
        let meta = s.metadata("/d/sub").await.unwrap();
        assert!(meta.is_dir() && meta.is_empty());
        let f = s.open("/d/a", OpenOptions::read_write()).await.unwrap();
        f.append(b"12345").await.unwrap();
        let meta = s.metadata("/d/a").await.unwrap();
        assert!(meta.is_file());
        assert_eq!(meta.len(), 5);
        s.remove_dir("/d/sub").await.unwrap();
        assert_eq!(s.read_dir("/d").await.unwrap(), ["a", "b", "c"]);
    })
    .unwrap();
}

#[test]
fn rename_replaces_its_target_as_posix_says() {
    // Proves rename over a file, onto itself, and the refused cases.
    let (mut sim, disks, n1) = world(1, config());
    sim.run(async move {
        let s = disks.storage(n1).unwrap();
        durable_file(&s, "/a", b"from a").await;
        durable_file(&s, "/b", b"from b").await;
        s.rename("/a", "/b").await.unwrap();
        assert_eq!(s.read_dir("/").await.unwrap(), ["b"]);
        assert_eq!(read_all(&s, "/b").await.unwrap(), b"from a");
        s.rename("/b", "/b").await.unwrap();
        assert_eq!(kind(s.rename("/a", "/c").await), ErrorKind::NotFound);
        s.create_dir("/d").await.unwrap();
        s.create_dir("/d/e").await.unwrap();
        assert_eq!(
            kind(s.rename("/d", "/d/e/f").await),
            ErrorKind::InvalidInput
        );
        assert_eq!(kind(s.rename("/b", "/d").await), ErrorKind::IsADirectory);
        assert_eq!(kind(s.rename("/d/e", "/b").await), ErrorKind::NotADirectory);
        assert_eq!(kind(s.rename("/", "/x").await), ErrorKind::ResourceBusy);
        assert_eq!(kind(s.rename("/b", "/").await), ErrorKind::ResourceBusy);
        assert_eq!(
            kind(s.rename("/d/e", "/d").await),
            ErrorKind::DirectoryNotEmpty
        );
        s.rename("/b", "/d/e/b").await.unwrap();
        s.rename("/d", "/moved").await.unwrap();
        assert_eq!(read_all(&s, "/moved/e/b").await.unwrap(), b"from a");
    })
    .unwrap();
}

#[test]
fn a_removed_file_stays_usable_through_open_handles() {
    // Proves unlink semantics: the data lives until the last handle closes.
    let (mut sim, disks, n1) = world(1, config());
    sim.run(async move {
        let s = disks.storage(n1).unwrap();
        durable_file(&s, "/f", b"still here").await;
        let f = s.open("/f", OpenOptions::read_write()).await.unwrap();
        s.remove_file("/f").await.unwrap();
        s.sync_dir("/").await.unwrap();
        assert_eq!(kind(s.metadata("/f").await), ErrorKind::NotFound);
        f.append(b"!").await.unwrap();
        let mut buf = [0; 11];
        assert_eq!(f.read_at(&mut buf, 0).await.unwrap(), 11);
        assert_eq!(&buf, b"still here!");
        assert_eq!(disks.usage(n1).unwrap().used, 512);
        drop(f);
        assert_eq!(disks.usage(n1).unwrap().used, 0);
    })
    .unwrap();
}

#[test]
fn holes_read_as_zeros_and_reads_stop_at_the_end() {
    // Proves sparse writes, zero-filled holes, short reads and reads past the end.
    let (mut sim, disks, n1) = world(1, config());
    sim.run(async move {
        let s = disks.storage(n1).unwrap();
        let f = s
            .open("/f", OpenOptions::read_write().create(true))
            .await
            .unwrap();
        f.write_at(b"tail", 10_000).await.unwrap();
        assert_eq!(f.len().unwrap(), 10_004);
        let mut buf = vec![7; 16];
        assert_eq!(f.read_at(&mut buf, 0).await.unwrap(), 16);
        assert_eq!(buf, fill(0, 16));
        assert_eq!(f.read_at(&mut buf, 9_998).await.unwrap(), 6);
        assert_eq!(&buf[..6], b"\0\0tail");
        assert_eq!(f.read_at(&mut buf, 10_004).await.unwrap(), 0);
        assert_eq!(f.read_at(&mut buf, 50_000).await.unwrap(), 0);
        assert_eq!(f.append(b"+").await.unwrap(), 10_004);
        f.set_len(3).await.unwrap();
        f.set_len(10).await.unwrap();
        assert_eq!(read_all(&s, "/f").await.unwrap(), fill(0, 10));
        assert_eq!(
            disks.usage(n1).unwrap().used,
            0,
            "truncation freed the only sector"
        );
    })
    .unwrap();
}

#[test]
fn a_sparse_gigabyte_file_holds_only_what_was_written() {
    // Proves 10 MiB written across a 1 GiB file allocates 10 MiB, not 1 GiB.
    let (mut sim, disks, n1) = world(
        1,
        DiskConfig {
            sector_size: 4096,
            ..config()
        },
    );
    sim.run(async move {
        let s = disks.storage(n1).unwrap();
        let f = s
            .open("/big", OpenOptions::read_write().create(true))
            .await
            .unwrap();
        f.set_len(1 << 30).await.unwrap();
        let chunk = fill(0xAB, 64 << 10);
        for i in 0..160u64 {
            f.write_at(&chunk, i * (6 << 20)).await.unwrap();
        }
        f.sync_data().await.unwrap();
        assert_eq!(f.len().unwrap(), 1 << 30);
        assert_eq!(disks.usage(n1).unwrap().used, 10 << 20);
    })
    .unwrap();
}

#[test]
fn bad_configuration_is_refused_with_a_clear_message() {
    // Proves validation of sector size, capacity, probabilities and latency ranges.
    let cases = [
        (
            DiskConfig {
                sector_size: 1000,
                ..DiskConfig::default()
            },
            "invalid disk configuration: sector_size must be a power of two, got 1000",
        ),
        (
            DiskConfig {
                sector_size: 0,
                ..DiskConfig::default()
            },
            "sector_size must be a power of two, got 0",
        ),
        (
            DiskConfig {
                capacity: 0,
                ..DiskConfig::default()
            },
            "capacity must be above zero",
        ),
        (
            DiskConfig {
                crash: CrashMode::Adversarial {
                    apply_probability: 1.5,
                    torn_probability: 0.0,
                },
                ..DiskConfig::default()
            },
            "crash apply_probability must be in [0, 1], got 1.5",
        ),
        (
            DiskConfig {
                faults: FaultConfig {
                    sync_error_probability: f64::NAN,
                    ..FaultConfig::default()
                },
                ..DiskConfig::default()
            },
            "sync_error_probability must be in [0, 1], got NaN",
        ),
        (
            DiskConfig {
                latency: LatencyConfig {
                    read: Latency::Uniform {
                        min: std::time::Duration::from_millis(2),
                        max: std::time::Duration::from_millis(1),
                    },
                    ..LatencyConfig::default()
                },
                ..DiskConfig::default()
            },
            "read latency: min 2ms exceeds max 1ms",
        ),
    ];
    for (config, message) in cases {
        let sim = Sim::new(Seed::new(1));
        let error = Disks::install(&sim, config).unwrap_err();
        assert!(matches!(error, DiskError::InvalidConfig(_)));
        assert!(error.to_string().contains(message), "{error}");
    }
    let (mut sim, disks, n1) = world(1, config());
    let again = Disks::install(&sim, DiskConfig::default()).unwrap_err();
    assert!(again.to_string().contains("already installed"), "{again}");
    sim.run(async move {
        assert!(disks.set_slow(n1, 0).is_err());
        assert!(disks.set_capacity(n1, 0).is_err());
        let bad = FaultConfig {
            read_error_probability: -0.1,
            ..FaultConfig::default()
        };
        assert!(disks.set_faults(n1, bad).is_err());
        let unknown = disks.storage("n9").unwrap_err();
        assert_eq!(unknown.to_string(), "unknown node \"n9\"");
    })
    .unwrap();
}

#[test]
fn misuse_outside_a_node_or_a_simulation_is_an_error_not_a_panic() {
    // Proves the ambient API and stray handles report what to do instead of panicking.
    let mut sim = Sim::new(Seed::new(1));
    sim.add_node("n1", |_| async {}).unwrap();
    let missing = sim
        .run(async { detsim_disk::storage().unwrap_err() })
        .unwrap()
        .value;
    assert_eq!(missing, DiskError::NotInstalled);
    let disks = Disks::install(&sim, config()).unwrap();
    let harness = sim
        .run(async { detsim_disk::storage().unwrap_err() })
        .unwrap()
        .value;
    assert_eq!(harness, DiskError::NotANode);
    assert!(harness.to_string().contains("use `Disks::storage(node)`"));
    let outside = disks.storage("n1").unwrap_err();
    assert!(matches!(outside, DiskError::OutsideSimulation(_)));
    assert_eq!(
        Disks::current().unwrap_err(),
        DiskError::OutsideSimulation("Disks::current")
    );
    let storage = sim.run({
        let disks = disks.clone();
        async move { disks.storage("n1").unwrap() }
    });
    let storage = storage.unwrap().value;
    let error = futures::executor::block_on(storage.read_dir("/")).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Other);
    assert!(
        error.to_string().contains("outside the simulation"),
        "{error}"
    );
    let via_ambient = sim.run(async {
        detsim_disk::open("/x", OpenOptions::read_only())
            .await
            .unwrap_err()
    });
    assert!(
        via_ambient
            .unwrap()
            .value
            .to_string()
            .contains("test harness has no disk")
    );
}

#[test]
fn paths_and_ranges_are_checked_as_linux_does() {
    // Proves PATH_MAX (4096 bytes with the NUL) and NAME_MAX limits, and that an invalid
    // range is InvalidInput even on a handle that lacks the access (Linux checks it first).
    let (mut sim, disks, n1) = world(1, config());
    sim.run(async move {
        let s = disks.storage(n1).unwrap();
        let longest = format!("/{}/xx", ["x"; 2046].join("/"));
        assert_eq!(longest.len(), detsim_disk::PATH_MAX - 1);
        assert_eq!(kind(s.metadata(&longest).await), ErrorKind::NotFound);
        let too_long = format!("{longest}y");
        let error = s.metadata(&too_long).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidInput);
        assert!(error.to_string().contains("PATH_MAX is 4096"), "{error}");
        let name = "n".repeat(detsim_disk::NAME_MAX + 1);
        assert_eq!(kind(s.create_dir(&name).await), ErrorKind::InvalidInput);
        s.create_dir(&name[1..]).await.unwrap();
        let f = s
            .open("/f", OpenOptions::read_write().create(true))
            .await
            .unwrap();
        f.write_at(b"x", 0).await.unwrap();
        let read_only = s.open("/f", OpenOptions::read_only()).await.unwrap();
        assert_eq!(
            kind(read_only.write_at(b"x", u64::MAX).await),
            ErrorKind::InvalidInput
        );
        assert_eq!(
            kind(read_only.set_len(u64::MAX).await),
            ErrorKind::InvalidInput
        );
        assert_eq!(
            kind(read_only.write_at(b"x", 0).await),
            ErrorKind::PermissionDenied
        );
        let write_only = s
            .open("/f", OpenOptions::default().write(true))
            .await
            .unwrap();
        assert_eq!(
            kind(write_only.read_at(&mut [0; 4], u64::MAX).await),
            ErrorKind::InvalidInput
        );
        assert_eq!(
            kind(write_only.read_at(&mut [0; 4], 0).await),
            ErrorKind::PermissionDenied
        );
    })
    .unwrap();
}
