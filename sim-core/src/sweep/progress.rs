//! Progress of a sweep: a live line on a terminal, periodic plain lines in CI.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

pub(crate) struct Progress {
    name: String,
    total: u64,
    start: Instant,
    last: Instant,
    terminal: bool,
    enabled: bool,
    printed: bool,
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
        }
    }

    pub(crate) fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    #[allow(clippy::disallowed_methods)]
    pub(crate) fn update(&mut self, done: u64, failed: u64) {
        if !self.enabled {
            return;
        }
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
        let elapsed = now.duration_since(self.start).as_secs_f64().max(1e-9);
        let rate = done as f64 / elapsed;
        let left = self.total.saturating_sub(done) as f64 / rate.max(1e-9);
        let line = format!(
            "sweep {}: {done}/{} seeds, {failed} failed, {rate:.0} seeds/s, ETA {left:.0}s",
            self.name, self.total
        );
        let mut err = std::io::stderr().lock();
        if self.terminal {
            let _ = write!(err, "\r\x1b[K{line}");
        } else {
            let _ = writeln!(err, "{line}");
        }
        let _ = err.flush();
        self.printed = true;
    }

    pub(crate) fn finish(&mut self) {
        if self.enabled && self.terminal && self.printed {
            let _ = writeln!(std::io::stderr());
        }
    }
}
