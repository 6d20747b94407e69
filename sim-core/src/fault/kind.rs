//! The fault vocabulary.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Changes to a link's behaviour (a Latency Monkey spike, a lossy link).
/// `None` fields keep their current value.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkChange {
    /// Extra one-way latency added to every message.
    #[serde(default, with = "crate::fault::kind::opt_duration")]
    pub extra_latency: Option<Duration>,
    /// Probability in `[0, 1]` that a message is lost.
    #[serde(default)]
    pub loss: Option<f64>,
    /// Probability in `[0, 1]` that a message is delivered twice.
    #[serde(default)]
    pub duplicate: Option<f64>,
}

/// One fault. A plan entry applies it at an instant and, if the entry has a
/// duration, undoes it when the duration ends (a crash is followed by a
/// restart, a partition by its heal).
///
/// Node, zone and region names are the names given to the world and the
/// network, so a plan is plain data that reads well as JSON:
/// `{"kind": "crash", "node": "n1"}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Fault {
    // ----- process -----
    /// Crash the node (undo: restart it).
    Crash {
        /// The node.
        node: String,
    },
    /// Restart a crashed node.
    Restart {
        /// The node.
        node: String,
    },
    /// Freeze the node, as a GC stall does (undo: resume it).
    Pause {
        /// The node.
        node: String,
    },
    /// Resume a paused node.
    Resume {
        /// The node.
        node: String,
    },
    /// Step the node's **wall clock** (`CLOCK_REALTIME`:
    /// [`time::system_now`](crate::time::system_now), `SystemTime::now` under
    /// the `intercept` feature) by `delta_ns` nanoseconds, as an NTP step or
    /// an operator does (undo: step back). Its monotonic clock (`time::now`,
    /// sleeps, timers, `Instant::now`) never jumps, as on a real machine.
    ClockJump {
        /// The node.
        node: String,
        /// How far, negative for backwards.
        delta_ns: i64,
    },
    /// Make **both** of the node's clocks, monotonic and wall, run fast or
    /// slow by `ppm` parts per million, as a bad oscillator (or NTP slewing)
    /// does (undo: the previous rate).
    ClockDrift {
        /// The node.
        node: String,
        /// Rate error, in `(-1e6, 1e6)`.
        ppm: i64,
    },
    // ----- network -----
    /// Split the nodes into groups that cannot reach each other; nodes in no
    /// group keep reaching everyone (undo: heal these cuts).
    Partition {
        /// The groups.
        groups: Vec<Vec<String>>,
    },
    /// Cut one node off from every other (undo: heal).
    Isolate {
        /// The node.
        node: String,
    },
    /// Lose every message from `from` to `to`; the other direction flows (undo: heal).
    OneWay {
        /// Sending side.
        from: String,
        /// Receiving side.
        to: String,
    },
    /// Cut these node pairs in both directions and nothing else: a partial
    /// partition when the pairs leave a path around them (undo: heal).
    CutLinks {
        /// The pairs.
        pairs: Vec<(String, String)>,
    },
    /// Heal every network cut.
    HealNetwork,
    /// Hold all traffic from `from` to `to` until undone, then release it
    /// late, in a seeded order (undo: unclog).
    Clog {
        /// Sending side.
        from: String,
        /// Receiving side.
        to: String,
    },
    /// Hold all traffic to and from the node (undo: unclog).
    ClogNode {
        /// The node.
        node: String,
    },
    /// Change the link from `from` to `to` (undo: restore it).
    Link {
        /// Sending side.
        from: String,
        /// Receiving side.
        to: String,
        /// What changes.
        change: LinkChange,
    },
    /// Cut a whole zone off from everything else (undo: heal).
    ZoneOutage {
        /// The zone.
        zone: String,
    },
    /// Cut a whole region off from everything else (undo: heal).
    RegionOutage {
        /// The region.
        region: String,
    },
    // ----- disk -----
    /// Silently corrupt data at rest on the node's disk: `file` (or a random
    /// file when `None`), at a random sector.
    DiskCorrupt {
        /// The node.
        node: String,
        /// The file, or `None` for a random one.
        #[serde(default)]
        file: Option<String>,
    },
    /// Reads fail with EIO with this probability (undo: stop).
    DiskReadErrors {
        /// The node.
        node: String,
        /// Probability in `[0, 1]`.
        probability: f64,
    },
    /// Writes fail with EIO with this probability (undo: stop).
    DiskWriteErrors {
        /// The node.
        node: String,
        /// Probability in `[0, 1]`.
        probability: f64,
    },
    /// fsync fails with EIO with this probability, with Linux's page-cache
    /// behaviour afterwards (undo: stop).
    DiskFsyncErrors {
        /// The node.
        node: String,
        /// Probability in `[0, 1]`.
        probability: f64,
    },
    /// The disk is full: writes that grow it fail with ENOSPC (undo: space again).
    DiskFull {
        /// The node.
        node: String,
    },
    /// Every operation of the disk takes `factor` times longer (undo: normal speed).
    DiskSlow {
        /// The node.
        node: String,
        /// Slow-down factor, at least 1.
        factor: f64,
    },
    // ----- user -----
    /// A fault of your own, handled by what you registered with
    /// [`SimHandle::on_custom_fault`](crate::SimHandle::on_custom_fault).
    Custom {
        /// The handler's name.
        name: String,
        /// Its arguments.
        #[serde(default)]
        args: serde_json::Value,
    },
}

