//! detsim's simulated net (under construction).
