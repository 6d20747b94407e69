//! The sweep driver.

use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use super::case::Case;
use super::env::{Env, Shard, SweepError};
use super::order::SeedOrder;
use super::progress::Progress;
use super::report::{Nondeterminism, RunOutcome, SeedFailure, SweepReport, Verification};
use super::{artifacts, minimize, regressions};
use crate::error::{Cause, Failure, FailureInner};
use crate::fault::Plan;
use crate::time::Instant;
use crate::trace::{Divergence, Fingerprint, Trace};
use crate::world::Coverage;
use crate::{Report, Seed};

/// A seed sweep: runs a test closure for many seeds, one world per thread at
/// a time on every core, with results identical to a serial run and
/// reported in seed order.
///
/// Every sweep honours the environment:
///
/// | variable | effect |
/// | --- | --- |
/// | `SIM_SEED=0x2a` | replay exactly this seed, with console logs (`SIM_LOG`) and the trace written to a file |
/// | `SIM_PLAN=plan.json` | with `SIM_SEED`: impose this plan (for example a minimized one) |
/// | `SIM_SEEDS=10000` | how many seeds |
/// | `SIM_FIRST_SEED=5000` | the first seed |
/// | `SIM_SHARD=2/8` | run only shard 2 of 8 (positions ≡ 2 mod 8) |
/// | `JOB_COMPLETION_INDEX=2` + `SIM_SHARD_COUNT=8` | the same, from a Kubernetes Indexed Job |
/// | `SIM_CHECK_DETERMINISM=10` | run every 10th seed twice and compare the traces |
/// | `SIM_FORKS=1.25s:0x9` | with `SIM_SEED`: replay that seed forked at these instants (a run an exploring sweep found) |
/// | `SIM_EXPLORE=runs=5000,seed=7` | explore instead of sweeping in order (see [`Explore`](crate::Explore)) |
///
/// Every seed runs on a fresh OS thread, so thread-local state (a library's
/// `thread_rng`, `HashMap` keys, a counter of the test's own) starts the same
/// for every world, whichever worker runs it. Every failure is run again
/// before it is reported: the report says "verified" when the seed failed the
/// same way with the same fingerprint, and prints a replay line only then;
/// otherwise it says the seed is not deterministic and names the first
/// difference.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use detsim::{Seed, Sim, Sweep, random, time, always};
///
/// let report = Sweep::new("doc_example")
///     .seeds(50)
///     .regressions(None)
///     .progress(false)
///     .run(|case| {
///         let mut sim = case.builder().build().unwrap();
///         sim.run(async {
///             let ms = random::with(|rng| rng.below(100));
///             time::sleep(Duration::from_millis(ms)).await;
///             always!(time::now().as_nanos() < 100_000_000, "done within 100 ms");
///         })
///     })
///     .unwrap();
/// assert_eq!(report.seeds_run, 50);
/// report.assert_passed();
/// ```
#[derive(Clone, Debug)]
pub struct Sweep {
    pub(crate) name: String,
    pub(crate) seeds: u64,
    pub(crate) first: u64,
    pub(crate) stop_on_failure: bool,
    pub(crate) time_budget: Option<Duration>,
    pub(crate) threads: usize,
    pub(crate) regressions: Option<PathBuf>,
    pub(crate) minimize: bool,
    pub(crate) progress: bool,
    pub(crate) artifacts: PathBuf,
    pub(crate) replay_command: Option<String>,
    pub(crate) env: bool,
    pub(crate) shard: Option<Shard>,
    pub(crate) audit_every: u64,
    /// Explore instead of sweeping seeds in order (`SIM_EXPLORE` overrides).
    pub(crate) explore: Option<crate::Explore>,
    /// Whether a sweep that runs no seed passes ([`Sweep::allow_empty`]).
    pub(crate) allow_empty: bool,
}

