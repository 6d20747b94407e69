//! The node's disk: the log and state files of [`storage`](super::storage)
//! on any [`Storage`] (a simulated disk, or a real directory).
//!
//! Every write is followed by a sync, and nothing counts as durable until the
//! sync returned. A failed write or sync (`EIO`, `ENOSPC`) fails the whole
//! step; the caller retries it, and the retry **rewrites** the bytes rather
//! than syncing again, because after a failed fsync Linux drops the dirty
//! pages and marks them clean ("fsyncgate", ATC'20): a second fsync would
//! report success without writing anything.

use std::io;

use detsim_disk::{File, OpenOptions, Storage};

use super::log::Entry;
use super::storage::{
    HardState, LogScan, Recovered, STATE_COPY_OFFSET, StateRecord, StateScan, encode_entries,
    encode_state, recover, scan_log, scan_state,
};

/// The log file's path.
pub const LOG_PATH: &str = "/raft.log";
/// The state file's path.
pub const STATE_PATH: &str = "/raft.state";
/// Reads at recovery go by this many bytes, so one bad sector costs only itself.
const READ_CHUNK: usize = 4096;
/// A read that fails this many times marks the end of what can be recovered.
const READ_ATTEMPTS_MAX: u32 = 3;

/// A node's two files, open.
#[derive(Debug)]
pub struct DiskLog<S: Storage> {
    log_file: S::File,
    state_file: S::File,
    /// Where each entry of the durable log ends in the log file.
    ends: Vec<u64>,
    /// The terms of the durable log's entries.
    terms: Vec<u64>,
    /// What the state file holds.
    state: StateRecord,
    /// Whether writes are synced before `persist` returns.
    sync: bool,
}

/// Why a node cannot start from its disk.
#[derive(Debug)]
pub enum OpenError {
    /// An I/O error opening or repairing the files (retry later).
    Io(io::Error),
    /// Both copies of the state are unreadable: the node does not know its
    /// term and vote, so it must not take part (an operator must step in).
    StateLost,
}

impl From<io::Error> for OpenError {
    fn from(error: io::Error) -> OpenError {
        OpenError::Io(error)
    }
}

impl std::fmt::Display for OpenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OpenError::Io(e) => write!(f, "cannot open the node's files: {e}"),
            OpenError::StateLost => f.write_str("both copies of the state file are unreadable"),
        }
    }
}

impl std::error::Error for OpenError {}

/// Reads `len` bytes from `offset`, chunk by chunk, stopping at the first
/// chunk that cannot be read (a latent sector error) or the end of the file.
async fn read_readable<F: File>(file: &F, offset: u64, len: u64) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(len as usize);
    let mut chunk = vec![0u8; READ_CHUNK];
    while (bytes.len() as u64) < len {
        let at = offset + bytes.len() as u64;
        let want = ((len - bytes.len() as u64) as usize).min(READ_CHUNK);
        let mut got = None;
        for _ in 0..READ_ATTEMPTS_MAX {
            if let Ok(n) = file.read_at(&mut chunk[..want], at).await {
                got = Some(n);
                break;
            }
        }
        match got {
            Some(n) if n > 0 => bytes.extend_from_slice(&chunk[..n]),
            _ => break,
        }
    }
    bytes
}

impl<S: Storage> DiskLog<S> {
    /// Opens (or creates) the files and recovers what they hold. With
    /// `verify` false, log checksums are not checked (the `skip-checksum` bug).
    ///
    /// A torn or rotten tail is cut off; if that loses entries the state
    /// file says were durable, the node enters amnesia (and the state file
    /// records it before anything else happens).
    ///
    /// # Errors
    ///
    /// [`OpenError::Io`] if a file cannot be opened or repaired,
    /// [`OpenError::StateLost`] if no copy of the state can be read.
    pub async fn open(storage: &S, verify: bool) -> Result<(DiskLog<S>, Recovered), OpenError> {
        let options = OpenOptions::read_write().create(true);
        let log_file = storage.open(LOG_PATH, options).await?;
        let state_file = storage.open(STATE_PATH, options).await?;
        // The names must be durable before anything written in them counts.
        storage.sync_dir("/").await?;

        let state_len = state_file.len()?;
        let mut state_bytes =
            read_readable(&state_file, 0, state_len.min(STATE_COPY_OFFSET as u64)).await;
        state_bytes.resize(STATE_COPY_OFFSET, 0);
        if state_len > STATE_COPY_OFFSET as u64 {
            let second = read_readable(
                &state_file,
                STATE_COPY_OFFSET as u64,
                state_len - STATE_COPY_OFFSET as u64,
            )
            .await;
            state_bytes.extend_from_slice(&second);
        }
        let state = match scan_state(&state_bytes) {
            StateScan::Empty => StateRecord::default(),
            StateScan::Found(record) => record,
            StateScan::Lost => return Err(OpenError::StateLost),
        };

        let log_len = log_file.len()?;
        let log_bytes = read_readable(&log_file, 0, log_len).await;
        let scan: LogScan = scan_log(&log_bytes, verify);
        let recovered = recover(state, scan);
        let valid_len = recovered.scan.valid_len();
        if log_len != valid_len {
            // Cut the torn or rotten tail, so appends land after the valid prefix.
            log_file.set_len(valid_len).await?;
            log_file.sync_data().await?;
        }
        let mut disk = DiskLog {
            log_file,
            state_file,
            ends: recovered.scan.ends.clone(),
            terms: recovered.scan.entries.iter().map(|e| e.term).collect(),
            state,
            sync: true,
        };
        // Record the amnesia (and the durable index of the log as it is now).
        if recovered.lost_acknowledged || state_len == 0 {
            disk.write_state(recovered.hard).await?;
        }
        Ok((disk, recovered))
    }

