//! Tasks: the slab that owns them, their wakers, and join handles.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use super::queue::Queue;
use super::{NodeId, Shared};
pub(crate) use crate::join::{JoinError, TaskId};

/// A boxed task: the future together with the waker it is polled with, so a
/// poll needs no waker clone.
pub(crate) trait Runnable {
    fn poll_task(self: Pin<&mut Self>) -> Poll<()>;

    /// The waker the task is polled with.
    fn waker(&self) -> &Waker;

    /// Gives up the task's waker, to be reused if nothing else holds it
    /// (the task is dropped next).
    fn retire(self: Pin<&mut Self>) -> Option<Arc<TaskWaker>>;
}

pin_project_lite::pin_project! {
    struct TaskCell<F> {
        waker: Waker,
        // The waker's own `Arc`, to take it back when the task ends.
        handle: Option<Arc<TaskWaker>>,
        #[pin]
        future: F,
    }
}

impl<F: Future<Output = ()>> Runnable for TaskCell<F> {
    fn poll_task(self: Pin<&mut Self>) -> Poll<()> {
        let this = self.project();
        let mut cx = Context::from_waker(this.waker);
        this.future.poll(&mut cx)
    }

    fn waker(&self) -> &Waker {
        &self.waker
    }

    fn retire(self: Pin<&mut Self>) -> Option<Arc<TaskWaker>> {
        let this = self.project();
        *this.waker = Waker::noop().clone();
        this.handle.take()
    }
}

pub(crate) type BoxTask = Pin<Box<dyn Runnable>>;

pub(crate) struct TaskEntry {
    pub(crate) id: TaskId,
    pub(crate) node: Option<NodeId>,
    /// `None` while the task is being polled.
    pub(crate) task: Option<BoxTask>,
    pub(crate) queued: bool,
    /// Crashed or aborted while being polled: drop it when the poll returns.
    pub(crate) kill: Option<DropReason>,
    pub(crate) spawned_at: &'static Location<'static>,
    /// When it was last polled (spawned, before its first poll): a failure
    /// names the tasks that waited longest.
    pub(crate) polled_at: crate::time::Instant,
    /// Its spawn site and node name as the watchdog reads them.
    pub(crate) whereabouts: u64,
    /// Its waker's identity, read once at spawn so a poll needs no call
    /// into the task to know it (see `World::register_own`).
    pub(crate) waker: super::WakerIdentity,
}

/// The live tasks of `slots` (a slab's taken slots).
pub(crate) fn live_mut(slots: &mut [Slot]) -> impl Iterator<Item = &mut TaskEntry> {
    slots.iter_mut().filter_map(|slot| match slot {
        Slot::Live(entry) => Some(entry),
        Slot::Free(_) => None,
    })
}

/// One slot of the task slab: a live task, or a link of the free list.
pub(crate) enum Slot {
    Live(TaskEntry),
    /// Free; the next free slot (`NO_SLOT`: none).
    Free(u32),
}

/// The end of the free list of task slots.
const NO_SLOT: u32 = u32::MAX;

/// Tasks by slot, and the queue of those ready to be polled (one borrow
/// serves both). Slots are reused LIFO, which is deterministic.
pub(crate) struct Tasks {
    slots: Vec<Slot>,
    /// The first free slot (`NO_SLOT`: none); the list runs through the slots.
    free: u32,
    id_next: u64,
    pub(crate) live: usize,
    /// Ready tasks, in the order they became ready.
    pub(crate) ready: Queue<(u32, TaskId)>,
    /// How many tasks have left the slab: a run's goal (its body finishing)
    /// can only change when one does.
    pub(crate) ended: u64,
}

impl Default for Tasks {
    fn default() -> Tasks {
        Tasks {
            slots: Vec::new(),
            free: NO_SLOT,
            id_next: 0,
            live: 0,
            ready: Queue::default(),
            ended: 0,
        }
    }
}

