//! The scenario: the world (three zones, a load balancer, backends, clients,
//! an autoscaler), the phases with their load and faults, and the run.

use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;
use std::time::Duration;

use detsim::{Fault, Fingerprint, LinkChange, Plan, PlanEntry, Seed, Sim, Trace, TraceMode, time};
use detsim_disk::{DiskConfig, Disks};
use detsim_net::{Latency, LinkProfile, Net};

use crate::lb::metrics::{PhaseStats, Recorder};
use crate::lb::{autoscaler, backend, balancer, client};

/// The region every zone is in.
pub const REGION: &str = "us-east-1";
/// The three availability zones.
pub const ZONES: [&str; 3] = ["us-east-1a", "us-east-1b", "us-east-1c"];
/// The load balancer's node (in the first zone, with the clients).
pub const LB: &str = "lb";
/// The autoscaler's node.
pub const AUTOSCALER: &str = "autoscaler";

/// The name of the `n`-th backend (from 1) of a zone: `api-1a-1`.
pub fn backend_name(zone: &str, n: u32) -> String {
    let short = zone.rsplit('-').next().unwrap_or(zone);
    format!("api-{short}-{n}")
}

/// A window of the run with its own load and, usually, its own fault.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Phase {
    /// A short name (`chaos kong`).
    pub name: String,
    /// When it starts.
    pub start: Duration,
    /// When it ends (the next one starts).
    pub end: Duration,
    /// Client requests per second at its start.
    pub load_from: u32,
    /// Client requests per second from its middle on (a linear ramp between).
    pub load_to: u32,
}

impl Phase {
    /// Offered load at `t` (inside the phase), in requests per second.
    pub fn load_at(&self, t: Duration) -> f64 {
        let (from, to) = (f64::from(self.load_from), f64::from(self.load_to));
        let half = (self.end - self.start) / 2;
        if t >= self.start + half || half.is_zero() {
            to
        } else {
            let progress = (t - self.start).as_secs_f64() / half.as_secs_f64();
            from + (to - from) * progress
        }
    }
}

/// Timeouts, thresholds and capacities of the simulated system.
#[derive(Clone, Debug, PartialEq)]
pub struct Tuning {
    /// Client nodes (the load is split between them).
    pub clients: u32,
    /// How long a client waits for one attempt.
    pub attempt_timeout: Duration,
    /// Attempts per request, the first included.
    pub attempts: u32,
    /// Base of the client's exponential backoff between attempts (with full jitter).
    pub backoff: Duration,
    /// How long the load balancer waits for one backend.
    pub try_timeout: Duration,
    /// Backends the load balancer tries per request.
    pub tries: u32,
    /// Period of the load balancer's health checks.
    pub health_interval: Duration,
    /// How long a health check may take.
    pub health_timeout: Duration,
    /// Consecutive passed checks that make a backend healthy.
    pub healthy_threshold: u32,
    /// Consecutive failed checks that make a backend unhealthy.
    pub unhealthy_threshold: u32,
    /// CPU time of one request on a backend (uniform in the range); each
    /// backend serves one request at a time.
    pub service_time: (Duration, Duration),
    /// Requests a backend queues before it sheds load.
    pub queue_max: usize,
    /// Bytes a backend journals (and syncs) per request.
    pub record_size: usize,
    /// How often the autoscaler reads the load balancer's statistics.
    pub scale_interval: Duration,
    /// Requests per second per registered backend above which it scales out.
    pub scale_threshold: f64,
    /// How long after a scale-out it waits before the next.
    pub scale_cooldown: Duration,
    /// The most backends it runs.
    pub backends_max: u32,
}

