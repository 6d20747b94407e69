//! The coverage signal: which rare things a run reached, and when.
//!
//! A world records coverage only when a sweep explores (the sink is then
//! installed by [`Case::builder`](crate::Case::builder)); otherwise every
//! hook is one branch on a `None`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use crate::time::Instant;

/// Hit counts are bucketed by powers of two up to this count, so "held 8
/// times" is a key of its own, as in AFL's hit-count buckets.
const BUCKET_MAX: u64 = 64;

/// The coverage keys one run reached, each with the virtual instant it was
/// first reached.
///
/// Keys read like `sometimes:leader elected`, `sometimes:leader elected#4`
/// (held at least four times), `buggify:src/log.rs:40:12`,
/// `fault:crash`, `faults:crash+partition` (active together) and
/// `user:<name>=<value>` from [`coverage!`](crate::coverage).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reached {
    /// Key → first instant.
    pub(crate) keys: BTreeMap<String, Instant>,
    counts: BTreeMap<(u8, &'static str), u64>,
    user_counts: BTreeMap<String, u64>,
    /// Faults active now (plan index, kind), to name kinds active together.
    active: Vec<(u64, String)>,
}

impl Reached {
    /// The keys and the instant each was first reached.
    pub fn keys(&self) -> &BTreeMap<String, Instant> {
        &self.keys
    }

    fn count(&mut self, now: Instant, prefix: &str, key: &str, count: u64) {
        if count == 1 {
            self.keys.entry(format!("{prefix}:{key}")).or_insert(now);
        } else if count.is_power_of_two() && count <= BUCKET_MAX {
            self.keys
                .entry(format!("{prefix}:{key}#{count}"))
                .or_insert(now);
        }
    }

    pub(crate) fn sometimes(&mut self, now: Instant, name: &'static str) {
        let count = self.counts.entry((0, name)).or_insert(0);
        *count += 1;
        let count = *count;
        self.count(now, "sometimes", name, count);
    }

    pub(crate) fn buggify(&mut self, now: Instant, site: &'static str) {
        let count = self.counts.entry((1, site)).or_insert(0);
        *count += 1;
        let count = *count;
        self.count(now, "buggify", site, count);
    }

    pub(crate) fn user(&mut self, now: Instant, key: String) {
        let count = match self.user_counts.get_mut(&key) {
            Some(count) => {
                *count += 1;
                *count
            }
            None => {
                self.user_counts.insert(key.clone(), 1);
                1
            }
        };
        self.count(now, "user", &key, count);
    }

    pub(crate) fn fault_start(&mut self, now: Instant, index: u64, kind: &str, lasting: bool) {
        self.keys.entry(format!("fault:{kind}")).or_insert(now);
        for (_, other) in &self.active {
            let (a, b) = if other.as_str() <= kind {
                (other.as_str(), kind)
            } else {
                (kind, other.as_str())
            };
            self.keys.entry(format!("faults:{a}+{b}")).or_insert(now);
        }
        if lasting {
            self.active.push((index, kind.to_owned()));
        }
    }

    pub(crate) fn fault_end(&mut self, index: u64) {
        self.active.retain(|(i, _)| *i != index);
    }
}

/// Where a world leaves what it reached, for the explorer to read after the
/// case returns.
pub(crate) type Sink = Arc<Mutex<Reached>>;
