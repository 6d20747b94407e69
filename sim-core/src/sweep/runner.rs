//! The sweep driver.

use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use super::case::Case;
use super::env::{Env, Shard, SweepError};
use super::progress::Progress;
use super::report::{SeedFailure, SweepReport};
use super::{minimize, regressions};
use crate::error::{Cause, Failure, FailureInner};
use crate::fault::Plan;
use crate::time::Instant;
use crate::trace::Trace;
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
    name: String,
    seeds: u64,
    first: u64,
    stop_on_failure: bool,
    time_budget: Option<Duration>,
    threads: usize,
    regressions: Option<PathBuf>,
    minimize: bool,
    progress: bool,
    artifacts: PathBuf,
    replay_command: Option<String>,
    env: bool,
    shard: Option<Shard>,
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
        }
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

    /// Start no new seed after this much wall time.
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
    /// A [`SweepError`] if the environment or the regressions file is malformed.
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
            return Ok(self.replay_one(seed, env.plan, &command, &test));
        }
        let seeds = env.seeds.unwrap_or(self.seeds);
        let first = env.first.unwrap_or(self.first);
        let shard = env.shard.or(self.shard);
        let mut order: Vec<Seed> = Vec::new();
        if let Some(path) = &self.regressions {
            for seed in regressions::read(path)? {
                if shard.is_none_or(|s| s.owns(seed.get())) {
                    order.push(seed);
                }
            }
        }
        for position in 0..seeds {
            if shard.is_none_or(|s| s.owns(position)) {
                let seed = Seed::new(first.wrapping_add(position));
                if !order.contains(&seed) {
                    order.push(seed);
                }
            }
        }
        Ok(self.run_seeds(&order, shard, &command, &test))
    }

    fn case(&self, seed: Seed, plan: Option<Plan>, replay: bool, command: &str) -> Case {
        let plan_part = match &plan {
            Some(_) => format!(" SIM_PLAN={}", self.plan_path(seed).display()),
            None => String::new(),
        };
        Case {
            seed,
            plan,
            replay,
            replay_command: format!("SIM_SEED={seed}{plan_part} {command}"),
        }
    }

    fn plan_path(&self, seed: Seed) -> PathBuf {
        self.artifacts
            .join(format!("{}-{seed}.plan.json", self.name))
    }

    fn run_seeds<T, F>(
        &self,
        order: &[Seed],
        shard: Option<Shard>,
        command: &str,
        test: &F,
    ) -> SweepReport
    where
        F: Fn(&Case) -> Result<Report<T>, Failure> + Sync,
    {
        struct Done {
            position: usize,
            simulated: Duration,
            coverage: BTreeMap<String, Coverage>,
            failure: Option<Failure>,
        }
        let next = AtomicUsize::new(0);
        // Position of the lowest failure so far: positions after it are not started.
        let lowest_failure = AtomicUsize::new(usize::MAX);
        let results: Mutex<Vec<Done>> = Mutex::new(Vec::with_capacity(order.len()));
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
                if let Some(budget) = self.time_budget {
                    if progress.lock().expect("progress lock").elapsed() > budget {
                        budget_hit.store(true, Ordering::Relaxed);
                        break;
                    }
                }
                let case = self.case(order[position], None, false, command);
                progress
                    .lock()
                    .expect("progress lock")
                    .started(order[position]);
                let outcome = run_case(test, &case);
                progress
                    .lock()
                    .expect("progress lock")
                    .finished(order[position]);
                let done = match outcome {
                    Ok((simulated, coverage)) => Done {
                        position,
                        simulated,
                        coverage,
                        failure: None,
                    },
                    Err(failure) => {
                        lowest_failure.fetch_min(position, Ordering::AcqRel);
                        failed.fetch_add(1, Ordering::Relaxed);
                        Done {
                            position,
                            simulated: failure.details().time.as_duration(),
                            coverage: failure.details().coverage.clone(),
                            failure: Some(failure),
                        }
                    }
                };
                let mut results = results.lock().expect("results lock");
                results.push(done);
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
        // Wall time of the sweep itself; minimizing comes after.
        let wall = progress.elapsed();
        for done in results {
            if let Some(failure) = done.failure {
                failures.push(self.explain(failure, command, test));
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
        }
    }

    /// Records, minimizes and describes one failure.
    fn explain<T, F>(&self, failure: Failure, command: &str, test: &F) -> SeedFailure
    where
        F: Fn(&Case) -> Result<Report<T>, Failure> + Sync,
    {
        let seed = failure.seed();
        if let Some(path) = &self.regressions {
            if let Err(e) = regressions::append(path, seed, &failure.cause().signature()) {
                eprintln!(
                    "detsim: cannot record seed {seed} in {}: {e}",
                    path.display()
                );
            }
        }
        let mut minimized = None;
        let mut minimized_path = None;
        let plan = failure.details().plan.clone().filter(|p| !p.is_empty());
        if let (true, Some(plan)) = (self.minimize, plan) {
            let signature = failure.cause().signature();
            let reproduces = |candidate: &Plan| {
                let case = self.case(seed, Some(candidate.clone()), false, command);
                matches!(run_case(test, &case), Err(f) if f.cause().signature() == signature)
            };
            // Only a test that applies the plan it is given can be minimized.
            if reproduces(&plan) {
                let (small, _runs) = minimize::minimize(&plan, reproduces);
                let path = self.plan_path(seed);
                match small.save(&path) {
                    Ok(()) => minimized_path = Some(path),
                    Err(e) => eprintln!(
                        "detsim: cannot save the minimized plan to {}: {e}",
                        path.display()
                    ),
                }
                minimized = Some(small);
            }
        }
        let replay = match &minimized_path {
            Some(path) => format!("SIM_SEED={seed} SIM_PLAN={} {command}", path.display()),
            None => format!("SIM_SEED={seed} {command}"),
        };
        SeedFailure {
            seed,
            failure,
            minimized,
            minimized_path,
            replay,
        }
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
        self.replay_one(seed, plan, &command, &test)
    }

    fn replay_one<T, F>(
        &self,
        seed: Seed,
        plan: Option<Plan>,
        command: &str,
        test: &F,
    ) -> SweepReport
    where
        F: Fn(&Case) -> Result<Report<T>, Failure> + Sync,
    {
        let mut progress = Progress::new(&self.name, 1, false);
        let case = self.case(seed, plan, true, command);
        eprintln!("sweep {}: replaying seed {seed}", self.name);
        let outcome = run_case_full(test, &case);
        let (trace, simulated, coverage, failure) = match outcome {
            Ok(report) => (
                report.trace,
                report.elapsed.as_duration(),
                report.coverage,
                None,
            ),
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
        let path = self
            .artifacts
            .join(format!("{}-{seed}.trace.jsonl", self.name));
        let written = std::fs::create_dir_all(&self.artifacts)
            .and_then(|()| std::fs::File::create(&path))
            .and_then(|file| trace.write_json_lines(std::io::BufWriter::new(file)));
        match written {
            Ok(()) => eprintln!(
                "sweep {}: {} events, fingerprint {}, trace written to {}",
                self.name,
                trace.count,
                trace.fingerprint,
                path.display()
            ),
            Err(e) => eprintln!("detsim: cannot write the trace to {}: {e}", path.display()),
        }
        progress.finish();
        let failures = failure
            .map(|failure| SeedFailure {
                seed,
                replay: format!("SIM_SEED={seed} {command}"),
                failure,
                minimized: None,
                minimized_path: None,
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
        }
    }
}

type CaseOutcome = Result<(Duration, BTreeMap<String, Coverage>), Failure>;

fn run_case<T, F>(test: &F, case: &Case) -> CaseOutcome
where
    F: Fn(&Case) -> Result<Report<T>, Failure>,
{
    run_case_full(test, case).map(|report| (report.elapsed.as_duration(), report.coverage))
}

fn run_case_full<T, F>(test: &F, case: &Case) -> Result<Report<T>, Failure>
where
    F: Fn(&Case) -> Result<Report<T>, Failure>,
{
    match crate::panic::catch(AssertUnwindSafe(|| test(case))) {
        Ok(result) => result,
        Err(panic) => Err(Failure::new(FailureInner {
            seed: case.seed,
            time: Instant::ZERO,
            node: None,
            cause: Cause::Panic {
                task: None,
                message: format!(
                    "the test closure panicked outside the world: {}",
                    panic.message
                ),
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
