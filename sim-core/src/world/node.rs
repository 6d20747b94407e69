//! Nodes: named groups of tasks with their own clock and random stream.

use std::fmt;
use std::rc::Rc;

use serde::{Deserialize, Serialize};

use super::task::TaskId;
use crate::rng::LazyRng;
use crate::time::Instant;

/// Identifies a node of a world: nodes are numbered in the order they are added.
///
/// An id also remembers (for diagnosis only) which world made it, so that an
/// id carried from one [`Sim`](crate::Sim) into another is refused with
/// [`SimError::ForeignNode`](crate::SimError::ForeignNode) instead of naming
/// whichever node has the same number there. Comparisons, hashing, ordering,
/// `Debug` and serde see only the number, so ids, traces and fingerprints of
/// two runs of one seed are equal whichever world made them.
#[derive(Clone, Copy)]
pub struct NodeId {
    pub(crate) index: u32,
    /// The low bits of the id of the world that made it; 0 for an id that
    /// came from elsewhere (deserialized), which any world accepts.
    world: u32,
}

impl NodeId {
    pub(crate) fn new(index: u32, world: u64) -> NodeId {
        NodeId {
            index,
            // World ids start at 1; a tag of 0 stays "unknown".
            world: (world as u32).max(1),
        }
    }

    /// The id's number (the node's index in the world).
    pub fn index(self) -> usize {
        self.index as usize
    }

    /// Whether `self` and `other` may come from the same world (an id of
    /// unknown origin, such as a deserialized one, matches any): for
    /// extensions, which keep the ids of the nodes they were told of and
    /// must refuse an id of another world that happens to have the same
    /// number.
    pub fn same_world(self, other: NodeId) -> bool {
        self.world == 0 || other.world == 0 || self.world == other.world
    }

    /// Whether the world with id `world` may have made this id.
    pub(crate) fn from_world(self, world: u64) -> bool {
        self.world == 0 || self.world == (world as u32).max(1)
    }
}

impl PartialEq for NodeId {
    fn eq(&self, other: &NodeId) -> bool {
        self.index == other.index
    }
}

impl Eq for NodeId {}

impl PartialOrd for NodeId {
    fn partial_cmp(&self, other: &NodeId) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for NodeId {
    fn cmp(&self, other: &NodeId) -> std::cmp::Ordering {
        self.index.cmp(&other.index)
    }
}

impl std::hash::Hash for NodeId {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.index.hash(state);
    }
}

impl fmt::Debug for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("NodeId").field(&self.index).finish()
    }
}

impl Serialize for NodeId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.index.serialize(s)
    }
}

impl<'de> Deserialize<'de> for NodeId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<NodeId, D::Error> {
        u32::deserialize(d).map(|index| NodeId { index, world: 0 })
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "node#{}", self.index)
    }
}

/// The lifecycle state of a node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum NodeState {
    /// Its tasks run.
    Running,
    /// Frozen: its tasks are not polled and its timers do not fire (a GC stall).
    Paused,
    /// All its tasks were dropped; [`SimHandle::restart`](crate::SimHandle::restart) runs its init again.
    Crashed,
}

/// Starts a node: builds the init future for the context and spawns it where
/// it was added, in one allocation (the future is not boxed twice).
pub(crate) type InitFn = Rc<dyn Fn(&super::World, NodeId, &'static std::panic::Location<'static>)>;

/// A node's two clocks, as a real machine has them: a monotonic clock
/// (`CLOCK_MONOTONIC`: drifts, never jumps) and a wall clock
/// (`CLOCK_REALTIME`: drifts with it, and jumps when stepped).
///
/// `monotonic = base_local + (true - base_true) * (1e6 + drift_ppm) / 1e6`,
/// `wall = monotonic + wall_offset` (nanoseconds since [`WALL_CLOCK_START`](crate::time::WALL_CLOCK_START)).
/// Integer arithmetic only, so the same seed gives the same clock readings on
/// every platform.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct LocalClock {
    base_true: u64,
    base_local: i128,
    drift_ppm: i64,
    wall_offset: i128,
}

