//! Extensions: how the network and the disks plug into a world.

use std::rc::Rc;

use crate::{Fault, NodeId};

/// Undoes an applied fault when its duration ends (heals the partition,
/// unclogs the link, restores the link profile).
pub type Undo = Box<dyn FnOnce()>;

/// What an extension did with a fault it was offered.
pub enum FaultOutcome {
    /// Not a fault of this extension: offer it to the next one.
    NotMine,
    /// Applied; the closure, if any, undoes it.
    Applied(Option<Undo>),
    /// Its fault, but it cannot be applied now (the reason is traced; the run goes on).
    Failed(String),
}

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

    /// Called when a node is added (before its init runs), with its name, so
    /// an extension that keeps node names need not ask the world for it. By
    /// default [`Extension::on_node_event`] with [`NodeEvent::Added`]; an
    /// extension overriding this one is not told of additions there.
    fn on_node_added(&self, node: NodeId, name: &Rc<str>) {
        let _ = name;
        self.on_node_event(node, NodeEvent::Added);
    }

    /// Checks a fault of a plan before the run (for example that a zone
    /// exists): `None` if it is not this extension's fault.
    fn validate_fault(&self, fault: &Fault) -> Option<Result<(), String>> {
        let _ = fault;
        None
    }

    /// Applies a fault of a plan, now.
    fn apply_fault(&self, fault: &Fault) -> FaultOutcome {
        let _ = fault;
        FaultOutcome::NotMine
    }
}
