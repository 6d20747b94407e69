//! [`NetBuilder`]: the network's configuration, validated when installed.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

use detsim::{Sim, SimHandle};

use crate::clog::Clogs;
use crate::flight::Flights;
use crate::slab::Slab;
use crate::state::{Limits, Profiles, State};
use crate::topology::Topology;
use crate::{Latency, LinkProfile, Net, NetError};

/// Configures the simulated network; [`NetBuilder::install`] validates
/// everything and installs it in a world.
///
/// Names (nodes, zones, regions) are checked at install time, against the
/// nodes the world has then; nodes added later are placed with
/// [`Net::place`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use detsim::{Seed, Sim};
/// use detsim_net::{Latency, LinkProfile, Net, NetError};
///
/// let mut sim = Sim::new(Seed::new(1));
/// for name in ["a", "b", "c"] {
///     sim.add_node(name, |_| async {}).unwrap();
/// }
/// let net = Net::builder()
///     .default_link(LinkProfile::lan())
///     .link("a", "b", LinkProfile::default().loss(0.1))
///     .region("eu")
///     .region("us")
///     .zone("eu-1", "eu")
///     .zone("us-1", "us")
///     .place("a", "eu-1")
///     .place("c", "us-1")
///     .across_regions(LinkProfile::wan())
///     .install(&mut sim)
///     .unwrap();
/// # let _ = net;
///
/// let mut other = Sim::new(Seed::new(1));
/// other.add_node("a", |_| async {}).unwrap();
/// let error = Net::builder().place("a", "mars-1").install(&mut other).unwrap_err();
/// assert_eq!(error, NetError::UnknownZone("mars-1".into()));
/// ```
#[derive(Clone, Debug, Default)]
#[must_use = "a builder does nothing until installed"]
pub struct NetBuilder {
    /// `None`: [`LinkProfile::default`], shared without comparing it.
    default_link: Option<LinkProfile>,
    /// `None`: [`default_loopback`], shared without comparing it.
    loopback: Option<LinkProfile>,
    links: Vec<(String, String, LinkProfile)>,
    edges: Vec<(String, LinkProfile)>,
    regions: Vec<String>,
    zones: Vec<(String, String)>,
    placements: Vec<(String, String)>,
    zone_links: Vec<(String, String, LinkProfile)>,
    region_links: Vec<(String, String, LinkProfile)>,
    within_zone: Option<LinkProfile>,
    within_region: Option<LinkProfile>,
    across_regions: Option<LinkProfile>,
    limits: Limits,
}

/// The loopback profile a builder starts with: constant 10 µs, FIFO.
fn default_loopback() -> LinkProfile {
    LinkProfile::default()
        .latency(Latency::Constant(Duration::from_micros(10)))
        .fifo(true)
}

