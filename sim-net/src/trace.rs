//! Trace events of the network, and [`NetEvent`] to read them back.
//!
//! Every send, delivery, drop (with its reason), duplicate, hold and release
//! is an extension event named `net.*` whose four numbers are what the
//! fingerprint covers:
//!
//! | arg | content |
//! |---|---|
//! | 0 | source node index (low 32 bits), message id's low 32 bits << 32 |
//! | 1 | target node index (low 32 bits), message id's high 32 bits << 32 |
//! | 2 | source port, target port << 16, message kind << 32, drop reason << 40 |
//! | 3 | payload length, payload hash << 32 |
//!
//! The message id numbers messages from 1 in send order; a retransmission,
//! a duplicate and a Byzantine replay keep the id of the message they copy,
//! so a viewer pairs each send with its delivery or drop.

use std::fmt;

use detsim::time::Instant;
use detsim::{Event, EventKind, SimHandle, Trace};

use crate::Addr;

pub(crate) const SEND: &str = "net.send";
pub(crate) const DELIVER: &str = "net.deliver";
pub(crate) const DROP: &str = "net.drop";
pub(crate) const DUPLICATE: &str = "net.dup";
pub(crate) const HOLD: &str = "net.hold";
pub(crate) const RELEASE: &str = "net.release";
pub(crate) const CORRUPT: &str = "net.corrupt";
pub(crate) const REPLAY: &str = "net.replay";

/// Why the network lost a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum DropReason {
    /// The link's loss probability.
    Loss,
    /// A partition cut the link at some moment between send and delivery.
    Partition,
    /// An intermittent link was down at some moment between send and delivery.
    LinkDown,
    /// The target node was crashed on arrival.
    NodeDown,
    /// No socket is bound to the target port.
    NoSocket,
    /// The target socket's inbox was full.
    InboxFull,
    /// The link's bandwidth queue was full.
    QueueFull,
    /// The stream connection the segment belongs to is gone (reset or closed).
    Closed,
}

impl DropReason {
    pub(crate) fn code(self) -> u64 {
        match self {
            DropReason::Loss => 1,
            DropReason::Partition => 2,
            DropReason::LinkDown => 3,
            DropReason::NodeDown => 4,
            DropReason::NoSocket => 5,
            DropReason::InboxFull => 6,
            DropReason::QueueFull => 7,
            DropReason::Closed => 8,
        }
    }

    fn from_code(code: u64) -> Option<DropReason> {
        Some(match code {
            1 => DropReason::Loss,
            2 => DropReason::Partition,
            3 => DropReason::LinkDown,
            4 => DropReason::NodeDown,
            5 => DropReason::NoSocket,
            6 => DropReason::InboxFull,
            7 => DropReason::QueueFull,
            8 => DropReason::Closed,
            _ => return None,
        })
    }

    /// The reason in words (`loss`, `partition`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::Loss => "loss",
            DropReason::Partition => "partition",
            DropReason::LinkDown => "link down",
            DropReason::NodeDown => "node down",
            DropReason::NoSocket => "no socket",
            DropReason::InboxFull => "inbox full",
            DropReason::QueueFull => "queue full",
            DropReason::Closed => "connection closed",
        }
    }
}

/// What kind of message a network event is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MessageKind {
    /// A datagram.
    Datagram,
    /// A stream connection request.
    Syn,
    /// A stream connection acceptance.
    SynAck,
    /// A stream connection refusal (nobody listens).
    Refuse,
    /// Stream data.
    Data,
    /// A stream's clean end.
    Fin,
    /// A stream's reset: data reached an end that was closed, or an end
    /// was closed with data it had not read.
    Rst,
}

impl MessageKind {
    pub(crate) fn code(self) -> u64 {
        match self {
            MessageKind::Datagram => 0,
            MessageKind::Syn => 1,
            MessageKind::SynAck => 2,
            MessageKind::Refuse => 3,
            MessageKind::Data => 4,
            MessageKind::Fin => 5,
            MessageKind::Rst => 6,
        }
    }

