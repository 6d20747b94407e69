//! [`Error`]: what stops a server or a client.

use std::fmt;
use std::io;

use detsim_net::NetError;

/// What stops a server or a client.
#[derive(Debug)]
pub enum Error {
    /// The network refused (binding, resolving, sending).
    Net(NetError),
    /// The token file could not be read or written.
    Storage(io::Error),
    /// The token file holds something that is not a token.
    Corrupt(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Net(error) => write!(f, "network: {error}"),
            Error::Storage(error) => write!(f, "storage: {error}"),
            Error::Corrupt(message) => write!(f, "corrupt token file: {message}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<NetError> for Error {
    fn from(error: NetError) -> Error {
        Error::Net(error)
    }
}

impl From<io::Error> for Error {
    fn from(error: io::Error) -> Error {
        Error::Storage(error)
    }
}
