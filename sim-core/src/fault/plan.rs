//! Plans: time-ordered faults, as data.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::Fault;
use crate::time::Instant;

/// One entry of a plan: a fault applied at a virtual instant and, when it has
/// a duration, undone when the duration ends.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanEntry {
    /// When the fault is applied (true virtual time since the world started).
    #[serde(with = "human_duration")]
    pub at: Duration,
    /// How long it lasts before it is undone (`None`: until the end, or
    /// until a later entry changes it).
    #[serde(
        default,
        with = "human_duration_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub duration: Option<Duration>,
    /// The fault.
    pub fault: Fault,
}

impl PlanEntry {
    /// A fault at `at`, lasting `duration`.
    pub fn new(at: Duration, fault: Fault, duration: Option<Duration>) -> PlanEntry {
        PlanEntry {
            at,
            duration,
            fault,
        }
    }

    /// When it ends: `at + duration`, or `at` for a fault without duration.
    pub fn end(&self) -> Duration {
        self.at + self.duration.unwrap_or_default()
    }
}

impl fmt::Display for PlanEntry {
    /// `t=3.200s crash n1 for 1.500s`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "t={} {}", Instant::ZERO + self.at, self.fault)?;
        if let Some(duration) = self.duration {
            write!(f, " for {}", human_duration::describe(duration))?;
        }
        Ok(())
    }
}

/// A fault plan: entries in time order (ties keep their order).
///
/// # Examples
///
/// ```
/// use detsim::{Fault, Plan};
///
/// let plan = Plan::from_json(r#"{"entries": [
///     {"at": "3.2s", "duration": "1.5s", "fault": {"kind": "crash", "node": "n1"}},
///     {"at": "1s", "fault": {"kind": "one_way", "from": "n2", "to": "n3"}}
/// ]}"#).unwrap();
/// assert_eq!(plan.to_string(), "t=1.000000s one-way cut n2 -> n3\nt=3.200000s crash n1 for 1.5s");
/// assert_eq!(Plan::from_json(&plan.to_json()).unwrap(), plan);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// The entries, sorted by `at`.
    pub entries: Vec<PlanEntry>,
}

/// A plan that cannot be applied, naming the entry at fault.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanError {
    /// Index of the entry (`None`: the plan as a whole, such as malformed JSON).
    pub entry: Option<usize>,
    /// The entry in plain words.
    pub described: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl PlanError {
    pub(crate) fn entry(index: usize, entry: &PlanEntry, message: impl Into<String>) -> PlanError {
        PlanError {
            entry: Some(index),
            described: Some(entry.to_string()),
            message: message.into(),
        }
    }

    pub(crate) fn whole(message: impl Into<String>) -> PlanError {
        PlanError {
            entry: None,
            described: None,
            message: message.into(),
        }
    }
}

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.entry, &self.described) {
            (Some(index), Some(described)) => {
                write!(f, "plan entry {index} ({described}): {}", self.message)
            }
            _ => write!(f, "plan: {}", self.message),
        }
    }
}

impl std::error::Error for PlanError {}

impl Plan {
    /// A plan of these entries, sorted by time (stable).
    pub fn new(mut entries: Vec<PlanEntry>) -> Plan {
        entries.sort_by_key(|e| e.at);
        Plan { entries }
    }

    /// Whether it has no entry.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// How many entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// This plan with every entry `by` later: a plan written from t=0,
    /// applied to a world that has already run for `by`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use detsim::{Fault, Plan, PlanEntry};
    ///
    /// let plan = Plan::new(vec![PlanEntry::new(
    ///     Duration::from_secs(1),
    ///     Fault::Crash { node: "n1".into() },
    ///     None,
    /// )]);
    /// assert_eq!(plan.shifted(Duration::from_secs(5)).entries[0].at, Duration::from_secs(6));
    /// ```
    pub fn shifted(&self, by: Duration) -> Plan {
        let mut plan = self.clone();
        for entry in &mut plan.entries {
            entry.at = entry.at.saturating_add(by);
        }
        plan
    }

    /// When the last fault ends: from then on the plan leaves the world alone.
    pub fn quiet_from(&self) -> Duration {
        self.entries
            .iter()
            .map(PlanEntry::end)
            .max()
            .unwrap_or_default()
    }

    /// Parses a plan from JSON.
    ///
    /// # Errors
    ///
    /// A [`PlanError`] for malformed JSON, an unknown fault kind or field,
    /// or a value out of range, naming the entry.
    pub fn from_json(json: &str) -> Result<Plan, PlanError> {
        let plan: Plan = serde_json::from_str(json)
            .map_err(|e| PlanError::whole(format!("malformed plan: {e}")))?;
        let plan = Plan::new(plan.entries);
        plan.check_values()?;
        Ok(plan)
    }

