//! [`LinkProfile`]: what one directed link does to the traffic on it, and the
//! per-link runtime state (its random stream, bandwidth queue, FIFO clock,
//! cut flag and up/down schedule).

use std::collections::VecDeque;
use std::rc::Rc;
use std::time::Duration;

use detsim::{SimHandle, SimRng};
use serde::{Deserialize, Serialize};

use crate::error::check_probability;
use crate::{Latency, NetError};

/// The behaviour of a directed link: latency distribution, loss,
/// duplication, bandwidth with a queue, ordering, Byzantine faults and
/// intermittent outages.
///
/// Every decision is drawn from the link's own seeded stream
/// (`net/link/<source>-><target>`), and each draw is skipped when its
/// feature is off, so a plain link costs no random numbers at all.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use detsim_net::{Latency, LinkProfile};
///
/// let flaky = LinkProfile::default()
///     .latency(Latency::uniform(Duration::from_millis(5), Duration::from_millis(15)))
///     .loss(0.05)
///     .duplicate(0.01)
///     .fifo(true);
/// assert!(flaky.validate().is_ok());
/// assert!(LinkProfile::default().loss(1.5).validate().is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LinkProfile {
    /// One-way delay.
    pub latency: Latency,
    /// Probability that a datagram is lost (a stream segment is retransmitted instead).
    pub loss: f64,
    /// Probability that a datagram is delivered twice (the copy draws its own delay).
    pub duplicate: f64,
    /// Bytes per second on the wire (`None`: unlimited); messages wait
    /// behind earlier ones in the link's queue.
    pub bandwidth: Option<u64>,
    /// Bytes the bandwidth queue holds before it drops (tail drop).
    pub queue_bytes_max: u64,
    /// Never reorder: a message is never delivered before one sent earlier on this link.
    pub fifo: bool,
    /// Byzantine faults on datagrams.
    pub byzantine: Byzantine,
    /// An up/down schedule; while down, everything on the link is lost.
    pub intermittent: Option<Intermittent>,
}

impl Default for LinkProfile {
    /// A perfect link with a constant 1 ms delay.
    fn default() -> LinkProfile {
        LinkProfile {
            latency: Latency::default(),
            loss: 0.0,
            duplicate: 0.0,
            bandwidth: None,
            queue_bytes_max: 1 << 20,
            fifo: false,
            byzantine: Byzantine::default(),
            intermittent: None,
        }
    }
}

/// Byzantine faults a link inflicts on datagrams (streams are protected by
/// their transport and see none of these). All probabilities default to 0.
///
/// # Examples
///
/// ```
/// use detsim_net::{Byzantine, LinkProfile};
///
/// let evil = LinkProfile::default().byzantine(Byzantine { flip: 0.1, truncate: 0.05, replay: 0.02 });
/// assert!(evil.validate().is_ok());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Byzantine {
    /// Probability that one random bit of the datagram is flipped.
    pub flip: f64,
    /// Probability that the datagram is cut to a random shorter length.
    pub truncate: f64,
    /// Probability that, along with the datagram, an earlier datagram of the
    /// link (one of the last 16) is sent again.
    pub replay: f64,
}

impl Byzantine {
    fn is_active(&self) -> bool {
        self.flip > 0.0 || self.truncate > 0.0 || self.replay > 0.0
    }
}

/// An up/down schedule: the link is up for a period drawn from `up`, then
/// down for a period drawn from `down`, and so on, from the link's stream.
/// It starts up when the profile is applied.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use detsim_net::{Intermittent, Latency};
///
/// let flappy = Intermittent {
///     up: Latency::Exponential { mean: Duration::from_secs(30) },
///     down: Latency::uniform(Duration::from_secs(1), Duration::from_secs(5)),
/// };
/// # let _ = flappy;
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Intermittent {
    /// How long each up period lasts.
    pub up: Latency,
    /// How long each down period lasts.
    pub down: Latency,
}

impl LinkProfile {
    /// A data-centre LAN: 100–300 µs, no loss.
    pub fn lan() -> LinkProfile {
        LinkProfile::default().latency(Latency::uniform(
            Duration::from_micros(100),
            Duration::from_micros(300),
        ))
    }

