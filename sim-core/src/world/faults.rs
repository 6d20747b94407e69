//! Applying faults and plans to a world.

use std::rc::Rc;
use std::time::Duration;

use super::{NodeId, NodeState, World};
use crate::extension::{FaultOutcome, Undo};
use crate::fault::{Fault, Plan, PlanError};
use crate::time::Instant;
use crate::trace::EventKind;

/// A handler of [`Fault::Custom`] faults of one name.
pub(crate) type CustomFault = Rc<dyn Fn(&serde_json::Value) -> Result<Option<Undo>, String>>;

impl World {
    /// Checks a plan against this world: values, node names, the plan's own
    /// process states, and whatever the extensions check (zones, regions).
    pub(crate) fn validate_plan(&self, plan: &Plan) -> Result<(), PlanError> {
        plan.check_values()?;
        for (index, entry) in plan.entries.iter().enumerate() {
            for node in entry.fault.nodes() {
                if self.node_id(node).is_err() {
                    return Err(PlanError::entry(
                        index,
                        entry,
                        format!("unknown node {node:?}"),
                    ));
                }
            }
            if entry.fault.is_process() {
                continue;
            }
            if let Fault::Custom { name, .. } = &entry.fault {
                if !self
                    .cold_opt()
                    .is_some_and(|c| c.custom_faults.borrow().contains_key(name))
                {
                    return Err(PlanError::entry(
                        index,
                        entry,
                        format!(
                            "no handler for custom fault {name:?}: register one with SimHandle::on_custom_fault"
                        ),
                    ));
                }
                continue;
            }
            let hooks = self.extension_hooks();
            let mut claimed = false;
            for hook in hooks {
                if let Some(result) = hook.validate_fault(&entry.fault) {
                    result.map_err(|message| PlanError::entry(index, entry, message))?;
                    claimed = true;
                    break;
                }
            }
            if !claimed {
                return Err(PlanError::entry(
                    index,
                    entry,
                    format!(
                        "no installed extension applies {} faults (install detsim-net for network faults, detsim-disk for disk faults)",
                        entry.fault.kind()
                    ),
                ));
            }
        }
        plan.check_process_states()
    }

    /// Validates `plan` and schedules its entries; the plan is kept for the
    /// trace and for failure reports.
    pub(crate) fn apply_plan(&self, plan: Plan) -> Result<(), PlanError> {
        self.validate_plan(&plan)?;
        let now = self.now();
        for (index, entry) in plan.entries.iter().enumerate() {
            if Instant::ZERO.saturating_add(entry.at) < now {
                return Err(PlanError::entry(
                    index,
                    entry,
                    format!(
                        "it is due at t={}, but the world is already at t={now}: a plan's times count \
                         from the start of the run; apply it earlier, or shift it to start now \
                         (`plan.shifted(…)`)",
                        Instant::ZERO.saturating_add(entry.at)
                    ),
                ));
            }
        }
        // A later plan must agree with the earlier ones about who is down.
        let earlier = self.plan().unwrap_or_default();
        if !earlier.is_empty() {
            let mut merged: Vec<(Option<usize>, crate::PlanEntry)> =
                earlier.entries.iter().map(|e| (None, e.clone())).collect();
            merged.extend(
                plan.entries
                    .iter()
                    .cloned()
                    .enumerate()
                    .map(|(i, e)| (Some(i), e)),
            );
            merged.sort_by_key(|(_, e)| e.at);
            let check = Plan {
                entries: merged.iter().map(|(_, e)| e.clone()).collect(),
            };
            if let Err(error) = check.check_process_states() {
                let at = error.entry.unwrap_or(0);
                // Name the new plan's entry the conflict is about (the later
                // one, if the offending entry came from an earlier plan).
                let new_index = merged[..=at.min(merged.len() - 1)]
                    .iter()
                    .rev()
                    .find_map(|(origin, _)| *origin)
                    .or_else(|| merged.iter().find_map(|(origin, _)| *origin))
                    .unwrap_or(0);
                return Err(PlanError::entry(
                    new_index,
                    &plan.entries[new_index],
                    format!(
                        "conflicts with a plan applied earlier to this world: {}",
                        error
                    ),
                ));
            }
        }
        // Entries are numbered across every plan of the world, so that each
        // `#n` in the trace and on the console names one entry.
        let first_index = earlier.len();
        let handle = crate::SimHandle { world: self.id };
        for (index, entry) in plan.entries.iter().enumerate() {
            let index = first_index + index;
            let fault = entry.fault.clone();
            let duration = entry.duration;
            let text = entry.to_string();
            self.call_at(
                Instant::ZERO.saturating_add(entry.at),
                None,
                Box::new(move || {
                    handle.with(|w| w.apply_entry(index as u64, &fault, &text, duration));
                }),
            );
        }
        let mut applied = self.cold().plan.borrow_mut();
        match applied.as_mut() {
            Some(existing) => {
                existing.entries.extend(plan.entries);
                existing.entries.sort_by_key(|e| e.at);
            }
            None => *applied = Some(plan),
        }
        Ok(())
    }

