//! A write-ahead log written once against the `Storage` traits: it passes the
//! same test on a real temporary directory and in simulation, recovers exactly
//! the durable prefix after crashes (ALICE-style), and detects torn records.

use std::cell::RefCell;
use std::io::{self, ErrorKind};
use std::rc::Rc;
use std::time::Duration;

use detsim::{Seed, Sim, TraceMode, random};
use detsim_disk::{
    CrashMode, DiskConfig, Disks, FaultConfig, File, OpenOptions, RealStorage, Storage,
    is_media_error,
};

use super::{config, crash_restart, disk_events, world};

/// CRC-32 (IEEE), bit by bit: small and dependency-free.
pub(crate) fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for byte in bytes {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = (crc >> 1) ^ (0xEDB8_8320 & (crc & 1).wrapping_neg());
        }
    }
    !crc
}

const HEADER: u64 = 8;
const RECORD_MAX: u64 = 1 << 20;

/// An append-only log of checksummed records: `[len u32][crc32 u32][payload]`.
pub(crate) struct Wal<S: Storage> {
    file: S::File,
    end: u64,
    /// Set by a failed write or sync: the cache may hold what the disk does
    /// not (fsyncgate), so the only safe way on is to recover from the disk.
    poisoned: bool,
}

impl<S: Storage> Wal<S> {
    /// Opens `path`, creating it durably if needed, and returns the records
    /// of its longest valid prefix; anything after it is cut off.
    pub(crate) async fn open(storage: &S, path: &str) -> io::Result<(Wal<S>, Vec<Vec<u8>>)> {
        let created = match storage.metadata(path).await {
            Ok(_) => false,
            Err(error) if error.kind() == ErrorKind::NotFound => true,
            Err(error) => return Err(error),
        };
        let file = storage
            .open(path, OpenOptions::read_write().create(true))
            .await?;
        if created {
            file.sync_all().await?;
            storage.sync_dir("/").await?;
        }
        let len = file.len()?;
        let mut records = Vec::new();
        let mut offset = 0;
        while let Some(record) = read_record(&file, offset, len).await? {
            offset += HEADER + record.len() as u64;
            records.push(record);
        }
        if offset < len {
            file.set_len(offset).await?;
            file.sync_data().await?;
        }
        let wal = Wal {
            file,
            end: offset,
            poisoned: false,
        };
        Ok((wal, records))
    }

    /// Appends `records` and syncs once (group commit): when this returns
    /// `Ok`, they are durable.
    pub(crate) async fn append(&mut self, records: &[&[u8]]) -> io::Result<()> {
        if self.poisoned {
            return Err(io::Error::other(
                "the log failed before: reopen it to recover",
            ));
        }
        let mut buf = Vec::new();
        for payload in records {
            assert!(!payload.is_empty() && payload.len() as u64 <= RECORD_MAX);
            buf.extend((payload.len() as u32).to_le_bytes());
            buf.extend(crc32(payload).to_le_bytes());
            buf.extend(*payload);
        }
        let result = async {
            self.file.write_at(&buf, self.end).await?;
            self.file.sync_data().await
        }
        .await;
        match result {
            Ok(()) => {
                self.end += buf.len() as u64;
                Ok(())
            }
            Err(error) => {
                // Never retry a failed fsync: the retry would "succeed" with nothing on disk.
                self.poisoned = true;
                Err(error)
            }
        }
    }
}