impl Tasks {
    /// An empty slab on (empty) recycled buffers.
    pub(crate) fn with_buffers(slots: Vec<Slot>, ready: Vec<(u32, TaskId)>) -> Tasks {
        debug_assert!(slots.is_empty() && ready.is_empty());
        Tasks {
            slots,
            ready: Queue::from_vec(ready),
            ..Tasks::default()
        }
    }

    /// Gives up the (empty) buffers for a later world.
    pub(crate) fn take_buffers(&mut self) -> (Vec<Slot>, Vec<(u32, TaskId)>) {
        if !self.slots.is_empty() || !self.ready.is_empty() {
            return (Vec::new(), Vec::new());
        }
        (
            std::mem::take(&mut self.slots),
            std::mem::take(&mut self.ready).into_vec(),
        )
    }

    /// Puts back the slab's buffer after [`Tasks::take_all`], emptied.
    pub(crate) fn restore(&mut self, mut slots: Vec<Slot>) {
        slots.clear();
        if self.slots.is_empty() && self.slots.capacity() == 0 {
            self.slots = slots;
        }
    }

    pub(crate) fn next_id(&mut self) -> TaskId {
        let id = TaskId(self.id_next);
        self.id_next += 1;
        id
    }

    pub(crate) fn next_slot(&self) -> u32 {
        match self.free {
            NO_SLOT => u32::try_from(self.slots.len())
                .ok()
                .filter(|slot| *slot != NO_SLOT)
                .expect("more than 2^32 - 1 live tasks"),
            slot => slot,
        }
    }

    pub(crate) fn insert(&mut self, entry: TaskEntry) -> u32 {
        self.live += 1;
        match self.free {
            NO_SLOT => {
                self.slots.push(Slot::Live(entry));
                (self.slots.len() - 1) as u32
            }
            slot => {
                let Slot::Free(next) = self.slots[slot as usize] else {
                    unreachable!("detsim bug: a task slot on the free list is live");
                };
                self.free = next;
                self.slots[slot as usize] = Slot::Live(entry);
                slot
            }
        }
    }

    pub(crate) fn remove(&mut self, slot: u32) -> Option<TaskEntry> {
        let place = self.slots.get_mut(slot as usize)?;
        if !matches!(place, Slot::Live(_)) {
            return None;
        }
        let Slot::Live(entry) = std::mem::replace(place, Slot::Free(self.free)) else {
            unreachable!("checked live above");
        };
        self.free = slot;
        self.live -= 1;
        self.ended += 1;
        Some(entry)
    }

    /// Empties the slab (the world is being torn down) and returns its slots.
    pub(crate) fn take_all(&mut self) -> Vec<Slot> {
        self.free = NO_SLOT;
        self.ended += self.live as u64;
        self.live = 0;
        self.ready.clear();
        std::mem::take(&mut self.slots)
    }

    #[inline]
    pub(crate) fn get_mut(&mut self, slot: u32, id: TaskId) -> Option<&mut TaskEntry> {
        match self.slots.get_mut(slot as usize) {
            Some(Slot::Live(entry)) if entry.id == id => Some(entry),
            _ => None,
        }
    }

    pub(crate) fn get(&self, slot: u32, id: TaskId) -> Option<&TaskEntry> {
        match self.slots.get(slot as usize) {
            Some(Slot::Live(entry)) if entry.id == id => Some(entry),
            _ => None,
        }
    }

    /// The live task in `slot`, whatever its id.
    pub(crate) fn slot_mut(&mut self, slot: u32) -> Option<&mut TaskEntry> {
        match self.slots.get_mut(slot as usize) {
            Some(Slot::Live(entry)) => Some(entry),
            _ => None,
        }
    }

    /// How many slots there are, live or free.
    pub(crate) fn slot_count(&self) -> u32 {
        self.slots.len() as u32
    }

