//! `sweep-plan`: how long a sweep takes to plan its seeds before the first
//! one runs. Runs a sweep of `--seeds N` trivial worlds (the environment's
//! `SIM_SEEDS`, `SIM_SHARD`, … apply) with a 1 ns budget, so it stops after
//! planning, and prints the wall time.
//!
//! ```text
//! cargo run --release -p examples --bin sweep-plan -- --seeds 300000
//! SIM_SEEDS=18446744073709551615 SIM_SHARD=0/100000000000 cargo run --release -p examples --bin sweep-plan
//! ```

use std::time::Duration;

use clap::Parser;
use detsim::Sweep;

#[derive(Parser)]
#[command(about = "Time a sweep's planning")]
struct Args {
    /// How many seeds (`SIM_SEEDS` overrides).
    #[arg(long, default_value_t = 100_000)]
    seeds: u64,
}

#[allow(clippy::disallowed_methods)] // Wall time of the planning, outside any world.
fn main() {
    let args = Args::parse();
    let start = std::time::Instant::now();
    let report = Sweep::new("sweep-plan")
        .regressions(None)
        .progress(false)
        .seeds(args.seeds)
        .time_budget(Duration::from_nanos(1))
        .run(|case| {
            let mut sim = case.builder().build().expect("a valid world");
            sim.run(async {})
        });
    match report {
        Ok(report) => println!(
            "planned {} seeds in {:.3} ms",
            report.seeds_planned,
            start.elapsed().as_secs_f64() * 1000.0
        ),
        Err(error) => {
            eprintln!("{error}");
            std::process::exit(2);
        }
    }
}
