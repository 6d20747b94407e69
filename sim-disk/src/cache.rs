//! A file's contents: its durable image (what the media holds), its cached
//! image (what reads see: the page cache) and, between them, the volatile
//! write cache of operations not yet synced.
//!
//! A sync writes back every dirty sector once, as it stands in the cache
//! (page-level writeback), unless a fault decides otherwise. A crash instead
//! decides the fate of each pending operation (see `crash.rs`).

use std::collections::{BTreeMap, BTreeSet};

use crate::fault::{Armed, Corruption, Fate, corrupt};
use crate::sector::{Sector, SectorMap, span};

/// An operation in the write cache, not yet durable.
#[derive(Clone, Debug)]
pub(crate) enum PendingOp {
    /// `len > 0` bytes written at `offset`. The bytes are not copied: the
    /// op holds the sectors the write made in the cached image (shared with
    /// it, copy on write), whose part in `[offset, offset + len)` is exactly
    /// what was written.
    Write {
        /// Disk-wide sequence number (the order operations were made in).
        seq: u64,
        offset: u64,
        len: u64,
        sectors: Vec<Sector>,
        fate: Fate,
    },
    /// The length set to `len`.
    SetLen { seq: u64, len: u64 },
}

/// What a sync wrote back.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Writeback {
    /// Pending operations flushed.
    pub(crate) ops: u64,
    /// Sectors written to the media where they belong.
    pub(crate) sectors: u64,
    /// Sectors whose write was lost.
    pub(crate) lost: Vec<u64>,
    /// Sectors written elsewhere: `(aimed at, landed at)`; `landed at` is
    /// `None` when it fell outside the file (lost).
    pub(crate) misdirected: Vec<(u64, Option<u64>)>,
}

/// The contents of one file.
#[derive(Clone, Debug, Default)]
pub(crate) struct FileData {
    /// What reads see.
    pub(crate) current: SectorMap,
    /// What survives a crash.
    pub(crate) durable: SectorMap,
    /// Operations since the last sync, in order.
    pub(crate) pending: Vec<PendingOp>,
    /// Sectors with a latent sector error.
    pub(crate) bad: BTreeSet<u64>,
    /// Faults armed by hand for the next operations.
    pub(crate) armed: Armed,
}

impl FileData {
    /// Writes into the cache; returns the change in allocated sectors.
    pub(crate) fn write(
        &mut self,
        sector_size: u64,
        seq: u64,
        offset: u64,
        data: &[u8],
        fate: Fate,
    ) -> i64 {
        if data.is_empty() {
            return 0;
        }
        let (delta, sectors) = self.current.write_shared(sector_size, offset, data);
        self.pending.push(PendingOp::Write {
            seq,
            offset,
            len: data.len() as u64,
            sectors,
            fate,
        });
        delta
    }

    /// The bytes of the pending writes (what a sync would write back).
    pub(crate) fn pending_bytes(&self) -> u64 {
        self.pending
            .iter()
            .map(|op| match op {
                PendingOp::Write { len, .. } => *len,
                PendingOp::SetLen { .. } => 0,
            })
            .fold(0, u64::saturating_add)
    }

    /// Sets the length in the cache; returns the change in allocated sectors.
    pub(crate) fn set_len(&mut self, sector_size: u64, seq: u64, len: u64) -> i64 {
        let delta = self.current.set_len(sector_size, len);
        self.pending.push(PendingOp::SetLen { seq, len });
        delta
    }

    /// Whether any sector among `[first, last]` is dirty (only the cache has it).
    pub(crate) fn any_dirty(
        &self,
        sector_size: u64,
        range: std::ops::RangeInclusive<u64>,
    ) -> BTreeSet<u64> {
        let mut dirty = BTreeSet::new();
        for op in &self.pending {
            match op {
                PendingOp::Write { offset, len, .. } => {
                    for index in span(sector_size, *offset, *len) {
                        if range.contains(&index) {
                            dirty.insert(index);
                        }
                    }
                }
                PendingOp::SetLen { len, .. } => {
                    let from = (len / sector_size).max(*range.start());
                    for index in from..=*range.end() {
                        dirty.insert(index);
                    }
                }
            }
        }
        dirty
    }