    /// A cross-region WAN: log-normal around 40 ms, 0.1% loss.
    pub fn wan() -> LinkProfile {
        LinkProfile::default()
            .latency(Latency::LogNormal {
                median: Duration::from_millis(40),
                sigma: 0.2,
            })
            .loss(0.001)
    }

    /// An IoT device on a cellular uplink: slow (20 kB/s), lossy (3%),
    /// high and heavy-tailed latency (Pareto from 80 ms, capped at 5 s).
    pub fn cellular() -> LinkProfile {
        LinkProfile::default()
            .latency(Latency::Pareto {
                scale: Duration::from_millis(80),
                shape: 1.8,
                max: Duration::from_secs(5),
            })
            .loss(0.03)
            .bandwidth(20_000)
            .queue_bytes_max(64 * 1024)
    }

    /// Sets the latency distribution.
    pub fn latency(mut self, latency: Latency) -> LinkProfile {
        self.latency = latency;
        self
    }

    /// Sets the loss probability.
    pub fn loss(mut self, p: f64) -> LinkProfile {
        self.loss = p;
        self
    }

    /// Sets the duplication probability.
    pub fn duplicate(mut self, p: f64) -> LinkProfile {
        self.duplicate = p;
        self
    }

    /// Sets the bandwidth in bytes per second.
    pub fn bandwidth(mut self, bytes_per_s: u64) -> LinkProfile {
        self.bandwidth = Some(bytes_per_s);
        self
    }

    /// Sets how many bytes may wait in the bandwidth queue.
    pub fn queue_bytes_max(mut self, bytes: u64) -> LinkProfile {
        self.queue_bytes_max = bytes;
        self
    }

    /// Forbids (or allows) reordering on this link.
    pub fn fifo(mut self, fifo: bool) -> LinkProfile {
        self.fifo = fifo;
        self
    }

    /// Sets the Byzantine faults.
    pub fn byzantine(mut self, byzantine: Byzantine) -> LinkProfile {
        self.byzantine = byzantine;
        self
    }

    /// Makes the link go down and up on a seeded schedule.
    pub fn intermittent(mut self, intermittent: Intermittent) -> LinkProfile {
        self.intermittent = Some(intermittent);
        self
    }

    /// Checks every parameter.
    ///
    /// # Errors
    ///
    /// [`NetError::InvalidConfig`] naming the first bad one: a probability
    /// outside [0, 1] or NaN, a zero bandwidth, a bad latency distribution.
    pub fn validate(&self) -> Result<(), NetError> {
        self.latency.validate()?;
        check_probability("loss", self.loss)?;
        check_probability("duplicate", self.duplicate)?;
        check_probability("byzantine flip", self.byzantine.flip)?;
        check_probability("byzantine truncate", self.byzantine.truncate)?;
        check_probability("byzantine replay", self.byzantine.replay)?;
        if self.bandwidth == Some(0) {
            return Err(NetError::InvalidConfig(
                "bandwidth must be above zero bytes per second (use None for unlimited)".into(),
            ));
        }
        if let Some(intermittent) = &self.intermittent {
            intermittent.up.validate()?;
            intermittent.down.validate()?;
            if intermittent.up.floor_nanos() == 0 && !intermittent.up.is_random() {
                return Err(NetError::InvalidConfig(
                    "intermittent up periods must be longer than zero".into(),
                ));
            }
        }
        Ok(())
    }

    /// Whether anything beyond a constant delay is on (the slow path).
    pub(crate) fn is_plain(&self) -> bool {
        !self.latency.is_random()
            && self.loss == 0.0
            && self.duplicate == 0.0
            && self.bandwidth.is_none()
            && !self.byzantine.is_active()
            && self.intermittent.is_none()
    }
}

/// An up/down schedule advanced lazily: nothing happens until someone asks
/// whether the link is up at some instant.
pub(crate) struct Schedule {
    rng: SimRng,
    spec: Intermittent,
    up: bool,
    toggle_at: u64,
    /// How many down periods have started: a message that saw another value
    /// when it was sent crossed an outage.
    pub(crate) downs: u32,
}

