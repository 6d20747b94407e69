//! Integration tests of detsim: one binary, a module per area.

mod core;
mod history;
mod sweep;
