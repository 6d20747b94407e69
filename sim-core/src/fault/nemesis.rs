//! Chaos generators: a seed and some rates in, a fault plan out.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{Fault, LinkChange, Plan, PlanEntry};
use crate::{Seed, SimRng};

/// What a nemesis can aim at: the nodes, and the zones and regions they are in.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Topology {
    /// Every node that may be hit, by name.
    pub nodes: Vec<String>,
    /// Zones and their nodes (for zone outages).
    #[serde(default)]
    pub zones: BTreeMap<String, Vec<String>>,
    /// Regions and their nodes (for region outages).
    #[serde(default)]
    pub regions: BTreeMap<String, Vec<String>>,
}

impl Topology {
    /// A topology of these nodes, without zones or regions.
    pub fn nodes<S: Into<String>>(nodes: impl IntoIterator<Item = S>) -> Topology {
        Topology {
            nodes: nodes.into_iter().map(Into::into).collect(),
            ..Topology::default()
        }
    }
}

/// The kinds of fault a nemesis draws from, each with a weight.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NemesisKind {
    /// Chaos Monkey: crash a node, restart it later.
    Crash,
    /// A GC stall: pause a node, resume it later.
    Pause,
    /// Jump a node's clock forwards or backwards, then back.
    ClockJump,
    /// Make a node's clock drift, then stop.
    ClockDrift,
    /// Split the nodes into two random halves.
    PartitionHalves,
    /// Every node sees a majority, no two the same one (Jepsen's majorities ring).
    PartitionMajorityRing,
    /// Two halves joined by one bridge node that sees both.
    PartitionBridge,
    /// Cut one node off.
    Isolate,
    /// Lose one direction of one link.
    OneWay,
    /// Cut one pair of nodes; both still reach the others (a partial partition).
    PartialPartition,
    /// Hold the traffic of one node, then release it late (swizzle).
    Clog,
    /// Latency Monkey: add latency to one link.
    LatencySpike,
    /// Chaos Kong's little brother: cut a whole zone off.
    ZoneOutage,
    /// Chaos Kong: cut a whole region off.
    RegionOutage,
    /// Corrupt data at rest on one node's disk.
    DiskCorrupt,
    /// Reads, writes or fsyncs of one disk fail now and then.
    DiskErrors,
    /// One disk is full.
    DiskFull,
    /// One disk is much slower.
    DiskSlow,
}

impl NemesisKind {
    /// Every kind.
    pub const ALL: [NemesisKind; 18] = [
        NemesisKind::Crash,
        NemesisKind::Pause,
        NemesisKind::ClockJump,
        NemesisKind::ClockDrift,
        NemesisKind::PartitionHalves,
        NemesisKind::PartitionMajorityRing,
        NemesisKind::PartitionBridge,
        NemesisKind::Isolate,
        NemesisKind::OneWay,
        NemesisKind::PartialPartition,
        NemesisKind::Clog,
        NemesisKind::LatencySpike,
        NemesisKind::ZoneOutage,
        NemesisKind::RegionOutage,
        NemesisKind::DiskCorrupt,
        NemesisKind::DiskErrors,
        NemesisKind::DiskFull,
        NemesisKind::DiskSlow,
    ];

    /// The process and network kinds (no disk faults): the first fourteen of [`NemesisKind::ALL`].
    pub const PROCESS_AND_NETWORK: &'static [NemesisKind] = NemesisKind::ALL.split_at(14).0;

    fn takes_down(self) -> bool {
        matches!(
            self,
            NemesisKind::Crash | NemesisKind::Pause | NemesisKind::Isolate
        )
    }
}

