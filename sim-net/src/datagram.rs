//! Datagram sockets (UDP-like): unreliable, unordered messages of bytes.

use std::collections::VecDeque;
use std::collections::hash_map::Entry;
use std::fmt;
use std::future::poll_fn;
use std::rc::Rc;
use std::task::{Poll, Waker};

use crate::flight::{Flight, What};
use crate::state::{EPHEMERAL_FIRST, State};
use crate::trace::{self, DropReason};
use crate::{Addr, Net, NetError, ToAddr};

/// A datagram received: who sent it and its bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Datagram {
    /// The sender's address.
    pub source: Addr,
    /// The bytes (possibly corrupted by a Byzantine link).
    pub payload: Vec<u8>,
}

pub(crate) struct SocketSlot {
    pub(crate) addr: Addr,
    pub(crate) inbox: VecDeque<Datagram>,
    /// The receiver's waker, kept across deliveries (it usually polls again
    /// with the same one).
    pub(crate) waker: Option<Waker>,
    /// Other tasks receiving on clones of the socket, woken once each.
    pub(crate) waiting: Vec<Waker>,
    pub(crate) open: bool,
}

/// A datagram socket bound to a port of a node.
///
/// Sending never blocks: the datagram enters the link model, which may
/// delay, lose, duplicate, reorder or corrupt it. Receiving waits for the
/// next datagram in the socket's inbox (bounded: when full, arrivals are
/// dropped, like a kernel buffer).
///
/// A socket is a cheap handle: clone it to use it from several tasks of the
/// node (every method takes `&self`); each datagram goes to one receiver,
/// and the port is released when the last clone is dropped.
///
/// The socket belongs to the node of the task that bound it. When that node
/// crashes the socket closes (its queued datagrams vanish, every operation
/// returns [`NetError::Closed`]); datagrams it already sent stay in flight.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use detsim::{Seed, Sim};
/// use detsim_net::{Net, UdpSocket};
///
/// let mut sim = Sim::new(Seed::new(1));
/// Net::builder().install(&mut sim).unwrap();
/// sim.add_node("server", |_| async {
///     let socket = UdpSocket::bind(7000).unwrap();
///     loop {
///         let d = socket.recv().await.unwrap();
///         socket.send_to(&d.payload, d.source).unwrap();
///     }
/// }).unwrap();
/// let client = sim.add_node("client", |_| async {}).unwrap();
/// let echoed = sim.run(async move {
///     detsim::handle().spawn_on(client, async {
///         let socket = UdpSocket::bind(0).unwrap();
///         socket.send_to(b"ping", "server:7000").unwrap();
///         let mut buf = [0u8; 16];
///         let (n, from) = socket.recv_from(&mut buf).await.unwrap();
///         (buf[..n].to_vec(), from.to_string())
///     }).unwrap().await.unwrap()
/// }).unwrap().value;
/// assert_eq!(echoed, (b"ping".to_vec(), "server:7000".to_string()));
/// ```
#[derive(Clone)]
pub struct UdpSocket {
    net: Net,
    /// Shared by the socket's handles: the binding is released when the
    /// last one goes.
    inner: Rc<Bound>,
}

/// The binding itself. Plain data: a released one's allocation is kept by
/// the network (it holds no `Net`, so keeping it makes no cycle) and
/// rewritten for the next socket bound.
pub(crate) struct Bound {
    slot: u32,
    generation: u32,
    addr: Addr,
}

impl fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UdpSocket")
            .field("addr", &self.inner.addr)
            .finish()
    }
}

impl UdpSocket {
    /// Binds `port` (0: a free ephemeral port) on the calling task's node,
    /// in the world's network.
    ///
    /// # Errors
    ///
    /// [`NetError::OutsideSimulation`] outside a running world,
    /// [`NetError::NotInstalled`], [`NetError::NotInNode`] from the test
    /// harness, [`NetError::AddrInUse`].
    pub fn bind(port: u16) -> Result<UdpSocket, NetError> {
        Net::current_for("UdpSocket::bind")?.bind(port)
    }