    /// Prints a plan event on the console, between the logs, when it shows `INFO`.
    fn console_fault(&self, what: std::fmt::Arguments<'_>) {
        if self.console.allows(tracing::Level::INFO) {
            eprintln!("t={} sim FAULT {what}", self.now());
        }
    }

    /// Prints a node's crash, restart, pause or resume on the console, when it shows `INFO`.
    pub(crate) fn console_node(&self, node: NodeId, what: &str) {
        if self.console.allows(tracing::Level::INFO) {
            eprintln!("t={} {} NODE {what}", self.now(), self.node_name(node));
        }
    }

    fn apply_entry(&self, index: u64, fault: &Fault, text: &str, duration: Option<Duration>) {
        match self.apply_fault(fault) {
            Ok(undo) => {
                // The entry's words start with its time, which the line already shows.
                let words = text
                    .split_once(' ')
                    .filter(|(at, _)| at.starts_with("t="))
                    .map_or(text, |(_, rest)| rest);
                self.console_fault(format_args!("#{index} applied: {words}"));
                if let Some(reached) = self.reached.as_deref() {
                    let lasting = duration.is_some() && undo.is_some();
                    reached
                        .borrow_mut()
                        .fault_start(self.now(), index, fault.kind(), lasting);
                }
                self.emit(
                    None,
                    EventKind::Fault {
                        index,
                        fault: text.to_owned(),
                    },
                );
                if let (Some(duration), Some(undo)) = (duration, undo) {
                    let handle = crate::SimHandle { world: self.id };
                    self.call_at(
                        self.now().saturating_add(duration),
                        None,
                        Box::new(move || {
                            handle.with(|w| {
                                w.console_fault(format_args!("#{index} ended"));
                                w.emit(None, EventKind::FaultEnd { index });
                                if let Some(reached) = w.reached.as_deref() {
                                    reached.borrow_mut().fault_end(index);
                                }
                            });
                            undo();
                        }),
                    );
                }
            }
            Err(reason) => {
                // Skipped entries are rare and easy to miss: the console says
                // so at WARN, and the run's report lists them.
                if self.console.allows(tracing::Level::WARN) {
                    eprintln!("t={} sim FAULT WARN #{index} skipped: {reason}", self.now());
                }
                self.cold()
                    .skipped_faults
                    .borrow_mut()
                    .push(format!("#{index} {text}: {reason}"));
                self.emit(None, EventKind::FaultSkipped { index, reason });
            }
        }
    }

    /// Applies one fault now; returns how to undo it.
    pub(crate) fn apply_fault(&self, fault: &Fault) -> Result<Option<Undo>, String> {
        let handle = crate::SimHandle { world: self.id };
        let node = |name: &str| self.node_id(name).map_err(|e| e.to_string());
        match fault {
            Fault::Crash { node: name } => {
                let id = node(name)?;
                self.crash(id).map_err(|e| e.to_string())?;
                Ok(Some(Box::new(move || {
                    // The node may have been restarted by hand meanwhile.
                    let _ = handle.restart(id);
                })))
            }
            Fault::Restart { node: name } => {
                self.restart(node(name)?).map_err(|e| e.to_string())?;
                Ok(None)
            }
            Fault::Pause { node: name } => {
                let id = node(name)?;
                self.pause(id).map_err(|e| e.to_string())?;
                Ok(Some(Box::new(move || {
                    if handle.node_state(id) == Ok(NodeState::Paused) {
                        let _ = handle.resume(id);
                    }
                })))
            }
            Fault::Resume { node: name } => {
                self.resume(node(name)?).map_err(|e| e.to_string())?;
                Ok(None)
            }
            Fault::ClockJump {
                node: name,
                delta_ns,
            } => {
                let id = node(name)?;
                self.adjust_clock(id, *delta_ns, None)
                    .map_err(|e| e.to_string())?;
                let back = delta_ns.saturating_neg();
                Ok(Some(Box::new(move || {
                    let _ = handle.clock_jump(id, back);
                })))
            }
            Fault::ClockDrift { node: name, ppm } => {
                let id = node(name)?;
                let previous = self.nodes.borrow()[id.index()].clock.drift_ppm();
                self.adjust_clock(id, 0, Some(*ppm))
                    .map_err(|e| e.to_string())?;
                Ok(Some(Box::new(move || {
                    let _ = handle.clock_drift(id, previous);
                })))
            }
            Fault::Custom { name, args } => {
                let handler = self
                    .cold_opt()
                    .and_then(|c| c.custom_faults.borrow().get(name).cloned())
                    .ok_or_else(|| format!("no handler for custom fault {name:?}"))?;
                handler(args)
            }
            other => {
                for hook in self.extension_hooks() {
                    match hook.apply_fault(other) {
                        FaultOutcome::NotMine => continue,
                        FaultOutcome::Applied(undo) => return Ok(undo),
                        FaultOutcome::Failed(reason) => return Err(reason),
                    }
                }
                Err(format!(
                    "no installed extension applies {} faults",
                    other.kind()
                ))
            }
        }
    }
}
