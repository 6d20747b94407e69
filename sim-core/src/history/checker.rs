//! The linearizability checker: partitions, budgets, rounds, threads, batches.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use super::search::{Budget, PartitionOutcome, Workspace};
use super::verdict::{Undecided, UndecidedReason};
use super::{CheckResult, History, Model, Partition};

/// The budgets and parallelism of a [`Checker`].
///
/// Budgets apply to each partition's search separately. When one runs out, that
/// partition is reported [`Undecided`](super::Undecided) instead of hanging or
/// exhausting memory. Steps, memo entries and bytes are deterministic budgets; time
/// is not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckerOptions {
    /// The wall-clock time a partition may take; `None`: unlimited.
    pub time_max: Option<Duration>,
    /// The model steps a partition may take; `None`: unlimited.
    pub steps_max: Option<u64>,
    /// The memo entries (explored pairs of linearized set and state) a partition may
    /// hold. It also bounds time: a search takes at most about this many entries times
    /// the number of concurrent operations in steps.
    pub memo_entries_max: usize,
    /// The bytes a partition's memo may hold: the memory budget. An entry counts its
    /// bitset (`operations / 8` bytes, rounded up to 8), its state as the model's
    /// [`state_bytes`](super::Model::state_bytes) measures it (heap included), and its
    /// share of the index (18 bytes). Partitions checked at once on `threads`
    /// threads hold at most `threads` times this.
    pub memory_max: usize,
    /// How many threads check partitions at once; 0 means one per available core
    /// (asked of the OS once per process, and only for a history large enough to
    /// be worth threads).
    pub threads: usize,
}

impl Default for CheckerOptions {
    /// No time or step limit, 2²¹ memo entries and 256 MiB of memo per partition, and
    /// every core.
    fn default() -> Self {
        CheckerOptions {
            time_max: None,
            steps_max: None,
            memo_entries_max: 1 << 21,
            memory_max: 256 << 20,
            threads: 0,
        }
    }
}

/// Histories with fewer operations than this are checked on the calling thread:
/// starting threads would cost more than the check.
const SERIAL_OPERATIONS_MAX: usize = 1_000;
/// The step budget of a partition's first round; each next round multiplies it by
/// [`ROUND_GROWTH`].
const ROUND_STEPS_FIRST: u64 = 1 << 13;
const ROUND_GROWTH: u64 = 8;

impl CheckerOptions {
    /// The budget of a round whose step budget is `round_steps`, for a partition
    /// that already spent `spent` of wall-clock time.
    fn round_budget(&self, round_steps: u64, spent: Duration) -> Budget {
        Budget {
            time_max: self.time_max.map(|max| max.saturating_sub(spent)),
            steps_max: Some(
                self.steps_max
                    .map_or(round_steps, |max| max.min(round_steps)),
            ),
            memo_entries_max: self.memo_entries_max,
            memory_max: self.memory_max,
        }
    }

    /// The threads to use for `work` items of a history of `operations`.
    fn thread_count(&self, work: usize, operations: usize) -> usize {
        if work <= 1 || operations < SERIAL_OPERATIONS_MAX {
            return 1;
        }
        let threads = match self.threads {
            0 => cores(),
            threads => threads,
        };
        threads.min(work).max(1)
    }
}

/// The available cores, asked of the OS once per process.
fn cores() -> usize {
    static CORES: OnceLock<usize> = OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |count| count.get()))
}

/// Checks histories for linearizability against a [`Model`], keeping its search
/// structures between checks so a sweep's many histories do not allocate them again.
///
/// Partitions are searched in rounds of growing step budgets (iterative
/// deepening): every partition not yet decided gets the round's budget (8 192
/// model steps, then 8 times more each round, capped by
/// [`CheckerOptions::steps_max`]), several at a time on different threads. The
/// check stops after the first round that finds a partition not linearizable, and
/// reports the first such partition of that round in the model's order, with every
/// partition still undecided and why. So an easy failing partition is reported
/// promptly even next to one that no budget decides, and the result does not depend
/// on the number of threads (unless a time budget runs out). A partition that needs
/// many rounds is searched again from the start in each: at most about 1.2 times
/// the steps of one search with the final budget. The last partition left
/// undecided, or a history's only partition, gets its whole budget at once,
/// since nothing else can be reported before it.
///
/// Small histories (under 1 000 operations) are checked on the calling thread.
/// The search structures grow to fit the largest partition checked, and stay
/// allocated until the checker is dropped.
///
/// # Examples
///
/// ```
/// use detsim::history::{Checker, Recorder, Register, RegisterInput, RegisterOutput};
/// use detsim::time::Instant;
///
/// let recorder = Recorder::default();
/// let t = Instant::from_nanos;
/// let write = recorder.invoke_at(1, RegisterInput::Write(1), t(0));
/// recorder.ok_at(write, RegisterOutput::Written, t(10));
/// let read = recorder.invoke_at(2, RegisterInput::Read, t(20));
/// recorder.ok_at(read, RegisterOutput::Read(0), t(30)); // stale
///
/// let mut checker = Checker::new(Register::new(0));
/// let result = checker.check(&recorder.history());
/// assert!(result.is_not_linearizable());
/// println!("{result}");
/// ```
#[derive(Debug)]
pub struct Checker<M: Model> {
    model: M,
    options: CheckerOptions,
    workspaces: Vec<Workspace<M::State>>,
}

