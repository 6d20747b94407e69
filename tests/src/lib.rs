//! The book chapters, compiled and run as doc-tests.
