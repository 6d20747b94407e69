//! Differential tests: the simulated disk and network against Linux.
//!
//! - [`disk`]: random sequences of filesystem operations on the simulated
//!   disk and on `RealStorage` in a temporary directory; every result must
//!   match, and proptest shrinks a divergence to a minimal sequence.
//! - [`crash`]: random sequences with renames across directories and renamed
//!   directories, then a crash; what survives must be what a small reference
//!   model of "durable after these syncs" allows.
//! - [`net`]: stream and datagram scenarios (close, reset, shutdown,
//!   refused, sizes, bind twice, peer addresses) on the simulated network and
//!   on the real one (tokio, loopback).
//!
//! `cargo test` runs a few hundred cases (`tests/disk/differential.rs`,
//! `tests/net/differential.rs`); `cargo run --release -p examples --bin
//! differential -- --cases 50000` runs tens of thousands.

pub mod crash;
pub mod disk;
pub mod net;
