//! The disk faults of a fault plan (`detsim::Fault::Disk*`): validation and
//! application, through the world's extension hooks.

use detsim::{FaultOutcome, NodeId, SimRng, Undo};

use crate::disk::Disks;
use crate::fault::{Corruption, Fault as Injected};
use crate::fs::{Fs, Kind, ROOT};

type PlanFault = detsim::Fault;

/// Per node and fault kind: how many plan faults are active, and the value
/// from before the first of them.
pub(crate) type Held = std::collections::BTreeMap<(NodeId, &'static str), (u32, Baseline)>;

/// What a disk fault of a plan changed, as it was before the first of
/// overlapping faults of its kind.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Baseline {
    Faults(crate::FaultConfig),
    Capacity(u64),
    Slow(u32),
}

impl Disks {
    /// Checks a disk fault of a plan: the node has a disk, the values are in range.
    pub(crate) fn validate_plan_fault(&self, fault: &PlanFault) -> Option<Result<(), String>> {
        let node = disk_node(fault)?;
        Some(self.storage(node).map(drop).map_err(|e| e.to_string()))
    }

    /// Applies a disk fault of a plan now; the undo restores what it changed.
    pub(crate) fn apply_plan_fault(&self, fault: &PlanFault) -> FaultOutcome {
        let Some(node) = disk_node(fault) else {
            return FaultOutcome::NotMine;
        };
        match self.apply(node, fault) {
            Ok(undo) => FaultOutcome::Applied(undo),
            Err(reason) => FaultOutcome::Failed(reason),
        }
    }

    fn apply(&self, node: &str, fault: &PlanFault) -> Result<Option<Undo>, String> {
        let handle = self.handle();
        let id = handle.node(node).map_err(|e| e.to_string())?;
        let disk = self.disk_of(id).map_err(|e| e.to_string())?;
        let disks = handle
            .extension::<Disks>()
            .ok_or("disks are not installed")?;
        match fault {
            PlanFault::DiskReadErrors { probability, .. }
            | PlanFault::DiskWriteErrors { probability, .. }
            | PlanFault::DiskFsyncErrors { probability, .. } => {
                let kind = fault.kind();
                let current = disk.state.borrow().faults;
                let mut faults = current;
                match fault {
                    PlanFault::DiskReadErrors { .. } => {
                        faults.read_error_probability = *probability
                    }
                    PlanFault::DiskWriteErrors { .. } => {
                        faults.write_error_probability = *probability
                    }
                    _ => faults.sync_error_probability = *probability,
                }
                disks.set_faults(id, faults).map_err(|e| e.to_string())?;
                self.hold(id, kind, Baseline::Faults(current));
                Ok(Some(self.release(id, kind)))
            }
            PlanFault::DiskFull { .. } => {
                let usage = disks.usage(id).map_err(|e| e.to_string())?;
                // Full now: the space in use, and not a byte more.
                disks
                    .set_capacity(id, usage.used.max(1))
                    .map_err(|e| e.to_string())?;
                self.hold(id, "disk_full", Baseline::Capacity(usage.capacity));
                Ok(Some(self.release(id, "disk_full")))
            }
            PlanFault::DiskSlow { factor, .. } => {
                let current = disk.state.borrow().slow;
                let factor = factor.round().clamp(1.0, f64::from(u32::MAX)) as u32;
                disks.set_slow(id, factor).map_err(|e| e.to_string())?;
                self.hold(id, "disk_slow", Baseline::Slow(current));
                Ok(Some(self.release(id, "disk_slow")))
            }
            PlanFault::DiskCorrupt { file, .. } => {
                let (path, len, sector_size) = {
                    let state = disk.state.borrow();
                    let files = files(&state.fs);
                    let mut rng = self.plan_rng(id);
                    let chosen = match file {
                        Some(path) => files.into_iter().find(|(p, _)| p == path),
                        None => {
                            let candidates: Vec<_> =
                                files.into_iter().filter(|(_, len)| *len > 0).collect();
                            if candidates.is_empty() {
                                None
                            } else {
                                let index = rng.below(candidates.len() as u64) as usize;
                                candidates.into_iter().nth(index)
                            }
                        }
                    };
                    let (path, len) = chosen.ok_or_else(|| match file {
                        Some(path) => format!("no file {path:?} on {node}'s disk"),
                        None => format!("no file with data on {node}'s disk"),
                    })?;
                    (path, len, state.sector_size)
                };
                if len == 0 {
                    return Err(format!("{path} on {node}'s disk is empty"));
                }
                let mut rng = self.plan_rng(id);
                let offset = rng.below(len);
                let corruption = if rng.chance(0.5) {
                    Corruption::Zero
                } else {
                    Corruption::BitFlip {
                        bit: rng.below(8 * sector_size),
                    }
                };
                disks
                    .inject(
                        id,
                        Injected::Corrupt {
                            path,
                            offset,
                            corruption,
                        },
                    )
                    .map_err(|e| e.to_string())?;
                Ok(None)
            }
            _ => Err("not a disk fault".into()),
        }
    }

