//! The PCT task-order policy: priorities, not coin flips, at each step.

use detsim::{PollOrder, Seed, Sim, spawn, yield_now};

/// Two tasks that yield ten times each, recording who ran.
fn order(seed: u64, poll_order: PollOrder) -> String {
    let mut sim = Sim::builder(Seed::new(seed))
        .poll_order(poll_order)
        .build()
        .unwrap();
    let report = sim
        .run(async {
            let log = std::rc::Rc::new(std::cell::RefCell::new(String::new()));
            let tasks: Vec<_> = ["a", "b"]
                .into_iter()
                .map(|name| {
                    let log = log.clone();
                    spawn(async move {
                        for _ in 0..10 {
                            log.borrow_mut().push_str(name);
                            yield_now().await;
                        }
                    })
                })
                .collect();
            for task in tasks {
                task.await.unwrap();
            }
            log.borrow().clone()
        })
        .unwrap();
    report.value
}

#[test]
fn pct_of_depth_one_runs_the_highest_priority_task_to_the_end() {
    // Proves: with no change points, PCT never interleaves two ready tasks
    // (the higher priority one runs until it is done), each seed picks its
    // priorities, and a seed replays the same order; a random order does
    // interleave.
    let mut firsts = std::collections::BTreeSet::new();
    for seed in 0..20 {
        let log = order(seed, PollOrder::Pct { depth: 1 });
        assert!(
            log == "aaaaaaaaaabbbbbbbbbb" || log == "bbbbbbbbbbaaaaaaaaaa",
            "{log}"
        );
        assert_eq!(log, order(seed, PollOrder::Pct { depth: 1 }));
        firsts.insert(log);
    }
    assert_eq!(firsts.len(), 2, "both priority orders occur");
    let random = order(1, PollOrder::Random);
    assert!(random.contains("ab") && random.contains("ba"), "{random}");
}