impl Default for Tuning {
    fn default() -> Tuning {
        let ms = Duration::from_millis;
        Tuning {
            clients: 2,
            attempt_timeout: ms(500),
            attempts: 3,
            backoff: ms(50),
            try_timeout: ms(250),
            tries: 2,
            health_interval: ms(500),
            health_timeout: ms(250),
            healthy_threshold: 2,
            unhealthy_threshold: 2,
            service_time: (ms(8), ms(12)),
            queue_max: 50,
            record_size: 128,
            scale_interval: Duration::from_secs(1),
            scale_threshold: 50.0,
            scale_cooldown: Duration::from_secs(5),
            backends_max: 12,
        }
    }
}

/// The multi-zone service and what happens to it.
///
/// Seven phases of `phase_length` each: steady; Chaos Monkey crashes a
/// backend; Latency Monkey slows one zone's links; one backend's disk turns
/// slow; the load ramps up and the autoscaler scales out; Chaos Kong takes a
/// whole zone out; recovery. The faults are a [`Plan`].
#[derive(Clone, Debug, PartialEq)]
pub struct Scenario {
    /// The world's seed.
    pub seed: Seed,
    /// Time for the backends to boot, register and pass their first health
    /// checks before the clients start (the first phase starts then).
    pub warmup: Duration,
    /// Length of each phase.
    pub phase_length: Duration,
    /// Requests per second before the ramp.
    pub load_base: u32,
    /// Requests per second after it.
    pub load_peak: u32,
    /// Backends per zone at the start.
    pub backends_per_zone: u32,
    /// Whether the autoscaler adds backends.
    pub autoscale: bool,
    /// Extra one-way latency Latency Monkey adds to the zone's links.
    pub zone_latency: Duration,
    /// How much slower the slow disk is.
    pub disk_slowdown: f64,
    /// The system's timeouts and capacities.
    pub tuning: Tuning,
}

impl Default for Scenario {
    fn default() -> Scenario {
        Scenario {
            seed: Seed::new(0x2a),
            warmup: Duration::from_secs(2),
            phase_length: Duration::from_secs(10),
            load_base: 150,
            load_peak: 400,
            backends_per_zone: 2,
            autoscale: true,
            zone_latency: Duration::from_millis(100),
            disk_slowdown: 100.0,
            tuning: Tuning::default(),
        }
    }
}

/// Why a scenario could not run.
#[derive(Debug)]
pub enum ScenarioError {
    /// A value of the scenario or its tuning is out of range.
    Invalid(String),
    /// The world could not be set up (a network, disk or node error).
    Setup(String),
    /// The fault plan was rejected.
    Plan(detsim::PlanError),
    /// The simulation failed (a panic in a node, a deadlock, a limit).
    Sim(Box<detsim::Failure>),
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScenarioError::Invalid(message) => write!(f, "invalid scenario: {message}"),
            ScenarioError::Setup(message) => write!(f, "setting up the world: {message}"),
            ScenarioError::Plan(error) => write!(f, "{error}"),
            ScenarioError::Sim(failure) => write!(f, "{failure}"),
        }
    }
}

impl std::error::Error for ScenarioError {}

fn setup(error: impl fmt::Display) -> ScenarioError {
    ScenarioError::Setup(error.to_string())
}

/// What a run measured.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The seed.
    pub seed: Seed,
    /// The fault plan that was applied.
    pub plan: Plan,
    /// The phases.
    pub phases: Vec<Phase>,
    /// One row per phase.
    pub rows: Vec<PhaseStats>,
    /// Everything observed.
    pub recorder: Recorder,
    /// The trace fingerprint (equal for equal seeds).
    pub fingerprint: Fingerprint,
    /// The run's trace: its events too if the world recorded them
    /// ([`Scenario::run_recorded`]).
    pub trace: Trace,
    /// Steps the world took.
    pub steps: u64,
    /// Virtual time at the end.
    pub elapsed: Duration,
}

impl Outcome {
    /// The row of the phase named `name`.
    ///
    /// # Panics
    ///
    /// If no phase has that name.
    pub fn row(&self, name: &str) -> &PhaseStats {
        self.rows
            .iter()
            .find(|r| r.phase.name == name)
            .unwrap_or_else(|| panic!("no phase named {name:?}"))
    }