    pub(crate) fn bind_in(net: &Net, port: u16) -> Result<UdpSocket, NetError> {
        let node = detsim::current_node().ok_or(NetError::NotInNode)?;
        let mut state = net.state.borrow_mut();
        state.check_node(node)?;
        let State {
            nodes,
            udp,
            sockets,
            spare_inboxes,
            spare_bounds,
            ..
        } = &mut *state;
        let entry = &mut nodes[node.index()];
        let key = |port: u16| (node.index() as u32, port);
        let port = if port == 0 {
            let mut candidate = entry.ephemeral_next;
            loop {
                if !udp.contains_key(&key(candidate)) {
                    break;
                }
                candidate = candidate.checked_add(1).unwrap_or(EPHEMERAL_FIRST);
                if candidate == entry.ephemeral_next {
                    return Err(NetError::AddrInUse(format!("{}:*", entry.name)));
                }
            }
            entry.ephemeral_next = candidate.checked_add(1).unwrap_or(EPHEMERAL_FIRST);
            candidate
        } else {
            port
        };
        // One look-up of the port: refused if bound, else bound here.
        let Entry::Vacant(free) = udp.entry(key(port)) else {
            return Err(NetError::AddrInUse(format!("{}:{port}", entry.name)));
        };
        let addr = Addr::new(node, port);
        let inbox = spare_inboxes.pop().unwrap_or_default();
        let (slot, generation) = sockets.insert(SocketSlot {
            addr,
            inbox,
            waker: None,
            waiting: Vec::new(),
            open: true,
        });
        free.insert(slot);
        let bound = Bound {
            slot,
            generation,
            addr,
        };
        // A kept binding is held by nothing else (see `Drop for UdpSocket`).
        let inner = match spare_bounds.pop() {
            Some(mut kept) => match Rc::get_mut(&mut kept) {
                Some(place) => {
                    *place = bound;
                    kept
                }
                None => Rc::new(bound),
            },
            None => Rc::new(bound),
        };
        Ok(UdpSocket {
            net: net.clone(),
            inner,
        })
    }

    /// The address the socket is bound to.
    pub fn local_addr(&self) -> Addr {
        self.inner.addr
    }

    /// Sends a datagram to `target`. Returns once the datagram is on the
    /// wire; whether it arrives is the link model's decision.
    ///
    /// # Errors
    ///
    /// [`NetError::TooBig`] above the maximum datagram size,
    /// [`NetError::UnknownNode`] for a node the world does not have,
    /// [`NetError::InvalidAddr`] for malformed text, [`NetError::Closed`]
    /// once the node crashed. A crashed or unreachable target is not an
    /// error: the datagram is silently lost.
    #[inline]
    pub fn send_to(&self, payload: &[u8], target: impl ToAddr) -> Result<(), NetError> {
        let target = target.to_addr()?;
        let bound = &*self.inner;
        let mut state = self.net.state.borrow_mut();
        state.send_datagram(bound.slot, bound.generation, payload, target)
    }

    /// Waits for the next datagram and copies it into `buf`; a datagram
    /// longer than `buf` is truncated (the rest is discarded, as with UDP).
    ///
    /// # Errors
    ///
    /// [`NetError::Closed`] once the node crashed.
    pub async fn recv_from(&self, buf: &mut [u8]) -> Result<(usize, Addr), NetError> {
        let datagram = self.recv().await?;
        let n = datagram.payload.len().min(buf.len());
        buf[..n].copy_from_slice(&datagram.payload[..n]);
        // The payload was copied out: its buffer can carry a later datagram.
        if let Ok(mut state) = self.net.state.try_borrow_mut() {
            state.keep_payload(datagram.payload);
        }
        Ok((n, datagram.source))
    }

    /// Waits for the next datagram and returns it whole.
    ///
    /// # Errors
    ///
    /// [`NetError::Closed`] once the node crashed.
    pub async fn recv(&self) -> Result<Datagram, NetError> {
        let bound = &*self.inner;
        poll_fn(|cx| {
            let mut state = self.net.state.borrow_mut();
            let Some(socket) = state.sockets.get_mut(bound.slot, bound.generation) else {
                return Poll::Ready(Err(NetError::Closed));
            };
            if !socket.open {
                return Poll::Ready(Err(NetError::Closed));
            }
            match socket.inbox.pop_front() {
                Some(datagram) => Poll::Ready(Ok(datagram)),
                None => {
                    match &socket.waker {
                        Some(waker) if waker.will_wake(cx.waker()) => {}
                        None => socket.waker = Some(cx.waker().clone()),
                        // Another task receives on a clone of the socket.
                        Some(_) => {
                            if !socket.waiting.iter().any(|w| w.will_wake(cx.waker())) {
                                socket.waiting.push(cx.waker().clone());
                            }
                        }
                    }
                    Poll::Pending
                }
            }
        })
        .await
    }

