//! Delta debugging of a failing plan (Zeller's ddmin), then shorter durations.

use crate::fault::Plan;

/// The most reruns one minimization may take.
const RUNS_MAX: usize = 400;

/// Shrinks `plan` while `reproduces` holds: first whole entries (ddmin, then
/// one at a time until no single entry can go), then durations (halved while
/// the failure stays). Returns the smallest plan found and the reruns spent.
pub(crate) fn minimize(plan: &Plan, mut reproduces: impl FnMut(&Plan) -> bool) -> (Plan, usize) {
    let mut runs = 0;
    let mut check = |candidate: &Plan, runs: &mut usize| {
        if *runs >= RUNS_MAX {
            return false;
        }
        *runs += 1;
        reproduces(candidate)
    };
    let mut entries = plan.entries.clone();
    let mut chunks = 2usize;
    while entries.len() >= 2 && runs < RUNS_MAX {
        let size = entries.len().div_ceil(chunks);
        let mut reduced = false;
        for start in (0..entries.len()).step_by(size) {
            let complement: Vec<_> = entries
                .iter()
                .enumerate()
                .filter(|(i, _)| *i < start || *i >= start + size)
                .map(|(_, e)| e.clone())
                .collect();
            if check(&Plan::new(complement.clone()), &mut runs) {
                entries = complement;
                chunks = (chunks - 1).max(2);
                reduced = true;
                break;
            }
        }
        if !reduced {
            if chunks >= entries.len() {
                break;
            }
            chunks = (chunks * 2).min(entries.len());
        }
    }
    // One at a time, until no single entry can be removed.
    let mut i = 0;
    while i < entries.len() && entries.len() > 1 {
        let mut candidate = entries.clone();
        candidate.remove(i);
        if check(&Plan::new(candidate.clone()), &mut runs) {
            entries = candidate;
        } else {
            i += 1;
        }
    }
    // Shorter durations.
    for i in 0..entries.len() {
        while let Some(duration) = entries[i].duration {
            let shorter = duration / 2;
            if shorter.as_millis() < 1 {
                break;
            }
            let mut candidate = entries.clone();
            candidate[i].duration = Some(shorter);
            if check(&Plan::new(candidate.clone()), &mut runs) {
                entries = candidate;
            } else {
                break;
            }
        }
    }
    (Plan::new(entries), runs)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::fault::{Fault, PlanEntry};

    fn plan(count: usize) -> Plan {
        Plan::new(
            (0..count)
                .map(|i| {
                    PlanEntry::new(
                        Duration::from_secs(i as u64),
                        Fault::Crash {
                            node: format!("n{i}"),
                        },
                        Some(Duration::from_secs(8)),
                    )
                })
                .collect(),
        )
    }

    #[test]
    fn finds_the_two_entries_that_matter() {
        // The "bug" needs n3 and n11 crashed for at least 2 s; everything else is noise.
        let needs = |p: &Plan| {
            ["n3", "n11"].iter().all(|n| {
                p.entries.iter().any(|e| {
                    e.fault == Fault::Crash { node: (*n).into() }
                        && e.duration >= Some(Duration::from_secs(2))
                })
            })
        };
        let (small, runs) = minimize(&plan(16), needs);
        let nodes: Vec<_> = small.entries.iter().map(|e| e.fault.to_string()).collect();
        assert_eq!(nodes, ["crash n3", "crash n11"]);
        assert_eq!(small.entries[0].duration, Some(Duration::from_secs(2)));
        assert!(runs < 60, "{runs} reruns");
    }
}
