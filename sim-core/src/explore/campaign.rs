//! The search: a seeded campaign of runs in deterministic generations.
//!
//! Each generation is a batch of candidates chosen from the campaign's state
//! after the previous generation: fresh seeds (as a plain sweep would run
//! them, in order) and forks of corpus runs at or just before the instant
//! they reached a rare coverage key. The batch runs on every core; its
//! results are then folded in batch order. So the campaign (corpus, keys,
//! first failure) is a pure function of the campaign seed, whatever the
//! number of threads; only a wall-time budget depends on the machine, and
//! the summary then says it stopped on time.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::error::Failure;
use crate::sweep::{Case, CaseOutcome, Shard, Sweep, SweepReport, run_case};
use crate::time::Instant;
use crate::world::Coverage;
use crate::{Forks, Report, Seed, SimRng};

use super::coverage::Reached;

/// How a sweep explores: the budget, the campaign seed, and the search's knobs.
///
/// `SIM_EXPLORE` sets the same as a comma-separated list:
/// `runs=2000,seed=7,wall=60s,batch=32,warmup=4,fresh=0.25,blind,compare`
/// (a bare number is `runs=`, a bare duration is `wall=`).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use detsim::Explore;
///
/// let explore = Explore::runs(2000).campaign_seed(7).wall(Duration::from_secs(60));
/// assert_eq!("runs=2000,seed=7,wall=60s".parse::<Explore>().unwrap(), explore);
/// assert_eq!("500".parse::<Explore>().unwrap(), Explore::runs(500));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Explore {
    pub(crate) campaign_seed: Seed,
    pub(crate) runs: u64,
    pub(crate) wall: Option<Duration>,
    pub(crate) batch: usize,
    pub(crate) warmup: u64,
    pub(crate) fresh: f64,
    pub(crate) guided: bool,
    pub(crate) compare_blind: bool,
    pub(crate) plot: bool,
}

impl Default for Explore {
    fn default() -> Explore {
        Explore {
            campaign_seed: Seed::new(0),
            runs: 1000,
            wall: None,
            batch: 32,
            warmup: 4,
            fresh: 0.25,
            guided: true,
            compare_blind: false,
            plot: true,
        }
    }
}

impl Explore {
    /// A campaign of at most `runs` runs (campaign seed 0).
    pub fn runs(runs: u64) -> Explore {
        Explore {
            runs,
            ..Explore::default()
        }
    }

    /// The campaign seed: every choice of the search derives from it.
    pub fn campaign_seed(mut self, seed: impl Into<Seed>) -> Explore {
        self.campaign_seed = seed.into();
        self
    }

    /// At most this much wall time: no generation starts after it (the
    /// campaign's extent then depends on the machine; the summary says so).
    pub fn wall(mut self, budget: Duration) -> Explore {
        self.wall = Some(budget);
        self
    }

    /// Runs per generation (default 32). The campaign depends on it, never
    /// on the number of threads.
    pub fn batch(mut self, batch: usize) -> Explore {
        self.batch = batch.max(1);
        self
    }

    /// Generations of fresh seeds only before forking starts (default 4,
    /// at least 1): a bug that blind seeds find early is found the same
    /// way, and the corpus starts from a blind sample.
    pub fn warmup(mut self, generations: u64) -> Explore {
        self.warmup = generations.max(1);
        self
    }

    /// The share of fresh seeds among the runs after the warmup
    /// (default 0.25), so nothing starves.
    pub fn fresh(mut self, share: f64) -> Explore {
        self.fresh = share.clamp(0.0, 1.0);
        self
    }

    /// Blind: fresh seeds only, in order, through the same machinery (to
    /// compare with guided exploration in the same budget).
    pub fn blind(mut self) -> Explore {
        self.guided = false;
        self
    }

    /// After the campaign, run a blind one in the same budget and show
    /// both coverage curves.
    pub fn compare_blind(mut self, compare: bool) -> Explore {
        self.compare_blind = compare;
        self
    }

    /// Whether to write the coverage plot (default: yes).
    pub fn plot(mut self, plot: bool) -> Explore {
        self.plot = plot;
        self
    }
}

impl FromStr for Explore {
    type Err = String;

