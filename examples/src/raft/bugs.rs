//! Planted bugs: realistic mistakes the example can be built with, selected
//! at run time (`kv-sweep --bug NAME`), so the sweep can show it finds them.

use std::fmt;
use std::str::FromStr;

/// A realistic mistake planted in the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Bug {
    /// A node acknowledges appended entries (to the leader, and the leader
    /// counts its own copy) as soon as they are written, and syncs in the
    /// background every 50 ms; a power loss loses what was acknowledged.
    AckBeforeDurable,
    /// A node grants a vote without first persisting its new term and vote;
    /// after a crash it may vote again in the same term.
    VoteWithoutPersist,
    /// The leader commits entries of earlier terms by counting replicas, and
    /// so (as in the Raft paper's Figure 8) appends no no-op when elected.
    Figure8,
    /// The leader answers reads from its state machine without confirming it
    /// is still the leader (no read index round).
    StaleLeaderRead,
    /// Recovery trusts log records without verifying their checksums.
    SkipChecksum,
    /// A follower keeps its own entries where the leader's conflict with them.
    NoTruncate,
}

impl Bug {
    /// Every bug, in the order of the book's table.
    pub const ALL: [Bug; 6] = [
        Bug::AckBeforeDurable,
        Bug::VoteWithoutPersist,
        Bug::Figure8,
        Bug::StaleLeaderRead,
        Bug::SkipChecksum,
        Bug::NoTruncate,
    ];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Bug::AckBeforeDurable => "ack-before-durable",
            Bug::VoteWithoutPersist => "vote-without-persist",
            Bug::Figure8 => "figure-8",
            Bug::StaleLeaderRead => "stale-leader-read",
            Bug::SkipChecksum => "skip-checksum",
            Bug::NoTruncate => "no-truncate",
        }
    }

    /// One line on what the mistake is.
    pub fn describe(self) -> &'static str {
        match self {
            Bug::AckBeforeDurable => {
                "acknowledge appended entries before they are synced (fsync every 50 ms)"
            }
            Bug::VoteWithoutPersist => "grant a vote without persisting the term and vote",
            Bug::Figure8 => "commit entries of earlier terms by counting replicas",
            Bug::StaleLeaderRead => "serve reads on the leader without confirming leadership",
            Bug::SkipChecksum => "trust log records on recovery without checking checksums",
            Bug::NoTruncate => "keep conflicting entries instead of truncating them",
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

/// The planted bug of a node, if any: a small helper the node and its glue share.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Bugs(pub Option<Bug>);

impl Bugs {
    /// Whether `bug` is planted.
    pub fn has(self, bug: Bug) -> bool {
        self.0 == Some(bug)
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
        assert!("figure8".parse::<Bug>().unwrap_err().contains("figure-8"));
    }
}
