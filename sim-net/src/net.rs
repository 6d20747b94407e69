//! [`Net`]: the network extension of a world, and every model change that
//! can be made while the world runs.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::fmt;
use std::rc::{Rc, Weak};

use detsim::{AsNode, Extension, NodeEvent, NodeId, SimHandle};

use crate::link::Schedule;
use crate::partition::Rule;
use crate::state::State;
use crate::{
    Addr, LinkProfile, NetBuilder, NetError, Partition, PartitionId, TcpListener, TcpStream,
    ToAddr, UdpSocket,
};

/// The simulated network of a world: an [`Extension`] installed with
/// [`Net::builder`], found again with [`Net::current`] (or
/// `handle.extension::<Net>()`).
///
/// `Net` is a cheap handle (clone it freely). Besides binding sockets, it
/// changes the model while the world runs: link profiles, placement,
/// partitions, clogs. Every change takes effect at once and is a trace
/// event. Outside a run, call these inside [`Sim::enter`](detsim::Sim::enter).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use detsim::{Seed, Sim, time};
/// use detsim_net::{Net, UdpSocket};
///
/// let mut sim = Sim::new(Seed::new(1));
/// let net = Net::builder().install(&mut sim).unwrap();
/// sim.add_node("a", |_| async {
///     let socket = UdpSocket::bind(1).unwrap();
///     loop {
///         socket.send_to(b"tick", "b:1").unwrap();
///         time::sleep(Duration::from_millis(100)).await;
///     }
/// }).unwrap();
/// sim.add_node("b", |_| async {
///     let socket = UdpSocket::bind(1).unwrap();
///     loop { socket.recv().await.unwrap(); }
/// }).unwrap();
/// sim.run(async move {
///     time::sleep(Duration::from_secs(1)).await;
///     let cut = net.isolate("b").unwrap();
///     assert!(!net.reaches("a", "b").unwrap());
///     time::sleep(Duration::from_secs(1)).await;
///     net.heal(cut).unwrap();
///     assert!(net.reaches("a", "b").unwrap());
/// }).unwrap();
/// ```
#[derive(Clone)]
pub struct Net {
    pub(crate) state: Rc<RefCell<State>>,
}

impl fmt::Debug for Net {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.state.try_borrow() {
            Ok(state) => f
                .debug_struct("Net")
                .field("nodes", &state.nodes.len())
                .field("in_flight", &state.flights.len())
                .field("partitions", &state.rules.len())
                .finish(),
            Err(_) => f.write_str("Net { .. }"),
        }
    }
}

impl Extension for Net {
    fn validate_fault(&self, fault: &detsim::Fault) -> Option<Result<(), String>> {
        self.validate_plan_fault(fault)
    }

    fn apply_fault(&self, fault: &detsim::Fault) -> detsim::FaultOutcome {
        self.apply_plan_fault(fault)
    }

    fn on_node_added(&self, node: NodeId, name: &Rc<str>) {
        let mut state = self.state.borrow_mut();
        state.node_added(node, name.clone());
        if !state.rules.is_empty() {
            state.recompute_cuts();
        }
    }

    fn on_node_event(&self, node: NodeId, event: NodeEvent) {
        let mut state = self.state.borrow_mut();
        match event {
            NodeEvent::Added => {
                let name = state
                    .handle
                    .node_name_shared(node)
                    .expect("the world tells of its own nodes");
                drop(state);
                self.on_node_added(node, &name);
            }
            NodeEvent::Crash => {
                state.nodes[node.index()].up = false;
                state.close_datagram_sockets(node);
                state.reset_node_streams(node);
            }
            NodeEvent::Restart => state.nodes[node.index()].up = true,
            NodeEvent::Pause | NodeEvent::Resume => {}
        }
    }
}

