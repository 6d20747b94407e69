//! The network's state and its two paths: `route` (a message leaves a
//! socket and meets the link model) and `arrive` (the delivery queue hands
//! it to the target, unless something between send and arrival lost it).

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::rc::Rc;
use std::time::Duration;

use detsim::time::Instant;
use detsim::{NodeId, SimHandle};
use rustc_hash::FxHashMap;

use crate::clog::Clogs;
use crate::datagram::{Bound, SocketSlot};
use crate::flight::{Flight, Flights, What};
use crate::link::{Link, REPLAY_KEPT_MAX, Schedule};
use crate::partition::Rule;
use crate::slab::Slab;
use crate::stream::{Conn, ListenerSlot};
use crate::topology::Topology;
use crate::trace::{self, DropReason, Tag};
use crate::{Datagram, LinkProfile, NetError, PartitionId};

/// Bounds and timeouts of the network (see the builder for each).
#[derive(Clone, Debug)]
pub(crate) struct Limits {
    pub(crate) datagram_size_max: usize,
    pub(crate) inbox_datagrams_max: usize,
    pub(crate) in_flight_max: usize,
    pub(crate) stream_timeout: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) retransmit_timeout: Duration,
    pub(crate) stream_window: usize,
    pub(crate) segment_bytes_max: usize,
    pub(crate) backlog_max: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            datagram_size_max: 65_507,
            inbox_datagrams_max: 4096,
            in_flight_max: 1_000_000,
            stream_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
            retransmit_timeout: Duration::from_millis(200),
            stream_window: 256 * 1024,
            segment_bytes_max: 64 * 1024,
            backlog_max: 128,
        }
    }
}

/// The network's view of one node.
pub(crate) struct NodeNet {
    pub(crate) id: NodeId,
    pub(crate) name: Rc<str>,
    pub(crate) up: bool,
    /// Listening stream sockets: port → listener slot.
    pub(crate) tcp: FxHashMap<u16, u32>,
    /// Stream ports in use by listeners and connections.
    pub(crate) tcp_used: BTreeSet<u16>,
    pub(crate) ephemeral_next: u16,
    /// The node's edge (uplink) profile.
    pub(crate) edge: Option<Rc<LinkProfile>>,
    /// The edge profile's up/down schedule, shared by all the node's links.
    pub(crate) schedule: Option<Box<Schedule>>,
}

pub(crate) const EPHEMERAL_FIRST: u16 = 49152;

impl NodeNet {
    pub(crate) fn new(id: NodeId, name: Rc<str>) -> NodeNet {
        NodeNet {
            id,
            name,
            up: true,
            tcp: FxHashMap::default(),
            tcp_used: BTreeSet::new(),
            ephemeral_next: EPHEMERAL_FIRST,
            edge: None,
            schedule: None,
        }
    }
}

/// Link profiles by precedence: explicit link, edge of the source, edge of
/// the target, the topology's matrix, the default.
pub(crate) struct Profiles {
    pub(crate) default: Rc<LinkProfile>,
    pub(crate) loopback: Rc<LinkProfile>,
    pub(crate) links: BTreeMap<(NodeId, NodeId), Rc<LinkProfile>>,
    /// Bumped on every change, so links re-resolve lazily.
    pub(crate) generation: u32,
}

pub(crate) struct State {
    pub(crate) handle: SimHandle,
    pub(crate) limits: Limits,
    pub(crate) nodes: Vec<NodeNet>,
    pub(crate) links: Vec<Vec<Link>>,
    pub(crate) profiles: Profiles,
    pub(crate) topology: Topology,
    pub(crate) rules: BTreeMap<PartitionId, Rule>,
    pub(crate) partition_next: u64,
    pub(crate) clogs: Clogs,
    pub(crate) flights: Flights,
    pub(crate) sockets: Slab<SocketSlot>,
    /// Bound datagram sockets: (node index, port) → socket slot (one map
    /// for the whole network: one allocation, not one per node).
    pub(crate) udp: FxHashMap<(u32, u16), u32>,
    pub(crate) listeners: Slab<ListenerSlot>,
    pub(crate) conns: BTreeMap<u64, Conn>,
    pub(crate) conn_next: u64,
    /// The number of the last message sent (trace ids, from 1).
    pub(crate) message_next: u64,
    /// Per link, the plan's active link changes and the explicit profile
    /// from before the first of them (restored when the last one ends).
    pub(crate) plan_links: BTreeMap<(NodeId, NodeId), (u32, Option<LinkProfile>)>,
    /// Emptied link rows and socket inboxes, reused before allocating
    /// (handed to the next network on this thread, see `recycle`).
    pub(crate) spare_rows: Vec<Vec<Link>>,
    pub(crate) spare_inboxes: Vec<VecDeque<Datagram>>,
    /// Released datagram bindings, each held by nothing else, rewritten for
    /// the sockets bound next (handed to the next network on this thread).
    pub(crate) spare_bounds: Vec<Rc<Bound>>,
    /// Emptied datagram payloads that `recv_from` copied out, for the
    /// datagrams sent next (see [`State::payload_of`]).
    pub(crate) spare_payloads: Vec<Vec<u8>>,
}

