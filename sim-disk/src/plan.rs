//! The disk faults of a fault plan (`detsim::Fault::Disk*`): validation and
//! application, through the world's extension hooks.

use detsim::{FaultOutcome, NodeId, SimRng, Undo};

use crate::disk::Disks;
use crate::fault::{Corruption, Fault as Injected};
use crate::fs::{Fs, Kind, ROOT};

type PlanFault = detsim::Fault;

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
        let restore_faults = |disks: std::rc::Rc<Disks>, previous| -> Option<Undo> {
            Some(Box::new(move || {
                let _ = disks.set_faults(id, previous);
            }))
        };
        match fault {
            PlanFault::DiskReadErrors { probability, .. }
            | PlanFault::DiskWriteErrors { probability, .. }
            | PlanFault::DiskFsyncErrors { probability, .. } => {
                let previous = disk.state.borrow().faults;
                let mut faults = previous;
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
                Ok(restore_faults(disks, previous))
            }
            PlanFault::DiskFull { .. } => {
                let usage = disks.usage(id).map_err(|e| e.to_string())?;
                // Full now: the space in use, and not a byte more.
                disks
                    .set_capacity(id, usage.used.max(1))
                    .map_err(|e| e.to_string())?;
                Ok(Some(Box::new(move || {
                    let _ = disks.set_capacity(id, usage.capacity);
                })))
            }
            PlanFault::DiskSlow { factor, .. } => {
                let previous = disk.state.borrow().slow;
                let factor = factor.round().clamp(1.0, f64::from(u32::MAX)) as u32;
                disks.set_slow(id, factor).map_err(|e| e.to_string())?;
                Ok(Some(Box::new(move || {
                    let _ = disks.set_slow(id, previous);
                })))
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
