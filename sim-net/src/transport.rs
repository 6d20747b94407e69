//! The traits protocol code is generic over, so the same code runs on the
//! simulated network (`Net`, feature `sim`) and on a real one
//! (`real::RealNet`, feature `tokio`). Part of the surface: they name no
//! simulator type.

use std::fmt;
use std::future::Future;

use futures::io::{AsyncRead, AsyncWrite};

use crate::NetError;

/// A network a node uses: resolve names, bind datagram sockets, listen for
/// and connect streams.
///
/// # Examples
///
/// An echo server written once, run in a simulation:
///
/// ```
/// # #[cfg(feature = "sim")] {
/// use std::time::Duration;
/// use detsim::{Seed, Sim};
/// use detsim_net::{DatagramSocket, Net, Transport};
///
/// async fn echo<T: Transport>(net: T, port: u16) -> Result<(), detsim_net::NetError> {
///     let socket = net.bind_datagram(port).await?;
///     let mut buf = vec![0u8; 1500];
///     loop {
///         let (n, from) = socket.recv_from(&mut buf).await?;
///         socket.send_to(&buf[..n], &from).await?;
///     }
/// }
///
/// async fn ask<T: Transport>(net: T, server: &str) -> Result<Vec<u8>, detsim_net::NetError> {
///     let socket = net.bind_datagram(0).await?;
///     socket.send_to(b"hello", &net.resolve(server)?).await?;
///     let mut buf = vec![0u8; 1500];
///     let (n, _) = socket.recv_from(&mut buf).await?;
///     Ok(buf[..n].to_vec())
/// }
///
/// let mut sim = Sim::new(Seed::new(1));
/// let net = Net::builder().install(&mut sim).unwrap();
/// let n = net.clone();
/// sim.add_node("server", move |_| {
///     let net = n.clone();
///     async move { echo(net, 7).await.unwrap() }
/// }).unwrap();
/// let client = sim.add_node("client", |_| async {}).unwrap();
/// let reply = sim.run(async move {
///     detsim::handle().spawn_on(client, ask(net, "server:7")).unwrap().await.unwrap()
/// }).unwrap().value.unwrap();
/// assert_eq!(reply, b"hello");
/// # }
/// ```
pub trait Transport: Clone + 'static {
    /// A socket address.
    type Addr: Clone + fmt::Debug + fmt::Display + Eq + 'static;
    /// A bound datagram socket.
    type Datagram: DatagramSocket<Addr = Self::Addr>;
    /// A stream.
    type Stream: AsyncRead + AsyncWrite + Unpin + 'static;
    /// A stream listener.
    type Listener: StreamListener<Addr = Self::Addr, Stream = Self::Stream>;

    /// Resolves `node:port` text.
    ///
    /// # Errors
    ///
    /// [`NetError::InvalidAddr`], [`NetError::UnknownNode`].
    fn resolve(&self, text: &str) -> Result<Self::Addr, NetError>;

    /// Binds a datagram socket on this node (port 0: any free port).
    fn bind_datagram(
        &self,
        port: u16,
    ) -> impl Future<Output = Result<Self::Datagram, NetError>> + 'static;

    /// Listens for streams on this node.
    fn bind_listener(
        &self,
        port: u16,
    ) -> impl Future<Output = Result<Self::Listener, NetError>> + 'static;

    /// Connects a stream to `target`.
    fn connect_stream(
        &self,
        target: Self::Addr,
    ) -> impl Future<Output = Result<Self::Stream, NetError>> + 'static;
}

/// A bound datagram socket.
pub trait DatagramSocket: 'static {
    /// A socket address.
    type Addr;

    /// The address it is bound to.
    fn local_addr(&self) -> Self::Addr;

    /// Sends one datagram.
    fn send_to(
        &self,
        payload: &[u8],
        target: &Self::Addr,
    ) -> impl Future<Output = Result<(), NetError>>;

    /// Receives one datagram into `buf` (truncated if longer).
    fn recv_from(
        &self,
        buf: &mut [u8],
    ) -> impl Future<Output = Result<(usize, Self::Addr), NetError>>;
}

/// A stream listener.
pub trait StreamListener: 'static {
    /// A socket address.
    type Addr;
    /// The streams it accepts.
    type Stream;

    /// The address it listens on.
    fn local_addr(&self) -> Self::Addr;

    /// Waits for the next connection.
    fn accept(&self) -> impl Future<Output = Result<(Self::Stream, Self::Addr), NetError>>;
}

/// The simulated network's implementations.
#[cfg(feature = "sim")]
mod simulation {
    use std::future::Future;

    use super::{DatagramSocket, StreamListener, Transport};
    use crate::{Addr, Net, NetError, TcpListener, TcpStream, UdpSocket};

    impl Transport for Net {
        type Addr = Addr;
        type Datagram = UdpSocket;
        type Stream = TcpStream;
        type Listener = TcpListener;

        fn resolve(&self, text: &str) -> Result<Addr, NetError> {
            Addr::resolve(text)
        }

        fn bind_datagram(
            &self,
            port: u16,
        ) -> impl Future<Output = Result<UdpSocket, NetError>> + 'static {
            std::future::ready(self.bind(port))
        }

        fn bind_listener(
            &self,
            port: u16,
        ) -> impl Future<Output = Result<TcpListener, NetError>> + 'static {
            std::future::ready(self.listen(port))
        }

        fn connect_stream(
            &self,
            target: Addr,
        ) -> impl Future<Output = Result<TcpStream, NetError>> + 'static {
            let net = self.clone();
            async move { TcpStream::connect_in(&net, target).await }
        }
    }

    impl DatagramSocket for UdpSocket {
        type Addr = Addr;

        fn local_addr(&self) -> Addr {
            UdpSocket::local_addr(self)
        }

        fn send_to(
            &self,
            payload: &[u8],
            target: &Addr,
        ) -> impl Future<Output = Result<(), NetError>> {
            std::future::ready(UdpSocket::send_to(self, payload, *target))
        }

        fn recv_from(
            &self,
            buf: &mut [u8],
        ) -> impl Future<Output = Result<(usize, Addr), NetError>> {
            UdpSocket::recv_from(self, buf)
        }
    }

    impl StreamListener for TcpListener {
        type Addr = Addr;
        type Stream = TcpStream;

        fn local_addr(&self) -> Addr {
            TcpListener::local_addr(self)
        }

        fn accept(&self) -> impl Future<Output = Result<(TcpStream, Addr), NetError>> {
            TcpListener::accept(self)
        }
    }
}
