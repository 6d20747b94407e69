//! Buffers a dropped world leaves to the next world made on its thread.
//!
//! A sweep makes thousands of small worlds on each thread, one after
//! another, and every world needs the same few vectors: the task slab and
//! the ready queue, the timer slots and the near queue, the node table and
//! its index by name, the extensions. A dropped world hands them on emptied (their capacity, never
//! their contents), so the next world allocates none of them; its node
//! names, the one content it hands on, are plain immutable text. A buffer
//! bigger than [`KEPT_MAX`] items is freed instead, so that one huge world
//! does not pin its memory on the thread. Nothing here decides anything in a
//! run: a vector's capacity is never observed.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use super::{ExtensionEntry, NodeEntry, NodeId, Shared, TaskId, task, timer};

/// The most items a kept buffer may have room for (and the most wakers kept).
pub(super) const KEPT_MAX: usize = 1024;

/// The buffers of one world, all empty.
#[derive(Default)]
pub(super) struct Buffers {
    pub(super) task_slots: Vec<task::Slot>,
    pub(super) ready: Vec<(u32, TaskId)>,
    pub(super) timer_slots: Vec<timer::Slot>,
    pub(super) near: Vec<timer::Entry>,
    pub(super) nodes: Vec<NodeEntry>,
    pub(super) extensions: Vec<ExtensionEntry>,
    pub(super) names: Vec<(Rc<str>, NodeId)>,
    /// The last world's node names in the order added, with their
    /// watchdog indexes (not empty): a node of the next world named like
    /// the node of the same index shares the name instead of copying it.
    pub(super) last_names: Vec<(Rc<str>, u32)>,
    /// Wakers of ended tasks that nothing else holds (not empty: each is a
    /// waker the next world's tasks are given instead of a new one).
    pub(super) wakers: Vec<Arc<task::TaskWaker>>,
    /// The last world's state shared with wakers, for the next world if
    /// nothing but the kept wakers holds it (see [`Buffers::shared`]).
    pub(super) shared: Option<Arc<Shared>>,
}

impl Buffers {
    /// The kept state shared with wakers, reset, if only the kept wakers
    /// hold it besides this: no waker of the last world outside them can
    /// reach the next world through it.
    pub(super) fn shared(&mut self) -> Option<Arc<Shared>> {
        let shared = self.shared.take()?;
        let held = self
            .wakers
            .iter()
            .filter(|waker| Arc::ptr_eq(&waker.shared, &shared))
            .count();
        if Arc::strong_count(&shared) != 1 + held || Arc::weak_count(&shared) != 0 {
            return None;
        }
        shared.reset();
        Some(shared)
    }

    /// Frees what is too big to keep.
    fn fit(&mut self) {
        fn fit<T>(buffer: &mut Vec<T>) {
            debug_assert!(buffer.is_empty(), "a kept buffer is empty");
            buffer.clear();
            if buffer.capacity() > KEPT_MAX {
                *buffer = Vec::new();
            }
        }
        fit(&mut self.task_slots);
        fit(&mut self.ready);
        fit(&mut self.timer_slots);
        fit(&mut self.near);
        fit(&mut self.nodes);
        fit(&mut self.extensions);
        fit(&mut self.names);
        self.wakers.truncate(KEPT_MAX);
        self.last_names.truncate(KEPT_MAX);
    }
}

thread_local! {
    static SPARE: RefCell<Option<Buffers>> = const { RefCell::new(None) };
}

/// The buffers the last world dropped on this thread left, if any.
pub(super) fn take() -> Buffers {
    SPARE
        .try_with(|spare| spare.try_borrow_mut().ok().and_then(|mut s| s.take()))
        .ok()
        .flatten()
        .unwrap_or_default()
}

/// Lets `fill` leave a dropped world's (emptied) buffers for the next world
/// on this thread, in place (the set is big: moving it whole is a copy). At
/// thread exit, or with the slot busy, `fill` does not run and the buffers
/// are simply freed.
pub(super) fn keep(fill: impl FnOnce(&mut Buffers)) {
    let _ = SPARE.try_with(|spare| {
        if let Ok(mut spare) = spare.try_borrow_mut() {
            let spare = spare.get_or_insert_with(Buffers::default);
            fill(spare);
            spare.fit();
        }
    });
}
