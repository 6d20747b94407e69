//! The replicated key-value store on Raft under chaos, for many seeds: five
//! nodes on the simulated network and disks, concurrent clients, crashes,
//! partitions of every kind, clogs, clock skew and disk faults, then a quiet
//! period in which the cluster must serve clients again. Every seed's
//! history is checked for linearizability.
//!
//! ```text
//! cargo run --release -p examples --bin kv-sweep -- --seeds 1000
//! cargo run --release -p examples --bin kv-sweep -- --seeds 1000 --bug stale-leader-read
//! ```
//!
//! Exits with status 1 when a seed fails; the report names the seed, the
//! minimized fault plan and the line that replays it.

use clap::Parser;
use detsim::Sweep;
use examples::raft::Bug;
use examples::raft::cluster::{self, Options};

/// Sweeps seeds of the Raft key-value store under chaos.
#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// How many seeds (`SIM_SEEDS` overrides).
    #[arg(long, default_value_t = 100)]
    seeds: u64,
    /// The first seed (`SIM_FIRST_SEED` overrides).
    #[arg(long, default_value_t = 0)]
    first_seed: u64,
    /// Raft nodes.
    #[arg(long, default_value_t = 5)]
    nodes: usize,
    /// Concurrent clients.
    #[arg(long, default_value_t = 3)]
    clients: usize,
    /// Plant a bug: ack-before-durable, vote-without-persist, figure-8,
    /// stale-leader-read, skip-checksum, no-truncate.
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
    /// Seconds of chaos (faults from 1 s to this instant, then healed).
    #[arg(long, default_value_t = 20)]
    chaos_seconds: u64,
}

fn main() {
    let args = Args::parse();
    let options = Options {
        nodes: args.nodes,
        clients: args.clients,
        bug: args.bug,
        chaos_end: std::time::Duration::from_secs(args.chaos_seconds.max(2)),
        ..Options::default()
    };
    let mut command = format!(
        "cargo run --release -p examples --bin kv-sweep -- --nodes {} --clients {}",
        args.nodes, args.clients
    );
    if args.chaos_seconds != 20 {
        command.push_str(&format!(" --chaos-seconds {}", args.chaos_seconds));
    }
    let name = match args.bug {
        Some(bug) => {
            command.push_str(&format!(" --bug {bug}"));
            format!("kv-{bug}")
        }
        None => "kv".to_owned(),
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
            eprintln!("kv-sweep: {error}");
            std::process::exit(2);
        }
    };
    println!("{report}");
    for (name, coverage) in report.coverage.iter().filter(|(_, c)| c.sometimes) {
        println!(
            "  sometimes {name:?}: held {} of {} times",
            coverage.held, coverage.evaluated
        );
    }
    if !report.passed() {
        std::process::exit(1);
    }
}