    fn from_str(text: &str) -> Result<Explore, String> {
        let mut explore = Explore::default();
        let duration = |v: &str| -> Result<Duration, String> {
            let forks: Forks = format!("{v}:0")
                .parse()
                .map_err(|_| format!("{v:?} is not a duration (say 60s, 500ms)"))?;
            Ok(forks.as_slice()[0].at)
        };
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (key, value) = part.split_once('=').unwrap_or(("", part));
            let number = |v: &str| {
                v.parse::<u64>()
                    .map_err(|_| format!("{part:?}: {v:?} is not a number"))
            };
            match key {
                "" if part == "blind" => explore.guided = false,
                "" if part == "compare" => explore.compare_blind = true,
                "" if part.bytes().all(|b| b.is_ascii_digit()) => explore.runs = number(part)?,
                "" => explore.wall = Some(duration(part)?),
                "runs" => explore.runs = number(value)?,
                "seed" => {
                    explore.campaign_seed = value.parse().map_err(|e| format!("{part:?}: {e}"))?;
                }
                "wall" => explore.wall = Some(duration(value)?),
                "batch" => explore.batch = number(value)?.max(1) as usize,
                "warmup" => explore.warmup = number(value)?.max(1),
                "fresh" => {
                    explore.fresh = value
                        .parse::<f64>()
                        .map_err(|_| format!("{part:?}: not a share in [0, 1]"))?
                        .clamp(0.0, 1.0);
                }
                _ => {
                    return Err(format!(
                        "unknown setting {part:?} (expected runs=, seed=, wall=, batch=, fresh=, \
                         warmup=, blind, compare)"
                    ));
                }
            }
        }
        Ok(explore)
    }
}

/// One point of a coverage curve: distinct keys after so many runs and so
/// much wall time (at the end of a generation).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CurvePoint {
    /// Runs so far.
    pub runs: u64,
    /// Wall time so far.
    pub wall: Duration,
    /// Distinct coverage keys reached so far.
    pub keys: u64,
}

/// A run the campaign kept because it reached coverage new to the campaign.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CorpusEntry {
    /// Its seed.
    pub seed: Seed,
    /// Its fork chain.
    pub forks: Forks,
    /// Which run of the campaign it was (0 is the first).
    pub run: u64,
    /// How many keys it reached first.
    pub new_keys: u64,
}

/// When a campaign first reached a coverage key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyStat {
    /// Runs that reached it.
    pub runs: u64,
    /// The first run that did.
    pub first_run: u64,
    /// The virtual instant in that run.
    pub first_at: Instant,
}

/// What an exploring sweep did: budget, corpus, coverage over time, the
/// `sometimes!` targets and when they were reached.
#[derive(Clone, Debug)]
pub struct Campaign {
    /// The campaign seed.
    pub campaign_seed: Seed,
    /// Guided, or blind (fresh seeds only).
    pub guided: bool,
    /// Runs made.
    pub runs: u64,
    /// Generations (batches) run.
    pub generations: u64,
    /// Why the campaign stopped: `run budget`, `wall budget`, `first failure`.
    pub stopped_by: &'static str,
    /// The runs kept, in the order they were found.
    pub corpus: Vec<CorpusEntry>,
    /// Every coverage key reached.
    pub keys: BTreeMap<String, KeyStat>,
    /// Distinct keys over runs and wall time.
    pub curve: Vec<CurvePoint>,
    /// The same for blind seeds in the same budget, when asked.
    pub blind_curve: Option<Vec<CurvePoint>>,
    /// Every `sometimes!` seen: `Some((run, instant))` when it first held,
    /// `None` when it never did.
    pub targets: BTreeMap<String, Option<(u64, Instant)>>,
    /// The run (0-based) that failed first, if any.
    pub first_failure_run: Option<u64>,
    /// Virtual time simulated up to and including the first failure (or in all).
    pub simulated_to_failure: Duration,
    /// Wall time up to the end of the generation of the first failure (or in all).
    pub wall_to_failure: Duration,
    /// Where the coverage plot was written.
    pub plot: Option<PathBuf>,
}

