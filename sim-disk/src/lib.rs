//! detsim-disk: simulated disks with real crash semantics and the storage
//! fault model real systems die of, and a real backend for the same storage code.
//!
//! Every node of a world gets its own disk ([`Disks`], an extension of the
//! world), which survives the node's crashes and restarts. Storage code is
//! written against the [`Storage`] and [`File`] traits and runs unchanged on
//! a [`SimStorage`] in simulation and on `RealStorage` (feature `real`, on
//! `std::fs`) in production.
//!
//! ```
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
//! - `disk.rs`: [`Disks`] (the extension, per-node disks, injection), [`SimStorage`], [`storage`], [`open`].
//! - `file.rs`: [`SimFile`], an open file: reads, writes, syncs and their faults.
//! - `storage.rs`: the [`Storage`] and [`File`] traits, [`OpenOptions`], [`Metadata`].
//! - `fs.rs`: inodes, directory entries (cached and durable), the directory-operation journal.
//! - `cache.rs`: a file's cached and durable images and its write cache; sync writeback.
//! - `sector.rs`: sparse sector maps (memory follows written sectors, not file length).
//! - `crash.rs`: what a crash does to pending writes, length changes and names.
//! - `fault.rs`: [`FaultConfig`], [`Fault`], [`Corruption`].
//! - `latency.rs`: [`Latency`], [`LatencyConfig`].
//! - `config.rs`: [`DiskConfig`], [`CrashMode`].
//! - `path.rs`: path validation shared by both backends.
//! - `error.rs`: [`DiskError`] (configuration and misuse), `io::Error` constructors, [`is_media_error`].
//! - `real.rs`: `RealStorage` and `RealFile` on `std::fs` (feature `real`, Unix).
//!
//! # Features
//!
//! - `real`: `RealStorage`, the [`Storage`] traits on a real directory.

mod cache;
mod config;
mod crash;
mod disk;
mod error;
mod fault;
mod file;
mod fs;
mod latency;
mod path;
mod plan;
#[cfg(all(feature = "real", unix))]
mod real;
mod sector;
mod storage;

pub use config::{CrashMode, DiskConfig};
pub use disk::{DiskUsage, Disks, SimStorage, open, storage};
pub use error::{DiskError, is_media_error};
pub use fault::{Corruption, Fault, FaultConfig};
pub use file::SimFile;
pub use latency::{Bandwidth, Latency, LatencyConfig};
pub use path::{FILE_SIZE_MAX, NAME_MAX, PATH_MAX};
#[cfg(all(feature = "real", unix))]
pub use real::{RealFile, RealStorage};
pub use storage::{File, Metadata, OpenOptions, Storage};
