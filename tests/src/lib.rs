//! The book chapters, compiled and run as doc-tests.

/// The book chapter on history checking, its code compiled and run as doc-tests.
#[cfg(doctest)]
#[doc = include_str!("../../book/src/history.md")]
pub struct HistoryChapter;
