//! Sparse file contents: a map from sector index to the sector's bytes, so a
//! 1 GiB file with 10 MiB written holds about 10 MiB.
//!
//! Sectors are shared (`Rc`) between a file's cached and durable images: after
//! a sync both point at the same bytes, and a sector is *clean* exactly when
//! they do. Writing a sector always builds a new buffer (copy on write).
//!
//! Invariant: bytes at or beyond `len` are zero in every allocated sector, so
//! extending a file exposes zeros.

use std::collections::BTreeMap;
use std::rc::Rc;

/// The bytes of one sector (exactly the sector size long).
pub(crate) type Sector = Rc<[u8]>;

/// A file image: allocated sectors and a length.
#[derive(Clone, Debug, Default)]
pub(crate) struct SectorMap {
    sectors: BTreeMap<u64, Sector>,
    len: u64,
}

/// The sector indices `[first, last]` covered by `len > 0` bytes at `offset`.
pub(crate) fn span(sector_size: u64, offset: u64, len: u64) -> std::ops::RangeInclusive<u64> {
    debug_assert!(len > 0, "an empty range covers no sector");
    (offset / sector_size)..=((offset + len - 1) / sector_size)
}

impl SectorMap {
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// Sets the length without touching the bytes (callers keep the invariant).
    pub(crate) fn set_len_raw(&mut self, len: u64) {
        self.len = len;
    }

    /// How many sectors hold bytes.
    pub(crate) fn allocated(&self) -> u64 {
        self.sectors.len() as u64
    }

    pub(crate) fn get(&self, index: u64) -> Option<&Sector> {
        self.sectors.get(&index)
    }

    /// Whether sector `index` is the very same bytes in both images (or a hole in both).
    pub(crate) fn shares(&self, other: &SectorMap, index: u64) -> bool {
        match (self.sectors.get(&index), other.sectors.get(&index)) {
            (Some(a), Some(b)) => Rc::ptr_eq(a, b),
            (None, None) => true,
            _ => false,
        }
    }

    /// Replaces sector `index`; returns the change in allocated sectors.
    pub(crate) fn put(&mut self, index: u64, sector: Option<Sector>) -> i64 {
        let had = match sector {
            Some(sector) => self.sectors.insert(index, sector).is_some(),
            None => self.sectors.remove(&index).is_some(),
        };
        let has = self.sectors.contains_key(&index);
        i64::from(has) - i64::from(had)
    }

    /// Sector indices at or after `index`.
    pub(crate) fn indices_from(&self, index: u64) -> Vec<u64> {
        self.sectors.range(index..).map(|(i, _)| *i).collect()
    }

    /// Sectors among `[first, last]` that hold no bytes yet.
    pub(crate) fn missing(&self, range: std::ops::RangeInclusive<u64>) -> u64 {
        let total = range.end() - range.start() + 1;
        total - self.sectors.range(range).count() as u64
    }

    /// Reads up to `buf.len()` bytes at `offset`; holes read as zeros.
    /// Returns how many bytes were read (fewer at the end of the file).
    pub(crate) fn read(&self, sector_size: u64, offset: u64, buf: &mut [u8]) -> usize {
        if offset >= self.len {
            return 0;
        }
        let count = (self.len - offset).min(buf.len() as u64) as usize;
        let buf = &mut buf[..count];
        buf.fill(0);
        if count == 0 {
            return 0;
        }
        let end = offset + count as u64;
        for (index, sector) in self.sectors.range(span(sector_size, offset, count as u64)) {
            let start = index * sector_size;
            let from = offset.max(start);
            let to = end.min(start + sector_size);
            buf[(from - offset) as usize..(to - offset) as usize]
                .copy_from_slice(&sector[(from - start) as usize..(to - start) as usize]);
        }
        count
    }

    /// Writes `data` at `offset`, extending the length to cover it; returns
    /// the change in allocated sectors.
    pub(crate) fn write(&mut self, sector_size: u64, offset: u64, data: &[u8]) -> i64 {
        let delta = self.write_masked(sector_size, offset, data, |_| true);
        if !data.is_empty() {
            self.len = self.len.max(offset + data.len() as u64);
        }
        delta
    }

    /// Writes `data` at `offset` like [`SectorMap::write`]; also returns the
    /// sectors the write made, in order (shared with the map, not copied).
    pub(crate) fn write_shared(
        &mut self,
        sector_size: u64,
        offset: u64,
        data: &[u8],
    ) -> (i64, Vec<Sector>) {
        let delta = self.write(sector_size, offset, data);
        let sectors = self
            .sectors
            .range(span(sector_size, offset, data.len() as u64))
            .map(|(_, sector)| sector.clone())
            .collect();
        (delta, sectors)
    }

    /// Applies a pending write made at `offset` (`len` bytes, whose sectors
    /// `sectors` hold the written bytes) at `target` (the same offset, or
    /// one misdirected by whole sectors), in the sectors for which `keep`
    /// holds (relative to `target`'s first sector). A sector the write
    /// covered whole is shared, not copied. The length is left to the caller.
    pub(crate) fn apply_shared(
        &mut self,
        sector_size: u64,
        offset: u64,
        len: u64,
        sectors: &[Sector],
        target: u64,
        keep: impl Fn(u64) -> bool,
    ) {
        debug_assert_eq!(offset % sector_size, target % sector_size);
        let end = offset + len;
        let (first, target_first) = (offset / sector_size, target / sector_size);
        for (k, index) in span(sector_size, offset, len).enumerate() {
            let target_index = target_first + k as u64;
            if !keep(target_index) {
                continue;
            }
            let source = &sectors[k];
            debug_assert_eq!(index, first + k as u64);
            let start = index * sector_size;
            let from = (offset.max(start) - start) as usize;
            let to = (end.min(start + sector_size) - start) as usize;
            if from == 0 && to == sector_size as usize {
                self.put(target_index, Some(source.clone()));
            } else {
                let mut buf = match self.sectors.get(&target_index) {
                    Some(old) => old.to_vec(),
                    None => vec![0; sector_size as usize],
                };
                buf[from..to].copy_from_slice(&source[from..to]);
                self.put(target_index, Some(Rc::from(buf)));
            }
        }
    }

