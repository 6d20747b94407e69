//! The on-disk format, independent of any disk: checksummed records, the
//! log file and the state file, and recovery from whatever a crash or a
//! rotting disk left.
//!
//! **Log file** (`raft.log`): records appended one batch per write, each
//! `magic (4) | length (4) | crc32c (4) | postcard(Entry)`. The checksum
//! covers the length and the payload. Recovery reads records from the start
//! and stops at the first that is torn, rotten or out of sequence: the valid
//! prefix is the log.
//!
//! **State file** (`raft.state`): the [`HardState`] (term, vote, and how far
//! the log is known durable), written as two copies in two sectors with one
//! write and one sync, so one rotten sector leaves the other copy.
//!
//! Entries are acknowledged only once both the log and the state file are
//! synced; so if recovery finds a log shorter than the state file says was
//! durable, the disk lost acknowledged entries (corruption, a latent sector
//! error). The node then must not vote until it has caught up with a leader
//! of a later term (see [`HardState::amnesia_term`]).

use serde::{Deserialize, Serialize};

use super::log::Entry;
use super::message::NodeId;

/// Magic of a log record: `RLOG`.
pub const LOG_MAGIC: u32 = u32::from_le_bytes(*b"RLOG");
/// Magic of a state record: `RSTA`.
pub const STATE_MAGIC: u32 = u32::from_le_bytes(*b"RSTA");
/// Bytes of a record header.
pub const HEADER_SIZE: usize = 12;
/// The largest record payload accepted.
pub const RECORD_SIZE_MAX: usize = 1 << 20;
/// Where the second copy of the state lives in the state file: the next
/// sector (4 KiB disks; a 512-byte disk has it further away still).
pub const STATE_COPY_OFFSET: usize = 4096;

const _: () = assert!(
    STATE_COPY_OFFSET >= 512,
    "the copies must not share a sector"
);

/// What must survive a crash besides the log.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HardState {
    /// The latest term this node has seen.
    pub term: u64,
    /// Whom it voted for in `term`.
    pub voted_for: Option<NodeId>,
    /// The node lost entries it had acknowledged (its disk failed them): the
    /// last acknowledged position was entry `amnesia_index` of term
    /// `amnesia_term` (0, 0: no such loss). Until its log is at least that up
    /// to date again, it votes only for candidates at least that up to date,
    /// and does not campaign.
    pub amnesia_term: u64,
    /// See `amnesia_term`.
    pub amnesia_index: u64,
}

/// The state file's content.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateRecord {
    /// Incremented at every write: the newer copy wins.
    pub version: u64,
    /// Term, vote, amnesia.
    pub hard: HardState,
    /// The log is durable up to this index…
    pub durable_index: u64,
    /// …whose entry has this term.
    pub durable_term: u64,
}

/// CRC-32C (Castagnoli), bit-reflected, as iSCSI, ext4 and most storage use.
pub fn crc32c(bytes: &[u8]) -> u32 {
    const TABLE: [u32; 256] = {
        let mut table = [0u32; 256];
        let mut i = 0;
        while i < 256 {
            let mut crc = i as u32;
            let mut bit = 0;
            while bit < 8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0x82F6_3B78
                } else {
                    crc >> 1
                };
                bit += 1;
            }
            table[i] = crc;
            i += 1;
        }
        table
    };
    let mut crc = !0u32;
    for byte in bytes {
        crc = TABLE[((crc ^ u32::from(*byte)) & 0xFF) as usize] ^ (crc >> 8);
    }
    !crc
}

/// Frames `payload` as a record.
pub fn encode_record(magic: u32, payload: &[u8]) -> Vec<u8> {
    assert!(payload.len() <= RECORD_SIZE_MAX, "record too large");
    let len = (payload.len() as u32).to_le_bytes();
    let mut checked = Vec::with_capacity(4 + payload.len());
    checked.extend_from_slice(&len);
    checked.extend_from_slice(payload);
    let mut record = Vec::with_capacity(HEADER_SIZE + payload.len());
    record.extend_from_slice(&magic.to_le_bytes());
    record.extend_from_slice(&len);
    record.extend_from_slice(&crc32c(&checked).to_le_bytes());
    record.extend_from_slice(payload);
    record
}

