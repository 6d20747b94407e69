//! One seed of a sweep, as the test closure sees it.

use crate::explore::Sink;
use crate::fault::Plan;
use crate::trace::TraceMode;
use crate::{Forks, Seed, SimBuilder};

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
    /// Where the run leaves its parent's future (empty: a plain run).
    pub(crate) forks: Forks,
    /// Where the world leaves its coverage keys (an exploring sweep).
    pub(crate) sink: Option<Sink>,
    /// Set when the test asks for its plan ([`Case::plan`], [`Case::plan_from`],
    /// [`Case::imposed_plan`]): an imposed plan the test never asked for was
    /// not applied, and a replay must not pass as if it had been.
    pub(crate) plan_asked: std::sync::Arc<std::sync::atomic::AtomicBool>,
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
            forks: Forks::none(),
            sink: None,
            plan_asked: Default::default(),
        }
    }

    /// Whether the test asked this case for its plan since the case was made.
    pub(crate) fn plan_was_asked(&self) -> bool {
        self.plan_asked.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn asked(&self) {
        self.plan_asked
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// This case forked by `forks` (see [`Forks`]).
    pub fn with_forks(mut self, forks: Forks) -> Case {
        if !forks.is_empty() {
            self.replay_command = self.replay_command.replacen(
                "SIM_SEED=",
                &format!("SIM_FORKS={forks} SIM_SEED="),
                1,
            );
        }
        self.forks = forks;
        self
    }

    /// The run's fork chain (empty unless an exploring sweep forked it, or
    /// `SIM_FORKS` replays a fork).
    pub fn forks(&self) -> &Forks {
        &self.forks
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
        let builder = SimBuilder::new(self.seed)
            .replay(self.replay_command.clone())
            .forks(self.forks.clone())
            .coverage_sink(self.sink.clone());
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
        self.asked();
        match &self.plan {
            Some(plan) => plan.clone(),
            None => generate(),
        }
    }

    /// The plan to apply, drawn by `generate` from a seed: the imposed one if
    /// any; else `generate(seed)` for a plain run; and for a forked run, the
    /// parent's entries before each fork instant followed by entries drawn
    /// from the fork's own seed after it (entries that would crash a node
    /// already held crashed, or the like, are dropped). Use this rather than
    /// [`plan`](Case::plan) so that an exploring sweep's forks change the
    /// faults after the fork too; the plan actually applied is in the
    /// report, and minimizes like any other.
    pub fn plan_from(&self, generate: impl Fn(Seed) -> Plan) -> Plan {
        self.asked();
        if let Some(plan) = &self.plan {
            return plan.clone();
        }
        if self.forks.is_empty() {
            return generate(self.seed);
        }
        let forks = self.forks.as_slice();
        let mut key = self.seed.get();
        let mut entries = Vec::new();
        let mut segment = generate(self.seed);
        for (i, fork) in forks.iter().enumerate() {
            let start = if i == 0 {
                std::time::Duration::ZERO
            } else {
                forks[i - 1].at
            };
            entries.extend(
                segment
                    .entries
                    .iter()
                    .filter(|e| e.at >= start && e.at < fork.at)
                    .cloned(),
            );
            key = crate::rng::mix_key(key, fork.seed.get());
            segment = generate(Seed::new(key));
        }
        let last = forks.last().map(|f| f.at).unwrap_or_default();
        entries.extend(segment.entries.into_iter().filter(|e| e.at >= last));
        // Keep the spliced plan consistent with itself, entry by entry.
        let mut kept: Vec<crate::PlanEntry> = Vec::with_capacity(entries.len());
        for entry in entries {
            kept.push(entry);
            if Plan::new(kept.clone()).check_process_states().is_err() {
                kept.pop();
            }
        }
        Plan::new(kept)
    }

    /// The imposed plan, if any.
    pub fn imposed_plan(&self) -> Option<&Plan> {
        self.asked();
        self.plan.as_ref()
    }
}
