//! Buffers a dropped network leaves to the next network made on its thread.
//!
//! A sweep makes thousands of small worlds on each thread, one after
//! another, and every network needs the same few vectors: the node table,
//! the link rows, the socket slab and its port map, the flights, the socket
//! inboxes, the datagram payloads. A dropped network hands them on emptied
//! (their capacity, never their contents), so the next one allocates none
//! of them. A buffer bigger
//! than [`KEPT_MAX`] items is freed instead, so that one huge network does
//! not pin its memory on the thread. Nothing here decides anything in a run:
//! a buffer's capacity is never observed.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use rustc_hash::FxHashMap;

use crate::Datagram;
use crate::datagram::{Bound, SocketSlot};
use crate::flight;
use crate::link::Link;
use crate::slab;
use crate::state::NodeNet;

/// The most items a kept buffer may have room for (and the most spare link
/// rows and inboxes kept).
pub(crate) const KEPT_MAX: usize = 1024;

/// The most datagram payload buffers kept, and the largest (in bytes).
pub(crate) const PAYLOADS_KEPT: usize = 64;
pub(crate) const PAYLOAD_BYTES_MAX: usize = 4096;

/// The buffers of one network, all empty.
#[derive(Default)]
pub(crate) struct Buffers {
    pub(crate) nodes: Vec<NodeNet>,
    pub(crate) links: Vec<Vec<Link>>,
    /// Emptied link rows, for the rows the next network makes.
    pub(crate) rows: Vec<Vec<Link>>,
    pub(crate) sockets: Vec<(u32, slab::Entry<SocketSlot>)>,
    pub(crate) udp: FxHashMap<(u32, u16), u32>,
    pub(crate) flights: Vec<flight::Slot>,
    pub(crate) run: VecDeque<(u64, u64, u32)>,
    /// Emptied socket inboxes, for the sockets the next network binds.
    pub(crate) inboxes: Vec<VecDeque<Datagram>>,
    /// Emptied datagram payloads, for the datagrams the next network sends.
    pub(crate) payloads: Vec<Vec<u8>>,
    /// Released datagram bindings that nothing else holds, for the sockets
    /// the next network binds.
    pub(crate) bounds: Vec<Rc<Bound>>,
}

thread_local! {
    static SPARE: RefCell<Option<Buffers>> = const { RefCell::new(None) };
}

/// The buffers the last network dropped on this thread left, if any.
pub(crate) fn take() -> Buffers {
    SPARE
        .try_with(|spare| spare.try_borrow_mut().ok().and_then(|mut s| s.take()))
        .ok()
        .flatten()
        .unwrap_or_default()
}

/// Whether an emptied buffer of `capacity` items is worth keeping.
pub(crate) fn fits(capacity: usize) -> bool {
    capacity <= KEPT_MAX
}

/// Leaves a dropped network's buffers for the next network on this thread.
pub(crate) fn keep(mut buffers: Buffers) {
    fn fit<T>(buffer: &mut Vec<T>) {
        buffer.clear();
        if !fits(buffer.capacity()) {
            *buffer = Vec::new();
        }
    }
    fit(&mut buffers.nodes);
    fit(&mut buffers.links);
    buffers.rows.truncate(KEPT_MAX);
    for row in &mut buffers.rows {
        fit(row);
    }
    fit(&mut buffers.sockets);
    fit(&mut buffers.flights);
    buffers.udp.clear();
    if !fits(buffers.udp.capacity()) {
        buffers.udp = FxHashMap::default();
    }
    buffers.run.clear();
    if !fits(buffers.run.capacity()) {
        buffers.run = VecDeque::new();
    }
    debug_assert!(buffers.payloads.iter().all(Vec::is_empty));
    buffers.payloads.truncate(PAYLOADS_KEPT);
    buffers.bounds.truncate(KEPT_MAX);
    buffers.inboxes.truncate(KEPT_MAX);
    buffers.inboxes.retain_mut(|inbox| {
        inbox.clear();
        fits(inbox.capacity())
    });
    // At thread exit, or with the slot busy, the buffers are simply freed.
    let _ = SPARE.try_with(|spare| {
        if let Ok(mut spare) = spare.try_borrow_mut() {
            if spare.is_none() {
                *spare = Some(buffers);
            }
        }
    });
}