/// Reads the record at the start of `bytes`: its payload and total size, or
/// `None` if it is absent, torn or rotten. With `verify` false the checksum is
/// not compared (the `skip-checksum` bug).
pub fn decode_record(bytes: &[u8], magic: u32, verify: bool) -> Option<(&[u8], usize)> {
    let header = bytes.get(..HEADER_SIZE)?;
    let word = |i: usize| u32::from_le_bytes(header[i..i + 4].try_into().expect("4 bytes"));
    if word(0) != magic {
        return None;
    }
    let len = word(4) as usize;
    if len > RECORD_SIZE_MAX {
        return None;
    }
    let payload = bytes.get(HEADER_SIZE..HEADER_SIZE + len)?;
    if verify {
        let mut checked = Vec::with_capacity(4 + len);
        checked.extend_from_slice(&header[4..8]);
        checked.extend_from_slice(payload);
        if crc32c(&checked) != word(8) {
            return None;
        }
    }
    Some((payload, HEADER_SIZE + len))
}

/// Encodes a batch of entries as consecutive log records.
pub fn encode_entries(entries: &[Entry]) -> Vec<u8> {
    let mut bytes = Vec::new();
    for entry in entries {
        let payload = postcard::to_allocvec(entry).expect("entries always encode");
        bytes.extend_from_slice(&encode_record(LOG_MAGIC, &payload));
    }
    bytes
}

/// What recovery found in a log file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogScan {
    /// The valid prefix's entries.
    pub entries: Vec<Entry>,
    /// The valid prefix's length in bytes, and each entry's end offset.
    pub ends: Vec<u64>,
    /// Bytes after the valid prefix (a torn tail, or rot).
    pub garbage: u64,
}

impl LogScan {
    /// The byte length of the valid prefix.
    pub fn valid_len(&self) -> u64 {
        self.ends.last().copied().unwrap_or(0)
    }
}

/// Reads the log file's records from the start, stopping at the first one
/// that is torn, rotten (with `verify`), undecodable, or out of sequence.
pub fn scan_log(bytes: &[u8], verify: bool) -> LogScan {
    let mut scan = LogScan::default();
    let mut offset = 0usize;
    while let Some((payload, size)) = decode_record(&bytes[offset..], LOG_MAGIC, verify) {
        let Ok(entry) = postcard::from_bytes::<Entry>(payload) else {
            break;
        };
        let expected = scan.entries.len() as u64 + 1;
        let last_term = scan.entries.last().map_or(0, |e| e.term);
        if entry.index != expected || entry.term < last_term {
            break;
        }
        offset += size;
        scan.entries.push(entry);
        scan.ends.push(offset as u64);
    }
    scan.garbage = (bytes.len() - offset) as u64;
    scan
}

/// The state file's bytes for `record`: two copies, in two sectors.
pub fn encode_state(record: &StateRecord) -> Vec<u8> {
    let payload = postcard::to_allocvec(record).expect("state always encodes");
    let copy = encode_record(STATE_MAGIC, &payload);
    assert!(
        copy.len() <= STATE_COPY_OFFSET,
        "a state copy fits a sector"
    );
    let mut bytes = vec![0u8; STATE_COPY_OFFSET + copy.len()];
    bytes[..copy.len()].copy_from_slice(&copy);
    bytes[STATE_COPY_OFFSET..].copy_from_slice(&copy);
    bytes
}

/// What recovery found in the state file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StateScan {
    /// No state was ever written: a fresh node.
    Empty,
    /// The newest valid copy.
    Found(StateRecord),
    /// Bytes are there, but no copy is valid: the node cannot know its term
    /// and vote, and must not take part until an operator intervenes.
    Lost,
}

/// Reads the state file: the newest valid copy.
pub fn scan_state(bytes: &[u8]) -> StateScan {
    if bytes.iter().all(|b| *b == 0) {
        return StateScan::Empty;
    }
    let copy = |offset: usize| {
        let (payload, _) = decode_record(bytes.get(offset..)?, STATE_MAGIC, true)?;
        postcard::from_bytes::<StateRecord>(payload).ok()
    };
    match (copy(0), copy(STATE_COPY_OFFSET)) {
        (Some(a), Some(b)) => StateScan::Found(if b.version > a.version { b } else { a }),
        (Some(one), None) | (None, Some(one)) => StateScan::Found(one),
        (None, None) => StateScan::Lost,
    }
}

/// The outcome of recovery from both files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recovered {
    /// Term, vote and amnesia, updated if entries were lost.
    pub hard: HardState,
    /// The log's valid prefix.
    pub scan: LogScan,
    /// Whether acknowledged entries were lost (the node enters amnesia).
    pub lost_acknowledged: bool,
}