    /// The next datagram if one is waiting.
    ///
    /// # Errors
    ///
    /// [`NetError::Closed`] once the node crashed.
    pub fn try_recv(&self) -> Result<Option<Datagram>, NetError> {
        let bound = &*self.inner;
        let mut state = self.net.state.borrow_mut();
        match state.sockets.get_mut(bound.slot, bound.generation) {
            Some(socket) if socket.open => Ok(socket.inbox.pop_front()),
            _ => Err(NetError::Closed),
        }
    }
}

impl Drop for UdpSocket {
    fn drop(&mut self) {
        // Bindings are never downgraded: the strong count is the handles.
        if Rc::strong_count(&self.inner) > 1 {
            return;
        }
        let Ok(mut state) = self.net.state.try_borrow_mut() else {
            return;
        };
        let bound = &*self.inner;
        if let Some(mut socket) = state.sockets.remove(bound.slot, bound.generation) {
            let key = (socket.addr.node.index() as u32, socket.addr.port);
            if let Entry::Occupied(bound_here) = state.udp.entry(key) {
                if *bound_here.get() == bound.slot {
                    bound_here.remove();
                }
            }
            // The inbox's datagrams go now; its buffer serves the next socket.
            socket.inbox.clear();
            if crate::recycle::fits(socket.inbox.capacity())
                && state.spare_inboxes.len() < crate::recycle::KEPT_MAX
            {
                state.spare_inboxes.push(std::mem::take(&mut socket.inbox));
            }
        }
        // This handle is the last: once it is gone the kept clone is the
        // binding's only holder, ready to be rewritten.
        if state.spare_bounds.len() < crate::recycle::KEPT_MAX {
            state.spare_bounds.push(self.inner.clone());
        }
    }
}

impl State {
    #[inline]
    pub(crate) fn send_datagram(
        &mut self,
        slot: u32,
        generation: u32,
        payload: &[u8],
        target: Addr,
    ) -> Result<(), NetError> {
        let source = match self.sockets.get_mut(slot, generation) {
            Some(socket) if socket.open => socket.addr,
            _ => return Err(NetError::Closed),
        };
        if payload.len() > self.limits.datagram_size_max {
            return Err(NetError::TooBig {
                len: payload.len(),
                max: self.limits.datagram_size_max,
            });
        }
        self.check_node(target.node)?;
        let now = self.now();
        let flight = Flight {
            source,
            target,
            what: What::Datagram,
            conn: 0,
            hash: trace::hash32(payload),
            payload: self.payload_of(payload),
            cut_epoch: 0,
            down_epoch: 0,
            first_sent: now,
            resend: false,
            id: 0,
        };
        self.route(now, flight);
        Ok(())
    }

    #[inline]
    pub(crate) fn deliver_datagram(&mut self, f: Flight) {
        let target = f.target;
        let slot = self
            .udp
            .get(&(target.node.index() as u32, target.port))
            .copied();
        let Some(slot) = slot else {
            return self.emit(trace::DROP, f.tag(), Some(DropReason::NoSocket));
        };
        let inbox_max = self.limits.inbox_datagrams_max;
        let full = self
            .sockets
            .slot_mut(slot)
            .is_none_or(|s| s.inbox.len() >= inbox_max);
        if full {
            return self.emit(trace::DROP, f.tag(), Some(DropReason::InboxFull));
        }
        self.emit(trace::DELIVER, f.tag(), None);
        let socket = self.sockets.slot_mut(slot).expect("checked above");
        socket.inbox.push_back(Datagram {
            source: f.source,
            payload: f.payload,
        });
        // Keep the waker: the receiver usually polls again with the same
        // one, and then needs no clone.
        if let Some(waker) = &socket.waker {
            waker.wake_by_ref();
        }
        for waker in socket.waiting.drain(..) {
            waker.wake();
        }
    }

    /// Closes every datagram socket of a crashed node.
    pub(crate) fn close_datagram_sockets(&mut self, node: detsim::NodeId) {
        let index = node.index() as u32;
        let mut ports: Vec<(u16, u32)> = Vec::new();
        self.udp.retain(|&(n, port), &mut slot| {
            if n == index {
                ports.push((port, slot));
            }
            n != index
        });
        ports.sort_unstable();
        for (_, slot) in ports {
            if let Some(socket) = self.sockets.slot_mut(slot) {
                socket.open = false;
                socket.inbox.clear();
                if let Some(waker) = socket.waker.take() {
                    waker.wake();
                }
                for waker in socket.waiting.drain(..) {
                    waker.wake();
                }
            }
        }
    }
}
