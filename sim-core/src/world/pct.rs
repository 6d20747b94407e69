//! Probabilistic concurrency testing (Burckhardt et al., ASPLOS 2010): a
//! task-order policy that finds ordering bugs of depth `d` with a known
//! probability, by giving tasks random priorities and lowering the running
//! task's priority at `d - 1` random steps.

use std::collections::BTreeMap;

use super::TaskId;
use crate::rng::SimRng;

/// The steps over which PCT's change points are spread (the policy's `k`):
/// a named bound, so the change points do not depend on the run's length.
pub(crate) const PCT_STEPS: u64 = 100_000;

pub(crate) struct Pct {
    depth: u64,
    priorities: BTreeMap<TaskId, u64>,
    /// Steps at which the chosen task drops to a low priority, latest first.
    change_points: Vec<u64>,
    /// The next low priority to hand out (counts down from `depth - 1`).
    next_low: u64,
}

impl Pct {
    pub(crate) fn new(depth: u32, rng: &mut SimRng) -> Pct {
        let depth = u64::from(depth.max(1));
        let mut change_points: Vec<u64> = (1..depth).map(|_| rng.below(PCT_STEPS) + 1).collect();
        change_points.sort_unstable_by(|a, b| b.cmp(a));
        Pct {
            depth,
            priorities: BTreeMap::new(),
            change_points,
            next_low: depth - 1,
        }
    }

    /// The index in `ready` of the task to poll at step `step`.
    pub(crate) fn pick(
        &mut self,
        ready: impl Iterator<Item = TaskId>,
        step: u64,
        rng: &mut SimRng,
    ) -> usize {
        let mut best = (0, 0u64);
        for (index, task) in ready.enumerate() {
            let depth = self.depth;
            let priority = *self
                .priorities
                .entry(task)
                .or_insert_with(|| depth + rng.below(u64::MAX - depth));
            if index == 0 || priority > best.1 {
                best = (index, priority);
            }
        }
        while self.change_points.last().is_some_and(|&at| at <= step) {
            self.change_points.pop();
            let chosen = self
                .priorities
                .iter()
                .find(|(_, p)| **p == best.1)
                .map(|(task, _)| *task);
            if let Some(task) = chosen {
                self.priorities.insert(task, self.next_low);
                self.next_low = self.next_low.saturating_sub(1);
            }
        }
        best.0
    }
}
