//! What a crash does to what was not synced: each pending operation of each
//! file is lost, applied or torn at sector granularity, as the seed decides
//! ([`CrashMode`]); un-synced directory operations survive as a prefix.

use detsim::SimRng;

use crate::cache::{FileData, PendingOp};
use crate::config::CrashMode;
use crate::fault::Fate;
use crate::sector::span;

/// The fate of one pending operation at a crash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Not durable.
    Lost,
    /// Durable, whole.
    Applied,
    /// Durable in the sectors marked `true` only.
    Torn(Vec<bool>),
}

impl Outcome {
    /// The trace code: 0 lost, 1 applied, 2 torn.
    pub(crate) fn code(&self) -> u64 {
        match self {
            Outcome::Lost => 0,
            Outcome::Applied => 1,
            Outcome::Torn(_) => 2,
        }
    }

    /// A bit mask of the applied sectors (the first 64).
    pub(crate) fn mask(&self) -> u64 {
        match self {
            Outcome::Lost => 0,
            Outcome::Applied => u64::MAX,
            Outcome::Torn(kept) => kept
                .iter()
                .take(64)
                .enumerate()
                .fold(0, |m, (i, k)| m | (u64::from(*k) << i)),
        }
    }
}

/// One decided operation, for the trace.
#[derive(Clone, Debug)]
pub(crate) struct Decided {
    pub(crate) seq: u64,
    /// Offset of a write, or the new length of a length change.
    pub(crate) offset: u64,
    /// Length of a write; `u64::MAX` for a length change.
    pub(crate) len: u64,
    pub(crate) outcome: Outcome,
    /// The write had been lost (a lost-write fault) before the crash.
    pub(crate) was_lost: bool,
}

/// Decides the fate of one operation covering `sectors` sectors.
fn decide(mode: CrashMode, rng: &mut SimRng, sectors: u64, is_write: bool) -> Outcome {
    match mode {
        CrashMode::LoseUnsynced => Outcome::Lost,
        CrashMode::Adversarial {
            apply_probability,
            torn_probability,
        } => {
            if is_write && rng.chance(torn_probability) {
                Outcome::Torn((0..sectors).map(|_| rng.chance(0.5)).collect())
            } else if rng.chance(apply_probability) {
                Outcome::Applied
            } else {
                Outcome::Lost
            }
        }
    }
}

/// Applies the crash to one file: decides each pending operation, applies
/// the durable ones to the durable image in order, and resets the cache to
/// the durable image. Returns the decisions.
pub(crate) fn crash_file(
    data: &mut FileData,
    sector_size: u64,
    mode: CrashMode,
    rng: &mut SimRng,
) -> Vec<Decided> {
    let mut decided = Vec::with_capacity(data.pending.len());
    for op in std::mem::take(&mut data.pending) {
        match op {
            PendingOp::Write {
                seq,
                offset,
                len,
                sectors: written,
                fate,
            } => {
                let sectors = span(sector_size, offset, len).count() as u64;
                let mut outcome = decide(mode, rng, sectors, true);
                if fate == Fate::Lost {
                    outcome = Outcome::Lost;
                }
                let end = offset + len;
                let target = match fate {
                    Fate::Misdirected(shift) => shift
                        .checked_mul(sector_size as i64)
                        .and_then(|delta| offset.checked_add_signed(delta))
                        .filter(|t| t.checked_add(len).is_some_and(|e| e <= i64::MAX as u64)),
                    _ => Some(offset),
                };
                match (&outcome, target) {
                    (Outcome::Lost, _) | (_, None) => {}
                    (Outcome::Applied, Some(target)) => {
                        data.durable.apply_shared(
                            sector_size,
                            offset,
                            len,
                            &written,
                            target,
                            |_| true,
                        );
                    }
                    (Outcome::Torn(kept), Some(target)) => {
                        let target_first = target / sector_size;
                        data.durable.apply_shared(
                            sector_size,
                            offset,
                            len,
                            &written,
                            target,
                            |index| kept[(index - target_first) as usize],
                        );
                    }
                }
                if outcome != Outcome::Lost {
                    // The size update is metadata: it lands with any part of the write.
                    let len = data.durable.len().max(end);
                    data.durable.set_len_raw(len);
                }
                decided.push(Decided {
                    seq,
                    offset,
                    len,
                    outcome,
                    was_lost: fate == Fate::Lost,
                });
            }
            PendingOp::SetLen { seq, len } => {
                let outcome = decide(mode, rng, 1, false);
                if outcome == Outcome::Applied {
                    data.durable.set_len(sector_size, len);
                }
                decided.push(Decided {
                    seq,
                    offset: len,
                    len: u64::MAX,
                    outcome,
                    was_lost: false,
                });
            }
        }
    }
    // A misdirected write may have landed past the end: keep the invariant.
    let len = data.durable.len();
    data.durable.set_len(sector_size, len);
    for index in data.durable.indices_from(len.div_ceil(sector_size)) {
        data.durable.put(index, None);
    }
    data.current = data.durable.clone();
    data.armed = Default::default();
    decided
}

/// How many of `pending` un-synced directory operations survive a crash.
pub(crate) fn surviving_prefix(mode: CrashMode, rng: &mut SimRng, pending: usize) -> usize {
    match mode {
        CrashMode::LoseUnsynced => 0,
        CrashMode::Adversarial { .. } if pending == 0 => 0,
        CrashMode::Adversarial { .. } => rng.below(pending as u64 + 1) as usize,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use detsim::Seed;

    const SS: u64 = 4;

    fn bytes(data: &FileData) -> Vec<u8> {
        let mut buf = vec![0; data.current.len() as usize];
        data.current.read(SS, 0, &mut buf);
        buf
    }

    fn file_with_two_writes() -> FileData {
        let mut data = FileData::default();
        data.write(SS, 1, 0, b"aaaabbbb", Fate::Normal);
        data.writeback(SS);
        data.write(SS, 2, 0, b"XXXX", Fate::Normal);
        data.write(SS, 3, 4, b"YYYY", Fate::Normal);
        data
    }

    #[test]
    fn lose_unsynced_keeps_exactly_the_synced_image() {
        // Proves the simple mode drops every pending write.
        let mut data = file_with_two_writes();
        let mut rng = SimRng::stream(Seed::new(1), "t");
        let decided = crash_file(&mut data, SS, CrashMode::LoseUnsynced, &mut rng);
        assert!(decided.iter().all(|d| d.outcome == Outcome::Lost));
        assert_eq!(bytes(&data), b"aaaabbbb");
    }

    #[test]
    fn adversarial_certain_apply_keeps_every_write() {
        // Proves apply_probability 1 makes every pending write durable.
        let mut data = file_with_two_writes();
        let mut rng = SimRng::stream(Seed::new(1), "t");
        let mode = CrashMode::Adversarial {
            apply_probability: 1.0,
            torn_probability: 0.0,
        };
        crash_file(&mut data, SS, mode, &mut rng);
        assert_eq!(bytes(&data), b"XXXXYYYY");
    }

    #[test]
    fn a_lost_write_fault_is_lost_at_a_crash_too() {
        // Proves a write the disk dropped never becomes durable, whatever the seed.
        let mut data = FileData::default();
        data.write(SS, 1, 0, b"abcd", Fate::Lost);
        let mut rng = SimRng::stream(Seed::new(1), "t");
        let mode = CrashMode::Adversarial {
            apply_probability: 1.0,
            torn_probability: 0.0,
        };
        let decided = crash_file(&mut data, SS, mode, &mut rng);
        assert!(decided[0].was_lost);
        assert_eq!(data.current.len(), 0);
    }
}
