//! Messages in flight and the network's delivery queue.
//!
//! The network keeps its own queue ordered by `(arrival, sequence)` and arms
//! exactly one world timer, for the earliest arrival. When it fires, every
//! message due at that instant is delivered in one step, in send order. The
//! timer's callback captures nothing, so a delivery allocates nothing
//! beyond the payload.
//!
//! The queue is a FIFO run plus a heap: a message arriving no earlier than
//! the last one queued (every message of a constant-latency network) is
//! appended to the run in O(1); only out-of-order arrivals (jitter) pay for
//! the heap. Popping takes the smaller `(arrival, sequence)` of the two fronts.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use detsim::Timer;

use crate::Addr;
use crate::trace::{MessageKind, Tag};

/// What a message in flight is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum What {
    Datagram,
    Syn,
    SynAck,
    Refuse,
    Data { seq: u64 },
    Fin { seq: u64 },
    Rst,
}

impl What {
    pub(crate) fn kind(self) -> MessageKind {
        match self {
            What::Datagram => MessageKind::Datagram,
            What::Syn => MessageKind::Syn,
            What::SynAck => MessageKind::SynAck,
            What::Refuse => MessageKind::Refuse,
            What::Data { .. } => MessageKind::Data,
            What::Fin { .. } => MessageKind::Fin,
            What::Rst => MessageKind::Rst,
        }
    }
}

/// One message on the wire.
pub(crate) struct Flight {
    pub(crate) source: Addr,
    pub(crate) target: Addr,
    pub(crate) what: What,
    /// The stream connection (0 for datagrams).
    pub(crate) conn: u64,
    pub(crate) payload: Vec<u8>,
    pub(crate) hash: u32,
    /// The link's cut epoch when it was sent.
    pub(crate) cut_epoch: u32,
    /// The link's outage count when it was sent.
    pub(crate) down_epoch: u32,
    /// When it was first sent (retransmissions keep it, for timeouts).
    pub(crate) first_sent: u64,
    /// Due for retransmission rather than delivery.
    pub(crate) resend: bool,
    /// The message's number, from 1 in send order (0: not sent yet);
    /// retransmissions, duplicates and replays keep it.
    pub(crate) id: u64,
}

impl Flight {
    pub(crate) fn tag(&self) -> Tag {
        Tag {
            source: self.source,
            target: self.target,
            kind: self.what.kind(),
            len: self.payload.len(),
            hash: self.hash,
            id: self.id,
        }
    }
}

/// One slot of the flights' slab: a message, or a link of the free list.
pub(crate) enum Slot {
    Live(Flight),
    /// Free; the next free slot (`NO_SLOT`: none).
    Free(u32),
}

/// The end of the free list.
const NO_SLOT: u32 = u32::MAX;

/// The delivery queue.
pub(crate) struct Flights {
    /// Entries in `(arrival, sequence)` order, appended in O(1).
    run: VecDeque<(u64, u64, u32)>,
    /// Entries that arrive before the run's last one.
    heap: BinaryHeap<Reverse<(u64, u64, u32)>>,
    slab: Vec<Slot>,
    /// The first free slot (`NO_SLOT`: none); the list runs through the slab.
    free: u32,
    sequence: u64,
    /// The world timer armed for the earliest arrival.
    pub(crate) armed: Option<(u64, Timer)>,
}

impl Default for Flights {
    fn default() -> Flights {
        Flights {
            run: VecDeque::new(),
            heap: BinaryHeap::new(),
            slab: Vec::new(),
            free: NO_SLOT,
            sequence: 0,
            armed: None,
        }
    }
}

impl Flights {
    /// An empty queue on (empty) recycled buffers.
    pub(crate) fn with_buffers(mut slab: Vec<Slot>, mut run: VecDeque<(u64, u64, u32)>) -> Flights {
        slab.clear();
        run.clear();
        Flights {
            slab,
            run,
            ..Flights::default()
        }
    }

