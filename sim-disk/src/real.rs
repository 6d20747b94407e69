//! The real backend (feature `real`): [`RealStorage`] and [`RealFile`]
//! implement the [`Storage`] and [`File`] traits on `std::fs`, rooted at a
//! directory, so storage code tested in simulation runs on a real disk.
//!
//! Operations are synchronous system calls inside `async` functions (they
//! complete on their first poll): fine for storage code that owns its thread,
//! and for tests. Paths are validated exactly as in simulation.

use std::cell::RefCell;
use std::fs;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use crate::error::{
    already_exists, busy, closed, is_a_directory, not_a_directory, permission, root_removal,
};
use crate::path::{canonical, check_range, check_size, components};
use crate::storage::{File, Metadata, OpenOptions, Storage};

/// A directory of the real filesystem as a [`Storage`]: paths are relative
/// to it.
///
/// # Examples
///
/// ```
/// use detsim_disk::{File, OpenOptions, RealStorage, Storage};
///
/// let root = std::env::temp_dir().join(format!("detsim-disk-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&root).unwrap();
/// let storage = RealStorage::new(&root).unwrap();
/// futures::executor::block_on(async {
///     let file = storage.open("/a", OpenOptions::read_write().create(true)).await.unwrap();
///     file.append(b"real").await.unwrap();
///     file.sync_data().await.unwrap();
///     assert_eq!(file.len().unwrap(), 4);
/// });
/// std::fs::remove_dir_all(&root).unwrap();
/// ```
#[derive(Clone, Debug)]
pub struct RealStorage {
    root: PathBuf,
}

impl RealStorage {
    /// Storage rooted at the existing directory `root`.
    ///
    /// # Errors
    ///
    /// `NotFound` if it does not exist, `NotADirectory` if it is not a directory.
    pub fn new(root: impl AsRef<Path>) -> io::Result<RealStorage> {
        let root = root.as_ref().to_path_buf();
        if !fs::metadata(&root)?.is_dir() {
            return Err(not_a_directory(&root.display().to_string()));
        }
        Ok(RealStorage { root })
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Fails as resolving the parent of `parts` would (nothing for the root).
    fn check_parent(&self, parts: &[&str]) -> io::Result<()> {
        let Some((_, dir)) = parts.split_last() else {
            return Ok(());
        };
        let mut full = self.root.clone();
        full.extend(dir);
        if fs::metadata(&full)?.is_dir() {
            Ok(())
        } else {
            Err(not_a_directory(&canonical(dir)))
        }
    }

    fn resolve(&self, path: &str) -> io::Result<(PathBuf, String)> {
        let parts = components(path)?;
        let mut full = self.root.clone();
        full.extend(&parts);
        Ok((full, canonical(&parts)))
    }
}

impl Storage for RealStorage {
    type File = RealFile;

    async fn open(&self, path: &str, options: OpenOptions) -> io::Result<RealFile> {
        options.validate()?;
        let (full, path) = self.resolve(path)?;
        let file = fs::OpenOptions::new()
            .read(options.is_read())
            .write(options.is_write())
            .create(options.is_create() && !options.is_create_new())
            .create_new(options.is_create_new())
            .truncate(options.is_truncate())
            .open(&full)?;
        if file.metadata()?.is_dir() {
            return Err(is_a_directory(&path));
        }
        Ok(RealFile {
            file: RefCell::new(Some(file)),
            path,
            readable: options.is_read(),
            writable: options.is_write(),
        })
    }

    async fn remove_file(&self, path: &str) -> io::Result<()> {
        if components(path)?.is_empty() {
            return Err(root_removal(false));
        }
        fs::remove_file(self.resolve(path)?.0)
    }

    async fn rename(&self, from: &str, to: &str) -> io::Result<()> {
        let (from_parts, to_parts) = (components(from)?, components(to)?);
        if from_parts.is_empty() || to_parts.is_empty() {
            // Never hand the storage root to the OS: renaming onto an empty
            // root would replace it. Linux resolves both parents first.
            self.check_parent(&from_parts)?;
            self.check_parent(&to_parts)?;
            return Err(busy(&format!(
                "cannot rename {} to {}: the root directory",
                canonical(&from_parts),
                canonical(&to_parts)
            )));
        }
        fs::rename(self.resolve(from)?.0, self.resolve(to)?.0)
    }