/// A chaos generator: turns a seed into a [`Plan`] of faults drawn with the
/// given weights, inside a window, with bounds, and then a quiet period in
/// which everything has healed (so liveness can be checked).
///
/// [`Nemesis::default()`]: every process and network kind
/// ([`NemesisKind::PROCESS_AND_NETWORK`], no disk faults) equally weighted;
/// faults from 1 s to 30 s; one every 2 s on average; each lasting 0.5–5 s;
/// at most one node crashed, paused or isolated at a time. Its `Display`
/// prints the settings in words.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use detsim::{Nemesis, Seed, Topology};
/// use detsim::NemesisKind;
///
/// let nemesis = Nemesis::default()
///     .kinds(&[NemesisKind::Crash, NemesisKind::PartitionHalves])
///     .window(Duration::from_secs(1), Duration::from_secs(30))
///     .max_down(1);
/// let topology = Topology::nodes(["n1", "n2", "n3"]);
/// let plan = nemesis.plan(Seed::new(7), &topology);
/// assert!(!plan.is_empty());
/// assert_eq!(plan, nemesis.plan(Seed::new(7), &topology), "a function of the seed");
/// assert!(plan.quiet_from() <= Duration::from_secs(30));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Nemesis {
    /// Kinds and their relative weights (default: the process and network
    /// kinds, weight 1 each).
    pub weights: BTreeMap<NemesisKind, f64>,
    /// Faults start at or after this instant (default 1 s).
    pub start: Duration,
    /// Every fault has ended by this instant: the quiet period starts here
    /// (default 30 s).
    pub end: Duration,
    /// Mean time between two fault starts, exponentially distributed
    /// (default 2 s).
    pub interval_mean: Duration,
    /// Shortest duration of a fault (default 500 ms).
    pub duration_min: Duration,
    /// Longest duration of a fault (default 5 s).
    pub duration_max: Duration,
    /// Never more than this many nodes crashed, paused or isolated at once
    /// (default 1).
    pub down_max: usize,
}

impl Default for Nemesis {
    /// Process and network faults of every kind, equally weighted, from 1 s
    /// to 30 s, one every 2 s on average, lasting 0.5–5 s, at most one node
    /// down at a time.
    fn default() -> Nemesis {
        Nemesis {
            weights: NemesisKind::PROCESS_AND_NETWORK
                .iter()
                .map(|k| (*k, 1.0))
                .collect(),
            start: Duration::from_secs(1),
            end: Duration::from_secs(30),
            interval_mean: Duration::from_secs(2),
            duration_min: Duration::from_millis(500),
            duration_max: Duration::from_secs(5),
            down_max: 1,
        }
    }
}

impl std::fmt::Display for Nemesis {
    /// `kinds Crash, Pause×3, …; faults from 1s to 30s, one every 2s on
    /// average, lasting 500ms–5s; at most 1 node down at once`
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use super::plan::human_duration::describe;
        let kinds: Vec<String> = self
            .weights
            .iter()
            .filter(|(_, w)| **w > 0.0)
            .map(|(kind, w)| {
                if *w == 1.0 {
                    format!("{kind:?}")
                } else {
                    format!("{kind:?}×{w}")
                }
            })
            .collect();
        write!(
            f,
            "kinds {}; faults from {} to {}, one every {} on average, lasting {}–{}; at most {} node{} down at once",
            if kinds.is_empty() {
                "none".to_owned()
            } else {
                kinds.join(", ")
            },
            describe(self.start),
            describe(self.end),
            describe(self.interval_mean),
            describe(self.duration_min),
            describe(self.duration_max),
            self.down_max,
            if self.down_max == 1 { "" } else { "s" },
        )
    }
}

impl Nemesis {
    /// Only these kinds, equally weighted.
    pub fn kinds(mut self, kinds: &[NemesisKind]) -> Nemesis {
        self.weights = kinds.iter().map(|k| (*k, 1.0)).collect();
        self
    }

    /// Sets one kind's weight (0 disables it).
    pub fn weight(mut self, kind: NemesisKind, weight: f64) -> Nemesis {
        self.weights.insert(kind, weight.max(0.0));
        self
    }

    /// Faults only between `start` and `end`.
    pub fn window(mut self, start: Duration, end: Duration) -> Nemesis {
        self.start = start;
        self.end = end.max(start);
        self
    }

    /// Mean time between fault starts.
    pub fn interval(mut self, mean: Duration) -> Nemesis {
        self.interval_mean = mean.max(Duration::from_millis(1));
        self
    }

    /// Fault durations between `min` and `max`.
    pub fn durations(mut self, min: Duration, max: Duration) -> Nemesis {
        self.duration_min = min.max(Duration::from_millis(1));
        self.duration_max = max.max(self.duration_min);
        self
    }

