//! Protocol code depends on a simulator-free surface.
