//! One seed of a sweep, as the test closure sees it.

use crate::fault::Plan;
use crate::trace::TraceMode;
use crate::{Seed, SimBuilder};

/// One run of a sweep: the seed, and the plan to use if the sweep imposes
/// one (a replay with `SIM_PLAN`, or the minimizer trying a smaller plan).
#[derive(Clone, Debug)]
pub struct Case {
    pub(crate) seed: Seed,
    pub(crate) plan: Option<Plan>,
    pub(crate) replay: bool,
    /// Keep the whole trace (a determinism check compares it event by event).
    pub(crate) record: bool,
    pub(crate) replay_command: String,
}

impl Case {
    /// A case of `seed` outside any sweep (say, inside a `proptest!`), with
    /// `plan` imposed if given.
    pub fn new(seed: Seed, plan: Option<Plan>) -> Case {
        Case {
            seed,
            plan,
            replay: false,
            record: false,
            replay_command: format!("SIM_SEED={seed} {}", crate::error::default_command()),
        }
    }

    /// The seed.
    pub fn seed(&self) -> Seed {
        self.seed
    }

    /// Whether this is a replay of one seed (`SIM_SEED`): log to the console
    /// and keep the trace. A world built with [`builder`](Case::builder)
    /// does both by itself; the fingerprint is the same either way.
    pub fn is_replay(&self) -> bool {
        self.replay
    }

    /// A builder for this case's world: its seed, quiet and fingerprint-only
    /// in a sweep; logging (`SIM_LOG`, default `info`) with the trace kept in
    /// a replay; and a failure report whose replay line reruns this seed.
    pub fn builder(&self) -> SimBuilder {
        let builder = SimBuilder::new(self.seed).replay(self.replay_command.clone());
        match (self.replay, self.record) {
            (true, _) => builder.trace(TraceMode::RECORD),
            (false, true) => builder.quiet().trace(TraceMode::RECORD),
            (false, false) => builder.quiet(),
        }
    }

    /// The plan to apply: the imposed one if any, else `generate()` (usually
    /// a [`Nemesis`](crate::Nemesis) drawing from this seed). A test that
    /// applies its faults through this method can be replayed with
    /// `SIM_PLAN` and minimized.
    pub fn plan(&self, generate: impl FnOnce() -> Plan) -> Plan {
        match &self.plan {
            Some(plan) => plan.clone(),
            None => generate(),
        }
    }

    /// The imposed plan, if any.
    pub fn imposed_plan(&self) -> Option<&Plan> {
        self.plan.as_ref()
    }
}
