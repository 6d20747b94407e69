//! The real backend (feature `tokio`): the [`Transport`] traits over tokio
//! UDP and TCP sockets on 127.0.0.1, so protocol code tested in simulation
//! runs unchanged on a real network stack.
//!
//! Node names map to loopback ports through a [`Directory`]: a node with a
//! fixed base maps `node:port` to `127.0.0.1:(base + port)` (usable across
//! processes); a node with base 0 binds OS-chosen ports that the directory
//! records, so processes sharing the directory (one test) find each other
//! without port clashes.
//!
//! Futures here need not be `Send`: run them with [`block_on`] (a
//! current-thread tokio runtime with I/O, time and a `LocalSet`), and use
//! `detsim::real::TokioRuntime` for the clock, spawning and entropy.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use futures::io::{AsyncRead, AsyncWrite};

use crate::host_port::split_host_port;
use crate::{DatagramSocket, NetError, StreamListener, Transport};

/// Runs `future` to completion on a new current-thread tokio runtime with
/// I/O and time enabled and a local task set (for `spawn_local` and
/// `detsim::real::TokioRuntime`'s `Spawn`).
///
/// # Panics
///
/// Panics if tokio cannot build the runtime.
pub fn block_on<F: Future>(future: F) -> F::Output {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("detsim-net::real: cannot build a tokio runtime");
    tokio::task::LocalSet::new().block_on(&runtime, future)
}

/// A node-and-port address on the real backend, written like a simulated
/// one (`server:7000`); peers the directory does not know show as
/// `127.0.0.1:<port>`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RealAddr {
    /// The node's name.
    pub node: Rc<str>,
    /// The port in the node's (virtual) port space.
    pub port: u16,
}

impl fmt::Display for RealAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.node, self.port)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Proto {
    Udp,
    Tcp,
}

#[derive(Default)]
struct Entries {
    bases: BTreeMap<Rc<str>, u16>,
    bound: BTreeMap<(Proto, Rc<str>, u16), SocketAddr>,
    reverse: BTreeMap<(Proto, SocketAddr), RealAddr>,
}

/// Maps node names to loopback ports (shared by every [`RealNet`] of a test).
///
/// # Examples
///
/// ```
/// use detsim_net::real::Directory;
///
/// let directory = Directory::new().node("n1", 20_000).unwrap().node("n2", 0).unwrap();
/// assert!(Directory::new().node("n1", 65_000).unwrap().node("n1", 1).is_err());
/// # let _ = directory;
/// ```
#[derive(Clone, Default)]
pub struct Directory {
    entries: Rc<RefCell<Entries>>,
}