    /// The last durable index.
    pub fn durable_index(&self) -> u64 {
        self.ends.len() as u64
    }

    /// The state last written.
    pub fn state(&self) -> StateRecord {
        self.state
    }

    /// Makes durable: the hard state, the truncation of entries from
    /// `truncate_from` on, and `entries` after them. Returns the last durable
    /// index. Safe to call again with the same arguments after an error.
    ///
    /// With `sync` false, the writes are not synced (the `ack-before-durable`
    /// bug: they reach the disk only at the next [`DiskLog::sync`]).
    ///
    /// # Errors
    ///
    /// The first I/O error (`EIO`, `ENOSPC`…): nothing new counts as durable.
    pub async fn persist(
        &mut self,
        hard: Option<HardState>,
        truncate_from: Option<u64>,
        entries: &[Entry],
        sync: bool,
    ) -> io::Result<u64> {
        self.sync = sync;
        let hard = hard.unwrap_or(self.state.hard);
        if let Some(from) = truncate_from {
            let keep = (from.max(1) - 1).min(self.durable_index());
            if keep < self.durable_index() {
                // First say the log is durable only up to what survives, so a
                // crash in between never looks like lost acknowledged entries.
                self.write_state_upto(hard, keep).await?;
                let len = if keep == 0 {
                    0
                } else {
                    self.ends[keep as usize - 1]
                };
                self.log_file.set_len(len).await?;
                self.sync_log().await?;
                self.ends.truncate(keep as usize);
                self.terms.truncate(keep as usize);
            }
        }
        let fresh: Vec<&Entry> = entries
            .iter()
            .filter(|e| e.index > self.durable_index())
            .collect();
        if let Some(first) = fresh.first() {
            assert_eq!(
                first.index,
                self.durable_index() + 1,
                "entries follow the durable log"
            );
            let start = self.ends.last().copied().unwrap_or(0);
            let mut bytes = Vec::new();
            let mut ends = Vec::with_capacity(fresh.len());
            for entry in &fresh {
                bytes.extend_from_slice(&encode_entries(std::slice::from_ref(*entry)));
                ends.push((start + bytes.len() as u64, entry.term));
            }
            self.log_file.write_at(&bytes, start).await?;
            self.sync_log().await?;
            for (end, term) in ends {
                self.ends.push(end);
                self.terms.push(term);
            }
        }
        if hard != self.state.hard || self.state.durable_index != self.durable_index() {
            self.write_state(hard).await?;
        }
        Ok(self.durable_index())
    }

    /// Syncs both files (what `persist` does itself unless told not to).
    ///
    /// # Errors
    ///
    /// The sync's error.
    pub async fn sync(&self) -> io::Result<()> {
        self.log_file.sync_data().await?;
        self.state_file.sync_data().await
    }

    async fn sync_log(&self) -> io::Result<()> {
        if self.sync {
            self.log_file.sync_data().await?;
        }
        Ok(())
    }

    async fn write_state(&mut self, hard: HardState) -> io::Result<()> {
        let upto = self.durable_index();
        self.write_state_upto(hard, upto).await
    }

