//! The timer queue: deadlines in virtual time, fired in `(deadline, sequence)` order.
//!
//! A hierarchical timing wheel holds far timers: buckets of 2^20 ns ≈ 1 ms,
//! a wide, rolling level 0 of the 4 096 buckets from the wheel's horizon on
//! (≈ 4.3 s, so a timer of a common horizon is placed in its final bucket at
//! once and never cascades, even across a block boundary) and six levels of
//! 64 above it, which cover every `u64` deadline. The bucket being reached
//! is sorted into a small queue (`near`) that orders its timers exactly by
//! `(deadline, sequence)`. Inserting is O(1), firing pops the front of a queue
//! of about one bucket's timers, and the order is the same as a single global
//! heap keyed by `(deadline, sequence)` — which is what determinism needs.
//!
//! Cancelled timers are removed lazily: their slot is freed at once and their
//! wheel or queue entry is skipped when it surfaces, so cancellation is O(1).

use std::num::NonZeroU64;
use std::task::Waker;

use super::queue::Queue;
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
/// The end of the free list of timer slots.
const NO_SLOT: u32 = u32::MAX;

/// The bit position where level `level`'s bucket index starts.
#[inline]
const fn shift(level: usize) -> u32 {
    if level == 0 {
        0
    } else {
        LEVEL0_BITS + (level as u32 - 1) * LEVEL_BITS
    }
}

/// Identifies one registered timer; stale keys are harmless.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TimerKey {
    slot: u32,
    /// Sequence numbers start at 1 (0 marks a free slot).
    seq: NonZeroU64,
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

pub(crate) struct Slot {
    /// The sequence number of the timer occupying the slot; 0 when free.
    seq: u64,
    /// The node whose task registered the timer, for the trace.
    node: Option<NodeId>,
    /// A free slot's successor on the free list (`NO_SLOT`: the last).
    next_free: u32,
    action: Option<Action>,
}

pub(crate) type Entry = (Instant, u64, u32);

/// The wheel, allocated when a world first holds more than `NEAR_MAX` timers.
struct Wheel {
    /// Level 0: one bucket per 2^20 ns of the horizon's block.
    level0: Box<[Vec<Entry>; SLOTS0]>,
    /// Level 0: a bit per non-empty bucket, and a bit per non-zero word.
    occupied0: [u64; WORDS0],
    summary0: u64,
    /// Levels 1 and up, allocated on first use (index 0 is unused).
    upper: Vec<[Vec<Entry>; SLOTS]>,
    /// Levels 1 and up: a bit per non-empty bucket (index 0 is unused).
    occupied: [u64; LEVELS],
}

impl Wheel {
    fn new() -> Box<Wheel> {
        let level0: Vec<Vec<Entry>> = (0..SLOTS0).map(|_| Vec::new()).collect();
        Box::new(Wheel {
            level0: level0
                .into_boxed_slice()
                .try_into()
                .unwrap_or_else(|_| unreachable!("level 0 has SLOTS0 buckets")),
            occupied0: [0; WORDS0],
            summary0: 0,
            upper: Vec::new(),
            occupied: [0; LEVELS],
        })
    }