impl fmt::Display for Campaign {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "  explored ({}): campaign seed {}, {} runs in {} generations, stopped by {}; corpus {} runs, {} coverage keys",
            if self.guided { "guided" } else { "blind" },
            self.campaign_seed,
            self.runs,
            self.generations,
            self.stopped_by,
            self.corpus.len(),
            self.keys.len()
        )?;
        let sample = |curve: &[CurvePoint]| -> String {
            let step = (curve.len() / 8).max(1);
            let mut points: Vec<String> = curve
                .iter()
                .step_by(step)
                .map(|p| format!("{}@{}/{:.1}s", p.keys, p.runs, p.wall.as_secs_f64()))
                .collect();
            if let Some(last) = curve.last() {
                if (curve.len() - 1) % step != 0 {
                    points.push(format!(
                        "{}@{}/{:.1}s",
                        last.keys,
                        last.runs,
                        last.wall.as_secs_f64()
                    ));
                }
            }
            points.join(" ")
        };
        writeln!(
            f,
            "  coverage over time (keys@runs/wall): {}",
            sample(&self.curve)
        )?;
        if let Some(blind) = &self.blind_curve {
            writeln!(f, "  blind seeds, same budget:           {}", sample(blind))?;
        }
        for (name, reached) in &self.targets {
            match reached {
                Some((run, at)) => {
                    writeln!(f, "  sometimes {name:?}: first held in run {run} at t={at}")?
                }
                None => writeln!(f, "  sometimes {name:?}: never held (a target)")?,
            }
        }
        if let Some(run) = self.first_failure_run {
            writeln!(
                f,
                "  first failure: run {run} ({} runs), {:.1} simulated s, {:.2} wall s",
                run + 1,
                self.simulated_to_failure.as_secs_f64(),
                self.wall_to_failure.as_secs_f64()
            )?;
        }
        if let Some(plot) = &self.plot {
            writeln!(f, "  coverage plot: {}", plot.display())?;
        }
        Ok(())
    }
}

/// A candidate run of a generation.
struct Candidate {
    seed: Seed,
    forks: Forks,
}

/// A corpus run with what it reached, for choosing parents.
struct Kept {
    seed: Seed,
    forks: Forks,
    /// (key id, first instant), in instant order.
    keys: Vec<(usize, Instant)>,
    picked: u64,
}

/// What a finished run left: outcome and coverage.
struct Finished {
    outcome: CaseOutcome,
    reached: Reached,
}

/// Runs an exploring sweep (and, if asked, a blind one in the same budget).
pub(crate) fn run<T, F>(
    sweep: &Sweep,
    explore: Explore,
    first: u64,
    shard: Option<Shard>,
    command: &str,
    test: &F,
) -> SweepReport
where
    F: Fn(&Case) -> Result<Report<T>, Failure> + Sync,
{
    let (mut report, mut campaign) = search(sweep, &explore, first, shard, command, test);
    if explore.compare_blind && explore.guided {
        let blind = Explore {
            guided: false,
            runs: campaign.runs,
            wall: explore.wall,
            ..explore.clone()
        };
        let (_, blind) = search(sweep, &blind, first, shard, command, test);
        campaign.blind_curve = Some(blind.curve);
    }
    if explore.plot && !campaign.curve.is_empty() {
        let path = sweep.artifacts.join(format!(
            "{}-explore-{}.svg",
            sweep.name, campaign.campaign_seed
        ));
        let svg = super::plot::svg(&sweep.name, &campaign);
        let written =
            std::fs::create_dir_all(&sweep.artifacts).and_then(|()| std::fs::write(&path, svg));
        match written {
            Ok(()) => campaign.plot = Some(path),
            Err(e) => eprintln!("detsim: cannot write the plot to {}: {e}", path.display()),
        }
    }
    report.exploration = Some(Box::new(campaign));
    report
}