    fn from_code(code: u64) -> Option<MessageKind> {
        Some(match code {
            0 => MessageKind::Datagram,
            1 => MessageKind::Syn,
            2 => MessageKind::SynAck,
            3 => MessageKind::Refuse,
            4 => MessageKind::Data,
            5 => MessageKind::Fin,
            6 => MessageKind::Rst,
            _ => return None,
        })
    }

    fn as_str(self) -> &'static str {
        match self {
            MessageKind::Datagram => "datagram",
            MessageKind::Syn => "syn",
            MessageKind::SynAck => "syn-ack",
            MessageKind::Refuse => "refuse",
            MessageKind::Data => "data",
            MessageKind::Fin => "fin",
            MessageKind::Rst => "rst",
        }
    }
}

/// The numbers that identify one message in a trace event.
#[derive(Clone, Copy)]
pub(crate) struct Tag {
    pub(crate) source: Addr,
    pub(crate) target: Addr,
    pub(crate) kind: MessageKind,
    pub(crate) len: usize,
    pub(crate) hash: u32,
    pub(crate) id: u64,
}

/// Appends a `net.*` event; the text is only rendered when the trace is recorded.
#[inline]
pub(crate) fn emit(
    handle: SimHandle,
    names: &dyn Fn(usize) -> String,
    name: &'static str,
    tag: Tag,
    reason: Option<DropReason>,
) {
    let ports = u64::from(tag.source.port)
        | u64::from(tag.target.port) << 16
        | tag.kind.code() << 32
        | reason.map_or(0, DropReason::code) << 40;
    let payload = (tag.len as u64 & 0xffff_ffff) | u64::from(tag.hash) << 32;
    // A send happens on the sender; everything else (delivery, drops,
    // holds) where the message is going.
    let node = if name == SEND {
        tag.source.node
    } else {
        tag.target.node
    };
    handle.emit(
        Some(node),
        name,
        [
            tag.source.node.index() as u64 & 0xffff_ffff | tag.id << 32,
            tag.target.node.index() as u64 & 0xffff_ffff | tag.id >> 32 << 32,
            ports,
            payload,
        ],
        || {
            let mut text = format!(
                "{}:{} -> {}:{} {} {}B",
                names(tag.source.node.index()),
                tag.source.port,
                names(tag.target.node.index()),
                tag.target.port,
                tag.kind.as_str(),
                tag.len
            );
            if let Some(reason) = reason {
                text.push_str(" (");
                text.push_str(reason.as_str());
                text.push(')');
            }
            text
        },
    );
}

/// A hash of payload bytes for the trace (FxHash-style, fixed forever).
#[inline]
pub(crate) fn hash32(bytes: &[u8]) -> u32 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mut hash = bytes.len() as u64;
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let word = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
        hash = (hash.rotate_left(5) ^ word).wrapping_mul(K);
    }
    let mut tail = [0u8; 8];
    let rest = chunks.remainder();
    tail[..rest.len()].copy_from_slice(rest);
    hash = (hash.rotate_left(5) ^ u64::from_le_bytes(tail)).wrapping_mul(K);
    (hash >> 32) as u32 ^ hash as u32
}

/// What happened to a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NetEventKind {
    /// It was sent (or retransmitted).
    Send,
    /// It reached its target socket.
    Deliver,
    /// The network lost it.
    Drop(DropReason),
    /// The link duplicated it.
    Duplicate,
    /// A clog is holding it.
    Hold,
    /// A clog released it.
    Release,
    /// A Byzantine link corrupted it (flipped a bit or truncated it).
    Corrupt,
    /// A Byzantine link sent it again (an old datagram).
    Replay,
}

