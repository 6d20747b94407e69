//! The timer queue: deadlines in virtual time, fired in `(deadline, sequence)` order.
//!
//! A hierarchical timing wheel holds far timers: buckets of 2^20 ns ≈ 1 ms,
//! a wide level 0 of 4 096 buckets (≈ 4.3 s, so a timer of a common horizon
//! is placed in its final bucket at once and never cascades) and six levels
//! of 64 above it, which cover every `u64` deadline. The bucket being reached
//! is sorted into a small queue (`near`) that orders its timers exactly by
//! `(deadline, sequence)`. Inserting is O(1), firing pops the front of a queue
//! of about one bucket's timers, and the order is the same as a single global
//! heap keyed by `(deadline, sequence)` — which is what determinism needs.
//!
//! Cancelled timers are removed lazily: their slot is freed at once and their
//! wheel or queue entry is skipped when it surfaces, so cancellation is O(1).

use std::collections::VecDeque;
use std::task::Waker;

use super::{NodeId, TaskId};
use crate::time::Instant;

/// log2 of a bucket's width in nanoseconds.
const BUCKET_BITS: u32 = 20;
/// log2 of level 0's buckets: wide, so that timers up to a few seconds out
/// are placed once.
const LEVEL0_BITS: u32 = 12;
/// log2 of the buckets of each level above 0.
const LEVEL_BITS: u32 = 6;
const SLOTS0: usize = 1 << LEVEL0_BITS;
const SLOTS: usize = 1 << LEVEL_BITS;
/// Below this many pending timers the wheel stays off and `near` holds them
/// all: a small world never pays for the wheel.
const NEAR_MAX: usize = 256;
/// `horizon` while the wheel is off.
const WHEEL_OFF: u64 = u64::MAX;
/// Enough levels for every bucket number of a `u64` deadline.
const LEVELS: usize = 7;
const _: () = assert!(LEVEL0_BITS + (LEVELS as u32 - 1) * LEVEL_BITS >= 64 - BUCKET_BITS);
/// Level 0's occupancy: one bit per bucket, in words of 64.
const WORDS0: usize = SLOTS0 / 64;
const _: () = assert!(WORDS0 <= 64, "one summary word covers level 0's words");

/// The bit position where level `level`'s bucket index starts.
#[inline]
const fn shift(level: usize) -> u32 {
    if level == 0 {
        0
    } else {
        LEVEL0_BITS + (level as u32 - 1) * LEVEL_BITS
    }
}

/// The width in bits of level `level`'s bucket index.
#[inline]
const fn width(level: usize) -> u32 {
    if level == 0 { LEVEL0_BITS } else { LEVEL_BITS }
}

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
    /// Levels 1 and up: a bit per non-empty bucket (index 0 is unused).
    occupied: [u64; LEVELS],
    /// Level 0: a bit per non-empty bucket (allocated with the level, so a
    /// world whose wheel never turns on stays small), and a bit per
    /// non-zero word.
    occupied0: Vec<u64>,
    summary0: u64,
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
            occupied0: Vec::new(),
            summary0: 0,
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
        let differing = bucket ^ self.horizon;
        if differing < SLOTS0 as u64 {
            let index = (bucket & (SLOTS0 as u64 - 1)) as usize;
            if self.wheel.is_empty() {
                self.grow_wheel(0);
            }
            self.wheel[0][index].push(entry);
            self.occupied0[index / 64] |= 1 << (index % 64);
            self.summary0 |= 1 << (index / 64);
            return;
        }
        let high = 63 - differing.leading_zeros();
        let level = 1 + ((high - LEVEL0_BITS) / LEVEL_BITS) as usize;
        let index = ((bucket >> shift(level)) & (SLOTS as u64 - 1)) as usize;
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
        if self.occupied0.is_empty() {
            self.occupied0 = vec![0; WORDS0];
        }
        while self.wheel.len() <= level {
            let slots = 1usize << width(self.wheel.len());
            self.wheel.push((0..slots).map(|_| Vec::new()).collect());
        }
    }

    /// Level 0's first non-empty bucket.
    #[inline]
    fn first0(&self) -> Option<usize> {
        if self.summary0 == 0 {
            return None;
        }
        let word = self.summary0.trailing_zeros() as usize;
        Some(word * 64 + self.occupied0[word].trailing_zeros() as usize)
    }

    /// Marks level 0's bucket `index` empty.
    #[inline]
    fn clear0(&mut self, index: usize) {
        let word = index / 64;
        self.occupied0[word] &= !(1 << (index % 64));
        if self.occupied0[word] == 0 {
            self.summary0 &= !(1 << word);
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
            // Level 0's buckets are all in the horizon's block, at or after it.
            let mut best: Option<(u64, usize, usize)> = self.first0().map(|index| {
                let block = self.horizon >> LEVEL0_BITS << LEVEL0_BITS;
                ((block | index as u64).max(self.horizon), 0, index)
            });
            for (level, bits) in self.occupied.iter().enumerate().skip(1) {
                if *bits == 0 {
                    continue;
                }
                let index = bits.trailing_zeros() as usize;
                let shift = shift(level);
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
            let mut entries = std::mem::take(&mut self.wheel[level][index]);
            if level == 0 {
                // A reached bucket: its live timers, sorted, are the near queue
                // (which holds no live timer now).
                self.clear0(index);
                self.horizon = start + 1;
                entries.sort_unstable();
                let slots = &self.slots;
                self.near.clear();
                self.near
                    .extend(entries.drain(..).filter(|e| slots[e.2 as usize].seq == e.1));
            } else {
                self.occupied[level] &= !(1 << index);
                self.horizon = start;
                for entry in entries.drain(..) {
                    if self.is_live(entry.1, entry.2) {
                        self.place(entry);
                    }
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
        self.occupied0.fill(0);
        self.summary0 = 0;
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

    /// Thousands of timers a few milliseconds to seconds out (level 0 of the
    /// wheel, across its block boundary) fire in the order of a global heap.
    #[test]
    fn wide_level_order_matches_a_global_heap() {
        let mut rng = SimRng::stream(Seed::new(5), "wheel-wide");
        let mut timers = Timers::default();
        let mut reference: BinaryHeap<Reverse<(Instant, u64)>> = BinaryHeap::new();
        let mut now = Instant::ZERO;
        for _ in 0..5_000 {
            let deadline =
                now.saturating_add(std::time::Duration::from_millis(1 + rng.below(6_000)));
            let key = timers.insert(deadline, None, Action::Call(Box::new(|| {})));
            reference.push(Reverse((deadline, key.seq)));
        }
        let mut fired = 0;
        while let Some(deadline) = timers.next_deadline() {
            now = deadline;
            while let Some((seq, _, _)) = timers.pop_due(now) {
                let Reverse((expected_at, expected_seq)) = reference.pop().expect("as many timers");
                assert_eq!((expected_at, expected_seq), (now, seq));
                fired += 1;
                // Re-arm like a sleeping task, up to a bound.
                if fired < 40_000 {
                    let deadline =
                        now.saturating_add(std::time::Duration::from_millis(1 + rng.below(1_000)));
                    let key = timers.insert(deadline, None, Action::Call(Box::new(|| {})));
                    reference.push(Reverse((deadline, key.seq)));
                }
            }
        }
        assert!(reference.is_empty());
        assert_eq!(fired, 40_000 + 4_999);
    }
}
