//! Budgets: a pathological partition is reported unknown, promptly, within its memory.

use detsim::history::{
    CheckResult, Checker, CheckerOptions, History, KeyValue, KvInput, KvOutput, Operation,
    UndecidedReason,
};

use super::{history, ok};

type KvHistory = History<KvInput<u32, u32>, KvOutput<u32>>;

/// Key 0: 50 clients each write 4 distinct values, each round fully concurrent, then a
/// read of a value nobody wrote. Proving it illegal means trying every subset of every
/// round: about 2⁵⁰ states. Keys 1.. (if any) are small and linearizable, except that
/// key `stale` (if any) reads a stale value.
fn pathological(
    other_keys: u32,
    stale: Option<u32>,
) -> Vec<Operation<KvInput<u32, u32>, KvOutput<u32>>> {
    let mut operations = Vec::new();
    for round in 0..4u64 {
        for client in 0..50u64 {
            let value = u32::try_from(round * 50 + client).expect("small");
            operations.push(ok(
                client,
                KvInput::Put(0, value),
                KvOutput::Put,
                round * 1000 + client,
                round * 1000 + 900,
            ));
        }
    }
    operations.push(ok(
        99,
        KvInput::Get(0),
        KvOutput::Get(Some(9999)),
        5000,
        5100,
    ));
    for key in 1..=other_keys {
        operations.push(ok(100, KvInput::Put(key, key), KvOutput::Put, 0, 10));
        let seen = if stale == Some(key) { None } else { Some(key) };
        operations.push(ok(101, KvInput::Get(key), KvOutput::Get(seen), 20, 30));
    }
    operations
}

fn check(history: &KvHistory, options: CheckerOptions) -> CheckResult {
    Checker::with_options(KeyValue::default(), options).check(history)
}

#[test]
fn a_pathological_key_runs_out_of_memory_budget_and_says_so() {
    // Proves the memo cap stops a 200-operation, 50-client key with an unknown verdict.
    let history = history(pathological(0, None));
    let options = CheckerOptions {
        memo_entries_max: 20_000,
        ..Default::default()
    };
    let CheckResult::Unknown(undecided) = check(&history, options) else {
        panic!("the budget is far too small")
    };
    assert_eq!(undecided.len(), 1);
    assert_eq!(undecided[0].reason, UndecidedReason::Memory);
    assert_eq!(undecided[0].memo_entries, 20_000);
    assert_eq!(undecided[0].operations, 201);
    assert_eq!(undecided[0].label, "key 0");
}

#[test]
fn a_pathological_key_runs_out_of_step_budget_exactly() {
    // Proves the step budget is deterministic: the search stops at exactly that many steps.
    let history = history(pathological(0, None));
    let options = CheckerOptions {
        steps_max: Some(30_000),
        ..Default::default()
    };
    let first = check(&history, options.clone());
    let CheckResult::Unknown(undecided) = &first else {
        panic!("the budget is far too small")
    };
    assert_eq!(undecided[0].reason, UndecidedReason::Steps);
    assert_eq!(undecided[0].steps, 30_000);
    assert_eq!(
        check(&history, options),
        first,
        "the same budget gives the same answer"
    );
}

#[test]
fn a_pathological_key_runs_out_of_time_budget() {
    // Proves the time budget stops a search that no other budget would stop soon.
    let history = history(pathological(0, None));
    let options = CheckerOptions {
        time_max: Some(std::time::Duration::from_millis(100)),
        memo_entries_max: usize::MAX,
        ..Default::default()
    };
    let CheckResult::Unknown(undecided) = check(&history, options) else {
        panic!("the search takes years")
    };
    assert_eq!(undecided[0].reason, UndecidedReason::Time);
}

