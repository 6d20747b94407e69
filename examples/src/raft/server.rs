//! A node's driver: the I/O around [`RaftNode`]. It is generic over the
//! network ([`Transport`]), the disk ([`Storage`]) and the clock
//! ([`Clock`] + [`Entropy`]), so the same code runs in a detsim world and on
//! real sockets, files and time.
//!
//! One task: wait for a datagram or the next tick, feed it to the node, then
//! for each [`Ready`](super::node::Ready): persist and sync, send, apply
//! committed entries, answer clients.

use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

use detsim::{Clock, Entropy};
use detsim_disk::Storage;
use detsim_net::{DatagramSocket, Transport};
use futures::future::{Either, select};

use super::bugs::{Bug, Bugs};
use super::kv::{Applied, ClientId, Kv, Op, OpResult};
use super::log::{Command, Entry, Log};
use super::message::{NodeId, Outcome, RaftMessage, Reply, Request, Wire};
use super::node::{Config, RaftNode};
use super::persist::{DiskLog, OpenError};

/// The largest datagram the driver reads.
pub const DATAGRAM_SIZE_MAX: usize = 65_507;

/// What a driver needs to know.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// This node's id.
    pub id: NodeId,
    /// Every node's address (`name:port`), by id.
    pub addresses: Vec<String>,
    /// The port this node listens on.
    pub port: u16,
    /// The tick of the node's clock.
    pub tick: Duration,
    /// The planted bug, if any.
    pub bugs: Bugs,
}

/// What a test harness may watch (all methods default to nothing).
pub trait Observer {
    /// Node `node` applied `entry`.
    fn applied(&self, node: NodeId, entry: &Entry) {
        let _ = (node, entry);
    }

    /// Node `node`'s state after an input (for failure reports).
    fn state(&self, node: NodeId, raft: &RaftNode) {
        let _ = (node, raft);
    }
}

/// An observer that watches nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoObserver;

impl Observer for NoObserver {}

/// A reply owed to a client once an entry is applied.
struct PendingWrite<A> {
    to: A,
    client: ClientId,
    seq: u64,
}

/// A read owed to a client.
struct PendingRead<A> {
    to: A,
    seq: u64,
    key: String,
    /// Set once confirmed: serve when this index is applied.
    index: Option<u64>,
}

/// Runs one node until its task is dropped (a crash).
///
/// # Errors
///
/// [`OpenError::StateLost`] if the disk lost both copies of the state: the
/// node then must not take part (an operator must step in). Other disk and
/// network errors are retried.
pub async fn run<T, S, C>(
    net: T,
    storage: S,
    clock: C,
    config: ServerConfig,
    observer: Rc<dyn Observer>,
) -> Result<(), OpenError>
where
    T: Transport,
    S: Storage,
    C: Clock + Entropy,
{
    let verify = !config.bugs.has(Bug::SkipChecksum);
    let (mut disk, recovered) = loop {
        match DiskLog::open(&storage, verify).await {
            Ok(opened) => break opened,
            Err(OpenError::StateLost) => return Err(OpenError::StateLost),
            Err(OpenError::Io(error)) => {
                tracing::warn!(%error, "cannot open the disk; retrying");
                clock.sleep(Duration::from_millis(100)).await;
            }
        }
    };
    if recovered.lost_acknowledged {
        tracing::warn!(
            entries = recovered.scan.entries.len(),
            acknowledged_term = recovered.hard.amnesia_term,
            acknowledged_index = recovered.hard.amnesia_index,
            "the disk lost acknowledged entries: amnesia until caught up"
        );
    }
    let mut node_config = Config::new(config.id, config.addresses.len());
    node_config.bugs = config.bugs;
    let log = Log::from_entries(recovered.scan.entries);
    let raft = RaftNode::new(node_config, recovered.hard, log, clock.next_u64());
    let socket = loop {
        match net.bind_datagram(config.port).await {
            Ok(socket) => break socket,
            Err(error) => {
                tracing::warn!(%error, "cannot bind; retrying");
                clock.sleep(Duration::from_millis(100)).await;
            }
        }
    };
    let mut peers = Vec::new();
    for address in &config.addresses {
        peers.push(net.resolve(address).ok());
    }
    let mut server = Server::<T> {
        raft,
        kv: Kv::default(),
        applied: 0,
        socket,
        peers,
        writes: BTreeMap::new(),
        reads: BTreeMap::new(),
        read_next: 0,
        bugs: config.bugs,
        observer,
    };
    let mut buf = vec![0u8; DATAGRAM_SIZE_MAX];
    let mut next_tick = clock.now() + config.tick;
    let mut ticks: u64 = 0;
    loop {
        let event = {
            let recv = std::pin::pin!(server.socket.recv_from(&mut buf));
            let tick = std::pin::pin!(clock.sleep_until(next_tick));
            match select(recv, tick).await {
                Either::Left((Ok((len, from)), _)) => Some((len, from)),
                Either::Left((Err(_), _)) => None,
                Either::Right(((), _)) => {
                    next_tick += config.tick;
                    server.raft.tick();
                    ticks += 1;
                    if server.bugs.has(Bug::AckBeforeDurable) && ticks % 5 == 0 {
                        // The mistake's other half: fsync in the background, every 50 ms.
                        let _ = disk.sync().await;
                    }
                    None
                }
            }
        };
        if let Some((len, from)) = event {
            server.receive(&buf[..len], from).await;
        }
        server.process(&mut disk, &clock).await;
    }
}

