//! Streams (TCP-like): connect, listen, accept; ordered, reliable bytes
//! while connected, through [`futures::io::AsyncRead`] and [`futures::io::AsyncWrite`].
//!
//! Segments travel through the same link model as datagrams, but the
//! transport hides what TCP hides: a lost segment (loss, a partition, an
//! outage) is retransmitted after the retransmission timeout, segments are
//! reassembled in order, duplicates and Byzantine faults do not apply.
//! What TCP cannot hide is an error:
//!
//! - connecting to a port nobody listens on (or whose backlog is full) is refused;
//! - a crash of either side resets the connection at once: the other side's
//!   next read or write returns [`NetError::ConnectionReset`];
//! - data sent to an end that was closed (dropped) makes it answer with a
//!   reset, as does closing an end with data it never read. The reset fails
//!   the peer's connection: with [`NetError::BrokenPipe`] if the peer had
//!   already read the closing end's FIN (its reads then see the rest of the
//!   data and EOF), with [`NetError::ConnectionReset`] otherwise (unread data
//!   is discarded);
//! - once a read or a write has returned a connection's failure, later reads
//!   return EOF (`Ok(0)`) and later writes [`NetError::BrokenPipe`], as on
//!   Linux; writing after this end's own `close` (a shutdown of writing) is
//!   [`NetError::BrokenPipe`] too;
//! - a read into an empty buffer returns `Ok(0)` at once, whatever the
//!   connection's state (on the real backend too);
//! - a partition that cuts either direction for longer than the stream
//!   timeout breaks it ([`NetError::TimedOut`]), as does a segment that
//!   cannot get through for that long;
//! - a clean close (or dropping the stream) gives the peer EOF after all the data.
//!
//! A clog only delays a stream (its segments are held, then released in
//! order); it never breaks it.
//!
//! Writes are bounded by a window: a writer waits while the bytes it wrote
//! and the peer has not read reach the stream window.

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use futures::io::{AsyncRead, AsyncWrite};

use detsim::time::Instant;
use detsim::{NodeId, NodeState, SimHandle};

use crate::flight::{Flight, What};
use crate::state::{EPHEMERAL_FIRST, State};
use crate::trace::{self, DropReason};
use crate::{Addr, Net, NetError, ToAddr};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Holder {
    /// Not accepted yet (server side).
    Waiting,
    /// A `TcpStream` owns this end.
    Live,
    /// The stream was dropped.
    Gone,
}

pub(crate) enum ConnState {
    Connecting,
    Established,
    Failed(NetError),
}

pub(crate) struct End {
    pub(crate) addr: Addr,
    recv: VecDeque<u8>,
    recv_next: u64,
    /// Segments that arrived ahead of a missing one (`None`: FIN).
    ahead: BTreeMap<u64, Option<Vec<u8>>>,
    eof: bool,
    send_seq: u64,
    shut: bool,
    /// Bytes this end wrote that the peer has not read yet.
    unread: usize,
    /// Whether a read or a write of this end has returned the connection's
    /// failure: later reads return EOF and later writes `BrokenPipe`, as on Linux.
    failure_reported: bool,
    read_waker: Option<Waker>,
    write_waker: Option<Waker>,
    pub(crate) holder: Holder,
    /// The cut epoch of this end's outgoing link being timed.
    watch: Option<u32>,
}

impl End {
    fn new(addr: Addr, holder: Holder) -> End {
        End {
            addr,
            recv: VecDeque::new(),
            recv_next: 0,
            ahead: BTreeMap::new(),
            eof: false,
            send_seq: 0,
            shut: false,
            unread: 0,
            failure_reported: false,
            read_waker: None,
            write_waker: None,
            holder,
            watch: None,
        }
    }

    fn wake(&mut self) {
        if let Some(w) = self.read_waker.take() {
            w.wake();
        }
        if let Some(w) = self.write_waker.take() {
            w.wake();
        }
    }
}

/// A connection: end 0 is the client, end 1 the server.
pub(crate) struct Conn {
    pub(crate) state: ConnState,
    pub(crate) ends: [End; 2],
    connect_waker: Option<Waker>,
}

impl Conn {
    fn failed(&self) -> bool {
        matches!(self.state, ConnState::Failed(_))
    }

