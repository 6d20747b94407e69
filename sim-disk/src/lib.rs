//! detsim's simulated disk (under construction).
