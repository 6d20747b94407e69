//! Planted bugs: realistic mistakes the service can be built with,
//! selected at run time (`httpkv-sweep --bug NAME`).

use std::fmt;
use std::str::FromStr;

/// A realistic mistake planted in the service.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Bug {
    /// "Degraded mode": when a read cannot reach a quorum in time, the
    /// replica answers from its own copy instead of failing. Without faults
    /// a quorum always answers, so only a partition (or a stall as long)
    /// shows it: a replica cut off from the others serves stale values.
    LocalReadOnTimeout,
    /// A read returns the newest value of its quorum without writing it
    /// back to a quorum first (ABD's second phase), so a later read can see
    /// an older value when a write reached only a minority.
    SkipWriteBack,
}

impl Bug {
    /// Every bug.
    pub const ALL: [Bug; 2] = [Bug::LocalReadOnTimeout, Bug::SkipWriteBack];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Bug::LocalReadOnTimeout => "local-read-on-timeout",
            Bug::SkipWriteBack => "skip-write-back",
        }
    }

    /// One line on what the mistake is.
    pub fn describe(self) -> &'static str {
        match self {
            Bug::LocalReadOnTimeout => {
                "answer a read from the local copy when no quorum answers in time"
            }
            Bug::SkipWriteBack => {
                "return a read's newest value without writing it back to a quorum"
            }
        }
    }
}

impl fmt::Display for Bug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Bug {
    type Err = String;

    fn from_str(text: &str) -> Result<Bug, String> {
        Bug::ALL
            .into_iter()
            .find(|bug| bug.name() == text)
            .ok_or_else(|| {
                let names: Vec<&str> = Bug::ALL.iter().map(|b| b.name()).collect();
                format!("unknown bug {text:?}: expected one of {}", names.join(", "))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        // Proves every bug parses back from its command-line name.
        for bug in Bug::ALL {
            assert_eq!(bug.name().parse::<Bug>(), Ok(bug));
        }
        assert!(
            "stale"
                .parse::<Bug>()
                .unwrap_err()
                .contains("skip-write-back")
        );
    }
}