    /// Level 0's first non-empty bucket at or after index `from`, wrapping
    /// around to the lowest index.
    #[inline]
    fn first0_from(&self, from: usize) -> Option<usize> {
        if self.summary0 == 0 {
            return None;
        }
        let word = from / 64;
        let bits = self.occupied0[word] & (u64::MAX << (from % 64));
        if bits != 0 {
            return Some(word * 64 + bits.trailing_zeros() as usize);
        }
        let later = self.summary0 & u64::MAX.checked_shl(word as u32 + 1).unwrap_or(0);
        let word = if later != 0 {
            later.trailing_zeros() as usize
        } else {
            self.summary0.trailing_zeros() as usize
        };
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

    /// Level `level`'s (1 and up) buckets, allocated up to it.
    #[cold]
    #[inline(never)]
    fn grow(&mut self, level: usize) {
        while self.upper.len() <= level {
            self.upper.push(std::array::from_fn(|_| Vec::new()));
        }
    }
}

pub(crate) struct Timers {
    /// Timers due before `horizon`, sorted by `(deadline, sequence)`
    /// (cancelled ones among them are skipped when they surface).
    near: Queue<Entry>,
    /// Bucket number (deadline >> BUCKET_BITS) from which the wheel holds timers.
    horizon: u64,
    /// Allocated on first use, so a tiny world stays tiny.
    wheel: Option<Box<Wheel>>,
    slots: Vec<Slot>,
    /// The first free slot (`NO_SLOT`: none); the list runs through the slots.
    free: u32,
    seq_next: u64,
}

impl Default for Timers {
    fn default() -> Timers {
        Timers {
            near: Queue::default(),
            horizon: WHEEL_OFF,
            wheel: None,
            slots: Vec::new(),
            free: NO_SLOT,
            seq_next: 0,
        }
    }
}

impl Timers {
    /// Empty timers on (empty) recycled buffers.
    pub(crate) fn with_buffers(slots: Vec<Slot>, near: Vec<Entry>) -> Timers {
        debug_assert!(slots.is_empty() && near.is_empty());
        Timers {
            slots,
            near: Queue::from_vec(near),
            ..Timers::default()
        }
    }

    /// Gives up the (empty) buffers for a later world.
    pub(crate) fn take_buffers(&mut self) -> (Vec<Slot>, Vec<Entry>) {
        if !self.slots.is_empty() || !self.near.is_empty() {
            return (Vec::new(), Vec::new());
        }
        (
            std::mem::take(&mut self.slots),
            std::mem::take(&mut self.near).into_vec(),
        )
    }

    #[inline(always)]
    pub(crate) fn insert(
        &mut self,
        deadline: Instant,
        node: Option<NodeId>,
        action: Action,
    ) -> TimerKey {
        self.insert_at(deadline, Some(node), action)
    }

    /// Inserts a timer that wakes the task in `slot` with id `id`: its node is
    /// the task's, which the executor reads from the task when it fires (the
    /// timer's own node is left as it was).
    #[inline(always)]
    pub(crate) fn insert_task(&mut self, deadline: Instant, slot: u32, id: TaskId) -> TimerKey {
        self.insert_at(deadline, None, Action::Task(slot, id))
    }

    /// [`Timers::insert`]; `node` is `None` for a task's timer (see
    /// [`Timers::insert_task`]).
    #[inline(always)]
    fn insert_at(&mut self, deadline: Instant, node: Option<Option<NodeId>>, action: Action) -> TimerKey {
        self.seq_next += 1;
        let seq = NonZeroU64::new(self.seq_next).expect("sequence numbers start at 1");
        let slot = self.free;
        if slot == NO_SLOT {
            return self.insert_grow(deadline, node.flatten(), action, seq);
        }
        let entry = &mut self.slots[slot as usize];
        debug_assert_eq!(entry.seq, 0, "timer slot on the free list is occupied");
        self.free = entry.next_free;
        entry.seq = seq.get();
        if let Some(node) = node {
            entry.node = node;
        }
        entry.action = Some(action);
        self.place((deadline, seq.get(), slot));
        if self.horizon == WHEEL_OFF && self.near.len() > NEAR_MAX {
            self.wheel_on();
        }
        TimerKey { slot, seq }
    }

    /// [`Timers::insert`] with no free slot: a new one at the end.
    #[cold]
    #[inline(never)]
    fn insert_grow(
        &mut self,
        deadline: Instant,
        node: Option<NodeId>,
        action: Action,
        seq: NonZeroU64,
    ) -> TimerKey {
        let slot = u32::try_from(self.slots.len())
            .ok()
            .filter(|slot| *slot != NO_SLOT)
            .expect("more than 2^32 - 1 live timers");
        self.slots.push(Slot {
            seq: seq.get(),
            node,
            next_free: NO_SLOT,
            action: Some(action),
        });
        self.place((deadline, seq.get(), slot));
        if self.horizon == WHEEL_OFF && self.near.len() > NEAR_MAX {
            self.wheel_on();
        }
        TimerKey { slot, seq }
    }