impl Fault {
    /// The node names the fault refers to.
    pub fn nodes(&self) -> Vec<&str> {
        match self {
            Fault::Crash { node }
            | Fault::Restart { node }
            | Fault::Pause { node }
            | Fault::Resume { node }
            | Fault::ClockJump { node, .. }
            | Fault::ClockDrift { node, .. }
            | Fault::Isolate { node }
            | Fault::ClogNode { node }
            | Fault::DiskCorrupt { node, .. }
            | Fault::DiskReadErrors { node, .. }
            | Fault::DiskWriteErrors { node, .. }
            | Fault::DiskFsyncErrors { node, .. }
            | Fault::DiskFull { node }
            | Fault::DiskSlow { node, .. } => vec![node],
            Fault::OneWay { from, to }
            | Fault::Clog { from, to }
            | Fault::Link { from, to, .. } => {
                vec![from, to]
            }
            Fault::Partition { groups } => groups.iter().flatten().map(String::as_str).collect(),
            Fault::CutLinks { pairs } => pairs
                .iter()
                .flat_map(|(a, b)| [a.as_str(), b.as_str()])
                .collect(),
            Fault::HealNetwork
            | Fault::ZoneOutage { .. }
            | Fault::RegionOutage { .. }
            | Fault::Custom { .. } => Vec::new(),
        }
    }

    /// Whether the world itself applies it (process faults); the others go to
    /// the extensions.
    pub fn is_process(&self) -> bool {
        matches!(
            self,
            Fault::Crash { .. }
                | Fault::Restart { .. }
                | Fault::Pause { .. }
                | Fault::Resume { .. }
                | Fault::ClockJump { .. }
                | Fault::ClockDrift { .. }
        )
    }

    /// A short name of the fault's kind (`crash`, `partition`, …), the same
    /// as its JSON tag.
    pub fn kind(&self) -> &'static str {
        match self {
            Fault::Crash { .. } => "crash",
            Fault::Restart { .. } => "restart",
            Fault::Pause { .. } => "pause",
            Fault::Resume { .. } => "resume",
            Fault::ClockJump { .. } => "clock_jump",
            Fault::ClockDrift { .. } => "clock_drift",
            Fault::Partition { .. } => "partition",
            Fault::Isolate { .. } => "isolate",
            Fault::OneWay { .. } => "one_way",
            Fault::CutLinks { .. } => "cut_links",
            Fault::HealNetwork => "heal_network",
            Fault::Clog { .. } => "clog",
            Fault::ClogNode { .. } => "clog_node",
            Fault::Link { .. } => "link",
            Fault::ZoneOutage { .. } => "zone_outage",
            Fault::RegionOutage { .. } => "region_outage",
            Fault::DiskCorrupt { .. } => "disk_corrupt",
            Fault::DiskReadErrors { .. } => "disk_read_errors",
            Fault::DiskWriteErrors { .. } => "disk_write_errors",
            Fault::DiskFsyncErrors { .. } => "disk_fsync_errors",
            Fault::DiskFull { .. } => "disk_full",
            Fault::DiskSlow { .. } => "disk_slow",
            Fault::Custom { .. } => "custom",
        }
    }

    /// Checks the values that do not depend on the world: probabilities in
    /// `[0, 1]`, drift in range, non-empty groups.
    pub(crate) fn check_values(&self) -> Result<(), String> {
        let probability = |p: f64, what: &str| {
            if (0.0..=1.0).contains(&p) {
                Ok(())
            } else {
                Err(format!("{what} probability {p} is outside [0, 1]"))
            }
        };
        match self {
            Fault::ClockDrift { ppm, .. } if *ppm <= -1_000_000 || *ppm >= 1_000_000 => Err(
                format!("clock drift {ppm} ppm is outside (-1000000, 1000000)"),
            ),
            Fault::Partition { groups } if groups.len() < 2 || groups.iter().any(Vec::is_empty) => {
                Err("a partition needs at least two non-empty groups".into())
            }
            Fault::Partition { groups } => {
                let mut seen = std::collections::BTreeSet::new();
                match groups.iter().flatten().find(|n| !seen.insert(n.as_str())) {
                    Some(node) => Err(format!("node {node:?} is in two groups of a partition")),
                    None => Ok(()),
                }
            }
            Fault::OneWay { from, to } | Fault::Clog { from, to } if from == to => Err(format!(
                "a link needs two different nodes, got {from:?} twice"
            )),
            Fault::CutLinks { pairs } if pairs.iter().any(|(a, b)| a == b) => {
                Err("a cut link needs two different nodes".into())
            }
            Fault::CutLinks { pairs } if pairs.is_empty() => {
                Err("cut_links needs at least one pair".into())
            }
            Fault::Link { change, .. } => {
                if let Some(p) = change.loss {
                    probability(p, "loss")?;
                }
                if let Some(p) = change.duplicate {
                    probability(p, "duplicate")?;
                }
                Ok(())
            }
            Fault::DiskReadErrors { probability: p, .. } => probability(*p, "read error"),
            Fault::DiskWriteErrors { probability: p, .. } => probability(*p, "write error"),
            Fault::DiskFsyncErrors { probability: p, .. } => probability(*p, "fsync error"),
            Fault::DiskSlow { factor, .. } if !(factor.is_finite() && *factor >= 1.0) => Err(
                format!("slow-down factor {factor} must be a finite number of at least 1"),
            ),
            _ => Ok(()),
        }
    }
}