/// The record at `offset`, or `None` at the end of the valid prefix (short,
/// torn, corrupt, or unreadable).
async fn read_record<F: File>(file: &F, offset: u64, len: u64) -> io::Result<Option<Vec<u8>>> {
    if offset + HEADER > len {
        return Ok(None);
    }
    let mut header = [0u8; HEADER as usize];
    match file.read_at(&mut header, offset).await {
        Ok(n) if n == header.len() => {}
        Ok(_) => return Ok(None),
        Err(error) if is_media_error(&error) => return Ok(None),
        Err(error) => return Err(error),
    }
    let size = u64::from(u32::from_le_bytes(header[..4].try_into().unwrap()));
    let crc = u32::from_le_bytes(header[4..].try_into().unwrap());
    if size == 0 || size > RECORD_MAX || offset + HEADER + size > len {
        return Ok(None);
    }
    let mut payload = vec![0; size as usize];
    match file.read_at(&mut payload, offset + HEADER).await {
        Ok(n) if n == payload.len() => {}
        Ok(_) => return Ok(None),
        Err(error) if is_media_error(&error) => return Ok(None),
        Err(error) => return Err(error),
    }
    Ok((crc32(&payload) == crc).then_some(payload))
}

/// The scenario both backends must pass: append, reopen, recover, cut a
/// garbage tail.
async fn roundtrip<S: Storage>(storage: &S) {
    let (mut wal, records) = Wal::open(storage, "/wal").await.unwrap();
    assert!(records.is_empty());
    wal.append(&[b"one", b"two"]).await.unwrap();
    wal.append(&[b"three"]).await.unwrap();
    drop(wal);
    let (_, records) = Wal::open(storage, "/wal").await.unwrap();
    assert_eq!(
        records,
        [b"one".to_vec(), b"two".to_vec(), b"three".to_vec()]
    );
    // A half-written record at the end (a crash mid-append) is cut off.
    let file = storage
        .open("/wal", OpenOptions::read_write())
        .await
        .unwrap();
    file.append(&[9, 0, 0, 0, 1, 2, 3, 4, b'x']).await.unwrap();
    file.sync_data().await.unwrap();
    let len = file.len().unwrap();
    let (mut wal, records) = Wal::open(storage, "/wal").await.unwrap();
    assert_eq!(records.len(), 3);
    assert_eq!(file.len().unwrap(), len - 9);
    wal.append(&[b"four"]).await.unwrap();
    let (_, records) = Wal::open(storage, "/wal").await.unwrap();
    assert_eq!(records.last().unwrap(), b"four");
    assert_eq!(storage.read_dir("/").await.unwrap(), ["wal"]);
}

