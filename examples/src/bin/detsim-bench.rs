//! `detsim-bench`: runs the named workloads (all by default) and prints one
//! JSON object per line and per workload.
//!
//! ```text
//! cargo run --release -p examples --bin detsim-bench -- timers worlds
//! ```

use clap::Parser;
use examples::bench::{self, Sample};

/// Measures detsim's speed against a bare event loop in the same process.
#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// Workloads to run (default: all). Use `--list` to see them.
    workloads: Vec<String>,
    /// List the workloads and exit.
    #[arg(long)]
    list: bool,
}

type Workload = (&'static str, fn() -> Sample);

fn workloads() -> Vec<Workload> {
    vec![
        ("timers", bench::core::timers),
        ("spawn", bench::core::spawn),
        ("worlds", bench::core::worlds),
        ("pingpong", bench::net::pingpong),
        ("broadcast", bench::net::broadcast),
        ("seeds", bench::net::seeds),
    ]
}

fn main() {
    let args = Args::parse();
    let all = workloads();
    if args.list {
        for (name, _) in &all {
            println!("{name}");
        }
        return;
    }
    for name in &args.workloads {
        if !all.iter().any(|(n, _)| n == name) {
            let names: Vec<_> = all.iter().map(|(n, _)| *n).collect();
            eprintln!(
                "detsim-bench: unknown workload {name:?}; known: {}",
                names.join(", ")
            );
            std::process::exit(2);
        }
    }
    for (name, run) in all {
        if args.workloads.is_empty() || args.workloads.iter().any(|w| w == name) {
            let sample = run();
            println!(
                "{}",
                serde_json::to_string(&sample).expect("a sample serializes")
            );
        }
    }
}
