//! Messages in flight and the network's delivery queue.
//!
//! The network keeps its own queue ordered by `(arrival, sequence)` and arms
//! exactly one world timer, for the earliest arrival. When it fires, every
//! message due at that instant is delivered in one step, in send order. The
//! timer's callback captures nothing, so a delivery allocates nothing
//! beyond the payload.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

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
}

impl Flight {
    pub(crate) fn tag(&self) -> Tag {
        Tag {
            source: self.source,
            target: self.target,
            kind: self.what.kind(),
            len: self.payload.len(),
            hash: self.hash,
        }
    }
}

/// The delivery queue.
#[derive(Default)]
pub(crate) struct Flights {
    heap: BinaryHeap<Reverse<(u64, u64, u32)>>,
    slab: Vec<Option<Flight>>,
    free: Vec<u32>,
    sequence: u64,
    /// The world timer armed for the earliest arrival.
    pub(crate) armed: Option<(u64, Timer)>,
}

impl Flights {
    pub(crate) fn len(&self) -> usize {
        self.heap.len()
    }

    /// Queues `flight` for `at` (nanoseconds of true time).
    #[inline]
    pub(crate) fn push(&mut self, at: u64, flight: Flight) {
        let slot = match self.free.pop() {
            Some(slot) => {
                debug_assert!(self.slab[slot as usize].is_none());
                self.slab[slot as usize] = Some(flight);
                slot
            }
            None => {
                self.slab.push(Some(flight));
                u32::try_from(self.slab.len() - 1).expect("more than 2^32 messages in flight")
            }
        };
        self.sequence += 1;
        self.heap.push(Reverse((at, self.sequence, slot)));
    }

    /// The earliest arrival.
    #[inline]
    pub(crate) fn next_at(&self) -> Option<u64> {
        self.heap.peek().map(|Reverse((at, _, _))| *at)
    }

    /// Removes the earliest message due at or before `now`.
    #[inline]
    pub(crate) fn pop_due(&mut self, now: u64) -> Option<Flight> {
        let Reverse((at, _, slot)) = *self.heap.peek()?;
        if at > now {
            return None;
        }
        self.heap.pop();
        self.free.push(slot);
        Some(
            self.slab[slot as usize]
                .take()
                .expect("detsim-net bug: a queued flight slot is empty"),
        )
    }
}
