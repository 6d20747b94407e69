//! The seeds a sweep runs, in order, without materialising them: the
//! regressions first, then the range's positions this shard owns, minus the
//! seeds the regressions already ran. Planning is `O(r log r)` in the number
//! of regressions `r`, whatever the number of seeds, and every position is
//! found in `O(log r)`.

use std::collections::BTreeSet;

use super::env::Shard;
use crate::Seed;

/// The seeds of a sweep, in the order they run.
#[derive(Clone, Debug)]
pub(crate) struct SeedOrder {
    /// Regression seeds this shard owns, deduplicated, in file order.
    regressions: Vec<Seed>,
    first: u64,
    shard: Shard,
    /// How many range positions this shard owns.
    owned: u64,
    /// Indices (among the owned positions, sorted) of range seeds that the
    /// regressions already ran.
    skipped: Vec<u64>,
}

impl SeedOrder {
    /// `seeds` seeds from `first` (wrapping), the positions `shard` owns,
    /// after the `regressions` it owns.
    pub(crate) fn new(
        regressions: Vec<Seed>,
        first: u64,
        seeds: u64,
        shard: Option<Shard>,
    ) -> SeedOrder {
        let shard = shard.unwrap_or(Shard { index: 0, count: 1 });
        let mut seen = BTreeSet::new();
        let regressions: Vec<Seed> = regressions
            .into_iter()
            .filter(|seed| shard.owns(seed.get()) && seen.insert(*seed))
            .collect();
        let owned = if shard.index >= seeds {
            0
        } else {
            (seeds - 1 - shard.index) / shard.count + 1
        };
        let mut skipped: Vec<u64> = regressions
            .iter()
            .filter_map(|seed| {
                let position = seed.get().wrapping_sub(first);
                (position < seeds && shard.owns(position))
                    .then(|| (position - shard.index) / shard.count)
            })
            .collect();
        skipped.sort_unstable();
        SeedOrder {
            regressions,
            first,
            shard,
            owned,
            skipped,
        }
    }

    /// How many seeds (saturating at `usize::MAX`).
    pub(crate) fn len(&self) -> usize {
        let total = self.regressions.len() as u64 + (self.owned - self.skipped.len() as u64);
        usize::try_from(total).unwrap_or(usize::MAX)
    }

    /// The seed at `position` (below [`SeedOrder::len`]).
    pub(crate) fn get(&self, position: usize) -> Seed {
        if let Some(seed) = self.regressions.get(position) {
            return *seed;
        }
        // The k-th owned index that is not skipped.
        let k = (position - self.regressions.len()) as u64;
        let mut index = k;
        for &skipped in &self.skipped {
            if skipped <= index {
                index += 1;
            } else {
                break;
            }
        }
        Seed::new(
            self.first
                .wrapping_add(self.shard.index + index * self.shard.count),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plain quadratic plan the order must equal.
    fn reference(regressions: &[u64], first: u64, seeds: u64, shard: Option<Shard>) -> Vec<u64> {
        let mut order: Vec<u64> = Vec::new();
        for &seed in regressions {
            if shard.is_none_or(|s| s.owns(seed)) && !order.contains(&seed) {
                order.push(seed);
            }
        }
        for position in 0..seeds {
            if shard.is_none_or(|s| s.owns(position)) {
                let seed = first.wrapping_add(position);
                if !order.contains(&seed) {
                    order.push(seed);
                }
            }
        }
        order
    }

    #[test]
    fn equals_the_plain_plan() {
        // Proves the lazy order is the regressions-then-range plan, deduplicated, for many shapes.
        for regressions in [vec![], vec![5, 3, 5, 100], vec![0, 1, 2, 3, 4, 9, 7]] {
            for first in [0, 3, u64::MAX - 2] {
                for seeds in [0, 1, 7, 10] {
                    for shard in [
                        None,
                        Some(Shard { index: 0, count: 3 }),
                        Some(Shard { index: 2, count: 3 }),
                        Some(Shard {
                            index: 9,
                            count: 10,
                        }),
                    ] {
                        let order = SeedOrder::new(
                            regressions.iter().copied().map(Seed::new).collect(),
                            first,
                            seeds,
                            shard,
                        );
                        let got: Vec<u64> = (0..order.len()).map(|p| order.get(p).get()).collect();
                        assert_eq!(
                            got,
                            reference(&regressions, first, seeds, shard),
                            "{regressions:?} first {first} seeds {seeds} shard {shard:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn huge_ranges_plan_at_once() {
        // Proves u64::MAX seeds split into 10^11 shards plan without materialising them.
        let shard = Shard::new(0, 100_000_000_000).unwrap();
        let order = SeedOrder::new(vec![Seed::new(0)], 0, u64::MAX, Some(shard));
        assert_eq!(order.len(), 184_467_441);
        assert_eq!(order.get(0), Seed::new(0));
        assert_eq!(order.get(1), Seed::new(100_000_000_000));
        assert_eq!(
            order.get(order.len() - 1),
            Seed::new(18_446_744_000_000_000_000)
        );
    }
}
