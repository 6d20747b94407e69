//! Per-operation latency: a distribution per kind of operation, drawn from
//! the disk's own random stream, multiplied by the disk's slowness.

use std::time::Duration;

use detsim::SimRng;

use crate::error::DiskError;

/// A latency distribution. Drawn with integer arithmetic only, so the same
/// seed gives the same latencies on every platform.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use detsim_disk::Latency;
///
/// // Usually 50-100 µs, one time in a hundred a 5-20 ms stall (an SSD's garbage collection).
/// let read = Latency::Bimodal {
///     typical: (Duration::from_micros(50), Duration::from_micros(100)),
///     tail: (Duration::from_millis(5), Duration::from_millis(20)),
///     tail_probability: 0.01,
/// };
/// assert!(read.validate("read").is_ok());
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Latency {
    /// Always this long (`Duration::ZERO`: the operation takes no virtual time).
    Fixed(Duration),
    /// Uniform in `[min, max]`.
    Uniform {
        /// The shortest.
        min: Duration,
        /// The longest.
        max: Duration,
    },
    /// Uniform in `typical`, except with `tail_probability` uniform in `tail`.
    Bimodal {
        /// The usual range `(min, max)`.
        typical: (Duration, Duration),
        /// The rare slow range `(min, max)`.
        tail: (Duration, Duration),
        /// How often the slow range is drawn, in `[0, 1]`.
        tail_probability: f64,
    },
}

impl Latency {
    /// No latency.
    pub const ZERO: Latency = Latency::Fixed(Duration::ZERO);

    /// Checks the ranges and the probability; `what` names the distribution
    /// in the error.
    ///
    /// # Errors
    ///
    /// [`DiskError::InvalidConfig`] for a range whose minimum exceeds its
    /// maximum, or a probability outside `[0, 1]`.
    pub fn validate(&self, what: &str) -> Result<(), DiskError> {
        let range = |(min, max): (Duration, Duration), name: &str| {
            if min > max {
                Err(DiskError::InvalidConfig(format!(
                    "{what} latency{name}: min {min:?} exceeds max {max:?}"
                )))
            } else if max.as_nanos() > u128::from(u64::MAX) {
                Err(DiskError::InvalidConfig(format!(
                    "{what} latency{name}: max {max:?} is too long"
                )))
            } else {
                Ok(())
            }
        };
        match *self {
            Latency::Fixed(d) => range((d, d), ""),
            Latency::Uniform { min, max } => range((min, max), ""),
            Latency::Bimodal {
                typical,
                tail,
                tail_probability,
            } => {
                range(typical, " (typical)")?;
                range(tail, " (tail)")?;
                check_probability(
                    &format!("{what} latency tail_probability"),
                    tail_probability,
                )
            }
        }
    }

    /// Draws one latency.
    pub(crate) fn sample(&self, rng: &mut SimRng) -> Duration {
        let uniform = |rng: &mut SimRng, (min, max): (Duration, Duration)| {
            let (min, max) = (min.as_nanos() as u64, max.as_nanos() as u64);
            if min >= max {
                Duration::from_nanos(min)
            } else {
                Duration::from_nanos(min + rng.below((max - min).saturating_add(1)))
            }
        };
        match *self {
            Latency::Fixed(d) => d,
            Latency::Uniform { min, max } => uniform(rng, (min, max)),
            Latency::Bimodal {
                typical,
                tail,
                tail_probability,
            } => {
                if rng.chance(tail_probability) {
                    uniform(rng, tail)
                } else {
                    uniform(rng, typical)
                }
            }
        }
    }
}

/// How fast bytes move, in bytes per second: the size term of an
/// operation's latency. An operation of `n` bytes takes its drawn latency
/// plus `n / bandwidth` seconds (rounded down to the nanosecond); 0 means no
/// size term.
///
/// # Examples
///
/// ```
/// use detsim_disk::{Bandwidth, LatencyConfig};
///
/// // A slow disk: 100 MB/s to and from the media.
/// let config = LatencyConfig {
///     bandwidth: Bandwidth { read: 100_000_000, write: 1 << 31, sync: 100_000_000 },
///     ..LatencyConfig::default()
/// };
/// assert_eq!(config.bandwidth.sync, 100_000_000);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bandwidth {
    /// `read_at`: the bytes asked for.
    pub read: u64,
    /// `write_at` and `append` into the page cache: the bytes written.
    pub write: u64,
    /// `sync_data` and `sync_all`: the bytes of the writes they flush.
    pub sync: u64,
}

impl Bandwidth {
    /// No size term: every operation takes its drawn latency whatever its size.
    pub const NONE: Bandwidth = Bandwidth {
        read: 0,
        write: 0,
        sync: 0,
    };

    /// The time `bytes` take at `rate` bytes per second (0: none).
    pub(crate) fn transfer(rate: u64, bytes: u64) -> Duration {
        if rate == 0 || bytes == 0 {
            return Duration::ZERO;
        }
        let nanos = u128::from(bytes) * 1_000_000_000 / u128::from(rate);
        Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
    }
}

