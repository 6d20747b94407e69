//! `differential`: the long run of the differential tests. The simulated
//! disk against `RealStorage` on a temporary directory (random operation
//! sequences, every result compared), the crash model against its reference
//! model (random sequences with renames across directories, then a crash),
//! and the network scenarios on the simulated and the real (tokio) network.
//!
//! ```text
//! cargo run --release -p examples --bin differential -- --cases 50000
//! ```
//!
//! Exits with status 1 and the minimal divergent case when the backends differ.

use std::time::Instant;

use clap::Parser;
use examples::differential::{crash, disk, net};

#[derive(Parser)]
#[command(about = "The simulated disk and network against Linux, on many random cases")]
struct Args {
    /// Random operation sequences for the disk, and crash scenarios.
    #[arg(long, default_value_t = 10_000)]
    cases: u32,
    /// Rounds of the network scenarios (default: cases / 1000, at least 1).
    #[arg(long)]
    net_rounds: Option<u32>,
    /// The seed of the generators (the same seed runs the same cases).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Where the real disk's temporary directories go (default: the system's).
    #[arg(long)]
    dir: Option<std::path::PathBuf>,
}

#[allow(clippy::disallowed_methods)] // Wall time of a benchmark-like run, outside any world.
fn main() {
    let args = Args::parse();
    let base = args
        .dir
        .unwrap_or_else(std::env::temp_dir)
        .join(format!("detsim-differential-{}", std::process::id()));
    let mut failed = false;

    let start = Instant::now();
    match disk::check(args.cases, args.seed, &base) {
        Ok(summary) => println!(
            "disk: {} sequences, {} operations on each backend, identical results ({:.1} s)",
            summary.cases,
            summary.operations,
            start.elapsed().as_secs_f64()
        ),
        Err(error) => {
            println!("disk: {error}");
            failed = true;
        }
    }
    let _ = std::fs::remove_dir_all(&base);

    let start = Instant::now();
    match crash::check(args.cases, args.seed) {
        Ok(summary) => println!(
            "crash: {} scenarios ({} valid steps, {} renames across directories, {} directory renames), \
             every crash left a tree the reference allows ({:.1} s)",
            summary.cases,
            summary.steps,
            summary.renames_across,
            summary.directory_renames,
            start.elapsed().as_secs_f64()
        ),
        Err(error) => {
            println!("crash: {error}");
            failed = true;
        }
    }

    let rounds = args.net_rounds.unwrap_or((args.cases / 1000).max(1));
    let start = Instant::now();
    match net::check(rounds, args.seed) {
        Ok(rounds) => println!(
            "net: {rounds} round(s) of {} scenarios, identical observations ({:.1} s)",
            net::SCENARIOS.len(),
            start.elapsed().as_secs_f64()
        ),
        Err(error) => {
            println!("net: {error}");
            failed = true;
        }
    }
    if failed {
        std::process::exit(1);
    }
}
