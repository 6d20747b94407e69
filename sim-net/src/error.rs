//! [`NetError`]: every error of the network's configuration and API.

use std::fmt;
use std::io;

/// An error of the simulated (or real) network: bad configuration, misuse at
/// the API boundary, or a socket operation that failed (refused, reset,
/// timed out, closed).
///
/// Injected faults that a real network hides (a lost datagram) are not errors:
/// they are silent, and visible in the trace. Stream I/O through
/// [`futures::io::AsyncRead`]/[`futures::io::AsyncWrite`] returns
/// [`std::io::Error`]s whose kind matches (and whose inner error is this one).
///
/// # Examples
///
/// ```
/// use detsim_net::NetError;
///
/// let e = NetError::InvalidConfig("loss probability 1.5 is outside [0, 1]".into());
/// assert_eq!(e.to_string(), "invalid network configuration: loss probability 1.5 is outside [0, 1]");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NetError {
    /// A configuration value is out of range or inconsistent.
    InvalidConfig(String),
    /// No node of the world has this name (a bug in the test, not a fault).
    UnknownNode(String),
    /// No zone has this name.
    UnknownZone(String),
    /// No region has this name.
    UnknownRegion(String),
    /// No active partition has this id.
    UnknownPartition(u64),
    /// The text is not an address like `n1:7000`.
    InvalidAddr(String),
    /// The port is already bound on that node.
    AddrInUse(String),
    /// Sockets are bound from inside a node (a task of the test harness has no address).
    NotInNode,
    /// The network extension is not installed in the running world.
    NotInstalled,
    /// A simulated-network API was called where no simulation is running on
    /// this thread (the name of the API).
    OutsideSimulation(&'static str),
    /// A datagram is larger than the maximum datagram size.
    TooBig {
        /// The datagram's length.
        len: usize,
        /// The maximum.
        max: usize,
    },
    /// Nobody listens on the port (or the listener's backlog is full).
    ConnectionRefused(String),
    /// The connection was reset (the peer crashed, or closed while data was in flight).
    ConnectionReset,
    /// The peer did not answer in time (connect timeout, or a partition outlasted the stream timeout).
    TimedOut,
    /// The socket was closed (its node crashed).
    Closed,
    /// Writing is over: this end shut its writing down, or the peer closed
    /// the connection (Linux's `EPIPE`).
    BrokenPipe,
    /// A typed message could not be encoded or decoded.
    Codec(String),
    /// A frame on a stream is larger than the frame limit.
    FrameTooBig {
        /// The frame's announced length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// An operating-system I/O error (real backend).
    Io {
        /// The error's kind.
        kind: io::ErrorKind,
        /// The error's text.
        message: String,
    },
}

impl fmt::Display for NetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetError::InvalidConfig(message) => {
                write!(f, "invalid network configuration: {message}")
            }
            NetError::UnknownNode(name) => write!(f, "unknown node {name:?}"),
            NetError::UnknownZone(name) => write!(f, "unknown zone {name:?}"),
            NetError::UnknownRegion(name) => write!(f, "unknown region {name:?}"),
            NetError::UnknownPartition(id) => write!(f, "no active partition #{id}"),
            NetError::InvalidAddr(text) => write!(
                f,
                "invalid address {text:?}: expected `node:port`, like `n1:7000`"
            ),
            NetError::AddrInUse(addr) => write!(f, "address {addr} is already in use"),
            NetError::NotInNode => write!(
                f,
                "sockets are bound from inside a node: call this from a node's init or a task it spawns"
            ),
            NetError::NotInstalled => write!(
                f,
                "the network is not installed in this world: call `Net::builder().install(&mut sim)` first"
            ),
            NetError::OutsideSimulation(api) => write!(
                f,
                "`{api}` was called outside a simulation: simulated sockets exist only in a running \
                 world (the body of `Sim::run`, a node's init or a task it spawns); outside one, \
                 use the real backend (`detsim_net::real::RealNet`, feature `tokio`)"
            ),
            NetError::TooBig { len, max } => {
                write!(f, "datagram of {len} bytes exceeds the maximum of {max}")
            }
            NetError::ConnectionRefused(addr) => write!(f, "connection to {addr} refused"),
            NetError::ConnectionReset => write!(f, "connection reset"),
            NetError::TimedOut => write!(f, "timed out"),
            NetError::Closed => write!(f, "socket closed"),
            NetError::BrokenPipe => write!(f, "broken pipe"),
            NetError::Codec(message) => write!(f, "message codec: {message}"),
            NetError::FrameTooBig { len, max } => {
                write!(f, "frame of {len} bytes exceeds the limit of {max}")
            }
            NetError::Io { kind, message } => write!(f, "i/o error ({kind:?}): {message}"),
        }
    }
}

impl std::error::Error for NetError {}

impl NetError {
    /// The [`io::ErrorKind`] that matches this error.
    pub fn kind(&self) -> io::ErrorKind {
        match self {
            NetError::ConnectionRefused(_) => io::ErrorKind::ConnectionRefused,
            NetError::ConnectionReset => io::ErrorKind::ConnectionReset,
            NetError::TimedOut => io::ErrorKind::TimedOut,
            NetError::Closed => io::ErrorKind::NotConnected,
            NetError::BrokenPipe => io::ErrorKind::BrokenPipe,
            NetError::AddrInUse(_) => io::ErrorKind::AddrInUse,
            NetError::InvalidAddr(_) => io::ErrorKind::InvalidInput,
            NetError::TooBig { .. } | NetError::FrameTooBig { .. } => io::ErrorKind::InvalidData,
            NetError::Codec(_) => io::ErrorKind::InvalidData,
            NetError::Io { kind, .. } => *kind,
            _ => io::ErrorKind::Other,
        }
    }
}

impl From<NetError> for io::Error {
    fn from(error: NetError) -> io::Error {
        match error {
            NetError::Io { kind, message } => io::Error::new(kind, message),
            other => io::Error::new(other.kind(), other),
        }
    }
}

impl From<io::Error> for NetError {
    fn from(error: io::Error) -> NetError {
        if error.get_ref().is_some_and(|inner| inner.is::<NetError>()) {
            let inner = error.into_inner().expect("checked above");
            return *inner.downcast::<NetError>().expect("checked above");
        }
        match error.kind() {
            io::ErrorKind::ConnectionRefused => NetError::ConnectionRefused(error.to_string()),
            io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted => {
                NetError::ConnectionReset
            }
            io::ErrorKind::TimedOut => NetError::TimedOut,
            io::ErrorKind::BrokenPipe => NetError::BrokenPipe,
            io::ErrorKind::AddrInUse => NetError::AddrInUse(error.to_string()),
            _ if error.raw_os_error() == Some(EMSGSIZE) => NetError::Io {
                kind: io::ErrorKind::InvalidData,
                message: error.to_string(),
            },
            kind => NetError::Io {
                kind,
                message: error.to_string(),
            },
        }
    }
}

/// Linux's `EMSGSIZE`: a datagram larger than the socket allows.
const EMSGSIZE: i32 = 90;

#[cfg(feature = "sim")]
pub(crate) fn check_probability(what: &str, p: f64) -> Result<(), NetError> {
    if p.is_nan() || !(0.0..=1.0).contains(&p) {
        return Err(NetError::InvalidConfig(format!(
            "{what} probability {p} is outside [0, 1]"
        )));
    }
    Ok(())
}