    fn alive(&self) -> bool {
        self.ends
            .iter()
            .any(|e| e.holder == Holder::Live || (e.holder == Holder::Waiting && !self.failed()))
    }
}

pub(crate) struct ListenerSlot {
    addr: Addr,
    queue: VecDeque<u64>,
    waker: Option<Waker>,
    open: bool,
}

/// A stream listener bound to a port of a node.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use detsim::{Seed, Sim};
/// use detsim_net::{Net, TcpListener, TcpStream};
/// use futures::{AsyncReadExt, AsyncWriteExt};
///
/// let mut sim = Sim::new(Seed::new(1));
/// Net::builder().install(&mut sim).unwrap();
/// sim.add_node("server", |_| async {
///     let listener = TcpListener::bind(80).unwrap();
///     let (mut stream, _peer) = listener.accept().await.unwrap();
///     let mut request = Vec::new();
///     stream.read_to_end(&mut request).await.unwrap(); // until the client closes
///     stream.write_all(&request).await.unwrap();
/// }).unwrap();
/// let client = sim.add_node("client", |_| async {}).unwrap();
/// let reply = sim.run(async move {
///     detsim::handle().spawn_on(client, async {
///         let mut stream = TcpStream::connect("server:80").await.unwrap();
///         stream.write_all(b"hello").await.unwrap();
///         stream.close().await.unwrap();
///         let mut reply = Vec::new();
///         stream.read_to_end(&mut reply).await.unwrap();
///         reply
///     }).unwrap().await.unwrap()
/// }).unwrap().value;
/// assert_eq!(reply, b"hello");
/// ```
pub struct TcpListener {
    net: Net,
    slot: u32,
    generation: u32,
    addr: Addr,
}

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpListener")
            .field("addr", &self.addr)
            .finish()
    }
}

impl TcpListener {
    /// Listens on `port` (0: a free ephemeral port) of the calling task's node.
    ///
    /// # Errors
    ///
    /// [`NetError::OutsideSimulation`] outside a running world,
    /// [`NetError::NotInstalled`], [`NetError::NotInNode`],
    /// [`NetError::AddrInUse`].
    pub fn bind(port: u16) -> Result<TcpListener, NetError> {
        Net::current_for("TcpListener::bind")?.listen(port)
    }

    pub(crate) fn bind_in(net: &Net, port: u16) -> Result<TcpListener, NetError> {
        let node = detsim::current_node().ok_or(NetError::NotInNode)?;
        let mut state = net.state.borrow_mut();
        state.check_node(node)?;
        let port = match port {
            0 => state.tcp_ephemeral(node)?,
            port => port,
        };
        let entry = &mut state.nodes[node.index()];
        if !entry.tcp_used.insert(port) {
            return Err(NetError::AddrInUse(format!("{}:{port}", entry.name)));
        }
        let addr = Addr::new(node, port);
        let (slot, generation) = state.listeners.insert(ListenerSlot {
            addr,
            queue: VecDeque::new(),
            waker: None,
            open: true,
        });
        state.nodes[node.index()].tcp.insert(port, slot);
        Ok(TcpListener {
            net: net.clone(),
            slot,
            generation,
            addr,
        })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> Addr {
        self.addr
    }

    /// Waits for the next connection; returns it and the client's address.
    ///
    /// # Errors
    ///
    /// [`NetError::Closed`] once the node crashed.
    pub async fn accept(&self) -> Result<(TcpStream, Addr), NetError> {
        let (conn, peer) = poll_fn(|cx| {
            self.net
                .state
                .borrow_mut()
                .poll_accept(self.slot, self.generation, cx)
        })
        .await?;
        Ok((
            TcpStream {
                net: self.net.clone(),
                conn,
                side: 1,
                local: self.addr,
                peer,
            },
            peer,
        ))
    }
}

impl Drop for TcpListener {
    fn drop(&mut self) {
        let Ok(mut state) = self.net.state.try_borrow_mut() else {
            return;
        };
        let Some(listener) = state.listeners.remove(self.slot, self.generation) else {
            return;
        };
        let node = &mut state.nodes[listener.addr.node.index()];
        if node.tcp.get(&listener.addr.port) == Some(&self.slot) {
            node.tcp.remove(&listener.addr.port);
            node.tcp_used.remove(&listener.addr.port);
        }
        if in_world(state.handle) {
            for conn in listener.queue {
                state.fail_conn(conn, NetError::ConnectionReset);
            }
        }
    }
}

/// One end of a stream connection.
///
/// Reads and writes go through [`futures::io::AsyncRead`] and
/// [`futures::io::AsyncWrite`] (use `futures::AsyncReadExt` /
/// `AsyncWriteExt`); their errors are [`std::io::Error`]s whose kind is the
/// matching [`NetError::kind`]. `close` sends a FIN: the peer reads EOF after
/// the data. Dropping the stream closes it too.
///
/// See [`TcpListener`] for an example.
pub struct TcpStream {
    net: Net,
    conn: u64,
    side: usize,
    local: Addr,
    peer: Addr,
}

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpStream")
            .field("local", &self.local)
            .field("peer", &self.peer)
            .finish()
    }
}