impl Sweep {
    /// A sweep named `name` (used for the regressions file, saved plans and
    /// traces): 100 seeds from 0, stop at the first failure, all cores,
    /// minimize failing plans, regressions in
    /// `$CARGO_MANIFEST_DIR/sim-regressions/<name>.txt`.
    pub fn new(name: &str) -> Sweep {
        let manifest = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from);
        let artifacts = std::env::var_os("SIM_ARTIFACTS")
            .map(PathBuf::from)
            .unwrap_or_else(|| std::env::temp_dir().join("detsim"));
        Sweep {
            name: name.to_owned(),
            seeds: 100,
            first: 0,
            stop_on_failure: true,
            time_budget: None,
            threads: std::thread::available_parallelism().map_or(1, usize::from),
            regressions: manifest.map(|m| m.join("sim-regressions").join(format!("{name}.txt"))),
            minimize: true,
            progress: true,
            artifacts,
            replay_command: None,
            env: true,
            shard: None,
            audit_every: 0,
            explore: None,
            allow_empty: false,
        }
    }

    /// Whether a sweep with no seed to run passes (default: no, it is a
    /// [`SweepError::Empty`]: 0 seeds asked for, or a shard that owns none
    /// of them, would otherwise pass without testing anything). Allow it
    /// for CI shards that may own no seed; the report then says the sweep
    /// ran nothing, and why that was allowed.
    pub fn allow_empty(mut self, allow: bool) -> Sweep {
        self.allow_empty = allow;
        self
    }

    /// Explores instead of running seeds in order: a seeded campaign that
    /// forks runs which reached rare coverage (see [`Explore`](crate::Explore)),
    /// with the same closure, reports, regressions, verification, minimization
    /// and replay lines. `SIM_EXPLORE` overrides (and turns it on).
    pub fn explore(mut self, explore: crate::Explore) -> Sweep {
        self.explore = Some(explore);
        self
    }

    /// How many seeds (`SIM_SEEDS` overrides).
    pub fn seeds(mut self, count: u64) -> Sweep {
        self.seeds = count;
        self
    }

    /// The first seed (`SIM_FIRST_SEED` overrides).
    pub fn first_seed(mut self, first: u64) -> Sweep {
        self.first = first;
        self
    }

    /// Stop at the first failure (the default) or keep going.
    pub fn stop_on_failure(mut self, stop: bool) -> Sweep {
        self.stop_on_failure = stop;
        self
    }

    /// Start no new seed after this much wall time (the first seed always
    /// starts; a zero budget is a [`SweepError::Config`]).
    pub fn time_budget(mut self, budget: Duration) -> Sweep {
        self.time_budget = Some(budget);
        self
    }

    /// Worker threads (default: the machine's cores; 1 runs serially).
    pub fn threads(mut self, threads: usize) -> Sweep {
        self.threads = threads.max(1);
        self
    }

    /// Where failing seeds are remembered and re-run first (`None`: nowhere).
    pub fn regressions(mut self, path: Option<PathBuf>) -> Sweep {
        self.regressions = path;
        self
    }

    /// Whether to minimize the plan of a failure (default: yes).
    pub fn minimize(mut self, minimize: bool) -> Sweep {
        self.minimize = minimize;
        self
    }

    /// Whether to print progress (default: yes).
    pub fn progress(mut self, progress: bool) -> Sweep {
        self.progress = progress;
        self
    }

    /// Where minimized plans and replay traces are written (default
    /// `$SIM_ARTIFACTS`, else the temporary directory's `detsim/`).
    pub fn artifacts(mut self, dir: impl Into<PathBuf>) -> Sweep {
        self.artifacts = dir.into();
        self
    }

    /// The command the replay line reruns, after the `SIM_SEED=…` prefix
    /// (default: `cargo test -p <package> -- --exact <test>` from the calling
    /// test's thread name).
    pub fn replay_command(mut self, command: impl Into<String>) -> Sweep {
        self.replay_command = Some(command.into());
        self
    }

    /// Run only this shard (the environment's `SIM_SHARD` wins).
    pub fn shard(mut self, shard: Shard) -> Sweep {
        self.shard = Some(shard);
        self
    }

    /// Runs every `every`-th seed twice and compares the two traces'
    /// fingerprints (and outcomes); a seed that differs is reported as a
    /// failure, "not deterministic", with the first differing event. `1`
    /// audits every seed, `0` (the default) none. `SIM_CHECK_DETERMINISM`
    /// overrides.
    pub fn check_determinism(mut self, every: u64) -> Sweep {
        self.audit_every = every;
        self
    }

    /// Ignore the environment variables (for tests of sweeps themselves).
    pub fn ignore_env(mut self) -> Sweep {
        self.env = false;
        self
    }

    /// Runs `test` for every seed and reports what failed. A failure that
    /// escapes as a panic of the closure itself (outside the world) is
    /// reported as that seed's failure too.
    ///
    /// # Errors
    ///
    /// A [`SweepError`] if the environment or the regressions file is
    /// malformed, the seed range runs past the last seed, the time budget is
    /// zero, or there is no seed to run (unless [`Sweep::allow_empty`]).
    pub fn run<T, F>(self, test: F) -> Result<SweepReport, SweepError>
    where
        F: Fn(&Case) -> Result<Report<T>, Failure> + Sync,
    {
        let env = if self.env {
            Env::read()?
        } else {
            Env::default()
        };
        let command = self
            .replay_command
            .clone()
            .unwrap_or_else(crate::error::default_command);
        if let Some(seed) = env.seed {
            let forks = env.forks.clone().unwrap_or_default();
            return Ok(self.replay_one(seed, env.plan, &forks, &command, &test));
        }
        if let Some(explore) = env.explore.clone().or_else(|| self.explore.clone()) {
            if let Some(path) = &self.regressions {
                // A malformed regressions file is an error here as in a sweep.
                regressions::read_forked(path)?;
            }
            let shard = env.shard.or(self.shard);
            let first = env.first.unwrap_or(self.first);
            return Ok(crate::explore::campaign::run(
                &self, explore, first, shard, &command, &test,
            ));
        }
        let audit_every = env.check_determinism.unwrap_or(self.audit_every);
        let seeds = env.seeds.unwrap_or(self.seeds);
        let first = env.first.unwrap_or(self.first);
        let shard = env.shard.or(self.shard);
        if self.time_budget == Some(Duration::ZERO) {
            return Err(SweepError::Config(
                "a time budget of zero would start no seed; give it at least the time of one"
                    .into(),
            ));
        }
        if seeds > 0 && first.checked_add(seeds - 1).is_none() {
            let from = |env_set: bool, name: &str| {
                if env_set {
                    format!(" ({name})")
                } else {
                    String::new()
                }
            };
            return Err(SweepError::Config(format!(
                "{seeds} seeds{} from {}{} run past the last seed {}: the range would wrap around to \
                 seed 0; lower the first seed or the count",
                from(env.seeds.is_some(), "SIM_SEEDS"),
                Seed::new(first),
                from(env.first.is_some(), "SIM_FIRST_SEED"),
                Seed::new(u64::MAX),
            )));
        }
        let regressions = match &self.regressions {
            Some(path) => regressions::read(path)?,
            None => Vec::new(),
        };
        let order = SeedOrder::new(regressions, first, seeds, shard);
        let mut empty = None;
        if order.len() == 0 {
            let why = match shard {
                _ if seeds == 0 => format!(
                    "it asks for 0 seeds{}",
                    if env.seeds.is_some() {
                        " (SIM_SEEDS=0)"
                    } else {
                        ""
                    }
                ),
                Some(shard) => format!("shard {shard} owns none of its {seeds} seeds"),
                None => "it has no seed to run".to_owned(),
            };
            if !self.allow_empty {
                return Err(SweepError::Empty(format!("sweep {}: {why}", self.name)));
            }
            empty = Some(format!("no seed ran: {why}, which `allow_empty` allows"));
        }
        let mut report = self.run_seeds(&order, shard, audit_every, &command, &test);
        report.warnings.extend(empty);
        Ok(report)
    }

    pub(crate) fn case(&self, seed: Seed, plan: Option<Plan>, replay: bool, command: &str) -> Case {
        let plan_part = match &plan {
            Some(plan) => format!(" SIM_PLAN={}", self.plan_path(seed, plan).display()),
            None => String::new(),
        };
        Case {
            seed,
            plan,
            replay,
            record: false,
            replay_command: format!("SIM_SEED={seed}{plan_part} {command}"),
            forks: crate::Forks::none(),
            sink: None,
            plan_asked: Default::default(),
        }
    }

    fn plan_path(&self, seed: Seed, plan: &Plan) -> PathBuf {
        artifacts::plan_path(&self.artifacts, &self.name, seed, plan)
    }

    fn run_seeds<T, F>(
        &self,
        order: &SeedOrder,
        shard: Option<Shard>,
        audit_every: u64,
        command: &str,
        test: &F,
    ) -> SweepReport
    where
        F: Fn(&Case) -> Result<Report<T>, Failure> + Sync,
    {
        struct Done {
            position: usize,
            /// The fingerprint of a passing run.
            fingerprint: Option<Fingerprint>,
            simulated: Duration,
            coverage: BTreeMap<String, Coverage>,
            failure: Option<Failure>,
            /// Set when the audit saw two runs differ.
            nondeterminism: Option<Nondeterminism>,
        }
        let next = AtomicUsize::new(0);
        // Position of the lowest failure so far: positions after it are not started.
        let lowest_failure = AtomicUsize::new(usize::MAX);
        let results: Mutex<Vec<Done>> = Mutex::new(Vec::with_capacity(order.len().min(1 << 16)));
        let progress = Mutex::new(Progress::new(&self.name, order.len() as u64, self.progress));
        let failed = AtomicUsize::new(0);
        let budget_hit = std::sync::atomic::AtomicBool::new(false);
        let worker = || {
            loop {
                let position = next.fetch_add(1, Ordering::Relaxed);
                if position >= order.len() {
                    break;
                }
                if self.stop_on_failure && position > lowest_failure.load(Ordering::Acquire) {
                    continue;
                }
                if let Some(budget) = self.time_budget.filter(|_| position > 0) {
                    if progress.lock().expect("progress lock").elapsed() > budget {
                        budget_hit.store(true, Ordering::Relaxed);
                        break;
                    }
                }
                let case = self.case(order.get(position), None, false, command);
                progress.lock().expect("progress lock").started(case.seed);
                let outcome = run_case(test, &case);
                let mut nondeterminism = None;
                if audit_every > 0 && position as u64 % audit_every == 0 {
                    let again = run_case(test, &case);
                    if !same_run(&outcome, &again) {
                        nondeterminism = Some(investigate(test, &case, &[&outcome, &again]));
                    }
                }
                progress.lock().expect("progress lock").finished(case.seed);
                let (fingerprint, simulated, coverage, failure) = match outcome {
                    Ok(run) => {
                        let failure = nondeterminism
                            .as_ref()
                            .map(|evidence| not_deterministic_failure(&case, &run, evidence));
                        (
                            Some(run.trace.fingerprint),
                            run.elapsed,
                            run.coverage,
                            failure,
                        )
                    }
                    Err(failure) => (
                        None,
                        failure.details().time.as_duration(),
                        failure.details().coverage.clone(),
                        Some(failure),
                    ),
                };
                if failure.is_some() {
                    lowest_failure.fetch_min(position, Ordering::AcqRel);
                    failed.fetch_add(1, Ordering::Relaxed);
                }
                let mut results = results.lock().expect("results lock");
                results.push(Done {
                    position,
                    fingerprint,
                    simulated,
                    coverage,
                    failure,
                    nondeterminism,
                });
                let count = results.len() as u64;
                drop(results);
                progress
                    .lock()
                    .expect("progress lock")
                    .update(count, failed.load(Ordering::Relaxed) as u64);
            }
        };
        // Reprints the progress line while a seed runs long (see `SLOW_SEED`).
        let workers_done = std::sync::atomic::AtomicBool::new(false);
        let ticker = || {
            while !workers_done.load(Ordering::Acquire) {
                std::thread::park_timeout(Duration::from_secs(1));
                progress.lock().expect("progress lock").tick();
            }
        };
        std::thread::scope(|scope| {
            let ticker = self.progress.then(|| scope.spawn(ticker));
            if self.threads <= 1 || order.len() <= 1 {
                worker();
            } else {
                let workers: Vec<_> = (0..self.threads.min(order.len()))
                    .map(|_| scope.spawn(worker))
                    .collect();
                for handle in workers {
                    if let Err(panic) = handle.join() {
                        std::panic::resume_unwind(panic);
                    }
                }
            }
            workers_done.store(true, Ordering::Release);
            if let Some(ticker) = ticker {
                ticker.thread().unpark();
            }
        });
        let mut progress = progress.into_inner().expect("progress lock");
        progress.finish();
        let mut results = results.into_inner().expect("results lock");
        results.sort_by_key(|d| d.position);
        let lowest = lowest_failure.load(Ordering::Acquire);
        if self.stop_on_failure {
            // A serial sweep would have stopped at the lowest failure.
            results.retain(|d| d.position <= lowest);
        }
        let mut coverage: BTreeMap<String, Coverage> = BTreeMap::new();
        let mut simulated = Duration::ZERO;
        let mut failures = Vec::new();
        for done in &results {
            simulated += done.simulated;
            for (name, c) in &done.coverage {
                coverage.entry(name.clone()).or_default().merge(*c);
            }
        }
        let stopped_early = results.len() < order.len() || budget_hit.load(Ordering::Relaxed);
        let seeds_run = results.len() as u64;
        // The audit of a seed after the lowest failure does not count: a
        // serial sweep would not have run it.
        let audited = if audit_every == 0 {
            0
        } else {
            results
                .iter()
                .filter(|d| d.position as u64 % audit_every == 0)
                .count() as u64
        };
        // Wall time of the sweep itself; verifying and minimizing come after.
        let wall = progress.elapsed();
        let mut warnings = Vec::new();
        if let Some(warning) = same_world_warning(results.iter().map(|d| d.fingerprint)) {
            warnings.push(warning);
        }
        for done in results {
            if let Some(failure) = done.failure {
                let mut explained = self.explain(
                    failure,
                    &crate::Forks::none(),
                    done.position as u64,
                    done.nondeterminism,
                    command,
                    test,
                );
                self.record_story(&mut explained, command, test);
                failures.push(explained);
            }
        }
        SweepReport {
            name: self.name.clone(),
            seeds_run,
            seeds_planned: order.len() as u64,
            shard,
            failures,
            wall,
            simulated,
            coverage,
            stopped_early,
            audited,
            exploration: None,
            warnings,
        }
    }

    /// Runs a failing seed once more with its trace kept (with the plan its
    /// replay line uses), for the report's timeline and the picture.
    fn record_story<T, F>(&self, failure: &mut SeedFailure, command: &str, test: &F)
    where
        F: Fn(&Case) -> Result<Report<T>, Failure> + Sync,
    {
        let seed = failure.seed;
        let plan = match (&failure.minimized, &failure.minimized_path) {
            (Some(plan), Some(_)) => Some(plan.clone()),
            _ => failure.failure.details().plan.clone(),
        };
        let mut case = self.case(seed, plan, false, command);
        case.record = true;
        let Err(recorded) = run_case(test, &case) else {
            return;
        };
        let trace = recorded.trace();
        if trace.events.is_empty() {
            return;
        }
        failure.timeline = artifacts::timeline(trace, artifacts::TIMELINE_LINES_MAX);
        let stem = format!("{}-{seed}", self.name);
        let title = format!("{} seed {seed}", self.name);
        match artifacts::write_trace_and_view(&self.artifacts, &stem, &title, trace) {
            Ok((_, view)) => failure.view = Some(view),
            Err(e) => eprintln!("detsim: cannot write the picture of seed {seed}: {e}"),
        }
    }

    /// Records, verifies, minimizes and describes one failure (of a run
    /// forked by `forks`, for an exploring sweep).
    pub(crate) fn explain<T, F>(
        &self,
        failure: Failure,
        forks: &crate::Forks,
        position: u64,
        nondeterminism: Option<Nondeterminism>,
        command: &str,
        test: &F,
    ) -> SeedFailure
    where
        F: Fn(&Case) -> Result<Report<T>, Failure> + Sync,
    {
        let seed = failure.seed();
        if let Some(path) = &self.regressions {
            if let Err(e) =
                regressions::append_forked(path, seed, forks, &failure.cause().signature())
            {
                eprintln!(
                    "detsim: cannot record seed {seed} in {}: {e}",
                    path.display()
                );
            }
        }
        let case = self
            .case(seed, None, false, command)
            .with_forks(forks.clone());
        let forks_part = if forks.is_empty() {
            String::new()
        } else {
            format!("SIM_FORKS={forks} ")
        };
        let verification = match nondeterminism {
            Some(evidence) => Verification::NotDeterministic(Box::new(evidence)),
            None => {
                let first: CaseOutcome = Err(failure.clone());
                let again = run_case(test, &case);
                if same_run(&first, &again) {
                    Verification::Verified {
                        fingerprint: failure.trace().fingerprint,
                    }
                } else {
                    Verification::NotDeterministic(Box::new(investigate(
                        test,
                        &case,
                        &[&first, &again],
                    )))
                }
            }
        };
        let mut report = SeedFailure {
            seed,
            forks: forks.clone(),
            position,
            failure,
            verification,
            minimized: None,
            minimized_path: None,
            minimized_fingerprint: None,
            minimize_note: None,
            replay: None,
            timeline: Vec::new(),
            view: None,
        };
        if !report.verification.is_verified() {
            if self.minimize {
                report.minimize_note = Some(
                    "skipped: the seed does not replay, so no smaller plan could be trusted".into(),
                );
            }
            return report;
        }
        report.replay = Some(format!("{forks_part}SIM_SEED={seed} {command}"));
        let plan = report
            .failure
            .details()
            .plan
            .clone()
            .filter(|p| !p.is_empty());
        let (true, Some(plan)) = (self.minimize, plan) else {
            return report;
        };
        let signature = report.failure.cause().signature();
        let with_plan = |candidate: &Plan| {
            run_case(
                test,
                &self
                    .case(seed, Some(candidate.clone()), false, command)
                    .with_forks(forks.clone()),
            )
        };
        let reproduces = |candidate: &Plan| matches!(with_plan(candidate), Err(f) if f.cause().signature() == signature);
        // Only a test that applies the plan it is given can be minimized.
        match with_plan(&plan) {
            Err(f) if f.cause().signature() == signature => {}
            other => {
                report.minimize_note = Some(format!(
                    "skipped: imposing the run's own plan did not fail the same way ({}); does the \
                     test take its plan from `case.plan(…)`?",
                    describe_outcome(&other)
                ));
                return report;
            }
        }
        let (small, _runs) = minimize::minimize(&plan, reproduces);
        let path = self.plan_path(seed, &small);
        if let Err(e) = small.save(&path) {
            report.minimize_note = Some(format!(
                "the minimized plan cannot be saved to {}: {e}",
                path.display()
            ));
            report.minimized = Some(small);
            return report;
        }
        // The replay line loads the plan from the file: check exactly that, twice.
        let loaded = Plan::load(&path);
        let runs = loaded.as_ref().map(|p| (with_plan(p), with_plan(p)));
        match runs {
            Ok((Err(a), Err(b)))
                if a.cause().signature() == signature
                    && b.cause().signature() == signature
                    && a.trace().fingerprint == b.trace().fingerprint =>
            {
                report.minimized_fingerprint = Some(a.trace().fingerprint);
                report.minimized_path = Some(path.clone());
                report.replay = Some(format!(
                    "{forks_part}SIM_SEED={seed} SIM_PLAN={} {command}",
                    path.display()
                ));
            }
            Ok((a, b)) => {
                report.minimize_note = Some(format!(
                    "the minimized plan did not fail the same way twice ({}; then {}): the replay \
                     line keeps the seed's own plan",
                    describe_outcome(&a),
                    describe_outcome(&b)
                ));
            }
            Err(e) => {
                report.minimize_note = Some(format!(
                    "the saved plan cannot be read back from {}: {e}",
                    path.display()
                ));
            }
        }
        report.minimized = Some(small);
        report
    }
    /// Replays one seed, as `SIM_SEED` (and `SIM_PLAN`) do: console logs,
    /// the trace recorded and written to the artifacts directory, the plan
    /// imposed if given.
    pub fn replay<T, F>(&self, seed: Seed, plan: Option<Plan>, test: F) -> SweepReport
    where
        F: Fn(&Case) -> Result<Report<T>, Failure> + Sync,
    {
        let command = self
            .replay_command
            .clone()
            .unwrap_or_else(crate::error::default_command);
        self.replay_one(seed, plan, &crate::Forks::none(), &command, &test)
    }

    fn replay_one<T, F>(
        &self,
        seed: Seed,
        plan: Option<Plan>,
        forks: &crate::Forks,
        command: &str,
        test: &F,
    ) -> SweepReport
    where
        F: Fn(&Case) -> Result<Report<T>, Failure> + Sync,
    {
        let mut progress = Progress::new(&self.name, 1, false);
        if let Some(plan) = &plan {
            // The replay line names the plan by its content; make sure it is there.
            let path = self.plan_path(seed, plan);
            if !path.exists() {
                if let Err(e) =
                    std::fs::create_dir_all(&self.artifacts).and_then(|()| plan.save(&path))
                {
                    eprintln!("detsim: cannot save the plan to {}: {e}", path.display());
                }
            }
        }
        let case = self
            .case(seed, plan, true, command)
            .with_forks(forks.clone());
        if forks.is_empty() {
            eprintln!("sweep {}: replaying seed {seed}", self.name);
        } else {
            eprintln!(
                "sweep {}: replaying seed {seed} forked at {forks}",
                self.name
            );
        }
        let outcome = run_case(test, &case);
        let warnings = Vec::new();
        let outcome = match outcome {
            // An imposed plan the test never asked for was not applied: the
            // replay ran something else, and must not pass (or fail) as if
            // the plan had been imposed.
            outcome if case.plan.is_some() && !case.plan_was_asked() => {
                Err(plan_ignored_failure(&case, &outcome))
            }
            outcome => outcome,
        };
        let (trace, simulated, coverage, failure) = match outcome {
            Ok(run) => (run.trace, run.elapsed, run.coverage, None),
            Err(failure) => {
                let d = failure.details();
                (
                    d.trace.clone(),
                    d.time.as_duration(),
                    d.coverage.clone(),
                    Some(failure),
                )
            }
        };
        let stem = format!("{}-{seed}", self.name);
        let title = format!("{} seed {seed}", self.name);
        let mut view = None;
        match artifacts::write_trace_and_view(&self.artifacts, &stem, &title, &trace) {
            Ok((trace_path, view_path)) => {
                eprintln!(
                    "sweep {}: {} events, fingerprint {}, trace written to {}",
                    self.name,
                    trace.count,
                    trace.fingerprint,
                    trace_path.display()
                );
                eprintln!(
                    "sweep {}: the run is drawn in {}",
                    self.name,
                    view_path.display()
                );
                view = Some(view_path);
            }
            Err(e) => eprintln!(
                "detsim: cannot write the trace and its picture to {}: {e}",
                self.artifacts.display()
            ),
        }
        progress.finish();
        let failures = failure
            .map(|failure| SeedFailure {
                seed,
                forks: forks.clone(),
                position: 0,
                replay: Some(failure.replay().to_owned()),
                timeline: artifacts::timeline(failure.trace(), artifacts::TIMELINE_LINES_MAX),
                failure,
                verification: Verification::Unchecked,
                minimized: None,
                minimized_path: None,
                minimized_fingerprint: None,
                minimize_note: None,
                view,
            })
            .into_iter()
            .collect();
        SweepReport {
            name: self.name.clone(),
            seeds_run: 1,
            seeds_planned: 1,
            shard: None,
            failures,
            wall: progress.elapsed(),
            simulated,
            coverage,
            stopped_early: false,
            audited: 0,
            exploration: None,
            warnings,
        }
    }
}