    /// The queue's buffers, emptied (its messages dropped).
    pub(crate) fn take_buffers(&mut self) -> (Vec<Slot>, VecDeque<(u64, u64, u32)>) {
        self.free = NO_SLOT;
        self.heap.clear();
        let mut slab = std::mem::take(&mut self.slab);
        slab.clear();
        let mut run = std::mem::take(&mut self.run);
        run.clear();
        (slab, run)
    }

    pub(crate) fn len(&self) -> usize {
        self.run.len() + self.heap.len()
    }

    /// Queues `flight` for `at` (nanoseconds of true time).
    #[inline]
    pub(crate) fn push(&mut self, at: u64, flight: Flight) {
        let slot = match self.free {
            NO_SLOT => {
                let slot = u32::try_from(self.slab.len())
                    .ok()
                    .filter(|slot| *slot != NO_SLOT)
                    .expect("more than 2^32 - 1 messages in flight");
                self.slab.push(Slot::Live(flight));
                slot
            }
            slot => {
                let place = &mut self.slab[slot as usize];
                let Slot::Free(next) = *place else {
                    unreachable!("detsim-net bug: a flight slot on the free list is live");
                };
                self.free = next;
                *place = Slot::Live(flight);
                slot
            }
        };
        self.sequence += 1;
        let entry = (at, self.sequence, slot);
        match self.run.back() {
            Some(&(last, _, _)) if at < last => self.heap.push(Reverse(entry)),
            _ => self.run.push_back(entry),
        }
    }

    /// The earliest entry: from the run (`true`) or the heap.
    #[inline]
    fn front(&self) -> Option<((u64, u64, u32), bool)> {
        match (self.run.front(), self.heap.peek()) {
            (Some(&r), Some(&Reverse(h))) => Some(if r < h { (r, true) } else { (h, false) }),
            (Some(&r), None) => Some((r, true)),
            (None, Some(&Reverse(h))) => Some((h, false)),
            (None, None) => None,
        }
    }

    /// The earliest arrival.
    #[inline]
    pub(crate) fn next_at(&self) -> Option<u64> {
        self.front().map(|((at, _, _), _)| at)
    }

    /// Removes the earliest message due at or before `now`.
    #[inline]
    pub(crate) fn pop_due(&mut self, now: u64) -> Option<Flight> {
        let ((at, _, slot), from_run) = self.front()?;
        if at > now {
            return None;
        }
        if from_run {
            self.run.pop_front();
        } else {
            self.heap.pop();
        }
        let place = &mut self.slab[slot as usize];
        match std::mem::replace(place, Slot::Free(self.free)) {
            Slot::Live(flight) => {
                self.free = slot;
                Some(flight)
            }
            Slot::Free(_) => unreachable!("detsim-net bug: a queued flight slot is empty"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use detsim::NodeId;

    fn flight(tag: u32) -> Flight {
        let addr = crate::Addr::new(some_node(), 0);
        Flight {
            source: addr,
            target: addr,
            what: What::Datagram,
            conn: 0,
            payload: Vec::new(),
            hash: tag,
            cut_epoch: 0,
            down_epoch: 0,
            first_sent: 0,
            resend: false,
            id: 0,
        }
    }

    /// Node ids come from a world; the queue never looks at them.
    fn some_node() -> NodeId {
        let mut sim = detsim::Sim::new(detsim::Seed::new(0));
        sim.add_node("n", |_| async {}).unwrap()
    }

    #[test]
    fn pops_in_arrival_then_send_order_across_run_and_heap() {
        // Proves the run-plus-heap queue pops exactly in (arrival, sequence) order.
        let mut flights = Flights::default();
        let arrivals = [5, 5, 3, 9, 5, 1, 9, 7, 3];
        for (tag, at) in arrivals.iter().enumerate() {
            flights.push(*at, flight(tag as u32));
        }
        let mut order = Vec::new();
        while let Some(f) = flights.pop_due(u64::MAX) {
            order.push(f.hash);
        }
        // Stable sort of tags by arrival.
        assert_eq!(order, [5, 2, 8, 0, 1, 4, 7, 3, 6]);
        assert_eq!(flights.len(), 0);
        flights.push(4, flight(0));
        assert_eq!(flights.next_at(), Some(4));
        assert!(flights.pop_due(3).is_none());
    }
}