/// Cancels a connection attempt whose future was dropped.
struct ConnectGuard {
    net: Net,
    conn: u64,
    armed: bool,
}

impl Drop for ConnectGuard {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        if let Ok(mut state) = self.net.state.try_borrow_mut() {
            if in_world(state.handle) {
                state.fail_conn(self.conn, NetError::ConnectionReset);
            }
            state.release_end(self.conn, 0);
        }
    }
}

impl TcpStream {
    /// Connects from the calling task's node to `target`, waiting for the
    /// handshake (a round trip).
    ///
    /// # Errors
    ///
    /// [`NetError::ConnectionRefused`] when nobody listens there,
    /// [`NetError::TimedOut`] when no answer comes within the connect
    /// timeout (a partition, a crashed server), plus the errors of
    /// [`UdpSocket::bind`](crate::UdpSocket::bind) and of resolving `target`.
    pub async fn connect(target: impl ToAddr) -> Result<TcpStream, NetError> {
        let target = target.to_addr()?;
        let net = Net::current_for("TcpStream::connect")?;
        TcpStream::connect_in(&net, target).await
    }

    pub(crate) async fn connect_in(net: &Net, target: Addr) -> Result<TcpStream, NetError> {
        let node = detsim::current_node().ok_or(NetError::NotInNode)?;
        let (conn, local) = net.state.borrow_mut().connect_start(node, target)?;
        let mut guard = ConnectGuard {
            net: net.clone(),
            conn,
            armed: true,
        };
        let result = poll_fn(|cx| net.state.borrow_mut().poll_connect(conn, cx)).await;
        guard.armed = false;
        match result {
            Ok(()) => Ok(TcpStream {
                net: net.clone(),
                conn,
                side: 0,
                local,
                peer: target,
            }),
            Err(error) => {
                net.state.borrow_mut().release_end(conn, 0);
                Err(error)
            }
        }
    }

    /// This end's address.
    pub fn local_addr(&self) -> Addr {
        self.local
    }

    /// The other end's address.
    pub fn peer_addr(&self) -> Addr {
        self.peer
    }
}

impl AsyncRead for TcpStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.net
            .state
            .borrow_mut()
            .poll_read(this.conn, this.side, buf, cx)
            .map_err(io::Error::from)
    }
}

impl AsyncWrite for TcpStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.net
            .state
            .borrow_mut()
            .poll_write(this.conn, this.side, buf, cx)
            .map_err(io::Error::from)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let state = this.net.state.borrow();
        match state.conns.get(&this.conn).map(|c| &c.state) {
            Some(ConnState::Failed(e)) => Poll::Ready(Err(e.clone().into())),
            None => Poll::Ready(Err(NetError::Closed.into())),
            _ => Poll::Ready(Ok(())),
        }
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let mut state = this.net.state.borrow_mut();
        if let Some(ConnState::Failed(e)) = state.conns.get(&this.conn).map(|c| &c.state) {
            return Poll::Ready(Err(e.clone().into()));
        }
        state.shutdown(this.conn, this.side);
        Poll::Ready(Ok(()))
    }
}

impl Drop for TcpStream {
    fn drop(&mut self) {
        let Ok(mut state) = self.net.state.try_borrow_mut() else {
            return;
        };
        // A crash drops the node's tasks before the network hears of it: that
        // is a reset, not a clean close.
        let crashed = !in_world(state.handle)
            || state.handle.node_state(self.local.node) == Ok(NodeState::Crashed);
        if !crashed {
            let unread = state.conns.get(&self.conn).is_some_and(|c| {
                let end = &c.ends[self.side];
                !c.failed() && (!end.recv.is_empty() || end.ahead.values().any(Option::is_some))
            });
            if unread {
                // Closing with data it never read: Linux sends a reset, not a FIN.
                state.send_reset(self.conn, self.side);
            } else {
                state.shutdown(self.conn, self.side);
            }
        }
        state.release_end(self.conn, self.side);
    }
}

