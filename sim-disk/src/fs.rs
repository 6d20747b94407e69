//! The namespace: inodes (files and directories), directory entries in a
//! cached and a durable version, and the journal of directory operations not
//! yet made durable by a directory sync (ALICE, OSDI'14).

use std::collections::{BTreeMap, BTreeSet};
use std::io;

use crate::cache::FileData;
use crate::error::{
    already_exists, busy, directory_not_empty, invalid_input, is_a_directory, not_a_directory,
    not_found, root_removal,
};
use crate::path::canonical;

/// The root directory's inode number.
pub(crate) const ROOT: u64 = 0;

/// A directory: its entries as the cache sees them, and as the media holds them.
#[derive(Clone, Debug, Default)]
pub(crate) struct Dir {
    pub(crate) entries: BTreeMap<String, u64>,
    pub(crate) durable: BTreeMap<String, u64>,
}

/// A file's or a directory's contents.
#[derive(Clone, Debug)]
pub(crate) enum Kind {
    File(Box<FileData>),
    Dir(Dir),
}

/// A file or a directory.
#[derive(Clone, Debug)]
pub(crate) struct Inode {
    pub(crate) kind: Kind,
    /// Open handles (an unlinked file lives on while it is open).
    pub(crate) open: u32,
}

/// A directory operation not yet durable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum MetaOp {
    /// `name` in `dir` now names `ino` (create, mkdir).
    Link { dir: u64, name: String, ino: u64 },
    /// `name` in `dir` no longer names `ino` (remove).
    Unlink { dir: u64, name: String, ino: u64 },
    /// `ino` moved from `from` in `from_dir` to `to` in `to_dir` (atomically).
    Rename {
        from_dir: u64,
        from: String,
        to_dir: u64,
        to: String,
        ino: u64,
    },
}

impl MetaOp {
    fn touches(&self, dir: u64) -> bool {
        match self {
            MetaOp::Link { dir: d, .. } | MetaOp::Unlink { dir: d, .. } => *d == dir,
            MetaOp::Rename {
                from_dir, to_dir, ..
            } => *from_dir == dir || *to_dir == dir,
        }
    }

    fn inodes(&self) -> [u64; 3] {
        match self {
            MetaOp::Link { dir, ino, .. } | MetaOp::Unlink { dir, ino, .. } => [*dir, *ino, *dir],
            MetaOp::Rename {
                from_dir,
                to_dir,
                ino,
                ..
            } => [*from_dir, *to_dir, *ino],
        }
    }

    /// What an operation concerns, for dependencies between operations:
    /// the entries it changes and the inode it names.
    fn keys(&self) -> [Option<Key<'_>>; 3] {
        match self {
            MetaOp::Link { dir, name, ino } | MetaOp::Unlink { dir, name, ino } => {
                [Some(Key::Entry(*dir, name)), Some(Key::Inode(*ino)), None]
            }
            MetaOp::Rename {
                from_dir,
                from,
                to_dir,
                to,
                ino,
            } => [
                Some(Key::Entry(*from_dir, from)),
                Some(Key::Entry(*to_dir, to)),
                Some(Key::Inode(*ino)),
            ],
        }
    }

    /// The trace code and the inode it concerns.
    pub(crate) fn code(&self) -> (u64, u64) {
        match self {
            MetaOp::Link { ino, .. } => (0, *ino),
            MetaOp::Unlink { ino, .. } => (1, *ino),
            MetaOp::Rename { ino, .. } => (2, *ino),
        }
    }
}

/// What a directory operation concerns: an entry (directory, name) or an inode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Key<'a> {
    Entry(u64, &'a str),
    Inode(u64),
}

/// All inodes of a disk.
#[derive(Clone, Debug)]
pub(crate) struct Fs {
    pub(crate) inodes: BTreeMap<u64, Inode>,
    next_ino: u64,
    /// Directory operations not yet durable, in the order they were made, with their sequence numbers.
    pub(crate) journal: Vec<(u64, MetaOp)>,
    /// Allocated sectors of every file's cached image.
    pub(crate) used_sectors: u64,
}

impl Default for Fs {
    fn default() -> Fs {
        let mut inodes = BTreeMap::new();
        inodes.insert(
            ROOT,
            Inode {
                kind: Kind::Dir(Dir::default()),
                open: 0,
            },
        );
        Fs {
            inodes,
            next_ino: ROOT + 1,
            journal: Vec::new(),
            used_sectors: 0,
        }
    }
}