impl Drop for State {
    fn drop(&mut self) {
        crate::Net::forget(self.handle);
        let (flights, run) = self.flights.take_buffers();
        let mut rows = std::mem::take(&mut self.spare_rows);
        let mut links = std::mem::take(&mut self.links);
        rows.extend(links.drain(..).rev());
        let mut inboxes = std::mem::take(&mut self.spare_inboxes);
        let sockets = self.sockets.take_buffer();
        let mut nodes = std::mem::take(&mut self.nodes);
        nodes.clear();
        inboxes.truncate(crate::recycle::KEPT_MAX);
        crate::recycle::keep(crate::recycle::Buffers {
            nodes,
            links,
            rows,
            sockets,
            udp: std::mem::take(&mut self.udp),
            flights,
            run,
            inboxes,
            payloads: std::mem::take(&mut self.spare_payloads),
            bounds: std::mem::take(&mut self.spare_bounds),
        });
    }
}

/// The world timer's callback: captures nothing, finds the network again.
fn fire() {
    if let Some(net) = crate::Net::of(detsim::handle()) {
        net.fire();
    }
}

impl State {
    // ----- small helpers -----

    #[inline]
    pub(crate) fn now(&self) -> u64 {
        self.handle.now().as_nanos()
    }

    #[inline]
    pub(crate) fn emit(&self, name: &'static str, tag: Tag, reason: Option<DropReason>) {
        let nodes = &self.nodes;
        trace::emit(
            self.handle,
            &|i| {
                nodes
                    .get(i)
                    .map_or_else(|| format!("node#{i}"), |n| n.name.to_string())
            },
            name,
            tag,
            reason,
        );
    }

    /// A datagram's own copy of `bytes`, in a spare buffer if one is at hand.
    #[inline]
    pub(crate) fn payload_of(&mut self, bytes: &[u8]) -> Vec<u8> {
        match self.spare_payloads.pop() {
            Some(mut payload) => {
                payload.extend_from_slice(bytes);
                payload
            }
            None => bytes.to_vec(),
        }
    }

    /// Keeps a delivered payload's buffer for a later datagram, emptied,
    /// unless it is big or enough are kept already.
    #[inline]
    pub(crate) fn keep_payload(&mut self, mut payload: Vec<u8>) {
        if payload.capacity() <= crate::recycle::PAYLOAD_BYTES_MAX
            && self.spare_payloads.len() < crate::recycle::PAYLOADS_KEPT
        {
            payload.clear();
            self.spare_payloads.push(payload);
        }
    }

    pub(crate) fn node_added(&mut self, node: NodeId, name: Rc<str>) {
        assert_eq!(
            node.index(),
            self.nodes.len(),
            "detsim-net bug: nodes are not added in index order"
        );
        self.nodes.push(NodeNet::new(node, name));
    }

    pub(crate) fn check_node(&self, node: NodeId) -> Result<(), NetError> {
        match self.nodes.get(node.index()) {
            Some(known) if known.id.same_world(node) => Ok(()),
            Some(_) => Err(NetError::InvalidConfig(
                detsim::SimError::ForeignNode(node.to_string()).to_string(),
            )),
            None => Err(NetError::UnknownNode(node.to_string())),
        }
    }

    // ----- links -----

    /// Makes sure `links[s][d]` exists and follows the current profiles.
    #[inline]
    pub(crate) fn ensure_link(&mut self, s: usize, d: usize, now: u64) {
        while self.links.len() <= s {
            let row = self.spare_rows.pop().unwrap_or_default();
            self.links.push(row);
        }
        if self.links[s].len() <= d {
            // Unresolved links share the default profile until they resolve.
            let default = &self.profiles.default;
            self.links[s].resize_with(d + 1, || Link::unresolved(default.clone()));
        }
        if self.links[s][d].generation != self.profiles.generation {
            self.resolve_link(s, d, now);
        }
    }