    /// Reads a plan from a JSON file.
    ///
    /// # Errors
    ///
    /// As [`Plan::from_json`], or the file cannot be read.
    pub fn load(path: impl AsRef<std::path::Path>) -> Result<Plan, PlanError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .map_err(|e| PlanError::whole(format!("cannot read {}: {e}", path.display())))?;
        Plan::from_json(&text)
    }

    /// The plan as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a plan always serializes")
    }

    /// Writes the plan as JSON.
    ///
    /// # Errors
    ///
    /// The file cannot be written.
    pub fn save(&self, path: impl AsRef<std::path::Path>) -> std::io::Result<()> {
        if let Some(parent) = path.as_ref().parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, self.to_json() + "\n")
    }

    /// Values that are wrong whatever the world: probabilities, ranges.
    pub(crate) fn check_values(&self) -> Result<(), PlanError> {
        for (index, entry) in self.entries.iter().enumerate() {
            entry
                .fault
                .check_values()
                .map_err(|message| PlanError::entry(index, entry, message))?;
            if entry.duration == Some(Duration::ZERO) {
                return Err(PlanError::entry(
                    index,
                    entry,
                    "a duration must be above zero",
                ));
            }
        }
        Ok(())
    }

    /// Entries that contradict the plan itself: a restart of a node the plan
    /// has not crashed, a crash of a node it already holds down, a resume of
    /// a node it has not paused.
    pub(crate) fn check_process_states(&self) -> Result<(), PlanError> {
        // Per node: until when the plan holds it crashed / paused (None: not held).
        #[derive(Default, Clone, Copy)]
        struct Held {
            crashed: Option<Option<Duration>>,
            paused: Option<Option<Duration>>,
        }
        let mut held: BTreeMap<&str, Held> = BTreeMap::new();
        let active = |slot: Option<Option<Duration>>, at: Duration| match slot {
            Some(None) => true,
            Some(Some(until)) => at < until,
            None => false,
        };
        for (index, entry) in self.entries.iter().enumerate() {
            let until = entry.duration.map(|d| entry.at + d);
            let error = |message: String| Err(PlanError::entry(index, entry, message));
            match &entry.fault {
                Fault::Crash { node } => {
                    let h = held.entry(node).or_default();
                    if active(h.crashed, entry.at) {
                        return error(format!("{node} is already crashed by an earlier entry"));
                    }
                    h.crashed = Some(until);
                    h.paused = None;
                }
                Fault::Restart { node } => {
                    let h = held.entry(node).or_default();
                    if !active(h.crashed, entry.at) || h.crashed.flatten().is_some() {
                        return error(format!(
                            "{node} is not held crashed by an earlier entry without a duration"
                        ));
                    }
                    h.crashed = None;
                }
                Fault::Pause { node } => {
                    let h = held.entry(node).or_default();
                    if active(h.crashed, entry.at) || active(h.paused, entry.at) {
                        return error(format!("{node} is already crashed or paused"));
                    }
                    h.paused = Some(until);
                }
                Fault::Resume { node } => {
                    let h = held.entry(node).or_default();
                    if !active(h.paused, entry.at) || h.paused.flatten().is_some() {
                        return error(format!(
                            "{node} is not held paused by an earlier entry without a duration"
                        ));
                    }
                    h.paused = None;
                }
                _ => {}
            }
        }
        Ok(())
    }
}

impl fmt::Display for Plan {
    /// One entry per line, in plain words.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, entry) in self.entries.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{entry}")?;
        }
        Ok(())
    }
}

