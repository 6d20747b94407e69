//! [`SimFile`]: an open file of a simulated disk.

use std::cell::Cell;
use std::fmt;
use std::io;
use std::rc::Rc;

use crate::cache::FileData;
use crate::disk::{Disk, DiskState, hash};
use crate::path::{check_range, check_size};
use crate::error::{closed, media_error, no_space, permission, stale};
use crate::fault::{Corruption, Fate};
use crate::fs::Kind;
use crate::latency::OpClass;
use crate::sector::span;
use crate::storage::{File, OpenOptions};

/// An open file of a simulated disk (see [`File`] for its operations).
///
/// Writes land in the disk's volatile write cache; [`File::sync_data`] or
/// [`File::sync_all`] makes them durable. A handle opened before its node
/// crashed is stale: every operation on it fails. Dropping the handle closes it.
pub struct SimFile {
    disk: Rc<Disk>,
    ino: u64,
    generation: u64,
    path: Rc<str>,
    readable: bool,
    writable: bool,
    closed: Cell<bool>,
}

impl fmt::Debug for SimFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimFile")
            .field("node", &self.disk.node)
            .field("path", &self.path)
            .field("inode", &self.ino)
            .field("closed", &self.closed.get())
            .finish()
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Access {
    Read,
    Write,
    Any,
}

impl SimFile {
    pub(crate) fn new(
        disk: Rc<Disk>,
        ino: u64,
        generation: u64,
        path: String,
        options: OpenOptions,
    ) -> SimFile {
        SimFile {
            disk,
            ino,
            generation,
            path: path.into(),
            readable: options.is_read(),
            writable: options.is_write(),
            closed: Cell::new(false),
        }
    }

    /// The path the file was opened with (it may have been renamed since).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Checks the handle before an operation.
    fn check(&self, access: Access) -> io::Result<()> {
        self.disk.entered()?;
        if self.closed.get() {
            return Err(closed(&self.path));
        }
        match access {
            Access::Read if !self.readable => return Err(permission(&self.path, "reading")),
            Access::Write if !self.writable => return Err(permission(&self.path, "writing")),
            _ => {}
        }
        self.check_generation(&self.disk.state.borrow())
    }

    fn check_generation(&self, state: &DiskState) -> io::Result<()> {
        if state.generation != self.generation || !state.fs.inodes.contains_key(&self.ino) {
            return Err(stale(&self.path));
        }
        Ok(())
    }

    fn emit(&self, name: &'static str, args: [u64; 4], detail: impl FnOnce() -> String) {
        self.disk.emit(name, args, detail);
    }

