//! The HTTP key-value service (`examples::httpkv`: an axum `Router`,
//! replicated with quorums over HTTP) under chaos, for many seeds: three
//! replicas served by hyper on the simulated network, clients recording a
//! history through HTTP requests, a swarm nemesis of crashes, pauses, clock
//! faults, partitions, clogs and latency spikes, then a quiet period in
//! which a client must be served again. Every seed's history is checked
//! for linearizability.
//!
//! ```text
//! cargo run --release -p examples --bin httpkv-sweep -- --seeds 300
//! cargo run --release -p examples --bin httpkv-sweep -- --seeds 300 --bug local-read-on-timeout
//! ```
//!
//! Exits with status 1 when a seed fails; the report names the seed, the
//! minimized fault plan and the line that replays it.

use clap::Parser;
use detsim::Sweep;
use examples::httpkv::Bug;
use examples::httpkv::cluster::{self, Options};

/// Sweeps seeds of the HTTP key-value service under chaos.
#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// How many seeds (`SIM_SEEDS` overrides).
    #[arg(long, default_value_t = 100)]
    seeds: u64,
    /// The first seed (`SIM_FIRST_SEED` overrides).
    #[arg(long, default_value_t = 0)]
    first_seed: u64,
    /// Concurrent clients.
    #[arg(long, default_value_t = 3)]
    clients: usize,
    /// Plant a bug: local-read-on-timeout, skip-write-back.
    #[arg(long)]
    bug: Option<Bug>,
    /// Worker threads (default: every core).
    #[arg(long)]
    threads: Option<usize>,
    /// Keep going after a failure.
    #[arg(long)]
    keep_going: bool,
    /// Do not minimize the fault plan of a failure.
    #[arg(long)]
    no_minimize: bool,
}

fn main() {
    let args = Args::parse();
    let options = Options {
        clients: args.clients,
        bug: args.bug,
        ..Options::default()
    };
    let mut command = format!(
        "cargo run --release -p examples --bin httpkv-sweep -- --clients {}",
        args.clients
    );
    let name = match args.bug {
        Some(bug) => {
            command.push_str(&format!(" --bug {bug}"));
            format!("httpkv-{bug}")
        }
        None => "httpkv".to_owned(),
    };
    if let Some(bug) = args.bug {
        eprintln!("planted bug: {bug} ({})", bug.describe());
    }
    let mut sweep = Sweep::new(&name)
        .seeds(args.seeds)
        .first_seed(args.first_seed)
        .regressions(None)
        .stop_on_failure(!args.keep_going)
        .minimize(!args.no_minimize)
        .replay_command(command);
    if let Some(threads) = args.threads {
        sweep = sweep.threads(threads);
    }
    let report = match sweep.run(|case| cluster::run(case, &options)) {
        Ok(report) => report,
        Err(error) => {
            eprintln!("httpkv-sweep: {error}");
            std::process::exit(2);
        }
    };
    println!("{report}");
    if !report.passed() {
        std::process::exit(1);
    }
}