    /// The backends the autoscaler added, in order.
    pub fn added_backends(&self) -> Vec<String> {
        self.recorder
            .reactions
            .iter()
            .filter(|r| r.actor == AUTOSCALER)
            .filter_map(|r| r.what.strip_prefix("added "))
            .map(|what| what.split(' ').next().unwrap_or(what).to_owned())
            .collect()
    }
}

/// What every node of the world shares: the scenario and the instrument.
pub(crate) struct Shared {
    pub(crate) scenario: Scenario,
    pub(crate) phases: Vec<Phase>,
    pub(crate) recorder: RefCell<Recorder>,
}

impl Shared {
    /// True virtual time since the world started.
    pub(crate) fn now() -> Duration {
        let now = detsim::handle().now();
        now.saturating_duration_since(time::Instant::ZERO)
    }

    /// When the first phase starts (clients start issuing requests).
    pub(crate) fn load_start(&self) -> Duration {
        self.phases.first().map_or(Duration::ZERO, |p| p.start)
    }

    /// When the last phase ends (clients stop issuing requests).
    pub(crate) fn load_end(&self) -> Duration {
        self.phases.last().map_or(Duration::ZERO, |p| p.end)
    }

    /// Offered load at `t`, in requests per second (0 after the last phase).
    pub(crate) fn load_at(&self, t: Duration) -> f64 {
        self.phases
            .iter()
            .find(|p| t >= p.start && t < p.end)
            .map_or(0.0, |p| p.load_at(t))
    }
}

impl Scenario {
    /// The backends a zone starts with.
    pub fn initial_backends(&self, zone: &str) -> Vec<String> {
        (1..=self.backends_per_zone)
            .map(|n| backend_name(zone, n))
            .collect()
    }

    /// The phases, back to back.
    pub fn phases(&self) -> Vec<Phase> {
        let (base, peak) = (self.load_base, self.load_peak);
        let steps = [
            ("steady", base, base),
            ("chaos monkey", base, base),
            ("latency monkey", base, base),
            ("slow disk", base, base),
            ("load rises", base, peak),
            ("chaos kong", peak, peak),
            ("recovery", peak, peak),
        ];
        let length = self.phase_length;
        steps
            .iter()
            .zip(0u32..)
            .map(|(&(name, load_from, load_to), i)| Phase {
                name: name.to_owned(),
                start: self.warmup + length * i,
                end: self.warmup + length * (i + 1),
                load_from,
                load_to,
            })
            .collect()
    }

    /// The faults, as a plan: each starts with its phase and is undone when
    /// the phase ends.
    ///
    /// # Panics
    ///
    /// With fewer than one backend per zone.
    pub fn plan(&self) -> Plan {
        assert!(
            self.backends_per_zone >= 1,
            "the scenario needs a backend per zone"
        );
        let phases = self.phases();
        let at = |name: &str| {
            let phase = phases
                .iter()
                .find(|p| p.name == name)
                .expect("a phase of the scenario");
            (phase.start, Some(phase.end - phase.start))
        };
        let mut entries = Vec::new();
        // Chaos Monkey: one backend of the first zone dies.
        let (start, length) = at("chaos monkey");
        let victim = backend_name(ZONES[0], 1);
        entries.push(PlanEntry::new(start, Fault::Crash { node: victim }, length));
        // Latency Monkey: the third zone's links to and from the load balancer slow down.
        let (start, length) = at("latency monkey");
        let change = LinkChange {
            extra_latency: Some(self.zone_latency),
            ..LinkChange::default()
        };
        for backend in self.initial_backends(ZONES[2]) {
            for (from, to) in [(LB.to_owned(), backend.clone()), (backend, LB.to_owned())] {
                let fault = Fault::Link {
                    from,
                    to,
                    change: change.clone(),
                };
                entries.push(PlanEntry::new(start, fault, length));
            }
        }
        // A slow disk on one backend of the second zone.
        let (start, length) = at("slow disk");
        let fault = Fault::DiskSlow {
            node: backend_name(ZONES[1], 1),
            factor: self.disk_slowdown,
        };
        entries.push(PlanEntry::new(start, fault, length));
        // Chaos Kong: the second zone is cut off.
        let (start, length) = at("chaos kong");
        let fault = Fault::ZoneOutage {
            zone: ZONES[1].to_owned(),
        };
        entries.push(PlanEntry::new(start, fault, length));
        Plan::new(entries)
    }