/// Runs `test` on seed `case.seed()` twice, each time on a fresh thread and
/// with the trace recorded, as a sweep's determinism audit does, and
/// compares the two traces event by event. It takes the same closure as
/// [`Sweep::run`], so any sweep's test can be checked without restructuring.
///
/// Returns the fingerprint when both runs are identical.
///
/// # Errors
///
/// A [`Divergence`] naming the first event where the runs differ.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use detsim::{Case, Seed, check_case_determinism, random, time};
///
/// let test = |case: &Case| {
///     let mut sim = case.builder().build().unwrap();
///     sim.run(async {
///         let ms = random::with(|rng| rng.below(100));
///         time::sleep(Duration::from_millis(ms)).await;
///     })
/// };
/// let fingerprint = check_case_determinism(Case::new(Seed::new(3), None), test).unwrap();
/// # let _ = fingerprint;
/// ```
pub fn check_case_determinism<T, F>(case: Case, test: F) -> Result<Fingerprint, Divergence>
where
    F: Fn(&Case) -> Result<Report<T>, Failure> + Sync,
{
    let case = Case {
        record: true,
        ..case
    };
    let trace = |outcome: CaseOutcome| match outcome {
        Ok(run) => run.trace,
        Err(failure) => failure.trace().clone(),
    };
    let first = trace(run_case(&test, &case));
    let second = trace(run_case(&test, &case));
    crate::trace::compare(case.seed, &first, &second)
}