    #[cold]
    fn resolve_link(&mut self, s: usize, d: usize, now: u64) {
        let (source, target) = (self.nodes[s].id, self.nodes[d].id);
        let fresh = self.links[s][d].generation == u32::MAX;
        let (profile, own_schedule) = self.profile_for(source, target);
        let generation = self.profiles.generation;
        let handle = self.handle;
        let nodes = &self.nodes;
        let link = &mut self.links[s][d];
        // The stream's name is built only if the profile draws from it.
        link.apply(
            profile,
            generation,
            now,
            own_schedule,
            &|| stream_name(&nodes[s].name, &nodes[d].name),
            handle,
        );
        if fresh {
            let topology = &self.topology;
            self.links[s][d].cut = !self.rules.is_empty()
                && self
                    .rules
                    .values()
                    .any(|r| r.blocks(source, target, topology));
        }
    }

    /// The profile of `source → target`, and whether the link keeps its own
    /// up/down schedule (an edge profile's schedule belongs to the node).
    fn profile_for(&self, source: NodeId, target: NodeId) -> (Rc<LinkProfile>, bool) {
        if let Some(p) = self.profiles.links.get(&(source, target)) {
            return (p.clone(), true);
        }
        if source == target {
            return (self.profiles.loopback.clone(), true);
        }
        for node in [source, target] {
            if let Some(p) = &self.nodes[node.index()].edge {
                return (p.clone(), false);
            }
        }
        if let Some(p) = self.topology.profile(source, target) {
            return (p, true);
        }
        (self.profiles.default.clone(), true)
    }

    /// Whether `s → d` is up at `now`, and its outage count.
    fn updown(&mut self, s: usize, d: usize, now: u64) -> (bool, u32) {
        let mut up = true;
        let mut downs = 0u32;
        if let Some(schedule) = self.links[s][d].schedule.as_mut() {
            up &= schedule.up_at(now);
            downs = downs.wrapping_add(schedule.downs);
        }
        let ends = [s, d];
        for &n in if s == d { &ends[..1] } else { &ends[..] } {
            if let Some(schedule) = self.nodes[n].schedule.as_mut() {
                up &= schedule.up_at(now);
                downs = downs.wrapping_add(schedule.downs);
            }
        }
        (up, downs)
    }

    fn has_schedule(&self, s: usize, d: usize) -> bool {
        self.links[s][d].schedule.is_some()
            || self.nodes[s].schedule.is_some()
            || self.nodes[d].schedule.is_some()
    }

    /// Recomputes every existing link's cut flag after the rules changed; a
    /// link that becomes cut starts a new cut epoch.
    pub(crate) fn recompute_cuts(&mut self) {
        let topology = &self.topology;
        let rules = &self.rules;
        let nodes = &self.nodes;
        for (s, row) in self.links.iter_mut().enumerate() {
            for (d, link) in row.iter_mut().enumerate() {
                if link.generation == u32::MAX {
                    continue;
                }
                let (source, target) = (nodes[s].id, nodes[d].id);
                let cut = rules.values().any(|r| r.blocks(source, target, topology));
                if cut && !link.cut {
                    link.cut_epoch = link.cut_epoch.wrapping_add(1);
                }
                link.cut = cut;
            }
        }
        self.watch_stream_cuts();
    }

    /// Whether `source → target` is cut now.
    pub(crate) fn is_cut(&mut self, source: NodeId, target: NodeId) -> bool {
        let now = self.now();
        self.ensure_link(source.index(), target.index(), now);
        self.links[source.index()][target.index()].cut
    }

    // ----- the send path -----

    /// A message leaves its socket: the link model decides its fate.
    #[inline]
    pub(crate) fn route(&mut self, now: u64, mut f: Flight) {
        if f.id == 0 {
            self.message_next += 1;
            f.id = self.message_next;
        }
        self.emit(trace::SEND, f.tag(), None);
        let (s, d) = (f.source.node.index(), f.target.node.index());
        self.ensure_link(s, d, now);
        let link = &mut self.links[s][d];
        f.cut_epoch = link.cut_epoch;
        if link.cut {
            return self.lost(now, f, DropReason::Partition);
        }
        if link.plain {
            let mut at = now.saturating_add(link.delay);
            if link.profile.fifo {
                at = at.max(link.last_arrival);
                link.last_arrival = at;
            }
            return self.enqueue(at, f);
        }
        self.route_slow(now, f);
    }