    /// Checks every value.
    ///
    /// # Errors
    ///
    /// [`ScenarioError::Invalid`] naming the first value out of range: a
    /// zero phase length, load, backend count, client count, attempt or try
    /// count, timeout, interval or queue bound; a peak load below the base
    /// load; an inverted service-time range; a slow-down below 1; too few
    /// backends allowed for the initial fleet.
    ///
    /// # Examples
    ///
    /// ```
    /// use examples::lb::Scenario;
    ///
    /// assert!(Scenario::default().validate().is_ok());
    /// let mut scenario = Scenario::default();
    /// scenario.tuning.attempts = 0;
    /// let error = scenario.validate().unwrap_err();
    /// assert_eq!(error.to_string(), "invalid scenario: tuning.attempts must be at least 1");
    /// ```
    pub fn validate(&self) -> Result<(), ScenarioError> {
        let t = &self.tuning;
        let invalid = |what: &str| Err(ScenarioError::Invalid(what.to_owned()));
        let counts = [
            ("load_base", self.load_base),
            ("backends_per_zone", self.backends_per_zone),
            ("tuning.clients", t.clients),
            ("tuning.attempts", t.attempts),
            ("tuning.tries", t.tries),
            ("tuning.healthy_threshold", t.healthy_threshold),
            ("tuning.unhealthy_threshold", t.unhealthy_threshold),
        ];
        for (name, value) in counts {
            if value == 0 {
                return invalid(&format!("{name} must be at least 1"));
            }
        }
        let durations = [
            ("phase_length", self.phase_length),
            ("tuning.attempt_timeout", t.attempt_timeout),
            ("tuning.try_timeout", t.try_timeout),
            ("tuning.health_interval", t.health_interval),
            ("tuning.health_timeout", t.health_timeout),
            ("tuning.scale_interval", t.scale_interval),
        ];
        for (name, value) in durations {
            if value.is_zero() {
                return invalid(&format!("{name} must be longer than zero"));
            }
        }
        if self.load_peak < self.load_base {
            return invalid("load_peak must be at least load_base");
        }
        if t.attempts > 16 {
            return invalid("tuning.attempts must be at most 16");
        }
        if t.service_time.0 > t.service_time.1 {
            return invalid("tuning.service_time: the minimum exceeds the maximum");
        }
        if t.queue_max == 0 {
            return invalid("tuning.queue_max must be at least 1");
        }
        if !(self.disk_slowdown.is_finite() && self.disk_slowdown >= 1.0) {
            return invalid("disk_slowdown must be a finite number of at least 1");
        }
        if !(t.scale_threshold.is_finite() && t.scale_threshold > 0.0) {
            return invalid("tuning.scale_threshold must be a positive number");
        }
        if t.backends_max < self.backends_per_zone * ZONES.len() as u32 {
            return invalid("tuning.backends_max is below the initial fleet");
        }
        Ok(())
    }

    /// Runs the scenario in a quiet world of its seed.
    ///
    /// # Errors
    ///
    /// As [`Scenario::run_in`].
    pub fn run(&self) -> Result<Outcome, ScenarioError> {
        let sim = Sim::builder(self.seed).quiet().build().map_err(setup)?;
        self.run_in(sim)
    }

