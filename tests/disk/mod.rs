//! sim-disk: crash semantics, the fault model, the filesystem API, latency,
//! determinism, and a write-ahead log that runs on the simulated and the real disk.

mod api;
mod crash;
mod determinism;
mod differential;
mod fault;
mod latency;
mod plan;
mod wal;

use std::rc::Rc;

use detsim::{NodeId, Seed, Sim, TraceMode};
use detsim_disk::{DiskConfig, Disks, File, LatencyConfig, OpenOptions, SimStorage, Storage};

/// A world with disks configured by `config` (sector size 512, no latency
/// unless `config` says otherwise) and one idle node `n1`.
pub(crate) fn world(seed: u64, config: DiskConfig) -> (Sim, Rc<Disks>, NodeId) {
    let mut sim = Sim::builder(Seed::new(seed))
        .trace(TraceMode::RECORD)
        .quiet()
        .build()
        .unwrap();
    let disks = Disks::install(&sim, config).unwrap();
    let n1 = sim.add_node("n1", |_| async {}).unwrap();
    (sim, disks, n1)
}

/// Small sectors and no latency: the shape most tests use.
pub(crate) fn config() -> DiskConfig {
    DiskConfig {
        sector_size: 512,
        latency: LatencyConfig::ZERO,
        ..DiskConfig::default()
    }
}

/// Every byte of `path` as reads see it.
pub(crate) async fn read_all(storage: &SimStorage, path: &str) -> std::io::Result<Vec<u8>> {
    let file = storage.open(path, OpenOptions::read_only()).await?;
    let mut buf = vec![0; file.len()? as usize];
    let n = file.read_at(&mut buf, 0).await?;
    buf.truncate(n);
    Ok(buf)
}

/// Creates `path` with `data`, synced, and its directory synced: durable.
pub(crate) async fn durable_file(storage: &SimStorage, path: &str, data: &[u8]) {
    let file = storage
        .open(path, OpenOptions::read_write().create(true))
        .await
        .unwrap();
    file.write_at(data, 0).await.unwrap();
    file.sync_all().await.unwrap();
    storage.sync_dir("/").await.unwrap();
}

/// Crashes and restarts `node` from the harness.
pub(crate) fn crash_restart(node: NodeId) {
    let handle = detsim::handle();
    handle.crash(node).unwrap();
    handle.restart(node).unwrap();
}

/// The `disk.*` events of the trace, as `name args` lines.
pub(crate) fn disk_events(trace: &detsim::Trace, prefix: &str) -> Vec<String> {
    trace
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            detsim::EventKind::Ext { name, args, .. } if name.starts_with(prefix) => {
                Some(format!("{name} {args:?}"))
            }
            _ => None,
        })
        .collect()
}

/// `n` bytes of `byte`.
pub(crate) fn fill(byte: u8, n: usize) -> Vec<u8> {
    vec![byte; n]
}

/// `bytes` summarised per sector: `B` for a sector of `B`s, `0` for zeros,
/// `?` for mixed bytes (short, readable assertions and failure messages).
pub(crate) fn sectors(bytes: &[u8], sector_size: usize) -> String {
    bytes
        .chunks(sector_size)
        .map(|chunk| match chunk.iter().all(|b| *b == chunk[0]) {
            true if chunk[0] == 0 => '0',
            true if chunk[0].is_ascii_graphic() => chunk[0] as char,
            _ => '?',
        })
        .collect()
}