fn search<T, F>(
    sweep: &Sweep,
    explore: &Explore,
    first: u64,
    shard: Option<Shard>,
    command: &str,
    test: &F,
) -> (SweepReport, Campaign)
where
    F: Fn(&Case) -> Result<Report<T>, Failure> + Sync,
{
    let shard_name = shard.map_or(String::new(), |s| format!("/{s}"));
    let mut rng = SimRng::stream(explore.campaign_seed, &format!("explore{shard_name}"));
    let mut progress = crate::sweep::Progress::new(&sweep.name, explore.runs, sweep.progress);
    // Forked regressions run first, as a sweep's regressions do.
    let mut queued: Vec<Candidate> = match &sweep.regressions {
        // Checked by `Sweep::run` before the campaign starts.
        Some(path) => crate::sweep::read_forked_regressions(path)
            .unwrap_or_default()
            .into_iter()
            .map(|(seed, forks)| Candidate { seed, forks })
            .collect(),
        None => Vec::new(),
    };
    let mut key_ids: BTreeMap<String, usize> = BTreeMap::new();
    let mut hits: Vec<u64> = Vec::new();
    let mut keys: BTreeMap<String, KeyStat> = BTreeMap::new();
    let mut corpus: Vec<Kept> = Vec::new();
    let mut entries: Vec<CorpusEntry> = Vec::new();
    let mut targets: BTreeMap<String, Option<(u64, Instant)>> = BTreeMap::new();
    let mut coverage: BTreeMap<String, Coverage> = BTreeMap::new();
    let mut curve = Vec::new();
    let mut fresh_position = 0u64;
    let mut runs = 0u64;
    let mut generations = 0u64;
    let mut simulated = Duration::ZERO;
    let mut stopped_by = "run budget";
    let mut found: Option<(Failure, Forks, u64)> = None;
    let mut wall_to_failure = Duration::ZERO;
    let mut simulated_to_failure = Duration::ZERO;
    while runs < explore.runs {
        if let Some(budget) = explore.wall.or(sweep.time_budget) {
            if progress.elapsed() > budget {
                stopped_by = "wall budget";
                break;
            }
        }
        let size = (explore.runs - runs).min(explore.batch as u64) as usize;
        let mut batch: Vec<Candidate> = Vec::with_capacity(size);
        while batch.len() < size {
            if !queued.is_empty() {
                batch.push(queued.remove(0));
                continue;
            }
            let fresh = !explore.guided
                || corpus.is_empty()
                || generations < explore.warmup
                || rng.chance(explore.fresh);
            if fresh {
                let seed = loop {
                    let position = fresh_position;
                    fresh_position += 1;
                    if shard.is_none_or(|s| s.owns(position)) {
                        break Seed::new(first.wrapping_add(position));
                    }
                };
                batch.push(Candidate {
                    seed,
                    forks: Forks::none(),
                });
            } else {
                batch.push(child(&mut rng, &mut corpus, &hits));
            }
        }
        let finished = run_batch(sweep, &batch, command, test);
        generations += 1;
        let wall = progress.elapsed();
        for (candidate, done) in batch.into_iter().zip(finished) {
            let run = runs;
            runs += 1;
            let (elapsed, run_coverage, failure) = match done.outcome {
                Ok(r) => (r.elapsed, r.coverage, None),
                Err(failure) => (
                    failure.details().time.as_duration(),
                    failure.details().coverage.clone(),
                    Some(failure),
                ),
            };
            simulated += elapsed;
            for (name, c) in &run_coverage {
                coverage.entry(name.clone()).or_default().merge(*c);
                if c.sometimes {
                    let target = targets.entry(name.clone()).or_insert(None);
                    if target.is_none() && c.held > 0 {
                        let at = done
                            .reached
                            .keys
                            .get(&format!("sometimes:{name}"))
                            .copied()
                            .unwrap_or(Instant::ZERO);
                        *target = Some((run, at));
                    }
                }
            }
            let mut kept_keys = Vec::with_capacity(done.reached.keys.len());
            let mut new_keys = 0u64;
            for (key, at) in &done.reached.keys {
                let id = match key_ids.get(key) {
                    Some(id) => *id,
                    None => {
                        let id = hits.len();
                        key_ids.insert(key.clone(), id);
                        hits.push(0);
                        id
                    }
                };
                if hits[id] == 0 {
                    new_keys += 1;
                    keys.insert(
                        key.clone(),
                        KeyStat {
                            runs: 0,
                            first_run: run,
                            first_at: *at,
                        },
                    );
                }
                hits[id] += 1;
                if let Some(stat) = keys.get_mut(key) {
                    stat.runs += 1;
                }
                kept_keys.push((id, *at));
            }
            if new_keys > 0 && explore.guided {
                kept_keys.sort_by_key(|(id, at)| (*at, *id));
                entries.push(CorpusEntry {
                    seed: candidate.seed,
                    forks: candidate.forks.clone(),
                    run,
                    new_keys,
                });
                corpus.push(Kept {
                    seed: candidate.seed,
                    forks: candidate.forks.clone(),
                    keys: kept_keys,
                    picked: 0,
                });
            }
            if let (Some(failure), None) = (failure, &found) {
                simulated_to_failure = simulated;
                wall_to_failure = wall;
                found = Some((failure, candidate.forks, run));
            }
        }
        curve.push(CurvePoint {
            runs,
            wall,
            keys: keys.len() as u64,
        });
        progress.update(runs, u64::from(found.is_some()));
        if found.is_some() && sweep.stop_on_failure {
            stopped_by = "first failure";
            break;
        }
    }
    progress.finish();
    if found.is_none() {
        simulated_to_failure = simulated;
        wall_to_failure = progress.elapsed();
    }
    let wall = progress.elapsed();
    let first_failure_run = found.as_ref().map(|(_, _, run)| *run);
    let failures = found
        .map(|(failure, forks, run)| vec![sweep.explain(failure, &forks, run, None, command, test)])
        .unwrap_or_default();
    let campaign = Campaign {
        campaign_seed: explore.campaign_seed,
        guided: explore.guided,
        runs,
        generations,
        stopped_by,
        corpus: entries,
        keys,
        curve,
        blind_curve: None,
        targets,
        first_failure_run,
        simulated_to_failure,
        wall_to_failure,
        plot: None,
    };
    let report = SweepReport {
        name: sweep.name.clone(),
        seeds_run: runs,
        seeds_planned: explore.runs,
        shard,
        failures,
        wall,
        simulated,
        coverage,
        stopped_early: stopped_by != "run budget",
        audited: 0,
        exploration: None,
        warnings: Vec::new(),
    };
    (report, campaign)
}

