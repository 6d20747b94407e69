//! The book chapters, compiled and run as doc-tests.

/// The storage chapter of the book (`book/src/storage.md`), run as doc-tests.
#[cfg(doctest)]
#[doc = include_str!("../../book/src/storage.md")]
pub struct StorageChapter;