    /// Runs the scenario in a quiet world of its seed that keeps its trace,
    /// for the run viewer ([`detsim::RunView`]).
    ///
    /// # Errors
    ///
    /// As [`Scenario::run_in`].
    pub fn run_recorded(&self) -> Result<Outcome, ScenarioError> {
        let sim = Sim::builder(self.seed)
            .quiet()
            .trace(TraceMode::RECORD)
            .build()
            .map_err(setup)?;
        self.run_in(sim)
    }

    /// Runs the scenario in `sim` (a fresh world; its seed wins over
    /// [`Scenario::seed`]).
    ///
    /// # Errors
    ///
    /// [`ScenarioError::Invalid`] (see [`Scenario::validate`]),
    /// [`ScenarioError::Setup`] if the world cannot be built (nodes of the
    /// same names already in `sim`, for instance), [`ScenarioError::Plan`] if the plan is
    /// rejected, [`ScenarioError::Sim`] if the simulation fails.
    pub fn run_in(&self, mut sim: Sim) -> Result<Outcome, ScenarioError> {
        self.validate()?;
        let shared = Rc::new(Shared {
            scenario: Scenario {
                seed: sim.seed(),
                ..self.clone()
            },
            phases: self.phases(),
            recorder: RefCell::new(Recorder::default()),
        });
        let mut placements = vec![(LB.to_owned(), ZONES[0]), (AUTOSCALER.to_owned(), ZONES[0])];
        sim.add_node(LB, balancer::init(shared.clone()))
            .map_err(setup)?;
        for i in 1..=self.tuning.clients {
            let name = format!("client-{i}");
            sim.add_node(&name, client::init(shared.clone(), i))
                .map_err(setup)?;
            placements.push((name, ZONES[0]));
        }
        for zone in ZONES {
            for name in self.initial_backends(zone) {
                sim.add_node(&name, backend::init(shared.clone(), zone))
                    .map_err(setup)?;
                placements.push((name, zone));
            }
        }
        sim.add_node(AUTOSCALER, autoscaler::init(shared.clone()))
            .map_err(setup)?;
        let mut net = Net::builder()
            .region(REGION)
            .within_zone(LinkProfile::lan())
            .within_region(cross_zone());
        for zone in ZONES {
            net = net.zone(zone, REGION);
        }
        for (node, zone) in &placements {
            net = net.place(node, zone);
        }
        net.install(&mut sim).map_err(setup)?;
        Disks::install(&sim, DiskConfig::default()).map_err(setup)?;
        let plan = self.plan();
        sim.apply_plan(plan.clone()).map_err(ScenarioError::Plan)?;
        let end = shared.load_end() + self.drain();
        let report = sim
            .run(async move { time::sleep(end).await })
            .map_err(|f| ScenarioError::Sim(Box::new(f)))?;
        let recorder = shared.recorder.borrow().clone();
        let phases = shared.phases.clone();
        Ok(Outcome {
            seed: report.seed,
            rows: PhaseStats::of(&recorder, &phases),
            plan,
            phases,
            recorder,
            fingerprint: report.trace.fingerprint,
            trace: report.trace,
            steps: report.steps,
            elapsed: report
                .elapsed
                .saturating_duration_since(time::Instant::ZERO),
        })
    }

    /// How long the world runs after the last phase, for the last requests
    /// to finish (every attempt and backoff of a client).
    pub fn drain(&self) -> Duration {
        let t = &self.tuning;
        let backoffs = t.backoff * ((1 << t.attempts.min(16)) - 1);
        t.attempt_timeout * t.attempts + backoffs + Duration::from_millis(100)
    }
}

/// Links between zones of the region: 0.5–1.5 ms one way.
fn cross_zone() -> LinkProfile {
    LinkProfile::default().latency(Latency::uniform(
        Duration::from_micros(500),
        Duration::from_micros(1500),
    ))
}
