//! Existing tokio and hyper code in a world: tokio's I/O traits and hyper's
//! runtime adapters on simulated streams (`adapters.rs`), and the HTTP
//! key-value service (`examples::httpkv`) under chaos: the correct service
//! passes a sweep, a seed replays bit for bit, the planted bugs are found.

mod adapters;
mod bugs;
mod sweep;
