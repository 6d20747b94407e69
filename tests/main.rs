//! Integration tests of detsim: one binary, a module per area.
mod net;