impl fmt::Display for Fault {
    /// Plain words: `crash n1`, `partition [n1, n2] | [n3]`, `one-way n1 -> n2`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::Crash { node } => write!(f, "crash {node}"),
            Fault::Restart { node } => write!(f, "restart {node}"),
            Fault::Pause { node } => write!(f, "pause {node}"),
            Fault::Resume { node } => write!(f, "resume {node}"),
            Fault::ClockJump { node, delta_ns } => {
                write!(
                    f,
                    "clock jump {node} wall clock by {:+.3}s",
                    *delta_ns as f64 / 1e9
                )
            }
            Fault::ClockDrift { node, ppm } => write!(f, "clock drift {node} {ppm:+}ppm"),
            Fault::Partition { groups } => {
                let groups: Vec<String> = groups
                    .iter()
                    .map(|g| format!("[{}]", g.join(", ")))
                    .collect();
                write!(f, "partition {}", groups.join(" | "))
            }
            Fault::Isolate { node } => write!(f, "isolate {node}"),
            Fault::OneWay { from, to } => write!(f, "one-way cut {from} -> {to}"),
            Fault::CutLinks { pairs } => {
                let pairs: Vec<String> =
                    pairs.iter().map(|(a, b)| format!("{a} <-> {b}")).collect();
                write!(f, "cut {}", pairs.join(", "))
            }
            Fault::HealNetwork => write!(f, "heal the network"),
            Fault::Clog { from, to } => write!(f, "clog {from} -> {to}"),
            Fault::ClogNode { node } => write!(f, "clog {node}"),
            Fault::Link { from, to, change } => {
                write!(f, "link {from} -> {to}")?;
                if let Some(latency) = change.extra_latency {
                    write!(f, " +{latency:?} latency")?;
                }
                if let Some(loss) = change.loss {
                    write!(f, " loss {loss}")?;
                }
                if let Some(duplicate) = change.duplicate {
                    write!(f, " duplicate {duplicate}")?;
                }
                Ok(())
            }
            Fault::ZoneOutage { zone } => write!(f, "zone {zone} outage"),
            Fault::RegionOutage { region } => write!(f, "region {region} outage"),
            Fault::DiskCorrupt { node, file } => match file {
                Some(file) => write!(f, "corrupt {node}:{file}"),
                None => write!(f, "corrupt a file on {node}"),
            },
            Fault::DiskReadErrors { node, probability } => {
                write!(f, "read errors on {node} p={probability}")
            }
            Fault::DiskWriteErrors { node, probability } => {
                write!(f, "write errors on {node} p={probability}")
            }
            Fault::DiskFsyncErrors { node, probability } => {
                write!(f, "fsync errors on {node} p={probability}")
            }
            Fault::DiskFull { node } => write!(f, "disk full on {node}"),
            Fault::DiskSlow { node, factor } => write!(f, "disk on {node} {factor}x slower"),
            Fault::Custom { name, args } => {
                if args.is_null() {
                    write!(f, "{name}")
                } else {
                    write!(f, "{name} {args}")
                }
            }
        }
    }
}

/// Serde for `Option<Duration>` as nanoseconds.
pub(crate) mod opt_duration {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(
        value: &Option<Duration>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(d) => s.serialize_some(&(d.as_nanos() as u64)),
            None => s.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Duration>, D::Error> {
        Ok(Option::<u64>::deserialize(d)?.map(Duration::from_nanos))
    }
}
