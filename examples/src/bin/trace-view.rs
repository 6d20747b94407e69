//! `trace-view`: draws a recorded trace (JSON lines, as a replay with
//! `SIM_SEED` writes one) as a space-time diagram in one self-contained HTML
//! file: a lane per node, messages as arrows, faults, crashes, logs, client
//! operations and the failure.
//!
//! ```text
//! cargo run --release -p examples --bin trace-view -- trace.jsonl -o view.html
//! cargo run --release -p examples --bin trace-view -- trace.jsonl --from 312.5 --to 313   # a stretch of a long run
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use detsim::{RunView, Trace};

/// Draws a recorded detsim trace as a self-contained HTML page.
#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// The trace, as JSON lines.
    trace: PathBuf,
    /// Where to write the page (default: the trace's path with `.view.html`).
    #[arg(short, long)]
    out: Option<PathBuf>,
    /// The page's title (default: the trace's file name).
    #[arg(long)]
    title: Option<String>,
    /// Show from this instant first (seconds of virtual time), and draw
    /// every message around it.
    #[arg(long, requires = "to")]
    from: Option<f64>,
    /// … to this instant.
    #[arg(long, requires = "from")]
    to: Option<f64>,
    /// Messages drawn one by one at most (a longer run keeps every message
    /// of a window around the failure or `--from`/`--to`, and only the unusual ones elsewhere).
    #[arg(long, default_value_t = RunView::DETAIL_MAX)]
    detail_max: usize,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let text = match std::fs::read_to_string(&args.trace) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("trace-view: cannot read {}: {e}", args.trace.display());
            return ExitCode::FAILURE;
        }
    };
    let trace = match Trace::from_json_lines(&text) {
        Ok(trace) => trace,
        Err(e) => {
            eprintln!("trace-view: {}: {e}", args.trace.display());
            return ExitCode::FAILURE;
        }
    };
    let name = args
        .trace
        .file_name()
        .map_or_else(|| "trace".to_owned(), |n| n.to_string_lossy().into_owned());
    let out = args.out.unwrap_or_else(|| {
        let stem = name.strip_suffix(".jsonl").unwrap_or(&name);
        let stem = stem.strip_suffix(".trace").unwrap_or(stem);
        args.trace.with_file_name(format!("{stem}.view.html"))
    });
    let mut view = RunView::new(&trace)
        .title(args.title.unwrap_or(name))
        .detail_max(args.detail_max);
    if let (Some(from), Some(to)) = (args.from, args.to) {
        let nanos = |seconds: f64| (seconds.max(0.0) * 1e9) as u64;
        view = view.window(nanos(from), nanos(to));
    }
    let html = view.render_html();
    if let Err(e) = std::fs::write(&out, &html) {
        eprintln!("trace-view: cannot write {}: {e}", out.display());
        return ExitCode::FAILURE;
    }
    println!(
        "{} events, {} messages, {} lanes: {} ({} KB)",
        trace.events.len(),
        view.arrows().len(),
        view.lanes().len(),
        out.display(),
        html.len() / 1024
    );
    ExitCode::SUCCESS
}