impl fmt::Debug for Directory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Directory")
            .field(
                "nodes",
                &self.entries.borrow().bases.keys().collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Directory {
    /// An empty directory.
    pub fn new() -> Directory {
        Directory::default()
    }

    /// Adds a node: `base` > 0 maps its port `p` to `127.0.0.1:(base + p)`;
    /// 0 lets the OS choose and records the choice.
    ///
    /// # Errors
    ///
    /// [`NetError::InvalidConfig`] for a name given twice.
    pub fn node(self, name: &str, base: u16) -> Result<Directory, NetError> {
        let mut entries = self.entries.borrow_mut();
        if entries.bases.insert(Rc::from(name), base).is_some() {
            return Err(NetError::InvalidConfig(format!(
                "node {name:?} is in the directory twice"
            )));
        }
        drop(entries);
        Ok(self)
    }

    fn name(&self, node: &str) -> Result<Rc<str>, NetError> {
        self.entries
            .borrow()
            .bases
            .get_key_value(node)
            .map(|(k, _)| k.clone())
            .ok_or_else(|| NetError::UnknownNode(node.to_owned()))
    }

    fn bind_addr(&self, node: &str, port: u16) -> Result<SocketAddr, NetError> {
        let base = self.entries.borrow().bases[node];
        let real = if base == 0 || port == 0 {
            0
        } else {
            base.checked_add(port).ok_or_else(|| {
                NetError::InvalidAddr(format!("{node}:{port} (base {base} + port is above 65535)"))
            })?
        };
        Ok(SocketAddr::from((Ipv4Addr::LOCALHOST, real)))
    }

    /// Records that `addr` is bound at `real` (`bound`: others may connect
    /// or send to it by name) until the returned guard is dropped.
    ///
    /// # Errors
    ///
    /// [`NetError::AddrInUse`] when a live socket of this process already
    /// has the name, as the simulation says.
    fn register(
        &self,
        proto: Proto,
        addr: &RealAddr,
        real: SocketAddr,
        bound: bool,
    ) -> Result<Registration, NetError> {
        let mut entries = self.entries.borrow_mut();
        let key = (proto, addr.node.clone(), addr.port);
        if bound {
            if entries.bound.contains_key(&key) {
                return Err(NetError::AddrInUse(addr.to_string()));
            }
            entries.bound.insert(key, real);
        }
        entries.reverse.insert((proto, real), addr.clone());
        Ok(Registration {
            directory: self.clone(),
            proto,
            addr: addr.clone(),
            real,
            bound,
        })
    }

    /// Whether a live socket of this process has the name `node:port`.
    fn is_bound(&self, proto: Proto, node: &Rc<str>, port: u16) -> bool {
        self.entries
            .borrow()
            .bound
            .contains_key(&(proto, node.clone(), port))
    }

    fn lookup(&self, proto: Proto, addr: &RealAddr) -> Option<SocketAddr> {
        let entries = self.entries.borrow();
        if let Some(real) = entries.bound.get(&(proto, addr.node.clone(), addr.port)) {
            return Some(*real);
        }
        match entries.bases.get(&addr.node) {
            Some(&base) if base > 0 => base
                .checked_add(addr.port)
                .map(|p| SocketAddr::from((Ipv4Addr::LOCALHOST, p))),
            _ => None,
        }
    }

    fn reverse(&self, proto: Proto, real: SocketAddr) -> RealAddr {
        let entries = self.entries.borrow();
        if let Some(addr) = entries.reverse.get(&(proto, real)) {
            return addr.clone();
        }
        // A stream's client port is the OS's choice, never `base + port`:
        // guessing its node from the bases would name the wrong one.
        let owner = (proto == Proto::Udp)
            .then(|| {
                entries
                    .bases
                    .iter()
                    .filter(|(_, base)| **base > 0 && **base <= real.port())
                    .max_by_key(|(_, base)| **base)
            })
            .flatten();
        match owner {
            Some((node, base)) => RealAddr {
                node: node.clone(),
                port: real.port() - base,
            },
            None => RealAddr {
                node: Rc::from(real.ip().to_string()),
                port: real.port(),
            },
        }
    }
}

/// A name in the [`Directory`], held by a live socket: dropping it frees
/// the name.
#[derive(Debug)]
struct Registration {
    directory: Directory,
    proto: Proto,
    addr: RealAddr,
    real: SocketAddr,
    bound: bool,
}

impl Drop for Registration {
    fn drop(&mut self) {
        let Ok(mut entries) = self.directory.entries.try_borrow_mut() else {
            return;
        };
        if self.bound {
            let key = (self.proto, self.addr.node.clone(), self.addr.port);
            if entries.bound.get(&key) == Some(&self.real) {
                entries.bound.remove(&key);
            }
        }
        if entries.reverse.get(&(self.proto, self.real)) == Some(&self.addr) {
            entries.reverse.remove(&(self.proto, self.real));
        }
    }
}

/// The largest UDP payload over IPv4 (65 535 − 8 − 20 bytes of headers):
/// the simulation's default `datagram_size_max` too.
const DATAGRAM_SIZE_MAX: usize = 65_507;

/// A node's view of the real network.
///
/// # Examples
///
/// ```
/// use detsim_net::real::{Directory, RealNet, block_on};
/// use detsim_net::{DatagramSocket, Transport};
///
/// let directory = Directory::new().node("a", 0).unwrap().node("b", 0).unwrap();
/// let (a, b) = (RealNet::new(directory.clone(), "a").unwrap(), RealNet::new(directory, "b").unwrap());
/// let got = block_on(async move {
///     let receiver = b.bind_datagram(9).await.unwrap();
///     let sender = a.bind_datagram(0).await.unwrap();
///     sender.send_to(b"hi", &a.resolve("b:9").unwrap()).await.unwrap();
///     let mut buf = [0u8; 8];
///     let (n, from) = receiver.recv_from(&mut buf).await.unwrap();
///     (buf[..n].to_vec(), from.node.to_string())
/// });
/// assert_eq!(got, (b"hi".to_vec(), "a".to_string()));
/// ```
#[derive(Clone, Debug)]
pub struct RealNet {
    directory: Directory,
    node: Rc<str>,
}

impl RealNet {
    /// The network as node `node` of `directory` sees it.
    ///
    /// # Errors
    ///
    /// [`NetError::UnknownNode`] if the directory does not have it.
    pub fn new(directory: Directory, node: &str) -> Result<RealNet, NetError> {
        let node = directory.name(node)?;
        Ok(RealNet { directory, node })
    }
}

/// A real UDP socket.
#[derive(Debug)]
pub struct RealUdpSocket {
    socket: tokio::net::UdpSocket,
    local: RealAddr,
    directory: Directory,
    _name: Registration,
}

/// A real TCP listener.
#[derive(Debug)]
pub struct RealTcpListener {
    listener: tokio::net::TcpListener,
    local: RealAddr,
    directory: Directory,
    _name: Registration,
}

/// A real TCP stream, through [`futures::io::AsyncRead`]/[`futures::io::AsyncWrite`].
#[derive(Debug)]
pub struct RealTcpStream {
    stream: tokio::net::TcpStream,
    local: RealAddr,
    peer: RealAddr,
    _name: Option<Registration>,
}

impl RealTcpStream {
    /// This end's address: the node's name and the port the OS chose (for
    /// a connecting stream) or the listener's port (for an accepted one).
    pub fn local_addr(&self) -> RealAddr {
        self.local.clone()
    }

    /// The other end's address: the node that connected (for an accepted
    /// stream, when it is in this process's directory) or the target.
    pub fn peer_addr(&self) -> RealAddr {
        self.peer.clone()
    }
}

/// An OS error of binding `addr`: `AddrInUse` names the address, as in simulation.
fn bind_error(addr: &RealAddr, error: io::Error) -> NetError {
    if error.kind() == io::ErrorKind::AddrInUse {
        NetError::AddrInUse(addr.to_string())
    } else {
        error.into()
    }
}

impl Transport for RealNet {
    type Addr = RealAddr;
    type Datagram = RealUdpSocket;
    type Stream = RealTcpStream;
    type Listener = RealTcpListener;

    fn resolve(&self, text: &str) -> Result<RealAddr, NetError> {
        let (host, port) = split_host_port(text)?;
        Ok(RealAddr {
            node: self.directory.name(host)?,
            port,
        })
    }

    fn bind_datagram(
        &self,
        port: u16,
    ) -> impl Future<Output = Result<RealUdpSocket, NetError>> + 'static {
        let net = self.clone();
        async move {
            let named = RealAddr {
                node: net.node.clone(),
                port,
            };
            if port != 0 && net.directory.is_bound(Proto::Udp, &net.node, port) {
                return Err(NetError::AddrInUse(named.to_string()));
            }
            let socket = tokio::net::UdpSocket::bind(net.directory.bind_addr(&net.node, port)?)
                .await
                .map_err(|e| bind_error(&named, e))?;
            let real = socket.local_addr()?;
            let local = RealAddr {
                node: net.node.clone(),
                port: if port == 0 { real.port() } else { port },
            };
            let name = net.directory.register(Proto::Udp, &local, real, true)?;
            Ok(RealUdpSocket {
                socket,
                local,
                directory: net.directory,
                _name: name,
            })
        }
    }

    fn bind_listener(
        &self,
        port: u16,
    ) -> impl Future<Output = Result<RealTcpListener, NetError>> + 'static {
        let net = self.clone();
        async move {
            let named = RealAddr {
                node: net.node.clone(),
                port,
            };
            if port != 0 && net.directory.is_bound(Proto::Tcp, &net.node, port) {
                return Err(NetError::AddrInUse(named.to_string()));
            }
            let listener = tokio::net::TcpListener::bind(net.directory.bind_addr(&net.node, port)?)
                .await
                .map_err(|e| bind_error(&named, e))?;
            let real = listener.local_addr()?;
            let local = RealAddr {
                node: net.node.clone(),
                port: if port == 0 { real.port() } else { port },
            };
            let name = net.directory.register(Proto::Tcp, &local, real, true)?;
            Ok(RealTcpListener {
                listener,
                local,
                directory: net.directory,
                _name: name,
            })
        }
    }

    fn connect_stream(
        &self,
        target: RealAddr,
    ) -> impl Future<Output = Result<RealTcpStream, NetError>> + 'static {
        let directory = self.directory.clone();
        let node = self.node.clone();
        async move {
            let real = directory
                .lookup(Proto::Tcp, &target)
                .ok_or_else(|| NetError::ConnectionRefused(target.to_string()))?;
            // Bind first so the directory knows the client's port before the
            // listener accepts: `accept` then names this node.
            let socket = tokio::net::TcpSocket::new_v4()?;
            socket.bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))?;
            let source = socket.local_addr()?;
            let local = RealAddr {
                node,
                port: source.port(),
            };
            let name = directory.register(Proto::Tcp, &local, source, false)?;
            let stream = socket.connect(real).await.map_err(|e| {
                if e.kind() == io::ErrorKind::ConnectionRefused {
                    NetError::ConnectionRefused(target.to_string())
                } else {
                    e.into()
                }
            })?;
            stream.set_nodelay(true)?;
            Ok(RealTcpStream {
                stream,
                local,
                peer: target,
                _name: Some(name),
            })
        }
    }
}