impl<M: Model> Checker<M> {
    /// A checker with the default [`CheckerOptions`].
    pub fn new(model: M) -> Self {
        Checker::with_options(model, CheckerOptions::default())
    }

    /// A checker with the given budgets and parallelism.
    pub fn with_options(model: M, options: CheckerOptions) -> Self {
        Checker {
            model,
            options,
            workspaces: Vec::new(),
        }
    }

    /// The model histories are checked against.
    pub fn model(&self) -> &M {
        &self.model
    }

    /// The budgets and parallelism.
    pub fn options(&self) -> &CheckerOptions {
        &self.options
    }
}

impl<M> Checker<M>
where
    M: Model + Sync,
    M::Input: Sync,
    M::Output: Sync,
    M::State: Send,
{
    /// Checks one history, its partitions in rounds (see [`Checker`]), in parallel
    /// when the history is large enough.
    ///
    /// # Panics
    ///
    /// Panics if the model's [`partition`](Model::partition) names an operation that is
    /// not in the history, or names one twice.
    pub fn check(&mut self, history: &History<M::Input, M::Output>) -> CheckResult {
        let partitions = partitions(&self.model, history);
        let threads = self.options.thread_count(partitions.len(), history.len());
        self.grow_workspaces(threads);
        let model = &self.model;
        let options = &self.options;
        let workspaces = &mut self.workspaces[..threads];
        deepen(options, partitions.len(), |open, budgets| {
            let next = AtomicUsize::new(0);
            let work = |workspace: &mut Workspace<M::State>| {
                let mut outcomes = Vec::new();
                loop {
                    let position = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&index) = open.get(position) else {
                        return outcomes;
                    };
                    let outcome = timed(|| {
                        workspace.check_partition(
                            model,
                            history,
                            index,
                            &partitions[index],
                            budgets[position],
                            &|| false,
                        )
                    });
                    outcomes.push((position, outcome));
                }
            };
            let mut outcomes = fan_out(workspaces, work);
            outcomes.sort_by_key(|(position, _)| *position);
            outcomes.into_iter().map(|(_, outcome)| outcome).collect()
        })
    }

    /// Checks many histories (one per seed of a sweep, say), several at a time, each
    /// one's partitions in rounds on one thread; the results come in the order of
    /// `histories`, and each is the result [`Checker::check`] gives.
    ///
    /// # Panics
    ///
    /// As [`Checker::check`].
    pub fn check_batch<'h>(
        &mut self,
        histories: impl IntoIterator<Item = &'h History<M::Input, M::Output>>,
    ) -> Vec<CheckResult>
    where
        M::Input: 'h,
        M::Output: 'h,
    {
        let histories: Vec<_> = histories.into_iter().collect();
        let operations = histories.iter().map(|history| history.len()).sum();
        let threads = self.options.thread_count(histories.len(), operations);
        self.grow_workspaces(threads);
        let model = &self.model;
        let options = &self.options;
        let next_history = AtomicUsize::new(0);
        let work = |workspace: &mut Workspace<M::State>| {
            let mut results = Vec::new();
            loop {
                let index = next_history.fetch_add(1, Ordering::Relaxed);
                let Some(history) = histories.get(index) else {
                    return results;
                };
                let partitions = partitions(model, history);
                let result = deepen(options, partitions.len(), |open, budgets| {
                    open.iter()
                        .zip(budgets)
                        .map(|(&part, &budget)| {
                            timed(|| {
                                workspace.check_partition(
                                    model,
                                    history,
                                    part,
                                    &partitions[part],
                                    budget,
                                    &|| false,
                                )
                            })
                        })
                        .collect()
                });
                results.push((index, result));
            }
        };
        let mut results = fan_out(&mut self.workspaces[..threads], work);
        results.sort_by_key(|(index, _)| *index);
        results.into_iter().map(|(_, result)| result).collect()
    }

    fn grow_workspaces(&mut self, count: usize) {
        while self.workspaces.len() < count {
            self.workspaces.push(Workspace::default());
        }
    }
}

/// Runs `search` and measures its wall-clock time (for the time budget only).
fn timed(search: impl FnOnce() -> PartitionOutcome) -> (PartitionOutcome, Duration) {
    #[allow(
        clippy::disallowed_methods,
        reason = "the checker's time budget is wall-clock time, outside any simulation"
    )]
    let started = std::time::Instant::now();
    let outcome = search();
    (outcome, started.elapsed())
}