    /// The live tasks, in slot order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &TaskEntry> {
        self.slots.iter().filter_map(|slot| match slot {
            Slot::Live(entry) => Some(entry),
            Slot::Free(_) => None,
        })
    }

    /// The slot of a live task, by id (linear: used on rare paths only).
    pub(crate) fn find(&self, id: TaskId) -> Option<u32> {
        self.slots
            .iter()
            .position(|e| matches!(e, Slot::Live(e) if e.id == id))
            .map(|slot| slot as u32)
    }

    /// Makes a task ready, unless it is already queued, and returns its node
    /// (a task's timer is its node's; `None` for a task gone).
    #[inline]
    pub(crate) fn schedule(&mut self, slot: u32, id: TaskId) -> Option<NodeId> {
        if let Some(Slot::Live(entry)) = self.slots.get_mut(slot as usize) {
            if entry.id == id {
                if !entry.queued {
                    entry.queued = true;
                    self.ready.push_back((slot, id));
                }
                return entry.node;
            }
        }
        None
    }

}

/// The waker of one task. `Wake` requires `Send + Sync`; a wake from a thread
/// that is not running this world is a determinism leak, recorded in `shared`.
pub(crate) struct TaskWaker {
    pub(crate) world: u64,
    pub(crate) slot: u32,
    pub(crate) id: TaskId,
    pub(crate) shared: Arc<Shared>,
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref()
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let delivered = super::with_world_opt(|world| {
            if world.id == self.world {
                world.schedule(self.slot, self.id);
                true
            } else {
                false
            }
        });
        if delivered != Some(true) {
            self.shared.foreign_wake(self.id);
        }
    }
}

pub(crate) fn new_task<F: Future<Output = ()> + 'static>(
    handle: Arc<TaskWaker>,
    future: F,
) -> BoxTask {
    Box::pin(TaskCell {
        waker: Waker::from(handle.clone()),
        handle: Some(handle),
        future,
    })
}

/// A task's waker, made again for a new task if a spare one is at hand.
pub(crate) fn waker_for(
    spare: Option<Arc<TaskWaker>>,
    world: u64,
    slot: u32,
    id: TaskId,
    shared: &Arc<Shared>,
) -> Arc<TaskWaker> {
    if let Some(mut handle) = spare {
        if let Some(waker) = Arc::get_mut(&mut handle) {
            waker.world = world;
            waker.slot = slot;
            waker.id = id;
            if !Arc::ptr_eq(&waker.shared, shared) {
                waker.shared = shared.clone();
            }
            return handle;
        }
    }
    Arc::new(TaskWaker {
        world,
        slot,
        id,
        shared: shared.clone(),
    })
}

/// `handle`, if nothing but it holds its waker any more: it can serve a
/// new task.
pub(crate) fn reusable(handle: Option<Arc<TaskWaker>>) -> Option<Arc<TaskWaker>> {
    let mut handle = handle?;
    Arc::get_mut(&mut handle)?;
    Some(handle)
}

/// Why tasks are being dropped right now (read by `Spawned`'s destructor).
#[derive(Clone, Debug)]
pub(crate) enum DropReason {
    Aborted,
    Crashed(String),
    WorldDropped,
}

struct JoinState<T> {
    result: Option<Result<T, JoinError>>,
    waiter: Option<Waker>,
}

pin_project_lite::pin_project! {
    /// The task future as spawned: runs the user's future and hands its
    /// output, or the reason it never came, to the join handle.
    pub(crate) struct Spawned<F: Future> {
        #[pin]
        future: F,
        id: TaskId,
        state: Option<Rc<RefCell<JoinState<F::Output>>>>,
    }

    impl<F: Future> PinnedDrop for Spawned<F> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if let Some(state) = this.state.take() {
                let reason = super::with_world_opt(|w| w.drop_reason.borrow().clone()).flatten();
                let error = match reason {
                    Some(DropReason::Crashed(node)) => JoinError::Crashed(*this.id, node),
                    Some(DropReason::Aborted) => JoinError::Aborted(*this.id),
                    _ => JoinError::WorldDropped(*this.id),
                };
                finish(&state, Err(error));
            }
        }
    }
}

