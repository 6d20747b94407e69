//! Typed messages: any `serde` type over datagrams or streams, encoded with
//! `postcard` (compact, stable, documented wire format); streams carry
//! length-delimited frames (a little-endian `u32` length, then the bytes).

use futures::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{DatagramSocket, NetError};

/// Encodes a message with postcard.
///
/// # Errors
///
/// [`NetError::Codec`] if serde fails.
///
/// # Examples
///
/// ```
/// let bytes = detsim_net::encode(&(7u32, "hi")).unwrap();
/// assert_eq!(bytes, [7, 2, b'h', b'i']);
/// let back: (u32, String) = detsim_net::decode(&bytes).unwrap();
/// assert_eq!(back, (7, "hi".to_string()));
/// ```
pub fn encode<M: Serialize + ?Sized>(message: &M) -> Result<Vec<u8>, NetError> {
    postcard::to_allocvec(message).map_err(|e| NetError::Codec(e.to_string()))
}

/// Decodes a message encoded by [`encode`].
///
/// # Errors
///
/// [`NetError::Codec`] for bytes that are not a valid `M` (a truncated or
/// corrupted datagram, for instance).
pub fn decode<M: DeserializeOwned>(bytes: &[u8]) -> Result<M, NetError> {
    postcard::from_bytes(bytes).map_err(|e| NetError::Codec(e.to_string()))
}

/// A datagram socket that sends and receives typed messages.
///
/// # Examples
///
/// ```
/// # #[cfg(feature = "sim")] {
/// use std::time::Duration;
/// use detsim::{Seed, Sim};
/// use detsim_net::{Net, Typed, UdpSocket};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Serialize, Deserialize, Debug, PartialEq)]
/// enum Msg { Ping(u64), Pong(u64) }
///
/// let mut sim = Sim::new(Seed::new(1));
/// Net::builder().install(&mut sim).unwrap();
/// sim.add_node("a", |_| async {
///     let mut socket = Typed::new(UdpSocket::bind(1).unwrap());
///     socket.send_to(&Msg::Ping(1), &"b:1".parse().unwrap()).await.unwrap();
///     let (reply, _): (Msg, _) = socket.recv_from().await.unwrap();
///     assert_eq!(reply, Msg::Pong(1));
/// }).unwrap();
/// sim.add_node("b", |_| async {
///     let mut socket = Typed::new(UdpSocket::bind(1).unwrap());
///     let (Msg::Ping(n), from) = socket.recv_from::<Msg>().await.unwrap() else { panic!() };
///     socket.send_to(&Msg::Pong(n), &from).await.unwrap();
/// }).unwrap();
/// sim.run_for(Duration::from_secs(1)).unwrap();
/// # }
/// ```
#[derive(Debug)]
pub struct Typed<S> {
    socket: S,
    buf: Vec<u8>,
}

impl<S: DatagramSocket> Typed<S> {
    /// Wraps a socket (with a receive buffer of 65 507 bytes).
    pub fn new(socket: S) -> Typed<S> {
        Typed {
            socket,
            buf: vec![0; 65_507],
        }
    }

    /// The socket.
    pub fn get_ref(&self) -> &S {
        &self.socket
    }

    /// Sends one message in one datagram.
    ///
    /// # Errors
    ///
    /// [`NetError::Codec`], or the socket's errors.
    pub async fn send_to<M: Serialize + ?Sized>(
        &self,
        message: &M,
        target: &S::Addr,
    ) -> Result<(), NetError> {
        let bytes = encode(message)?;
        self.socket.send_to(&bytes, target).await
    }

    /// Receives one message.
    ///
    /// # Errors
    ///
    /// [`NetError::Codec`] for a datagram that does not decode (which a
    /// Byzantine link can cause), or the socket's errors.
    pub async fn recv_from<M: DeserializeOwned>(&mut self) -> Result<(M, S::Addr), NetError> {
        let (n, from) = self.socket.recv_from(&mut self.buf).await?;
        Ok((decode(&self.buf[..n])?, from))
    }
}

/// The default largest frame [`Framed`] accepts: 16 MiB.
pub const FRAME_SIZE_MAX: usize = 16 << 20;

/// A stream carrying length-delimited typed messages.
///
/// # Examples
///
/// ```
/// use futures::executor::block_on;
/// use detsim_net::Framed;
///
/// // Any AsyncRead + AsyncWrite works; here an in-memory cursor.
/// let mut framed = Framed::new(futures::io::Cursor::new(Vec::new()));
/// block_on(async {
///     framed.send(&("put", 1u8)).await.unwrap();
///     framed.send(&("get", 2u8)).await.unwrap();
///     let mut cursor = framed.into_inner();
///     cursor.set_position(0);
///     let mut framed = Framed::new(cursor);
///     assert_eq!(framed.recv::<(String, u8)>().await.unwrap(), Some(("put".into(), 1)));
///     assert_eq!(framed.recv::<(String, u8)>().await.unwrap(), Some(("get".into(), 2)));
///     assert_eq!(framed.recv::<(String, u8)>().await.unwrap(), None); // clean EOF
/// });
/// ```
#[derive(Debug)]
pub struct Framed<S> {
    stream: S,
    frame_max: usize,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Framed<S> {
    /// Wraps a stream; frames up to [`FRAME_SIZE_MAX`].
    pub fn new(stream: S) -> Framed<S> {
        Framed {
            stream,
            frame_max: FRAME_SIZE_MAX,
        }
    }

    /// Sets the largest frame accepted and sent.
    pub fn frame_max(mut self, bytes: usize) -> Framed<S> {
        self.frame_max = bytes;
        self
    }

    /// The stream.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.stream
    }

    /// Unwraps the stream.
    pub fn into_inner(self) -> S {
        self.stream
    }

    /// Writes one message as a frame.
    ///
    /// # Errors
    ///
    /// [`NetError::FrameTooBig`], [`NetError::Codec`], or the stream's error.
    pub async fn send<M: Serialize + ?Sized>(&mut self, message: &M) -> Result<(), NetError> {
        let bytes = encode(message)?;
        if bytes.len() > self.frame_max {
            return Err(NetError::FrameTooBig {
                len: bytes.len(),
                max: self.frame_max,
            });
        }
        let mut frame = Vec::with_capacity(4 + bytes.len());
        frame.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
        frame.extend_from_slice(&bytes);
        self.stream.write_all(&frame).await?;
        self.stream.flush().await?;
        Ok(())
    }

    /// Reads one message; `None` at a clean end of stream between frames.
    ///
    /// # Errors
    ///
    /// [`NetError::FrameTooBig`], [`NetError::Codec`], an
    /// [`std::io::ErrorKind::UnexpectedEof`] I/O error for a stream that
    /// ends inside a frame, or the stream's error.
    pub async fn recv<M: DeserializeOwned>(&mut self) -> Result<Option<M>, NetError> {
        let mut header = [0u8; 4];
        let mut got = 0;
        while got < 4 {
            let n = self.stream.read(&mut header[got..]).await?;
            if n == 0 {
                if got == 0 {
                    return Ok(None);
                }
                return Err(std::io::Error::from(std::io::ErrorKind::UnexpectedEof).into());
            }
            got += n;
        }
        let len = u32::from_le_bytes(header) as usize;
        if len > self.frame_max {
            return Err(NetError::FrameTooBig {
                len,
                max: self.frame_max,
            });
        }
        let mut bytes = vec![0u8; len];
        self.stream.read_exact(&mut bytes).await?;
        decode(&bytes).map(Some)
    }
}
