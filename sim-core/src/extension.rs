//! Extensions: how the network and the disks plug into a world.

use crate::NodeId;

/// A change in a node's lifecycle, told to every extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeEvent {
    /// The node was added to the world (before its init runs).
    Added,
    /// The node crashed; its tasks are already dropped.
    Crash,
    /// The node is restarting (before its init runs again).
    Restart,
    /// The node was paused.
    Pause,
    /// The node was resumed.
    Resume,
}

/// A subsystem of a world (the simulated network, the disks) that reacts to
/// node lifecycle events.
///
/// An extension is installed once per world with
/// [`SimHandle::install`](crate::SimHandle::install) and found again by type
/// with [`SimHandle::extension`](crate::SimHandle::extension). It keeps its own
/// state behind interior mutability: hooks take `&self`, and are called with
/// the world entered, so they may use every ambient API.
///
/// # Examples
///
/// ```
/// use std::cell::RefCell;
/// use detsim::{NodeEvent, NodeId, Extension, Seed, Sim};
///
/// #[derive(Default)]
/// struct CrashLog(RefCell<Vec<NodeId>>);
///
/// impl Extension for CrashLog {
///     fn on_node_event(&self, node: NodeId, event: NodeEvent) {
///         if event == NodeEvent::Crash {
///             self.0.borrow_mut().push(node);
///         }
///     }
/// }
///
/// let mut sim = Sim::new(Seed::new(1));
/// let log = std::rc::Rc::new(CrashLog::default());
/// sim.install(log.clone()).unwrap();
/// let n1 = sim.add_node("n1", |_| async {}).unwrap();
/// sim.crash(n1).unwrap();
/// assert_eq!(*log.0.borrow(), vec![n1]);
/// ```
pub trait Extension: 'static {
    /// Called on every node lifecycle change.
    fn on_node_event(&self, node: NodeId, event: NodeEvent) {
        let _ = (node, event);
    }
}
