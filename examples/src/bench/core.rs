//! Executor workloads: `timers`, `timers-node`, `spawn`, `worlds`.

use std::time::Duration;

use detsim::{Seed, Sim, random, time};

use super::{Sample, baseline, fastest};

/// 10 000 tasks each sleeping a seeded random 1..1000 ms, 100 times each.
/// Events are timer firings.
pub fn timers() -> Sample {
    const TASKS: u64 = 10_000;
    const SLEEPS: u64 = 100;
    let events = TASKS * SLEEPS;
    let (report, elapsed) = fastest(|| {
        let mut sim = Sim::builder(Seed::new(1))
            .quiet()
            .build()
            .expect("valid config");
        sim.run(async {
            let handles: Vec<_> = (0..TASKS)
                .map(|_| {
                    detsim::spawn(async {
                        for _ in 0..SLEEPS {
                            let ms = 1 + random::with(|rng| rng.below(1000));
                            time::sleep(Duration::from_millis(ms)).await;
                        }
                    })
                })
                .collect();
            for handle in handles {
                handle.await.expect("timer task ends normally");
            }
        })
        .expect("timers workload runs")
    });
    let base = baseline(events, TASKS, (1_000_000, 1_000_000_000));
    Sample::new(
        "timers",
        events,
        elapsed,
        report.elapsed.as_secs_f64(),
        base,
    )
}

/// The `timers-node` simulation (W2): 10 000 tasks on one node, each sleeping a
/// seeded random 1..1000 ms of the node's clock, 100 times each. Returns the
/// virtual seconds covered; the events are the 1 000 000 timer firings.
pub fn timers_node_world() -> f64 {
    let mut sim = Sim::builder(Seed::new(1))
        .quiet()
        .build()
        .expect("valid config");
    let node = sim.add_node("n1", |_| async {}).expect("fresh name");
    let report = sim
        .run(async move {
            let handle = detsim::handle();
            let handles: Vec<_> = (0..TIMER_TASKS)
                .map(|_| {
                    handle
                        .spawn_on(node, async {
                            for _ in 0..TIMER_SLEEPS {
                                let ms = 1 + random::with(|rng| rng.below(1000));
                                time::sleep(Duration::from_millis(ms)).await;
                            }
                        })
                        .expect("node n1 exists")
                })
                .collect();
            for handle in handles {
                handle.await.expect("timer task ends normally");
            }
        })
        .expect("timers-node workload runs");
    report.elapsed.as_secs_f64()
}

/// Tasks of `timers-node`.
pub const TIMER_TASKS: u64 = 10_000;
/// Sleeps per task of `timers-node`.
pub const TIMER_SLEEPS: u64 = 100;
/// The bare loop's delay for `timers-node`'s sleeps: 1..=1000 ms, in nanoseconds.
pub const TIMER_DELAY: (u64, u64) = (1_000_000, 1_000_000_000);

/// `timers-node` (W2): [`timers_node_world`], timed. Events are timer firings.
pub fn timers_node() -> Sample {
    let events = TIMER_TASKS * TIMER_SLEEPS;
    let (sim_s, elapsed) = fastest(timers_node_world);
    let base = baseline(events, TIMER_TASKS, TIMER_DELAY);
    Sample::new("timers-node", events, elapsed, sim_s, base)
}

/// Tasks spawned and completed: batches of 1 000 tasks, 1 000 batches.
/// Events are tasks.
pub fn spawn() -> Sample {
    const BATCH: u64 = 1_000;
    const BATCHES: u64 = 1_000;
    let events = BATCH * BATCHES;
    let (report, elapsed) = fastest(|| {
        let mut sim = Sim::builder(Seed::new(2))
            .quiet()
            .build()
            .expect("valid config");
        sim.run(async {
            let mut sum = 0u64;
            for _ in 0..BATCHES {
                let handles: Vec<_> = (0..BATCH)
                    .map(|i| detsim::spawn(async move { i }))
                    .collect();
                for handle in handles {
                    sum += handle.await.expect("task ends normally");
                }
            }
            sum
        })
        .expect("spawn workload runs")
    });
    assert_eq!(report.value, BATCHES * BATCH * (BATCH - 1) / 2);
    let base = baseline(events, BATCH, (0, 0));
    Sample::new("spawn", events, elapsed, report.elapsed.as_secs_f64(), base)
}

/// Tiny worlds built and run to completion: one node that sleeps 1 ms, a
/// body that sleeps 2 ms. Events are worlds.
pub fn worlds() -> Sample {
    const WORLDS: u64 = 20_000;
    let (sim_s, elapsed) = fastest(|| {
        let mut sim_s = 0.0;
        for seed in 0..WORLDS {
            let mut sim = Sim::builder(Seed::new(seed))
                .quiet()
                .build()
                .expect("valid config");
            sim.add_node("n1", |_| async {
                time::sleep(Duration::from_millis(1)).await
            })
            .expect("fresh name");
            let report = sim
                .run(async { time::sleep(Duration::from_millis(2)).await })
                .expect("tiny world runs");
            sim_s += report.elapsed.as_secs_f64();
        }
        sim_s
    });
    // The baseline world: a fresh heap and queue, two actors, one timer each.
    let (_, base_elapsed) = fastest(|| {
        for seed in 0..WORLDS {
            std::hint::black_box(tiny_baseline_world(seed));
        }
    });
    let base = WORLDS as f64 / base_elapsed.as_secs_f64().max(1e-9);
    Sample::new("worlds", WORLDS, elapsed, sim_s, base)
}

/// The baseline's tiny world: a seeded generator (a deterministic world
/// cannot do without one), a fresh heap and queue, two actors, one timer each.
fn tiny_baseline_world(seed: u64) -> u64 {
    use std::cmp::Reverse;
    use std::collections::{BinaryHeap, VecDeque};
    let mut rng = detsim::SimRng::stream(Seed::new(seed), "baseline");
    let mut heap: BinaryHeap<Reverse<(u64, u64, u32)>> = BinaryHeap::new();
    let mut ready: VecDeque<u32> = VecDeque::new();
    heap.push(Reverse((1_000_000 + rng.below(1000), 0, 0)));
    heap.push(Reverse((2_000_000 + rng.below(1000), 1, 1)));
    let mut now = 0;
    let mut done = 0;
    while let Some(Reverse((deadline, _, actor))) = heap.pop() {
        now = deadline;
        ready.push_back(actor);
        while let Some(actor) = ready.pop_front() {
            done += u64::from(actor) + 1;
        }
    }
    done + now
}