#[test]
fn the_wal_passes_its_test_on_the_real_filesystem() {
    // Proves the generic WAL runs on std::fs through RealStorage.
    let root = std::env::temp_dir().join(format!("detsim-disk-wal-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    let storage = RealStorage::new(&root).unwrap();
    futures::executor::block_on(roundtrip(&storage));
    let bad = futures::executor::block_on(storage.open("/a/../b", OpenOptions::read_only()));
    assert_eq!(bad.unwrap_err().kind(), ErrorKind::InvalidInput);
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn the_same_wal_passes_the_same_test_in_simulation() {
    // Proves the identical generic code and scenario run on a simulated disk.
    let (mut sim, disks, n1) = world(1, DiskConfig::default());
    sim.run(async move { roundtrip(&disks.storage(n1).unwrap()).await })
        .unwrap();
}

/// What a node wrote and what it recovered, per incarnation.
#[derive(Debug, Default)]
struct Ledger {
    /// Records whose append returned (durable by contract).
    acked: usize,
    /// Records handed to an append.
    attempted: usize,
    /// `acked` when each crash struck.
    acked_at_crash: Vec<usize>,
    /// What each recovery returned (`None`: it failed on a media error).
    recovered: Vec<Option<Vec<Vec<u8>>>>,
}

fn record(i: usize) -> Vec<u8> {
    // 700..1900 bytes: records straddle 512-byte sectors, so appends can tear.
    let len = 700 + (i * 389) % 1200;
    (0..len).map(|j| (i * 31 + j) as u8).collect()
}

/// A node that recovers its log, then appends batches of records forever.
fn logging_node(
    ledger: Rc<RefCell<Ledger>>,
) -> impl Fn(detsim::NodeContext) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()>>> {
    move |_| {
        let ledger = ledger.clone();
        Box::pin(async move {
            let storage = detsim_disk::storage().unwrap();
            let (mut wal, records) = match Wal::open(&storage, "/wal").await {
                Ok(opened) => opened,
                Err(_) => {
                    // A media fault during recovery: fail-stop, try again after a restart.
                    ledger.borrow_mut().recovered.push(None);
                    return;
                }
            };
            let mut next = records.len();
            ledger.borrow_mut().recovered.push(Some(records));
            loop {
                let batch: Vec<Vec<u8>> = (next..next + 3).map(record).collect();
                let refs: Vec<&[u8]> = batch.iter().map(Vec::as_slice).collect();
                {
                    let mut l = ledger.borrow_mut();
                    l.attempted = l.attempted.max(next + 3);
                }
                if wal.append(&refs).await.is_err() {
                    return; // fail-stop: recovery happens after the restart
                }
                next += 3;
                let mut l = ledger.borrow_mut();
                l.acked = l.acked.max(next);
            }
        })
    }
}

/// Runs a logging node through `crashes` crash/restart cycles, each at a
/// seeded time after the node recovered, and returns its ledger and the
/// world's trace.
fn crash_cycles(seed: u64, config: DiskConfig, crashes: usize) -> (Ledger, detsim::Trace) {
    let mut sim = Sim::builder(Seed::new(seed))
        .trace(TraceMode::RECORD)
        .quiet()
        .build()
        .unwrap();
    Disks::install(&sim, config).unwrap();
    let ledger: Rc<RefCell<Ledger>> = Rc::default();
    let n1 = sim.add_node("n1", logging_node(ledger.clone())).unwrap();
    let watched = ledger.clone();
    let report = sim
        .run(async move {
            for cycle in 0..crashes {
                wait_for_recovery(&watched, cycle + 1).await;
                let wait = random::with(|rng| 1 + rng.below(20_000));
                detsim::time::sleep(Duration::from_micros(wait)).await;
                let acked = watched.borrow().acked;
                watched.borrow_mut().acked_at_crash.push(acked);
                crash_restart(n1);
            }
            wait_for_recovery(&watched, crashes + 1).await;
        })
        .unwrap();
    let ledger = std::mem::take(&mut *ledger.borrow_mut());
    (ledger, report.trace)
}

/// Waits (at most one virtual second) until `count` recoveries happened.
async fn wait_for_recovery(ledger: &RefCell<Ledger>, count: usize) {
    for _ in 0..10_000 {
        if ledger.borrow().recovered.len() >= count {
            return;
        }
        detsim::time::sleep(Duration::from_micros(100)).await;
    }
    panic!("the node did not recover {count} time(s) within a second");
}

#[test]
fn an_append_only_log_recovers_exactly_the_durable_prefix() {
    // Proves, over 40 seeds of adversarial crashes, every acknowledged record is recovered and nothing else but a valid prefix.
    let adversarial = DiskConfig {
        sector_size: 512,
        ..DiskConfig::default()
    };
    let mut beyond_acked = 0;
    for seed in 0..40 {
        let (ledger, _) = crash_cycles(seed, adversarial.clone(), 3);
        assert_eq!(
            ledger.recovered.len(),
            4,
            "seed {seed}: four incarnations recovered"
        );
        let acked = std::iter::once(0).chain(ledger.acked_at_crash.iter().copied());
        for (recovered, acked) in ledger.recovered.iter().zip(acked) {
            let recovered = recovered.as_ref().expect("no media faults here");
            assert!(
                recovered.len() >= acked,
                "seed {seed}: lost acknowledged records"
            );
            assert!(
                recovered.len() <= ledger.attempted,
                "seed {seed}: invented records"
            );
            for (i, payload) in recovered.iter().enumerate() {
                assert!(
                    *payload == record(i),
                    "seed {seed}: record {i} is not what was written"
                );
            }
            beyond_acked += usize::from(recovered.len() > acked);
        }
    }
    // The adversary did apply some un-acknowledged appends: recovery is not just "what was acked".
    assert!(beyond_acked > 0);
}

#[test]
fn a_fixed_seed_recovers_a_fixed_log() {
    // Proves for seed 7 the exact records acknowledged at each crash and recovered after it.
    let (ledger, _) = crash_cycles(
        7,
        DiskConfig {
            sector_size: 512,
            ..DiskConfig::default()
        },
        3,
    );
    let counts: Vec<usize> = ledger
        .recovered
        .iter()
        .map(|r| r.as_ref().unwrap().len())
        .collect();
    assert_eq!(counts, [0, 24, 63, 63]);
    assert_eq!(ledger.acked_at_crash, [24, 63, 63]);
}

#[test]
fn a_torn_multi_sector_record_is_detected_by_its_checksum() {
    // Proves seed 3 tears the third record's write (first and last sectors durable, the middle not) and recovery drops it.
    let torn = DiskConfig {
        crash: CrashMode::Adversarial {
            apply_probability: 0.0,
            torn_probability: 1.0,
        },
        ..config()
    };
    let (mut sim, disks, n1) = world(3, torn);
    let report = sim
        .run(async move {
            let storage = disks.storage(n1).unwrap();
            let (mut wal, _) = Wal::open(&storage, "/wal").await.unwrap();
            wal.append(&[&record(0)]).await.unwrap();
            let file = storage
                .open("/wal", OpenOptions::read_write())
                .await
                .unwrap();
            let mut third = Vec::new();
            let payload = record(1);
            third.extend((payload.len() as u32).to_le_bytes());
            third.extend(crc32(&payload).to_le_bytes());
            third.extend(&payload);
            // Written, not synced: the crash decides its fate sector by sector.
            file.write_at(&third, file.len().unwrap()).await.unwrap();
            crash_restart(n1);
            let len = file_len(&storage).await;
            let (_, records) = Wal::open(&storage, "/wal").await.unwrap();
            (len, records)
        })
        .unwrap();
    let (len_after_crash, records) = report.value;
    assert_eq!(len_after_crash, 708 + 1097, "the size update landed");
    assert_eq!(records, [record(0)]);
    assert_eq!(
        disk_events(&report.trace, "disk.crash.write"),
        [format!("disk.crash.write [1, 7, 2, {}]", 0b101)]
    );
}

async fn file_len(storage: &detsim_disk::SimStorage) -> u64 {
    storage.metadata("/wal").await.unwrap().len()
}

#[test]
fn the_wal_never_returns_a_damaged_record_under_media_faults() {
    // Proves, over 30 seeds with every random fault on, recovery returns only intact records in order.
    let faulty = DiskConfig {
        sector_size: 512,
        faults: FaultConfig {
            read_error_probability: 0.002,
            corruption_probability: 0.002,
            lost_write_probability: 0.01,
            misdirected_write_probability: 0.01,
            write_error_probability: 0.01,
            sync_error_probability: 0.02,
        },
        ..DiskConfig::default()
    };
    let mut seen = std::collections::BTreeSet::new();
    for seed in 0..30 {
        let (ledger, trace) = crash_cycles(seed, faulty.clone(), 3);
        for recovered in ledger.recovered.iter().flatten() {
            for (i, payload) in recovered.iter().enumerate() {
                assert!(
                    *payload == record(i),
                    "seed {seed}: damaged record {i} returned"
                );
            }
        }
        for event in &trace.events {
            if let detsim::EventKind::Ext { name, .. } = &event.kind {
                if name.starts_with("disk.fault.") {
                    seen.insert(name.to_string());
                }
            }
        }
    }
    let expected = [
        "disk.fault.corrupt",
        "disk.fault.lost_write",
        "disk.fault.misdirected_write",
        "disk.fault.read_error",
        "disk.fault.sync_error",
        "disk.fault.write_error",
    ];
    assert_eq!(
        seen.iter().map(String::as_str).collect::<Vec<_>>(),
        expected
    );
}