    /// Frees `slot` (its timer fired or was cancelled) and returns its action.
    #[inline]
    fn release(&mut self, slot: u32) -> Option<Action> {
        let entry = &mut self.slots[slot as usize];
        entry.seq = 0;
        entry.next_free = self.free;
        self.free = slot;
        entry.action.take()
    }

    /// Turns the wheel on: timers from the bucket after the earliest one move
    /// to it. `near` keeps holding exactly the timers before the horizon.
    #[cold]
    fn wheel_on(&mut self) {
        let Some((earliest, _, _)) = self.near.front().copied() else {
            return;
        };
        self.horizon = (earliest.as_nanos() >> BUCKET_BITS) + 1;
        if self.wheel.is_none() {
            self.wheel = Some(Wheel::new());
        }
        let entries = std::mem::take(&mut self.near).into_vec();
        for entry in entries {
            if self.is_live(entry.1, entry.2) {
                self.place(entry);
            }
        }
    }

    /// Puts an entry in `near` or in the wheel bucket its deadline belongs to.
    #[inline(always)]
    fn place(&mut self, entry: Entry) {
        let bucket = entry.0.as_nanos() >> BUCKET_BITS;
        if bucket < self.horizon {
            self.near_insert(entry);
            return;
        }
        let horizon = self.horizon;
        let Some(wheel) = self.wheel.as_deref_mut() else {
            unreachable!("the wheel exists while it is on");
        };
        // Level 0 rolls: it holds the SLOTS0 buckets from the horizon on,
        // whatever block they fall in, so no timer nearer than that waits
        // in an upper level to be placed again.
        if bucket - horizon < SLOTS0 as u64 {
            let index = (bucket & (SLOTS0 as u64 - 1)) as usize;
            wheel.level0[index].push(entry);
            wheel.occupied0[index / 64] |= 1 << (index % 64);
            wheel.summary0 |= 1 << (index / 64);
            return;
        }
        // Above, the level is set by the highest bit in which the bucket
        // differs from the horizon: lower levels hold nearer buckets.
        place_upper(wheel, bucket, bucket ^ horizon, entry);
    }

    /// Inserts into `near` in order; at the back (the usual case) in O(1).
    #[inline]
    fn near_insert(&mut self, entry: Entry) {
        match self.near.back() {
            Some(last) if *last > entry => {
                let index = self.near.partition_point(|e| *e < entry);
                self.near.insert(index, entry);
            }
            _ => self.near.push_back(entry),
        }
    }

