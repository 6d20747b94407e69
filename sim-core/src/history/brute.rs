//! A brute-force reference checker, slow and obviously right, to test the fast one against.

use super::{History, Model, Operation, Outcome, checker::partitions};

/// The most operations of one partition [`check_brute_force`] accepts.
pub const BRUTE_FORCE_OPERATIONS_MAX: usize = 12;

/// Whether `history` is linearizable, by trying every order of every partition's
/// operations consistent with real time (and every subset of the operations whose
/// outcome is unknown), with no memoization and no pruning beyond real time.
///
/// Exponential: meant for histories of a handful of operations per partition, to
/// cross-check [`Checker`](super::Checker) and models in tests.
///
/// # Examples
///
/// ```
/// use detsim::history::{check_brute_force, Recorder, Register, RegisterInput, RegisterOutput};
/// use detsim::time::Instant;
///
/// let recorder = Recorder::default();
/// let read = recorder.invoke_at(1, RegisterInput::Read, Instant::from_nanos(0));
/// recorder.ok_at(read, RegisterOutput::Read(7), Instant::from_nanos(1));
/// assert!(!check_brute_force(&Register::new(0), &recorder.history()));
/// ```
///
/// # Panics
///
/// Panics if a partition has more than [`BRUTE_FORCE_OPERATIONS_MAX`] operations that
/// did not fail, or if the model's partition is invalid (as [`Checker::check`](super::Checker::check)).
pub fn check_brute_force<M: Model>(model: &M, history: &History<M::Input, M::Output>) -> bool {
    partitions(model, history).iter().all(|partition| {
        let operations: Vec<_> = partition
            .operations
            .iter()
            .map(|&op| history.operation(op))
            .filter(|operation| !operation.is_failed())
            .collect();
        assert!(
            operations.len() <= BRUTE_FORCE_OPERATIONS_MAX,
            "the brute-force checker takes at most {BRUTE_FORCE_OPERATIONS_MAX} operations per partition, not {}",
            operations.len()
        );
        let mut placed = vec![false; operations.len()];
        search(model, &operations, &mut placed, &model.init())
    })
}

/// When an operation returns, for real-time order: `None` (never) if its outcome is unknown.
fn returned<I, O>(operation: &Operation<I, O>) -> Option<u64> {
    match &operation.outcome {
        Outcome::Ok { at, .. } => Some(at.as_nanos()),
        Outcome::Failed { .. } | Outcome::Unknown { .. } => None,
    }
}

fn search<M: Model>(
    model: &M,
    operations: &[&Operation<M::Input, M::Output>],
    placed: &mut [bool],
    state: &M::State,
) -> bool {
    let all_ok_placed = operations
        .iter()
        .zip(placed.iter())
        .all(|(operation, placed)| *placed || !operation.is_ok());
    if all_ok_placed {
        return true;
    }
    for candidate in 0..operations.len() {
        if placed[candidate] {
            continue;
        }
        // Real time: nothing still unplaced may have returned before this call.
        let call = operations[candidate].call.as_nanos();
        let blocked = (0..operations.len()).any(|other| {
            !placed[other] && returned(operations[other]).is_some_and(|returned| returned < call)
        });
        if blocked {
            continue;
        }
        let operation = operations[candidate];
        placed[candidate] = true;
        for next in model
            .step(state, &operation.input, operation.output())
            .into_vec()
        {
            if search(model, operations, placed, &next) {
                placed[candidate] = false;
                return true;
            }
        }
        placed[candidate] = false;
    }
    false
}