const PPM: i128 = 1_000_000;

impl LocalClock {
    pub(crate) fn local_nanos(&self, now: Instant) -> i128 {
        let elapsed = i128::from(now.as_nanos()) - i128::from(self.base_true);
        self.base_local + elapsed * (PPM + i128::from(self.drift_ppm)) / PPM
    }

    pub(crate) fn local(&self, now: Instant) -> Instant {
        Instant::from_nanos(self.local_nanos(now).clamp(0, i128::from(u64::MAX)) as u64)
    }

    /// The true instant at which the local clock reads `local`, if it is not past.
    pub(crate) fn true_deadline(&self, now: Instant, local: Instant) -> Instant {
        let ahead = i128::from(local.as_nanos()) - self.local_nanos(now);
        if ahead <= 0 {
            return now;
        }
        // Round up so the local clock has surely reached the deadline.
        let rate = PPM + i128::from(self.drift_ppm);
        let true_ahead = (ahead * PPM + rate - 1) / rate;
        Instant::from_nanos(
            (i128::from(now.as_nanos()) + true_ahead).clamp(0, i128::from(u64::MAX)) as u64,
        )
    }

    /// Re-anchors at `now` so later changes apply from here on.
    fn anchor(&mut self, now: Instant) {
        self.base_local = self.local_nanos(now);
        self.base_true = now.as_nanos();
    }

    /// Steps the wall clock; the monotonic clock does not move.
    pub(crate) fn jump(&mut self, delta_nanos: i64) {
        self.wall_offset += i128::from(delta_nanos);
    }

    /// The wall clock's reading, in nanoseconds since `WALL_CLOCK_START`
    /// (negative if stepped back past it).
    pub(crate) fn wall_nanos(&self, now: Instant) -> i128 {
        self.local_nanos(now) + self.wall_offset
    }

    pub(crate) fn set_drift(&mut self, now: Instant, drift_ppm: i64) {
        self.anchor(now);
        self.drift_ppm = drift_ppm;
    }

    /// How far the wall clock is from true time.
    pub(crate) fn offset_nanos(&self, now: Instant) -> i128 {
        self.wall_nanos(now) - i128::from(now.as_nanos())
    }

    pub(crate) fn drift_ppm(&self) -> i64 {
        self.drift_ppm
    }
}

pub(crate) struct NodeEntry {
    pub(crate) name: Rc<str>,
    pub(crate) state: NodeState,
    pub(crate) init: InitFn,
    pub(crate) clock: LocalClock,
    pub(crate) rng: LazyRng,
    /// Tasks woken while the node was paused, in wake order.
    pub(crate) parked: Vec<(u32, TaskId)>,
    pub(crate) incarnation: u64,
    /// Where the node was added: its init tasks are reported as spawned there.
    pub(crate) spawned_at: &'static std::panic::Location<'static>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drift_and_jump_are_exact() {
        let mut clock = LocalClock::default();
        let t = |s: u64| Instant::from_nanos(s * 1_000_000_000);
        assert_eq!(clock.local(t(10)), t(10));
        clock.set_drift(t(10), 100_000); // 10% fast from t=10s
        assert_eq!(clock.local(t(20)), t(21));
        clock.jump(-5_000_000_000);
        // Only the wall clock steps back; the monotonic clock goes on.
        assert_eq!(clock.local(t(20)), t(21));
        assert_eq!(clock.wall_nanos(t(20)), 16_000_000_000);
        assert_eq!(clock.offset_nanos(t(20)), -4_000_000_000);
        // A local deadline 11s ahead takes 10s of true time at 1.1x.
        assert_eq!(clock.true_deadline(t(20), t(32)), t(30));
        assert_eq!(clock.true_deadline(t(20), t(1)), t(20));
        // The wall clock can go below its start; the monotonic clock cannot.
        clock.jump(-100_000_000_000);
        assert_eq!(clock.wall_nanos(t(20)), -84_000_000_000);
        assert_eq!(clock.local(t(20)), t(21));
    }
}