#[test]
fn an_undecided_key_does_not_hide_the_other_keys_verdicts() {
    // Proves the other partitions are still checked, and that an illegal one wins over an unknown one.
    let options = CheckerOptions {
        memo_entries_max: 5_000,
        ..Default::default()
    };
    let fine = history(pathological(20, None));
    let CheckResult::Unknown(undecided) = check(&fine, options.clone()) else {
        panic!("key 0 is undecided")
    };
    assert_eq!(
        undecided
            .iter()
            .map(|part| part.label.as_str())
            .collect::<Vec<_>>(),
        ["key 0"]
    );

    let stale = history(pathological(20, Some(13)));
    let result = check(&stale, options);
    assert_eq!(
        result
            .counterexample()
            .map(|counterexample| counterexample.label.as_str()),
        Some("key 13")
    );
}

#[test]
fn a_failing_key_is_reported_without_waiting_for_an_undecidable_one() {
    // Proves iterative deepening: with default budgets (which key 0 would take seconds
    // to exhaust), key 13's stale read is reported, and key 0 is listed as undecided
    // because the check stopped, not because a budget of its own ran out.
    let history = history(pathological(20, Some(13)));
    let result = check(&history, CheckerOptions::default());
    let Some(counterexample) = result.counterexample() else {
        panic!("key 13 is not linearizable: {result}")
    };
    assert_eq!(counterexample.label, "key 13");
    let undecided: Vec<_> = counterexample
        .undecided
        .iter()
        .map(|part| (part.label.as_str(), part.reason))
        .collect();
    assert_eq!(undecided, [("key 0", UndecidedReason::Stopped)]);
    assert!(counterexample.undecided[0].steps > 0);
    assert!(
        result.to_string().contains("still undecided"),
        "the verdict says which partition stayed undecided: {result}"
    );
}

#[test]
fn the_verdict_is_the_same_on_one_thread_and_on_several() {
    // Proves the reported counterexample and the undecided list do not depend on the
    // thread count: rounds are deterministic step budgets. The history is large
    // enough (over 1 000 operations) to be checked on several threads.
    let history = history(pathological(500, Some(300)));
    assert!(history.len() > 1_000);
    let on = |threads| {
        check(
            &history,
            CheckerOptions {
                threads,
                ..Default::default()
            },
        )
    };
    let one = on(1);
    assert_eq!(
        one.counterexample().map(|c| c.label.as_str()),
        Some("key 300")
    );
    assert_eq!(on(4), one);
    assert_eq!(on(2), one);
}

#[test]
fn an_undecided_key_beside_a_failing_one_names_its_own_budget() {
    // Proves a partition whose own budget ran out before the failing one was found is
    // listed with that budget, not as stopped.
    let history = history(pathological(20, Some(13)));
    let options = CheckerOptions {
        memo_entries_max: 2_000,
        ..Default::default()
    };
    let result = check(&history, options);
    let counterexample = result.counterexample().expect("key 13 fails");
    assert_eq!(counterexample.undecided.len(), 1);
    assert_eq!(counterexample.undecided[0].reason, UndecidedReason::Memory);
    assert_eq!(counterexample.undecided[0].memo_entries, 2_000);
}

#[test]
fn the_memory_budget_counts_bytes_of_states() {
    // Proves `memory_max` bounds the bytes the memo holds (bitsets, states, index),
    // so a small byte budget stops the search with its bytes reported.
    let history = history(pathological(0, None));
    let options = CheckerOptions {
        memory_max: 100_000,
        ..Default::default()
    };
    let CheckResult::Unknown(undecided) = check(&history, options) else {
        panic!("the budget is far too small")
    };
    assert_eq!(undecided[0].reason, UndecidedReason::Memory);
    let bytes = undecided[0].memo_bytes;
    assert!(
        (100_000..100_100).contains(&bytes),
        "stops at the first entry past the budget: {bytes}"
    );
    // 201 operations: a 4-word bitset, an `Option<u32>` state, the index share.
    let entry = 4 * 8 + std::mem::size_of::<Option<u32>>() + 18;
    assert_eq!(undecided[0].memo_entries * entry, bytes);
}
