//! Virtual time: sleep, sleep_until, timeout, interval, ties, jumps.

use std::time::Duration;

use detsim::time::{self, Instant, MissedTickBehavior};
use detsim::{Seed, Sim};

use super::Log;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn time_jumps_to_the_earliest_deadline_and_ties_fire_in_insertion_order() {
    // Sleeps wake in deadline order; equal deadlines wake in the order they were registered.
    let log = Log::default();
    let l = log.clone();
    let report = Sim::new(Seed::new(1))
        .run(async move {
            let tasks: Vec<_> = [(30, "c"), (10, "a"), (30, "d"), (20, "b"), (10, "a2")]
                .into_iter()
                .map(|(delay, name)| {
                    let l = l.clone();
                    detsim::spawn(async move {
                        time::sleep(ms(delay)).await;
                        l.at(name);
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
        })
        .unwrap();
    assert_eq!(
        log.take(),
        ["10ms a", "10ms a2", "20ms b", "30ms c", "30ms d"]
    );
    assert_eq!(report.elapsed, Instant::from_nanos(30_000_000));
}

#[test]
fn time_does_not_pass_while_tasks_are_ready() {
    // A busy loop of yields takes zero virtual time.
    let report = Sim::new(Seed::new(1))
        .run(async {
            for _ in 0..10_000 {
                detsim::yield_now().await;
            }
            time::now()
        })
        .unwrap();
    assert_eq!(report.value, Instant::ZERO);
}

#[test]
fn sleep_until_and_zero_sleeps() {
    // sleep_until wakes at the instant; a past deadline or zero sleep completes without time passing.
    let report = Sim::new(Seed::new(1))
        .run(async {
            time::sleep_until(Instant::from_nanos(1_234_000)).await;
            let a = time::now();
            time::sleep_until(Instant::ZERO).await;
            time::sleep(Duration::ZERO).await;
            (a, time::now())
        })
        .unwrap();
    assert_eq!(report.value.0, Instant::from_nanos(1_234_000));
    assert_eq!(report.value.1, Instant::from_nanos(1_234_000));
}

#[test]
fn timeout_returns_the_output_or_elapsed_at_the_deadline() {
    // The inner future wins if ready by the deadline; otherwise Elapsed at exactly the deadline.
    let report = Sim::new(Seed::new(1))
        .run(async {
            let fast = time::timeout(ms(100), async {
                time::sleep(ms(50)).await;
                7
            })
            .await;
            let t1 = time::now();
            let slow = time::timeout(ms(100), time::sleep(ms(500))).await;
            let t2 = time::now();
            let tie = time::timeout(ms(100), time::sleep(ms(100))).await;
            (fast, t1, slow.is_err(), t2, tie.is_ok())
        })
        .unwrap();
    assert_eq!(report.value.0, Ok(7));
    assert_eq!(report.value.1, Instant::from_nanos(50_000_000));
    assert!(report.value.2);
    assert_eq!(report.value.3, Instant::from_nanos(150_000_000));
    assert!(report.value.4, "the inner future is polled first on a tie");
}

#[test]
fn dropped_sleeps_do_not_advance_time() {
    // A cancelled timer neither wakes anything nor drags the clock to its deadline.
    let report = Sim::new(Seed::new(1))
        .run(async {
            let long = time::sleep(Duration::from_secs(3600));
            let _ = time::timeout(ms(1), long).await;
            time::sleep(ms(1)).await;
        })
        .unwrap();
    assert_eq!(report.elapsed, Instant::from_nanos(2_000_000));
}

fn ticks(behavior: MissedTickBehavior) -> Vec<u64> {
    Sim::new(Seed::new(1))
        .run(async move {
            let mut interval = time::interval(ms(100));
            interval.set_missed_tick_behavior(behavior);
            let mut at = Vec::new();
            for i in 0..6 {
                interval.tick().await;
                at.push(time::now().as_nanos() / 1_000_000);
                if i == 1 {
                    // Busy for 250 ms: the ticks at 200 and 300 are missed.
                    time::sleep(ms(250)).await;
                }
            }
            at
        })
        .unwrap()
        .value
}

#[test]
fn interval_missed_tick_behaviours() {
    // Burst catches up at once, Delay restarts the period, Skip keeps the original grid.
    assert_eq!(
        ticks(MissedTickBehavior::Burst),
        [0, 100, 350, 350, 400, 500]
    );
    assert_eq!(
        ticks(MissedTickBehavior::Delay),
        [0, 100, 350, 450, 550, 650]
    );
    assert_eq!(
        ticks(MissedTickBehavior::Skip),
        [0, 100, 350, 400, 500, 600]
    );
}

#[test]
fn run_for_advances_exactly_and_worlds_can_run_again() {
    // A world keeps its state across runs; run_for moves virtual time by exactly the duration.
    let log = Log::default();
    let l = log.clone();
    let mut sim = Sim::new(Seed::new(1));
    sim.add_node("n1", move |_| {
        let l = l.clone();
        async move {
            let mut interval = time::interval(Duration::from_secs(1));
            loop {
                interval.tick().await;
                l.at("tick");
            }
        }
    })
    .unwrap();
    sim.run_for(Duration::from_millis(1500)).unwrap();
    assert_eq!(log.take(), ["0ms tick", "1000ms tick"]);
    sim.run_for(Duration::from_secs(1)).unwrap();
    assert_eq!(log.take(), ["2000ms tick"]);
    assert_eq!(sim.now(), Instant::from_nanos(2_500_000_000));
}

#[test]
fn sleeps_count_from_the_world_running_now_when_worlds_alternate_on_a_thread() {
    // A sleep's deadline is the running world's time plus its duration, whichever
    // world ran before on the thread, and a world dropped inside another's task
    // leaves the outer world's clock in charge.
    let mut first = Sim::new(Seed::new(1));
    first.run_for(Duration::from_secs(5)).unwrap();
    let mut second = Sim::new(Seed::new(2));
    let report = second
        .run(async {
            time::sleep(ms(3)).await;
            time::now()
        })
        .unwrap();
    assert_eq!(report.value, Instant::from_nanos(3_000_000));
    let report = first
        .run(async move {
            let inner = Sim::new(Seed::new(3));
            time::sleep(ms(2)).await;
            drop(inner);
            time::sleep(ms(7)).await;
            time::now()
        })
        .unwrap();
    assert_eq!(report.value, Instant::from_nanos(5_009_000_000));
    let report = second.run(async { time::sleep(ms(1)).await }).unwrap();
    assert_eq!(report.elapsed, Instant::from_nanos(4_000_000));
}

#[test]
fn sleeps_on_a_drifting_node_leave_the_fast_path() {
    // Once a node's clock drifts, a sleep on it waits for its local clock, not true time.
    let mut sim = Sim::new(Seed::new(1));
    let node = sim.add_node("n1", |_| async {}).unwrap();
    let report = sim
        .run(async move {
            let handle = detsim::handle();
            time::sleep(ms(10)).await;
            handle.clock_drift(node, 100_000).unwrap();
            handle
                .spawn_on(node, async {
                    time::sleep(ms(110)).await;
                })
                .unwrap()
                .await
                .unwrap();
        })
        .unwrap();
    // 110 ms of a clock running 10% fast is 100 ms of true time.
    assert_eq!(report.elapsed, Instant::from_nanos(110_000_000));
}
