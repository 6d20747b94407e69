//! The linearizability checker: partitions, budgets, threads, batches.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use super::search::{Budget, PartitionOutcome, Workspace};
use super::{CheckResult, History, Model, Partition};

/// The budgets and parallelism of a [`Checker`].
///
/// Budgets apply to each partition's search separately. When one runs out, that
/// partition is reported [`Undecided`](super::Undecided) instead of hanging or
/// exhausting memory. Steps and memo entries are deterministic budgets; time is not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckerOptions {
    /// The wall-clock time a partition may take; `None`: unlimited.
    pub time_max: Option<Duration>,
    /// The model steps a partition may take; `None`: unlimited.
    pub steps_max: Option<u64>,
    /// The memo entries (explored pairs of linearized set and state) a partition may
    /// hold: the memory budget. Each costs about `operations / 8` bytes plus the size of
    /// a state plus some 24 bytes. It also bounds time: a search takes at most about
    /// this many entries times the number of concurrent operations in steps.
    pub memo_entries_max: usize,
    /// How many threads check partitions at once; 0 means one per available core.
    pub threads: usize,
}

impl Default for CheckerOptions {
    /// No time or step limit, 2²¹ memo entries (about 200 MB for a partition of a few
    /// hundred operations with small states, reached in a few seconds), and every core.
    fn default() -> Self {
        CheckerOptions {
            time_max: None,
            steps_max: None,
            memo_entries_max: 1 << 21,
            threads: 0,
        }
    }
}

impl CheckerOptions {
    fn budget(&self) -> Budget {
        Budget {
            time_max: self.time_max,
            steps_max: self.steps_max,
            memo_entries_max: self.memo_entries_max,
        }
    }

    fn thread_count(&self) -> usize {
        match self.threads {
            0 => std::thread::available_parallelism().map_or(1, |count| count.get()),
            threads => threads,
        }
    }
}

/// Checks histories for linearizability against a [`Model`], keeping its search
/// structures between checks so a sweep's many histories do not allocate them again.
///
/// The model's partitions are checked in the model's order, several at a time on
/// different threads; the first illegal partition in that order is reported, and
/// partitions after it are not searched further. The result does not depend on the
/// number of threads (unless a time budget runs out).
///
/// The search structures grow to fit the largest partition checked, and stay allocated
/// until the checker is dropped.
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
    /// Checks one history, its partitions in parallel.
    ///
    /// # Panics
    ///
    /// Panics if the model's [`partition`](Model::partition) names an operation that is
    /// not in the history, or names one twice.
    pub fn check(&mut self, history: &History<M::Input, M::Output>) -> CheckResult {
        let partitions = partitions(&self.model, history);
        let threads = self.options.thread_count().min(partitions.len()).max(1);
        self.grow_workspaces(threads);
        let budget = self.options.budget();
        let model = &self.model;
        let next_partition = AtomicUsize::new(0);
        let illegal_first = AtomicUsize::new(usize::MAX);
        let work = |workspace: &mut Workspace<M::State>| {
            let mut outcomes = Vec::new();
            loop {
                let index = next_partition.fetch_add(1, Ordering::Relaxed);
                if index >= partitions.len() || index > illegal_first.load(Ordering::Relaxed) {
                    return outcomes;
                }
                let cancelled = || illegal_first.load(Ordering::Relaxed) < index;
                let outcome = workspace.check_partition(
                    model,
                    history,
                    index,
                    &partitions[index],
                    budget,
                    &cancelled,
                );
                if matches!(outcome, PartitionOutcome::Illegal(_)) {
                    illegal_first.fetch_min(index, Ordering::Relaxed);
                }
                outcomes.push((index, outcome));
            }
        };
        let outcomes = fan_out(&mut self.workspaces[..threads], work);
        combine(outcomes)
    }

    /// Checks many histories (one per seed of a sweep, say), several at a time, each
    /// one's partitions in order; the results come in the order of `histories`.
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
        let threads = self.options.thread_count().min(histories.len()).max(1);
        self.grow_workspaces(threads);
        let budget = self.options.budget();
        let model = &self.model;
        let next_history = AtomicUsize::new(0);
        let work = |workspace: &mut Workspace<M::State>| {
            let mut results = Vec::new();
            loop {
                let index = next_history.fetch_add(1, Ordering::Relaxed);
                let Some(history) = histories.get(index) else {
                    return results;
                };
                let mut outcomes = Vec::new();
                for (part, partition) in partitions(model, history).iter().enumerate() {
                    let outcome =
                        workspace
                            .check_partition(model, history, part, partition, budget, &|| false);
                    let illegal = matches!(outcome, PartitionOutcome::Illegal(_));
                    outcomes.push((part, outcome));
                    if illegal {
                        break;
                    }
                }
                results.push((index, combine(outcomes)));
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

/// The result of a history from its partitions' outcomes, in any order.
fn combine(mut outcomes: Vec<(usize, PartitionOutcome)>) -> CheckResult {
    outcomes.sort_by_key(|(index, _)| *index);
    let mut undecided = Vec::new();
    for (_, outcome) in outcomes {
        match outcome {
            PartitionOutcome::Illegal(counterexample) => {
                return CheckResult::NotLinearizable(counterexample);
            }
            PartitionOutcome::Undecided(part) => undecided.push(part),
            PartitionOutcome::Linearizable => {}
            PartitionOutcome::Cancelled => {
                unreachable!("a partition is cancelled only after an illegal one before it")
            }
        }
    }
    if undecided.is_empty() {
        CheckResult::Linearizable
    } else {
        CheckResult::Unknown(undecided)
    }
}