/// Durations as human strings (`"1.5s"`, `"250ms"`, `"10us"`, `"7ns"`), or a
/// number of nanoseconds.
pub(crate) mod human_duration {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer, de};

    /// The exact text of a duration: whole seconds, milliseconds,
    /// microseconds or nanoseconds, or seconds with up to three decimals
    /// (`1.5s`); it always parses back to the same nanosecond.
    pub(crate) fn format(duration: Duration) -> String {
        let nanos = duration.as_nanos();
        if nanos % 1_000_000 == 0 {
            let ms = nanos / 1_000_000;
            if ms % 1000 == 0 {
                format!("{}s", ms / 1000)
            } else if ms >= 1000 {
                let fraction = format!("{:03}", ms % 1000);
                format!("{}.{}s", ms / 1000, fraction.trim_end_matches('0'))
            } else {
                format!("{ms}ms")
            }
        } else if nanos % 1000 == 0 {
            format!("{}us", nanos / 1000)
        } else {
            format!("{nanos}ns")
        }
    }

    /// For plain words: at most millisecond precision (`1.882s`, `250ms`, `3us`).
    pub(crate) fn describe(duration: Duration) -> String {
        let nanos = duration.as_nanos();
        if nanos >= 1_000_000_000 {
            let text = format!("{:.3}", duration.as_secs_f64());
            format!("{}s", text.trim_end_matches('0').trim_end_matches('.'))
        } else if nanos >= 1_000_000 {
            format!("{}ms", nanos / 1_000_000)
        } else if nanos >= 1_000 {
            format!("{}us", nanos / 1_000)
        } else {
            format!("{nanos}ns")
        }
    }

    /// Parses `<digits>[.<digits>]<unit>` exactly (integer arithmetic, no
    /// rounding): units `ns`, `us` (or `µs`), `ms`, `s`, `m` (or `min`).
    /// Refused: no digits before or after the point (`.5s`, `1.s`), a space
    /// before the unit (`1 s`), a sign, a value that is not a whole number
    /// of nanoseconds (`1.5ns`), a value above `u64::MAX` nanoseconds.
    pub(crate) fn parse(text: &str) -> Result<Duration, String> {
        let split = text
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| format!("duration {text:?} has no unit (ns, us, ms, s, m)"))?;
        let (number, unit) = text.split_at(split);
        if number.is_empty() {
            return Err(format!(
                "duration {text:?} does not start with a number like 250ms or 1.5s (digits on both sides of a point)"
            ));
        }
        let scale: u128 = match unit {
            "ns" => 1,
            "us" | "µs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" | "min" => 60_000_000_000,
            other => {
                return Err(format!(
                    "duration {text:?} has an unknown unit {other:?} (expected ns, us, ms, s or m right after the number)"
                ));
            }
        };
        let (whole, fraction) = match number.split_once('.') {
            Some((whole, fraction)) => (whole, Some(fraction)),
            None => (number, None),
        };
        let digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
        if !digits(whole) || fraction.is_some_and(|f| !digits(f)) {
            return Err(format!(
                "duration {text:?} is not a number like 250ms or 1.5s (digits on both sides of a point)"
            ));
        }
        let out_of_range = || {
            format!(
                "duration {text:?} is out of range (at most {} ns)",
                u64::MAX
            )
        };
        let whole: u128 = whole.parse().map_err(|_| out_of_range())?;
        let mut nanos = whole.checked_mul(scale).ok_or_else(out_of_range)?;
        if let Some(fraction) = fraction {
            let fraction = fraction.trim_end_matches('0');
            if !fraction.is_empty() {
                let not_whole =
                    || format!("duration {text:?} is not a whole number of nanoseconds");
                let denominator = u32::try_from(fraction.len())
                    .ok()
                    .and_then(|len| 10u128.checked_pow(len))
                    .ok_or_else(not_whole)?;
                let numerator: u128 = fraction.parse().map_err(|_| not_whole())?;
                let scaled = numerator.checked_mul(scale).ok_or_else(not_whole)?;
                if scaled % denominator != 0 {
                    return Err(not_whole());
                }
                nanos = nanos
                    .checked_add(scaled / denominator)
                    .ok_or_else(out_of_range)?;
            }
        }
        let nanos = u64::try_from(nanos).map_err(|_| out_of_range())?;
        Ok(Duration::from_nanos(nanos))
    }

    pub(crate) fn serialize<S: Serializer>(value: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format(*value))
    }

    /// A duration as JSON holds it: a whole number of nanoseconds, or text.
    pub(crate) enum Raw {
        Nanos(u64),
        Text(String),
    }

    impl<'de> Deserialize<'de> for Raw {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Raw, D::Error> {
            struct Visitor;
            impl de::Visitor<'_> for Visitor {
                type Value = Raw;

                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str("a duration: nanoseconds as a whole number, or text like \"250ms\"")
                }

                fn visit_u64<E: de::Error>(self, v: u64) -> Result<Raw, E> {
                    Ok(Raw::Nanos(v))
                }

                fn visit_i64<E: de::Error>(self, v: i64) -> Result<Raw, E> {
                    u64::try_from(v)
                        .map(Raw::Nanos)
                        .map_err(|_| E::custom(format!("duration {v} is negative")))
                }

                fn visit_f64<E: de::Error>(self, v: f64) -> Result<Raw, E> {
                    Err(E::custom(format!(
                        "duration {v} is not a whole number of nanoseconds: write it as text with a unit, like \"1.5ms\""
                    )))
                }

                fn visit_str<E: de::Error>(self, v: &str) -> Result<Raw, E> {
                    Ok(Raw::Text(v.to_owned()))
                }
            }
            d.deserialize_any(Visitor)
        }
    }

    pub(crate) fn from_raw<E: de::Error>(raw: Raw) -> Result<Duration, E> {
        match raw {
            Raw::Nanos(n) => Ok(Duration::from_nanos(n)),
            Raw::Text(text) => parse(&text).map_err(E::custom),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        from_raw(Raw::deserialize(d)?)
    }
}

