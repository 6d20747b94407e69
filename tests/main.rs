//! Integration tests of detsim: one binary, a module per area.

mod core;
mod determinism;
mod disk;
mod explore;
mod history;
mod httpkv;
mod lb;
mod misuse;
mod net;
mod raft;
mod sweep;
mod view;
