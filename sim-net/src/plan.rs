//! The network faults of a fault plan (`detsim::Fault`): validation and
//! application through the world's extension hooks, each with its undo.

use detsim::{Fault, FaultOutcome, LinkChange, Undo};

use crate::latency::Latency;
use crate::link::LinkProfile;
use crate::net::Net;
use crate::partition::{Partition, PartitionId};

impl Net {
    /// The world as a chaos generator sees it: every node, and the nodes of
    /// each zone and region — pass it to [`detsim::Nemesis::plan`] so zone and
    /// region outages (Chaos Kong) aim at real zones.
    ///
    /// # Examples
    ///
    /// ```
    /// use detsim::{Nemesis, NemesisKind, Seed, Sim};
    /// use detsim_net::Net;
    ///
    /// let mut sim = Sim::new(Seed::new(1));
    /// for n in ["a", "b", "c"] {
    ///     sim.add_node(n, |_| async {}).unwrap();
    /// }
    /// let net = Net::builder().region("eu").zone("z1", "eu").zone("z2", "eu")
    ///     .place("a", "z1").place("b", "z1").place("c", "z2")
    ///     .install(&mut sim).unwrap();
    /// let topology = net.topology();
    /// assert_eq!(topology.zones["z1"], ["a", "b"]);
    /// assert_eq!(topology.regions["eu"], ["a", "b", "c"]);
    /// let plan = Nemesis::default().kinds(&[NemesisKind::ZoneOutage]).plan(Seed::new(1), &topology);
    /// sim.apply_plan(plan).unwrap();
    /// ```
    pub fn topology(&self) -> detsim::Topology {
        let state = self.state.borrow();
        let mut topology = detsim::Topology::default();
        for (index, node) in state.nodes.iter().enumerate() {
            topology.nodes.push(node.name.to_string());
            let zone = state.topology.placement.get(index).copied().flatten();
            if let Some(zone) = zone {
                let (zone_name, region) = &state.topology.zones[zone];
                topology
                    .zones
                    .entry(zone_name.to_string())
                    .or_default()
                    .push(node.name.to_string());
                let region_name = &state.topology.regions[*region];
                topology
                    .regions
                    .entry(region_name.to_string())
                    .or_default()
                    .push(node.name.to_string());
            }
        }
        for (zone, _) in &state.topology.zones {
            topology.zones.entry(zone.to_string()).or_default();
        }
        for region in &state.topology.regions {
            topology.regions.entry(region.to_string()).or_default();
        }
        topology
    }

    /// Checks a network fault of a plan before the run: zones and regions
    /// exist, the link change is valid. `None`: not a network fault.
    pub(crate) fn validate_plan_fault(&self, fault: &Fault) -> Option<Result<(), String>> {
        let state = self.state.borrow();
        let result = match fault {
            Fault::ZoneOutage { zone } => state
                .topology
                .zone(zone)
                .map(drop)
                .map_err(|e| e.to_string()),
            Fault::RegionOutage { region } => state
                .topology
                .region(region)
                .map(drop)
                .map_err(|e| e.to_string()),
            Fault::Link { change, .. } => changed(&LinkProfile::default(), change)
                .validate()
                .map_err(|e| e.to_string()),
            Fault::Partition { .. }
            | Fault::Isolate { .. }
            | Fault::OneWay { .. }
            | Fault::CutLinks { .. }
            | Fault::HealNetwork
            | Fault::Clog { .. }
            | Fault::ClogNode { .. } => Ok(()),
            _ => return None,
        };
        Some(result)
    }

