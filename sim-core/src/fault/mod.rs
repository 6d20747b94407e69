//! Faults as data: the [`Fault`] vocabulary, time-ordered [`Plan`]s, and the
//! chaos generators ([`Nemesis`]) that turn a seed into a plan.
//!
//! Core owns the vocabulary; the mechanisms live where the state is: process
//! faults in the world, network faults in `detsim-net`, disk faults in
//! `detsim-disk`, each registered through [`Extension::apply_fault`](crate::Extension::apply_fault).

mod kind;
mod nemesis;
mod plan;

pub use kind::{Fault, LinkChange};
pub use nemesis::{Nemesis, NemesisKind, Swarm, Topology};
pub(crate) use plan::human_duration::parse as parse_duration;
pub use plan::{Plan, PlanEntry, PlanError};