/// Whether `handle`'s world is the one running on this thread.
fn in_world(handle: SimHandle) -> bool {
    SimHandle::try_current() == Some(handle)
}

fn stream_check(conn: u64, side: usize, epoch: u32) {
    if let Some(net) = Net::of(detsim::handle()) {
        net.state.borrow_mut().check_cut(conn, side, epoch);
    }
}

impl State {
    pub(crate) fn tcp_ephemeral(&mut self, node: NodeId) -> Result<u16, NetError> {
        let entry = &mut self.nodes[node.index()];
        let start = entry.ephemeral_next;
        let mut candidate = start;
        while entry.tcp_used.contains(&candidate) {
            candidate = candidate.checked_add(1).unwrap_or(EPHEMERAL_FIRST);
            if candidate == start {
                return Err(NetError::AddrInUse(format!("{}:*", entry.name)));
            }
        }
        entry.ephemeral_next = candidate.checked_add(1).unwrap_or(EPHEMERAL_FIRST);
        Ok(candidate)
    }

    fn connect_start(&mut self, node: NodeId, target: Addr) -> Result<(u64, Addr), NetError> {
        self.check_node(target.node)?;
        let port = self.tcp_ephemeral(node)?;
        self.nodes[node.index()].tcp_used.insert(port);
        let local = Addr::new(node, port);
        self.conn_next += 1;
        let id = self.conn_next;
        self.conns.insert(
            id,
            Conn {
                state: ConnState::Connecting,
                ends: [
                    End::new(local, Holder::Live),
                    End::new(target, Holder::Waiting),
                ],
                connect_waker: None,
            },
        );
        let now = self.now();
        self.route(now, control(local, target, What::Syn, id, now));
        Ok((id, local))
    }