impl DatagramSocket for RealUdpSocket {
    type Addr = RealAddr;

    fn local_addr(&self) -> RealAddr {
        self.local.clone()
    }

    async fn send_to(&self, payload: &[u8], target: &RealAddr) -> Result<(), NetError> {
        if payload.len() > DATAGRAM_SIZE_MAX {
            return Err(NetError::TooBig {
                len: payload.len(),
                max: DATAGRAM_SIZE_MAX,
            });
        }
        // A target nobody bound is silently lost, as on the simulated network.
        if let Some(real) = self.directory.lookup(Proto::Udp, target) {
            self.socket.send_to(payload, real).await?;
        }
        Ok(())
    }

    async fn recv_from(&self, buf: &mut [u8]) -> Result<(usize, RealAddr), NetError> {
        let (n, real) = self.socket.recv_from(buf).await?;
        Ok((n, self.directory.reverse(Proto::Udp, real)))
    }
}

impl StreamListener for RealTcpListener {
    type Addr = RealAddr;
    type Stream = RealTcpStream;

    fn local_addr(&self) -> RealAddr {
        self.local.clone()
    }

    async fn accept(&self) -> Result<(RealTcpStream, RealAddr), NetError> {
        let (stream, real) = self.listener.accept().await?;
        stream.set_nodelay(true)?;
        let peer = self.directory.reverse(Proto::Tcp, real);
        Ok((
            RealTcpStream {
                stream,
                local: self.local.clone(),
                peer: peer.clone(),
                _name: None,
            },
            peer,
        ))
    }
}

impl AsyncRead for RealTcpStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            // As in simulation (and Linux's read(2) of 0 bytes): done at once.
            return Poll::Ready(Ok(0));
        }
        let mut read = tokio::io::ReadBuf::new(buf);
        match tokio::io::AsyncRead::poll_read(Pin::new(&mut self.get_mut().stream), cx, &mut read) {
            Poll::Ready(Ok(())) => Poll::Ready(Ok(read.filled().len())),
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl AsyncWrite for RealTcpStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        tokio::io::AsyncWrite::poll_write(Pin::new(&mut self.get_mut().stream), cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        tokio::io::AsyncWrite::poll_flush(Pin::new(&mut self.get_mut().stream), cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        tokio::io::AsyncWrite::poll_shutdown(Pin::new(&mut self.get_mut().stream), cx)
    }
}