pub(crate) mod human_duration_opt {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    use super::human_duration::{self, Raw};

    pub(crate) fn serialize<S: Serializer>(
        value: &Option<Duration>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(d) => human_duration::serialize(d, s),
            None => s.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Duration>, D::Error> {
        Option::<Raw>::deserialize(d)?
            .map(human_duration::from_raw)
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::human_duration::{format, parse};
    use std::time::Duration;

    #[test]
    fn human_durations_round_trip() {
        for (text, nanos) in [
            ("1.5s", 1_500_000_000),
            ("250ms", 250_000_000),
            ("10us", 10_000),
            ("7ns", 7),
            ("2s", 2_000_000_000),
        ] {
            assert_eq!(parse(text).unwrap(), Duration::from_nanos(nanos));
            assert_eq!(format(Duration::from_nanos(nanos)), text);
        }
        assert!(parse("12").is_err());
        assert!(parse("1.5h").is_err());
        assert!(parse("s").is_err());
    }

    #[test]
    fn durations_are_exact_to_the_nanosecond() {
        // Proves decimal text parses without f64 rounding and formats back to the same value.
        for (text, nanos) in [
            ("4194386.633s", 4_194_386_633_000_000u64),
            ("0.000000001s", 1),
            ("1.000000001s", 1_000_000_001),
            ("9007199254740993ns", (1 << 53) + 1),
            ("1.5us", 1500),
            ("2.5m", 150_000_000_000),
            ("1.50s", 1_500_000_000),
            ("18446744073709551615ns", u64::MAX),
        ] {
            let parsed = parse(text).unwrap();
            assert_eq!(parsed, Duration::from_nanos(nanos), "{text}");
            assert_eq!(parse(&format(parsed)).unwrap(), parsed, "{text}");
        }
        assert_eq!(format(Duration::from_millis(4_194_386_633)), "4194386.633s");
        assert_eq!(format(Duration::from_millis(1_050)), "1.05s");
    }

    #[test]
    fn plans_round_trip_exactly_and_extra_latency_takes_words() {
        // Proves 2^53 + 1 ns survives a JSON round trip, `extra_latency` reads words or
        // nanoseconds, and a fractional number is an error naming it.
        use crate::fault::{Fault, LinkChange};
        use crate::{Plan, PlanEntry};
        let odd = Duration::from_nanos((1 << 53) + 1);
        let plan = Plan::new(vec![PlanEntry::new(
            Duration::from_nanos(4_194_386_633_000_000),
            Fault::Link {
                from: "a".into(),
                to: "b".into(),
                change: LinkChange {
                    extra_latency: Some(odd),
                    ..LinkChange::default()
                },
            },
            Some(odd),
        )]);
        let back = Plan::from_json(&plan.to_json()).unwrap();
        assert_eq!(back, plan);
        assert_eq!(back.entries[0].duration, Some(odd));
        let link = |extra: &str| {
            Plan::from_json(&format!(
                r#"{{"entries": [{{"at": "4194386.633s", "fault": {{"kind": "link", "from": "a", "to": "b", "change": {{"extra_latency": {extra}}}}}}}]}}"#
            ))
        };
        let extra = |plan: Plan| match &plan.entries[0].fault {
            Fault::Link { change, .. } => change.extra_latency,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            extra(link(r#""100ms""#).unwrap()),
            Some(Duration::from_millis(100))
        );
        assert_eq!(
            extra(link("2500").unwrap()),
            Some(Duration::from_nanos(2500))
        );
        assert_eq!(
            link(r#""4194386.633s""#).unwrap().entries[0].at,
            Duration::from_nanos(4_194_386_633_000_000)
        );
        let error = link("1.5").unwrap_err().to_string();
        assert!(
            error.contains("duration 1.5 is not a whole number of nanoseconds"),
            "{error}"
        );
        let error = link(r#""1 s""#).unwrap_err().to_string();
        assert!(error.contains(r#"duration "1 s""#), "{error}");
    }

    #[test]
    fn malformed_durations_are_refused_naming_the_text() {
        // Proves garbage that f64 parsing let through is a clear error naming the input.
        for (text, needle) in [
            ("1.s", "digits on both sides"),
            (".5s", "digits on both sides"),
            ("1..5s", "digits on both sides"),
            ("1 s", "unknown unit \" s\""),
            (" 1s", "digits on both sides"),
            ("1.5ns", "not a whole number of nanoseconds"),
            ("0.0000000001s", "not a whole number of nanoseconds"),
            ("18446744073709551616ns", "out of range"),
            ("+1s", "digits on both sides"),
            ("-1s", "digits on both sides"),
        ] {
            let error = parse(text).unwrap_err();
            assert!(error.contains(&format!("{text:?}")), "{text}: {error}");
            assert!(error.contains(needle), "{text}: {error}");
        }
    }
}
