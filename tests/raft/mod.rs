//! The replicated key-value store on Raft (`examples::raft`) under chaos:
//! the correct store passes a sweep; each planted bug is found.

mod bugs;
mod sweep;