    #[inline]
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
            if entry.seq == key.seq.get() {
                if let Some(new) = action(&entry.action) {
                    entry.action = Some(new);
                }
            }
        }
    }

    /// Cancels a timer; a key of a fired or cancelled timer is ignored.
    #[inline]
    pub(crate) fn cancel(&mut self, key: TimerKey) -> Option<Action> {
        match self.slots.get(key.slot as usize) {
            Some(entry) if entry.seq == key.seq.get() => self.release(key.slot),
            _ => None,
        }
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
            let horizon = self.horizon;
            let wheel = match self.wheel.as_deref_mut() {
                Some(wheel) if horizon != WHEEL_OFF => wheel,
                _ => return None,
            };
            // The occupied bucket that starts first; on a tie the higher
            // level, whose timers must move down before the lower one fires.
            // Level 0's buckets run from the horizon's index on, wrapping
            // into the next block.
            let from = (horizon & (SLOTS0 as u64 - 1)) as usize;
            let mut best: Option<(u64, usize, usize)> = wheel.first0_from(from).map(|index| {
                let block = horizon >> LEVEL0_BITS << LEVEL0_BITS;
                let block = if index >= from { block } else { block + SLOTS0 as u64 };
                (block | index as u64, 0, index)
            });
            for (level, bits) in wheel.occupied.iter().enumerate().skip(1) {
                if *bits == 0 {
                    continue;
                }
                let index = bits.trailing_zeros() as usize;
                let shift = shift(level);
                let block = horizon >> (shift + LEVEL_BITS) << (shift + LEVEL_BITS);
                let start = (block | ((index as u64) << shift)).max(horizon);
                if best.is_none_or(|(best_start, _, _)| start <= best_start) {
                    best = Some((start, level, index));
                }
            }
            let Some((start, level, index)) = best else {
                // Nothing left anywhere: switch the wheel off until it is needed.
                self.horizon = WHEEL_OFF;
                return None;
            };
            if level == 0 {
                // A reached bucket, sorted, becomes the near queue (which
                // holds no live timer now), and the queue's empty buffer
                // becomes the bucket's: no timer is copied.
                wheel.clear0(index);
                let mut entries = std::mem::take(&mut wheel.level0[index]);
                // Timers placed straight into level 0 arrive in sequence
                // order, and a bucket (≈ 1 ms) often holds one deadline: then
                // it is already sorted, which a scan shows for less than the
                // sort's own check costs.
                if !entries.is_sorted() {
                    entries.sort_unstable_by_key(|&(deadline, seq, _)| {
                        u128::from(deadline.as_nanos()) << 64 | u128::from(seq)
                    });
                }
                let spent = std::mem::replace(&mut self.near, Queue::from_vec(entries));
                debug_assert!(
                    spent.is_empty(),
                    "near holds no timer when a bucket is reached"
                );
                wheel.level0[index] = spent.into_vec();
                self.horizon = start + 1;
            } else {
                wheel.occupied[level] &= !(1 << index);
                let mut entries = std::mem::take(&mut wheel.upper[level][index]);
                self.horizon = start;
                for entry in entries.drain(..) {
                    if self.is_live(entry.1, entry.2) {
                        self.place(entry);
                    }
                }
                // Keep the bucket's allocation for the next turn.
                if let Some(wheel) = self.wheel.as_deref_mut() {
                    wheel.upper[level][index] = entries;
                }
            }
        }
    }

    /// Removes and returns the earliest timer due at or before `now`.
    /// Call [`Timers::next_deadline`] first: due timers are in `near`.
    #[inline]
    ///
    /// The node is the timer's, except for a task's timer (see
    /// [`Timers::insert_task`]).
    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<(u64, Option<NodeId>, Action)> {
        loop {
            let (deadline, seq, slot) = *self.near.front()?;
            if deadline > now {
                return None;
            }
            self.near.pop_front();
            if !self.is_live(seq, slot) {
                continue;
            }
            let node = self.slots[slot as usize].node;
            let action = self.release(slot).expect("a live timer has an action");
            return Some((seq, node, action));
        }
    }

    /// Removes and returns the earliest timer due at or before `now` if it
    /// wakes a task (`(seq, slot, id)`); leaves any other timer for
    /// [`Timers::pop_due`].
    #[inline]
    pub(crate) fn pop_due_task(&mut self, now: Instant) -> Option<(u64, u32, TaskId)> {
        loop {
            let (deadline, seq, slot) = *self.near.front()?;
            if deadline > now {
                return None;
            }
            let entry = &self.slots[slot as usize];
            if entry.seq != seq {
                self.near.pop_front();
                continue;
            }
            let Some(Action::Task(task_slot, id)) = entry.action else {
                return None;
            };
            self.near.pop_front();
            self.release(slot);
            return Some((seq, task_slot, id));
        }
    }

    /// Drops every timer, for tearing a world down; returns the actions so the
    /// caller can drop them outside its borrow.
    pub(crate) fn clear(&mut self) -> Vec<Action> {
        self.near.clear();
        if let Some(wheel) = self.wheel.as_deref_mut() {
            for bucket in wheel.level0.iter_mut() {
                bucket.clear();
            }
            for level in &mut wheel.upper {
                for bucket in level.iter_mut() {
                    bucket.clear();
                }
            }
            wheel.occupied = [0; LEVELS];
            wheel.occupied0 = [0; WORDS0];
            wheel.summary0 = 0;
        }
        self.free = NO_SLOT;
        self.slots.drain(..).filter_map(|s| s.action).collect()
    }
}