/// Iterative deepening over `count` partitions: `round(open, budgets)` searches the
/// partitions `open` (ascending), each with its budget, and returns their outcomes
/// and times in the same order.
fn deepen(
    options: &CheckerOptions,
    count: usize,
    mut round: impl FnMut(&[usize], &[Budget]) -> Vec<(PartitionOutcome, Duration)>,
) -> CheckResult {
    let mut open: Vec<usize> = (0..count).collect();
    let mut spent = vec![Duration::ZERO; count];
    let mut undecided: Vec<Undecided> = Vec::new();
    let mut round_steps = ROUND_STEPS_FIRST;
    while !open.is_empty() {
        // A partition left alone (or a history's only one) gets its whole
        // budget at once: no other partition can be reported before it, and
        // the search it finishes is the one a big enough round would make.
        if open.len() == 1 {
            round_steps = options.steps_max.unwrap_or(u64::MAX);
        }
        // The last round: the user's step budget is reached.
        let last = options.steps_max.is_some_and(|max| max <= round_steps);
        let budgets: Vec<Budget> = open
            .iter()
            .map(|&index| options.round_budget(round_steps, spent[index]))
            .collect();
        let outcomes = round(&open, &budgets);
        assert_eq!(outcomes.len(), open.len(), "one outcome per open partition");
        let mut illegal = None;
        let mut still_open = Vec::new();
        let mut paused = Vec::new();
        for (&index, (outcome, elapsed)) in open.iter().zip(outcomes) {
            spent[index] += elapsed;
            match outcome {
                PartitionOutcome::Linearizable => {}
                PartitionOutcome::Illegal(counterexample) => {
                    illegal.get_or_insert(counterexample);
                }
                PartitionOutcome::Undecided(part)
                    if part.reason == UndecidedReason::Steps && !last =>
                {
                    still_open.push(index);
                    paused.push(part);
                }
                PartitionOutcome::Undecided(part) => undecided.push(part),
                PartitionOutcome::Cancelled => {
                    unreachable!("rounds are never cancelled")
                }
            }
        }
        if let Some(mut counterexample) = illegal {
            for part in &mut paused {
                part.reason = UndecidedReason::Stopped;
            }
            undecided.extend(paused);
            undecided.sort_by_key(|part| part.partition);
            counterexample.undecided = undecided;
            return CheckResult::NotLinearizable(counterexample);
        }
        open = still_open;
        round_steps = round_steps.saturating_mul(ROUND_GROWTH);
    }
    if undecided.is_empty() {
        CheckResult::Linearizable
    } else {
        undecided.sort_by_key(|part| part.partition);
        CheckResult::Unknown(undecided)
    }
}

/// Runs `work` on each workspace, one thread per workspace (none for just
/// one), and concatenates the results in workspace order.
fn fan_out<W: Send, R: Send>(
    workspaces: &mut [W],
    work: impl Fn(&mut W) -> Vec<R> + Sync,
) -> Vec<R> {
    if let [workspace] = workspaces {
        return work(workspace);
    }
    std::thread::scope(|scope| {
        let handles: Vec<_> = workspaces
            .iter_mut()
            .map(|workspace| scope.spawn(|| work(workspace)))
            .collect();
        handles
            .into_iter()
            .flat_map(|handle| {
                handle
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

/// Checks `history` against `model` with the default [`CheckerOptions`].
///
/// To check many histories, or to set a budget, keep a [`Checker`] instead.
///
/// # Examples
///
/// ```
/// use detsim::history::{check, History, KeyValue, KvInput, KvOutput};
///
/// let history = History::<KvInput<String, u32>, KvOutput<u32>>::default();
/// assert!(check(&KeyValue::default(), &history).is_linearizable());
/// ```
///
/// # Panics
///
/// As [`Checker::check`].
pub fn check<M>(model: &M, history: &History<M::Input, M::Output>) -> CheckResult
where
    M: Model + Sync,
    M::Input: Sync,
    M::Output: Sync,
    M::State: Send,
{
    Checker::new(model).check(history)
}

/// The model's partitions of `history`, checked to name each operation at most once.
pub(super) fn partitions<M: Model>(
    model: &M,
    history: &History<M::Input, M::Output>,
) -> Vec<Partition> {
    let partitions = model.partition(history.operations());
    let mut seen = vec![false; history.len()];
    for partition in &partitions {
        for &op in &partition.operations {
            let Some(seen) = seen.get_mut(op.index()) else {
                panic!(
                    "the model's partition names {op}, but the history has {} operations",
                    history.len()
                );
            };
            assert!(
                !*seen,
                "the model's partition names {op} twice; put each operation in one partition"
            );
            *seen = true;
        }
    }
    partitions
}
