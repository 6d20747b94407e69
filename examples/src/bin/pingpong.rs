//! `pingpong`: two nodes, a message, a sleep, a crash and a restart; one
//! seed with its log, then a sweep of ten seeds.
//!
//! ```text
//! cargo run --release -p examples --bin pingpong
//! ```

use clap::Parser;
use detsim::{Seed, SimBuilder, Sweep};
use examples::pingpong;

/// Runs the ping-pong world for one seed (with its log), then sweeps ten seeds.
#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// The seed to show, in hex (0x2a) or decimal.
    #[arg(long, default_value = "0x2a")]
    seed: Seed,
}

fn main() {
    let args = Args::parse();
    println!("one run, seed {}:", args.seed);
    let builder = SimBuilder::new(args.seed)
        .console("info")
        .expect("a known level");
    match pingpong::world(builder) {
        Ok(report) => println!("{:?}\n{report}\n", report.value),
        Err(failure) => {
            eprintln!("{failure}");
            std::process::exit(1);
        }
    }
    let report = Sweep::new("pingpong")
        .seeds(10)
        .run(pingpong::run)
        .unwrap_or_else(|e| {
            eprintln!("{e}");
            std::process::exit(2);
        });
    println!("{report}");
    if !report.passed() {
        std::process::exit(1);
    }
}
