//! Progress of a sweep: a live line on a terminal, periodic plain lines in CI.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use crate::Seed;

/// A seed running longer than this is named on the progress line, so a sweep
/// stuck in one long run (or its history check) says so.
pub(crate) const SLOW_SEED: Duration = Duration::from_secs(10);

pub(crate) struct Progress {
    name: String,
    total: u64,
    start: Instant,
    last: Instant,
    terminal: bool,
    enabled: bool,
    printed: bool,
    /// Seeds being run, and since when.
    running: BTreeMap<Seed, Instant>,
    done: u64,
    failed: u64,
}

impl Progress {
    #[allow(clippy::disallowed_methods)] // Wall-clock progress of the sweep driver, not of a world.
    pub(crate) fn new(name: &str, total: u64, enabled: bool) -> Progress {
        let now = Instant::now();
        Progress {
            name: name.to_owned(),
            total,
            start: now,
            last: now,
            terminal: std::io::stderr().is_terminal(),
            enabled,
            printed: false,
            running: BTreeMap::new(),
            done: 0,
            failed: 0,
        }
    }

    /// A worker starts running `seed`.
    #[allow(clippy::disallowed_methods)]
    pub(crate) fn started(&mut self, seed: Seed) {
        if self.enabled {
            self.running.insert(seed, Instant::now());
        }
    }

    /// A worker is done with `seed`.
    pub(crate) fn finished(&mut self, seed: Seed) {
        self.running.remove(&seed);
    }

    /// Reprints the line if a seed has been running longer than [`SLOW_SEED`]
    /// (called periodically while seeds run).
    pub(crate) fn tick(&mut self) {
        if self.slowest().is_some() {
            self.update(self.done, self.failed);
        }
    }

    /// The seed running the longest, if longer than [`SLOW_SEED`].
    fn slowest(&self) -> Option<(Seed, Duration)> {
        self.running
            .iter()
            .map(|(seed, since)| (*seed, since.elapsed()))
            .filter(|(_, running)| *running >= SLOW_SEED)
            .max_by_key(|(seed, running)| (*running, std::cmp::Reverse(*seed)))
    }

    pub(crate) fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    #[allow(clippy::disallowed_methods)]
    pub(crate) fn update(&mut self, done: u64, failed: u64) {
        if !self.enabled {
            return;
        }
        self.done = done;
        self.failed = failed;
        let now = Instant::now();
        let every = if self.terminal {
            Duration::from_millis(100)
        } else {
            Duration::from_secs(10)
        };
        if now.duration_since(self.last) < every && done < self.total {
            return;
        }
        self.last = now;
        let line = self.line(now);
        let mut err = std::io::stderr().lock();
        if self.terminal {
            let _ = write!(err, "\r\x1b[K{line}");
        } else {
            let _ = writeln!(err, "{line}");
        }
        let _ = err.flush();
        self.printed = true;
    }

    /// The progress line at `now`.
    fn line(&self, now: Instant) -> String {
        let (done, failed) = (self.done, self.failed);
        let elapsed = now.duration_since(self.start).as_secs_f64().max(1e-9);
        let rate = done as f64 / elapsed;
        let left = self.total.saturating_sub(done) as f64 / rate.max(1e-9);
        let mut line = format!(
            "sweep {}: {done}/{} seeds, {failed} failed, {rate:.0} seeds/s, ETA {left:.0}s",
            self.name, self.total
        );
        if let Some((seed, running)) = self.slowest() {
            line.push_str(&format!(
                "; seed {seed} running for {:.0}s (a long run or history check)",
                running.as_secs_f64()
            ));
        }
        line
    }

    pub(crate) fn finish(&mut self) {
        if self.enabled && self.terminal && self.printed {
            let _ = writeln!(std::io::stderr());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::disallowed_methods)]
    fn a_seed_running_long_is_named_on_the_line() {
        // Proves a sweep stuck in one seed says which, and only once it is slow.
        let mut progress = Progress::new("t", 10, true);
        progress.update(3, 0);
        progress.started(Seed::new(7));
        let now = Instant::now();
        assert!(!progress.line(now).contains("running"));
        progress.running.insert(
            Seed::new(7),
            now.checked_sub(SLOW_SEED * 2).expect("uptime"),
        );
        let line = progress.line(now);
        assert!(line.contains("3/10 seeds"), "{line}");
        assert!(
            line.contains(&format!("seed {} running for", Seed::new(7))),
            "{line}"
        );
        progress.finished(Seed::new(7));
        assert!(!progress.line(now).contains("running"));
    }
}