thread_local! {
    /// The last network found or installed on this thread, with its world:
    /// finding it again costs a comparison instead of a search of the
    /// world's extensions. World ids are never reused, and a network stays
    /// installed until its world is dropped (when it forgets itself here),
    /// so a match is always the running world's own network.
    static LAST: RefCell<Option<(SimHandle, Weak<RefCell<State>>)>> =
        const { RefCell::new(None) };
}

fn resolve(handle: &SimHandle, node: impl AsNode) -> Result<NodeId, NetError> {
    node.resolve(handle).map_err(|e| match e {
        detsim::SimError::UnknownNode(name) => NetError::UnknownNode(name),
        other => NetError::InvalidConfig(other.to_string()),
    })
}

impl Net {
    /// A builder with the default configuration.
    pub fn builder() -> NetBuilder {
        NetBuilder::default()
    }

    /// The network of the world running on this thread.
    ///
    /// # Errors
    ///
    /// [`NetError::OutsideSimulation`] outside a world,
    /// [`NetError::NotInstalled`] if none was installed.
    pub fn current() -> Result<Net, NetError> {
        Net::current_for("Net::current")
    }

    /// [`Net::current`], naming `api` when no simulation runs.
    pub(crate) fn current_for(api: &'static str) -> Result<Net, NetError> {
        let handle = SimHandle::try_current().ok_or(NetError::OutsideSimulation(api))?;
        Net::of(handle).ok_or(NetError::NotInstalled)
    }

    /// The network installed in `handle`'s world (the running one): from
    /// this thread's last network when it is that world's, else looked up
    /// among the world's extensions.
    #[inline]
    pub(crate) fn of(handle: SimHandle) -> Option<Net> {
        let cached = LAST.with(|last| match &*last.borrow() {
            Some((world, state)) if *world == handle => state.upgrade(),
            _ => None,
        });
        if let Some(state) = cached {
            return Some(Net { state });
        }
        let net = (*handle.extension::<Net>()?).clone();
        net.remember();
        Some(net)
    }

    /// Makes this the network [`Net::of`] finds first for its world.
    pub(crate) fn remember(&self) {
        let Ok(handle) = self.state.try_borrow().map(|state| state.handle) else {
            return;
        };
        let _ = LAST.try_with(|last| {
            if let Ok(mut last) = last.try_borrow_mut() {
                *last = Some((handle, Rc::downgrade(&self.state)));
            }
        });
    }

    /// Forgets `handle`'s network (it is being dropped).
    pub(crate) fn forget(handle: SimHandle) {
        let _ = LAST.try_with(|last| {
            if let Ok(mut last) = last.try_borrow_mut() {
                if last.as_ref().is_some_and(|(world, _)| *world == handle) {
                    *last = None;
                }
            }
        });
    }

    pub(crate) fn fire(&self) {
        self.state.borrow_mut().fire();
    }

    fn handle(&self) -> SimHandle {
        self.state.borrow().handle
    }

    pub(crate) fn node(&self, node: impl AsNode) -> Result<NodeId, NetError> {
        resolve(&self.handle(), node)
    }

    /// Binds a datagram socket on the calling task's node (see [`UdpSocket::bind`]).
    ///
    /// # Errors
    ///
    /// As [`UdpSocket::bind`].
    pub fn bind(&self, port: u16) -> Result<UdpSocket, NetError> {
        UdpSocket::bind_in(self, port)
    }

    /// Listens for streams on the calling task's node (see [`TcpListener::bind`]).
    ///
    /// # Errors
    ///
    /// As [`TcpListener::bind`].
    pub fn listen(&self, port: u16) -> Result<TcpListener, NetError> {
        TcpListener::bind_in(self, port)
    }

    /// Connects a stream from the calling task's node (see [`TcpStream::connect`]).
    ///
    /// # Errors
    ///
    /// As [`TcpStream::connect`].
    pub async fn connect(&self, target: impl ToAddr) -> Result<TcpStream, NetError> {
        let target = target.to_addr()?;
        TcpStream::connect_in(self, target).await
    }

