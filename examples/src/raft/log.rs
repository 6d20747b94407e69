//! Log entries and the in-memory log.

use serde::{Deserialize, Serialize};

use super::kv::{ClientId, Op};

/// What an entry asks the state machine to do.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Command {
    /// Nothing: a new leader's first entry, which commits the entries of
    /// earlier terms (Raft §5.4.2) and lets reads be served.
    Noop,
    /// A client's command number `seq`.
    Client {
        /// The client's session.
        client: ClientId,
        /// The command's number in the session.
        seq: u64,
        /// The operation.
        op: Op,
    },
}

/// One log entry.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Entry {
    /// Its position, from 1.
    pub index: u64,
    /// The term of the leader that created it.
    pub term: u64,
    /// What it does.
    pub command: Command,
}

/// The log: entries `1..=last_index()`, in memory (this example has no
/// snapshots, so the log is never compacted).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Log {
    entries: Vec<Entry>,
}

impl Log {
    /// A log of these entries.
    ///
    /// # Panics
    ///
    /// If the entries are not numbered 1, 2, 3…
    pub fn from_entries(entries: Vec<Entry>) -> Log {
        let mut log = Log::default();
        for entry in entries {
            log.append(entry);
        }
        log
    }

    /// The index of the last entry (0 when empty).
    pub fn last_index(&self) -> u64 {
        self.entries.len() as u64
    }

    /// The term of the last entry (0 when empty).
    pub fn last_term(&self) -> u64 {
        self.entries.last().map_or(0, |e| e.term)
    }

    /// The term of entry `index`; `Some(0)` for index 0, `None` past the end.
    pub fn term_at(&self, index: u64) -> Option<u64> {
        if index == 0 {
            return Some(0);
        }
        self.entries.get(index as usize - 1).map(|e| e.term)
    }

    /// Entry `index`.
    pub fn get(&self, index: u64) -> Option<&Entry> {
        if index == 0 {
            return None;
        }
        self.entries.get(index as usize - 1)
    }

    /// Up to `count` entries from `index` on.
    pub fn slice(&self, index: u64, count: usize) -> &[Entry] {
        let start = (index.max(1) as usize - 1).min(self.entries.len());
        let end = start.saturating_add(count).min(self.entries.len());
        &self.entries[start..end]
    }

    /// Appends `entry`, which must be the next one.
    ///
    /// # Panics
    ///
    /// If `entry.index` is not `last_index() + 1`.
    pub fn append(&mut self, entry: Entry) {
        assert_eq!(
            entry.index,
            self.last_index() + 1,
            "log entries are appended in order"
        );
        self.entries.push(entry);
    }

    /// Removes entries `index..`.
    pub fn truncate_from(&mut self, index: u64) {
        self.entries.truncate(index.max(1) as usize - 1);
    }

    /// Every entry.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Whether a log ending at `(last_index, last_term)` is at least as up to
    /// date as this one (Raft §5.4.1).
    pub fn is_behind(&self, last_index: u64, last_term: u64) -> bool {
        (last_term, last_index) >= (self.last_term(), self.last_index())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(index: u64, term: u64) -> Entry {
        Entry {
            index,
            term,
            command: Command::Noop,
        }
    }

    #[test]
    fn terms_slices_and_truncation() {
        // Proves the index arithmetic at both ends of the log.
        let mut log = Log::from_entries(vec![entry(1, 1), entry(2, 1), entry(3, 2)]);
        assert_eq!((log.last_index(), log.last_term()), (3, 2));
        assert_eq!(log.term_at(0), Some(0));
        assert_eq!(log.term_at(3), Some(2));
        assert_eq!(log.term_at(4), None);
        assert_eq!(log.slice(2, 10).len(), 2);
        assert_eq!(log.slice(4, 10).len(), 0);
        log.truncate_from(2);
        assert_eq!(log.last_index(), 1);
        assert!(log.is_behind(1, 1));
        assert!(log.is_behind(0, 2));
        assert!(!log.is_behind(5, 0));
    }
}