fn finish<T>(state: &RefCell<JoinState<T>>, result: Result<T, JoinError>) {
    let waiter = {
        let mut state = state.borrow_mut();
        state.result = Some(result);
        state.waiter.take()
    };
    if let Some(waiter) = waiter {
        waiter.wake();
    }
}

impl<F: Future> Future for Spawned<F> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.project();
        let output = std::task::ready!(this.future.poll(cx));
        if let Some(state) = this.state.take() {
            finish(&state, Ok(output));
        }
        Poll::Ready(())
    }
}

/// The task future of a task nobody joins: its output is dropped.
pub(crate) fn detached<F: Future>(id: TaskId, future: F) -> Spawned<F> {
    Spawned {
        future,
        id,
        state: None,
    }
}

pub(crate) fn spawned<F: Future>(id: TaskId, future: F) -> (Spawned<F>, JoinHandle<F::Output>) {
    let state = Rc::new(RefCell::new(JoinState {
        result: None,
        waiter: None,
    }));
    let handle = JoinHandle {
        id,
        state: Some(state.clone()),
    };
    (
        Spawned {
            future,
            id,
            state: Some(state),
        },
        handle,
    )
}

/// An owned permission to await a spawned task's output, or to abort it.
///
/// Dropping the handle detaches the task: it keeps running.
///
/// # Examples
///
/// ```
/// use detsim::{Seed, Sim};
///
/// let mut sim = Sim::new(Seed::new(1));
/// let report = sim.run(async {
///     let handle = detsim::spawn(async { 40 + 2 });
///     handle.await.unwrap()
/// }).unwrap();
/// assert_eq!(report.value, 42);
/// ```
pub struct JoinHandle<T> {
    id: TaskId,
    state: Option<Rc<RefCell<JoinState<T>>>>,
}

impl<T> JoinHandle<T> {
    /// A handle whose task never ran (spawned on a crashed node).
    pub(crate) fn failed(id: TaskId, error: JoinError) -> JoinHandle<T> {
        JoinHandle {
            id,
            state: Some(Rc::new(RefCell::new(JoinState {
                result: Some(Err(error)),
                waiter: None,
            }))),
        }
    }

    /// The task's id.
    pub fn id(&self) -> TaskId {
        self.id
    }

    /// Whether the task has ended (completed, aborted or crashed).
    pub fn is_finished(&self) -> bool {
        self.state
            .as_ref()
            .is_none_or(|s| s.borrow().result.is_some())
    }

    /// Stops the task: its future is dropped (at once, or when its current
    /// poll returns if it aborts itself) and it is never polled again. Awaiting
    /// the handle then gives [`JoinError::Aborted`]. Aborting a finished task
    /// does nothing.
    pub fn abort(&self) {
        if self.is_finished() {
            return;
        }
        super::with_world_opt(|w| w.abort(self.id));
    }

    /// Takes the output if the task has finished.
    pub(crate) fn try_take(&mut self) -> Option<Result<T, JoinError>> {
        let result = self.state.as_ref()?.borrow_mut().result.take();
        if result.is_some() {
            self.state = None;
        }
        result
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("id", &self.id)
            .field("finished", &self.is_finished())
            .finish()
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let Some(state) = this.state.as_ref() else {
            panic!("JoinHandle polled after it returned its output");
        };
        let mut inner = state.borrow_mut();
        match inner.result.take() {
            Some(result) => {
                drop(inner);
                this.state = None;
                Poll::Ready(result)
            }
            None => {
                match &inner.waiter {
                    Some(w) if w.will_wake(cx.waker()) => {}
                    _ => inner.waiter = Some(cx.waker().clone()),
                }
                Poll::Pending
            }
        }
    }
}
