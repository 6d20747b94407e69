//! Seeded randomness: one ChaCha generator per purpose, all derived from the seed.
//!
//! Every consumer of randomness gets its own *named stream*: the ChaCha key is
//! the seed and the ChaCha stream number is a stable hash of the name. Adding a
//! node or another consumer therefore never changes the draws of the others.
//!
//! A forked run (see [`Forks`](crate::Forks)) re-keys every stream of its
//! world at each fork instant: from then on the key is the seed mixed with
//! the fork seeds passed so far, and the stream number stays the name's.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};

use crate::Seed;

/// A deterministic random generator: ChaCha8 keyed by the world's seed.
///
/// Implements [`rand_core::RngCore`], so every `rand` distribution works on it.
///
/// # Examples
///
/// ```
/// use detsim::{Seed, SimRng};
/// use rand_core::RngCore;
///
/// let mut a = SimRng::stream(Seed::new(7), "election");
/// let mut b = SimRng::stream(Seed::new(7), "election");
/// let mut c = SimRng::stream(Seed::new(7), "disk");
/// let x = a.next_u64();
/// assert_eq!(x, b.next_u64());
/// assert_ne!(x, c.next_u64());
/// ```
#[derive(Clone, Debug)]
pub struct SimRng {
    inner: ChaCha8Rng,
    /// The world's fork keys and the epoch this stream is keyed for; `None`
    /// outside a forked world (one branch per draw).
    fork: Option<(Arc<ForkKeys>, usize)>,
}

/// The keys of a forked world's epochs (`keys[0]` is the seed's, `keys[i]`
/// the key after the `i`-th fork instant) and the current epoch, which the
/// world advances as virtual time passes the fork instants.
#[derive(Debug)]
pub(crate) struct ForkKeys {
    keys: Vec<u64>,
    epoch: AtomicUsize,
}

impl ForkKeys {
    /// Keys for `seed` forked with `fork_seeds`, in order.
    pub(crate) fn new(seed: Seed, fork_seeds: impl IntoIterator<Item = u64>) -> ForkKeys {
        let mut keys = vec![seed.get()];
        for fork in fork_seeds {
            let last = *keys.last().expect("keys start with the seed");
            keys.push(mix_key(last, fork));
        }
        ForkKeys {
            keys,
            epoch: AtomicUsize::new(0),
        }
    }

    /// Enters epoch `epoch` (the number of fork instants passed).
    pub(crate) fn set_epoch(&self, epoch: usize) {
        assert!(
            epoch < self.keys.len(),
            "detsim bug: fork epoch out of range"
        );
        self.epoch.store(epoch, Ordering::Relaxed);
    }

    fn current(&self) -> (usize, u64) {
        let epoch = self.epoch.load(Ordering::Relaxed);
        (epoch, self.keys[epoch])
    }
}

