//! detsim: deterministic simulation testing for distributed systems.
pub mod history;
pub mod time {
    //! Virtual time.
    mod instant;
    pub use instant::Instant;
}
