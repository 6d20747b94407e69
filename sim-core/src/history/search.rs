//! The search for a linearization of one partition: Wing & Gong's algorithm as
//! improved by Lowe, with the memoization of Porcupine's `checkSingle`.
//!
//! The partition's calls and returns are sorted by time into a doubly linked list.
//! At each point of the search, the operations that may come next are those whose
//! call precedes the first return still in the list (an operation cannot be
//! linearized after one that returned before it was called). The search tries them
//! one by one: a try is a model step that is legal and leads to a (linearized set,
//! state) pair not explored before; it "lifts" the operation's call and return out
//! of the list and goes on from there. When no operation can come next, it undoes
//! its last choice and tries the next one. Operations whose outcome is unknown return
//! at infinity, after everything, and the search succeeds as soon as every operation
//! that completed ok is linearized, so they may be linearized anywhere after their
//! call, or never.
//!
//! Two refinements, neither of which changes the answer, only how soon it is found:
//!
//! - The operations that may come next are tried in the order of their returns,
//!   earliest first (Lowe tries them in call order). An operation that runs long is
//!   tried late, so a long write is not linearized early and then found wrong only
//!   after a deep search.
//! - An operation the model calls read-only ([`Model::is_read_only`]: it never
//!   changes a state) that may come next and is legal now is linearized at once, and
//!   nothing else is tried at that point. If some linearization places it later,
//!   moving it to the front keeps every step legal (it is legal now, and removing it
//!   later changes no state) and respects real time (nothing remaining returned before
//!   its call), so a linearization exists with it first whenever one exists at all.
//!   This keeps concurrent reads from multiplying the explored states by every subset
//!   of them.

use std::time::Duration;

use super::verdict::{
    Counterexample, Linearized, Undecided, UndecidedReason, Unplaced, UnplacedReason,
};
use super::{History, Model, Next, OpId, Partition, memo::Memo};

const HEAD: u32 = 0;
const NIL: u32 = u32::MAX;
/// Cancellation and the clock are looked at once per this many model steps.
const POLL_STEPS: u64 = 1024;

/// The budget of one partition's search.
#[derive(Clone, Copy, Debug)]
pub(super) struct Budget {
    pub(super) time_max: Option<Duration>,
    pub(super) steps_max: Option<u64>,
    pub(super) memo_entries_max: usize,
    pub(super) memory_max: usize,
}

impl Budget {
    /// Whether the memo may not grow further.
    fn memo_full<S>(&self, memo: &Memo<S>) -> bool {
        memo.len() >= self.memo_entries_max || memo.bytes() >= self.memory_max
    }
}

/// An operation as the model steps it: its input, and its output if it completed ok.
struct Step<'h, I, O> {
    input: &'h I,
    output: Option<&'h O>,
}

/// How one partition's search ended.
#[derive(Debug)]
pub(super) enum PartitionOutcome {
    Linearizable,
    Illegal(Counterexample),
    Undecided(Undecided),
    /// Another worker found an illegal partition earlier in the order.
    Cancelled,
}

/// A choice on the search stack: the call entry linearized, the state before it,
/// where its untried alternative states (for a nondeterministic model) start in
/// `alternatives`, where the candidates of the point it was chosen at start in
/// `candidates` and which of them to try next, and whether it was forced (nothing
/// else needs trying at that point).
#[derive(Debug)]
struct Frame<S> {
    call: u32,
    before: S,
    alternatives_start: usize,
    candidates_start: usize,
    candidates_next: usize,
    forced: bool,
}

/// The search's structures, kept between partitions and histories so that checking
/// many of them does not allocate again.
#[derive(Debug)]
pub(super) struct Workspace<S> {
    /// Per local operation: its id in the history.
    op_ids: Vec<OpId>,
    /// Per local operation: whether it completed ok (and so must be linearized).
    op_required: Vec<bool>,
    /// Per local operation: its call entry.
    op_call: Vec<u32>,
    /// Sort keys of the entries: (at infinity, time, is return, local operation).
    order: Vec<(bool, u64, bool, u32)>,
    /// Per entry (0 is the head): its local operation, whether it is a call, the
    /// return entry matching a call, and the list links.
    entry_op: Vec<u32>,
    entry_call: Vec<bool>,
    entry_match: Vec<u32>,
    next: Vec<u32>,
    prev: Vec<u32>,
    /// The linearized set, as a bitset over local operations.
    bits: Vec<u64>,
    frames: Vec<Frame<S>>,
    alternatives: Vec<S>,
    /// The call entries that may come next, per point on the search stack.
    candidates: Vec<u32>,
    memo: Memo<S>,
    /// The deepest dead end seen: its local operations, and the state after each.
    best_ops: Vec<u32>,
    best_states: Vec<S>,
}

