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
//!
//! With `--explore` (or `--blind`), runs campaigns instead: guided
//! exploration (forks of runs that reached rare coverage) or blind seeds
//! through the same machinery, and prints one JSON line per campaign with
//! the worlds run, simulated seconds and wall seconds to the first failure:
//!
//! ```text
//! cargo run --release -p examples --bin kv-sweep -- --bug figure-8 --nodes 5 \
//!     --explore --blind --campaigns 5 --runs 20000 --wall 600
//! ```

use clap::Parser;
use std::time::Duration;

use detsim::{Explore, Sweep};
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
    /// Run guided exploration campaigns (see `--campaigns`).
    #[arg(long)]
    explore: bool,
    /// Run blind campaigns (fresh seeds only, same machinery), after each
    /// guided one when `--explore` is given too.
    #[arg(long)]
    blind: bool,
    /// Campaigns: campaign seed `c` starts its fresh seeds at
    /// `first_seed + c * 1_000_000`.
    #[arg(long, default_value_t = 1)]
    campaigns: u64,
    /// The first campaign seed.
    #[arg(long, default_value_t = 0)]
    first_campaign: u64,
    /// Budget of runs per campaign.
    #[arg(long, default_value_t = 10_000)]
    runs: u64,
    /// Budget of wall seconds per campaign.
    #[arg(long)]
    wall: Option<u64>,
    /// Runs per generation of a campaign.
    #[arg(long, default_value_t = 32)]
    batch: usize,
    /// Generations of fresh seeds before a guided campaign forks.
    #[arg(long, default_value_t = 4)]
    warmup: u64,
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
    if args.explore || args.blind {
        campaigns(&args, &name, &options, &command);
        return;
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

/// Runs the campaigns of `--explore`/`--blind` and prints a JSON line each.
fn campaigns(args: &Args, name: &str, options: &Options, command: &str) {
    let mut modes = Vec::new();
    if args.explore {
        modes.push("guided");
    }
    if args.blind {
        modes.push("blind");
    }
    for campaign in args.first_campaign..args.first_campaign + args.campaigns {
        for mode in &modes {
            let mut explore = Explore::runs(args.runs)
                .campaign_seed(campaign)
                .batch(args.batch)
                .warmup(args.warmup);
            if *mode == "blind" {
                explore = explore.blind();
            }
            if let Some(wall) = args.wall {
                explore = explore.wall(Duration::from_secs(wall));
            }
            let first = args.first_seed + campaign * 1_000_000;
            let mut sweep = Sweep::new(&format!("{name}-{mode}"))
                .first_seed(first)
                .regressions(None)
                .progress(false)
                .minimize(!args.no_minimize)
                .replay_command(command)
                .explore(explore);
            if let Some(threads) = args.threads {
                sweep = sweep.threads(threads);
            }
            let report = match sweep.run(|case| cluster::run(case, options)) {
                Ok(report) => report,
                Err(error) => {
                    eprintln!("kv-sweep: {error}");
                    std::process::exit(2);
                }
            };
            eprintln!("{report}");
            let Some(explored) = &report.exploration else {
                eprintln!("kv-sweep: the sweep did not explore (SIM_SEED set?)");
                std::process::exit(2);
            };
            let failure = report.first_failure();
            let line = serde_json::json!({
                "bug": options.bug.map(|b| b.to_string()),
                "nodes": options.nodes,
                "mode": mode,
                "campaign": campaign,
                "found": failure.is_some(),
                "forked": failure.is_some_and(|f| !f.forks.is_empty()),
                "verified": failure.is_some_and(|f| f.verification.is_verified()),
                "worlds": explored.first_failure_run.map_or(explored.runs, |r| r + 1),
                "simulated_s": (explored.simulated_to_failure.as_secs_f64() * 10.0).round() / 10.0,
                "wall_s": (explored.wall_to_failure.as_secs_f64() * 100.0).round() / 100.0,
                "stopped_by": explored.stopped_by,
                "corpus": explored.corpus.len(),
                "keys": explored.keys.len(),
                "replay": failure.and_then(|f| f.replay.clone()),
            });
            println!("{line}");
        }
    }
}
