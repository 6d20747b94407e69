//! The storage fault model: random faults drawn from the seed
//! ([`FaultConfig`]) and faults injected by hand ([`Fault`]).
//!
//! Where each comes from (see the book's storage chapter for more):
//! latent sector errors and silent corruption from the field studies of
//! Bairavasundaram et al. (SIGMETRICS'07, FAST'08) and CORDS (FAST'17);
//! misdirected and lost writes from the same studies and TigerBeetle's
//! storage fault model; fsync errors from "Can Applications Recover from
//! fsync Failures?" (ATC'20, "fsyncgate").

use crate::error::DiskError;
use crate::latency::check_probability;

/// Probabilities of random media faults, each drawn from the disk's own
/// seeded stream. All default to zero (no faults).
///
/// # Examples
///
/// ```
/// use detsim_disk::FaultConfig;
///
/// let faults = FaultConfig { sync_error_probability: 0.01, ..FaultConfig::default() };
/// assert!(faults.validate().is_ok());
/// assert!(FaultConfig { lost_write_probability: 1.5, ..faults }.validate().is_err());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct FaultConfig {
    /// Per clean sector read from the media: the sector becomes a latent
    /// sector error (this and later reads fail with `EIO` until it is rewritten).
    pub read_error_probability: f64,
    /// Per clean sector read from the media: the sector rots at rest (one
    /// bit flipped or the sector zeroed), silently.
    pub corruption_probability: f64,
    /// Per write: acknowledged, but never persisted.
    pub lost_write_probability: f64,
    /// Per write: persisted at another sector of the file.
    pub misdirected_write_probability: f64,
    /// Per write: fails with `EIO`, nothing written.
    pub write_error_probability: f64,
    /// Per sync with dirty data: fails with `EIO`, and the dirty data is
    /// dropped from the write cache and marked clean (Linux's behaviour).
    pub sync_error_probability: f64,
}

impl FaultConfig {
    /// Checks that each probability is in `[0, 1]`.
    ///
    /// # Errors
    ///
    /// [`DiskError::InvalidConfig`] naming the first bad probability.
    pub fn validate(&self) -> Result<(), DiskError> {
        check_probability("read_error_probability", self.read_error_probability)?;
        check_probability("corruption_probability", self.corruption_probability)?;
        check_probability("lost_write_probability", self.lost_write_probability)?;
        check_probability(
            "misdirected_write_probability",
            self.misdirected_write_probability,
        )?;
        check_probability("write_error_probability", self.write_error_probability)?;
        check_probability("sync_error_probability", self.sync_error_probability)
    }
}

/// How a sector rots.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Corruption {
    /// One bit flips: bit `bit % 8` of byte `bit / 8` of the sector.
    BitFlip {
        /// The bit's index in the sector, below `8 * sector_size`.
        bit: u64,
    },
    /// The whole sector reads as zeros.
    Zero,
}

/// A fault injected by hand into one node's disk, with
/// [`Disks::inject`](crate::Disks::inject), for a targeted test.
///
/// Paths are resolved when the fault is injected (faults follow the file,
/// not its name).
///
/// # Examples
///
/// ```
/// use detsim_disk::{Corruption, Fault};
///
/// let rot = Fault::Corrupt { path: "/wal".into(), offset: 4096, corruption: Corruption::Zero };
/// let eio = Fault::FailNextSync { path: "/wal".into() };
/// assert_ne!(rot, eio);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// A latent sector error: reads of the sector holding `offset` fail with
    /// `EIO` until the sector is rewritten and synced (the drive remaps it).
    LatentSectorError {
        /// The file.
        path: String,
        /// A byte offset in the sector, below the file's length.
        offset: u64,
    },
    /// Silent corruption at rest, now: the sector holding `offset` rots.
    /// Reads return the rotten bytes without an error.
    Corrupt {
        /// The file.
        path: String,
        /// A byte offset in the sector, below the file's length.
        offset: u64,
        /// How it rots.
        corruption: Corruption,
    },
    /// The next write to the file is acknowledged but never persisted: reads
    /// see it until the cache drops it; a sync or a crash does not save it.
    LoseNextWrite {
        /// The file.
        path: String,
    },
    /// The next write to the file is persisted `shift_sectors` sectors away
    /// from where it was aimed (sectors landing outside the file are lost).
    MisdirectNextWrite {
        /// The file.
        path: String,
        /// Sectors to shift by (not zero; negative: towards the start).
        shift_sectors: i64,
    },
    /// The next write to the file fails with `EIO`; nothing is written.
    FailNextWrite {
        /// The file.
        path: String,
    },
    /// The next sync of the file (with dirty data) fails with `EIO`; the
    /// dirty data is dropped from the write cache and marked clean, so a
    /// retried sync reports success without persisting it (fsyncgate).
    FailNextSync {
        /// The file.
        path: String,
    },
}

impl Fault {
    pub(crate) fn path(&self) -> &str {
        match self {
            Fault::LatentSectorError { path, .. }
            | Fault::Corrupt { path, .. }
            | Fault::LoseNextWrite { path }
            | Fault::MisdirectNextWrite { path, .. }
            | Fault::FailNextWrite { path }
            | Fault::FailNextSync { path } => path,
        }
    }
}

/// Faults armed by hand for a file's next operations.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Armed {
    pub(crate) lose_write: bool,
    pub(crate) misdirect_write: Option<i64>,
    pub(crate) fail_write: bool,
    pub(crate) fail_sync: bool,
}

/// What becomes of a write when it reaches the media.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fate {
    /// It lands where it was aimed.
    Normal,
    /// It never lands.
    Lost,
    /// It lands this many sectors away.
    Misdirected(i64),
}

/// `bytes` after `corruption`.
pub(crate) fn corrupt(mut bytes: Vec<u8>, corruption: Corruption) -> Vec<u8> {
    match corruption {
        Corruption::BitFlip { bit } => {
            let byte = (bit / 8) as usize;
            if let Some(b) = bytes.get_mut(byte) {
                *b ^= 1 << (bit % 8);
            }
        }
        Corruption::Zero => bytes.fill(0),
    }
    bytes
}
