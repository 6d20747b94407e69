//! Shared code of the runnable examples and of the `detsim-bench` benchmark.

pub mod bench;
pub mod differential;
pub mod httpkv;
pub mod lb;
pub mod pingpong;
pub mod raft;