    /// At most `count` nodes crashed, paused or isolated at once.
    pub fn max_down(mut self, count: usize) -> Nemesis {
        self.down_max = count;
        self
    }

    /// The plan for `seed`, drawn from the seed's `nemesis` stream.
    pub fn plan(&self, seed: Seed, topology: &Topology) -> Plan {
        self.generate(&mut SimRng::stream(seed, "nemesis"), topology)
    }

    /// Draws a plan from `rng`.
    pub fn generate(&self, rng: &mut SimRng, topology: &Topology) -> Plan {
        let kinds: Vec<(NemesisKind, f64)> = self
            .enabled_kinds(topology)
            .into_iter()
            .map(|k| (k, self.weights[&k]))
            .collect();
        let total: f64 = kinds.iter().map(|(_, w)| w).sum();
        let mut entries = Vec::new();
        let mut admit = Admit::new(self.down_max);
        let mut at = self.start;
        if kinds.is_empty() || topology.nodes.len() < 2 {
            return Plan::new(entries);
        }
        loop {
            let gap = -(1.0 - rng.unit_f64()).ln() * self.interval_mean.as_secs_f64();
            at += Duration::from_secs_f64(gap.min(1e6));
            if at >= self.end {
                break;
            }
            let mut pick = rng.unit_f64() * total;
            let kind = kinds
                .iter()
                .find(|(_, w)| {
                    pick -= w;
                    pick < 0.0
                })
                .map_or(kinds[kinds.len() - 1].0, |(k, _)| *k);
            let span = self
                .duration_max
                .saturating_sub(self.duration_min)
                .as_nanos() as u64;
            let duration = self.duration_min
                + Duration::from_nanos(if span == 0 { 0 } else { rng.below(span + 1) });
            let duration = duration.min(self.end - at);
            if duration.is_zero() {
                continue;
            }
            let Some(fault) = draw(kind, rng, topology) else {
                continue;
            };
            if let Some(entry) = admit.entry(kind, fault, at, duration) {
                entries.push(entry);
            }
        }
        Plan::new(entries)
    }

    /// The kinds this nemesis can draw for `topology`, in a fixed order.
    pub fn enabled_kinds(&self, topology: &Topology) -> Vec<NemesisKind> {
        self.weights
            .iter()
            .filter(|(kind, weight)| **weight > 0.0 && applicable(**kind, topology))
            .map(|(k, _)| *k)
            .collect()
    }

    /// A plan from raw draws `(kind index, draw seed, start in [0,1), duration
    /// in [0,1))`, as a property-testing strategy produces them: each draw maps
    /// to one entry inside the window, and draws that would break `down_max`
    /// are dropped. Removing a draw removes exactly its entry, which is what
    /// makes such plans shrink well.
    pub fn assemble(&self, draws: &[(usize, u64, f64, f64)], topology: &Topology) -> Plan {
        let kinds = self.enabled_kinds(topology);
        let mut admit = Admit::new(self.down_max);
        let mut entries = Vec::new();
        if kinds.is_empty() || topology.nodes.len() < 2 {
            return Plan::new(entries);
        }
        let window = self.end.saturating_sub(self.start);
        for (kind, draw_seed, start, length) in draws {
            let kind = kinds[kind % kinds.len()];
            let at = self.start + window.mul_f64(start.clamp(0.0, 0.999_999));
            let span = self.duration_max.saturating_sub(self.duration_min);
            let duration =
                (self.duration_min + span.mul_f64(length.clamp(0.0, 1.0))).min(self.end - at);
            if duration.is_zero() {
                continue;
            }
            let mut rng = SimRng::stream(Seed::new(*draw_seed), "nemesis/entry");
            let Some(fault) = draw(kind, &mut rng, topology) else {
                continue;
            };
            if let Some(entry) = admit.entry(kind, fault, at, duration) {
                entries.push(entry);
            }
        }
        Plan::new(entries)
    }

