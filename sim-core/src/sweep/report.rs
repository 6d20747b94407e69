//! What a sweep found.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use super::Shard;
use crate::Seed;
use crate::error::Failure;
use crate::fault::Plan;
use crate::world::Coverage;

/// One failing seed of a sweep.
#[derive(Clone, Debug)]
pub struct SeedFailure {
    /// The seed.
    pub seed: Seed,
    /// The failure, as the run reported it.
    pub failure: Failure,
    /// The smallest plan found that still fails the same way, if the run had
    /// a plan and minimizing was on.
    pub minimized: Option<Plan>,
    /// Where the minimized plan was saved as JSON.
    pub minimized_path: Option<PathBuf>,
    /// The command line that replays the failure (with the minimized plan when there is one).
    pub replay: String,
    /// The last events before the failure, one line each (time, node, what
    /// happened), from a recorded run of the seed; empty if it could not be recorded.
    pub timeline: Vec<String>,
    /// The picture of the recorded run (the run viewer's HTML), if written.
    pub view: Option<PathBuf>,
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
        if self.stopped_early {
            writeln!(f, "  stopped early (first failure or time budget)")?;
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
            super::artifacts::FailureBody(&failure.failure).fmt(f)?;
            if let Some(plan) = &failure.minimized {
                let original = failure.failure.details().plan.as_ref().map_or(0, Plan::len);
                writeln!(f, "  minimized plan: {} of {original} faults", plan.len())?;
                for entry in &plan.entries {
                    writeln!(f, "          {entry}")?;
                }
                if let Some(path) = &failure.minimized_path {
                    writeln!(f, "  saved:  {}", path.display())?;
                }
            }
            // One line to paste: with the minimized plan when there is one.
            writeln!(f, "  replay: {}", failure.replay)?;
            if let Some(view) = &failure.view {
                writeln!(f, "  picture: {}", view.display())?;
            }
            if !failure.timeline.is_empty() {
                writeln!(
                    f,
                    "  the last {} events before the failure:",
                    failure.timeline.len()
                )?;
                for line in &failure.timeline {
                    writeln!(f, "    {line}")?;
                }
            }
        }
        Ok(())
    }
}