    fn poll_connect(&mut self, id: u64, cx: &mut Context<'_>) -> Poll<Result<(), NetError>> {
        let Some(conn) = self.conns.get_mut(&id) else {
            return Poll::Ready(Err(NetError::ConnectionReset));
        };
        match &conn.state {
            ConnState::Established => Poll::Ready(Ok(())),
            ConnState::Failed(e) => Poll::Ready(Err(e.clone())),
            ConnState::Connecting => {
                conn.connect_waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }

    fn poll_accept(
        &mut self,
        slot: u32,
        generation: u32,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(u64, Addr), NetError>> {
        let Some(listener) = self.listeners.get_mut(slot, generation) else {
            return Poll::Ready(Err(NetError::Closed));
        };
        if !listener.open {
            return Poll::Ready(Err(NetError::Closed));
        }
        while let Some(id) = listener.queue.pop_front() {
            if let Some(conn) = self.conns.get_mut(&id) {
                if !conn.failed() && conn.ends[1].holder == Holder::Waiting {
                    conn.ends[1].holder = Holder::Live;
                    return Poll::Ready(Ok((id, conn.ends[0].addr)));
                }
            }
        }
        listener.waker = Some(cx.waker().clone());
        Poll::Pending
    }

    fn poll_read(
        &mut self,
        id: u64,
        side: usize,
        buf: &mut [u8],
        cx: &mut Context<'_>,
    ) -> Poll<Result<usize, NetError>> {
        if buf.is_empty() {
            // Nothing to read into: done at once, as Linux's read(2) of 0 bytes.
            return Poll::Ready(Ok(0));
        }
        let Some(conn) = self.conns.get_mut(&id) else {
            return Poll::Ready(Err(NetError::Closed));
        };
        match &conn.state {
            // After the peer's FIN, a reset only ends writing: the data
            // before the FIN, then EOF, are still read.
            ConnState::Failed(NetError::BrokenPipe) => {}
            ConnState::Failed(e) => {
                let end = &mut conn.ends[side];
                if std::mem::replace(&mut end.failure_reported, true) {
                    // The failure was reported once: from now on, EOF.
                    return Poll::Ready(Ok(0));
                }
                return Poll::Ready(Err(e.clone()));
            }
            _ => {}
        }
        let end = &mut conn.ends[side];
        if !end.recv.is_empty() {
            let n = end.recv.len().min(buf.len());
            for (dst, src) in buf[..n].iter_mut().zip(end.recv.drain(..n)) {
                *dst = src;
            }
            let peer = &mut conn.ends[1 - side];
            peer.unread -= n;
            if let Some(w) = peer.write_waker.take() {
                w.wake();
            }
            return Poll::Ready(Ok(n));
        }
        if end.eof {
            return Poll::Ready(Ok(0));
        }
        end.read_waker = Some(cx.waker().clone());
        Poll::Pending
    }

    fn poll_write(
        &mut self,
        id: u64,
        side: usize,
        buf: &[u8],
        cx: &mut Context<'_>,
    ) -> Poll<Result<usize, NetError>> {
        let window = self.limits.stream_window;
        let segment_max = self.limits.segment_bytes_max;
        let Some(conn) = self.conns.get_mut(&id) else {
            return Poll::Ready(Err(NetError::Closed));
        };
        if let ConnState::Failed(e) = &conn.state {
            let end = &mut conn.ends[side];
            if std::mem::replace(&mut end.failure_reported, true) {
                return Poll::Ready(Err(NetError::BrokenPipe));
            }
            return Poll::Ready(Err(e.clone()));
        }
        let end = &mut conn.ends[side];
        if end.shut {
            return Poll::Ready(Err(NetError::BrokenPipe));
        }
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let room = window - end.unread;
        if room == 0 {
            end.write_waker = Some(cx.waker().clone());
            return Poll::Pending;
        }
        let n = buf.len().min(room).min(segment_max);
        end.unread += n;
        let seq = end.send_seq;
        end.send_seq += 1;
        let (source, target) = (end.addr, conn.ends[1 - side].addr);
        let now = self.now();
        let mut f = control(source, target, What::Data { seq }, id, now);
        f.payload = buf[..n].to_vec();
        f.hash = trace::hash32(&f.payload);
        self.route(now, f);
        Poll::Ready(Ok(n))
    }

    /// Sends this end's FIN once.
    fn shutdown(&mut self, id: u64, side: usize) {
        let Some(conn) = self.conns.get_mut(&id) else {
            return;
        };
        if conn.failed() || conn.ends[side].shut {
            return;
        }
        let end = &mut conn.ends[side];
        end.shut = true;
        let seq = end.send_seq;
        end.send_seq += 1;
        let (source, target) = (end.addr, conn.ends[1 - side].addr);
        let now = self.now();
        self.route(now, control(source, target, What::Fin { seq }, id, now));
    }

    /// Sends a reset from `side` to its peer (once the peer gets it, the
    /// connection fails there).
    fn send_reset(&mut self, id: u64, side: usize) {
        let Some(conn) = self.conns.get(&id) else {
            return;
        };
        if conn.failed() {
            return;
        }
        let (source, target) = (conn.ends[side].addr, conn.ends[1 - side].addr);
        let now = self.now();
        self.route(now, control(source, target, What::Rst, id, now));
    }

    /// A reset reached `target`'s end: after the peer's FIN it is a broken
    /// pipe (reads see EOF, writes `BrokenPipe`), before it a reset.
    fn reset_arrived(&mut self, id: u64, target: Addr) {
        let Some(conn) = self.conns.get(&id) else {
            return;
        };
        let side = if conn.ends[0].addr == target { 0 } else { 1 };
        let error = if conn.ends[side].eof {
            NetError::BrokenPipe
        } else {
            NetError::ConnectionReset
        };
        self.fail_conn(id, error);
    }

    /// The stream of `side` is gone; forget the connection once nobody can use it.
    fn release_end(&mut self, id: u64, side: usize) {
        let Some(conn) = self.conns.get_mut(&id) else {
            return;
        };
        let end = &mut conn.ends[side];
        end.holder = Holder::Gone;
        end.read_waker = None;
        end.write_waker = None;
        let addr = end.addr;
        if side == 0 {
            self.nodes[addr.node.index()].tcp_used.remove(&addr.port);
        }
        if !conn.alive() {
            self.conns.remove(&id);
        }
    }

    /// Resets a connection: both ends' operations fail with `error`.
    pub(crate) fn fail_conn(&mut self, id: u64, error: NetError) {
        let Some(conn) = self.conns.get_mut(&id) else {
            return;
        };
        if conn.failed() {
            return;
        }
        let code = match &error {
            NetError::ConnectionRefused(_) => 1,
            NetError::ConnectionReset => 2,
            NetError::TimedOut => 3,
            NetError::BrokenPipe => 5,
            _ => 4,
        };
        let keep_received = error == NetError::BrokenPipe;
        conn.state = ConnState::Failed(error);
        for end in &mut conn.ends {
            if !keep_received {
                end.recv.clear();
            }
            end.ahead.clear();
            end.wake();
        }
        if let Some(w) = conn.connect_waker.take() {
            w.wake();
        }
        let (client, server) = (conn.ends[0].addr, conn.ends[1].addr);
        let alive = conn.alive();
        let nodes = &self.nodes;
        self.handle.emit(
            Some(client.node),
            "net.reset",
            [
                client.node.index() as u64,
                server.node.index() as u64,
                u64::from(client.port) | u64::from(server.port) << 16,
                code,
            ],
            || {
                format!(
                    "{}:{} <-> {}:{} reset ({})",
                    nodes[client.node.index()].name,
                    client.port,
                    nodes[server.node.index()].name,
                    server.port,
                    ["", "refused", "reset", "timed out", "closed", "peer closed"][code as usize]
                )
            },
        );
        if !alive {
            self.conns.remove(&id);
        }
    }

    /// A stream message reached its target node.
    pub(crate) fn deliver_stream(&mut self, now: u64, f: Flight) {
        let _ = now;
        let live = self.conns.get(&f.conn).is_some_and(|c| !c.failed());
        if !live {
            return self.emit(trace::DROP, f.tag(), Some(DropReason::Closed));
        }
        self.emit(trace::DELIVER, f.tag(), None);
        match f.what {
            What::Syn => self.syn_arrived(f),
            What::SynAck => {
                let conn = self.conns.get_mut(&f.conn).expect("checked live");
                if let ConnState::Connecting = conn.state {
                    conn.state = ConnState::Established;
                    if let Some(w) = conn.connect_waker.take() {
                        w.wake();
                    }
                }
            }
            What::Refuse => {
                let refused = self.conns.get(&f.conn).map(|c| c.ends[1].addr);
                if let Some(addr) = refused {
                    let text = format!("{}:{}", self.nodes[addr.node.index()].name, addr.port);
                    self.fail_conn(f.conn, NetError::ConnectionRefused(text));
                }
            }
            What::Data { seq } => self.segment_arrived(f.conn, f.target, seq, Some(f.payload)),
            What::Fin { seq } => self.segment_arrived(f.conn, f.target, seq, None),
            What::Rst => self.reset_arrived(f.conn, f.target),
            What::Datagram => unreachable!("datagrams are not stream messages"),
        }
    }

    fn syn_arrived(&mut self, f: Flight) {
        let now = self.now();
        let backlog_max = self.limits.backlog_max;
        let target = f.target;
        let listener = self.nodes[target.node.index()]
            .tcp
            .get(&target.port)
            .copied()
            .and_then(|slot| self.listeners.slot_mut(slot))
            .filter(|l| l.open && l.queue.len() < backlog_max);
        let reply = match listener {
            None => What::Refuse,
            Some(listener) => {
                if !listener.queue.contains(&f.conn) {
                    listener.queue.push_back(f.conn);
                }
                if let Some(w) = listener.waker.take() {
                    w.wake();
                }
                What::SynAck
            }
        };
        self.route(now, control(f.target, f.source, reply, f.conn, now));
    }

    fn segment_arrived(&mut self, id: u64, target: Addr, seq: u64, data: Option<Vec<u8>>) {
        let conn = self.conns.get_mut(&id).expect("checked live");
        let side = if conn.ends[0].addr == target { 0 } else { 1 };
        if conn.ends[side].holder == Holder::Gone && data.is_some() {
            // Data for an end that was closed: its stack answers with a reset.
            return self.send_reset(id, side);
        }
        let end = &mut conn.ends[side];
        if seq < end.recv_next {
            return;
        }
        end.ahead.insert(seq, data);
        while let Some(data) = end.ahead.remove(&end.recv_next) {
            end.recv_next += 1;
            match data {
                Some(bytes) => end.recv.extend(bytes),
                None => end.eof = true,
            }
        }
        if let Some(w) = end.read_waker.take() {
            w.wake();
        }
    }

    /// A stream message was lost: retransmit it after the retransmission
    /// timeout, unless it has been trying for longer than its timeout.
    pub(crate) fn retransmit(&mut self, now: u64, mut f: Flight) {
        let live = self.conns.get(&f.conn).is_some_and(|c| !c.failed());
        if !live {
            return;
        }
        let timeout = if f.what == What::Syn {
            self.limits.connect_timeout
        } else {
            self.limits.stream_timeout
        };
        let timeout = u64::try_from(timeout.as_nanos()).unwrap_or(u64::MAX);
        if now.saturating_sub(f.first_sent) >= timeout {
            return self.fail_conn(f.conn, NetError::TimedOut);
        }
        let rto = u64::try_from(self.limits.retransmit_timeout.as_nanos()).unwrap_or(u64::MAX);
        f.resend = true;
        self.enqueue(now.saturating_add(rto), f);
    }

    /// Starts timing every connection direction that a partition now cuts.
    pub(crate) fn watch_stream_cuts(&mut self) {
        let now = self.now();
        let timeout = self.limits.stream_timeout;
        let mut checks = Vec::new();
        let directions: Vec<(u64, usize, usize, usize)> = self
            .conns
            .iter()
            .filter(|(_, c)| !c.failed())
            .flat_map(|(&id, c)| {
                [0, 1].map(|side| {
                    (
                        id,
                        side,
                        c.ends[side].addr.node.index(),
                        c.ends[1 - side].addr.node.index(),
                    )
                })
            })
            .collect();
        for (id, side, s, d) in directions {
            self.ensure_link(s, d, now);
            let link = &self.links[s][d];
            let (cut, epoch) = (link.cut, link.cut_epoch);
            let end = &mut self.conns.get_mut(&id).expect("listed above").ends[side];
            if !cut {
                end.watch = None;
            } else if end.watch != Some(epoch) {
                end.watch = Some(epoch);
                checks.push((id, side, epoch));
            }
        }
        let at = Instant::from_nanos(now).saturating_add(timeout);
        for (id, side, epoch) in checks {
            self.handle
                .call_at(at, None, move || stream_check(id, side, epoch));
        }
    }

    /// The stream timeout after a cut started: break the connection if the
    /// same cut still holds.
    fn check_cut(&mut self, id: u64, side: usize, epoch: u32) {
        let Some(conn) = self.conns.get(&id) else {
            return;
        };
        if conn.failed() || conn.ends[side].watch != Some(epoch) {
            return;
        }
        let (s, d) = (
            conn.ends[side].addr.node.index(),
            conn.ends[1 - side].addr.node.index(),
        );
        let link = &self.links[s][d];
        if link.cut && link.cut_epoch == epoch {
            self.fail_conn(id, NetError::TimedOut);
        }
    }

    /// A node crashed: its listeners close, its connections reset.
    pub(crate) fn reset_node_streams(&mut self, node: NodeId) {
        let mut listeners: Vec<(u16, u32)> = self.nodes[node.index()].tcp.drain().collect();
        listeners.sort_unstable();
        self.nodes[node.index()].tcp_used.clear();
        let mut queued = Vec::new();
        for (_, slot) in listeners {
            if let Some(listener) = self.listeners.slot_mut(slot) {
                listener.open = false;
                queued.extend(listener.queue.drain(..));
                if let Some(w) = listener.waker.take() {
                    w.wake();
                }
            }
        }
        let conns: Vec<u64> = self
            .conns
            .iter()
            .filter(|(_, c)| c.ends.iter().any(|e| e.addr.node == node))
            .map(|(&id, _)| id)
            .collect();
        for id in queued.into_iter().chain(conns) {
            self.fail_conn(id, NetError::ConnectionReset);
        }
    }
}

/// A stream control message (no payload).
fn control(source: Addr, target: Addr, what: What, conn: u64, now: u64) -> Flight {
    Flight {
        source,
        target,
        what,
        conn,
        payload: Vec::new(),
        hash: 0,
        cut_epoch: 0,
        down_epoch: 0,
        first_sent: now,
        resend: false,
        id: 0,
    }
}
