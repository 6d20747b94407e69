//! The environment every sweep honours: `SIM_SEED`, `SIM_SEEDS`,
//! `SIM_FIRST_SEED`, `SIM_SHARD`, `JOB_COMPLETION_INDEX` + `SIM_SHARD_COUNT`,
//! `SIM_PLAN`, `SIM_CHECK_DETERMINISM`.

use std::fmt;

use crate::Seed;
use crate::fault::{Plan, PlanError};

/// One shard of a sweep: this machine runs the seeds whose position in the
/// range is `index` modulo `count`. All shards together run every seed
/// exactly once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// This shard, from 0.
    pub index: u64,
    /// How many shards.
    pub count: u64,
}

impl Shard {
    /// Shard `index` of `count`.
    ///
    /// # Errors
    ///
    /// [`SweepError::Env`] unless `index < count`.
    pub fn new(index: u64, count: u64) -> Result<Shard, SweepError> {
        if count == 0 || index >= count {
            return Err(SweepError::Env(format!(
                "shard {index}/{count}: the index must be below the count, and the count above zero"
            )));
        }
        Ok(Shard { index, count })
    }

    /// Whether the seed at `position` in the range belongs to this shard.
    pub fn owns(&self, position: u64) -> bool {
        position % self.count == self.index
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// A sweep that cannot start: a malformed environment variable, an
/// unreadable regressions file, a bad plan file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SweepError {
    /// An environment variable is malformed.
    Env(String),
    /// The regressions file cannot be read or has a malformed line.
    Regressions(String),
    /// `SIM_PLAN` names a plan that cannot be loaded.
    Plan(PlanError),
    /// The sweep's own configuration is impossible (a seed range that runs
    /// past the last seed, a zero time budget).
    Config(String),
    /// The sweep would run no seed, and so pass without testing anything;
    /// [`Sweep::allow_empty`](crate::Sweep::allow_empty) says that is fine
    /// (a CI shard that happens to own no seed).
    Empty(String),
}

impl fmt::Display for SweepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SweepError::Env(message) => write!(f, "sweep environment: {message}"),
            SweepError::Regressions(message) => write!(f, "regressions file: {message}"),
            SweepError::Plan(error) => write!(f, "SIM_PLAN: {error}"),
            SweepError::Config(message) => write!(f, "sweep configuration: {message}"),
            SweepError::Empty(message) => write!(
                f,
                "empty sweep: {message}; it would pass without testing anything (if that is \
                 intended, as for a CI shard that owns no seed, say so with `Sweep::allow_empty(true)`)"
            ),
        }
    }
}

impl std::error::Error for SweepError {}

/// What the environment asks of a sweep.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Env {
    pub(crate) seed: Option<Seed>,
    pub(crate) seeds: Option<u64>,
    pub(crate) first: Option<u64>,
    pub(crate) shard: Option<Shard>,
    pub(crate) plan: Option<Plan>,
    /// `SIM_CHECK_DETERMINISM`: audit every N-th seed.
    pub(crate) check_determinism: Option<u64>,
    /// `SIM_FORKS`: with `SIM_SEED`, the fork chain of the run to replay.
    pub(crate) forks: Option<crate::Forks>,
    /// `SIM_EXPLORE`: explore instead of sweeping seeds in order.
    pub(crate) explore: Option<crate::Explore>,
}

impl Env {
    pub(crate) fn read() -> Result<Env, SweepError> {
        Env::parse(|name| std::env::var(name).ok())
    }

