//! [`DiskConfig`]: the shape of every node's disk, and [`CrashMode`]: what a
//! crash does to data and names that were not synced.

use crate::error::DiskError;
use crate::fault::FaultConfig;
use crate::latency::{LatencyConfig, check_probability};

/// What a crash does to writes, length changes and directory entries that
/// were not made durable by a sync.
///
/// # Examples
///
/// ```
/// use detsim_disk::CrashMode;
///
/// // Each un-synced write survives one time in three, and is torn one time in five.
/// let mode = CrashMode::Adversarial { apply_probability: 0.33, torn_probability: 0.2 };
/// assert_ne!(mode, CrashMode::LoseUnsynced);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum CrashMode {
    /// The simple model: the durable state after a crash is exactly what was
    /// synced; everything else is lost.
    LoseUnsynced,
    /// The full model. Every un-synced write, independently, as the seed
    /// decides: **torn** with `torn_probability` (each of its sectors applied
    /// or not, at random), otherwise **applied** with `apply_probability`,
    /// otherwise **lost**. Independent choices make a later write durable
    /// while an earlier one is not (**reordering**). A length change is
    /// applied or lost likewise; a torn or applied write extends the length.
    /// Un-synced directory operations survive as a random prefix of the
    /// order they were made in (a journaling file system commits metadata in
    /// order), so a create, rename or remove may be undone.
    Adversarial {
        /// Chance that an un-synced write or length change is applied, in `[0, 1]`.
        apply_probability: f64,
        /// Chance that an un-synced write is torn at sector granularity, in `[0, 1]`.
        torn_probability: f64,
    },
}

impl CrashMode {
    /// The adversarial model with even odds of applying and a one-in-four chance of tearing.
    pub const ADVERSARIAL: CrashMode = CrashMode::Adversarial {
        apply_probability: 0.5,
        torn_probability: 0.25,
    };

    pub(crate) fn validate(&self) -> Result<(), DiskError> {
        match *self {
            CrashMode::LoseUnsynced => Ok(()),
            CrashMode::Adversarial {
                apply_probability,
                torn_probability,
            } => {
                check_probability("crash apply_probability", apply_probability)?;
                check_probability("crash torn_probability", torn_probability)
            }
        }
    }
}

impl Default for CrashMode {
    fn default() -> CrashMode {
        CrashMode::ADVERSARIAL
    }
}

/// The configuration of every node's disk (each node gets its own disk with
/// these settings; faults, capacity and slowness can then be changed per node
/// through [`Disks`](crate::Disks)).
///
/// # Examples
///
/// ```
/// use detsim_disk::{CrashMode, DiskConfig, FaultConfig};
///
/// let config = DiskConfig {
///     sector_size: 512,
///     capacity: 64 << 20,
///     crash: CrashMode::LoseUnsynced,
///     faults: FaultConfig { read_error_probability: 0.001, ..FaultConfig::default() },
///     ..DiskConfig::default()
/// };
/// assert!(config.validate().is_ok());
/// assert!(DiskConfig { sector_size: 1000, ..DiskConfig::default() }.validate().is_err());
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct DiskConfig {
    /// The unit of atomicity and of media faults, in bytes: a power of two
    /// (default 4096).
    pub sector_size: u64,
    /// The most bytes of allocated sectors the disk holds before writes fail
    /// with `StorageFull` (default 1 TiB; holes take no space).
    pub capacity: u64,
    /// What a crash does to un-synced state (default [`CrashMode::ADVERSARIAL`]).
    pub crash: CrashMode,
    /// Random media faults (default: none).
    pub faults: FaultConfig,
    /// Latency of each operation (default: [`LatencyConfig::default`]).
    pub latency: LatencyConfig,
}

impl Default for DiskConfig {
    fn default() -> DiskConfig {
        DiskConfig {
            sector_size: 4096,
            capacity: 1 << 40,
            crash: CrashMode::default(),
            faults: FaultConfig::default(),
            latency: LatencyConfig::default(),
        }
    }
}

impl DiskConfig {
    /// Checks every value.
    ///
    /// # Errors
    ///
    /// [`DiskError::InvalidConfig`] for a sector size that is not a power of
    /// two (or above 1 MiB), a zero capacity, a probability outside `[0, 1]`,
    /// or an inverted latency range.
    pub fn validate(&self) -> Result<(), DiskError> {
        if !self.sector_size.is_power_of_two() {
            return Err(DiskError::InvalidConfig(format!(
                "sector_size must be a power of two, got {}",
                self.sector_size
            )));
        }
        if self.sector_size > 1 << 20 {
            return Err(DiskError::InvalidConfig(format!(
                "sector_size must be at most 1 MiB, got {}",
                self.sector_size
            )));
        }
        if self.capacity == 0 {
            return Err(DiskError::InvalidConfig(
                "capacity must be above zero".into(),
            ));
        }
        self.crash.validate()?;
        self.faults.validate()?;
        self.latency.validate()
    }
}