impl Schedule {
    pub(crate) fn new(mut rng: SimRng, spec: Intermittent, start: u64) -> Schedule {
        let first = spec.up.sample(&mut rng).max(1);
        Schedule {
            rng,
            spec,
            up: true,
            toggle_at: start.saturating_add(first),
            downs: 0,
        }
    }

    /// Advances to `now`; returns whether the link is up then.
    pub(crate) fn up_at(&mut self, now: u64) -> bool {
        while self.toggle_at <= now {
            self.up = !self.up;
            let period = if self.up {
                self.spec.up.sample(&mut self.rng)
            } else {
                self.downs += 1;
                self.spec.down.sample(&mut self.rng)
            };
            self.toggle_at = self.toggle_at.saturating_add(period.max(1));
        }
        self.up
    }
}

/// How many recent datagrams a Byzantine link keeps for replays.
pub(crate) const REPLAY_KEPT_MAX: usize = 16;

/// The runtime state of one directed link.
pub(crate) struct Link {
    /// The profile generation this link was resolved at (`u32::MAX`: never).
    pub(crate) generation: u32,
    pub(crate) profile: Rc<LinkProfile>,
    /// Constant delay of a plain profile, in nanoseconds.
    pub(crate) delay: u64,
    pub(crate) plain: bool,
    pub(crate) rng: Option<Box<SimRng>>,
    /// When the wire is free again (bandwidth queue).
    pub(crate) busy_until: u64,
    /// The latest arrival scheduled (FIFO links).
    pub(crate) last_arrival: u64,
    /// Whether a partition cuts this link now.
    pub(crate) cut: bool,
    /// How many cuts have started on this link: a message sent under another
    /// value crossed a cut and is lost.
    pub(crate) cut_epoch: u32,
    pub(crate) schedule: Option<Box<Schedule>>,
    pub(crate) replay: Option<VecDeque<Vec<u8>>>,
}

impl Link {
    /// A link not resolved yet (`generation == u32::MAX`); `profile` is a
    /// placeholder, replaced when it resolves.
    pub(crate) fn unresolved(profile: Rc<LinkProfile>) -> Link {
        Link {
            generation: u32::MAX,
            profile,
            delay: 0,
            plain: true,
            rng: None,
            busy_until: 0,
            last_arrival: 0,
            cut: false,
            cut_epoch: 0,
            schedule: None,
            replay: None,
        }
    }

    /// Applies a (possibly new) profile at `now`. `own_schedule`: whether an
    /// intermittent profile runs its own up/down schedule on this link (an
    /// edge profile's schedule belongs to the node instead).
    pub(crate) fn apply(
        &mut self,
        profile: Rc<LinkProfile>,
        generation: u32,
        now: u64,
        own_schedule: bool,
        stream: &dyn Fn() -> String,
        handle: SimHandle,
    ) {
        self.generation = generation;
        let same_schedule = self.profile.intermittent == profile.intermittent;
        if !own_schedule {
            self.schedule = None;
        } else if !same_schedule || (self.schedule.is_none() && profile.intermittent.is_some()) {
            self.schedule = profile.intermittent.map(|spec| {
                Box::new(Schedule::new(
                    handle.stream_rng(&format!("{}/updown", stream())),
                    spec,
                    now,
                ))
            });
        }
        self.plain = profile.is_plain();
        self.delay = match profile.latency {
            Latency::Constant(d) => u64::try_from(d.as_nanos()).unwrap_or(u64::MAX),
            Latency::Uniform { min, .. } => u64::try_from(min.as_nanos()).unwrap_or(u64::MAX),
            _ => 0,
        };
        if profile.byzantine.replay == 0.0 {
            self.replay = None;
        }
        self.profile = profile;
    }

    /// The link's random stream, created on first use.
    pub(crate) fn rng(&mut self, stream: &dyn Fn() -> String, handle: SimHandle) -> &mut SimRng {
        self.rng
            .get_or_insert_with(|| Box::new(handle.stream_rng(&stream())))
    }
}
