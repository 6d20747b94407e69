//! The timer queue: deadlines in virtual time, fired in `(deadline, sequence)` order.
//!
//! A hierarchical timing wheel (8 levels of 64 buckets of 2^20 ns ≈ 1 ms, so
//! it covers every `u64` deadline) holds far timers; the bucket being reached
//! is drained into a small sorted queue (`near`) that orders its timers exactly
//! by `(deadline, sequence)`. Inserting is O(1), firing pops the front of a
//! queue of about one bucket's timers (a bucket's timers arrive nearly in
//! order, so keeping it sorted costs a binary search and a push), and the order
//! is the same as a single global heap keyed by `(deadline, sequence)` — which
//! is what determinism needs.
//!
//! Cancelled timers are removed lazily: their slot is freed at once and their
//! wheel or heap entry is skipped when it surfaces, so cancellation is O(1).

use std::collections::VecDeque;
use std::task::Waker;

use super::{NodeId, TaskId};
use crate::time::Instant;

/// log2 of a bucket's width in nanoseconds.
const BUCKET_BITS: u32 = 20;
/// log2 of the buckets per level.
const LEVEL_BITS: u32 = 6;
const SLOTS: usize = 1 << LEVEL_BITS;
/// Below this many pending timers the wheel stays off and `near` holds them
/// all: a small world never pays for the wheel.
const NEAR_MAX: usize = 256;
/// `horizon` while the wheel is off.
const WHEEL_OFF: u64 = u64::MAX;
/// Enough levels for every bucket number of a `u64` deadline.
const LEVELS: usize = 8;
const _: () = assert!(LEVELS as u32 * LEVEL_BITS >= 64 - BUCKET_BITS);

/// Identifies one registered timer; stale keys are harmless.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TimerKey {
    slot: u32,
    seq: u64,
}

/// What a timer does when it fires.
pub(crate) enum Action {
    /// Wake a task through its own waker: no waker clone, no atomics.
    Task(u32, TaskId),
    /// Wake through a waker (a future polled by another executor's waker).
    Wake(Waker),
    /// Run a callback (extensions: message deliveries, disk completions).
    Call(Box<dyn FnOnce()>),
}

struct Slot {
    /// The sequence number of the timer occupying the slot; 0 when free.
    seq: u64,
    action: Option<Action>,
    /// The node whose task registered the timer, for the trace.
    node: Option<NodeId>,
}

type Entry = (Instant, u64, u32);

pub(crate) struct Timers {
    /// Timers due before `horizon`, sorted by `(deadline, sequence)`.
    near: VecDeque<Entry>,
    /// Bucket number (deadline >> BUCKET_BITS) from which the wheel holds timers.
    horizon: u64,
    /// Levels are allocated on first use, so a tiny world stays tiny.
    wheel: Vec<Box<[Vec<Entry>]>>,
    /// Per level, a bit per non-empty bucket.
    occupied: [u64; LEVELS],
    slots: Vec<Slot>,
    free: Vec<u32>,
    seq_next: u64,
}

impl Default for Timers {
    fn default() -> Timers {
        Timers {
            near: VecDeque::new(),
            horizon: WHEEL_OFF,
            wheel: Vec::new(),
            occupied: [0; LEVELS],
            slots: Vec::new(),
            free: Vec::new(),
            seq_next: 0,
        }
    }
}

impl Timers {
    pub(crate) fn insert(
        &mut self,
        deadline: Instant,
        node: Option<NodeId>,
        action: Action,
    ) -> TimerKey {
        self.seq_next += 1;
        let seq = self.seq_next;
        let slot = match self.free.pop() {
            Some(slot) => {
                let entry = &mut self.slots[slot as usize];
                debug_assert_eq!(entry.seq, 0, "timer slot on the free list is occupied");
                entry.seq = seq;
                entry.action = Some(action);
                entry.node = node;
                slot
            }
            None => {
                let slot = u32::try_from(self.slots.len()).expect("more than 2^32 live timers");
                self.slots.push(Slot {
                    seq,
                    action: Some(action),
                    node,
                });
                slot
            }
        };
        self.place((deadline, seq, slot));
        if self.horizon == WHEEL_OFF && self.near.len() > NEAR_MAX {
            self.wheel_on();
        }
        TimerKey { slot, seq }
    }