    /// Resolves `node:port` text (see [`Addr::resolve`]).
    ///
    /// # Errors
    ///
    /// As [`Addr::resolve`].
    pub fn resolve(&self, text: &str) -> Result<Addr, NetError> {
        Addr::resolve(text)
    }

    /// Messages on the wire now (in flight, not held by a clog).
    pub fn in_flight(&self) -> usize {
        self.state.borrow().flights.len()
    }

    // ----- link profiles -----

    fn profile_changed(state: &mut State, what: impl FnOnce(&State) -> String) {
        state.profiles.generation = state.profiles.generation.wrapping_add(1);
        if state.profiles.generation == u32::MAX {
            state.profiles.generation = 0;
        }
        let args = [u64::from(state.profiles.generation), 0, 0, 0];
        let state = &*state;
        state.handle.emit(None, "net.profile", args, || what(state));
    }

    /// Sets the default profile.
    ///
    /// # Errors
    ///
    /// [`NetError::InvalidConfig`] for an invalid profile.
    pub fn set_default_link(&self, profile: LinkProfile) -> Result<(), NetError> {
        profile.validate()?;
        let mut state = self.state.borrow_mut();
        state.profiles.default = Rc::new(profile);
        Net::profile_changed(&mut state, |_| "default link profile changed".into());
        Ok(())
    }

    /// Sets (or with `None` removes) the profile of the directed link `from → to`.
    ///
    /// # Errors
    ///
    /// [`NetError::UnknownNode`], [`NetError::InvalidConfig`].
    pub fn set_link(
        &self,
        from: impl AsNode,
        to: impl AsNode,
        profile: Option<LinkProfile>,
    ) -> Result<(), NetError> {
        let (from, to) = (self.node(from)?, self.node(to)?);
        if let Some(p) = &profile {
            p.validate()?;
        }
        let mut state = self.state.borrow_mut();
        match profile {
            Some(p) => state.profiles.links.insert((from, to), Rc::new(p)),
            None => state.profiles.links.remove(&(from, to)),
        };
        Net::profile_changed(&mut state, |state| {
            format!(
                "link {} -> {} profile changed",
                state.nodes[from.index()].name,
                state.nodes[to.index()].name
            )
        });
        Ok(())
    }

    /// Sets (or removes) a node's edge profile (see [`NetBuilder::edge`]).
    ///
    /// # Errors
    ///
    /// [`NetError::UnknownNode`], [`NetError::InvalidConfig`].
    pub fn set_edge(
        &self,
        node: impl AsNode,
        profile: Option<LinkProfile>,
    ) -> Result<(), NetError> {
        let node = self.node(node)?;
        if let Some(p) = &profile {
            p.validate()?;
        }
        self.state.borrow_mut().set_edge(node, profile.map(Rc::new));
        Ok(())
    }

    /// Places `node` in `zone` (for nodes added after install, or to move one).
    ///
    /// # Errors
    ///
    /// [`NetError::UnknownNode`], [`NetError::UnknownZone`].
    pub fn place(&self, node: impl AsNode, zone: &str) -> Result<(), NetError> {
        let node = self.node(node)?;
        let mut state = self.state.borrow_mut();
        let zone = state.topology.zone(zone)?;
        state.topology.place(node, zone);
        Net::profile_changed(&mut state, |_| "placement changed".into());
        if !state.rules.is_empty() {
            state.recompute_cuts();
        }
        Ok(())
    }

    /// Sets (or removes) the profile between two zones.
    ///
    /// # Errors
    ///
    /// [`NetError::UnknownZone`], [`NetError::InvalidConfig`].
    pub fn set_zone_link(
        &self,
        a: &str,
        b: &str,
        profile: Option<LinkProfile>,
    ) -> Result<(), NetError> {
        if let Some(p) = &profile {
            p.validate()?;
        }
        let mut state = self.state.borrow_mut();
        let (a, b) = (state.topology.zone(a)?, state.topology.zone(b)?);
        state.topology.set_zone_pair(a, b, profile.map(Rc::new));
        Net::profile_changed(&mut state, |_| "zone link profile changed".into());
        Ok(())
    }

