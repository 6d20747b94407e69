//! `trace-view`: draws a recorded trace (JSON lines, as a replay with
//! `SIM_SEED` writes one) as a space-time diagram in one self-contained HTML
//! file: a lane per node, messages as arrows, faults, crashes, logs, client
//! operations and the failure.
//!
//! ```text
//! cargo run --release -p examples --bin trace-view -- trace.jsonl -o view.html
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
    let view = RunView::new(&trace).title(args.title.unwrap_or(name));
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
