//! Checks Jepsen key-value histories (Porcupine's `test_data/kv` corpus: get, put
//! and append on string keys) with detsim's linearizability checker and
//! `CheckerOptions::default()`, and prints one JSON line per file: operations,
//! clients, keys, verdict (with the failing key and the keys left undecided), what
//! the file name expects, and wall milliseconds (the first run and the best of
//! `--runs`, a fresh checker each).
//!
//! ```text
//! cargo run --release -p examples --bin check-jepsen -- /tmp/porcupine-kv
//! cargo run --release -p examples --bin check-jepsen -- --per-key /tmp/porcupine-kv/c50-bad.txt
//! ```
//!
//! The data is third-party and not in this repository: give a directory (every
//! `*.txt` in it, in name order) or files. Exits with status 1 when a verdict
//! disagrees with its file name (`-ok`: linearizable, `-bad`: not), 2 on an
//! unreadable or malformed file.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use detsim::history::CheckerOptions;
use examples::bench::jepsen_kv::{check_file, check_keys, parse_history};

#[derive(Parser, Debug)]
#[command(about = "Check Jepsen key-value histories for linearizability")]
struct Args {
    /// History files, or directories whose `*.txt` files are checked.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Runs per file; the best and the first are reported.
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Also check each key alone and print one JSON line per key.
    #[arg(long)]
    per_key: bool,
    /// For investigation only: a step budget per partition instead of the default
    /// (none); the reported table uses `CheckerOptions::default()`.
    #[arg(long)]
    steps_max: Option<u64>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let mut files = Vec::new();
    for path in &args.paths {
        if path.is_dir() {
            let entries = match std::fs::read_dir(path) {
                Ok(entries) => entries,
                Err(err) => {
                    eprintln!("{}: {err}", path.display());
                    return ExitCode::from(2);
                }
            };
            let mut found: Vec<PathBuf> = entries
                .filter_map(|entry| entry.ok().map(|entry| entry.path()))
                .filter(|p| p.extension().is_some_and(|ext| ext == "txt"))
                .collect();
            found.sort();
            files.extend(found);
        } else {
            files.push(path.clone());
        }
    }
    let options = CheckerOptions {
        steps_max: args.steps_max,
        ..CheckerOptions::default()
    };
    let mut disagree = false;
    for path in files {
        let name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(err) => {
                eprintln!("{}: {err}", path.display());
                return ExitCode::from(2);
            }
        };
        let history = match parse_history(&text) {
            Ok(history) => history,
            Err(err) => {
                eprintln!("{}: {err}", path.display());
                return ExitCode::from(2);
            }
        };
        let report = check_file(&name, &history, args.runs, &options);
        if report
            .expected
            .is_some_and(|expected| expected != report.verdict)
        {
            disagree = true;
        }
        println!(
            "{}",
            serde_json::to_string(&report).expect("a report serializes")
        );
        if args.per_key {
            for key in check_keys(&name, &history, &options) {
                println!(
                    "{}",
                    serde_json::to_string(&key).expect("a report serializes")
                );
            }
        }
    }
    if disagree {
        eprintln!("a verdict disagrees with its file name");
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}