    /// Writes the part of `data` that falls in sectors for which `keep` holds
    /// (a torn write); the length is left to the caller. Returns the change
    /// in allocated sectors.
    pub(crate) fn write_masked(
        &mut self,
        sector_size: u64,
        offset: u64,
        data: &[u8],
        keep: impl Fn(u64) -> bool,
    ) -> i64 {
        if data.is_empty() {
            return 0;
        }
        let end = offset + data.len() as u64;
        let mut delta = 0;
        for index in span(sector_size, offset, data.len() as u64) {
            if !keep(index) {
                continue;
            }
            let start = index * sector_size;
            let from = offset.max(start);
            let to = end.min(start + sector_size);
            let bytes = &data[(from - offset) as usize..(to - offset) as usize];
            let sector: Sector = if from == start && to == start + sector_size {
                Rc::from(bytes)
            } else {
                let mut buf = match self.sectors.get(&index) {
                    Some(old) => old.to_vec(),
                    None => vec![0; sector_size as usize],
                };
                buf[(from - start) as usize..(to - start) as usize].copy_from_slice(bytes);
                Rc::from(buf)
            };
            delta += self.put(index, Some(sector));
        }
        delta
    }

    /// Truncates or extends to `len`; returns the change in allocated sectors.
    pub(crate) fn set_len(&mut self, sector_size: u64, len: u64) -> i64 {
        let mut delta = 0;
        if len < self.len {
            let keep = len.div_ceil(sector_size);
            for index in self.indices_from(keep) {
                delta += self.put(index, None);
            }
            let tail = (len % sector_size) as usize;
            if tail != 0 {
                let index = len / sector_size;
                if let Some(old) = self.sectors.get(&index) {
                    let mut buf = old.to_vec();
                    buf[tail..].fill(0);
                    delta += self.put(index, Some(Rc::from(buf)));
                }
            }
        }
        self.len = len;
        delta
    }

    /// Replaces the bytes of sector `index` with `bytes` (a corruption at
    /// rest); bytes beyond the length are forced to zero to keep the invariant.
    pub(crate) fn replace(&mut self, sector_size: u64, index: u64, mut bytes: Vec<u8>) -> Sector {
        let start = index * sector_size;
        if self.len < start + sector_size {
            let valid = (self.len.saturating_sub(start) as usize).min(bytes.len());
            bytes[valid..].fill(0);
        }
        let sector: Sector = Rc::from(bytes);
        self.put(index, Some(sector.clone()));
        sector
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SS: u64 = 8;

    fn read_all(map: &SectorMap) -> Vec<u8> {
        let mut buf = vec![0; map.len() as usize];
        let n = map.read(SS, 0, &mut buf);
        buf.truncate(n);
        buf
    }

    #[test]
    fn writes_across_sectors_and_reads_holes_as_zeros() {
        // Proves partial-sector writes merge with old bytes and holes read as zeros.
        let mut map = SectorMap::default();
        assert_eq!(map.write(SS, 4, b"abcdefgh"), 2);
        assert_eq!(map.write(SS, 20, b"z"), 1);
        assert_eq!(map.len(), 21);
        assert_eq!(
            read_all(&map),
            b"\0\0\0\0abcdefgh\0\0\0\0\0\0\0\0z".to_vec()
        );
        assert_eq!(map.write(SS, 5, b"XY"), 0);
        assert_eq!(&read_all(&map)[..12], b"\0\0\0\0aXYdefgh");
        let mut buf = [9u8; 4];
        assert_eq!(map.read(SS, 19, &mut buf), 2);
        assert_eq!(buf, [0, b'z', 9, 9]);
        assert_eq!(map.read(SS, 21, &mut buf), 0);
    }

    #[test]
    fn truncation_frees_sectors_and_zeroes_the_tail() {
        // Proves truncate-then-extend exposes zeros, never the old bytes.
        let mut map = SectorMap::default();
        map.write(SS, 0, &[7u8; 24]);
        assert_eq!(map.allocated(), 3);
        assert_eq!(map.set_len(SS, 10), -1);
        assert_eq!(map.set_len(SS, 24), 0);
        let mut expected = vec![7u8; 10];
        expected.extend([0u8; 14]);
        assert_eq!(read_all(&map), expected);
    }

    #[test]
    fn masked_write_touches_only_kept_sectors() {
        // Proves a torn write changes exactly the chosen sectors.
        let mut map = SectorMap::default();
        map.write_masked(SS, 0, &[1u8; 24], |i| i != 1);
        map.set_len_raw(24);
        let mut expected = vec![1u8; 24];
        expected[8..16].fill(0);
        assert_eq!(read_all(&map), expected);
        assert_eq!(map.missing(0..=2), 1);
        assert_eq!(map.missing(0..=5), 4);
    }

    #[test]
    fn a_sparse_gigabyte_holds_only_written_sectors() {
        // Proves memory follows written sectors, not the file's length.
        let mut map = SectorMap::default();
        map.set_len(4096, 1 << 30);
        map.write(4096, 512 << 20, &[1u8; 4096]);
        assert_eq!(map.allocated(), 1);
        assert_eq!(map.len(), 1 << 30);
    }
}