thread_local! {
    /// The default link and loopback profiles, validated, made once per
    /// thread: most networks keep both, and need not compare them.
    static DEFAULTS: std::cell::OnceCell<(Rc<LinkProfile>, Rc<LinkProfile>)> =
        const { std::cell::OnceCell::new() };

    /// The profiles the last networks on this thread validated, shared:
    /// the worlds of a sweep build the same network again and again.
    static PROFILES: std::cell::RefCell<Vec<Rc<LinkProfile>>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// How many validated profiles a thread keeps for the next networks.
const PROFILES_KEPT: usize = 4;

/// `profile`, validated, behind an `Rc`: the one of an earlier network on
/// this thread if it is equal (a profile is plain data, never changed once
/// made, so sharing it is invisible), else a new one.
fn shared_profile(profile: LinkProfile) -> Result<Rc<LinkProfile>, NetError> {
    let kept = PROFILES
        .try_with(|kept| {
            let kept = kept.try_borrow().ok()?;
            kept.iter().find(|p| identical(p, &profile)).cloned()
        })
        .ok()
        .flatten();
    if let Some(kept) = kept {
        return Ok(kept);
    }
    profile.validate()?;
    let profile = Rc::new(profile);
    let _ = PROFILES.try_with(|kept| {
        if let Ok(mut kept) = kept.try_borrow_mut() {
            if kept.len() == PROFILES_KEPT {
                kept.remove(0);
            }
            kept.push(profile.clone());
        }
    });
    Ok(profile)
}

/// The default link and loopback profiles, shared by the networks of this
/// thread (plain data, never changed once made: sharing is invisible).
fn default_profiles() -> (Rc<LinkProfile>, Rc<LinkProfile>) {
    let make = || {
        let (default, loopback) = (LinkProfile::default(), default_loopback());
        debug_assert!(default.validate().is_ok() && loopback.validate().is_ok());
        (Rc::new(default), Rc::new(loopback))
    };
    DEFAULTS
        .try_with(|defaults| defaults.get_or_init(make).clone())
        .unwrap_or_else(|_| make())
}

/// Whether two profiles are the same bit for bit (`==` calls `-0.0` and
/// `0.0` equal, which a profile's `Debug` would tell apart; a NaN never
/// passes validation, so it is never kept).
fn identical(a: &LinkProfile, b: &LinkProfile) -> bool {
    fn same(x: f64, y: f64) -> bool {
        x.to_bits() == y.to_bits()
    }
    fn same_latency(x: &Latency, y: &Latency) -> bool {
        match (x, y) {
            (Latency::LogNormal { sigma: s, .. }, Latency::LogNormal { sigma: t, .. }) => {
                same(*s, *t)
            }
            (Latency::Pareto { shape: s, .. }, Latency::Pareto { shape: t, .. }) => same(*s, *t),
            _ => true,
        }
    }
    a == b
        && same(a.loss, b.loss)
        && same(a.duplicate, b.duplicate)
        && same(a.byzantine.flip, b.byzantine.flip)
        && same(a.byzantine.truncate, b.byzantine.truncate)
        && same(a.byzantine.replay, b.byzantine.replay)
        && same_latency(&a.latency, &b.latency)
        && match (&a.intermittent, &b.intermittent) {
            (Some(x), Some(y)) => same_latency(&x.up, &y.up) && same_latency(&x.down, &y.down),
            _ => true,
        }
}

impl NetBuilder {
    /// The profile of every link nothing else configures (default: a
    /// perfect link with a constant 1 ms delay).
    pub fn default_link(mut self, profile: LinkProfile) -> NetBuilder {
        self.default_link = Some(profile);
        self
    }

    /// The profile of a node's link to itself (default: constant 10 µs,
    /// FIFO). Partitions and clogs never affect it.
    pub fn loopback(mut self, profile: LinkProfile) -> NetBuilder {
        self.loopback = Some(profile);
        self
    }

    /// The profile of the directed link `from → to` (highest precedence).
    pub fn link(mut self, from: &str, to: &str, profile: LinkProfile) -> NetBuilder {
        self.links.push((from.into(), to.into(), profile));
        self
    }

    /// The profile of both directions between `a` and `b`.
    pub fn link_both(self, a: &str, b: &str, profile: LinkProfile) -> NetBuilder {
        self.link(a, b, profile.clone()).link(b, a, profile)
    }

    /// An edge (uplink) profile: every link to and from `node` uses it
    /// unless a link profile is set. Its intermittent schedule belongs to
    /// the node: when it is down, all of the node's links are down.
    pub fn edge(mut self, node: &str, profile: LinkProfile) -> NetBuilder {
        self.edges.push((node.into(), profile));
        self
    }

    /// Defines a region.
    pub fn region(mut self, name: &str) -> NetBuilder {
        self.regions.push(name.into());
        self
    }

    /// Defines a zone in a region.
    pub fn zone(mut self, name: &str, region: &str) -> NetBuilder {
        self.zones.push((name.into(), region.into()));
        self
    }

    /// Places a node in a zone.
    pub fn place(mut self, node: &str, zone: &str) -> NetBuilder {
        self.placements.push((node.into(), zone.into()));
        self
    }

    /// The profile between two zones (both ways; `a == b`: within the zone).
    pub fn zone_link(mut self, a: &str, b: &str, profile: LinkProfile) -> NetBuilder {
        self.zone_links.push((a.into(), b.into(), profile));
        self
    }

    /// The profile between two regions (both ways; `a == b`: across zones of the region).
    pub fn region_link(mut self, a: &str, b: &str, profile: LinkProfile) -> NetBuilder {
        self.region_links.push((a.into(), b.into(), profile));
        self
    }

    /// The profile between two nodes of the same zone (a LAN).
    pub fn within_zone(mut self, profile: LinkProfile) -> NetBuilder {
        self.within_zone = Some(profile);
        self
    }

    /// The profile between two zones of the same region.
    pub fn within_region(mut self, profile: LinkProfile) -> NetBuilder {
        self.within_region = Some(profile);
        self
    }

    /// The profile between two regions (a WAN).
    pub fn across_regions(mut self, profile: LinkProfile) -> NetBuilder {
        self.across_regions = Some(profile);
        self
    }

    /// The largest datagram, in bytes (default 65 507, UDP's).
    pub fn datagram_size_max(mut self, bytes: usize) -> NetBuilder {
        self.limits.datagram_size_max = bytes;
        self
    }

    /// Datagrams a socket's inbox holds before arrivals are dropped (default 4096).
    pub fn inbox_datagrams_max(mut self, count: usize) -> NetBuilder {
        self.limits.inbox_datagrams_max = count;
        self
    }

    /// Messages in flight at most; more fails the run loudly (default 1 000 000).
    pub fn in_flight_max(mut self, count: usize) -> NetBuilder {
        self.limits.in_flight_max = count;
        self
    }

    /// How long a partition (or an undeliverable segment) may last before
    /// a stream breaks with [`NetError::TimedOut`] (default 10 s).
    pub fn stream_timeout(mut self, timeout: Duration) -> NetBuilder {
        self.limits.stream_timeout = timeout;
        self
    }

    /// How long a connection attempt may go unanswered (default 5 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> NetBuilder {
        self.limits.connect_timeout = timeout;
        self
    }

    /// How long a stream waits before retransmitting a lost segment (default 200 ms).
    pub fn retransmit_timeout(mut self, timeout: Duration) -> NetBuilder {
        self.limits.retransmit_timeout = timeout;
        self
    }

    /// Bytes a stream writer may have unread by its peer (default 256 KiB).
    pub fn stream_window(mut self, bytes: usize) -> NetBuilder {
        self.limits.stream_window = bytes;
        self
    }

    /// Connections a listener queues before refusing more (default 128).
    pub fn backlog_max(mut self, count: usize) -> NetBuilder {
        self.limits.backlog_max = count;
        self
    }

    /// Validates the configuration and installs the network in `sim`.
    ///
    /// # Errors
    ///
    /// [`NetError::InvalidConfig`] for a bad profile or limit (a
    /// probability outside [0, 1], a NaN, a zero bandwidth or bound),
    /// [`NetError::UnknownNode`], [`NetError::UnknownZone`],
    /// [`NetError::UnknownRegion`] for names that do not exist, and
    /// [`NetError::InvalidConfig`] if a network is already installed.
    #[inline]
    pub fn install(self, sim: &mut Sim) -> Result<Net, NetError> {
        // Borrowed into the closure: the builder is big, and is not copied.
        let mut builder = self;
        sim.enter(|handle| builder.install_taken(handle))
    }

    /// Like [`NetBuilder::install`], from inside a running world.
    ///
    /// # Errors
    ///
    /// As [`NetBuilder::install`].
    pub fn install_in(mut self, handle: SimHandle) -> Result<Net, NetError> {
        self.install_taken(handle)
    }

    /// [`NetBuilder::install_in`], taking the configuration out of `self`.
    fn install_taken(&mut self, handle: SimHandle) -> Result<Net, NetError> {
        let net = Net {
            state: self.build(handle)?,
        };
        handle
            .install(Rc::new(net.clone()))
            .map_err(|_| NetError::InvalidConfig("the network is already installed".into()))?;
        net.remember();
        Ok(net)
    }

    /// The network's state, made in its final place (it is big: every move
    /// is a copy).
    fn build(&mut self, handle: SimHandle) -> Result<Rc<RefCell<State>>, NetError> {
        let limits = self.limits.clone();
        for (what, value) in [
            ("datagram_size_max", limits.datagram_size_max),
            ("inbox_datagrams_max", limits.inbox_datagrams_max),
            ("in_flight_max", limits.in_flight_max),
            ("stream_window", limits.stream_window),
            ("backlog_max", limits.backlog_max),
        ] {
            if value == 0 {
                return Err(NetError::InvalidConfig(format!(
                    "{what} must be above zero"
                )));
            }
        }
        for (what, value) in [
            ("stream_timeout", limits.stream_timeout),
            ("connect_timeout", limits.connect_timeout),
            ("retransmit_timeout", limits.retransmit_timeout),
        ] {
            if value.is_zero() {
                return Err(NetError::InvalidConfig(format!(
                    "{what} must be above zero"
                )));
            }
        }
        let validated = shared_profile;
        let (default, loopback) = default_profiles();
        let default = match self.default_link.take() {
            Some(profile) => validated(profile)?,
            None => default,
        };
        let loopback = match self.loopback.take() {
            Some(profile) => validated(profile)?,
            None => loopback,
        };
        let spare = crate::recycle::take();
        let net = Rc::new(RefCell::new(State {
            handle,
            limits,
            nodes: spare.nodes,
            links: spare.links,
            profiles: Profiles {
                default,
                loopback,
                links: BTreeMap::new(),
                generation: 0,
            },
            topology: Topology::default(),
            rules: BTreeMap::new(),
            partition_next: 1,
            clogs: Clogs::default(),
            flights: Flights::with_buffers(spare.flights, spare.run),
            sockets: Slab::with_buffer(spare.sockets),
            udp: spare.udp,
            listeners: Slab::default(),
            conns: BTreeMap::new(),
            conn_next: 0,
            message_next: 0,
            plan_links: BTreeMap::new(),
            spare_rows: spare.rows,
            spare_inboxes: spare.inboxes,
            spare_bounds: spare.bounds,
            spare_payloads: spare.payloads,
        }));
        let mut state = net.borrow_mut();
        for node in handle.nodes() {
            let name = handle
                .node_name(node)
                .expect("the world lists its own nodes");
            state.node_added(node, Rc::from(name));
        }
        let node = |name: &str| {
            handle
                .node(name)
                .map_err(|_| NetError::UnknownNode(name.to_owned()))
        };
        for (from, to, profile) in std::mem::take(&mut self.links) {
            let key = (node(&from)?, node(&to)?);
            state.profiles.links.insert(key, validated(profile)?);
        }
        for (name, profile) in std::mem::take(&mut self.edges) {
            let id = node(&name)?;
            state.set_edge(id, Some(validated(profile)?));
        }
        for region in &self.regions {
            state.topology.add_region(region)?;
        }
        for (zone, region) in &self.zones {
            state.topology.add_zone(zone, region)?;
        }
        for (name, zone) in &self.placements {
            let id = node(name)?;
            let zone = state.topology.zone(zone)?;
            state.topology.place(id, zone);
        }
        for (a, b, profile) in std::mem::take(&mut self.zone_links) {
            let (a, b) = (state.topology.zone(&a)?, state.topology.zone(&b)?);
            state
                .topology
                .set_zone_pair(a, b, Some(validated(profile)?));
        }
        for (a, b, profile) in std::mem::take(&mut self.region_links) {
            let (a, b) = (state.topology.region(&a)?, state.topology.region(&b)?);
            state
                .topology
                .set_region_pair(a, b, Some(validated(profile)?));
        }
        state.topology.within_zone = self.within_zone.take().map(validated).transpose()?;
        state.topology.within_region = self.within_region.take().map(validated).transpose()?;
        state.topology.across_regions = self.across_regions.take().map(validated).transpose()?;
        drop(state);
        Ok(net)
    }
}