    /// Sets (or removes) the profile between two regions.
    ///
    /// # Errors
    ///
    /// [`NetError::UnknownRegion`], [`NetError::InvalidConfig`].
    pub fn set_region_link(
        &self,
        a: &str,
        b: &str,
        profile: Option<LinkProfile>,
    ) -> Result<(), NetError> {
        if let Some(p) = &profile {
            p.validate()?;
        }
        let mut state = self.state.borrow_mut();
        let (a, b) = (state.topology.region(a)?, state.topology.region(b)?);
        state.topology.set_region_pair(a, b, profile.map(Rc::new));
        Net::profile_changed(&mut state, |_| "region link profile changed".into());
        Ok(())
    }

    /// The profile `from → to` uses now.
    ///
    /// # Errors
    ///
    /// [`NetError::UnknownNode`].
    pub fn link_profile(
        &self,
        from: impl AsNode,
        to: impl AsNode,
    ) -> Result<LinkProfile, NetError> {
        let (from, to) = (self.node(from)?, self.node(to)?);
        let mut state = self.state.borrow_mut();
        let now = state.now();
        state.ensure_link(from.index(), to.index(), now);
        Ok((*state.links[from.index()][to.index()].profile).clone())
    }

    // ----- partitions -----

    /// Starts a partition; returns its id for [`Net::heal`].
    ///
    /// Rule for messages already in flight: a message is lost if its link
    /// is cut at any moment between its send and its arrival (even if the
    /// cut has healed by then). Stream segments are retransmitted instead;
    /// a stream whose link stays cut for longer than the stream timeout breaks.
    ///
    /// # Errors
    ///
    /// [`NetError::UnknownNode`], [`NetError::UnknownZone`],
    /// [`NetError::UnknownRegion`] for names that do not exist;
    /// [`NetError::InvalidConfig`] for an empty side or a node on two sides.
    pub fn partition(&self, partition: Partition) -> Result<PartitionId, NetError> {
        let handle = self.handle();
        let set = |names: &[String]| -> Result<BTreeSet<NodeId>, NetError> {
            if names.is_empty() {
                return Err(NetError::InvalidConfig(format!(
                    "partition {partition}: a side has no node"
                )));
            }
            names.iter().map(|n| resolve(&handle, n.as_str())).collect()
        };
        let disjoint = |a: &BTreeSet<NodeId>, b: &BTreeSet<NodeId>| {
            if a.is_disjoint(b) {
                Ok(())
            } else {
                Err(NetError::InvalidConfig(format!(
                    "partition {partition}: a node is on two sides"
                )))
            }
        };
        let mut state = self.state.borrow_mut();
        let rule = match &partition {
            Partition::Split(groups) => {
                if groups.len() < 2 {
                    return Err(NetError::InvalidConfig(format!(
                        "partition {partition}: a split needs at least two groups"
                    )));
                }
                let groups: Vec<BTreeSet<NodeId>> =
                    groups.iter().map(|g| set(g)).collect::<Result<_, _>>()?;
                for (i, a) in groups.iter().enumerate() {
                    for b in &groups[i + 1..] {
                        disjoint(a, b)?;
                    }
                }
                Rule::Split(groups)
            }
            Partition::Isolate(node) => Rule::Isolate(resolve(&handle, node.as_str())?),
            Partition::OneWay { from, to } => {
                let (from, to) = (set(from)?, set(to)?);
                disjoint(&from, &to)?;
                Rule::OneWay(from, to)
            }
            Partition::Partial { a, b } => {
                let (a, b) = (set(a)?, set(b)?);
                disjoint(&a, &b)?;
                Rule::Partial(a, b)
            }
            Partition::Zone(zone) => Rule::Zone(state.topology.zone(zone)?),
            Partition::Region(region) => Rule::Region(state.topology.region(region)?),
        };
        let id = PartitionId(state.partition_next);
        state.partition_next += 1;
        state.rules.insert(id, rule);
        state.handle.emit(
            None,
            "net.partition",
            [id.0, partition.kind_code(), 0, 0],
            || format!("{id} starts: {partition}"),
        );
        state.recompute_cuts();
        Ok(id)
    }

