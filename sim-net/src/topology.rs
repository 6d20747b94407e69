//! Zones and regions: where nodes are placed, and which link profile
//! applies between two places (LAN within a zone, WAN across regions).

use std::collections::BTreeMap;
use std::rc::Rc;

use detsim::NodeId;

use crate::{LinkProfile, NetError};

/// Zones, regions, the placement of nodes, and the profile matrix between places.
#[derive(Default)]
pub(crate) struct Topology {
    pub(crate) regions: Vec<Rc<str>>,
    /// Zone name and its region's index.
    pub(crate) zones: Vec<(Rc<str>, usize)>,
    /// Zone index by node index.
    pub(crate) placement: Vec<Option<usize>>,
    pub(crate) zone_pairs: BTreeMap<(usize, usize), Rc<LinkProfile>>,
    pub(crate) region_pairs: BTreeMap<(usize, usize), Rc<LinkProfile>>,
    pub(crate) within_zone: Option<Rc<LinkProfile>>,
    pub(crate) within_region: Option<Rc<LinkProfile>>,
    pub(crate) across_regions: Option<Rc<LinkProfile>>,
}

fn ordered(a: usize, b: usize) -> (usize, usize) {
    (a.min(b), a.max(b))
}

impl Topology {
    pub(crate) fn region(&self, name: &str) -> Result<usize, NetError> {
        self.regions
            .iter()
            .position(|r| &**r == name)
            .ok_or_else(|| NetError::UnknownRegion(name.to_owned()))
    }

    pub(crate) fn zone(&self, name: &str) -> Result<usize, NetError> {
        self.zones
            .iter()
            .position(|(z, _)| &**z == name)
            .ok_or_else(|| NetError::UnknownZone(name.to_owned()))
    }

    pub(crate) fn add_region(&mut self, name: &str) -> Result<usize, NetError> {
        if self.region(name).is_ok() {
            return Err(NetError::InvalidConfig(format!(
                "region {name:?} is defined twice"
            )));
        }
        self.regions.push(Rc::from(name));
        Ok(self.regions.len() - 1)
    }

    pub(crate) fn add_zone(&mut self, name: &str, region: &str) -> Result<usize, NetError> {
        if self.zone(name).is_ok() {
            return Err(NetError::InvalidConfig(format!(
                "zone {name:?} is defined twice"
            )));
        }
        let region = self.region(region)?;
        self.zones.push((Rc::from(name), region));
        Ok(self.zones.len() - 1)
    }

    pub(crate) fn place(&mut self, node: NodeId, zone: usize) {
        if self.placement.len() <= node.index() {
            self.placement.resize(node.index() + 1, None);
        }
        self.placement[node.index()] = Some(zone);
    }

    pub(crate) fn zone_of(&self, node: NodeId) -> Option<usize> {
        self.placement.get(node.index()).copied().flatten()
    }

    pub(crate) fn region_of(&self, node: NodeId) -> Option<usize> {
        self.zone_of(node).map(|z| self.zones[z].1)
    }

    pub(crate) fn set_zone_pair(&mut self, a: usize, b: usize, profile: Option<Rc<LinkProfile>>) {
        match profile {
            Some(p) => self.zone_pairs.insert(ordered(a, b), p),
            None => self.zone_pairs.remove(&ordered(a, b)),
        };
    }

    pub(crate) fn set_region_pair(&mut self, a: usize, b: usize, profile: Option<Rc<LinkProfile>>) {
        match profile {
            Some(p) => self.region_pairs.insert(ordered(a, b), p),
            None => self.region_pairs.remove(&ordered(a, b)),
        };
    }

    /// The profile between two placed nodes' zones, if the matrix says one.
    pub(crate) fn profile(&self, source: NodeId, target: NodeId) -> Option<Rc<LinkProfile>> {
        let (zs, zt) = (self.zone_of(source)?, self.zone_of(target)?);
        if let Some(p) = self.zone_pairs.get(&ordered(zs, zt)) {
            return Some(p.clone());
        }
        let (rs, rt) = (self.zones[zs].1, self.zones[zt].1);
        if zs == zt {
            if let Some(p) = &self.within_zone {
                return Some(p.clone());
            }
        }
        if let Some(p) = self.region_pairs.get(&ordered(rs, rt)) {
            return Some(p.clone());
        }
        if rs == rt {
            self.within_region.clone()
        } else {
            self.across_regions.clone()
        }
    }
}
