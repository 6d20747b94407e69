//! The `detsim-bench` workloads: each runs a simulation and, in the same
//! process, a bare baseline loop doing the same number of events, and reports
//! both as one JSON line.

pub mod check;
pub mod core;
pub mod disk;
pub mod jepsen_kv;
pub mod net;
pub mod sweep;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::time::Duration;

use detsim::{Seed, SimRng};
use serde::Serialize;

/// One workload's measurement: the JSON line `detsim-bench` prints.
#[derive(Clone, Debug, Serialize)]
pub struct Sample {
    /// The workload's name.
    pub workload: String,
    /// Events done by the simulation (the workload says what an event is).
    pub events: u64,
    /// Wall-clock seconds the simulation took.
    pub wall_s: f64,
    /// Virtual seconds the simulation covered.
    pub sim_s: f64,
    /// `events / wall_s`.
    pub events_per_wall_s: f64,
    /// The baseline loop's events per wall second.
    pub baseline_events_per_wall_s: f64,
    /// `baseline_events_per_wall_s / events_per_wall_s`: how many times
    /// slower than the bare loop the simulation is (lower is better).
    pub ratio_to_baseline: f64,
    /// For parallel workloads: wall time of the serial run over this one's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub speedup_vs_serial: Option<f64>,
    /// For parallel workloads: worker threads.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threads: Option<u64>,
}

impl Sample {
    /// A sample from the simulation's numbers and the baseline's rate.
    pub fn new(
        workload: &str,
        events: u64,
        wall: Duration,
        sim_s: f64,
        baseline_events_per_wall_s: f64,
    ) -> Sample {
        let wall_s = wall.as_secs_f64().max(1e-9);
        let events_per_wall_s = events as f64 / wall_s;
        Sample {
            workload: workload.to_owned(),
            events,
            wall_s,
            sim_s,
            events_per_wall_s,
            baseline_events_per_wall_s,
            ratio_to_baseline: baseline_events_per_wall_s / events_per_wall_s,
            speedup_vs_serial: None,
            threads: None,
        }
    }
}

impl From<check::CheckBench> for Sample {
    fn from(bench: check::CheckBench) -> Sample {
        Sample::new(
            bench.workload,
            bench.events,
            Duration::from_secs_f64(bench.wall_s),
            0.0,
            bench.baseline_events_per_wall_s,
        )
    }
}

/// Repetitions of each measurement; the fastest counts (the machine may be
/// shared, and noise only ever slows a run down).
pub const REPEATS: usize = 3;

/// Runs `f` [`REPEATS`] times and returns the result and wall time of the fastest run.
pub fn fastest<R>(mut f: impl FnMut() -> R) -> (R, Duration) {
    let mut best: Option<(R, Duration)> = None;
    for _ in 0..REPEATS {
        let (result, elapsed) = wall(&mut f);
        if best.as_ref().is_none_or(|(_, b)| elapsed < *b) {
            best = Some((result, elapsed));
        }
    }
    best.expect("at least one repetition")
}

/// Wall-clock time of `f` (benchmarks are the one place that reads it).
#[allow(clippy::disallowed_methods)]
pub fn wall<R>(f: impl FnOnce() -> R) -> (R, Duration) {
    let start = std::time::Instant::now();
    let result = f();
    (result, start.elapsed())
}

/// The bare baseline: a `BinaryHeap` of `(deadline, seq)` timers and a
/// `VecDeque` ready queue, no futures. `actors` actors each handle
/// `events / actors` events; after each, an actor waits a delay drawn from
/// `delay_ns` (`0..=0`: straight back to the ready queue). Returns events per
/// wall second of the fastest of [`REPEATS`] runs.
pub fn baseline(events: u64, actors: u64, delay_ns: (u64, u64)) -> f64 {
    let per_actor = events / actors.max(1);
    let total = per_actor * actors.max(1);
    let (done, elapsed) = fastest(|| bare_loop(events, actors, delay_ns));
    assert_eq!(done, total);
    total as f64 / elapsed.as_secs_f64().max(1e-9)
}