    /// Splits the nodes into groups that cannot reach each other.
    ///
    /// # Errors
    ///
    /// As [`Net::partition`].
    pub fn split(&self, groups: &[&[&str]]) -> Result<PartitionId, NetError> {
        self.partition(Partition::split(groups.iter().map(|g| g.iter())))
    }

    /// Cuts `node` from every other node, both ways.
    ///
    /// # Errors
    ///
    /// As [`Net::partition`].
    pub fn isolate(&self, node: &str) -> Result<PartitionId, NetError> {
        self.partition(Partition::Isolate(node.to_owned()))
    }

    /// Cuts traffic from `from` to `to`; the reverse direction still flows.
    ///
    /// # Errors
    ///
    /// As [`Net::partition`].
    pub fn cut_one_way(&self, from: &[&str], to: &[&str]) -> Result<PartitionId, NetError> {
        self.partition(Partition::one_way(from, to))
    }

    /// Cuts `a` from `b` both ways while both still reach every other node.
    ///
    /// # Errors
    ///
    /// As [`Net::partition`].
    pub fn partial(&self, a: &[&str], b: &[&str]) -> Result<PartitionId, NetError> {
        self.partition(Partition::partial(a, b))
    }

    /// Cuts a zone off from every node outside it.
    ///
    /// # Errors
    ///
    /// As [`Net::partition`].
    pub fn cut_zone(&self, zone: &str) -> Result<PartitionId, NetError> {
        self.partition(Partition::Zone(zone.to_owned()))
    }

    /// Cuts a region off from every node outside it.
    ///
    /// # Errors
    ///
    /// As [`Net::partition`].
    pub fn cut_region(&self, region: &str) -> Result<PartitionId, NetError> {
        self.partition(Partition::Region(region.to_owned()))
    }

    /// Ends one partition.
    ///
    /// # Errors
    ///
    /// [`NetError::UnknownPartition`] if it is not active.
    pub fn heal(&self, id: PartitionId) -> Result<(), NetError> {
        let mut state = self.state.borrow_mut();
        if state.rules.remove(&id).is_none() {
            return Err(NetError::UnknownPartition(id.0));
        }
        state
            .handle
            .emit(None, "net.heal", [id.0, 0, 0, 0], || format!("{id} healed"));
        state.recompute_cuts();
        Ok(())
    }

    /// Ends every partition.
    pub fn heal_all(&self) {
        let mut state = self.state.borrow_mut();
        let count = state.rules.len() as u64;
        state.rules.clear();
        state.handle.emit(None, "net.heal", [0, count, 0, 0], || {
            format!("all {count} partitions healed")
        });
        state.recompute_cuts();
    }

    /// Whether no partition cuts `from → to` now.
    ///
    /// # Errors
    ///
    /// [`NetError::UnknownNode`].
    pub fn reaches(&self, from: impl AsNode, to: impl AsNode) -> Result<bool, NetError> {
        let (from, to) = (self.node(from)?, self.node(to)?);
        Ok(!self.state.borrow_mut().is_cut(from, to))
    }

    /// The active partitions.
    pub fn partitions(&self) -> Vec<PartitionId> {
        self.state.borrow().rules.keys().copied().collect()
    }

    // ----- clogs -----

