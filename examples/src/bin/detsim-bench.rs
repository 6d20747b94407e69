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
    /// Run one workload's simulation once, without its baseline or repeats, and
    /// print `{"workload", "unit", "events"}`: for instruction counts under
    /// callgrind (`examples/callgrind.sh`). `startup` runs nothing.
    #[arg(long, value_name = "WORKLOAD")]
    once: Option<String>,
}

type Workload = (&'static str, fn() -> Vec<Sample>);

fn workloads() -> Vec<Workload> {
    vec![
        ("timers", || vec![bench::core::timers()]),
        ("timers-node", || vec![bench::core::timers_node()]),
        ("spawn", || vec![bench::core::spawn()]),
        ("worlds", || vec![bench::core::worlds()]),
        ("check-kv", || vec![bench::check::check_kv().into()]),
        ("check-register", || {
            vec![bench::check::check_register().into()]
        }),
        ("check-illegal", || {
            vec![bench::check::check_illegal().into()]
        }),
        ("check-illegal-register", || {
            vec![bench::check::check_illegal_register().into()]
        }),
        ("check-stuck", || vec![bench::check::check_stuck().into()]),
        ("sweep", bench::sweep::sweep_both),
        ("disk-random-write", || vec![bench::disk::random_write()]),
        ("disk-append", || vec![bench::disk::append()]),
        ("pingpong", || vec![bench::net::pingpong()]),
        ("broadcast", || vec![bench::net::broadcast()]),
        ("seeds", || vec![bench::net::seeds()]),
        ("worlds-net", || vec![bench::net::worlds_net()]),
    ]
}

fn main() {
    let args = Args::parse();
    if let Some(name) = &args.once {
        let Some((name, unit, run)) = bench::ONCE.iter().find(|(n, _, _)| n == name) else {
            let names: Vec<_> = bench::ONCE.iter().map(|(n, _, _)| *n).collect();
            eprintln!(
                "detsim-bench: --once knows {}, not {name:?}",
                names.join(", ")
            );
            std::process::exit(2);
        };
        let events = run();
        println!(r#"{{"workload":"{name}","unit":"{unit}","events":{events}}}"#);
        return;
    }
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
            for sample in run() {
                println!(
                    "{}",
                    serde_json::to_string(&sample).expect("a sample serializes")
                );
            }
        }
    }
}