    /// Turns the wheel on: timers from the bucket after the earliest one move
    /// to it. `near` keeps holding exactly the timers before the horizon.
    fn wheel_on(&mut self) {
        let Some((earliest, _, _)) = self.near.front().copied() else {
            return;
        };
        self.horizon = (earliest.as_nanos() >> BUCKET_BITS) + 1;
        let entries = std::mem::take(&mut self.near);
        for entry in entries {
            if self.is_live(entry.1, entry.2) {
                self.place(entry);
            }
        }
    }

    /// Puts an entry in `near` or in the wheel bucket its deadline belongs to.
    #[inline]
    fn place(&mut self, entry: Entry) {
        let bucket = entry.0.as_nanos() >> BUCKET_BITS;
        if bucket < self.horizon {
            self.near_insert(entry);
            return;
        }
        // The level is set by the highest bit in which the bucket differs
        // from the horizon: lower levels hold nearer buckets.
        let differing = (bucket ^ self.horizon) | (SLOTS as u64 - 1);
        let level = ((63 - differing.leading_zeros()) / LEVEL_BITS) as usize;
        let index = ((bucket >> (level as u32 * LEVEL_BITS)) & (SLOTS as u64 - 1)) as usize;
        if self.wheel.len() <= level {
            self.grow_wheel(level);
        }
        self.wheel[level][index].push(entry);
        self.occupied[level] |= 1 << index;
    }

    /// Allocates the wheel's levels up to `level`.
    #[cold]
    #[inline(never)]
    fn grow_wheel(&mut self, level: usize) {
        while self.wheel.len() <= level {
            self.wheel.push((0..SLOTS).map(|_| Vec::new()).collect());
        }
    }

    /// Inserts into `near` in order; at the back (the usual case) in O(1).
    fn near_insert(&mut self, entry: Entry) {
        match self.near.back() {
            Some(last) if *last > entry => {
                let index = self.near.partition_point(|e| *e < entry);
                self.near.insert(index, entry);
            }
            _ => self.near.push_back(entry),
        }
    }

    fn is_live(&self, seq: u64, slot: u32) -> bool {
        self.slots[slot as usize].seq == seq
    }

    /// Replaces the waker of a pending timer (a future moved between tasks).
    pub(crate) fn update(
        &mut self,
        key: TimerKey,
        action: impl FnOnce(&Option<Action>) -> Option<Action>,
    ) {
        if let Some(entry) = self.slots.get_mut(key.slot as usize) {
            if entry.seq == key.seq {
                if let Some(new) = action(&entry.action) {
                    entry.action = Some(new);
                }
            }
        }
    }

    /// Cancels a timer; a key of a fired or cancelled timer is ignored.
    pub(crate) fn cancel(&mut self, key: TimerKey) -> Option<Action> {
        let entry = self.slots.get_mut(key.slot as usize)?;
        if entry.seq != key.seq {
            return None;
        }
        entry.seq = 0;
        self.free.push(key.slot);
        entry.action.take()
    }