    /// The link model with its features on: outages, loss, bandwidth,
    /// jitter, Byzantine faults, duplication.
    #[cold]
    fn route_slow(&mut self, now: u64, mut f: Flight) {
        let (s, d) = (f.source.node.index(), f.target.node.index());
        if self.has_schedule(s, d) {
            let (up, downs) = self.updown(s, d, now);
            f.down_epoch = downs;
            if !up {
                return self.lost(now, f, DropReason::LinkDown);
            }
        }
        let handle = self.handle;
        let stream = || stream_name(&self.nodes[s].name, &self.nodes[d].name);
        let shaped = shape(&mut self.links[s][d], &stream, handle, now, &mut f);
        match shaped {
            Err(reason) => self.lost(now, f, reason),
            Ok(shaped) => {
                if shaped.corrupted {
                    self.emit(trace::CORRUPT, f.tag(), None);
                }
                self.enqueue(shaped.at, f);
                for (at, copy, event) in shaped.extra {
                    self.emit(event, copy.tag(), None);
                    self.enqueue(at, copy);
                }
            }
        }
    }

    /// Puts a message on the delivery queue and arms the timer if it is the earliest.
    #[inline]
    pub(crate) fn enqueue(&mut self, at: u64, f: Flight) {
        assert!(
            self.flights.len() < self.limits.in_flight_max,
            "detsim-net: more than {} messages in flight (in_flight_max): a protocol is flooding \
             the network, or raise the bound with `NetBuilder::in_flight_max`",
            self.limits.in_flight_max
        );
        self.flights.push(at, f);
        match self.flights.armed {
            Some((armed, _)) if armed <= at => {}
            _ => self.arm(at),
        }
    }

    fn arm(&mut self, at: u64) {
        if let Some((_, timer)) = self.flights.armed.take() {
            self.handle.cancel(timer);
        }
        let timer = self.handle.call_at(Instant::from_nanos(at), None, fire);
        self.flights.armed = Some((at, timer));
    }

    /// The timer fired: deliver everything due now.
    pub(crate) fn fire(&mut self) {
        self.flights.armed = None;
        let now = self.now();
        while let Some(f) = self.flights.pop_due(now) {
            self.arrive(now, f);
        }
        if let Some(next) = self.flights.next_at() {
            if self.flights.armed.is_none_or(|(armed, _)| next < armed) {
                self.arm(next);
            }
        }
    }

    /// A message the network lost: datagrams are gone; stream messages are
    /// retransmitted (TCP) until their timeout.
    pub(crate) fn lost(&mut self, now: u64, f: Flight, reason: DropReason) {
        self.emit(trace::DROP, f.tag(), Some(reason));
        if f.what != What::Datagram {
            self.retransmit(now, f);
        }
    }

    // ----- the arrival path -----

    /// A message reaches the end of its link.
    #[inline]
    pub(crate) fn arrive(&mut self, now: u64, mut f: Flight) {
        if f.resend {
            f.resend = false;
            return self.route(now, f);
        }
        let (s, d) = (f.source.node.index(), f.target.node.index());
        if !self.nodes[d].up {
            self.emit(trace::DROP, f.tag(), Some(DropReason::NodeDown));
            return;
        }
        let link = &self.links[s][d];
        if link.cut || link.cut_epoch != f.cut_epoch {
            return self.lost(now, f, DropReason::Partition);
        }
        if !link.plain && self.has_schedule(s, d) {
            let (up, downs) = self.updown(s, d, now);
            if !up || downs != f.down_epoch {
                return self.lost(now, f, DropReason::LinkDown);
            }
        }
        if !self.clogs.is_empty() && self.clogs.clogged(f.source.node, f.target.node) {
            self.emit(trace::HOLD, f.tag(), None);
            self.clogs.held.push(f);
            return;
        }
        match f.what {
            What::Datagram => self.deliver_datagram(f),
            _ => self.deliver_stream(now, f),
        }
    }

    // ----- clogs -----

    /// Releases every held message whose link is no longer clogged, in a
    /// seeded order (FIFO links and streams keep their order).
    pub(crate) fn release(&mut self) {
        let now = self.now();
        let held = std::mem::take(&mut self.clogs.held);
        let (free, still): (Vec<Flight>, Vec<Flight>) = held
            .into_iter()
            .partition(|f| !self.clogs.clogged(f.source.node, f.target.node));
        self.clogs.held = still;
        if free.is_empty() {
            return;
        }
        let ordered_links: Vec<bool> = free
            .iter()
            .map(|f| {
                f.what != What::Datagram
                    || self
                        .links
                        .get(f.source.node.index())
                        .and_then(|row| row.get(f.target.node.index()))
                        .is_some_and(|l| l.profile.fifo)
            })
            .collect();
        let order = self.clogs.release_order(&free, &ordered_links, self.handle);
        let mut free: Vec<Option<Flight>> = free.into_iter().map(Some).collect();
        for i in order {
            let f = free[i].take().expect("release order is a permutation");
            self.emit(trace::RELEASE, f.tag(), None);
            self.enqueue(now, f);
        }
    }
}