    /// Writes every dirty sector back to the media (a successful sync).
    pub(crate) fn writeback(&mut self, sector_size: u64) -> Writeback {
        let mut report = Writeback {
            ops: self.pending.len() as u64,
            ..Writeback::default()
        };
        // The fate of each dirty sector: the last operation touching it decides.
        let mut fates: BTreeMap<u64, Fate> = BTreeMap::new();
        for op in std::mem::take(&mut self.pending) {
            match op {
                PendingOp::Write {
                    offset, len, fate, ..
                } => {
                    for index in span(sector_size, offset, len) {
                        fates.insert(index, fate);
                    }
                }
                PendingOp::SetLen { len, .. } => {
                    let first = len / sector_size;
                    for index in self.durable.indices_from(first) {
                        fates.insert(index, Fate::Normal);
                    }
                    for index in self.current.indices_from(first) {
                        fates.insert(index, Fate::Normal);
                    }
                    fates.insert(first, Fate::Normal);
                }
            }
        }
        let sectors_in_file = self.current.len().div_ceil(sector_size);
        for (index, fate) in fates {
            match fate {
                Fate::Normal => {
                    self.durable.put(index, self.current.get(index).cloned());
                    self.bad.remove(&index);
                    report.sectors += 1;
                }
                Fate::Lost => report.lost.push(index),
                Fate::Misdirected(shift) => {
                    let target = index
                        .checked_add_signed(shift)
                        .filter(|t| *t < sectors_in_file && *t != index);
                    if let Some(target) = target {
                        self.durable.put(target, self.current.get(index).cloned());
                    }
                    report.misdirected.push((index, target));
                }
            }
        }
        self.durable.set_len_raw(self.current.len());
        // Sectors past the end that the durable image still holds (a lost
        // truncation) must not outlive the length.
        for index in self.durable.indices_from(sectors_in_file) {
            self.durable.put(index, None);
        }
        report
    }

    /// A failed sync: Linux drops the dirty pages' dirty bit. The cache keeps
    /// the new bytes (reads still see them) but they will never be written
    /// back. Returns how many operations were dropped.
    pub(crate) fn drop_dirty(&mut self) -> u64 {
        let dropped = self.pending.len() as u64;
        self.pending.clear();
        dropped
    }

    /// Sector `index` rots at rest. The cache sees it too when it held the
    /// media's bytes (a clean sector). Returns whether the sector held bytes
    /// inside the file.
    pub(crate) fn rot(&mut self, sector_size: u64, index: u64, corruption: Corruption) -> bool {
        if index * sector_size >= self.durable.len() {
            return false;
        }
        let clean = self.current.shares(&self.durable, index);
        let bytes = match self.durable.get(index) {
            Some(sector) => sector.to_vec(),
            None => vec![0; sector_size as usize],
        };
        let sector = self
            .durable
            .replace(sector_size, index, corrupt(bytes, corruption));
        if clean && self.current.len() > index * sector_size {
            self.current.put(index, Some(sector));
        }
        true
    }

    /// The cache forgets every clean page (`echo 3 > /proc/sys/vm/drop_caches`):
    /// reads of sectors that are not dirty come from the media again.
    /// Returns the change in allocated sectors of the cached image.
    pub(crate) fn drop_cache(&mut self, sector_size: u64) -> i64 {
        let before = self.current.allocated() as i64;
        if self.pending.is_empty() {
            self.current = self.durable.clone();
        } else {
            let last = self.current.len().div_ceil(sector_size);
            let dirty = if last == 0 {
                BTreeSet::new()
            } else {
                self.any_dirty(sector_size, 0..=last - 1)
            };
            let mut indices: BTreeSet<u64> = self.durable.indices_from(0).into_iter().collect();
            indices.extend(self.current.indices_from(0));
            for index in indices {
                if index < last && !dirty.contains(&index) {
                    self.current.put(index, self.durable.get(index).cloned());
                }
            }
        }
        self.current.allocated() as i64 - before
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SS: u64 = 4;

    fn bytes(map: &SectorMap) -> Vec<u8> {
        let mut buf = vec![0; map.len() as usize];
        map.read(SS, 0, &mut buf);
        buf
    }

    #[test]
    fn sync_makes_the_cache_durable_and_shares_sectors() {
        // Proves writeback copies every dirty sector and leaves them clean (shared).
        let mut data = FileData::default();
        data.write(SS, 1, 0, b"abcdef", Fate::Normal);
        data.set_len(SS, 2, 5);
        assert!(bytes(&data.durable).is_empty());
        let report = data.writeback(SS);
        assert_eq!(report.ops, 2);
        assert_eq!(bytes(&data.durable), b"abcde");
        assert!(data.current.shares(&data.durable, 0));
        assert!(data.current.shares(&data.durable, 1));
    }

    #[test]
    fn lost_and_misdirected_sectors_do_not_land_where_aimed() {
        // Proves page-level writeback honours each sector's fate.
        let mut data = FileData::default();
        data.write(SS, 1, 0, b"aaaabbbbcccc", Fate::Normal);
        data.writeback(SS);
        data.write(SS, 2, 0, b"XXXX", Fate::Lost);
        data.write(SS, 3, 8, b"YYYY", Fate::Misdirected(-1));
        let report = data.writeback(SS);
        assert_eq!(report.lost, vec![0]);
        assert_eq!(report.misdirected, vec![(2, Some(1))]);
        assert_eq!(bytes(&data.durable), b"aaaaYYYYcccc");
        assert_eq!(bytes(&data.current), b"XXXXbbbbYYYY");
        data.drop_cache(SS);
        assert_eq!(bytes(&data.current), b"aaaaYYYYcccc");
    }
}
