//! Ambient randomness: the calling node's stream of the world's seed.

use rand_core::RngCore;

use crate::rng::SimRng;
use crate::world::with_world_borrowed;

/// Runs `f` with the calling node's random stream (the harness's stream for
/// the test body). Every draw is determined by the seed.
///
/// # Panics
///
/// Panics when called outside a simulation.
///
/// # Examples
///
/// ```
/// use detsim::{Seed, Sim, random};
///
/// let draw = |seed| Sim::new(Seed::new(seed))
///     .run(async { random::with(|rng| rng.below(1_000_000)) })
///     .unwrap()
///     .value;
/// assert_eq!(draw(5), draw(5));
/// assert_ne!(draw(5), draw(6));
/// ```
#[track_caller]
pub fn with<R>(f: impl FnOnce(&mut SimRng) -> R) -> R {
    with_world_borrowed("detsim::random::with", |w| w.with_rng(w.current_node(), f))
}

/// A random `u64` from the calling node's stream.
///
/// # Panics
///
/// Panics when called outside a simulation.
#[track_caller]
pub fn next_u64() -> u64 {
    with(|rng| rng.next_u64())
}

/// The calling node's stream as an [`RngCore`], for `rand` distributions.
///
/// Each draw goes to the stream of the node that draws, so the value can be
/// kept in a task and used later.
#[derive(Clone, Copy, Debug, Default)]
pub struct AmbientRng;

impl RngCore for AmbientRng {
    fn next_u32(&mut self) -> u32 {
        with(|rng| rng.next_u32())
    }

    fn next_u64(&mut self) -> u64 {
        with(|rng| rng.next_u64())
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        with(|rng| rng.fill_bytes(dest))
    }
}