    /// Applies a network fault of a plan now.
    pub(crate) fn apply_plan_fault(&self, fault: &Fault) -> FaultOutcome {
        let result = match fault {
            Fault::Partition { groups } => self.cut(vec![Partition::Split(groups.clone())]),
            Fault::Isolate { node } => self.cut(vec![Partition::Isolate(node.clone())]),
            Fault::OneWay { from, to } => self.cut(vec![Partition::OneWay {
                from: vec![from.clone()],
                to: vec![to.clone()],
            }]),
            Fault::CutLinks { pairs } => self.cut(
                pairs
                    .iter()
                    .map(|(a, b)| Partition::Partial {
                        a: vec![a.clone()],
                        b: vec![b.clone()],
                    })
                    .collect(),
            ),
            Fault::ZoneOutage { zone } => self.cut(vec![Partition::Zone(zone.clone())]),
            Fault::RegionOutage { region } => self.cut(vec![Partition::Region(region.clone())]),
            Fault::HealNetwork => {
                self.heal_all();
                Ok(None)
            }
            Fault::Clog { from, to } => self.clog_link(from.as_str(), to.as_str()).map(|()| {
                let (net, from, to) = (self.clone(), from.clone(), to.clone());
                Some(Box::new(move || {
                    let _ = net.unclog_link(from.as_str(), to.as_str());
                }) as Undo)
            }),
            Fault::ClogNode { node } => self.clog_node(node.as_str()).map(|()| {
                let (net, node) = (self.clone(), node.clone());
                Some(Box::new(move || {
                    let _ = net.unclog_node(node.as_str());
                }) as Undo)
            }),
            Fault::Link { from, to, change } => self.change_link(from, to, change),
            _ => return FaultOutcome::NotMine,
        };
        match result {
            Ok(undo) => FaultOutcome::Applied(undo),
            Err(e) => FaultOutcome::Failed(e.to_string()),
        }
    }

    /// Starts these partitions; the undo heals exactly them.
    fn cut(&self, partitions: Vec<Partition>) -> Result<Option<Undo>, crate::NetError> {
        let mut ids: Vec<PartitionId> = Vec::new();
        for partition in partitions {
            match self.partition(partition) {
                Ok(id) => ids.push(id),
                Err(e) => {
                    for id in ids {
                        let _ = self.heal(id);
                    }
                    return Err(e);
                }
            }
        }
        let net = self.clone();
        Ok(Some(Box::new(move || {
            for id in ids {
                // Healed by hand meanwhile is fine.
                let _ = net.heal(id);
            }
        })))
    }

    /// Changes the link's profile; when the last of overlapping changes of
    /// the link ends, the profile from before the first one comes back.
    fn change_link(
        &self,
        from: &str,
        to: &str,
        change: &LinkChange,
    ) -> Result<Option<Undo>, crate::NetError> {
        let key = (self.node(from)?, self.node(to)?);
        let explicit = self
            .state
            .borrow()
            .profiles
            .links
            .get(&key)
            .map(|p| (**p).clone());
        let current = self.link_profile(from, to)?;
        self.set_link(from, to, Some(changed(&current, change)))?;
        self.state
            .borrow_mut()
            .plan_links
            .entry(key)
            .or_insert((0, explicit))
            .0 += 1;
        let (net, from, to) = (self.clone(), from.to_owned(), to.to_owned());
        Ok(Some(Box::new(move || {
            let restore = {
                let mut state = net.state.borrow_mut();
                let Some(entry) = state.plan_links.get_mut(&key) else {
                    return;
                };
                entry.0 -= 1;
                if entry.0 > 0 {
                    return;
                }
                state.plan_links.remove(&key).map(|(_, explicit)| explicit)
            };
            if let Some(explicit) = restore {
                let _ = net.set_link(from.as_str(), to.as_str(), explicit);
            }
        })))
    }
}

/// `profile` with the change applied: extra latency shifts the distribution
/// (its every delay, or its location for the unbounded ones); loss and
/// duplication replace the probabilities.
fn changed(profile: &LinkProfile, change: &LinkChange) -> LinkProfile {
    let mut profile = profile.clone();
    if let Some(extra) = change.extra_latency {
        profile.latency = match profile.latency {
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
        };
    }
    if let Some(loss) = change.loss {
        profile.loss = loss;
    }
    if let Some(duplicate) = change.duplicate {
        profile.duplicate = duplicate;
    }
    profile
}