struct Server<T: Transport> {
    raft: RaftNode,
    kv: Kv,
    /// The last entry applied to `kv`.
    applied: u64,
    socket: T::Datagram,
    peers: Vec<Option<T::Addr>>,
    writes: BTreeMap<u64, PendingWrite<T::Addr>>,
    reads: BTreeMap<u64, PendingRead<T::Addr>>,
    read_next: u64,
    bugs: Bugs,
    observer: Rc<dyn Observer>,
}

impl<T: Transport> Server<T> {
    async fn receive(&mut self, bytes: &[u8], from: T::Addr) {
        match Wire::decode(bytes) {
            Some(Wire::Raft(message)) => self.raft.step(message),
            Some(Wire::Request(request)) => self.request(request, from).await,
            Some(Wire::Reply(_)) | None => {}
        }
    }

    async fn request(&mut self, request: Request, from: T::Addr) {
        let Request { client, seq, op } = request;
        if let Op::Get { key } = op {
            let id = self.read_next;
            self.read_next += 1;
            match self.raft.read(id) {
                Ok(()) => {
                    let read = PendingRead {
                        to: from,
                        seq,
                        key,
                        index: None,
                    };
                    self.reads.insert(id, read);
                }
                Err(not) => {
                    self.reply(&from, seq, Outcome::NotLeader { leader: not.leader })
                        .await
                }
            }
            return;
        }
        match self.raft.propose(Command::Client { client, seq, op }) {
            Ok(index) => {
                let write = PendingWrite {
                    to: from,
                    client,
                    seq,
                };
                self.writes.insert(index, write);
            }
            Err(not) => {
                self.reply(&from, seq, Outcome::NotLeader { leader: not.leader })
                    .await
            }
        }
    }

    async fn process<S: Storage, C: Clock>(&mut self, disk: &mut DiskLog<S>, clock: &C) {
        loop {
            let ready = self.raft.take_ready();
            if ready.is_empty() {
                break;
            }
            let early = self.bugs.has(Bug::AckBeforeDurable);
            if early {
                // The mistake: answer first; the writes reach the disk later.
                self.send_all(&ready.messages).await;
            }
            if ready.must_persist() {
                let mut backoff = Duration::from_millis(5);
                let durable = loop {
                    let (hard, truncate) = (ready.hard_state, ready.truncate_from);
                    match disk.persist(hard, truncate, &ready.entries, !early).await {
                        Ok(durable) => break durable,
                        Err(error) => {
                            tracing::warn!(%error, "cannot persist; retrying");
                            clock.sleep(backoff).await;
                            backoff = (backoff * 2).min(Duration::from_millis(200));
                        }
                    }
                };
                self.raft.advance(durable);
            }
            if !early {
                self.send_all(&ready.messages).await;
            }
            for entry in &ready.committed {
                self.apply(entry).await;
            }
            for (id, index) in ready.reads {
                if let Some(read) = self.reads.get_mut(&id) {
                    read.index = Some(index);
                }
            }
            for id in ready.reads_dropped {
                if let Some(read) = self.reads.remove(&id) {
                    let leader = self.raft.leader();
                    self.reply(&read.to, read.seq, Outcome::NotLeader { leader })
                        .await;
                }
            }
            self.serve_reads().await;
        }
        self.observer.state(self.raft.id(), &self.raft);
    }

    async fn apply(&mut self, entry: &Entry) {
        self.observer.applied(self.raft.id(), entry);
        self.applied = entry.index;
        let Command::Client { client, seq, op } = &entry.command else {
            return;
        };
        let applied = self.kv.apply(*client, *seq, op);
        let Some(write) = self.writes.remove(&entry.index) else {
            return;
        };
        if write.client != *client || write.seq != *seq {
            // Another leader's entry took this index: the client will retry.
            return;
        }
        if let Applied::Fresh(result) | Applied::Duplicate(result) = applied {
            self.reply(&write.to, write.seq, Outcome::Done(result))
                .await;
        }
    }

    async fn serve_reads(&mut self) {
        let applied = self.applied;
        let ready: Vec<u64> = self
            .reads
            .iter()
            .filter(|(_, r)| r.index.is_some_and(|index| index <= applied))
            .map(|(id, _)| *id)
            .collect();
        for id in ready {
            let read = self.reads.remove(&id).expect("listed above");
            let value = self.kv.get(&read.key);
            self.reply(&read.to, read.seq, Outcome::Done(OpResult::Value(value)))
                .await;
        }
    }

    async fn send_all(&self, messages: &[RaftMessage]) {
        for message in messages {
            let Some(Some(to)) = self.peers.get(usize::from(message.to)) else {
                continue;
            };
            let bytes = Wire::Raft(message.clone()).encode();
            // A lost datagram is Raft's everyday business: it retries.
            let _ = self.socket.send_to(&bytes, to).await;
        }
    }

    async fn reply(&self, to: &T::Addr, seq: u64, outcome: Outcome) {
        let bytes = Wire::Reply(Reply { seq, outcome }).encode();
        let _ = self.socket.send_to(&bytes, to).await;
    }
}