/// What a sweep keeps of a passing run: everything but the test's own
/// output, which need not be `Send`.
pub(crate) struct Run {
    pub(crate) elapsed: Duration,
    pub(crate) coverage: BTreeMap<String, Coverage>,
    pub(crate) trace: Trace,
}

pub(crate) type CaseOutcome = Result<Run, Failure>;

/// Runs one case on a fresh OS thread (named like the calling one, so replay
/// lines still name the test), so that thread-local state starts the same
/// for every world.
pub(crate) fn run_case<T, F>(test: &F, case: &Case) -> CaseOutcome
where
    F: Fn(&Case) -> Result<Report<T>, Failure> + Sync,
{
    let run = || {
        run_case_here(test, case).map(|report| Run {
            elapsed: report.elapsed.as_duration(),
            coverage: report.coverage,
            trace: report.trace,
        })
    };
    let mut builder = std::thread::Builder::new();
    if let Some(name) = std::thread::current().name() {
        builder = builder.name(name.to_owned());
    }
    std::thread::scope(|scope| match builder.spawn_scoped(scope, run) {
        Ok(thread) => thread
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
        // No thread to be had: run here, sharing this thread's state.
        Err(_) => run(),
    })
}

fn run_case_here<T, F>(test: &F, case: &Case) -> Result<Report<T>, Failure>
where
    F: Fn(&Case) -> Result<Report<T>, Failure>,
{
    match crate::panic::catch(AssertUnwindSafe(|| test(case))) {
        Ok(result) => result,
        Err(panic) => Err(Failure::new(FailureInner {
            seed: case.seed,
            time: Instant::ZERO,
            node: None,
            cause: Cause::ClosurePanic {
                message: panic.message,
                location: panic.location,
            },
            replay: case.replay_command.clone(),
            steps: 0,
            trace: Trace::default(),
            plan: case.plan.clone(),
            coverage: BTreeMap::new(),
        })),
    }
}