/// Combines the two files: the log's valid prefix must still hold the entry
/// the state file says was durable; if it does not, acknowledged entries
/// are gone and the node is in amnesia until it is that up to date again.
pub fn recover(state: StateRecord, scan: LogScan) -> Recovered {
    let mut hard = state.hard;
    let holds = |index: u64| -> Option<u64> {
        if index == 0 {
            return Some(0);
        }
        scan.entries.get(index as usize - 1).map(|e| e.term)
    };
    let lost_acknowledged = holds(state.durable_index) != Some(state.durable_term);
    if lost_acknowledged {
        let lost = (state.durable_term, state.durable_index);
        let before = (hard.amnesia_term, hard.amnesia_index);
        (hard.amnesia_term, hard.amnesia_index) = before.max(lost);
    }
    Recovered {
        hard,
        scan,
        lost_acknowledged,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raft::kv::Op;
    use crate::raft::log::Command;

    fn entry(index: u64, term: u64) -> Entry {
        Entry {
            index,
            term,
            command: Command::Client {
                client: 1,
                seq: index,
                op: Op::Put {
                    key: "k".into(),
                    value: index * 10,
                },
            },
        }
    }

    #[test]
    fn crc32c_matches_the_standard_check_value() {
        // Proves the checksum is CRC-32C (check value of "123456789").
        assert_eq!(crc32c(b"123456789"), 0xE306_9283);
    }

    #[test]
    fn a_log_round_trips_and_a_torn_tail_is_cut() {
        // Proves recovery keeps whole records and drops a torn last one.
        let entries: Vec<Entry> = (1..=3).map(|i| entry(i, 1)).collect();
        let mut bytes = encode_entries(&entries);
        let whole = bytes.len();
        bytes.extend_from_slice(&encode_entries(&[entry(4, 2)])[..10]);
        let scan = scan_log(&bytes, true);
        assert_eq!(scan.entries, entries);
        assert_eq!(scan.valid_len(), whole as u64);
        assert_eq!(scan.garbage, 10);
    }

    #[test]
    fn a_flipped_bit_stops_recovery_unless_checksums_are_skipped() {
        // Proves checksums catch rot that still decodes, and that skipping them
        // (the planted bug) accepts a wrong entry.
        let entries: Vec<Entry> = (1..=3).map(|i| entry(i, 1)).collect();
        let mut bytes = encode_entries(&entries);
        let second = encode_entries(&entries[..1]).len();
        // The last payload byte of entry 2 is its value's varint: flip a low bit.
        let last_of_second = 2 * second - 1;
        bytes[last_of_second] ^= 0x02;
        let verified = scan_log(&bytes, true);
        assert_eq!(verified.entries.len(), 1);
        let trusted = scan_log(&bytes, false);
        assert_eq!(trusted.entries.len(), 3);
        assert_ne!(trusted.entries[1], entries[1]);
    }

    #[test]
    fn out_of_sequence_records_end_the_log() {
        // Proves a stale record after the valid prefix is not taken as the next entry.
        let mut bytes = encode_entries(&[entry(1, 1), entry(2, 2)]);
        bytes.extend_from_slice(&encode_entries(&[entry(2, 1)]));
        assert_eq!(scan_log(&bytes, true).entries.len(), 2);
    }

    #[test]
    fn the_state_survives_one_rotten_copy() {
        // Proves either copy alone recovers the state, and both rotten is Lost.
        let record = StateRecord {
            version: 9,
            hard: HardState {
                term: 4,
                voted_for: Some(2),
                amnesia_term: 0,
                amnesia_index: 0,
            },
            durable_index: 17,
            durable_term: 3,
        };
        let bytes = encode_state(&record);
        assert_eq!(scan_state(&bytes), StateScan::Found(record));
        let mut first_rotten = bytes.clone();
        first_rotten[5] ^= 1;
        assert_eq!(scan_state(&first_rotten), StateScan::Found(record));
        let mut both_rotten = first_rotten;
        both_rotten[STATE_COPY_OFFSET + 5] ^= 1;
        assert_eq!(scan_state(&both_rotten), StateScan::Lost);
        assert_eq!(scan_state(&[]), StateScan::Empty);
        assert_eq!(scan_state(&[0; 100]), StateScan::Empty);
    }

    #[test]
    fn losing_a_durable_entry_means_amnesia() {
        // Proves recovery notices a log shorter than what was acknowledged.
        let entries: Vec<Entry> = (1..=3).map(|i| entry(i, 2)).collect();
        let state = StateRecord {
            version: 1,
            hard: HardState {
                term: 5,
                voted_for: None,
                amnesia_term: 0,
                amnesia_index: 0,
            },
            durable_index: 3,
            durable_term: 2,
        };
        let whole = recover(state, scan_log(&encode_entries(&entries), true));
        assert!(!whole.lost_acknowledged);
        assert_eq!(whole.hard.amnesia_term, 0);
        let short = recover(state, scan_log(&encode_entries(&entries[..2]), true));
        assert!(short.lost_acknowledged);
        assert_eq!((short.hard.amnesia_term, short.hard.amnesia_index), (2, 3));
    }
}