/// A network event read back from a recorded [`Trace`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use detsim::{Seed, Sim, TraceMode};
/// use detsim_net::{Net, NetEvent, NetEventKind, UdpSocket};
///
/// let mut sim = Sim::builder(Seed::new(1)).trace(TraceMode::RECORD).build().unwrap();
/// Net::builder().install(&mut sim).unwrap();
/// sim.add_node("n1", |_| async {
///     let socket = UdpSocket::bind(5000).unwrap();
///     socket.send_to(b"hi", "n1:5000").unwrap();
///     socket.recv().await.unwrap();
/// }).unwrap();
/// let report = sim.run_for(Duration::from_secs(1)).unwrap();
/// let events = NetEvent::from_trace(&report.trace);
/// let lines: Vec<String> = events.iter().map(|e| e.to_string()).collect();
/// assert_eq!(lines, [
///     "0.000000s send n1:5000 -> n1:5000 Datagram 2B",
///     "0.000010s deliver n1:5000 -> n1:5000 Datagram 2B",
/// ]);
/// assert_eq!(events[1].kind, NetEventKind::Deliver);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetEvent {
    /// When (true virtual time).
    pub time: Instant,
    /// What happened.
    pub kind: NetEventKind,
    /// The message's kind.
    pub message: MessageKind,
    /// `node:port` of the sender.
    pub source: String,
    /// `node:port` of the target.
    pub target: String,
    /// Payload length in bytes.
    pub len: u32,
    /// Payload hash.
    pub hash: u32,
    /// The message's id: from 1 in send order; a retransmission, a
    /// duplicate or a replay keeps the id of the message it copies.
    pub id: u64,
}

impl NetEvent {
    /// Decodes one trace event, if it is a message event of the network.
    pub fn decode(trace: &Trace, event: &Event) -> Option<NetEvent> {
        let EventKind::Ext { name, args, .. } = &event.kind else {
            return None;
        };
        let ports = args[2];
        let kind = match name.as_ref() {
            SEND => NetEventKind::Send,
            DELIVER => NetEventKind::Deliver,
            DROP => NetEventKind::Drop(DropReason::from_code(ports >> 40 & 0xff)?),
            DUPLICATE => NetEventKind::Duplicate,
            HOLD => NetEventKind::Hold,
            RELEASE => NetEventKind::Release,
            CORRUPT => NetEventKind::Corrupt,
            REPLAY => NetEventKind::Replay,
            _ => return None,
        };
        let name_of = |index: u64| {
            trace
                .node_names
                .get(index as usize)
                .cloned()
                .unwrap_or_else(|| format!("node#{index}"))
        };
        Some(NetEvent {
            time: event.time,
            kind,
            message: MessageKind::from_code(ports >> 32 & 0xff)?,
            source: format!("{}:{}", name_of(args[0] & 0xffff_ffff), ports & 0xffff),
            target: format!(
                "{}:{}",
                name_of(args[1] & 0xffff_ffff),
                ports >> 16 & 0xffff
            ),
            len: args[3] as u32,
            hash: (args[3] >> 32) as u32,
            id: args[0] >> 32 | args[1] >> 32 << 32,
        })
    }

    /// Every network message event of a recorded trace, in order.
    pub fn from_trace(trace: &Trace) -> Vec<NetEvent> {
        trace
            .events
            .iter()
            .filter_map(|e| NetEvent::decode(trace, e))
            .collect()
    }
}

impl fmt::Display for NetEvent {
    /// `1.000000s deliver n1:5000 -> n2:7000 Datagram 8B` (drops add the reason).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            NetEventKind::Send => "send",
            NetEventKind::Deliver => "deliver",
            NetEventKind::Drop(_) => "drop",
            NetEventKind::Duplicate => "dup",
            NetEventKind::Hold => "hold",
            NetEventKind::Release => "release",
            NetEventKind::Corrupt => "corrupt",
            NetEventKind::Replay => "replay",
        };
        write!(
            f,
            "{} {kind} {} -> {} {:?} {}B",
            self.time, self.source, self.target, self.message, self.len
        )?;
        if let NetEventKind::Drop(reason) = self.kind {
            write!(f, " ({})", reason.as_str())?;
        }
        Ok(())
    }
}