impl Default for Bandwidth {
    /// A fast NVMe SSD behind the page cache: 2 GiB/s for reads and for
    /// copies into the page cache, 1 GiB/s for writeback by a sync.
    fn default() -> Bandwidth {
        Bandwidth {
            read: 2 << 30,
            write: 2 << 30,
            sync: 1 << 30,
        }
    }
}

/// The latency of each kind of disk operation.
///
/// The defaults model a fast SSD behind the page cache: writes land in
/// memory (2-10 µs), reads take 20-100 µs, a sync 0.2-2 ms, and a metadata
/// operation (open, rename, listing, directory sync) 5-20 µs; on top of
/// that, data moves at [`Bandwidth::default`] (2 GiB/s into and out of the
/// page cache, 1 GiB/s written back by a sync), so a 1 GiB `write_at` takes
/// about half a second and its sync one second.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LatencyConfig {
    /// `read_at`.
    pub read: Latency,
    /// `write_at`, `append`, `set_len`.
    pub write: Latency,
    /// `sync_data`, `sync_all` and `sync_dir`.
    pub sync: Latency,
    /// `open`, `remove_file`, `rename`, `create_dir`, `remove_dir`, `read_dir`, `metadata`.
    pub metadata: Latency,
    /// The size term added to reads, writes and syncs.
    pub bandwidth: Bandwidth,
}

impl LatencyConfig {
    /// Every operation takes no virtual time.
    pub const ZERO: LatencyConfig = LatencyConfig {
        read: Latency::ZERO,
        write: Latency::ZERO,
        sync: Latency::ZERO,
        metadata: Latency::ZERO,
        bandwidth: Bandwidth::NONE,
    };

    pub(crate) fn validate(&self) -> Result<(), DiskError> {
        self.read.validate("read")?;
        self.write.validate("write")?;
        self.sync.validate("sync")?;
        self.metadata.validate("metadata")
    }

    /// The size term of `bytes` for an operation of `class`.
    pub(crate) fn transfer(&self, class: OpClass, bytes: u64) -> Duration {
        let rate = match class {
            OpClass::Read => self.bandwidth.read,
            OpClass::Write => self.bandwidth.write,
            OpClass::Sync => self.bandwidth.sync,
            OpClass::Metadata => 0,
        };
        Bandwidth::transfer(rate, bytes)
    }

    pub(crate) fn of(&self, class: OpClass) -> &Latency {
        match class {
            OpClass::Read => &self.read,
            OpClass::Write => &self.write,
            OpClass::Sync => &self.sync,
            OpClass::Metadata => &self.metadata,
        }
    }
}

impl Default for LatencyConfig {
    fn default() -> LatencyConfig {
        let us = Duration::from_micros;
        LatencyConfig {
            read: Latency::Uniform {
                min: us(20),
                max: us(100),
            },
            write: Latency::Uniform {
                min: us(2),
                max: us(10),
            },
            sync: Latency::Uniform {
                min: us(200),
                max: us(2000),
            },
            metadata: Latency::Uniform {
                min: us(5),
                max: us(20),
            },
            bandwidth: Bandwidth::default(),
        }
    }
}

/// Which latency an operation draws.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OpClass {
    Read,
    Write,
    Sync,
    Metadata,
}

/// Checks that `p` is a probability.
pub(crate) fn check_probability(name: &str, p: f64) -> Result<(), DiskError> {
    if (0.0..=1.0).contains(&p) {
        Ok(())
    } else {
        Err(DiskError::InvalidConfig(format!(
            "{name} must be in [0, 1], got {p}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use detsim::Seed;

    #[test]
    fn samples_stay_in_range_and_repeat_per_seed() {
        // Proves draws are bounded and a function of the stream alone.
        let latency = Latency::Bimodal {
            typical: (Duration::from_micros(1), Duration::from_micros(2)),
            tail: (Duration::from_millis(1), Duration::from_millis(2)),
            tail_probability: 0.5,
        };
        let draw = || {
            let mut rng = SimRng::stream(Seed::new(3), "t");
            (0..200)
                .map(|_| latency.sample(&mut rng))
                .collect::<Vec<_>>()
        };
        let draws = draw();
        assert_eq!(draws, draw());
        assert!(draws.iter().any(|d| *d >= Duration::from_millis(1)));
        assert!(draws.iter().any(|d| *d <= Duration::from_micros(2)));
        assert!(draws.iter().all(|d| *d <= Duration::from_millis(2)));
    }

    #[test]
    fn rejects_inverted_ranges_and_bad_probabilities() {
        // Proves validation names the distribution and the problem.
        let inverted = Latency::Uniform {
            min: Duration::from_millis(2),
            max: Duration::from_millis(1),
        };
        let error = inverted.validate("sync").unwrap_err().to_string();
        assert!(
            error.contains("sync latency: min 2ms exceeds max 1ms"),
            "{error}"
        );
        let nan = Latency::Bimodal {
            typical: (Duration::ZERO, Duration::ZERO),
            tail: (Duration::ZERO, Duration::ZERO),
            tail_probability: f64::NAN,
        };
        assert!(
            nan.validate("read")
                .unwrap_err()
                .to_string()
                .contains("in [0, 1]")
        );
    }
}