/// The key of the epoch after a fork with `fork_seed`: a fixed mix
/// (SplitMix64's finalizer of the two), never to change.
pub(crate) fn mix_key(key: u64, fork_seed: u64) -> u64 {
    let mut z = key
        ^ fork_seed
            .wrapping_add(0x9e37_79b9_7f4a_7c15)
            .rotate_left(17);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// How a world keys its streams: the seed, and the fork keys if forked.
#[derive(Clone, Debug)]
pub(crate) struct Keying {
    pub(crate) seed: Seed,
    pub(crate) forks: Option<Arc<ForkKeys>>,
}

impl Keying {
    /// The stream named by the concatenation of `parts`.
    pub(crate) fn stream(&self, parts: &[&str]) -> SimRng {
        let mut rng = SimRng::stream_of_parts(self.seed, parts);
        if let Some(forks) = &self.forks {
            let (epoch, key) = forks.current();
            if epoch > 0 {
                rng.rekey(key);
            }
            rng.fork = Some((forks.clone(), epoch));
        }
        rng
    }
}

impl SimRng {
    /// The stream named `name` of the world with `seed`.
    pub fn stream(seed: Seed, name: &str) -> SimRng {
        SimRng::stream_of_parts(seed, &[name])
    }

    /// The stream named by the concatenation of `parts` (no allocation).
    pub(crate) fn stream_of_parts(seed: Seed, parts: &[&str]) -> SimRng {
        let mut inner = ChaCha8Rng::seed_from_u64(seed.get());
        inner.set_stream(parts.iter().fold(FNV_OFFSET, |hash, part| fnv(hash, part)));
        SimRng { inner, fork: None }
    }

    /// Restarts the stream under `key`, keeping its stream number.
    fn rekey(&mut self, key: u64) {
        let stream = self.inner.get_stream();
        self.inner = ChaCha8Rng::seed_from_u64(key);
        self.inner.set_stream(stream);
    }

    /// The generator, re-keyed first if the world passed a fork instant
    /// since the last draw.
    #[inline]
    fn core(&mut self) -> &mut ChaCha8Rng {
        if self.fork.is_some() {
            self.refork();
        }
        &mut self.inner
    }

    /// Re-keys a forked world's stream if the world passed a fork instant.
    #[inline(never)]
    fn refork(&mut self) {
        if let Some((forks, epoch)) = &mut self.fork {
            let (now, key) = forks.current();
            if now != *epoch {
                *epoch = now;
                let stream = self.inner.get_stream();
                self.inner = ChaCha8Rng::seed_from_u64(key);
                self.inner.set_stream(stream);
            }
        }
    }

    /// A uniformly distributed number in `0..bound`.
    ///
    /// # Panics
    ///
    /// Panics if `bound` is zero.
    #[inline]
    pub fn below(&mut self, bound: u64) -> u64 {
        assert!(bound > 0, "SimRng::below needs a bound above zero");
        // Lemire's widening multiply: unbiased enough for simulation and branch-free.
        ((u128::from(self.core().next_u64()) * u128::from(bound)) >> 64) as u64
    }

    /// A uniformly distributed float in `[0, 1)`.
    pub fn unit_f64(&mut self) -> f64 {
        (self.core().next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// `true` with probability `p` (clamped to `[0, 1]`).
    pub fn chance(&mut self, p: f64) -> bool {
        if p <= 0.0 {
            false
        } else if p >= 1.0 {
            true
        } else {
            self.unit_f64() < p
        }
    }
}

/// A named stream created on first use: most worlds never draw from most
/// streams, and a ChaCha generator is a few hundred bytes to set up.
#[derive(Clone, Debug)]
pub(crate) struct LazyRng {
    keying: Keying,
    /// The stream's name is `prefix` followed by `name`.
    prefix: &'static str,
    name: Option<std::rc::Rc<str>>,
    rng: Option<Box<SimRng>>,
}

impl LazyRng {
    pub(crate) fn new(keying: Keying, name: &'static str) -> LazyRng {
        LazyRng {
            keying,
            prefix: name,
            name: None,
            rng: None,
        }
    }

    /// The stream `node/<name>`.
    pub(crate) fn node(keying: Keying, name: std::rc::Rc<str>) -> LazyRng {
        LazyRng {
            keying,
            prefix: "node/",
            name: Some(name),
            rng: None,
        }
    }

    #[inline]
    pub(crate) fn get(&mut self) -> &mut SimRng {
        if self.rng.is_none() {
            self.create();
        }
        match &mut self.rng {
            Some(rng) => rng,
            None => unreachable!("created above"),
        }
    }

    #[cold]
    #[inline(never)]
    fn create(&mut self) {
        let name = self.name.as_deref().unwrap_or("");
        self.rng = Some(Box::new(self.keying.stream(&[self.prefix, name])));
    }
}

impl RngCore for SimRng {
    #[inline]
    fn next_u32(&mut self) -> u32 {
        self.core().next_u32()
    }

    #[inline]
    fn next_u64(&mut self) -> u64 {
        self.core().next_u64()
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        self.core().fill_bytes(dest)
    }
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// FNV-1a: a fixed, documented function, so stream numbers never change
/// between Rust versions or platforms. It is streaming: hashing the parts of
/// a name in turn equals hashing the whole name.
fn fnv(hash: u64, text: &str) -> u64 {
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    text.bytes().fold(hash, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(PRIME)
    })
}

#[cfg(test)]
fn stream_id(name: &str) -> u64 {
    fnv(FNV_OFFSET, name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_stable_values() {
        // Pinned draws: if this changes, every recorded seed of every user replays differently.
        let mut rng = SimRng::stream(Seed::new(1), "world");
        let draws: Vec<u64> = (0..3).map(|_| rng.below(1000)).collect();
        let again: Vec<u64> = {
            let mut rng = SimRng::stream(Seed::new(1), "world");
            (0..3).map(|_| rng.below(1000)).collect()
        };
        assert_eq!(draws, again);
        assert_eq!(stream_id(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(stream_id("a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn below_stays_in_range_and_covers_it() {
        let mut rng = SimRng::stream(Seed::new(9), "t");
        let mut seen = [false; 7];
        for _ in 0..1000 {
            let x = rng.below(7);
            assert!(x < 7);
            seen[x as usize] = true;
        }
        assert!(seen.iter().all(|s| *s));
    }
}
