//! The traits storage code is generic over — [`Storage`] (a directory tree)
//! and [`File`] — with [`OpenOptions`] and [`Metadata`]. The simulation
//! ([`SimStorage`](crate::SimStorage)) and the real backend (`RealStorage`,
//! feature `real`) implement them.

use std::future::Future;
use std::io;

use crate::error::invalid_input;

/// How to open a file, like [`std::fs::OpenOptions`] (without append mode:
/// use [`File::append`]).
///
/// # Examples
///
/// ```
/// use detsim_disk::OpenOptions;
///
/// let create = OpenOptions::read_write().create(true);
/// let fresh = OpenOptions::read_write().create_new(true);
/// let read = OpenOptions::read_only();
/// assert!(create.validate().is_ok() && fresh.validate().is_ok() && read.validate().is_ok());
/// assert!(OpenOptions::read_only().truncate(true).validate().is_err());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OpenOptions {
    read: bool,
    write: bool,
    create: bool,
    create_new: bool,
    truncate: bool,
}

impl OpenOptions {
    /// Open for reading only.
    pub fn read_only() -> OpenOptions {
        OpenOptions::default().read(true)
    }

    /// Open for reading and writing.
    pub fn read_write() -> OpenOptions {
        OpenOptions::default().read(true).write(true)
    }

    /// Allow reads.
    pub fn read(mut self, read: bool) -> OpenOptions {
        self.read = read;
        self
    }

    /// Allow writes, length changes and syncs of data.
    pub fn write(mut self, write: bool) -> OpenOptions {
        self.write = write;
        self
    }

    /// Create the file if it does not exist (needs `write`).
    pub fn create(mut self, create: bool) -> OpenOptions {
        self.create = create;
        self
    }

    /// Create the file, failing with `AlreadyExists` if it exists (needs `write`).
    pub fn create_new(mut self, create_new: bool) -> OpenOptions {
        self.create_new = create_new;
        self
    }

    /// Truncate the file to length zero when opening (needs `write`).
    pub fn truncate(mut self, truncate: bool) -> OpenOptions {
        self.truncate = truncate;
        self
    }

    /// Whether reads are allowed.
    pub fn is_read(&self) -> bool {
        self.read
    }

    /// Whether writes are allowed.
    pub fn is_write(&self) -> bool {
        self.write
    }

    /// Whether a missing file is created.
    pub fn is_create(&self) -> bool {
        self.create || self.create_new
    }

    /// Whether an existing file is an error.
    pub fn is_create_new(&self) -> bool {
        self.create_new
    }

    /// Whether the file is truncated.
    pub fn is_truncate(&self) -> bool {
        self.truncate
    }

    /// Checks the combination as Linux's `open(2)` would.
    ///
    /// # Errors
    ///
    /// `InvalidInput` when neither reading nor writing is asked for, or when
    /// `create`, `create_new` or `truncate` is asked for without `write`.
    pub fn validate(&self) -> io::Result<()> {
        if !self.read && !self.write {
            return Err(invalid_input(
                "open options allow neither reading nor writing".into(),
            ));
        }
        if !self.write && (self.create || self.create_new || self.truncate) {
            return Err(invalid_input(
                "open options create or truncate a file without allowing writes".into(),
            ));
        }
        Ok(())
    }
}

/// What [`Storage::metadata`] tells about a path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Metadata {
    len: u64,
    is_dir: bool,
}

impl Metadata {
    pub(crate) fn new(len: u64, is_dir: bool) -> Metadata {
        Metadata { len, is_dir }
    }

    /// The file's length in bytes (0 for a directory).
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the length is zero.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether it is a directory.
    pub fn is_dir(&self) -> bool {
        self.is_dir
    }

    /// Whether it is a regular file.
    pub fn is_file(&self) -> bool {
        !self.is_dir
    }
}