/// Puts an entry in a bucket of level 1 or above.
#[inline(never)]
fn place_upper(wheel: &mut Wheel, bucket: u64, differing: u64, entry: Entry) {
    let high = 63 - differing.leading_zeros();
    let level = 1 + ((high - LEVEL0_BITS) / LEVEL_BITS) as usize;
    let index = ((bucket >> shift(level)) & (SLOTS as u64 - 1)) as usize;
    if wheel.upper.len() <= level {
        wheel.grow(level);
    }
    wheel.upper[level][index].push(entry);
    wheel.occupied[level] |= 1 << index;
}

#[cfg(test)]
mod tests {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;

    use super::*;
    use crate::{Seed, SimRng};

    /// Moves `now` to the next deadline, if any, and fires what is due then.
    fn step(timers: &mut Timers, now: &mut Instant, fired: &mut Vec<u64>) {
        if let Some(deadline) = timers.next_deadline() {
            *now = deadline;
            while let Some((seq, _, _)) = timers.pop_due(*now) {
                fired.push(seq);
            }
        }
    }

    /// What a global heap fires by `now`, cancelled timers left out.
    fn expect_due(
        reference: &mut BinaryHeap<Reverse<(Instant, u64)>>,
        cancelled: &std::collections::BTreeSet<u64>,
        now: Instant,
        expected: &mut Vec<u64>,
    ) {
        while let Some(Reverse((deadline, seq))) = reference.peek().copied() {
            if deadline > now {
                break;
            }
            reference.pop();
            if !cancelled.contains(&seq) {
                expected.push(seq);
            }
        }
    }

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
                reference.push(Reverse((deadline, key.seq.get())));
                keys.push(key);
            }
            if round % 7 == 0 {
                let key = keys[rng.below(keys.len() as u64) as usize];
                if timers.cancel(key).is_some() {
                    cancelled.insert(key.seq.get());
                }
            }
            step(&mut timers, &mut now, &mut fired);
            expect_due(&mut reference, &cancelled, now, &mut expected);
            assert_eq!(fired, expected, "round {round}");
        }
        assert!(fired.len() > 1000);
    }

    /// Level 0 rolls across block boundaries while upper levels hold timers
    /// of the same blocks: for several seeds, timers from nanoseconds to a
    /// few blocks out, some cancelled, fire in the order of a global heap.
    #[test]
    fn rolling_level_order_matches_a_global_heap() {
        let bucket = 1u64 << BUCKET_BITS;
        let block = bucket << LEVEL0_BITS;
        for seed in 0..16 {
            let mut rng = SimRng::stream(Seed::new(seed), "wheel-rolling");
            let mut timers = Timers::default();
            let mut reference: BinaryHeap<Reverse<(Instant, u64)>> = BinaryHeap::new();
            let mut cancelled = std::collections::BTreeSet::new();
            let mut keys = Vec::new();
            let mut now = Instant::ZERO;
            let (mut fired, mut expected) = (Vec::new(), Vec::new());
            for round in 0..600u64 {
                for _ in 0..4 {
                    let ahead = match rng.below(4) {
                        0 => rng.below(bucket * 8) + 1,
                        1 => rng.below(block) + 1,
                        2 => block - bucket * 4 + rng.below(bucket * 8),
                        _ => rng.below(block * 70) + 1,
                    };
                    let deadline = now.saturating_add(std::time::Duration::from_nanos(ahead));
                    let key = timers.insert(deadline, None, Action::Call(Box::new(|| {})));
                    reference.push(Reverse((deadline, key.seq.get())));
                    keys.push(key);
                }
                if round % 5 == 0 {
                    let key = keys[rng.below(keys.len() as u64) as usize];
                    if timers.cancel(key).is_some() {
                        cancelled.insert(key.seq.get());
                    }
                }
                for _ in 0..3 {
                    step(&mut timers, &mut now, &mut fired);
                }
                expect_due(&mut reference, &cancelled, now, &mut expected);
                assert_eq!(fired, expected, "seed {seed}, round {round}");
            }
            assert!(fired.len() > 1000, "seed {seed}: {} fired", fired.len());
        }
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
            reference.push(Reverse((deadline, key.seq.get())));
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
                    reference.push(Reverse((deadline, key.seq.get())));
                }
            }
        }
        assert!(reference.is_empty());
        assert_eq!(fired, 40_000 + 4_999);
    }
}
