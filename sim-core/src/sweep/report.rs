//! What a sweep found.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use super::Shard;
use crate::Seed;
use crate::error::Failure;
use crate::fault::Plan;
use crate::trace::{Divergence, Fingerprint, NONDETERMINISM_HINT};
use crate::world::Coverage;

/// One failing seed of a sweep.
#[derive(Clone, Debug)]
pub struct SeedFailure {
    /// The seed.
    pub seed: Seed,
    /// The run's fork chain (empty unless an exploring sweep forked it).
    pub forks: crate::Forks,
    /// Where the seed stood in the sweep's order (0: the first seed run;
    /// regressions come first).
    pub position: u64,
    /// The failure, as the run reported it.
    pub failure: Failure,
    /// Whether the seed was run again and failed the same way.
    pub verification: Verification,
    /// The smallest plan found that still fails the same way, if the run had
    /// a plan and minimizing was on.
    pub minimized: Option<Plan>,
    /// Where the minimized plan was saved as JSON.
    pub minimized_path: Option<PathBuf>,
    /// The fingerprint of the run with the minimized plan, seen twice.
    pub minimized_fingerprint: Option<Fingerprint>,
    /// Why the plan was not minimized, or why the minimized plan is not the
    /// one to replay, when that happened.
    pub minimize_note: Option<String>,
    /// The command line that replays the failure (with the minimized plan
    /// when there is one); `None` when the seed did not replay, since a line
    /// that does not reproduce the failure is worse than none.
    pub replay: Option<String>,
    /// The last events before the failure, one line each (time, node, what
    /// happened), from a recorded run of the seed; empty if none could be recorded.
    pub timeline: Vec<String>,
    /// The picture of the recorded run (the run viewer's HTML), if written.
    pub view: Option<PathBuf>,
}

/// What running a failing seed again showed.
#[derive(Clone, Debug, PartialEq)]
pub enum Verification {
    /// The seed failed again with the same cause and the same trace fingerprint.
    Verified {
        /// The fingerprint both runs had.
        fingerprint: Fingerprint,
    },
    /// The seed did something else when run again: it is not deterministic.
    NotDeterministic(Box<Nondeterminism>),
    /// Not run again (a replay with `SIM_SEED` is the check itself).
    Unchecked,
}

impl Verification {
    /// Whether the failure was seen to replay.
    pub fn is_verified(&self) -> bool {
        matches!(self, Verification::Verified { .. })
    }
}

/// One run of a seed, as a determinism check saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunOutcome {
    /// The trace fingerprint.
    pub fingerprint: Fingerprint,
    /// `passed`, or the cause of the failure.
    pub outcome: String,
}

/// Evidence that a seed is not deterministic.
#[derive(Clone, Debug, PartialEq)]
pub struct Nondeterminism {
    /// The seed.
    pub seed: Seed,
    /// The runs compared, in order: the sweep's own run first.
    pub runs: Vec<RunOutcome>,
    /// The first event where two recorded runs differed, when two recorded
    /// runs did differ.
    pub divergence: Option<Divergence>,
}

impl fmt::Display for Nondeterminism {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "  NOT DETERMINISTIC: seed {} did not run the same way twice",
            self.seed
        )?;
        for (i, run) in self.runs.iter().enumerate() {
            writeln!(
                f,
                "    run {}: fingerprint {}, {}",
                i + 1,
                run.fingerprint,
                run.outcome
            )?;
        }
        match &self.divergence {
            Some(d) => {
                writeln!(
                    f,
                    "  first difference of two recorded runs, at event #{}:",
                    d.index
                )?;
                writeln!(
                    f,
                    "    run A: {}",
                    d.first.as_deref().unwrap_or("<end of trace>")
                )?;
                writeln!(
                    f,
                    "    run B: {}",
                    d.second.as_deref().unwrap_or("<end of trace>")
                )?;
            }
            None => writeln!(
                f,
                "  two more runs, recorded, agreed with each other but not with the first: state \
                 carried over from an earlier run (a static, a global cache) is the likely source"
            )?,
        }
        writeln!(f, "{NONDETERMINISM_HINT}")?;
        write!(
            f,
            "  no replay line is printed: it would not reproduce this failure"
        )
    }
}

/// The outcome of a sweep: seeds run, failures (sorted by seed position),
/// time, and the `always!`/`sometimes!` coverage summed over all runs.
#[derive(Clone, Debug)]
pub struct SweepReport {
    /// The sweep's name.
    pub name: String,
    /// Seeds that ran.
    pub seeds_run: u64,
    /// Seeds this shard had to run.
    pub seeds_planned: u64,
    /// This machine's shard, if sharded.
    pub shard: Option<Shard>,
    /// The failures, in seed order.
    pub failures: Vec<SeedFailure>,
    /// Wall-clock time of the sweep.
    pub wall: Duration,
    /// Virtual time simulated, summed over the seeds.
    pub simulated: Duration,
    /// Coverage of `always!` and `sometimes!`, summed over the seeds.
    pub coverage: BTreeMap<String, Coverage>,
    /// Whether the sweep stopped before running every seed (first failure or time budget).
    pub stopped_early: bool,
    /// Seeds run twice to audit determinism ([`Sweep::check_determinism`](crate::Sweep::check_determinism)).
    pub audited: u64,
    /// What the campaign did, when the sweep explored ([`Sweep::explore`](crate::Sweep::explore)).
    pub exploration: Option<Box<crate::Campaign>>,
    /// What the sweep noticed that makes it mean less than it seems (every
    /// seed ran the same world; it ran no seed, as allowed): printed with
    /// the report, and by [`assert_passed`](SweepReport::assert_passed).
    pub warnings: Vec<String>,
}