    /// Parses from a lookup function, so tests need not touch the process environment.
    pub(crate) fn parse(var: impl Fn(&str) -> Option<String>) -> Result<Env, SweepError> {
        // A count or an index: decimal digits only (no sign, no hex).
        let decimal = |name: &str, text: &str| -> Result<u64, SweepError> {
            crate::seed::parse_digits(text.trim(), 10).ok_or_else(|| {
                SweepError::Env(format!(
                    "{name}={text:?} is not a decimal number (digits only, no sign)"
                ))
            })
        };
        let seed = var("SIM_SEED")
            .map(|text| {
                text.parse::<Seed>()
                    .map_err(|e| SweepError::Env(format!("SIM_SEED: {e}")))
            })
            .transpose()?;
        let first = var("SIM_FIRST_SEED")
            .map(|text| {
                text.parse::<Seed>()
                    .map(Seed::get)
                    .map_err(|e| SweepError::Env(format!("SIM_FIRST_SEED: {e}")))
            })
            .transpose()?;
        let seeds = var("SIM_SEEDS")
            .map(|text| decimal("SIM_SEEDS", &text))
            .transpose()?;
        let shard = match (var("SIM_SHARD"), var("JOB_COMPLETION_INDEX")) {
            (Some(text), _) => {
                let malformed = || {
                    SweepError::Env(format!(
                        "SIM_SHARD={text:?} is not of the form INDEX/COUNT in decimal, e.g. 0/4"
                    ))
                };
                let (index, count) = text.split_once('/').ok_or_else(malformed)?;
                let parse =
                    |part: &str| crate::seed::parse_digits(part.trim(), 10).ok_or_else(malformed);
                Some(Shard::new(parse(index)?, parse(count)?)?)
            }
            (None, Some(index)) => {
                let index = decimal("JOB_COMPLETION_INDEX", &index)?;
                let count = var("SIM_SHARD_COUNT")
                    .map(|text| decimal("SIM_SHARD_COUNT", &text))
                    .transpose()?
                    .ok_or_else(|| {
                        SweepError::Env(
                            "JOB_COMPLETION_INDEX is set but SIM_SHARD_COUNT (the job's completions) is not".into(),
                        )
                    })?;
                Some(Shard::new(index, count)?)
            }
            (None, None) => None,
        };
        // Checked here so that a typo is the sweep's error, not a panic of
        // every case's `build().unwrap()` reported as that seed's failure.
        if let Some(text) = var("SIM_LOG") {
            crate::trace::ConsoleLevel::parse(&text)
                .map_err(|e| SweepError::Env(format!("SIM_LOG: {e}")))?;
        }
        if let Some(text) = var("SIM_WATCHDOG") {
            crate::world::parse_watchdog_limit(&text)
                .map_err(|e| SweepError::Env(format!("SIM_WATCHDOG: {e}")))?;
        }
        let plan = match (var("SIM_PLAN"), seed) {
            (Some(path), None) => {
                return Err(SweepError::Env(format!(
                    "SIM_PLAN={path:?} without SIM_SEED: a plan replays one seed; set SIM_SEED too"
                )));
            }
            (Some(path), Some(_)) => Some(Plan::load(&path).map_err(SweepError::Plan)?),
            (None, _) => None,
        };
        let forks = var("SIM_FORKS")
            .map(|text| {
                text.parse::<crate::Forks>()
                    .map_err(|e| SweepError::Env(format!("SIM_FORKS: {e}")))
            })
            .transpose()?;
        let explore = var("SIM_EXPLORE")
            .map(|text| {
                text.parse::<crate::Explore>()
                    .map_err(|e| SweepError::Env(format!("SIM_EXPLORE: {e}")))
            })
            .transpose()?;
        Ok(Env {
            forks,
            explore,
            seed,
            seeds,
            first,
            shard,
            plan,
            check_determinism: var("SIM_CHECK_DETERMINISM")
                .map(|text| decimal("SIM_CHECK_DETERMINISM", &text))
                .transpose()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(vars: &[(&str, &str)]) -> Result<Env, SweepError> {
        Env::parse(|name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn every_variable_parses_and_malformed_ones_are_named() {
        let env = parse(&[
            ("SIM_SEED", "0x2a"),
            ("SIM_SEEDS", "500"),
            ("SIM_FIRST_SEED", "7"),
            ("SIM_SHARD", "1/4"),
        ])
        .unwrap();
        assert_eq!(env.seed, Some(Seed::new(42)));
        assert_eq!(env.seeds, Some(500));
        assert_eq!(env.first, Some(7));
        assert_eq!(env.shard, Some(Shard { index: 1, count: 4 }));
        let k8s = parse(&[("JOB_COMPLETION_INDEX", "3"), ("SIM_SHARD_COUNT", "8")]).unwrap();
        assert_eq!(k8s.shard, Some(Shard { index: 3, count: 8 }));
        assert_eq!(
            parse(&[("SIM_SHARD", "4/4")]).unwrap_err().to_string(),
            "sweep environment: shard 4/4: the index must be below the count, and the count above zero"
        );
        assert!(
            parse(&[("SIM_SHARD", "two")])
                .unwrap_err()
                .to_string()
                .contains("INDEX/COUNT")
        );
        assert!(
            parse(&[("JOB_COMPLETION_INDEX", "1")])
                .unwrap_err()
                .to_string()
                .contains("SIM_SHARD_COUNT")
        );
        assert!(
            parse(&[("SIM_SEED", "0xZZ")])
                .unwrap_err()
                .to_string()
                .contains("invalid seed")
        );
        assert!(
            parse(&[("SIM_SEEDS", "many")])
                .unwrap_err()
                .to_string()
                .contains("SIM_SEEDS")
        );
        assert!(matches!(
            parse(&[("SIM_SEED", "1"), ("SIM_PLAN", "/nonexistent/plan.json")]),
            Err(SweepError::Plan(_))
        ));
    }

    #[test]
    fn garbage_is_refused_naming_the_variable() {
        // Proves counts are decimal only, a lone SIM_PLAN and a bad SIM_LOG or
        // SIM_WATCHDOG are errors (SIM_SEEDS=0 is the sweep's to judge).
        let error = |vars: &[(&str, &str)]| parse(vars).unwrap_err().to_string();
        for (name, text) in [
            ("SIM_SEEDS", "0x10"),
            ("SIM_SEEDS", "+5"),
            ("SIM_SEEDS", "-5"),
            ("SIM_SEEDS", "_7_"),
            ("SIM_SHARD_COUNT", "0x8"),
        ] {
            let mut vars = vec![(name, text)];
            if name == "SIM_SHARD_COUNT" {
                vars.push(("JOB_COMPLETION_INDEX", "1"));
            }
            assert_eq!(
                error(&vars),
                format!(
                    "sweep environment: {name}={text:?} is not a decimal number (digits only, no sign)"
                )
            );
        }
        assert_eq!(
            error(&[("JOB_COMPLETION_INDEX", "+1"), ("SIM_SHARD_COUNT", "4")]),
            "sweep environment: JOB_COMPLETION_INDEX=\"+1\" is not a decimal number (digits only, no sign)"
        );
        for text in ["+1/4", "1/+4", "0x1/4", "1/4/2", "-1/4"] {
            assert!(
                error(&[("SIM_SHARD", text)])
                    .contains(&format!("SIM_SHARD={text:?} is not of the form")),
                "{text}"
            );
        }
        assert!(error(&[("SIM_FIRST_SEED", "+5")]).contains("SIM_FIRST_SEED: invalid seed \"+5\""));
        assert_eq!(parse(&[("SIM_SEEDS", "0")]).unwrap().seeds, Some(0));
        assert_eq!(
            error(&[("SIM_LOG", "verbose")]),
            "sweep environment: SIM_LOG: invalid configuration: log level \"verbose\" is not one of off, error, warn, info, debug, trace"
        );
        assert!(error(&[("SIM_WATCHDOG", "10")]).starts_with("sweep environment: SIM_WATCHDOG: "));
        assert_eq!(
            error(&[("SIM_PLAN", "plan.json")]),
            "sweep environment: SIM_PLAN=\"plan.json\" without SIM_SEED: a plan replays one seed; set SIM_SEED too"
        );
        let env = parse(&[("SIM_SEEDS", "10_000"), ("SIM_FIRST_SEED", "0x10")]).unwrap();
        assert_eq!((env.seeds, env.first), (Some(10_000), Some(16)));
    }

    #[test]
    fn forks_and_explore_parse_and_malformed_ones_are_named() {
        let env = parse(&[
            ("SIM_FORKS", "1.25s:0x9,3.5s:0x11"),
            ("SIM_EXPLORE", "runs=300,seed=7,wall=2s,blind"),
        ])
        .unwrap();
        assert_eq!(env.forks.unwrap().to_string(), "1.25s:0x9,3.5s:0x11");
        let explore = env.explore.unwrap();
        assert_eq!(
            explore,
            crate::Explore::runs(300)
                .campaign_seed(7)
                .wall(std::time::Duration::from_secs(2))
                .blind()
        );
        let error = parse(&[("SIM_FORKS", "3s:0x1,1s:0x2")])
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("SIM_FORKS") && error.contains("increase"),
            "{error}"
        );
        let error = parse(&[("SIM_EXPLORE", "runs=many")])
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("SIM_EXPLORE") && error.contains("many"),
            "{error}"
        );
        let error = parse(&[("SIM_EXPLORE", "depth=3")])
            .unwrap_err()
            .to_string();
        assert!(error.contains("unknown setting"), "{error}");
    }
}
