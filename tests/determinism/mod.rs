//! Determinism that survives third-party code: OS entropy and clocks inside
//! a world (the `intercept` feature), and sweeps that verify what they report.

mod audit;
// These modules call what clippy.toml forbids on simulated paths
// (`HashMap`, `Instant::now`, `SystemTime::now`), deliberately: they stand
// for third-party code that does.
#[allow(clippy::disallowed_types, clippy::disallowed_methods)]
mod lease;
#[allow(clippy::disallowed_types, clippy::disallowed_methods)]
mod os;