    async fn write_inner(&self, data: &[u8], offset: Option<u64>) -> io::Result<u64> {
        if let Some(offset) = offset {
            check_range(offset, data.len() as u64)?;
        }
        self.check(Access::Write)?;
        if let Some(offset) = offset {
            if !data.is_empty() {
                check_size(&self.path, offset, data.len() as u64)?;
            }
        }
        self.disk.delay(OpClass::Write, data.len() as u64).await;
        let mut state = self.disk.state.borrow_mut();
        self.check_generation(&state)?;
        let state = &mut *state;
        let seq = state.next_seq();
        let sector_size = state.sector_size;
        let capacity_sectors = state.capacity / sector_size;
        let used = state.fs.used_sectors;
        let ino = self.ino;
        let Some(file) = state.fs.file_mut(ino) else {
            return Err(stale(&self.path));
        };
        let offset = match offset {
            Some(offset) => offset,
            None => {
                let end = file.current.len();
                check_range(end, data.len() as u64)?;
                if !data.is_empty() {
                    check_size(&self.path, end, data.len() as u64)?;
                }
                end
            }
        };
        let len = data.len() as u64;
        let faults = state.faults;
        let rng = &mut state.fault_rng;
        if std::mem::take(&mut file.armed.fail_write) || rng.chance(faults.write_error_probability)
        {
            self.emit("disk.fault.write_error", [ino, offset, len, seq], || {
                format!("write {}+{len} to {} fails with EIO", offset, self.path)
            });
            return Err(media_error());
        }
        if len == 0 {
            self.emit("disk.write", [ino, offset, 0, 0], || {
                format!("write {offset}+0 to {}", self.path)
            });
            return Ok(offset);
        }
        let needed = file.current.missing(span(sector_size, offset, len));
        let free = capacity_sectors.saturating_sub(used);
        if needed > free {
            self.emit("disk.fault.no_space", [ino, offset, len, needed], || {
                format!(
                    "write {offset}+{len} to {} needs {needed} sector(s), {free} free: ENOSPC",
                    self.path
                )
            });
            return Err(no_space(
                &self.path,
                needed * sector_size,
                free * sector_size,
            ));
        }
        let fate = if std::mem::take(&mut file.armed.lose_write)
            || rng.chance(faults.lost_write_probability)
        {
            Fate::Lost
        } else if let Some(shift) = file.armed.misdirect_write.take() {
            Fate::Misdirected(shift)
        } else if rng.chance(faults.misdirected_write_probability) {
            let magnitude = 1 + rng.below(4) as i64;
            Fate::Misdirected(if rng.chance(0.5) {
                magnitude
            } else {
                -magnitude
            })
        } else {
            Fate::Normal
        };
        match fate {
            Fate::Normal => {}
            Fate::Lost => self.emit("disk.fault.lost_write", [ino, offset, len, seq], || {
                format!(
                    "write {offset}+{len} to {} will never be persisted",
                    self.path
                )
            }),
            Fate::Misdirected(shift) => self.emit(
                "disk.fault.misdirected_write",
                [ino, offset, len, shift as u64],
                || {
                    format!(
                        "write {offset}+{len} to {} will land {shift} sector(s) away",
                        self.path
                    )
                },
            ),
        }
        let delta = file.write(sector_size, seq, offset, data, fate);
        state.fs.account(delta);
        self.emit("disk.write", [ino, offset, len, hash(data)], || {
            format!("write {offset}+{len} to {}", self.path)
        });
        Ok(offset)
    }

    async fn sync(&self, all: bool) -> io::Result<()> {
        self.check(Access::Any)?;
        let dirty = self
            .disk
            .state
            .borrow()
            .fs
            .file(self.ino)
            .map_or(0, FileData::pending_bytes);
        self.disk.delay(OpClass::Sync, dirty).await;
        let mut state = self.disk.state.borrow_mut();
        self.check_generation(&state)?;
        let state = &mut *state;
        let sector_size = state.sector_size;
        let faults = state.faults;
        let ino = self.ino;
        let Some(file) = state.fs.file_mut(ino) else {
            return Err(stale(&self.path));
        };
        let name = if all {
            "disk.sync_all"
        } else {
            "disk.sync_data"
        };
        if file.pending.is_empty() {
            self.emit(name, [ino, 0, 0, 0], || {
                format!("{name} {}: nothing dirty", self.path)
            });
            return Ok(());
        }
        if std::mem::take(&mut file.armed.fail_sync)
            || state.fault_rng.chance(faults.sync_error_probability)
        {
            let dropped = file.drop_dirty();
            self.emit("disk.fault.sync_error", [ino, dropped, 0, 0], || {
                format!(
                    "{name} {} fails with EIO; {dropped} dirty op(s) dropped and marked clean (fsyncgate)",
                    self.path
                )
            });
            return Err(media_error());
        }
        let report = file.writeback(sector_size);
        let faulty = (report.lost.len() + report.misdirected.len()) as u64;
        self.emit(name, [ino, report.ops, report.sectors, faulty], || {
            format!(
                "{name} {}: {} op(s), {} sector(s) written back; lost sectors {:?}, misdirected (from, to) {:?}",
                self.path, report.ops, report.sectors, report.lost, report.misdirected
            )
        });
        Ok(())
    }
}