    /// The earliest deadline of a live timer. Moves far timers nearer as the
    /// wheel turns; only called when no task is ready, so no timer can be
    /// inserted before the deadline it returns.
    pub(crate) fn next_deadline(&mut self) -> Option<Instant> {
        loop {
            while let Some((deadline, seq, slot)) = self.near.front().copied() {
                if self.is_live(seq, slot) {
                    return Some(deadline);
                }
                self.near.pop_front();
            }
            // The occupied bucket that starts first; on a tie the higher
            // level, whose timers must move down before the lower one fires.
            let mut best: Option<(u64, usize, usize)> = None;
            for (level, bits) in self.occupied.iter().enumerate() {
                if *bits == 0 {
                    continue;
                }
                let index = bits.trailing_zeros() as usize;
                let shift = level as u32 * LEVEL_BITS;
                let block = self.horizon >> (shift + LEVEL_BITS) << (shift + LEVEL_BITS);
                let start = (block | ((index as u64) << shift)).max(self.horizon);
                if best.is_none_or(|(best_start, _, _)| start <= best_start) {
                    best = Some((start, level, index));
                }
            }
            let Some((start, level, index)) = best else {
                // Nothing left anywhere: switch the wheel off until it is needed.
                self.horizon = WHEEL_OFF;
                return None;
            };
            self.occupied[level] &= !(1 << index);
            let entries = std::mem::take(&mut self.wheel[level][index]);
            self.horizon = if level == 0 { start + 1 } else { start };
            let mut entries = entries;
            for entry in entries.drain(..) {
                if self.is_live(entry.1, entry.2) {
                    self.place(entry);
                }
            }
            // Keep the bucket's allocation for the next turn.
            self.wheel[level][index] = entries;
        }
    }

    /// Removes and returns the earliest timer due at or before `now`.
    /// Call [`Timers::next_deadline`] first: due timers are in `near`.
    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<(u64, Option<NodeId>, Action)> {
        loop {
            let (deadline, seq, slot) = *self.near.front()?;
            if deadline > now {
                return None;
            }
            self.near.pop_front();
            let entry = &mut self.slots[slot as usize];
            if entry.seq != seq {
                continue;
            }
            entry.seq = 0;
            self.free.push(slot);
            let action = entry.action.take().expect("a live timer has an action");
            return Some((seq, entry.node, action));
        }
    }

    /// Drops every timer, for tearing a world down; returns the actions so the
    /// caller can drop them outside its borrow.
    pub(crate) fn clear(&mut self) -> Vec<Action> {
        self.near.clear();
        for level in &mut self.wheel {
            for bucket in level.iter_mut() {
                bucket.clear();
            }
        }
        self.occupied = [0; LEVELS];
        self.free.clear();
        self.slots.drain(..).filter_map(|s| s.action).collect()
    }
}

#[cfg(test)]
mod tests {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;

    use super::*;
    use crate::{Seed, SimRng};

    /// The wheel fires timers in exactly the order of a global heap keyed by
    /// `(deadline, sequence)`, including cancellations and inserts while running.
    #[test]
    fn wheel_order_matches_a_global_heap() {
        let mut rng = SimRng::stream(Seed::new(3), "wheel");
        let mut timers = Timers::default();
        let mut reference: BinaryHeap<Reverse<(Instant, u64)>> = BinaryHeap::new();
        let mut keys = Vec::new();
        let mut cancelled = std::collections::BTreeSet::new();
        let mut now = Instant::ZERO;
        let mut fired = Vec::new();
        let mut expected = Vec::new();
        for round in 0..2_000u64 {
            // Deadlines from nanoseconds to years ahead, and some far in the future.
            for _ in 0..3 {
                let scale = [
                    1u64,
                    1_000,
                    1 << 20,
                    1 << 26,
                    1 << 27,
                    1 << 28,
                    1 << 33,
                    1 << 40,
                    1 << 55,
                ][rng.below(9) as usize];
                let deadline =
                    now.saturating_add(std::time::Duration::from_nanos(rng.below(scale) + 1));
                let key = timers.insert(deadline, None, Action::Call(Box::new(|| {})));
                reference.push(Reverse((deadline, key.seq)));
                keys.push(key);
            }
            if round % 7 == 0 {
                let key = keys[rng.below(keys.len() as u64) as usize];
                if timers.cancel(key).is_some() {
                    cancelled.insert(key.seq);
                }
            }
            if let Some(deadline) = timers.next_deadline() {
                now = deadline;
                while let Some((seq, _, _)) = timers.pop_due(now) {
                    fired.push(seq);
                }
            }
            while let Some(Reverse((deadline, seq))) = reference.peek().copied() {
                if deadline > now {
                    break;
                }
                reference.pop();
                if !cancelled.contains(&seq) {
                    expected.push(seq);
                }
            }
            assert_eq!(fired, expected, "round {round}");
        }
        assert!(fired.len() > 1000);
    }
}