/// Chooses a parent (more energy for rarer coverage, less for parents
/// picked often) and forks it at, or just before, the instant it reached
/// one of its rarer keys.
fn child(rng: &mut SimRng, corpus: &mut [Kept], hits: &[u64]) -> Candidate {
    let rarity = |id: usize| 1.0 / hits[id].max(1) as f64;
    let energy: Vec<f64> = corpus
        .iter()
        .map(|kept| {
            let rare: f64 = kept.keys.iter().map(|(id, _)| rarity(*id)).sum();
            rare / (1.0 + kept.picked as f64).sqrt()
        })
        .collect();
    let parent = pick(rng, &energy);
    let kept = &mut corpus[parent];
    kept.picked += 1;
    let weights: Vec<f64> = kept
        .keys
        .iter()
        .map(|(id, _)| rarity(*id) * rarity(*id))
        .collect();
    let (_, at) = kept.keys[pick(rng, &weights)];
    let at = at.as_duration();
    // Right after the instant (the rare event replays, its future is new),
    // or up to a second before it (another way into the same state).
    let fork_at = if rng.chance(0.5) {
        at + Duration::from_nanos(1)
    } else {
        let back = at.min(Duration::from_secs(1));
        let nanos = u64::try_from(back.as_nanos()).unwrap_or(u64::MAX);
        at - Duration::from_nanos(rng.below(nanos.max(1)))
    };
    let seed = Seed::new(rand_core::RngCore::next_u64(rng));
    Candidate {
        seed: kept.seed,
        forks: kept.forks.fork_at(fork_at, seed),
    }
}

/// An index drawn with probability proportional to `weights`.
fn pick(rng: &mut SimRng, weights: &[f64]) -> usize {
    let total: f64 = weights.iter().sum();
    if total <= 0.0 || !total.is_finite() {
        return rng.below(weights.len() as u64) as usize;
    }
    let mut target = rng.unit_f64() * total;
    for (i, w) in weights.iter().enumerate() {
        if target < *w {
            return i;
        }
        target -= w;
    }
    weights.len() - 1
}

/// Runs a generation on the sweep's threads; results in batch order.
fn run_batch<T, F>(sweep: &Sweep, batch: &[Candidate], command: &str, test: &F) -> Vec<Finished>
where
    F: Fn(&Case) -> Result<Report<T>, Failure> + Sync,
{
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Finished>>> =
        Mutex::new((0..batch.len()).map(|_| None).collect());
    let worker = || {
        loop {
            let index = next.fetch_add(1, Ordering::Relaxed);
            let Some(candidate) = batch.get(index) else {
                break;
            };
            let sink = Arc::new(Mutex::new(Reached::default()));
            let mut case = sweep
                .case(candidate.seed, None, false, command)
                .with_forks(candidate.forks.clone());
            case.sink = Some(sink.clone());
            let outcome = run_case(test, &case);
            let reached = std::mem::take(&mut *sink.lock().expect("coverage sink lock"));
            results.lock().expect("results lock")[index] = Some(Finished { outcome, reached });
        }
    };
    let threads = sweep.threads.min(batch.len()).max(1);
    if threads == 1 {
        worker();
    } else {
        std::thread::scope(|scope| {
            for _ in 0..threads {
                scope.spawn(worker);
            }
        });
    }
    results
        .into_inner()
        .expect("results lock")
        .into_iter()
        .map(|r| r.expect("every candidate ran"))
        .collect()
}