/// The failure of a replay whose test never asked its case for the plan
/// that `SIM_PLAN` imposed.
fn plan_ignored_failure(case: &Case, outcome: &CaseOutcome) -> Failure {
    let (time, trace, coverage) = match outcome {
        Ok(run) => (
            Instant::ZERO.saturating_add(run.elapsed),
            run.trace.clone(),
            run.coverage.clone(),
        ),
        Err(failure) => (
            failure.details().time,
            failure.trace().clone(),
            failure.details().coverage.clone(),
        ),
    };
    Failure::new(FailureInner {
        seed: case.seed,
        time,
        node: None,
        cause: Cause::Misuse {
            message: format!(
                "SIM_PLAN imposed a plan, but the test never asked its case for one (`case.plan(…)`, \
                 `case.plan_from(…)` or `case.imposed_plan()`), so the plan was not applied and this \
                 replay ran the seed's own faults ({}); apply the plan the case gives",
                describe_outcome(outcome)
            ),
        },
        replay: case.replay_command.clone(),
        steps: 0,
        trace,
        plan: case.plan.clone(),
        coverage,
    })
}

/// How many passing seeds must agree before a sweep warns that its closure
/// seems to ignore the seed.
const SAME_WORLD_SEEDS_MIN: usize = 4;

/// The warning for a sweep whose passing seeds all ran the same world: a
/// closure that builds its world from a fixed seed instead of the case's
/// tests one world, however many seeds it is given.
fn same_world_warning(fingerprints: impl Iterator<Item = Option<Fingerprint>>) -> Option<String> {
    let mut count = 0usize;
    let mut first = None;
    for fingerprint in fingerprints.flatten() {
        match first {
            None => first = Some(fingerprint),
            Some(f) if f != fingerprint => return None,
            Some(_) => {}
        }
        count += 1;
    }
    (count >= SAME_WORLD_SEEDS_MIN).then(|| {
        format!(
            "all {count} passing seeds ran with the same fingerprint {}: the test closure seems to \
             ignore its seed (build the world with `case.builder()`, or from `case.seed()`, so that \
             each seed runs a different world)",
            first.expect("counted")
        )
    })
}