    /// Swarm testing (Groce et al.): a nemesis for this seed with a random
    /// subset of this one's kinds (each kept with probability ½, at least
    /// one) and their weights and the fault rate scaled at random, so
    /// different seeds stress different corners.
    pub fn swarm(&self, seed: Seed) -> Nemesis {
        let mut rng = SimRng::stream(seed, "swarm");
        let mut swarm = self.clone();
        let enabled: Vec<NemesisKind> = self
            .weights
            .iter()
            .filter(|(_, w)| **w > 0.0)
            .map(|(k, _)| *k)
            .collect();
        if enabled.is_empty() {
            return swarm;
        }
        let keep: Vec<bool> = enabled.iter().map(|_| rng.chance(0.5)).collect();
        let forced = rng.below(enabled.len() as u64) as usize;
        for (i, kind) in enabled.iter().enumerate() {
            if keep[i] || (i == forced && !keep.iter().any(|k| *k)) {
                let scale = 0.2 + rng.unit_f64() * 4.8;
                *swarm.weights.get_mut(kind).expect("enabled kind") *= scale;
            } else {
                swarm.weights.insert(*kind, 0.0);
            }
        }
        swarm.interval_mean = self.interval_mean.mul_f64(0.5 + rng.unit_f64() * 1.5);
        swarm
    }
}

/// A swarm of nemeses: one per seed. See [`Nemesis::swarm`].
#[derive(Clone, Debug, PartialEq)]
pub struct Swarm {
    /// The nemesis whose kinds and rates are sampled.
    pub base: Nemesis,
}

impl Swarm {
    /// A swarm over `base`'s kinds.
    pub fn new(base: Nemesis) -> Swarm {
        Swarm { base }
    }

    /// The plan for `seed`: the seed's nemesis, then its plan.
    pub fn plan(&self, seed: Seed, topology: &Topology) -> Plan {
        self.base.swarm(seed).plan(seed, topology)
    }
}

/// Keeps the bound on nodes down at once while entries are drawn.
struct Admit {
    down_max: usize,
    /// Intervals during which a node is crashed, paused or isolated.
    down: Vec<(Duration, Duration, String)>,
}

impl Admit {
    fn new(down_max: usize) -> Admit {
        Admit {
            down_max,
            down: Vec::new(),
        }
    }

    fn entry(
        &mut self,
        kind: NemesisKind,
        fault: Fault,
        at: Duration,
        duration: Duration,
    ) -> Option<PlanEntry> {
        // Whole milliseconds: plans read well, in words and as JSON.
        let at = Duration::from_millis(at.as_millis() as u64);
        let duration = Duration::from_millis((duration.as_millis() as u64).max(1));
        if kind.takes_down() {
            let node = fault.nodes()[0].to_owned();
            let overlapping: Vec<&(Duration, Duration, String)> = self
                .down
                .iter()
                .filter(|(s, e, _)| *s < at + duration && at < *e)
                .collect();
            if overlapping.len() >= self.down_max || overlapping.iter().any(|(_, _, n)| *n == node)
            {
                return None;
            }
            self.down.push((at, at + duration, node));
        }
        let lasting = !matches!(fault, Fault::DiskCorrupt { .. });
        Some(PlanEntry::new(at, fault, lasting.then_some(duration)))
    }
}

fn applicable(kind: NemesisKind, topology: &Topology) -> bool {
    match kind {
        NemesisKind::ZoneOutage => !topology.zones.is_empty(),
        NemesisKind::RegionOutage => !topology.regions.is_empty(),
        NemesisKind::PartitionMajorityRing => topology.nodes.len() >= 5,
        NemesisKind::PartitionBridge => topology.nodes.len() >= 3,
        _ => true,
    }
}

fn pick<'a>(rng: &mut SimRng, items: &'a [String]) -> &'a String {
    &items[rng.below(items.len() as u64) as usize]
}

fn shuffled(rng: &mut SimRng, items: &[String]) -> Vec<String> {
    let mut items = items.to_vec();
    for i in (1..items.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        items.swap(i, j);
    }
    items
}

fn two(rng: &mut SimRng, nodes: &[String]) -> (String, String) {
    let a = rng.below(nodes.len() as u64) as usize;
    let b = (a + 1 + rng.below(nodes.len() as u64 - 1) as usize) % nodes.len();
    (nodes[a].clone(), nodes[b].clone())
}

