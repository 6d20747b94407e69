//! OS entropy and clocks inside a world are the world's (feature `intercept`).

use std::collections::HashMap;
use std::time::{Duration, UNIX_EPOCH};

use detsim::{Case, Seed, Sim, time};
use rand::Rng;

/// What a node saw of the OS: random numbers, a HashMap's order, clocks.
#[derive(Clone, Debug, PartialEq)]
struct Seen {
    random: Vec<u64>,
    order: Vec<u32>,
    /// `Instant::now()` differences across a 1.5 s sleep and a clock jump.
    monotonic: Vec<Duration>,
    /// `SystemTime::now()` readings, as durations since the wall clock's start.
    wall: Vec<i128>,
}

fn since_start(t: std::time::SystemTime) -> i128 {
    let start = UNIX_EPOCH + time::WALL_CLOCK_START;
    match t.duration_since(start) {
        Ok(d) => d.as_millis() as i128,
        Err(e) => -(e.duration().as_millis() as i128),
    }
}

fn observe(seed: u64) -> Seen {
    let mut sim = Sim::builder(Seed::new(seed)).quiet().build().unwrap();
    let node = sim
        .add_node("n1", |_| std::future::pending::<()>())
        .unwrap();
    sim.run(async move {
        let h = detsim::handle();
        h.spawn_on(node, async move {
            let random = (0..3).map(|_| rand::rng().random::<u64>()).collect();
            let map: HashMap<u32, u32> = (0..16).map(|i| (i, i)).collect();
            let order = map.keys().copied().collect();
            let start = std::time::Instant::now();
            let mut wall = vec![since_start(std::time::SystemTime::now())];
            time::sleep(Duration::from_millis(1500)).await;
            let mut monotonic = vec![start.elapsed()];
            detsim::handle().clock_jump(node, -3_000_000_000).unwrap();
            wall.push(since_start(std::time::SystemTime::now()));
            monotonic.push(start.elapsed());
            Seen {
                random,
                order,
                monotonic,
                wall,
            }
        })
        .unwrap()
        .await
        .unwrap()
    })
    .unwrap()
    .value
}

#[test]
fn third_party_entropy_and_clocks_read_the_world() {
    // Instant::now follows the node's monotonic clock (no jump), SystemTime::now
    // its wall clock (jumps), and both start where detsim documents.
    let seen = observe(7);
    assert_eq!(
        seen.monotonic,
        [Duration::from_millis(1500), Duration::from_millis(1500)]
    );
    assert_eq!(seen.wall, [0, 1500 - 3000]);
    assert_eq!(seen.order.len(), 16);
    assert_eq!(seen.random.len(), 3);
}

#[test]
fn the_same_seed_draws_the_same_on_any_thread_after_anything() {
    // A thread that already made HashMaps and drew from thread_rng, and a
    // fresh one, see the same values for one seed; another seed differs.
    let here = {
        let _warm: HashMap<u8, u8> = HashMap::new();
        let _ = rand::rng().random::<u64>();
        std::thread::scope(|s| s.spawn(|| observe(7)).join().unwrap())
    };
    let fresh = std::thread::scope(|s| s.spawn(|| observe(7)).join().unwrap());
    assert_eq!(here, fresh);
    let other = std::thread::scope(|s| s.spawn(|| observe(8)).join().unwrap());
    assert_ne!(other.random, fresh.random);
}

#[test]
fn each_draw_is_a_trace_event_of_the_node() {
    // Entropy drawn inside a node is named in the trace; outside a world the OS answers.
    let mut sim = Sim::builder(Seed::new(3))
        .trace(detsim::TraceMode::RECORD)
        .quiet()
        .build()
        .unwrap();
    sim.add_node("n1", |_| async {
        let _: u64 = rand::rng().random();
    })
    .unwrap();
    let report = sim.run(time::sleep(Duration::from_millis(1))).unwrap();
    let draws: Vec<String> = report
        .trace
        .events
        .iter()
        .map(|e| report.trace.describe(e))
        .filter(|line| line.contains("os.entropy"))
        .collect();
    assert_eq!(draws.len(), 1, "{draws:?}");
    assert!(draws[0].contains("n1"), "{}", draws[0]);
    // Outside: real entropy, so two draws differ, and real time is not the world's start.
    let a: u64 = rand::rng().random();
    let b: u64 = rand::rng().random();
    assert_ne!(a, b);
    assert!(since_start(std::time::SystemTime::now()) > 1000 * 86_400);
}

#[test]
fn a_world_without_interception_reads_the_os() {
    // intercept_os(false): the same seed draws differently each time.
    let draw = || {
        let case = Case::new(Seed::new(5), None);
        let mut sim = case.builder().intercept_os(false).build().unwrap();
        sim.run(async { rand::rng().random::<u64>() })
            .unwrap()
            .value
    };
    assert_ne!(
        std::thread::scope(|s| s.spawn(draw).join().unwrap()),
        std::thread::scope(|s| s.spawn(draw).join().unwrap())
    );
}