impl<S> Default for Workspace<S> {
    fn default() -> Self {
        Workspace {
            op_ids: Vec::new(),
            op_required: Vec::new(),
            op_call: Vec::new(),
            order: Vec::new(),
            entry_op: Vec::new(),
            entry_call: Vec::new(),
            entry_match: Vec::new(),
            next: Vec::new(),
            prev: Vec::new(),
            bits: Vec::new(),
            frames: Vec::new(),
            alternatives: Vec::new(),
            candidates: Vec::new(),
            memo: Memo::default(),
            best_ops: Vec::new(),
            best_states: Vec::new(),
        }
    }
}

/// A well-mixed 64-bit value per operation (SplitMix64), XORed into the hash of a
/// linearized set so that the hash follows each change in constant time.
fn zobrist(local: u32) -> u64 {
    let mut z = u64::from(local)
        .wrapping_add(1)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl<S: Clone + Eq + std::hash::Hash> Workspace<S> {
    /// Searches for a linearization of `partition` (the `index`-th) of `history`.
    ///
    /// `cancelled` is polled now and then; when it says so the search stops.
    pub(super) fn check_partition<M>(
        &mut self,
        model: &M,
        history: &History<M::Input, M::Output>,
        index: usize,
        partition: &Partition,
        budget: Budget,
        cancelled: &dyn Fn() -> bool,
    ) -> PartitionOutcome
    where
        M: Model<State = S>,
    {
        self.prepare(history, partition);
        let mut remaining = self
            .op_required
            .iter()
            .filter(|required| **required)
            .count();
        let mut state = model.init();
        let mut bits_hash = 0u64;
        let mut steps = 0u64;
        #[allow(
            clippy::disallowed_methods,
            reason = "the checker's time budget is wall-clock time, outside any simulation"
        )]
        let started = budget.time_max.map(|_| std::time::Instant::now());
        let operations = self.op_ids.len();
        let undecided = |reason, steps, memo: &Memo<S>| {
            PartitionOutcome::Undecided(Undecided {
                partition: index,
                label: partition.label.clone(),
                operations,
                reason,
                steps,
                memo_entries: memo.len(),
                memo_bytes: memo.bytes(),
            })
        };
        let state_bytes = |state: &S| model.state_bytes(state);
        // The current point's candidates are `candidates[start..]`; `cursor` is the next to try.
        let mut start = 0;
        let mut cursor = 0;
        // Whether the search just moved to a new point, whose candidates are not listed yet.
        let mut arrived = true;
        loop {
            if remaining == 0 {
                return PartitionOutcome::Linearizable;
            }
            if arrived {
                arrived = false;
                start = self.candidates.len();
                self.list_candidates();
                cursor = start;
                // A legal read-only candidate is taken at once, and alone.
                let read_only = (start..self.candidates.len()).find(|&position| {
                    let operation = self.operation(history, self.candidates[position]);
                    model.is_read_only(operation.input, operation.output)
                        && !model
                            .step(&state, operation.input, operation.output)
                            .is_illegal()
                });
                if let Some(position) = read_only {
                    cursor = self.candidates.len();
                    let call = self.candidates[position];
                    let local = self.entry_op[call as usize];
                    if budget.memo_full(&self.memo) {
                        return undecided(UndecidedReason::Memory, steps, &self.memo);
                    }
                    self.set_bit(local);
                    if self
                        .memo
                        .insert(bits_hash ^ zobrist(local), &self.bits, &state, state_bytes)
                    {
                        let before = state.clone();
                        self.push(
                            call,
                            before,
                            start,
                            cursor,
                            true,
                            &mut bits_hash,
                            &mut remaining,
                        );
                        arrived = true;
                    } else {
                        // Explored before: so was everything from this point.
                        self.clear_bit(local);
                    }
                    continue;
                }
            }
            if cursor < self.candidates.len() {
                let call = self.candidates[cursor];
                cursor += 1;
                if budget.steps_max.is_some_and(|max| steps >= max) {
                    return undecided(UndecidedReason::Steps, steps, &self.memo);
                }
                steps += 1;
                if steps % POLL_STEPS == 0 {
                    if cancelled() {
                        return PartitionOutcome::Cancelled;
                    }
                    if let (Some(started), Some(max)) = (started, budget.time_max) {
                        if started.elapsed() > max {
                            return undecided(UndecidedReason::Time, steps, &self.memo);
                        }
                    }
                }
                let local = self.entry_op[call as usize];
                let operation = self.operation(history, call);
                let next = model.step(&state, operation.input, operation.output);
                if next.is_illegal() {
                    continue;
                }
                if budget.memo_full(&self.memo) {
                    return undecided(UndecidedReason::Memory, steps, &self.memo);
                }
                let alternatives_start = self.alternatives.len();
                let chosen = match next {
                    Next::Illegal => None,
                    Next::One(candidate) => {
                        self.set_bit(local);
                        if self.memo.insert(
                            bits_hash ^ zobrist(local),
                            &self.bits,
                            &candidate,
                            state_bytes,
                        ) {
                            Some(candidate)
                        } else {
                            self.clear_bit(local);
                            None
                        }
                    }
                    Next::Many(candidates) => {
                        self.alternatives.extend(candidates);
                        self.take_alternative(local, bits_hash, alternatives_start, &state_bytes)
                    }
                };
                if let Some(after) = chosen {
                    let before = std::mem::replace(&mut state, after);
                    self.push(
                        call,
                        before,
                        start,
                        cursor,
                        false,
                        &mut bits_hash,
                        &mut remaining,
                    );
                    self.frames
                        .last_mut()
                        .expect("just pushed")
                        .alternatives_start = alternatives_start;
                    arrived = true;
                }
                continue;
            }
            // Nothing can come next: undo choices until one has an untried successor.
            if self.frames.len() > self.best_ops.len() {
                self.remember_best(&state);
            }
            loop {
                self.candidates.truncate(start);
                let Some(frame) = self.frames.pop() else {
                    return PartitionOutcome::Illegal(
                        self.counterexample(model, history, index, partition),
                    );
                };
                let local = self.entry_op[frame.call as usize];
                state = frame.before;
                self.clear_bit(local);
                bits_hash ^= zobrist(local);
                self.unlift(frame.call);
                remaining += usize::from(self.op_required[local as usize]);
                start = frame.candidates_start;
                cursor = frame.candidates_next;
                if frame.forced {
                    continue;
                }
                if self.alternatives.len() > frame.alternatives_start {
                    if budget.memo_full(&self.memo) {
                        return undecided(UndecidedReason::Memory, steps, &self.memo);
                    }
                    if let Some(after) = self.take_alternative(
                        local,
                        bits_hash,
                        frame.alternatives_start,
                        &state_bytes,
                    ) {
                        let before = std::mem::replace(&mut state, after);
                        self.push(
                            frame.call,
                            before,
                            start,
                            cursor,
                            false,
                            &mut bits_hash,
                            &mut remaining,
                        );
                        self.frames
                            .last_mut()
                            .expect("just pushed")
                            .alternatives_start = frame.alternatives_start;
                        arrived = true;
                    }
                }
                break;
            }
        }
    }

    /// The input and, if it completed ok, the output of the operation of a call entry.
    fn operation<'h, I, O>(&self, history: &'h History<I, O>, call: u32) -> Step<'h, I, O> {
        let local = self.entry_op[call as usize] as usize;
        let operation = history.operation(self.op_ids[local]);
        let output = if self.op_required[local] {
            operation.output()
        } else {
            None
        };
        Step {
            input: &operation.input,
            output,
        }
    }

    /// Lists the calls that may come next (those before the first return), the one
    /// returning first first, above the candidates of the points below.
    fn list_candidates(&mut self) {
        let start = self.candidates.len();
        let mut entry = self.next[HEAD as usize];
        while entry != NIL && self.entry_call[entry as usize] {
            self.candidates.push(entry);
            entry = self.next[entry as usize];
        }
        let entry_match = &self.entry_match;
        self.candidates[start..].sort_unstable_by_key(|call| entry_match[*call as usize]);
    }

    /// Linearizes `call` (its state already set), remembering how to undo it.
    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        call: u32,
        before: S,
        candidates_start: usize,
        candidates_next: usize,
        forced: bool,
        bits_hash: &mut u64,
        remaining: &mut usize,
    ) {
        let local = self.entry_op[call as usize];
        self.frames.push(Frame {
            call,
            before,
            alternatives_start: self.alternatives.len(),
            candidates_start,
            candidates_next,
            forced,
        });
        *bits_hash ^= zobrist(local);
        self.lift(call);
        *remaining -= usize::from(self.op_required[local as usize]);
    }

    /// Pops untried alternatives of `local` until one is new to the memo; on success
    /// the operation's bit is left set.
    fn take_alternative(
        &mut self,
        local: u32,
        bits_hash: u64,
        start: usize,
        state_bytes: &dyn Fn(&S) -> usize,
    ) -> Option<S> {
        self.set_bit(local);
        while self.alternatives.len() > start {
            let candidate = self.alternatives.pop().expect("an alternative above start");
            if self.memo.insert(
                bits_hash ^ zobrist(local),
                &self.bits,
                &candidate,
                state_bytes,
            ) {
                return Some(candidate);
            }
        }
        self.clear_bit(local);
        None
    }

    fn set_bit(&mut self, local: u32) {
        self.bits[local as usize / 64] |= 1 << (local % 64);
    }

    fn clear_bit(&mut self, local: u32) {
        self.bits[local as usize / 64] &= !(1 << (local % 64));
    }

    /// Removes a call entry and its return from the list.
    fn lift(&mut self, call: u32) {
        let (c, m) = (call as usize, self.entry_match[call as usize]);
        let (p, n) = (self.prev[c], self.next[c]);
        self.next[p as usize] = n;
        self.prev[n as usize] = p;
        let (p, n) = (self.prev[m as usize], self.next[m as usize]);
        self.next[p as usize] = n;
        if n != NIL {
            self.prev[n as usize] = p;
        }
    }

    /// Puts back what [`Workspace::lift`] removed (in the reverse order of lifting).
    fn unlift(&mut self, call: u32) {
        let (c, m) = (call as usize, self.entry_match[call as usize]);
        let (p, n) = (self.prev[m as usize], self.next[m as usize]);
        self.next[p as usize] = m;
        if n != NIL {
            self.prev[n as usize] = m;
        }
        let (p, n) = (self.prev[c], self.next[c]);
        self.next[p as usize] = call;
        self.prev[n as usize] = call;
    }

    /// Builds the entry list of a partition and empties the search structures.
    fn prepare<I, O>(&mut self, history: &History<I, O>, partition: &Partition) {
        self.op_ids.clear();
        self.op_required.clear();
        for &op in &partition.operations {
            let operation = history.operation(op);
            if !operation.is_failed() {
                self.op_ids.push(op);
                self.op_required.push(operation.is_ok());
            }
        }
        let count = self.op_ids.len();
        let count_u32 = u32::try_from(count)
            .ok()
            .filter(|count| *count < u32::MAX / 2 - 1);
        let count_u32 = count_u32.expect("a partition holds fewer than 2^31 operations");
        self.order.clear();
        for local in 0..count_u32 {
            let operation = history.operation(self.op_ids[local as usize]);
            self.order
                .push((false, operation.call.as_nanos(), false, local));
            match operation.returned() {
                Some(returned) if operation.is_ok() => {
                    self.order.push((false, returned.as_nanos(), true, local))
                }
                _ => self.order.push((true, 0, true, local)),
            }
        }
        // At equal times calls sort before returns: touching operations are concurrent.
        self.order.sort_unstable();

        let entries = 2 * count + 1;
        self.entry_op.clear();
        self.entry_op.resize(entries, NIL);
        self.entry_call.clear();
        self.entry_call.resize(entries, false);
        self.entry_match.clear();
        self.entry_match.resize(entries, NIL);
        self.op_call.clear();
        self.op_call.resize(count, NIL);
        self.next.clear();
        self.prev.clear();
        for (position, &(_, _, is_return, local)) in self.order.iter().enumerate() {
            let e = u32::try_from(position + 1).expect("entries fit in 32 bits");
            self.entry_op[e as usize] = local;
            self.entry_call[e as usize] = !is_return;
            if is_return {
                let call = self.op_call[local as usize];
                assert!(
                    call != NIL,
                    "the return of an operation sorts after its call"
                );
                self.entry_match[call as usize] = e;
            } else {
                self.op_call[local as usize] = e;
            }
        }
        for e in 0..entries {
            self.next.push(if e + 1 < entries {
                u32::try_from(e + 1).expect("entries fit in 32 bits")
            } else {
                NIL
            });
            self.prev.push(if e == 0 {
                NIL
            } else {
                u32::try_from(e - 1).expect("entries fit in 32 bits")
            });
        }
        let words = count.div_ceil(64).max(1);
        self.bits.clear();
        self.bits.resize(words, 0);
        self.memo.reset(words);
        self.frames.clear();
        self.alternatives.clear();
        self.candidates.clear();
        self.best_ops.clear();
        self.best_states.clear();
    }

    /// Records the current stack as the deepest dead end so far.
    fn remember_best(&mut self, state: &S) {
        self.best_ops.clear();
        self.best_ops.extend(
            self.frames
                .iter()
                .map(|frame| self.entry_op[frame.call as usize]),
        );
        self.best_states.clear();
        self.best_states
            .extend(self.frames.iter().skip(1).map(|frame| frame.before.clone()));
        self.best_states.push(state.clone());
    }

    /// The counterexample of a failed search, from the deepest dead end.
    fn counterexample<M: Model<State = S>>(
        &mut self,
        model: &M,
        history: &History<M::Input, M::Output>,
        index: usize,
        partition: &Partition,
    ) -> Counterexample {
        let describe = |workspace: &Self, local: u32| {
            let operation = history.operation(workspace.op_ids[local as usize]);
            model.describe_operation(&operation.input, operation.output())
        };
        let prefix = self
            .best_ops
            .iter()
            .zip(&self.best_states)
            .map(|(&local, state)| Linearized {
                op: self.op_ids[local as usize],
                description: describe(self, local),
                state: model.describe_state(state),
            })
            .collect();
        let state = self
            .best_states
            .last()
            .cloned()
            .unwrap_or_else(|| model.init());
        // Replay the prefix on the list: the calls before the first return could come next.
        for position in 0..self.best_ops.len() {
            let call = self.op_call[self.best_ops[position] as usize];
            self.lift(call);
        }
        let mut candidates = Vec::new();
        let mut entry = self.next[HEAD as usize];
        while entry != NIL && self.entry_call[entry as usize] {
            candidates.push(self.entry_op[entry as usize]);
            entry = self.next[entry as usize];
        }
        if entry != NIL {
            let blocking = self.entry_op[entry as usize];
            candidates.retain(|local| *local != blocking);
            candidates.insert(0, blocking);
        }
        let unplaced = candidates
            .into_iter()
            .map(|local| {
                let operation = history.operation(self.op_ids[local as usize]);
                let output = if self.op_required[local as usize] {
                    operation.output()
                } else {
                    None
                };
                let reason = if model.step(&state, &operation.input, output).is_illegal() {
                    UnplacedReason::Illegal
                } else {
                    UnplacedReason::DeadEnd
                };
                Unplaced {
                    op: self.op_ids[local as usize],
                    description: describe(self, local),
                    reason,
                }
            })
            .collect();
        Counterexample {
            partition: index,
            label: partition.label.clone(),
            prefix,
            state: model.describe_state(&state),
            unplaced,
            undecided: Vec::new(),
        }
    }
}
