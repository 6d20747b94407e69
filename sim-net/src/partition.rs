//! Partitions: which directed links a cut blocks.
//!
//! Each active partition is a rule; a link `a → b` is cut while any rule
//! blocks it. A node's link to itself (loopback) is never cut.

use std::collections::BTreeSet;
use std::fmt;

use detsim::NodeId;
use serde::{Deserialize, Serialize};

use crate::topology::Topology;

/// A network partition, as plain data (node, zone and region names), so
/// that a fault plan can carry it.
///
/// | kind | blocks |
/// |---|---|
/// | `Split([[a, b], [c, d, e]])` | every link between two different groups, both ways; nodes in no group keep every link |
/// | `Isolate(a)` | every link to and from `a` |
/// | `OneWay { from: [a], to: [b] }` | `a → b` only; `b → a` flows |
/// | `Partial { a: [a], b: [b] }` | `a ↔ b`; both still reach everyone else |
/// | `Zone(z)` / `Region(r)` | every link between the zone (region) and the rest |
///
/// # Examples
///
/// ```
/// use detsim_net::Partition;
///
/// let p = Partition::split([["n1", "n2"].as_slice(), ["n3", "n4", "n5"].as_slice()]);
/// assert_eq!(p.to_string(), "split [n1, n2] | [n3, n4, n5]");
/// let q = Partition::one_way(["n1"], ["n2"]);
/// assert_eq!(q.to_string(), "one-way [n1] -> [n2]");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Partition {
    /// Groups that cannot reach each other.
    Split(Vec<Vec<String>>),
    /// One node cut from all others.
    Isolate(String),
    /// A simplex cut: traffic from `from` to `to` is lost, the reverse flows.
    OneWay {
        /// Senders whose traffic is cut.
        from: Vec<String>,
        /// Receivers they cannot reach.
        to: Vec<String>,
    },
    /// `a` and `b` cannot reach each other, but both reach every other node.
    Partial {
        /// One side.
        a: Vec<String>,
        /// The other side.
        b: Vec<String>,
    },
    /// A zone cut off from every node outside it.
    Zone(String),
    /// A region cut off from every node outside it.
    Region(String),
}

fn names<I, S>(items: I) -> Vec<String>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    items.into_iter().map(|s| s.as_ref().to_owned()).collect()
}

impl Partition {
    /// A split into groups.
    pub fn split<G, I, S>(groups: G) -> Partition
    where
        G: IntoIterator<Item = I>,
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        Partition::Split(groups.into_iter().map(names).collect())
    }

    /// A one-way cut.
    pub fn one_way<A, B, S, T>(from: A, to: B) -> Partition
    where
        A: IntoIterator<Item = S>,
        B: IntoIterator<Item = T>,
        S: AsRef<str>,
        T: AsRef<str>,
    {
        Partition::OneWay {
            from: names(from),
            to: names(to),
        }
    }

    /// A partial partition.
    pub fn partial<A, B, S, T>(a: A, b: B) -> Partition
    where
        A: IntoIterator<Item = S>,
        B: IntoIterator<Item = T>,
        S: AsRef<str>,
        T: AsRef<str>,
    {
        Partition::Partial {
            a: names(a),
            b: names(b),
        }
    }

    pub(crate) fn kind_code(&self) -> u64 {
        match self {
            Partition::Split(_) => 1,
            Partition::Isolate(_) => 2,
            Partition::OneWay { .. } => 3,
            Partition::Partial { .. } => 4,
            Partition::Zone(_) => 5,
            Partition::Region(_) => 6,
        }
    }
}

impl fmt::Display for Partition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let set = |s: &[String]| format!("[{}]", s.join(", "));
        match self {
            Partition::Split(groups) => {
                let groups: Vec<String> = groups.iter().map(|g| set(g)).collect();
                write!(f, "split {}", groups.join(" | "))
            }
            Partition::Isolate(node) => write!(f, "isolate {node}"),
            Partition::OneWay { from, to } => write!(f, "one-way {} -> {}", set(from), set(to)),
            Partition::Partial { a, b } => write!(f, "partial {} <-/-> {}", set(a), set(b)),
            Partition::Zone(zone) => write!(f, "zone {zone} cut off"),
            Partition::Region(region) => write!(f, "region {region} cut off"),
        }
    }
}

/// Identifies an active partition, for healing it alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PartitionId(pub u64);

impl fmt::Display for PartitionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "partition#{}", self.0)
    }
}

/// A partition with names resolved.
pub(crate) enum Rule {
    Split(Vec<BTreeSet<NodeId>>),
    Isolate(NodeId),
    OneWay(BTreeSet<NodeId>, BTreeSet<NodeId>),
    Partial(BTreeSet<NodeId>, BTreeSet<NodeId>),
    Zone(usize),
    Region(usize),
}

impl Rule {
    /// Whether this rule cuts `source → target` (never a loopback).
    pub(crate) fn blocks(&self, source: NodeId, target: NodeId, topology: &Topology) -> bool {
        if source == target {
            return false;
        }
        match self {
            Rule::Split(groups) => {
                let group = |n: NodeId| groups.iter().position(|g| g.contains(&n));
                matches!((group(source), group(target)), (Some(a), Some(b)) if a != b)
            }
            Rule::Isolate(node) => source == *node || target == *node,
            Rule::OneWay(from, to) => from.contains(&source) && to.contains(&target),
            Rule::Partial(a, b) => {
                (a.contains(&source) && b.contains(&target))
                    || (b.contains(&source) && a.contains(&target))
            }
            Rule::Zone(zone) => {
                let inside = |n| topology.zone_of(n) == Some(*zone);
                inside(source) != inside(target)
            }
            Rule::Region(region) => {
                let inside = |n| topology.region_of(n) == Some(*region);
                inside(source) != inside(target)
            }
        }
    }
}
