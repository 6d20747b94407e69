//! The timer queue: deadlines in virtual time, fired in `(deadline, sequence)` order.
//!
//! Cancelled timers are removed lazily: their slot is freed at once and the
//! heap entry is skipped when it surfaces, so cancellation is O(1).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::task::Waker;

use super::NodeId;
use crate::time::Instant;

/// Identifies one registered timer; stale keys are harmless.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TimerKey {
    slot: u32,
    seq: u64,
}

/// What a timer does when it fires.
pub(crate) enum Action {
    /// Wake a task (sleeps).
    Wake(Waker),
    /// Run a callback (extensions: message deliveries, disk completions).
    Call(Box<dyn FnOnce()>),
}

struct Slot {
    /// The sequence number of the timer occupying the slot; 0 when free.
    seq: u64,
    waker: Option<Action>,
    /// The node whose task registered the timer, for the trace.
    node: Option<NodeId>,
}

#[derive(Default)]
pub(crate) struct Timers {
    heap: BinaryHeap<Reverse<(Instant, u64, u32)>>,
    slots: Vec<Slot>,
    free: Vec<u32>,
    seq_next: u64,
    live: usize,
}

impl Timers {
    pub(crate) fn insert(
        &mut self,
        deadline: Instant,
        node: Option<NodeId>,
        waker: Action,
    ) -> TimerKey {
        self.seq_next += 1;
        let seq = self.seq_next;
        let slot = match self.free.pop() {
            Some(slot) => {
                let entry = &mut self.slots[slot as usize];
                debug_assert_eq!(entry.seq, 0, "timer slot on the free list is occupied");
                entry.seq = seq;
                entry.waker = Some(waker);
                entry.node = node;
                slot
            }
            None => {
                let slot = u32::try_from(self.slots.len()).expect("more than 2^32 live timers");
                self.slots.push(Slot {
                    seq,
                    waker: Some(waker),
                    node,
                });
                slot
            }
        };
        self.heap.push(Reverse((deadline, seq, slot)));
        self.live += 1;
        TimerKey { slot, seq }
    }

    /// Replaces the waker of a pending timer (a future moved between tasks).
    pub(crate) fn update(&mut self, key: TimerKey, waker: &Waker) {
        if let Some(entry) = self.slots.get_mut(key.slot as usize) {
            if entry.seq == key.seq {
                match &entry.waker {
                    Some(Action::Wake(w)) if w.will_wake(waker) => {}
                    _ => entry.waker = Some(Action::Wake(waker.clone())),
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
        self.live -= 1;
        entry.waker.take()
    }

    /// The earliest deadline of a live timer.
    pub(crate) fn next_deadline(&mut self) -> Option<Instant> {
        while let Some(Reverse((deadline, seq, slot))) = self.heap.peek().copied() {
            if self.slots[slot as usize].seq == seq {
                return Some(deadline);
            }
            self.heap.pop();
        }
        None
    }

    /// Removes and returns the earliest timer due at or before `now`.
    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<(u64, Option<NodeId>, Action)> {
        loop {
            let Reverse((deadline, seq, slot)) = *self.heap.peek()?;
            if deadline > now {
                return None;
            }
            self.heap.pop();
            let entry = &mut self.slots[slot as usize];
            if entry.seq != seq {
                continue;
            }
            entry.seq = 0;
            self.free.push(slot);
            self.live -= 1;
            let waker = entry.waker.take().expect("a live timer has a waker");
            return Some((seq, entry.node, waker));
        }
    }

    /// Drops every timer (and its waker), for tearing a world down.
    pub(crate) fn clear(&mut self) -> Vec<Action> {
        self.heap.clear();
        self.free.clear();
        self.live = 0;
        self.slots.drain(..).filter_map(|s| s.waker).collect()
    }
}
