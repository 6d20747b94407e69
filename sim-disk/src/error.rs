//! Errors: storage operations return [`std::io::Error`] built by the helpers
//! here, with the kinds a real Linux system returns (the surface); the
//! simulation's configuration and API misuse is `DiskError` (feature `sim`).

#[cfg(feature = "sim")]
use std::fmt;
use std::io;

use crate::path::Shown;

#[cfg(feature = "sim")]
use detsim::SimError;

#[cfg(feature = "sim")]
/// A configuration or API misuse error of the simulated disks: the test is
/// wrong, not the storage code under test.
///
/// Storage operations never return this type: they return
/// [`std::io::Error`], like `std::fs`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DiskError {
    /// A configuration value is out of range.
    InvalidConfig(String),
    /// No [`Disks`](crate::Disks) extension is installed in this world.
    NotInstalled,
    /// A disk API was called where no simulation (or another one) is running.
    OutsideSimulation(&'static str),
    /// The ambient [`storage`](crate::storage) was asked for by the test
    /// harness, which has no disk of its own.
    NotANode,
    /// The world refused (an unknown node, for instance).
    Sim(SimError),
    /// A fault could not be injected where it was aimed.
    FaultTarget {
        /// The path the fault was aimed at.
        path: String,
        /// Why it could not be injected there.
        reason: String,
    },
}

#[cfg(feature = "sim")]
impl fmt::Display for DiskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DiskError::InvalidConfig(message) => write!(f, "invalid disk configuration: {message}"),
            DiskError::NotInstalled => write!(
                f,
                "no simulated disks in this world: call `Disks::install` before using storage"
            ),
            DiskError::OutsideSimulation(api) => write!(
                f,
                "`{api}` was called outside the simulation that owns these disks; call it from the \
                 test body, a node, or inside `Sim::enter`"
            ),
            DiskError::NotANode => write!(
                f,
                "the test harness has no disk of its own: use `Disks::storage(node)` to reach a node's disk"
            ),
            DiskError::Sim(error) => write!(f, "{error}"),
            DiskError::FaultTarget { path, reason } => {
                write!(f, "cannot inject a fault at {path:?}: {reason}")
            }
        }
    }
}

#[cfg(feature = "sim")]
impl std::error::Error for DiskError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            DiskError::Sim(error) => Some(error),
            _ => None,
        }
    }
}

#[cfg(feature = "sim")]
impl From<SimError> for DiskError {
    fn from(error: SimError) -> DiskError {
        DiskError::Sim(error)
    }
}

#[cfg(feature = "sim")]
impl From<DiskError> for io::Error {
    fn from(error: DiskError) -> io::Error {
        io::Error::other(error)
    }
}

/// Linux's `EIO`.
const EIO: i32 = 5;

/// The error a media fault returns: `EIO` ("Input/output error", os error 5),
/// exactly what `std::fs` returns on Linux, so `raw_os_error() == Some(5)`
/// works in code written against std.
pub(crate) fn media_error() -> io::Error {
    if cfg!(unix) {
        io::Error::from_raw_os_error(EIO)
    } else {
        io::Error::other("input/output error")
    }
}

/// Whether `error` is a media error (`EIO`): what a latent sector error, a
/// failed write or a failed fsync returns, in simulation and on Linux.
///
/// # Examples
///
/// ```
/// assert!(detsim_disk::is_media_error(&std::io::Error::from_raw_os_error(5)));
/// assert!(!detsim_disk::is_media_error(&std::io::ErrorKind::NotFound.into()));
/// ```
pub fn is_media_error(error: &io::Error) -> bool {
    error.raw_os_error() == Some(EIO) || error.to_string() == "input/output error"
}

pub(crate) fn not_found(what: &str, path: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::NotFound,
        format!("no such {what}: {}", Shown::plain(path)),
    )
}

pub(crate) fn already_exists(path: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::AlreadyExists,
        format!("already exists: {}", Shown::plain(path)),
    )
}

pub(crate) fn invalid_input(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message)
}

pub(crate) fn no_space(path: &str, needed: u64, free: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::StorageFull,
        format!(
            "no space left on device: writing {} needs {needed} more byte(s), {free} free",
            Shown::plain(path)
        ),
    )
}

pub(crate) fn not_a_directory(path: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::NotADirectory,
        format!("not a directory: {}", Shown::plain(path)),
    )
}

pub(crate) fn is_a_directory(path: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::IsADirectory,
        format!("is a directory: {}", Shown::plain(path)),
    )
}

pub(crate) fn directory_not_empty(path: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::DirectoryNotEmpty,
        format!("directory not empty: {}", Shown::plain(path)),
    )
}

/// Linux's `EBUSY`: what renaming or removing the root directory gives.
pub(crate) fn busy(message: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::ResourceBusy,
        format!("resource busy: {message}"),
    )
}

/// What removing the root gives: `unlink("/")` is `EISDIR`, `rmdir("/")` is `EBUSY`.
pub(crate) fn root_removal(want_dir: bool) -> io::Error {
    if want_dir {
        busy("the root directory cannot be removed")
    } else {
        is_a_directory("/")
    }
}

/// Linux's `EFBIG`: a write or a length past the largest file size.
pub(crate) fn too_large(path: &str, end: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::FileTooLarge,
        format!(
            "file too large: {} would end at byte {end}, past the largest file size ({} bytes)",
            Shown::plain(path),
            crate::path::FILE_SIZE_MAX
        ),
    )
}

pub(crate) fn closed(path: &str) -> io::Error {
    invalid_input(format!(
        "operation on a closed file: {}",
        Shown::plain(path)
    ))
}

pub(crate) fn stale(path: &str) -> io::Error {
    invalid_input(format!(
        "stale file handle: {} was opened before its node crashed",
        Shown::plain(path)
    ))
}

pub(crate) fn permission(path: &str, access: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::PermissionDenied,
        format!("{} was not opened for {access}", Shown::plain(path)),
    )
}