/// Whether two runs of one case did the same: same fingerprint, and the
/// same outcome (passed, or failed with the same signature).
fn same_run(a: &CaseOutcome, b: &CaseOutcome) -> bool {
    match (a, b) {
        (Ok(a), Ok(b)) => {
            a.trace.fingerprint == b.trace.fingerprint && a.trace.count == b.trace.count
        }
        (Err(a), Err(b)) => {
            a.cause().signature() == b.cause().signature()
                && a.trace().fingerprint == b.trace().fingerprint
                && a.trace().count == b.trace().count
        }
        _ => false,
    }
}

fn describe_outcome(outcome: &CaseOutcome) -> String {
    match outcome {
        Ok(_) => "passed".to_owned(),
        Err(failure) => format!("failed: {}", failure.cause()),
    }
}

fn run_outcome(outcome: &CaseOutcome) -> RunOutcome {
    let fingerprint = match outcome {
        Ok(run) => run.trace.fingerprint,
        Err(failure) => failure.trace().fingerprint,
    };
    RunOutcome {
        fingerprint,
        outcome: describe_outcome(outcome),
    }
}

/// Two runs of `case` differed: runs it twice more with the trace recorded
/// to name the first differing event.
fn investigate<T, F>(test: &F, case: &Case, runs: &[&CaseOutcome]) -> Nondeterminism
where
    F: Fn(&Case) -> Result<Report<T>, Failure> + Sync,
{
    let divergence = check_case_determinism(case.clone(), test).err();
    Nondeterminism {
        seed: case.seed,
        runs: runs.iter().map(|run| run_outcome(run)).collect(),
        divergence,
    }
}

/// The failure a sweep reports for a seed that passed but did not run the
/// same way twice.
fn not_deterministic_failure(case: &Case, run: &Run, evidence: &Nondeterminism) -> Failure {
    let fingerprints: Vec<String> = evidence
        .runs
        .iter()
        .map(|r| r.fingerprint.to_string())
        .collect();
    Failure::new(FailureInner {
        seed: case.seed,
        time: Instant::from_nanos(u64::try_from(run.elapsed.as_nanos()).unwrap_or(u64::MAX)),
        node: None,
        cause: Cause::DeterminismLeak {
            detail: format!(
                "seed {} is not deterministic: the same seed ran with fingerprints {}",
                case.seed,
                fingerprints.join(" and ")
            ),
        },
        replay: case.replay_command.clone(),
        steps: 0,
        trace: run.trace.clone(),
        plan: case.plan.clone(),
        coverage: run.coverage.clone(),
    })
}