fn draw(kind: NemesisKind, rng: &mut SimRng, topology: &Topology) -> Option<Fault> {
    let nodes = &topology.nodes;
    let node = |rng: &mut SimRng| pick(rng, nodes).clone();
    Some(match kind {
        NemesisKind::Crash => Fault::Crash { node: node(rng) },
        NemesisKind::Pause => Fault::Pause { node: node(rng) },
        NemesisKind::ClockJump => {
            let magnitude = 1 + rng.below(5_000_000_000) as i64;
            let delta_ns = if rng.chance(0.5) {
                magnitude
            } else {
                -magnitude
            };
            Fault::ClockJump {
                node: node(rng),
                delta_ns,
            }
        }
        NemesisKind::ClockDrift => {
            let ppm = 1 + rng.below(5_000) as i64;
            let ppm = if rng.chance(0.5) { ppm } else { -ppm };
            Fault::ClockDrift {
                node: node(rng),
                ppm,
            }
        }
        NemesisKind::PartitionHalves => {
            let order = shuffled(rng, nodes);
            let (a, b) = order.split_at(order.len() / 2);
            Fault::Partition {
                groups: vec![a.to_vec(), b.to_vec()],
            }
        }
        NemesisKind::PartitionMajorityRing => {
            let ring = shuffled(rng, nodes);
            let n = ring.len();
            let majority = n / 2 + 1;
            let reach = (majority - 1).div_ceil(2);
            let mut pairs = Vec::new();
            for i in 0..n {
                for j in i + 1..n {
                    let distance = (j - i).min(n - (j - i));
                    if distance > reach {
                        pairs.push((ring[i].clone(), ring[j].clone()));
                    }
                }
            }
            Fault::CutLinks { pairs }
        }
        NemesisKind::PartitionBridge => {
            let order = shuffled(rng, nodes);
            let bridge = order.len() / 2;
            let (left, right) = (&order[..bridge], &order[bridge + 1..]);
            let pairs = left
                .iter()
                .flat_map(|a| right.iter().map(move |b| (a.clone(), b.clone())))
                .collect();
            Fault::CutLinks { pairs }
        }
        NemesisKind::Isolate => Fault::Isolate { node: node(rng) },
        NemesisKind::OneWay => {
            let (from, to) = two(rng, nodes);
            Fault::OneWay { from, to }
        }
        NemesisKind::PartialPartition => {
            let (a, b) = two(rng, nodes);
            Fault::CutLinks {
                pairs: vec![(a, b)],
            }
        }
        NemesisKind::Clog => Fault::ClogNode { node: node(rng) },
        NemesisKind::LatencySpike => {
            let (from, to) = two(rng, nodes);
            let extra = Duration::from_millis(50 + rng.below(450));
            Fault::Link {
                from,
                to,
                change: LinkChange {
                    extra_latency: Some(extra),
                    ..LinkChange::default()
                },
            }
        }
        NemesisKind::ZoneOutage => {
            let zones: Vec<String> = topology.zones.keys().cloned().collect();
            Fault::ZoneOutage {
                zone: pick(rng, &zones).clone(),
            }
        }
        NemesisKind::RegionOutage => {
            let regions: Vec<String> = topology.regions.keys().cloned().collect();
            Fault::RegionOutage {
                region: pick(rng, &regions).clone(),
            }
        }
        NemesisKind::DiskCorrupt => Fault::DiskCorrupt {
            node: node(rng),
            file: None,
        },
        NemesisKind::DiskErrors => {
            let node = node(rng);
            // Rates a real disk could have, exaggerated enough to matter in a short run.
            let probability = 0.001 + rng.unit_f64() * 0.05;
            match rng.below(3) {
                0 => Fault::DiskReadErrors { node, probability },
                1 => Fault::DiskWriteErrors { node, probability },
                _ => Fault::DiskFsyncErrors { node, probability },
            }
        }
        NemesisKind::DiskFull => Fault::DiskFull { node: node(rng) },
        NemesisKind::DiskSlow => Fault::DiskSlow {
            node: node(rng),
            factor: 5.0 + rng.below(45) as f64,
        },
    })
}
