//! Checking many histories at once, as a sweep does.

use detsim::history::{
    CheckResult, Checker, CheckerOptions, History, Register, RegisterInput, RegisterOutput,
};

use super::{history, ok, pending};

type RegisterHistory = History<RegisterInput<u32>, RegisterOutput<u32>>;

/// Seed `seed`'s history: client 1 writes `seed` while client 2 reads; every third seed
/// reads a value never written, and every fifth leaves a write pending.
fn history_of_seed(seed: u32) -> RegisterHistory {
    let mut operations = Vec::new();
    let seen = if seed % 3 == 0 { 1000 + seed } else { seed };
    for round in 0..u64::from(seed % 7 + 1) {
        let base = round * 100;
        operations.push(ok(
            1,
            RegisterInput::Write(seed),
            RegisterOutput::Written,
            base,
            base + 50,
        ));
        operations.push(ok(
            2,
            RegisterInput::Read,
            RegisterOutput::Read(seen),
            base + 10,
            base + 60,
        ));
    }
    if seed % 5 == 0 {
        operations.push(pending(3, RegisterInput::Write(seed + 1), 0));
    }
    history(operations)
}

#[test]
fn a_batch_gives_each_history_the_verdict_it_gets_alone() {
    // Proves batch checking (reusing search structures across histories) changes no answer, in input order.
    let histories: Vec<_> = (0..60).map(history_of_seed).collect();
    let alone: Vec<CheckResult> = histories
        .iter()
        .map(|history| Checker::new(Register::new(0)).check(history))
        .collect();
    assert_eq!(
        alone
            .iter()
            .filter(|result| result.is_not_linearizable())
            .count(),
        20
    );
    assert_eq!(
        alone
            .iter()
            .filter(|result| result.is_linearizable())
            .count(),
        40
    );
    for threads in [1, 3] {
        let mut checker = Checker::with_options(
            Register::new(0),
            CheckerOptions {
                threads,
                ..Default::default()
            },
        );
        assert_eq!(
            checker.check_batch(&histories),
            alone,
            "{threads} thread(s)"
        );
        // A second batch on the same checker reuses its structures, with the same answers.
        assert_eq!(
            checker.check_batch(histories.iter().rev()),
            alone.iter().rev().cloned().collect::<Vec<_>>()
        );
    }
}