impl SweepReport {
    /// Whether no seed failed.
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }

    /// The `sometimes!` assertions that never held in any seed: the faults
    /// never drove the system into those states.
    pub fn sometimes_never(&self) -> Vec<&str> {
        self.coverage
            .iter()
            .filter(|(_, c)| c.sometimes && c.held == 0)
            .map(|(name, _)| name.as_str())
            .collect()
    }

    /// The failure of the lowest position in the sweep's order: the first
    /// seed that failed, and [`SeedFailure::position`] + 1 seeds had run by then.
    pub fn first_failure(&self) -> Option<&SeedFailure> {
        self.failures.iter().min_by_key(|f| f.position)
    }

    /// Seeds per wall second.
    pub fn seeds_per_second(&self) -> f64 {
        self.seeds_run as f64 / self.wall.as_secs_f64().max(1e-9)
    }

    /// Panics with the whole report if a seed failed: the way to end a `#[test]`.
    ///
    /// # Panics
    ///
    /// If any seed failed.
    #[track_caller]
    pub fn assert_passed(&self) {
        assert!(self.passed(), "{self}");
        eprint!("{self}");
    }
}

impl fmt::Display for SweepReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "sweep {}: {} of {} seeds",
            self.name, self.seeds_run, self.seeds_planned
        )?;
        if let Some(shard) = self.shard {
            write!(f, " (shard {shard})")?;
        }
        let simulated = self.simulated.as_secs_f64();
        let wall = self.wall.as_secs_f64().max(1e-9);
        writeln!(
            f,
            ", {} failed; wall {:.2}s, simulated {:.1}s ({:.0} simulated s per wall s), {:.0} seeds/s",
            self.failures.len(),
            wall,
            simulated,
            simulated / wall,
            self.seeds_per_second()
        )?;
        if self.audited > 0 {
            writeln!(f, "  determinism audited: {} seeds ran twice", self.audited)?;
        }
        for warning in &self.warnings {
            writeln!(f, "  warning: {warning}")?;
        }
        if self.stopped_early {
            writeln!(f, "  stopped early (first failure or time budget)")?;
        }
        if let Some(first) = self.first_failure() {
            writeln!(
                f,
                "  first failure: seed {}, seed number {} of the sweep",
                first.seed,
                first.position + 1
            )?;
        }
        if let Some(campaign) = &self.exploration {
            write!(f, "{campaign}")?;
        }
        let never = self.sometimes_never();
        if !never.is_empty() {
            writeln!(
                f,
                "  sometimes! that never held (the faults never reached these states):"
            )?;
            for name in never {
                writeln!(f, "    {name:?}")?;
            }
        }
        for failure in &self.failures {
            writeln!(f)?;
            write!(f, "{failure}")?;
        }
        Ok(())
    }
}

impl fmt::Display for SeedFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.failure.fmt_body(f)?;
        if !self.forks.is_empty() {
            writeln!(f, "  forked: seed {} forked at {}", self.seed, self.forks)?;
        }
        writeln!(f, "  signature: {}", self.failure.cause().signature())?;
        match &self.verification {
            Verification::Verified { fingerprint } => writeln!(
                f,
                "  verified: run again, same cause, same fingerprint {fingerprint}"
            )?,
            Verification::NotDeterministic(evidence) => writeln!(f, "{evidence}")?,
            Verification::Unchecked => {}
        }
        if let Some(plan) = &self.minimized {
            let original = self.failure.details().plan.as_ref().map_or(0, Plan::len);
            writeln!(f, "  minimized plan: {} of {original} faults", plan.len())?;
            for entry in &plan.entries {
                writeln!(f, "          {entry}")?;
            }
            if let Some(path) = &self.minimized_path {
                writeln!(f, "  saved:  {}", path.display())?;
            }
            if let Some(fingerprint) = self.minimized_fingerprint {
                writeln!(
                    f,
                    "  verified: the minimized plan fails the same way, twice, fingerprint {fingerprint}"
                )?;
            }
        }
        if let Some(note) = &self.minimize_note {
            writeln!(f, "  minimization: {note}")?;
        }
        if let Some(replay) = &self.replay {
            writeln!(f, "  replay: {replay}")?;
        }
        if let Some(view) = &self.view {
            writeln!(f, "  picture: {}", view.display())?;
        }
        if !self.timeline.is_empty() {
            writeln!(
                f,
                "  the last {} events before the failure:",
                self.timeline.len()
            )?;
            for line in &self.timeline {
                writeln!(f, "    {line}")?;
            }
        }
        Ok(())
    }
}