    fn clog_event(
        state: &State,
        what: &'static str,
        args: [u64; 4],
        text: impl FnOnce(&State) -> String,
    ) {
        state.handle.emit(None, what, args, || text(state));
    }

    /// Holds every message arriving on `from → to` until unclogged.
    ///
    /// # Errors
    ///
    /// [`NetError::UnknownNode`].
    pub fn clog_link(&self, from: impl AsNode, to: impl AsNode) -> Result<(), NetError> {
        let (from, to) = (self.node(from)?, self.node(to)?);
        let mut state = self.state.borrow_mut();
        state.clogs.links.insert((from, to));
        Net::clog_event(
            &state,
            "net.clog",
            [from.index() as u64, to.index() as u64, 0, 0],
            |state| {
                format!(
                    "clog {} -> {}",
                    state.nodes[from.index()].name,
                    state.nodes[to.index()].name
                )
            },
        );
        Ok(())
    }

    /// Releases `from → to` (messages held because of another clog stay held).
    ///
    /// # Errors
    ///
    /// [`NetError::UnknownNode`].
    pub fn unclog_link(&self, from: impl AsNode, to: impl AsNode) -> Result<(), NetError> {
        let (from, to) = (self.node(from)?, self.node(to)?);
        let mut state = self.state.borrow_mut();
        state.clogs.links.remove(&(from, to));
        Net::clog_event(
            &state,
            "net.unclog",
            [from.index() as u64, to.index() as u64, 0, 0],
            |state| {
                format!(
                    "unclog {} -> {}",
                    state.nodes[from.index()].name,
                    state.nodes[to.index()].name
                )
            },
        );
        state.release();
        Ok(())
    }

    /// Holds every message to and from `node` until unclogged.
    ///
    /// # Errors
    ///
    /// [`NetError::UnknownNode`].
    pub fn clog_node(&self, node: impl AsNode) -> Result<(), NetError> {
        let node = self.node(node)?;
        let mut state = self.state.borrow_mut();
        state.clogs.nodes.insert(node);
        Net::clog_event(
            &state,
            "net.clog",
            [node.index() as u64, u64::MAX, 0, 0],
            |state| format!("clog node {}", state.nodes[node.index()].name),
        );
        Ok(())
    }

    /// Releases a clogged node.
    ///
    /// # Errors
    ///
    /// [`NetError::UnknownNode`].
    pub fn unclog_node(&self, node: impl AsNode) -> Result<(), NetError> {
        let node = self.node(node)?;
        let mut state = self.state.borrow_mut();
        state.clogs.nodes.remove(&node);
        Net::clog_event(
            &state,
            "net.unclog",
            [node.index() as u64, u64::MAX, 0, 0],
            |state| format!("unclog node {}", state.nodes[node.index()].name),
        );
        state.release();
        Ok(())
    }

    /// Releases every clog.
    pub fn unclog_all(&self) {
        let mut state = self.state.borrow_mut();
        state.clogs.links.clear();
        state.clogs.nodes.clear();
        Net::clog_event(&state, "net.unclog", [u64::MAX, u64::MAX, 0, 0], |_| {
            "unclog all".into()
        });
        state.release();
    }

    /// Messages held by clogs now.
    pub fn held(&self) -> usize {
        self.state.borrow().clogs.held.len()
    }
}

impl State {
    pub(crate) fn set_edge(&mut self, node: NodeId, profile: Option<Rc<LinkProfile>>) {
        let now = self.now();
        let stream = format!("net/edge/{}/updown", self.nodes[node.index()].name);
        let schedule = profile
            .as_ref()
            .and_then(|p| p.intermittent)
            .map(|spec| Box::new(Schedule::new(self.handle.stream_rng(&stream), spec, now)));
        let entry = &mut self.nodes[node.index()];
        entry.edge = profile;
        entry.schedule = schedule;
        Net::profile_changed(self, |state| {
            format!("edge profile of {} changed", state.nodes[node.index()].name)
        });
    }
}
