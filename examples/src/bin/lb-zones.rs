//! `lb-zones`: a service in three zones behind a load balancer, through
//! Chaos Monkey, Latency Monkey, a slow disk, a load ramp with scale-out and
//! Chaos Kong. Prints the fault plan, availability and latency per phase,
//! what the system did, and writes a plot (SVG).
//!
//! ```text
//! cargo run --release -p examples --bin lb-zones -- --seed 0x2a
//! cargo run --release -p examples --bin lb-zones -- --seed 0x2a --view lb.html  # and draw the run
//! ```

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use detsim::Seed;
use examples::lb::{Scenario, table};

/// Runs the multi-zone load-balancer scenario for one seed.
#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// The world's seed, in hex (0x2a) or decimal.
    #[arg(long, default_value = "0x2a")]
    seed: Seed,
    /// Where to write the plot (default: lb-zones-<seed>.svg in the temporary directory).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Length of each phase, in seconds of virtual time.
    #[arg(long, default_value_t = 10)]
    phase_seconds: u64,
    /// Turn the autoscaler off (no scale-out when the load rises).
    #[arg(long)]
    no_autoscale: bool,
    /// One try per request: no failover in the load balancer, no client retries.
    #[arg(long)]
    no_retries: bool,
    /// Record the trace and draw the run (the run viewer's HTML) here.
    #[arg(long)]
    view: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if args.phase_seconds == 0 {
        eprintln!("lb-zones: --phase-seconds must be at least 1");
        return ExitCode::FAILURE;
    }
    let mut scenario = Scenario {
        seed: args.seed,
        phase_length: Duration::from_secs(args.phase_seconds),
        autoscale: !args.no_autoscale,
        ..Scenario::default()
    };
    if args.no_retries {
        scenario.tuning.tries = 1;
        scenario.tuning.attempts = 1;
    }
    let out = args.out.unwrap_or_else(|| {
        std::env::temp_dir().join(format!("lb-zones-{:#x}.svg", args.seed.get()))
    });

    #[allow(clippy::disallowed_methods)] // wall time of the whole run, outside the world
    let started = std::time::Instant::now();
    let run = if args.view.is_some() {
        scenario.run_recorded()
    } else {
        scenario.run()
    };
    let outcome = match run {
        Ok(outcome) => outcome,
        Err(e) => {
            eprintln!("lb-zones: {e}");
            return ExitCode::FAILURE;
        }
    };
    let wall = started.elapsed();

    println!(
        "seed {}: {} zones of {}, {} backends per zone behind {}, {} clients, {} phases of {}s",
        outcome.seed,
        examples::lb::ZONES.len(),
        examples::lb::REGION,
        scenario.backends_per_zone,
        examples::lb::LB,
        scenario.tuning.clients,
        outcome.phases.len(),
        args.phase_seconds,
    );
    println!("\nfault plan:");
    for line in outcome.plan.to_string().lines() {
        println!("  {line}");
    }
    println!();
    print!("{}", table(&outcome.rows));
    println!("\nwhat the system did:");
    for reaction in &outcome.recorder.reactions {
        println!("  {reaction}");
    }
    if let Err(e) = std::fs::write(&out, examples::lb::plot::svg(&outcome)) {
        eprintln!("lb-zones: cannot write the plot to {}: {e}", out.display());
        return ExitCode::FAILURE;
    }
    println!("\nplot: {}", out.display());
    if let Some(view) = &args.view {
        let title = format!("lb-zones seed {}", outcome.seed);
        let html = detsim::RunView::new(&outcome.trace)
            .title(title)
            .render_html();
        if let Err(e) = std::fs::write(view, html) {
            eprintln!(
                "lb-zones: cannot write the picture to {}: {e}",
                view.display()
            );
            return ExitCode::FAILURE;
        }
        println!("the run is drawn in {}", view.display());
    }
    println!(
        "simulated {:.1}s in {:.2}s of wall time ({} steps); trace fingerprint {}",
        outcome.elapsed.as_secs_f64(),
        wall.as_secs_f64(),
        outcome.steps,
        outcome.fingerprint,
    );
    ExitCode::SUCCESS
}
