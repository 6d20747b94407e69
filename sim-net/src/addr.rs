//! Addresses: a node and a port, written `n1:7000`.

use std::fmt;
use std::str::FromStr;

use detsim::{NodeId, SimHandle};

use crate::NetError;
use crate::host_port::split_host_port;

/// A socket address in a simulated world: a node and a port.
///
/// It is a small `Copy` value resolved once; the node part of `n1:7000` is the
/// name the node was added with. Displays as `n1:7000` while a world is
/// entered (`node#0:7000` otherwise).
///
/// # Examples
///
/// ```
/// use detsim::{Seed, Sim};
/// use detsim_net::Addr;
///
/// let mut sim = Sim::new(Seed::new(1));
/// let n1 = sim.add_node("n1", |_| async {}).unwrap();
/// sim.enter(|_| {
///     let addr: Addr = "n1:7000".parse().unwrap();
///     assert_eq!(addr, Addr::new(n1, 7000));
///     assert_eq!(addr.to_string(), "n1:7000");
///     assert!("n9:7000".parse::<Addr>().is_err()); // unknown node
///     assert!("n1".parse::<Addr>().is_err()); // no port
/// });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Addr {
    /// The node.
    pub node: NodeId,
    /// The port.
    pub port: u16,
}

impl Addr {
    /// The address of `port` on `node`.
    pub const fn new(node: NodeId, port: u16) -> Addr {
        Addr { node, port }
    }

    /// Parses `node:port` and resolves the node's name in the running world.
    ///
    /// # Errors
    ///
    /// [`NetError::InvalidAddr`] for malformed text, [`NetError::UnknownNode`]
    /// for a name no node has, [`NetError::OutsideSimulation`] outside a world.
    pub fn resolve(text: &str) -> Result<Addr, NetError> {
        let (host, port) = split_host_port(text)?;
        let handle =
            SimHandle::try_current().ok_or(NetError::OutsideSimulation("Addr::resolve"))?;
        let node = handle
            .node(host)
            .map_err(|_| NetError::UnknownNode(host.to_owned()))?;
        Ok(Addr { node, port })
    }
}

impl FromStr for Addr {
    type Err = NetError;

    fn from_str(text: &str) -> Result<Addr, NetError> {
        Addr::resolve(text)
    }
}

impl fmt::Display for Addr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = SimHandle::try_current().and_then(|h| h.node_name(self.node).ok());
        match name {
            Some(name) => write!(f, "{name}:{}", self.port),
            None => write!(f, "{}:{}", self.node, self.port),
        }
    }
}

/// Something that names a socket address: an [`Addr`], a `(NodeId, port)`
/// pair, or text like `"n1:7000"` (resolved in the running world).
pub trait ToAddr {
    /// Resolves to an [`Addr`].
    ///
    /// # Errors
    ///
    /// As [`Addr::resolve`].
    fn to_addr(&self) -> Result<Addr, NetError>;
}

impl ToAddr for Addr {
    #[inline]
    fn to_addr(&self) -> Result<Addr, NetError> {
        Ok(*self)
    }
}

impl ToAddr for (NodeId, u16) {
    #[inline]
    fn to_addr(&self) -> Result<Addr, NetError> {
        Ok(Addr::new(self.0, self.1))
    }
}

impl ToAddr for &str {
    fn to_addr(&self) -> Result<Addr, NetError> {
        Addr::resolve(self)
    }
}

impl ToAddr for String {
    fn to_addr(&self) -> Result<Addr, NetError> {
        Addr::resolve(self)
    }
}

impl<T: ToAddr + ?Sized> ToAddr for &T {
    fn to_addr(&self) -> Result<Addr, NetError> {
        (**self).to_addr()
    }
}