/// A directory tree of files: what storage code is generic over.
///
/// Paths are `/`-separated names from the storage's root (a leading `/` is
/// optional); `.`, `..` and empty components are rejected with
/// `InvalidInput`. Errors are [`std::io::Error`]s with the kinds Linux
/// returns: `NotFound`, `AlreadyExists`, `NotADirectory`, `IsADirectory`,
/// `DirectoryNotEmpty`, `StorageFull`, `InvalidInput`, `ResourceBusy`
/// (removing or renaming the root), `FileTooLarge` (past
/// [`FILE_SIZE_MAX`](crate::FILE_SIZE_MAX)), and `EIO` for media faults (see
/// [`is_media_error`](crate::is_media_error)). Both backends check in
/// Linux's order and never touch the storage root itself.
///
/// Durability follows POSIX as Linux implements it: file data and length are
/// durable after [`File::sync_data`] or [`File::sync_all`]; a created,
/// renamed or removed name is durable only after [`Storage::sync_dir`] of its
/// directory (in simulation, a directory sync also makes durable the earlier
/// operations it depends on, so a rename across directories never leaves a
/// file under two names: see the book's storage chapter).
///
/// # Examples
///
/// Code written once, run in simulation here (and on a real directory with
/// `RealStorage`, feature `real`):
///
/// ```
/// # #[cfg(feature = "sim")] {
/// use detsim::{Seed, Sim};
/// use detsim_disk::{DiskConfig, Disks, File, OpenOptions, Storage};
///
/// async fn save<S: Storage>(storage: &S, value: &[u8]) -> std::io::Result<()> {
///     let file = storage.open("/value.tmp", OpenOptions::read_write().create(true).truncate(true)).await?;
///     file.write_at(value, 0).await?;
///     file.sync_all().await?;
///     storage.rename("/value.tmp", "/value").await?;
///     storage.sync_dir("/").await
/// }
///
/// let mut sim = Sim::new(Seed::new(1));
/// let disks = Disks::install(&sim, DiskConfig::default()).unwrap();
/// let n1 = sim.add_node("n1", |_| async {}).unwrap();
/// sim.run(async move {
///     let storage = disks.storage(n1).unwrap();
///     save(&storage, b"42").await.unwrap();
///     assert_eq!(storage.read_dir("/").await.unwrap(), ["value"]);
/// }).unwrap();
/// # }
/// ```
pub trait Storage: Clone + 'static {
    /// An open file.
    type File: File;

    /// Opens (or creates) the file at `path`.
    fn open(
        &self,
        path: &str,
        options: OpenOptions,
    ) -> impl Future<Output = io::Result<Self::File>>;

    /// Removes the file at `path` (open handles keep working).
    fn remove_file(&self, path: &str) -> impl Future<Output = io::Result<()>>;

    /// Renames `from` to `to`, atomically replacing `to` if it exists.
    fn rename(&self, from: &str, to: &str) -> impl Future<Output = io::Result<()>>;

    /// Creates the directory `path` (its parent must exist).
    fn create_dir(&self, path: &str) -> impl Future<Output = io::Result<()>>;

    /// Removes the empty directory `path`.
    fn remove_dir(&self, path: &str) -> impl Future<Output = io::Result<()>>;

    /// The names in directory `path`, sorted.
    fn read_dir(&self, path: &str) -> impl Future<Output = io::Result<Vec<String>>>;

    /// What `path` is, and its length.
    fn metadata(&self, path: &str) -> impl Future<Output = io::Result<Metadata>>;

    /// Makes the directory's entries durable (creates, renames and removes in it).
    fn sync_dir(&self, path: &str) -> impl Future<Output = io::Result<()>>;
}

/// An open file: positional reads and writes, appends, length changes, syncs.
///
/// A file handle is closed by [`File::close`] or by dropping it; using it
/// after `close` is an `InvalidInput` error.
pub trait File {
    /// Reads up to `buf.len()` bytes at `offset`; returns how many were read
    /// (fewer at the end of the file, 0 at or past it).
    fn read_at(&self, buf: &mut [u8], offset: u64) -> impl Future<Output = io::Result<usize>>;

    /// Writes all of `data` at `offset`, extending the file if needed.
    fn write_at(&self, data: &[u8], offset: u64) -> impl Future<Output = io::Result<()>>;

    /// Writes all of `data` at the end of the file; returns the offset it was
    /// written at. (One writer per file: this is `write_at(data, len)`.)
    fn append(&self, data: &[u8]) -> impl Future<Output = io::Result<u64>>;

    /// Truncates or extends (with zeros) the file to `len` bytes.
    fn set_len(&self, len: u64) -> impl Future<Output = io::Result<()>>;

    /// The file's length as reads see it.
    fn len(&self) -> io::Result<u64>;

    /// Whether the file is empty.
    fn is_empty(&self) -> io::Result<bool> {
        Ok(self.len()? == 0)
    }

    /// Makes the file's data and length durable (`fdatasync`).
    fn sync_data(&self) -> impl Future<Output = io::Result<()>>;

    /// Makes the file's data, length and other metadata durable (`fsync`).
    fn sync_all(&self) -> impl Future<Output = io::Result<()>>;

    /// Closes the handle; later operations on it fail. Closing twice is an error.
    fn close(&self) -> io::Result<()>;
}
