//! Determinism that survives third-party code: OS entropy and clocks inside
//! a world (the `intercept` feature), and sweeps that verify what they report.

mod audit;
mod lease;
mod os;