impl Fs {
    /// The inode `parts` names.
    pub(crate) fn resolve(&self, parts: &[&str]) -> io::Result<u64> {
        let mut ino = ROOT;
        for (depth, part) in parts.iter().enumerate() {
            let Some(Kind::Dir(dir)) = self.inodes.get(&ino).map(|i| &i.kind) else {
                return Err(not_a_directory(&canonical(&parts[..depth])));
            };
            ino = *dir
                .entries
                .get(*part)
                .ok_or_else(|| not_found("file or directory", &canonical(&parts[..=depth])))?;
        }
        Ok(ino)
    }

    /// The directory holding the last component of `parts`, and that component.
    pub(crate) fn parent<'p>(&self, parts: &[&'p str]) -> io::Result<(u64, &'p str)> {
        let Some((name, dir_parts)) = parts.split_last() else {
            return Err(invalid_input(
                "the root directory cannot be created, removed or renamed".into(),
            ));
        };
        let dir = self.resolve(dir_parts)?;
        match self.inodes.get(&dir).map(|i| &i.kind) {
            Some(Kind::Dir(_)) => Ok((dir, name)),
            _ => Err(not_a_directory(&canonical(dir_parts))),
        }
    }

    /// As [`Fs::parent`], but `None` for the root (which has no parent).
    pub(crate) fn parent_unless_root<'p>(
        &self,
        parts: &[&'p str],
    ) -> io::Result<Option<(u64, &'p str)>> {
        if parts.is_empty() {
            Ok(None)
        } else {
            self.parent(parts).map(Some)
        }
    }

    pub(crate) fn is_dir(&self, ino: u64) -> bool {
        matches!(self.inodes.get(&ino).map(|i| &i.kind), Some(Kind::Dir(_)))
    }

    pub(crate) fn dir(&self, ino: u64) -> Option<&Dir> {
        match self.inodes.get(&ino).map(|i| &i.kind) {
            Some(Kind::Dir(dir)) => Some(dir),
            _ => None,
        }
    }

    fn dir_mut(&mut self, ino: u64) -> Option<&mut Dir> {
        match self.inodes.get_mut(&ino).map(|i| &mut i.kind) {
            Some(Kind::Dir(dir)) => Some(dir),
            _ => None,
        }
    }

    pub(crate) fn file(&self, ino: u64) -> Option<&FileData> {
        match self.inodes.get(&ino).map(|i| &i.kind) {
            Some(Kind::File(data)) => Some(data),
            _ => None,
        }
    }

    pub(crate) fn file_mut(&mut self, ino: u64) -> Option<&mut FileData> {
        match self.inodes.get_mut(&ino).map(|i| &mut i.kind) {
            Some(Kind::File(data)) => Some(data),
            _ => None,
        }
    }

    /// Adds `delta` allocated sectors to the usage.
    pub(crate) fn account(&mut self, delta: i64) {
        self.used_sectors = self.used_sectors.saturating_add_signed(delta);
    }

    /// Creates a file or a directory named `name` in `dir` (which must not have it).
    pub(crate) fn create(&mut self, seq: u64, dir: u64, name: &str, is_dir: bool) -> u64 {
        let ino = self.next_ino;
        self.next_ino += 1;
        let kind = if is_dir {
            Kind::Dir(Dir::default())
        } else {
            Kind::File(Box::default())
        };
        self.inodes.insert(ino, Inode { kind, open: 0 });
        if let Some(d) = self.dir_mut(dir) {
            d.entries.insert(name.to_owned(), ino);
        }
        self.journal.push((
            seq,
            MetaOp::Link {
                dir,
                name: name.to_owned(),
                ino,
            },
        ));
        ino
    }

    /// Removes `name` from `dir`: a file (`want_dir == false`) or an empty directory.
    ///
    /// The root is never removed: `remove_file("/")` is `IsADirectory` and
    /// `remove_dir("/")` is `ResourceBusy`, as Linux's `unlink` and `rmdir` say.
    pub(crate) fn remove(&mut self, seq: u64, parts: &[&str], want_dir: bool) -> io::Result<u64> {
        if parts.is_empty() {
            return Err(root_removal(want_dir));
        }
        let (dir, name) = self.parent(parts)?;
        let path = canonical(parts);
        let ino = self.resolve(parts)?;
        match (self.dir(ino), want_dir) {
            (Some(_), false) => return Err(is_a_directory(&path)),
            (None, true) => return Err(not_a_directory(&path)),
            (Some(d), true) if !d.entries.is_empty() => return Err(directory_not_empty(&path)),
            _ => {}
        }
        if let Some(d) = self.dir_mut(dir) {
            d.entries.remove(name);
        }
        self.journal.push((
            seq,
            MetaOp::Unlink {
                dir,
                name: name.to_owned(),
                ino,
            },
        ));
        self.collect();
        Ok(ino)
    }

    /// Renames `from` to `to`, replacing `to` as POSIX `rename` does.
    ///
    /// The checks come in Linux's order: both parents resolve; the root is
    /// neither source nor target (`ResourceBusy`); the source exists; a
    /// directory does not move into itself (`InvalidInput`); the target is
    /// not an ancestor of the source (`DirectoryNotEmpty`); then the kinds
    /// must agree and a replaced directory must be empty.
    pub(crate) fn rename(&mut self, seq: u64, from: &[&str], to: &[&str]) -> io::Result<u64> {
        let from_parent = self.parent_unless_root(from)?;
        let to_parent = self.parent_unless_root(to)?;
        let (Some((from_dir, from_name)), Some((to_dir, to_name))) = (from_parent, to_parent)
        else {
            return Err(busy(&format!(
                "cannot rename {} to {}: the root directory",
                canonical(from),
                canonical(to)
            )));
        };
        let ino = self.resolve(from)?;
        let moving_dir = self.is_dir(ino);
        if moving_dir && to.len() > from.len() && to[..from.len()] == *from {
            return Err(invalid_input(format!(
                "cannot move directory {} into itself ({})",
                canonical(from),
                canonical(to)
            )));
        }
        if from.len() > to.len() && from[..to.len()] == *to {
            return Err(directory_not_empty(&canonical(to)));
        }
        if let Some(Some(existing)) = self.dir(to_dir).map(|d| d.entries.get(to_name).copied()) {
            if existing == ino {
                return Ok(ino);
            }
            match (moving_dir, self.dir(existing)) {
                (false, Some(_)) => return Err(is_a_directory(&canonical(to))),
                (true, None) => return Err(not_a_directory(&canonical(to))),
                (true, Some(d)) if !d.entries.is_empty() => {
                    return Err(directory_not_empty(&canonical(to)));
                }
                _ => {}
            }
        }
        if let Some(d) = self.dir_mut(from_dir) {
            d.entries.remove(from_name);
        }
        if let Some(d) = self.dir_mut(to_dir) {
            d.entries.insert(to_name.to_owned(), ino);
        }
        self.journal.push((
            seq,
            MetaOp::Rename {
                from_dir,
                from: from_name.to_owned(),
                to_dir,
                to: to_name.to_owned(),
                ino,
            },
        ));
        self.collect();
        Ok(ino)
    }

    /// Makes durable every journaled operation on `dir`'s entries, together
    /// with every earlier journaled operation it depends on (transitively),
    /// in the order they were made. Returns how many.
    ///
    /// An operation depends on an earlier one when both concern the same
    /// entry (directory and name) or the same inode: a rename out of `/a`
    /// depends on the create that put the file in `/a`, so syncing the
    /// rename's target directory makes the create durable first, and a file
    /// never survives under two names.
    pub(crate) fn sync_dir(&mut self, dir: u64) -> u64 {
        let journal = std::mem::take(&mut self.journal);
        let mut chosen = vec![false; journal.len()];
        let mut wanted: BTreeSet<Key<'_>> = BTreeSet::new();
        for (i, (_, op)) in journal.iter().enumerate().rev() {
            if op.touches(dir) || op.keys().iter().flatten().any(|k| wanted.contains(k)) {
                chosen[i] = true;
                wanted.extend(op.keys().into_iter().flatten());
            }
        }
        let mut synced = Vec::new();
        for ((seq, op), chosen) in journal.into_iter().zip(chosen) {
            if chosen {
                synced.push(op);
            } else {
                self.journal.push((seq, op));
            }
        }
        let count = synced.len() as u64;
        for op in synced {
            self.apply_durable(&op);
        }
        self.collect();
        count
    }

    fn apply_durable(&mut self, op: &MetaOp) {
        match op {
            MetaOp::Link { dir, name, ino } => {
                if let Some(d) = self.dir_mut(*dir) {
                    d.durable.insert(name.clone(), *ino);
                }
            }
            MetaOp::Unlink { dir, name, ino } => {
                if let Some(d) = self.dir_mut(*dir) {
                    if d.durable.get(name) == Some(ino) {
                        d.durable.remove(name);
                    }
                }
            }
            MetaOp::Rename {
                from_dir,
                from,
                to_dir,
                to,
                ino,
            } => {
                if let Some(d) = self.dir_mut(*from_dir) {
                    if d.durable.get(from) == Some(ino) {
                        d.durable.remove(from);
                    }
                }
                if let Some(d) = self.dir_mut(*to_dir) {
                    d.durable.insert(to.clone(), *ino);
                }
            }
        }
    }

    /// A crash: the first `prefix` journaled operations become durable, the
    /// rest are forgotten; every directory's cached entries become its durable
    /// ones; handles are gone; unreachable inodes are freed. Returns the
    /// operations in journal order, with whether each survived.
    pub(crate) fn crash_names(&mut self, prefix: usize) -> Vec<(u64, MetaOp, bool)> {
        let journal = std::mem::take(&mut self.journal);
        let mut decided = Vec::with_capacity(journal.len());
        for (i, (seq, op)) in journal.into_iter().enumerate() {
            let survives = i < prefix;
            if survives {
                self.apply_durable(&op);
            }
            decided.push((seq, op, survives));
        }
        for inode in self.inodes.values_mut() {
            inode.open = 0;
            if let Kind::Dir(dir) = &mut inode.kind {
                dir.entries = dir.durable.clone();
            }
        }
        self.collect();
        decided
    }

    /// Frees every inode nothing can reach any more: not named in a cached
    /// or durable directory entry reachable from the root, not in the
    /// journal, not open.
    pub(crate) fn collect(&mut self) {
        let mut live = BTreeSet::new();
        let mut stack = vec![ROOT];
        stack.extend(self.journal.iter().flat_map(|(_, op)| op.inodes()));
        stack.extend(
            self.inodes
                .iter()
                .filter(|(_, i)| i.open > 0)
                .map(|(ino, _)| *ino),
        );
        while let Some(ino) = stack.pop() {
            if !live.insert(ino) {
                continue;
            }
            if let Some(dir) = self.dir(ino) {
                stack.extend(dir.entries.values().chain(dir.durable.values()).copied());
            }
        }
        if live.len() == self.inodes.len() {
            return;
        }
        let dead: Vec<u64> = self
            .inodes
            .keys()
            .filter(|ino| !live.contains(ino))
            .copied()
            .collect();
        for ino in dead {
            if let Some(Inode {
                kind: Kind::File(data),
                ..
            }) = self.inodes.remove(&ino)
            {
                self.used_sectors = self.used_sectors.saturating_sub(data.current.allocated());
            }
        }
    }

    /// Recomputes the usage from every file's cached image.
    pub(crate) fn recount(&mut self) {
        self.used_sectors = self
            .inodes
            .values()
            .map(|i| match &i.kind {
                Kind::File(data) => data.current.allocated(),
                Kind::Dir(_) => 0,
            })
            .sum();
    }

    /// Fails unless `name` is free in `dir`.
    pub(crate) fn check_free(&self, dir: u64, name: &str, path: &str) -> io::Result<()> {
        match self.dir(dir).and_then(|d| d.entries.get(name)) {
            Some(_) => Err(already_exists(path)),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(fs: &Fs, dir: u64) -> Vec<String> {
        fs.dir(dir).unwrap().entries.keys().cloned().collect()
    }

    #[test]
    fn unsynced_names_vanish_at_a_crash_and_synced_ones_stay() {
        // Proves a name is durable only after its directory is synced.
        let mut fs = Fs::default();
        fs.create(1, ROOT, "a", false);
        fs.sync_dir(ROOT);
        fs.create(2, ROOT, "b", false);
        fs.crash_names(0);
        assert_eq!(names(&fs, ROOT), ["a"]);
        assert_eq!(fs.inodes.len(), 2);
    }

    #[test]
    fn an_unsynced_rename_reverts_and_a_prefix_survives_in_order() {
        // Proves the journal survives as a prefix: the later op never without the earlier.
        let mut fs = Fs::default();
        fs.create(1, ROOT, "tmp", false);
        fs.sync_dir(ROOT);
        fs.rename(2, &["tmp"], &["final"]).unwrap();
        fs.create(3, ROOT, "other", false);
        let mut reverted = fs.clone();
        reverted.crash_names(0);
        assert_eq!(names(&reverted, ROOT), ["tmp"]);
        fs.crash_names(1);
        assert_eq!(names(&fs, ROOT), ["final"]);
    }

    #[test]
    fn a_cross_directory_rename_is_durable_with_the_create_it_depends_on() {
        // Proves syncing the target directory makes the create in the source durable first:
        // the file survives under its new name only, whichever directory is synced first.
        for sync_source_first in [false, true] {
            let mut fs = Fs::default();
            let a = fs.create(1, ROOT, "a", true);
            let b = fs.create(2, ROOT, "b", true);
            fs.sync_dir(ROOT);
            fs.create(3, a, "x", false);
            fs.rename(4, &["a", "x"], &["b", "x"]).unwrap();
            let order = if sync_source_first { [a, b] } else { [b, a] };
            assert_eq!(fs.sync_dir(order[0]), 2);
            assert_eq!(fs.sync_dir(order[1]), 0);
            fs.crash_names(0);
            assert!(names(&fs, a).is_empty());
            assert_eq!(names(&fs, b), ["x"]);
        }
    }

    #[test]
    fn a_rename_into_a_directory_synced_alone_leaves_no_second_name() {
        // Proves create /x, rename to /a/x, sync /a, sync / keeps /a/x only.
        let mut fs = Fs::default();
        let a = fs.create(1, ROOT, "a", true);
        fs.sync_dir(ROOT);
        fs.create(2, ROOT, "x", false);
        fs.rename(3, &["x"], &["a", "x"]).unwrap();
        fs.sync_dir(a);
        fs.sync_dir(ROOT);
        fs.crash_names(0);
        assert_eq!(names(&fs, ROOT), ["a"]);
        assert_eq!(names(&fs, a), ["x"]);
    }

    #[test]
    fn a_sync_leaves_independent_operations_pending() {
        // Proves a directory sync does not commit unrelated entries of other directories.
        let mut fs = Fs::default();
        let a = fs.create(1, ROOT, "a", true);
        fs.sync_dir(ROOT);
        fs.create(2, ROOT, "other", false);
        fs.create(3, a, "x", false);
        assert_eq!(fs.sync_dir(a), 1);
        fs.crash_names(0);
        assert_eq!(names(&fs, ROOT), ["a"]);
        assert_eq!(names(&fs, a), ["x"]);
    }

    #[test]
    fn the_root_is_never_removed_or_renamed_and_a_target_ancestor_is_not_empty() {
        // Proves Linux's error kinds for the root and for renaming onto an ancestor.
        let mut fs = Fs::default();
        let a = fs.create(1, ROOT, "a", true);
        fs.create(2, a, "x", false);
        let kind = |r: io::Result<u64>| r.unwrap_err().kind();
        assert_eq!(kind(fs.remove(3, &[], false)), io::ErrorKind::IsADirectory);
        assert_eq!(kind(fs.remove(3, &[], true)), io::ErrorKind::ResourceBusy);
        assert_eq!(kind(fs.rename(3, &["a"], &[])), io::ErrorKind::ResourceBusy);
        assert_eq!(kind(fs.rename(3, &[], &["b"])), io::ErrorKind::ResourceBusy);
        assert_eq!(
            kind(fs.rename(3, &["a", "x"], &["a"])),
            io::ErrorKind::DirectoryNotEmpty
        );
        assert_eq!(
            kind(fs.rename(3, &["a"], &["a", "y"])),
            io::ErrorKind::InvalidInput
        );
    }

    #[test]
    fn removing_an_open_file_keeps_its_inode_until_closed() {
        // Proves unlink semantics: data lives while a handle is open.
        let mut fs = Fs::default();
        let ino = fs.create(1, ROOT, "f", false);
        fs.sync_dir(ROOT);
        fs.inodes.get_mut(&ino).unwrap().open = 1;
        fs.remove(2, &["f"], false).unwrap();
        fs.sync_dir(ROOT);
        assert!(fs.inodes.contains_key(&ino));
        fs.inodes.get_mut(&ino).unwrap().open = 0;
        fs.collect();
        assert!(!fs.inodes.contains_key(&ino));
    }
}