/// The name of the random stream of the link `source → target`.
fn stream_name(source: &str, target: &str) -> String {
    format!("net/link/{source}->{target}")
}

/// The outcome of the link model for one datagram or segment.
struct Shaped {
    at: u64,
    /// Copies to send too: duplicates and replays, with their event name.
    extra: Vec<(u64, Flight, &'static str)>,
    corrupted: bool,
}

/// Draws loss, queueing, delay, Byzantine faults and duplication for `f` on `link`.
fn shape(
    link: &mut Link,
    stream: &dyn Fn() -> String,
    handle: SimHandle,
    now: u64,
    f: &mut Flight,
) -> Result<Shaped, DropReason> {
    let profile = link.profile.clone();
    if profile.loss > 0.0 && link.rng(stream, handle).chance(profile.loss) {
        return Err(DropReason::Loss);
    }
    let mut depart = now;
    if let Some(bandwidth) = profile.bandwidth {
        let start = link.busy_until.max(now);
        let queued = u128::from(start - now) * u128::from(bandwidth) / 1_000_000_000;
        if queued > 0 && queued + f.payload.len() as u128 > u128::from(profile.queue_bytes_max) {
            return Err(DropReason::QueueFull);
        }
        let wire = (f.payload.len() as u128 * 1_000_000_000).div_ceil(u128::from(bandwidth));
        depart = start.saturating_add(u64::try_from(wire).unwrap_or(u64::MAX));
        link.busy_until = depart;
    }
    let draw = |link: &mut Link| {
        let delay = if profile.latency.is_random() {
            profile.latency.sample(link.rng(stream, handle))
        } else {
            link.delay
        };
        let mut at = depart.saturating_add(delay);
        if profile.fifo {
            at = at.max(link.last_arrival);
            link.last_arrival = at;
        }
        at
    };
    let at = draw(link);
    let mut shaped = Shaped {
        at,
        extra: Vec::new(),
        corrupted: false,
    };
    if f.what != What::Datagram {
        // Streams are protected by their transport: no duplicates, no corruption.
        return Ok(shaped);
    }
    let byzantine = profile.byzantine;
    if byzantine.replay > 0.0 {
        let kept = link.replay.as_ref().map_or(0, |k| k.len());
        if kept > 0 && link.rng(stream, handle).chance(byzantine.replay) {
            let i = link.rng(stream, handle).below(kept as u64) as usize;
            let payload = link.replay.as_ref().expect("kept > 0")[i].clone();
            let copy = Flight {
                hash: trace::hash32(&payload),
                payload,
                ..f.clone_header()
            };
            let at = draw(link);
            shaped.extra.push((at, copy, trace::REPLAY));
        }
        let kept = link.replay.get_or_insert_with(Default::default);
        if kept.len() == REPLAY_KEPT_MAX {
            kept.pop_front();
        }
        kept.push_back(f.payload.clone());
    }
    if byzantine.flip > 0.0
        && !f.payload.is_empty()
        && link.rng(stream, handle).chance(byzantine.flip)
    {
        let bit = link.rng(stream, handle).below(f.payload.len() as u64 * 8);
        f.payload[(bit / 8) as usize] ^= 1 << (bit % 8);
        shaped.corrupted = true;
    }
    if byzantine.truncate > 0.0
        && !f.payload.is_empty()
        && link.rng(stream, handle).chance(byzantine.truncate)
    {
        let len = link.rng(stream, handle).below(f.payload.len() as u64) as usize;
        f.payload.truncate(len);
        shaped.corrupted = true;
    }
    if shaped.corrupted {
        f.hash = trace::hash32(&f.payload);
    }
    if profile.duplicate > 0.0 && link.rng(stream, handle).chance(profile.duplicate) {
        let copy = Flight {
            payload: f.payload.clone(),
            ..f.clone_header()
        };
        let at = draw(link);
        shaped.extra.push((at, copy, trace::DUPLICATE));
    }
    Ok(shaped)
}

impl Flight {
    /// The same message header (addresses, kind, epochs) with an empty payload.
    pub(crate) fn clone_header(&self) -> Flight {
        Flight {
            source: self.source,
            target: self.target,
            what: self.what,
            conn: self.conn,
            payload: Vec::new(),
            hash: self.hash,
            cut_epoch: self.cut_epoch,
            down_epoch: self.down_epoch,
            first_sent: self.first_sent,
            resend: false,
            id: self.id,
        }
    }
}