    async fn write_state_upto(&mut self, hard: HardState, upto: u64) -> io::Result<()> {
        let record = StateRecord {
            version: self.state.version + 1,
            hard,
            durable_index: upto,
            durable_term: if upto == 0 {
                0
            } else {
                self.terms[upto as usize - 1]
            },
        };
        self.state_file.write_at(&encode_state(&record), 0).await?;
        if self.sync {
            self.state_file.sync_data().await?;
        }
        self.state = record;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::rc::Rc;
    use std::time::Duration;

    use detsim::{Seed, Sim};
    use detsim_disk::{Corruption, DiskConfig, Disks, Fault, SimStorage};

    use super::*;
    use crate::raft::log::Command;

    fn entries(from: u64, to: u64, term: u64) -> Vec<Entry> {
        (from..=to)
            .map(|index| Entry {
                index,
                term,
                command: Command::Noop,
            })
            .collect()
    }

    type Seen = Rc<RefCell<Vec<Recovered>>>;

    /// A world with one node whose every incarnation recovers its disk,
    /// records what it found, and then runs `then`.
    fn world<F, Fut>(seed: u64, then: F) -> (Sim, Rc<Disks>, Seen)
    where
        F: Fn(DiskLog<SimStorage>, u64) -> Fut + Clone + 'static,
        Fut: std::future::Future<Output = ()> + 'static,
    {
        let mut sim = Sim::new(Seed::new(seed));
        let disks = Disks::install(&sim, DiskConfig::default()).unwrap();
        let seen: Seen = Rc::default();
        let record = seen.clone();
        sim.add_node("n1", move |ctx| {
            let (record, then) = (record.clone(), then.clone());
            async move {
                let storage = detsim_disk::storage().unwrap();
                let (disk, recovered) = DiskLog::open(&storage, true).await.unwrap();
                record.borrow_mut().push(recovered);
                then(disk, ctx.incarnation()).await;
            }
        })
        .unwrap();
        (sim, disks, seen)
    }

    #[test]
    fn synced_entries_and_state_survive_a_crash() {
        // Proves what persist returned as durable is what recovery finds.
        let (mut sim, _disks, seen) = world(1, |mut disk, incarnation| async move {
            if incarnation == 0 {
                let hard = HardState {
                    term: 3,
                    voted_for: Some(1),
                    amnesia_term: 0,
                    amnesia_index: 0,
                };
                disk.persist(Some(hard), None, &entries(1, 5, 3), true)
                    .await
                    .unwrap();
                // Conflict: replace 4.. with entries of term 4.
                disk.persist(None, Some(4), &entries(4, 6, 4), true)
                    .await
                    .unwrap();
                assert_eq!(disk.durable_index(), 6);
            }
        });
        sim.run(async {
            detsim::time::sleep(Duration::from_millis(100)).await;
            let h = detsim::handle();
            h.crash("n1").unwrap();
            h.restart("n1").unwrap();
            detsim::time::sleep(Duration::from_millis(100)).await;
        })
        .unwrap();
        let after = &seen.borrow()[1];
        assert!(!after.lost_acknowledged);
        assert_eq!(after.hard.term, 3);
        assert_eq!(after.hard.voted_for, Some(1));
        let terms: Vec<u64> = after.scan.entries.iter().map(|e| e.term).collect();
        assert_eq!(terms, [3, 3, 3, 4, 4, 4]);
    }

    #[test]
    fn rot_inside_acknowledged_entries_means_amnesia() {
        // Proves a corrupted durable record is cut off, noticed against the
        // state file, and recorded as amnesia that survives another crash.
        let (mut sim, disks, seen) = world(2, |mut disk, incarnation| async move {
            if incarnation == 0 {
                let hard = HardState {
                    term: 2,
                    voted_for: None,
                    amnesia_term: 0,
                    amnesia_index: 0,
                };
                disk.persist(Some(hard), None, &entries(1, 50, 2), true)
                    .await
                    .unwrap();
            }
        });
        sim.run(async move {
            detsim::time::sleep(Duration::from_millis(100)).await;
            let h = detsim::handle();
            h.crash("n1").unwrap();
            disks
                .inject(
                    "n1",
                    Fault::Corrupt {
                        path: LOG_PATH.into(),
                        offset: 300,
                        corruption: Corruption::BitFlip { bit: 8 * 300 + 1 },
                    },
                )
                .unwrap();
            h.restart("n1").unwrap();
            detsim::time::sleep(Duration::from_millis(100)).await;
            h.crash("n1").unwrap();
            h.restart("n1").unwrap();
            detsim::time::sleep(Duration::from_millis(100)).await;
        })
        .unwrap();
        let seen = seen.borrow();
        assert!(seen[1].lost_acknowledged);
        assert!(seen[1].scan.entries.len() < 50);
        let amnesia = |r: &Recovered| (r.hard.amnesia_term, r.hard.amnesia_index);
        assert_eq!(amnesia(&seen[1]), (2, 50));
        assert_eq!(amnesia(&seen[2]), (2, 50), "amnesia is durable");
        assert!(!seen[2].lost_acknowledged);
    }

    #[test]
    fn a_failed_fsync_is_retried_by_rewriting() {
        // Proves the fsyncgate rule: after a failed sync, a retry rewrites the
        // data, and it is there after a crash.
        let (mut sim, _disks, seen) = world(3, |mut disk, incarnation| async move {
            if incarnation == 0 {
                let me = detsim::current_node().unwrap();
                let sync = Fault::FailNextSync {
                    path: LOG_PATH.into(),
                };
                Disks::current().unwrap().inject(me, sync).unwrap();
                let batch = entries(1, 3, 1);
                assert!(disk.persist(None, None, &batch, true).await.is_err());
                assert_eq!(disk.durable_index(), 0);
                disk.persist(None, None, &batch, true).await.unwrap();
            }
        });
        sim.run(async {
            detsim::time::sleep(Duration::from_millis(100)).await;
            let h = detsim::handle();
            h.crash("n1").unwrap();
            h.restart("n1").unwrap();
            detsim::time::sleep(Duration::from_millis(100)).await;
        })
        .unwrap();
        assert_eq!(seen.borrow()[1].scan.entries.len(), 3);
    }
}
