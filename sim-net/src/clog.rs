//! Clogging (FoundationDB's "swizzle"): hold every message on a link, or to
//! and from a node, then release them all late, in a seeded order.
//!
//! A clog holds messages when they arrive, so a message already in flight
//! when the clog starts is held too. Releasing delivers the held messages at
//! the release instant in an order drawn from the world's `net/clog`
//! stream, except that messages of a FIFO link (and of a stream) keep their
//! relative order.

use std::collections::{BTreeMap, BTreeSet};

use detsim::{NodeId, SimHandle, SimRng};

use crate::flight::Flight;

#[derive(Default)]
pub(crate) struct Clogs {
    pub(crate) links: BTreeSet<(NodeId, NodeId)>,
    pub(crate) nodes: BTreeSet<NodeId>,
    pub(crate) held: Vec<Flight>,
    /// Boxed: a generator is a few hundred bytes, and most networks never
    /// release a held message.
    rng: Option<Box<SimRng>>,
}

impl Clogs {
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.links.is_empty() && self.nodes.is_empty()
    }

    /// Whether `source → target` is clogged (a loopback never is).
    pub(crate) fn clogged(&self, source: NodeId, target: NodeId) -> bool {
        source != target
            && (self.links.contains(&(source, target))
                || self.nodes.contains(&source)
                || self.nodes.contains(&target))
    }

    /// A seeded permutation of `free` in which the messages of each ordered
    /// link (`ordered[i]`) keep their relative order.
    pub(crate) fn release_order(
        &mut self,
        free: &[Flight],
        ordered: &[bool],
        handle: SimHandle,
    ) -> Vec<usize> {
        let rng = self
            .rng
            .get_or_insert_with(|| Box::new(handle.stream_rng("net/clog")));
        let mut order: Vec<usize> = (0..free.len()).collect();
        for i in (1..order.len()).rev() {
            let j = rng.below(i as u64 + 1) as usize;
            order.swap(i, j);
        }
        // Per ordered link, hand its positions back to its messages in held order.
        let mut groups: BTreeMap<(NodeId, NodeId, u64), Vec<usize>> = BTreeMap::new();
        for (position, &i) in order.iter().enumerate() {
            if ordered[i] {
                let f = &free[i];
                groups
                    .entry((f.source.node, f.target.node, f.conn))
                    .or_default()
                    .push(position);
            }
        }
        for positions in groups.values() {
            let mut members: Vec<usize> = positions.iter().map(|&p| order[p]).collect();
            members.sort_unstable();
            for (&p, m) in positions.iter().zip(members) {
                order[p] = m;
            }
        }
        order
    }
}