    async fn create_dir(&self, path: &str) -> io::Result<()> {
        if components(path)?.is_empty() {
            return Err(already_exists("/"));
        }
        fs::create_dir(self.resolve(path)?.0)
    }

    async fn remove_dir(&self, path: &str) -> io::Result<()> {
        if components(path)?.is_empty() {
            // `rmdir` of the storage root would delete it.
            return Err(root_removal(true));
        }
        fs::remove_dir(self.resolve(path)?.0)
    }

    async fn read_dir(&self, path: &str) -> io::Result<Vec<String>> {
        let mut names = Vec::new();
        for entry in fs::read_dir(self.resolve(path)?.0)? {
            let name = entry?.file_name().into_string().map_err(|name| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("file name {name:?} is not UTF-8"),
                )
            })?;
            names.push(name);
        }
        names.sort();
        Ok(names)
    }

    async fn metadata(&self, path: &str) -> io::Result<Metadata> {
        let metadata = fs::metadata(self.resolve(path)?.0)?;
        let len = if metadata.is_dir() { 0 } else { metadata.len() };
        Ok(Metadata::new(len, metadata.is_dir()))
    }

    async fn sync_dir(&self, path: &str) -> io::Result<()> {
        let (full, path) = self.resolve(path)?;
        let dir = fs::File::open(full)?;
        if !dir.metadata()?.is_dir() {
            return Err(not_a_directory(&path));
        }
        dir.sync_all()
    }
}

/// An open file of a [`RealStorage`].
#[derive(Debug)]
pub struct RealFile {
    file: RefCell<Option<fs::File>>,
    path: String,
    readable: bool,
    writable: bool,
}

impl RealFile {
    fn with<R>(
        &self,
        access: Option<bool>,
        f: impl FnOnce(&fs::File) -> io::Result<R>,
    ) -> io::Result<R> {
        let file = self.file.borrow();
        let file = file.as_ref().ok_or_else(|| closed(&self.path))?;
        match access {
            Some(true) if !self.readable => Err(permission(&self.path, "reading")),
            Some(false) if !self.writable => Err(permission(&self.path, "writing")),
            _ => f(file),
        }
    }
}

const READ: Option<bool> = Some(true);
const WRITE: Option<bool> = Some(false);

impl File for RealFile {
    async fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        check_range(offset, buf.len() as u64)?;
        self.with(READ, |file| {
            let mut done = 0;
            while done < buf.len() {
                match file.read_at(&mut buf[done..], offset + done as u64) {
                    Ok(0) => break,
                    Ok(n) => done += n,
                    Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                    Err(error) => return Err(error),
                }
            }
            Ok(done)
        })
    }

    async fn write_at(&self, data: &[u8], offset: u64) -> io::Result<()> {
        check_range(offset, data.len() as u64)?;
        self.with(WRITE, |file| {
            if !data.is_empty() {
                check_size(&self.path, offset, data.len() as u64)?;
            }
            file.write_all_at(data, offset)
        })
    }

    async fn append(&self, data: &[u8]) -> io::Result<u64> {
        self.with(WRITE, |file| {
            let offset = file.metadata()?.len();
            check_range(offset, data.len() as u64)?;
            if !data.is_empty() {
                check_size(&self.path, offset, data.len() as u64)?;
            }
            file.write_all_at(data, offset)?;
            Ok(offset)
        })
    }

    async fn set_len(&self, len: u64) -> io::Result<()> {
        check_range(len, 0)?;
        self.with(WRITE, |file| {
            check_size(&self.path, len, 0)?;
            file.set_len(len)
        })
    }

    fn len(&self) -> io::Result<u64> {
        self.with(None, |file| Ok(file.metadata()?.len()))
    }

    async fn sync_data(&self) -> io::Result<()> {
        self.with(None, fs::File::sync_data)
    }

    async fn sync_all(&self) -> io::Result<()> {
        self.with(None, fs::File::sync_all)
    }

    fn close(&self) -> io::Result<()> {
        match self.file.borrow_mut().take() {
            Some(_) => Ok(()),
            None => Err(closed(&self.path)),
        }
    }
}
