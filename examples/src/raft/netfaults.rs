//! Network faults of fault plans (`Fault::Partition`, `Isolate`, `OneWay`,
//! `CutLinks`, `Clog`, `ClogNode`, `Link`, `ZoneOutage`, `RegionOutage`,
//! `HealNetwork`) applied to a [`Net`], as a world extension a user can
//! write. (Once `detsim-net` applies plan faults itself, its own hook claims
//! them first and this one is never asked.)

use std::rc::Rc;
use std::time::Duration;

use detsim::{Extension, Fault, FaultOutcome, Undo};
use detsim_net::{Latency, Net, PartitionId};

/// The extension: install it with `sim.install(Rc::new(NetFaults::new(net)))`.
#[derive(Clone, Debug)]
pub struct NetFaults {
    net: Net,
}

impl NetFaults {
    /// Network faults for `net`.
    pub fn new(net: Net) -> NetFaults {
        NetFaults { net }
    }

    fn heal_later(&self, ids: Vec<PartitionId>) -> Option<Undo> {
        let net = self.net.clone();
        Some(Box::new(move || {
            for id in ids {
                let _ = net.heal(id);
            }
        }))
    }

    fn apply(&self, fault: &Fault) -> Result<Option<Undo>, String> {
        let net = &self.net;
        let text = |e: detsim_net::NetError| e.to_string();
        match fault {
            Fault::Partition { groups } => {
                let groups: Vec<Vec<&str>> = groups
                    .iter()
                    .map(|g| g.iter().map(String::as_str).collect())
                    .collect();
                let slices: Vec<&[&str]> = groups.iter().map(Vec::as_slice).collect();
                let id = net.split(&slices).map_err(text)?;
                Ok(self.heal_later(vec![id]))
            }
            Fault::Isolate { node } => Ok(self.heal_later(vec![net.isolate(node).map_err(text)?])),
            Fault::OneWay { from, to } => {
                let id = net.cut_one_way(&[from], &[to]).map_err(text)?;
                Ok(self.heal_later(vec![id]))
            }
            Fault::CutLinks { pairs } => {
                let mut ids = Vec::new();
                for (a, b) in pairs {
                    ids.push(net.partial(&[a], &[b]).map_err(text)?);
                }
                Ok(self.heal_later(ids))
            }
            Fault::ZoneOutage { zone } => {
                Ok(self.heal_later(vec![net.cut_zone(zone).map_err(text)?]))
            }
            Fault::RegionOutage { region } => {
                Ok(self.heal_later(vec![net.cut_region(region).map_err(text)?]))
            }
            Fault::HealNetwork => {
                net.heal_all();
                Ok(None)
            }
            Fault::Clog { from, to } => {
                net.clog_link(from.as_str(), to.as_str()).map_err(text)?;
                let (net, from, to) = (net.clone(), from.clone(), to.clone());
                Ok(Some(Box::new(move || {
                    let _ = net.unclog_link(from.as_str(), to.as_str());
                })))
            }
            Fault::ClogNode { node } => {
                net.clog_node(node.as_str()).map_err(text)?;
                let (net, node) = (net.clone(), node.clone());
                Ok(Some(Box::new(move || {
                    let _ = net.unclog_node(node.as_str());
                })))
            }
            Fault::Link { from, to, change } => {
                let before = net.link_profile(from.as_str(), to.as_str()).map_err(text)?;
                let mut after = before.clone();
                if let Some(extra) = change.extra_latency {
                    after.latency = shifted(after.latency, extra);
                }
                if let Some(loss) = change.loss {
                    after.loss = loss;
                }
                if let Some(duplicate) = change.duplicate {
                    after.duplicate = duplicate;
                }
                net.set_link(from.as_str(), to.as_str(), Some(after))
                    .map_err(text)?;
                let (net, from, to) = (net.clone(), from.clone(), to.clone());
                Ok(Some(Box::new(move || {
                    let _ = net.set_link(from.as_str(), to.as_str(), Some(before));
                })))
            }
            _ => Err("not a network fault".into()),
        }
    }
}

/// `latency`, `extra` later.
fn shifted(latency: Latency, extra: Duration) -> Latency {
    match latency {
        Latency::Constant(d) => Latency::Constant(d + extra),
        Latency::Uniform { min, max } => Latency::Uniform {
            min: min + extra,
            max: max + extra,
        },
        Latency::Normal { mean, std_dev } => Latency::Normal {
            mean: mean + extra,
            std_dev,
        },
        Latency::LogNormal { median, sigma } => Latency::LogNormal {
            median: median + extra,
            sigma,
        },
        Latency::Exponential { mean } => Latency::Exponential { mean: mean + extra },
        Latency::Pareto { scale, shape, max } => Latency::Pareto {
            scale: scale + extra,
            shape,
            max: max + extra,
        },
    }
}

fn is_network(fault: &Fault) -> bool {
    matches!(
        fault,
        Fault::Partition { .. }
            | Fault::Isolate { .. }
            | Fault::OneWay { .. }
            | Fault::CutLinks { .. }
            | Fault::HealNetwork
            | Fault::Clog { .. }
            | Fault::ClogNode { .. }
            | Fault::Link { .. }
            | Fault::ZoneOutage { .. }
            | Fault::RegionOutage { .. }
    )
}

impl Extension for NetFaults {
    fn validate_fault(&self, fault: &Fault) -> Option<Result<(), String>> {
        is_network(fault).then_some(Ok(()))
    }

    fn apply_fault(&self, fault: &Fault) -> FaultOutcome {
        if !is_network(fault) {
            return FaultOutcome::NotMine;
        }
        match self.apply(fault) {
            Ok(undo) => FaultOutcome::Applied(undo),
            Err(reason) => FaultOutcome::Failed(reason),
        }
    }
}

/// Keeps `Rc` in the public signature readable in docs.
pub type SharedNetFaults = Rc<NetFaults>;
