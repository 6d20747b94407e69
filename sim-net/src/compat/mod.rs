//! Other ecosystems' I/O and runtime traits on the simulated network's
//! types, so code written for tokio and hyper runs in a world unchanged.
//!
//! - `tokio_io.rs` (feature `tokio-io`): `tokio::io::AsyncRead` and
//!   `AsyncWrite` for [`TcpStream`](crate::TcpStream).
//! - `hyper_rt.rs` (feature `hyper`): `hyper::rt::Read` and `Write` for
//!   [`TcpStream`](crate::TcpStream), [`SimExecutor`] and [`SimTimer`].
//!
//! Only trait implementations and thin wrappers live here: the stream's
//! semantics (errors, EOF, windows) are the ones `stream.rs` defines for
//! `futures::io`.

#[cfg(feature = "hyper")]
mod hyper_rt;
#[cfg(feature = "tokio-io")]
mod tokio_io;

#[cfg(feature = "hyper")]
pub use hyper_rt::{SimExecutor, SimSleep, SimTimer};
