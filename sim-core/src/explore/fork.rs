//! A run's fork chain: where it left its parent's future for a new one.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::Seed;

/// One fork: from virtual instant `at` on, the world draws from new
/// randomness keyed by `seed`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Fork {
    /// The instant (virtual time since the start) at which the run leaves its parent.
    pub at: Duration,
    /// The seed mixed into every stream from `at` on.
    pub seed: Seed,
}

/// A run's chain of forks, in time order: together with the seed, the
/// identity of a run. Empty for a plain run.
///
/// A world with seed `s` and forks `[(t1, f1), (t2, f2)]` draws exactly like
/// the world of seed `s` until `t1`, exactly like the world of `s` forked at
/// `t1` with `f1` until `t2`, and from new randomness after. It prints and
/// parses as `SIM_FORKS` reads it: `1.25s:0x9,3.5s:0x11`.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use detsim::{Fork, Forks, Seed};
///
/// let forks: Forks = "1.25s:0x9,3500ms:17".parse().unwrap();
/// assert_eq!(forks.as_slice()[1], Fork { at: Duration::from_millis(3500), seed: Seed::new(17) });
/// assert_eq!(forks.to_string(), "1.25s:0x9,3.5s:0x11");
/// assert!("2s:0x1,1s:0x2".parse::<Forks>().is_err(), "forks go forward in time");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Forks(Vec<Fork>);

impl Forks {
    /// No forks: a plain run.
    pub fn none() -> Forks {
        Forks(Vec::new())
    }

    /// Whether there is no fork.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The forks, in time order.
    pub fn as_slice(&self) -> &[Fork] {
        &self.0
    }

    /// This chain cut at `at` (the forks strictly before it) and extended by
    /// a fork at `at` with `seed`: a child that replays this run up to `at`.
    pub fn fork_at(&self, at: Duration, seed: Seed) -> Forks {
        let mut forks: Vec<Fork> = self.0.iter().copied().filter(|f| f.at < at).collect();
        forks.push(Fork { at, seed });
        Forks(forks)
    }

    /// The forks from a list.
    ///
    /// # Errors
    ///
    /// [`ParseForksError`] when the instants do not strictly increase.
    pub fn new(forks: Vec<Fork>) -> Result<Forks, ParseForksError> {
        if forks.windows(2).any(|w| w[0].at >= w[1].at) {
            return Err(ParseForksError {
                input: Forks(forks).to_string(),
                reason: "fork instants must strictly increase",
            });
        }
        Ok(Forks(forks))
    }
}

impl fmt::Display for Forks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, fork) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{}:{:#x}", format_instant(fork.at), fork.seed.get())?;
        }
        Ok(())
    }
}

/// A string that is not a fork chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseForksError {
    input: String,
    reason: &'static str,
}

impl fmt::Display for ParseForksError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid forks {:?}: {} (expected `1.25s:0x9,3.5s:0x11`)",
            self.input, self.reason
        )
    }
}

impl std::error::Error for ParseForksError {}

impl FromStr for Forks {
    type Err = ParseForksError;

    fn from_str(s: &str) -> Result<Forks, ParseForksError> {
        let error = |reason| ParseForksError {
            input: s.to_owned(),
            reason,
        };
        let mut forks = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (at, seed) = part
                .split_once(':')
                .ok_or_else(|| error("each fork is `<instant>:<seed>`"))?;
            let at = parse_instant(at).ok_or_else(|| error("bad instant (say 1.25s, 300ms)"))?;
            let seed: Seed = seed.parse().map_err(|_| error("bad fork seed"))?;
            forks.push(Fork { at, seed });
        }
        Forks::new(forks).map_err(|e| error(e.reason))
    }
}

/// `1.25s`, `0s`, `0.000001s`: decimal seconds, exact to the nanosecond.
pub(crate) fn format_instant(at: Duration) -> String {
    let nanos = at.subsec_nanos();
    if nanos == 0 {
        return format!("{}s", at.as_secs());
    }
    let fraction = format!("{nanos:09}");
    format!("{}.{}s", at.as_secs(), fraction.trim_end_matches('0'))
}

/// Parses `1.25s`, `300ms`, `20us`, `7ns` exactly.
fn parse_instant(text: &str) -> Option<Duration> {
    let text = text.trim();
    let (number, scale) = if let Some(n) = text.strip_suffix("ms") {
        (n, 1_000_000u64)
    } else if let Some(n) = text.strip_suffix("us") {
        (n, 1_000)
    } else if let Some(n) = text.strip_suffix("ns") {
        (n, 1)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1_000_000_000)
    } else {
        return None;
    };
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let digits = scale.ilog10() as usize;
    if fraction.len() > digits {
        return None;
    }
    let whole: u64 = whole.parse().ok()?;
    let fraction: u64 = if fraction.is_empty() {
        0
    } else {
        fraction.parse::<u64>().ok()? * 10u64.pow((digits - fraction.len()) as u32)
    };
    let nanos = whole.checked_mul(scale)?.checked_add(fraction)?;
    Some(Duration::from_nanos(nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_round_trip() {
        for nanos in [0, 1, 1_250_000_000, 3_000_000_000, 999_999_999, 12_000_001] {
            let at = Duration::from_nanos(nanos);
            assert_eq!(parse_instant(&format_instant(at)), Some(at));
        }
        assert_eq!(parse_instant("1.5ms"), Some(Duration::from_micros(1500)));
        assert_eq!(parse_instant("1.5"), None);
        assert_eq!(parse_instant("s"), None);
    }

    #[test]
    fn fork_at_cuts_the_later_forks() {
        let forks: Forks = "1s:0x1,2s:0x2,3s:0x3".parse().unwrap();
        let child = forks.fork_at(Duration::from_millis(2500), Seed::new(9));
        assert_eq!(child.to_string(), "1s:0x1,2s:0x2,2.5s:0x9");
        let child = forks.fork_at(Duration::from_secs(2), Seed::new(9));
        assert_eq!(child.to_string(), "1s:0x1,2s:0x9");
    }
}
