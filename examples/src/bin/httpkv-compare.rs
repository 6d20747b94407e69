//! The HTTP key-value service next to the Raft store, measured the same
//! way: the same seeds, one worker thread, three clients on three keys
//! thinking 0–30 ms between operations, each system under its own chaos.
//! Prints, per system, the simulated seconds per wall second and the
//! client operations per simulated second.
//!
//! ```text
//! cargo run --release -p examples --bin httpkv-compare -- --seeds 50
//! ```

use std::sync::atomic::{AtomicU64, Ordering};

use clap::Parser;
use detsim::{Case, Failure, Report, Sweep, SweepReport};

/// Measures the HTTP service and the Raft store on the same seeds.
#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// How many seeds of each.
    #[arg(long, default_value_t = 50)]
    seeds: u64,
}

/// Client operations recorded and answered, over a sweep.
#[derive(Default)]
struct Counts {
    operations: AtomicU64,
    answered: AtomicU64,
}

fn measure<T>(
    name: &str,
    seeds: u64,
    counts: &Counts,
    run: impl Fn(&Case) -> Result<Report<T>, Failure> + Sync,
    ops: impl Fn(&T) -> (usize, usize) + Sync,
) -> SweepReport {
    let report = Sweep::new(name)
        .seeds(seeds)
        .threads(1)
        .ignore_env()
        .regressions(None)
        .progress(false)
        .run(|case| {
            let report = run(case)?;
            let (operations, answered) = ops(&report.value);
            counts
                .operations
                .fetch_add(operations as u64, Ordering::Relaxed);
            counts
                .answered
                .fetch_add(answered as u64, Ordering::Relaxed);
            Ok(report)
        })
        .expect("a valid sweep");
    report.assert_passed();
    report
}

fn main() {
    let args = Args::parse();
    let (http, raft) = (Counts::default(), Counts::default());
    let http_options = examples::httpkv::cluster::Options::default();
    let http_report = measure(
        "httpkv",
        args.seeds,
        &http,
        |case| examples::httpkv::cluster::run(case, &http_options),
        |s| (s.operations, s.answered),
    );
    let raft_options = examples::raft::cluster::Options::default();
    let raft_report = measure(
        "kv",
        args.seeds,
        &raft,
        |case| examples::raft::cluster::run(case, &raft_options),
        |s| (s.operations, s.answered),
    );
    println!(
        "{:<32} {:>6} {:>8} {:>10} {:>12} {:>10} {:>10} {:>12} {:>12}",
        "system (one thread)",
        "seeds",
        "wall s",
        "sim s",
        "sim s/wall s",
        "client ops",
        "answered",
        "ops/sim s",
        "ops/wall s"
    );
    for (name, report, counts) in [
        ("httpkv (axum+hyper, ABD, TCP)", &http_report, &http),
        ("kv (Raft, UDP, disks)", &raft_report, &raft),
    ] {
        let (wall, simulated) = (report.wall.as_secs_f64(), report.simulated.as_secs_f64());
        let operations = counts.operations.load(Ordering::Relaxed) as f64;
        let answered = counts.answered.load(Ordering::Relaxed);
        println!(
            "{name:<32} {:>6} {wall:>8.2} {simulated:>10.1} {:>12.0} {operations:>10} {answered:>10} {:>12.1} {:>12.0}",
            report.seeds_run,
            simulated / wall,
            operations / simulated,
            operations / wall,
        );
    }
}
