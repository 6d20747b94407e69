//! detsim-disk: simulated disks with real crash semantics and the storage
//! fault model real systems die of, and a real backend for the same storage code.
//!
//! Every node of a world gets its own disk ([`Disks`], an extension of the
//! world), which survives the node's crashes and restarts. Storage code is
//! written against the [`Storage`] and [`File`] traits and runs unchanged on
//! a [`SimStorage`] in simulation and on `RealStorage` (feature `real`, on
//! `std::fs`) in production, and needs only the crate's surface
//! (`default-features = false`): the simulated disks (the default feature
//! `sim`) are for its tests. See [Features](#features).
//!
//! ```
//! # #[cfg(feature = "sim")] {
//! use detsim::{Seed, Sim};
//! use detsim_disk::{DiskConfig, Disks, File, OpenOptions, Storage};
//!
//! let mut sim = Sim::new(Seed::new(1));
//! Disks::install(&sim, DiskConfig::default()).unwrap();
//! sim.add_node("n1", |_| async {
//!     let file = detsim_disk::open("/data", OpenOptions::read_write().create(true)).await.unwrap();
//!     file.write_at(b"hello", 0).await.unwrap();
//!     file.sync_data().await.unwrap();
//! }).unwrap();
//! sim.run_for(std::time::Duration::from_secs(1)).unwrap();
//! # }
//! ```
//!
//! # The model
//!
//! Per file, a durable image (the media), a cached image (the page cache:
//! what reads see), and the volatile write cache of operations since the last
//! sync. Per directory, cached and durable entries, and a journal of
//! directory operations durable only after a directory sync. At a crash,
//! un-synced writes are lost, applied, reordered or torn at sector
//! granularity ([`CrashMode`]). Media faults ([`FaultConfig`], [`Fault`]):
//! latent sector errors, silent corruption, lost and misdirected writes,
//! write and fsync `EIO` with Linux's page-cache behaviour, `ENOSPC`. Every
//! operation and fault is a trace event named `disk.*`.
//!
//! # Code map
//!
//! The surface, compiled in every build:
//!
//! - `storage.rs`: the [`Storage`] and [`File`] traits, [`OpenOptions`], [`Metadata`].
//! - `path.rs`: path and file-position validation shared by both backends.
//! - `error.rs`: `io::Error` constructors, [`is_media_error`] (and, with
//!   `sim`, [`DiskError`]).
//! - `real.rs`: `RealStorage` and `RealFile` on `std::fs` (feature `real`, Unix).
//!
//! The simulated disks (feature `sim`):
//!
//! - `disk.rs`: [`Disks`] (the extension, per-node disks, injection), [`SimStorage`], [`storage`], [`open`].
//! - `file.rs`: [`SimFile`], an open file: reads, writes, syncs and their faults.
//! - `fs.rs`: inodes, directory entries (cached and durable), the directory-operation journal.
//! - `cache.rs`: a file's cached and durable images and its write cache; sync writeback.
//! - `sector.rs`: sparse sector maps (memory follows written sectors, not file length).
//! - `crash.rs`: what a crash does to pending writes, length changes and names.
//! - `fault.rs`: [`FaultConfig`], [`Fault`], [`Corruption`].
//! - `latency.rs`: [`Latency`], [`LatencyConfig`].
//! - `config.rs`: [`DiskConfig`], [`CrashMode`].
//! - `plan.rs`: the disk faults of a fault plan.
//!
//! # Features
//!
//! - `sim` (default): the simulated disks, an extension of a detsim world
//!   (it brings in `detsim` with its simulator). Without it
//!   (`default-features = false`) only the surface compiles, with no
//!   dependency at all. The surface's paths are the same in both builds.
//! - `real`: `RealStorage`, the [`Storage`] traits on a real directory
//!   (needs no `sim`).
//!
#![cfg_attr(
    not(feature = "sim"),
    doc = "[`Disks`]: #features
[`SimStorage`]: #features
[`storage`]: #features
[`open`]: #features
[`SimFile`]: #features
[`CrashMode`]: #features
[`FaultConfig`]: #features
[`Fault`]: #features
[`Corruption`]: #features
[`Latency`]: #features
[`LatencyConfig`]: #features
[`DiskConfig`]: #features
[`DiskError`]: #features
"
)]
// With neither backend, the helpers the backends share are unused.
#![cfg_attr(not(any(feature = "sim", feature = "real")), allow(dead_code))]

/// Items of the simulated disks: compiled with the `sim` feature only.
macro_rules! cfg_sim {
    ($($item:item)*) => {
        $(
            #[cfg(feature = "sim")]
            $item
        )*
    };
}

// The surface: the traits, path rules, error helpers, the real backend.
// Without `sim`, the error helpers only the simulation uses are unused.
#[cfg_attr(not(feature = "sim"), allow(dead_code))]
mod error;
mod path;
#[cfg(all(feature = "real", unix))]
mod real;
mod storage;

pub use error::is_media_error;
pub use path::{FILE_SIZE_MAX, NAME_MAX, PATH_MAX};
#[cfg(all(feature = "real", unix))]
pub use real::{RealFile, RealStorage};
pub use storage::{File, Metadata, OpenOptions, Storage};

// The simulated disks.
cfg_sim! {
    mod cache;
    mod config;
    mod crash;
    mod disk;
    mod fault;
    mod file;
    mod fs;
    mod latency;
    mod plan;
    mod sector;

    pub use config::{CrashMode, DiskConfig};
    pub use disk::{DiskUsage, Disks, SimStorage, open, storage};
    pub use error::DiskError;
    pub use fault::{Corruption, Fault, FaultConfig};
    pub use file::SimFile;
    pub use latency::{Bandwidth, Latency, LatencyConfig};
}
