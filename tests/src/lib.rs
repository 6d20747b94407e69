//! The book chapters, compiled and run as doc-tests.
#[cfg(doctest)]
#[doc = include_str!("../../book/src/network.md")]
pub struct NetworkChapter;