impl File for SimFile {
    async fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        check_range(offset, buf.len() as u64)?;
        self.check(Access::Read)?;
        self.disk.delay(OpClass::Read, buf.len() as u64).await;
        let mut state = self.disk.state.borrow_mut();
        self.check_generation(&state)?;
        let state = &mut *state;
        let sector_size = state.sector_size;
        let faults = state.faults;
        let ino = self.ino;
        let Some(file) = state.fs.file_mut(ino) else {
            return Err(stale(&self.path));
        };
        let len = file.current.len();
        if offset < len && !buf.is_empty() {
            let count = (len - offset).min(buf.len() as u64);
            let range = span(sector_size, offset, count);
            let media_faults =
                faults.read_error_probability > 0.0 || faults.corruption_probability > 0.0;
            if !file.bad.is_empty() || media_faults {
                let dirty = file.any_dirty(sector_size, range.clone());
                let rng = &mut state.fault_rng;
                for index in range {
                    if dirty.contains(&index) {
                        continue;
                    }
                    if file.bad.contains(&index) || rng.chance(faults.read_error_probability) {
                        let new = file.bad.insert(index);
                        self.emit("disk.fault.read_error", [ino, index, u64::from(new), 0], || {
                            format!(
                                "read of sector {index} of {} fails with EIO (latent sector error{})",
                                self.path,
                                if new { ", new" } else { "" }
                            )
                        });
                        return Err(media_error());
                    }
                    if rng.chance(faults.corruption_probability) {
                        let valid = (len - index * sector_size).min(sector_size);
                        let corruption = if rng.chance(0.5) {
                            Corruption::Zero
                        } else {
                            Corruption::BitFlip {
                                bit: rng.below(valid * 8),
                            }
                        };
                        file.rot(sector_size, index, corruption);
                        self.emit("disk.fault.corrupt", [ino, index, 0, 0], || {
                            format!(
                                "sector {index} of {} rots at rest: {corruption:?}",
                                self.path
                            )
                        });
                    }
                }
            }
        }
        let n = file.current.read(sector_size, offset, buf);
        self.emit(
            "disk.read",
            [ino, offset, n as u64, hash(&buf[..n])],
            || format!("read {offset}+{} of {}: {n} byte(s)", buf.len(), self.path),
        );
        Ok(n)
    }

    async fn write_at(&self, data: &[u8], offset: u64) -> io::Result<()> {
        self.write_inner(data, Some(offset)).await.map(|_| ())
    }

    async fn append(&self, data: &[u8]) -> io::Result<u64> {
        self.write_inner(data, None).await
    }

    async fn set_len(&self, len: u64) -> io::Result<()> {
        check_range(len, 0)?;
        self.check(Access::Write)?;
        check_size(&self.path, len, 0)?;
        self.disk.delay(OpClass::Write, 0).await;
        let mut state = self.disk.state.borrow_mut();
        self.check_generation(&state)?;
        let state = &mut *state;
        let seq = state.next_seq();
        let sector_size = state.sector_size;
        let ino = self.ino;
        let Some(file) = state.fs.file_mut(ino) else {
            return Err(stale(&self.path));
        };
        let delta = file.set_len(sector_size, seq, len);
        state.fs.account(delta);
        self.emit("disk.set_len", [ino, len, seq, 0], || {
            format!("set_len {} to {len}", self.path)
        });
        Ok(())
    }

    fn len(&self) -> io::Result<u64> {
        self.check(Access::Any)?;
        let state = self.disk.state.borrow();
        state
            .fs
            .file(self.ino)
            .map(|file| file.current.len())
            .ok_or_else(|| stale(&self.path))
    }

    async fn sync_data(&self) -> io::Result<()> {
        self.sync(false).await
    }

    async fn sync_all(&self) -> io::Result<()> {
        self.sync(true).await
    }

    fn close(&self) -> io::Result<()> {
        if self.closed.replace(true) {
            return Err(closed(&self.path));
        }
        self.release();
        if self.disk.entered().is_ok() {
            self.emit("disk.close", [self.ino, 0, 0, 0], || {
                format!("close {}", self.path)
            });
        }
        Ok(())
    }
}

impl SimFile {
    /// Gives the inode's open count back (once).
    fn release(&self) {
        let Ok(mut state) = self.disk.state.try_borrow_mut() else {
            return;
        };
        if state.generation != self.generation {
            return;
        }
        if let Some(inode) = state.fs.inodes.get_mut(&self.ino) {
            inode.open = inode.open.saturating_sub(1);
            if inode.open == 0 && matches!(inode.kind, Kind::File(_)) {
                state.fs.collect();
            }
        }
    }
}

impl Drop for SimFile {
    fn drop(&mut self) {
        if !self.closed.replace(true) {
            self.release();
        }
    }
}
