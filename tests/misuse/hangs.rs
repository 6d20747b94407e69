//! Tasks that never yield, zero sleeps, nested simulations, deadlocks hidden by
//! a ticking node, a node that crashes itself: bounded, reported, never a hang.