    /// Counts one more active fault of `kind` on `node`; the first one keeps
    /// the value from before any of them, which the last one restores.
    fn hold(&self, node: NodeId, kind: &'static str, before: Baseline) {
        let mut held = self.plan_held.borrow_mut();
        held.entry((node, kind)).or_insert((0, before)).0 += 1;
    }

    /// The undo of one fault of `kind`: when the last overlapping one ends,
    /// the baseline comes back (not whatever an overlapping fault had set).
    fn release(&self, node: NodeId, kind: &'static str) -> Undo {
        let handle = self.handle();
        Box::new(move || {
            let Some(disks) = handle.extension::<Disks>() else {
                return;
            };
            let restore = {
                let mut held = disks.plan_held.borrow_mut();
                let Some(entry) = held.get_mut(&(node, kind)) else {
                    return;
                };
                entry.0 -= 1;
                if entry.0 > 0 {
                    return;
                }
                let baseline = entry.1;
                held.remove(&(node, kind));
                baseline
            };
            let _ = match restore {
                Baseline::Faults(faults) => {
                    // Restore only this kind's probability: others may be active.
                    let Ok(disk) = disks.disk_of(node) else {
                        return;
                    };
                    let mut now = disk.state.borrow().faults;
                    match kind {
                        "disk_read_errors" => {
                            now.read_error_probability = faults.read_error_probability
                        }
                        "disk_write_errors" => {
                            now.write_error_probability = faults.write_error_probability
                        }
                        _ => now.sync_error_probability = faults.sync_error_probability,
                    }
                    disks.set_faults(node, now)
                }
                Baseline::Capacity(capacity) => disks.set_capacity(node, capacity),
                Baseline::Slow(factor) => disks.set_slow(node, factor),
            };
        })
    }

    /// The node's stream for plan decisions (which file and sector rot).
    fn plan_rng(&self, node: NodeId) -> std::cell::RefMut<'_, SimRng> {
        let handle = self.handle();
        std::cell::RefMut::map(self.plan_rngs.borrow_mut(), |rngs| {
            rngs.entry(node).or_insert_with(|| {
                let name = handle.node_name(node).unwrap_or_default();
                handle.stream_rng(&format!("disk/{name}/plan"))
            })
        })
    }
}

fn disk_node(fault: &PlanFault) -> Option<&str> {
    match fault {
        PlanFault::DiskCorrupt { node, .. }
        | PlanFault::DiskReadErrors { node, .. }
        | PlanFault::DiskWriteErrors { node, .. }
        | PlanFault::DiskFsyncErrors { node, .. }
        | PlanFault::DiskFull { node }
        | PlanFault::DiskSlow { node, .. } => Some(node),
        _ => None,
    }
}

/// Every file's path and length, as the cache sees the namespace, in path order.
fn files(fs: &Fs) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    let mut stack = vec![(String::new(), ROOT)];
    while let Some((prefix, ino)) = stack.pop() {
        let Some(Kind::Dir(dir)) = fs.inodes.get(&ino).map(|i| &i.kind) else {
            continue;
        };
        for (name, child) in &dir.entries {
            let path = format!("{prefix}/{name}");
            match fs.inodes.get(child).map(|i| &i.kind) {
                Some(Kind::File(data)) => out.push((path, data.current.len())),
                Some(Kind::Dir(_)) => stack.push((path, *child)),
                None => {}
            }
        }
    }
    out.sort();
    out
}
