//! Paths on a disk (`/`-separated names from the disk's root) and file
//! positions, validated the same way by the simulated and the real backend.

use std::io;

use crate::error::{invalid_input, too_large};

/// The longest name a path component may have, in bytes (Linux's `NAME_MAX`).
pub const NAME_MAX: usize = 255;

/// The longest path, in bytes: Linux's `PATH_MAX` (4096) counts the
/// terminating NUL, so a path of 4096 bytes or more is rejected.
pub const PATH_MAX: usize = 4096;

/// The largest file, in bytes: ext4's limit with 4 KiB blocks (16 TiB −
/// 4 KiB). A write ending past it, or a longer length, fails with
/// `FileTooLarge` (`EFBIG`) on both backends, whatever the real file system
/// under `RealStorage` allows.
pub const FILE_SIZE_MAX: u64 = (1 << 44) - 4096;

/// Splits `path` into its components. `/` (or an empty path after the
/// leading slash is stripped) is the root and has none. A leading `/` is
/// optional: paths are always relative to the disk's root.
///
/// Rejected with `InvalidInput`: an empty path, empty components (`a//b`,
/// a trailing `/`), `.` and `..`, a NUL byte, a component longer than
/// [`NAME_MAX`], a path of [`PATH_MAX`] bytes or more (where Linux says
/// `ENAMETOOLONG`).
pub(crate) fn components(path: &str) -> io::Result<Vec<&str>> {
    let shown = Shown::quoted(path);
    if path.is_empty() {
        return Err(invalid_input("empty path".into()));
    }
    if path.len() >= PATH_MAX {
        return Err(invalid_input(format!(
            "path of {} bytes is too long: Linux's PATH_MAX is {PATH_MAX} bytes including the terminating NUL",
            path.len()
        )));
    }
    let rest = path.strip_prefix('/').unwrap_or(path);
    if rest.is_empty() {
        return Ok(Vec::new());
    }
    let mut parts = Vec::new();
    for part in rest.split('/') {
        if part.is_empty() {
            return Err(invalid_input(format!(
                "path {shown} has an empty component"
            )));
        }
        if part == "." || part == ".." {
            return Err(invalid_input(format!(
                "path {shown} has a {part:?} component; paths name entries from the disk's root without `.` or `..`"
            )));
        }
        if part.contains('\0') {
            return Err(invalid_input(format!("path {shown} contains a NUL byte")));
        }
        if part.len() > NAME_MAX {
            return Err(invalid_input(format!(
                "path {shown} has a component of {} bytes, longer than Linux's NAME_MAX of {NAME_MAX}",
                part.len()
            )));
        }
        parts.push(part);
    }
    Ok(parts)
}

/// A path as error messages show it: quoted, and cut in the middle when it
/// is long, so an error about a 10 KB name does not echo 10 KB.
/// `Shown::quoted` writes it as a Rust string literal, `Shown::plain` as is.
pub(crate) struct Shown<'a> {
    text: &'a str,
    quoted: bool,
}

impl Shown<'_> {
    /// Paths up to this many bytes are shown whole.
    const WHOLE_MAX: usize = 96;

    pub(crate) fn quoted(text: &str) -> Shown<'_> {
        Shown { text, quoted: true }
    }

    pub(crate) fn plain(text: &str) -> Shown<'_> {
        Shown {
            text,
            quoted: false,
        }
    }

    fn part(&self, f: &mut std::fmt::Formatter<'_>, part: &str) -> std::fmt::Result {
        if self.quoted {
            write!(f, "{part:?}")
        } else {
            f.write_str(part)
        }
    }
}

impl std::fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let path = self.text;
        if path.len() <= Self::WHOLE_MAX {
            return self.part(f, path);
        }
        let head = floor_char_boundary(path, 48);
        let tail = path.len() - 24;
        let tail = (tail..path.len())
            .find(|&i| path.is_char_boundary(i))
            .unwrap_or(path.len());
        self.part(f, &path[..head])?;
        f.write_str("…")?;
        self.part(f, &path[tail..])?;
        write!(f, " ({} bytes)", path.len())
    }
}

fn floor_char_boundary(text: &str, index: usize) -> usize {
    (0..=index.min(text.len()))
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0)
}

/// `path` in its canonical form: `/` followed by its components.
pub(crate) fn canonical(parts: &[&str]) -> String {
    let mut out = String::with_capacity(parts.iter().map(|p| p.len() + 1).sum::<usize>().max(1));
    for part in parts {
        out.push('/');
        out.push_str(part);
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

/// Checks that `len` bytes at `offset` are a range Linux accepts at all:
/// `InvalidInput` (`EINVAL`) when the offset or the end does not fit in an
/// `i64`. Checked before anything else, as Linux's `pread`/`pwrite` do.
pub(crate) fn check_range(offset: u64, len: u64) -> io::Result<()> {
    match offset.checked_add(len) {
        Some(end) if end <= i64::MAX as u64 => Ok(()),
        _ => Err(invalid_input(format!(
            "offset {offset} plus length {len} is not a valid file position (past {} bytes)",
            i64::MAX
        ))),
    }
}

/// Checks that a write of `len > 0` bytes at `offset` (or a length of
/// `offset` when `len` is 0) ends inside the largest file
/// ([`FILE_SIZE_MAX`](crate::FILE_SIZE_MAX)): `FileTooLarge` (`EFBIG`)
/// otherwise. Checked after the handle's access, as Linux does.
pub(crate) fn check_size(path: &str, offset: u64, len: u64) -> io::Result<()> {
    let end = offset.saturating_add(len);
    if end > FILE_SIZE_MAX {
        return Err(too_large(path, end));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_paths_with_or_without_leading_slash() {
        // Proves the two spellings name the same entry and the root has no components.
        assert_eq!(components("/a/b").unwrap(), ["a", "b"]);
        assert_eq!(components("a/b").unwrap(), ["a", "b"]);
        assert!(components("/").unwrap().is_empty());
        assert_eq!(canonical(&["a", "b"]), "/a/b");
        assert_eq!(canonical(&[]), "/");
    }

    #[test]
    fn rejects_dots_empty_components_and_nul() {
        // Proves every malformed path is an InvalidInput error naming the problem.
        for (path, needle) in [
            ("", "empty path"),
            ("/a//b", "empty component"),
            ("/a/", "empty component"),
            ("/a/../b", "\"..\" component"),
            ("./a", "\".\" component"),
            ("/a\0b", "NUL"),
        ] {
            let error = components(path).unwrap_err();
            assert_eq!(error.kind(), io::ErrorKind::InvalidInput, "{path:?}");
            assert!(error.to_string().contains(needle), "{path:?}: {error}");
        }
        let long = "x".repeat(NAME_MAX + 1);
        assert!(components(&long).is_err());
        assert!(components(&"x".repeat(NAME_MAX)).is_ok());
    }
}
