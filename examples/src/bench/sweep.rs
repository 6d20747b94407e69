//! `sweep`: seeds per second of a small 3-node world with chaos, serial and
//! on all cores.

use std::time::Duration;

use detsim::{Case, Failure, Nemesis, NemesisKind, Report, Sweep, Topology, random, time};

use super::{Sample, baseline, wall};

const SEEDS: u64 = 400;

/// Three nodes gossip a counter through shared memory every 10–20 ms for 30
/// virtual seconds, under crashes, pauses and clock jumps.
fn world(case: &Case) -> Result<Report<u64>, Failure> {
    let mut sim = case.builder().build().expect("valid configuration");
    let counter = std::rc::Rc::new(std::cell::Cell::new(0u64));
    for name in ["n1", "n2", "n3"] {
        let counter = counter.clone();
        sim.add_node(name, move |_| {
            let counter = counter.clone();
            async move {
                loop {
                    let ms = 10 + random::with(|r| r.below(10));
                    time::sleep(Duration::from_millis(ms)).await;
                    counter.set(counter.get() + 1);
                }
            }
        })
        .expect("fresh names");
    }
    let nemesis = Nemesis::default()
        .kinds(&[
            NemesisKind::Crash,
            NemesisKind::Pause,
            NemesisKind::ClockJump,
        ])
        .window(Duration::from_secs(1), Duration::from_secs(25));
    let plan = case.plan(|| nemesis.plan(case.seed(), &Topology::nodes(["n1", "n2", "n3"])));
    sim.apply_plan(plan).expect("a valid plan");
    sim.run(async move {
        time::sleep(Duration::from_secs(30)).await;
        counter.get()
    })
}

fn sweep(threads: usize) -> (u64, Duration, f64) {
    let (report, elapsed) = wall(|| {
        Sweep::new("bench")
            .ignore_env()
            .regressions(None)
            .progress(false)
            .seeds(SEEDS)
            .threads(threads)
            .run(world)
            .expect("the sweep runs")
    });
    report.assert_passed();
    (report.seeds_run, elapsed, report.simulated.as_secs_f64())
}

/// Serial and parallel sweeps of [`SEEDS`] seeds; events are seeds. The
/// parallel sample carries `speedup_vs_serial`.
pub fn sweep_both() -> Vec<Sample> {
    let steps_per_world = world(&Case::new(detsim::Seed::new(0), None))
        .expect("seed 0 passes")
        .steps;
    // The baseline: one bare loop per seed doing as many events as a world takes steps.
    let base_events = baseline(steps_per_world * 50, 3, (10_000_000, 20_000_000));
    let base_seeds_per_s = base_events / steps_per_world as f64;
    let (seeds, serial_wall, sim_s) = sweep(1);
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let (_, parallel_wall, _) = sweep(threads);
    let serial = Sample::new("sweep-serial", seeds, serial_wall, sim_s, base_seeds_per_s);
    let mut parallel = Sample::new(
        "sweep-parallel",
        seeds,
        parallel_wall,
        sim_s,
        base_seeds_per_s,
    );
    parallel.speedup_vs_serial =
        Some(serial_wall.as_secs_f64() / parallel_wall.as_secs_f64().max(1e-9));
    parallel.threads = Some(threads as u64);
    vec![serial, parallel]
}
