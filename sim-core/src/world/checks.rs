//! Checks inside a run: invariants, `always!`/`sometimes!`, liveness, `buggify!`.

use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::rc::Rc;

use serde::{Deserialize, Serialize};

use super::{NodeId, World};
use crate::error::{Cause, Failure};
use crate::trace::EventKind;

/// How often an `always!` or `sometimes!` assertion was evaluated and held.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coverage {
    /// `true` for `sometimes!`, `false` for `always!`.
    pub sometimes: bool,
    /// Times the condition was evaluated.
    pub evaluated: u64,
    /// Times it held.
    pub held: u64,
}

impl Coverage {
    /// Adds another run's counts (a sweep sums them).
    pub fn merge(&mut self, other: Coverage) {
        self.sometimes |= other.sometimes;
        self.evaluated += other.evaluated;
        self.held += other.held;
    }
}

pub(crate) type Check = Rc<dyn Fn() -> Result<(), String>>;

#[derive(Clone)]
pub(crate) struct Invariant {
    pub(crate) name: String,
    pub(crate) check: Check,
}

/// Chance that a `buggify!` site is enabled in a run, and that an enabled
/// site fires when reached (FoundationDB's numbers).
const BUGGIFY_SITE: f64 = 0.25;
const BUGGIFY_FIRE: f64 = 0.25;

impl World {
    /// Fails the run at the end of the current step (the first failure wins).
    pub(crate) fn fail_now(&self, cause: Cause, node: Option<NodeId>) {
        if self.failing.get() {
            return;
        }
        let failure = self.failure(cause, node);
        *self.pending.borrow_mut() = Some(failure);
        self.failing.set(true);
        self.checks_armed.set(true);
    }

    /// Adds an invariant checked after every step.
    pub(crate) fn add_invariant(&self, invariant: Invariant) {
        self.cold().invariants.borrow_mut().push(invariant);
        self.checks_armed.set(true);
    }

    /// Runs the per-step checks: a failure raised during the step, then the
    /// invariants. A step with neither costs one flag test.
    #[inline]
    pub(crate) fn after_step(&self) -> Result<(), Failure> {
        if !self.checks_armed.get() {
            return Ok(());
        }
        self.after_step_checks()
    }

    #[cold]
    #[inline(never)]
    fn after_step_checks(&self) -> Result<(), Failure> {
        if self.failing.get() {
            let failure = self.pending.borrow_mut().take();
            if let Some(failure) = failure {
                return Err(failure);
            }
        }
        let Some(cold) = self.cold_opt() else {
            return Ok(());
        };
        if cold.invariants.borrow().is_empty() {
            return Ok(());
        }
        let invariants: Vec<Invariant> = cold.invariants.borrow().clone();
        for Invariant { name, check } in invariants {
            let result = crate::panic::catch(AssertUnwindSafe(|| check()));
            let message = match result {
                Ok(Ok(())) => continue,
                Ok(Err(message)) => message,
                Err(panic) => format!("the check panicked: {}", panic.message),
            };
            return Err(self.failure(Cause::Invariant { name, message }, None));
        }
        Ok(())
    }

    pub(crate) fn assertion(&self, sometimes: bool, name: &'static str, held: bool) {
        let mut coverage = self.cold().coverage.borrow_mut();
        let entry = coverage.entry(name).or_insert(Coverage {
            sometimes,
            ..Coverage::default()
        });
        entry.evaluated += 1;
        entry.held += u64::from(held);
        drop(coverage);
        if let (true, true, Some(reached)) = (sometimes, held, self.reached.as_deref()) {
            reached.borrow_mut().sometimes(self.now(), name);
        }
    }

    /// A user coverage key (`coverage!`): recorded only when a sweep explores.
    pub(crate) fn cover_user(&self, name: &'static str, value: impl FnOnce() -> String) {
        if let Some(reached) = self.reached.as_deref() {
            let key = format!("{name}={}", value());
            reached.borrow_mut().user(self.now(), key);
        }
    }

    pub(crate) fn coverage_summary(&self) -> BTreeMap<String, Coverage> {
        self.cold_opt().map_or_else(BTreeMap::new, |cold| {
            cold.coverage
                .borrow()
                .iter()
                .map(|(name, c)| ((*name).to_owned(), *c))
                .collect()
        })
    }

    pub(crate) fn buggify(&self, site: &'static str) -> bool {
        if !self.config.buggify {
            return false;
        }
        let fired = {
            let mut sites = self.cold().buggify_sites.borrow_mut();
            let (enabled, rng) = sites.entry(site).or_insert_with(|| {
                let mut rng = self.keying.stream(&["buggify/", site]);
                (rng.chance(BUGGIFY_SITE), rng)
            });
            *enabled && rng.chance(BUGGIFY_FIRE)
        };
        if fired {
            if let Some(reached) = self.reached.as_deref() {
                reached.borrow_mut().buggify(self.now(), site);
            }
            self.emit(
                self.current_node(),
                EventKind::Buggify {
                    site: site.to_owned(),
                },
            );
        }
        fired
    }
}