/// One run of the bare loop of [`baseline`]; returns the events done.
pub fn bare_loop(events: u64, actors: u64, delay_ns: (u64, u64)) -> u64 {
    let per_actor = events / actors.max(1);
    let mut rng = SimRng::stream(Seed::new(0), "baseline");
    let mut heap: BinaryHeap<Reverse<(u64, u64, u32)>> = BinaryHeap::new();
    let mut ready: VecDeque<u32> = (0..actors as u32).collect();
    let mut left = vec![per_actor; actors as usize];
    let (mut now, mut seq, mut done) = (0u64, 0u64, 0u64);
    loop {
        if let Some(actor) = ready.pop_front() {
            let left = &mut left[actor as usize];
            if *left == 0 {
                continue;
            }
            *left -= 1;
            done += 1;
            let delay = if delay_ns.1 == 0 {
                0
            } else {
                delay_ns.0 + rng.below(delay_ns.1 - delay_ns.0 + 1)
            };
            if delay == 0 {
                ready.push_back(actor);
            } else {
                seq += 1;
                heap.push(Reverse((now + delay, seq, actor)));
            }
            continue;
        }
        match heap.pop() {
            Some(Reverse((deadline, _, actor))) => {
                now = deadline;
                ready.push_back(actor);
            }
            None => break,
        }
    }
    std::hint::black_box(done)
}

/// A workload of [`ONCE`]: its name, the unit of its events, and the run.
pub type OnceWorkload = (&'static str, &'static str, fn() -> u64);

/// The workloads `detsim-bench --once` runs for instruction counting
/// (`examples/callgrind.sh`), by name: `(name, unit, run)`, where `run` does
/// the simulation once (no baseline, no repeats) and returns how many events
/// of `unit` it did. `startup` does nothing: its count is subtracted.
pub const ONCE: &[OnceWorkload] = &[
    ("startup", "none", || 0),
    ("pingpong", "message", || {
        net::pingpong_world(1, net::PINGPONG_ROUND_TRIPS);
        2 * net::PINGPONG_ROUND_TRIPS
    }),
    ("timers-node", "firing", || {
        core::timers_node_world();
        core::TIMER_TASKS * core::TIMER_SLEEPS
    }),
    ("broadcast", "message", || net::broadcast_world().1),
    ("seeds", "message", || {
        net::seeds_worlds();
        net::SEEDS_WORLDS * 2 * net::SEEDS_ROUND_TRIPS
    }),
    ("worlds-net", "world", || {
        net::net_worlds();
        net::NET_WORLDS
    }),
    // The bare loop doing each workload's events (`examples/callgrind.sh`
    // prints the ratio of a workload to its `bare-` twin).
    ("bare-pingpong", "message", || {
        bare_loop(2 * net::PINGPONG_ROUND_TRIPS, 2, net::ONE_WAY)
    }),
    ("bare-timers-node", "firing", || {
        bare_loop(
            core::TIMER_TASKS * core::TIMER_SLEEPS,
            core::TIMER_TASKS,
            core::TIMER_DELAY,
        )
    }),
    ("bare-broadcast", "message", || {
        let events = net::BROADCAST_NODES * (net::BROADCAST_NODES - 1) * net::BROADCAST_ROUNDS;
        bare_loop(events, net::BROADCAST_NODES, net::ONE_WAY)
    }),
    ("bare-seeds", "message", || {
        (0..net::SEEDS_WORLDS)
            .map(|_| bare_loop(2 * net::SEEDS_ROUND_TRIPS, 2, net::ONE_WAY))
            .sum()
    }),
    ("bare-worlds-net", "world", || {
        for _ in 0..net::NET_WORLDS {
            bare_loop(2, 2, net::ONE_WAY);
        }
        net::NET_WORLDS
    }),
    ("check-stuck", "check", || {
        check::check_stuck_once();
        1
    }),
];
