//! [`Latency`]: the distributions a link's one-way delay is drawn from.

use std::time::Duration;

use detsim::SimRng;
use serde::{Deserialize, Serialize};

use crate::NetError;
use crate::math::{exp, ln};

/// A distribution of one-way delays (also used for the up and down periods
/// of intermittent links).
///
/// Samples are computed from the link's seeded stream with IEEE basic
/// arithmetic only, so the same seed draws the same nanoseconds on every
/// platform. A [`Latency::Constant`] draws nothing.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use detsim_net::Latency;
///
/// let lan = Latency::uniform(Duration::from_micros(100), Duration::from_micros(300));
/// let wan = Latency::LogNormal { median: Duration::from_millis(40), sigma: 0.3 };
/// let tail = Latency::Pareto {
///     scale: Duration::from_millis(5),
///     shape: 1.5,
///     max: Duration::from_secs(2),
/// };
/// assert!(lan.validate().is_ok() && wan.validate().is_ok() && tail.validate().is_ok());
/// assert!(Latency::uniform(Duration::from_millis(2), Duration::from_millis(1)).validate().is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum Latency {
    /// Always the same delay.
    Constant(Duration),
    /// Uniform between `min` and `max` (inclusive).
    Uniform {
        /// The smallest delay.
        min: Duration,
        /// The largest delay.
        max: Duration,
    },
    /// Normal with `mean` and `std_dev`, clamped at zero.
    Normal {
        /// The mean.
        mean: Duration,
        /// The standard deviation.
        std_dev: Duration,
    },
    /// Log-normal: `median * e^(sigma * z)` for a standard normal `z`.
    LogNormal {
        /// The median delay.
        median: Duration,
        /// The spread of the logarithm (0: constant).
        sigma: f64,
    },
    /// Exponential with `mean` (memoryless; good for up/down periods).
    Exponential {
        /// The mean.
        mean: Duration,
    },
    /// A heavy tail: Pareto with minimum `scale` and tail index `shape`
    /// (smaller is heavier), capped at `max`.
    Pareto {
        /// The smallest delay (and the distribution's mode).
        scale: Duration,
        /// The tail index α > 0.
        shape: f64,
        /// The largest delay drawn.
        max: Duration,
    },
}

impl Default for Latency {
    /// A constant 1 ms.
    fn default() -> Latency {
        Latency::Constant(Duration::from_millis(1))
    }
}

impl Latency {
    /// A constant delay.
    pub const fn constant(delay: Duration) -> Latency {
        Latency::Constant(delay)
    }

    /// Uniform between `min` and `max`.
    pub const fn uniform(min: Duration, max: Duration) -> Latency {
        Latency::Uniform { min, max }
    }

    /// Whether drawing needs random numbers (everything but a constant).
    pub fn is_random(&self) -> bool {
        !matches!(self, Latency::Constant(_))
            && !matches!(self, Latency::Uniform { min, max } if min == max)
    }

    /// Checks the parameters.
    ///
    /// # Errors
    ///
    /// [`NetError::InvalidConfig`] for `min > max`, a NaN, negative or
    /// infinite shape or spread, or a delay that does not fit in `u64` nanoseconds.
    pub fn validate(&self) -> Result<(), NetError> {
        let fits = |d: &Duration, what: &str| {
            u64::try_from(d.as_nanos()).map(|_| ()).map_err(|_| {
                NetError::InvalidConfig(format!("{what} {d:?} does not fit in u64 nanoseconds"))
            })
        };
        match self {
            Latency::Constant(d) => fits(d, "latency"),
            Latency::Uniform { min, max } => {
                fits(max, "latency max")?;
                if min > max {
                    return Err(NetError::InvalidConfig(format!(
                        "uniform latency min {min:?} is above max {max:?}"
                    )));
                }
                Ok(())
            }
            Latency::Normal { mean, std_dev } => {
                fits(mean, "latency mean")?;
                fits(std_dev, "latency std_dev")
            }
            Latency::LogNormal { median, sigma } => {
                fits(median, "latency median")?;
                if !sigma.is_finite() || *sigma < 0.0 {
                    return Err(NetError::InvalidConfig(format!(
                        "log-normal sigma {sigma} must be finite and not negative"
                    )));
                }
                Ok(())
            }
            Latency::Exponential { mean } => fits(mean, "latency mean"),
            Latency::Pareto { scale, shape, max } => {
                fits(max, "latency max")?;
                if !shape.is_finite() || *shape <= 0.0 {
                    return Err(NetError::InvalidConfig(format!(
                        "pareto shape {shape} must be finite and above zero"
                    )));
                }
                if scale > max {
                    return Err(NetError::InvalidConfig(format!(
                        "pareto scale {scale:?} is above max {max:?}"
                    )));
                }
                Ok(())
            }
        }
    }

    /// Draws one delay in nanoseconds.
    pub fn sample(&self, rng: &mut SimRng) -> u64 {
        match *self {
            Latency::Constant(d) => nanos(d),
            Latency::Uniform { min, max } => {
                let (min, max) = (nanos(min), nanos(max));
                if min == max {
                    min
                } else {
                    min + rng.below(max - min + 1)
                }
            }
            Latency::Normal { mean, std_dev } => {
                let z = standard_normal(rng);
                to_nanos(nanos(mean) as f64 + z * nanos(std_dev) as f64)
            }
            Latency::LogNormal { median, sigma } => {
                let z = standard_normal(rng);
                to_nanos(nanos(median) as f64 * exp(sigma * z))
            }
            Latency::Exponential { mean } => {
                let u = open_unit(rng);
                to_nanos(-ln(u) * nanos(mean) as f64)
            }
            Latency::Pareto { scale, shape, max } => {
                let u = open_unit(rng);
                let x = nanos(scale) as f64 * exp(-ln(u) / shape);
                to_nanos(x).min(nanos(max))
            }
        }
    }

    /// The smallest delay this distribution can draw, in nanoseconds.
    pub(crate) fn floor_nanos(&self) -> u64 {
        match *self {
            Latency::Constant(d) => nanos(d),
            Latency::Uniform { min, .. } => nanos(min),
            Latency::Pareto { scale, .. } => nanos(scale),
            _ => 0,
        }
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

fn to_nanos(x: f64) -> u64 {
    if x.is_nan() || x <= 0.0 {
        0
    } else if x >= u64::MAX as f64 {
        u64::MAX
    } else {
        x.round() as u64
    }
}

/// A uniform draw in `(0, 1)`.
fn open_unit(rng: &mut SimRng) -> f64 {
    loop {
        let u = rng.unit_f64();
        if u > 0.0 {
            return u;
        }
    }
}

/// Marsaglia's polar method: only `ln` and `sqrt`, both portable.
fn standard_normal(rng: &mut SimRng) -> f64 {
    loop {
        let u = 2.0 * rng.unit_f64() - 1.0;
        let v = 2.0 * rng.unit_f64() - 1.0;
        let s = u * u + v * v;
        if s > 0.0 && s < 1.0 {
            return u * (-2.0 * ln(s) / s).sqrt();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use detsim::Seed;

    fn stats(latency: Latency, n: usize) -> (f64, f64, u64, u64) {
        let mut rng = SimRng::stream(Seed::new(11), "latency-test");
        let draws: Vec<u64> = (0..n).map(|_| latency.sample(&mut rng)).collect();
        let mean = draws.iter().map(|&x| x as f64).sum::<f64>() / n as f64;
        let mut sorted = draws.clone();
        sorted.sort_unstable();
        (
            mean,
            sorted[n / 2] as f64,
            sorted[0],
            *sorted.last().expect("n > 0"),
        )
    }

    #[test]
    fn distributions_have_their_documented_shape() {
        // Proves each sampler's mean/median/bounds match its parameters (4000 draws each).
        let ms = |x: u64| Duration::from_millis(x);
        let (mean, _, lo, hi) = stats(Latency::uniform(ms(10), ms(20)), 4000);
        assert!(lo >= 10_000_000 && hi <= 20_000_000);
        assert!((mean - 15e6).abs() < 0.3e6, "uniform mean {mean}");
        let (mean, _, _, _) = stats(
            Latency::Normal {
                mean: ms(50),
                std_dev: ms(5),
            },
            4000,
        );
        assert!((mean - 50e6).abs() < 0.5e6, "normal mean {mean}");
        let (_, median, _, _) = stats(
            Latency::LogNormal {
                median: ms(40),
                sigma: 0.5,
            },
            4000,
        );
        assert!((median - 40e6).abs() < 2e6, "log-normal median {median}");
        let (mean, _, _, _) = stats(Latency::Exponential { mean: ms(100) }, 4000);
        assert!((mean - 100e6).abs() < 6e6, "exponential mean {mean}");
        let pareto = Latency::Pareto {
            scale: ms(5),
            shape: 2.0,
            max: ms(500),
        };
        let (_, median, lo, hi) = stats(pareto, 4000);
        // Median of Pareto(scale, α) is scale * 2^(1/α) = 7.07 ms.
        assert!(lo >= 5_000_000 && hi <= 500_000_000);
        assert!((median - 7.07e6).abs() < 0.4e6, "pareto median {median}");
    }

    #[test]
    fn constant_latency_draws_nothing() {
        // Proves a constant latency leaves the stream untouched (the hot path skips draws).
        let mut a = SimRng::stream(Seed::new(1), "x");
        let mut b = a.clone();
        assert_eq!(
            Latency::Constant(Duration::from_millis(3)).sample(&mut a),
            3_000_000
        );
        assert_eq!(a.below(1 << 40), b.below(1 << 40));
    }

    #[test]
    fn invalid_parameters_are_rejected() {
        // Proves NaN and out-of-range parameters fail validation with a message naming them.
        let bad = [
            Latency::LogNormal {
                median: Duration::from_millis(1),
                sigma: f64::NAN,
            },
            Latency::Pareto {
                scale: Duration::from_millis(1),
                shape: -1.0,
                max: Duration::from_secs(1),
            },
            Latency::Pareto {
                scale: Duration::from_secs(2),
                shape: 1.0,
                max: Duration::from_secs(1),
            },
            Latency::Constant(Duration::MAX),
        ];
        for latency in bad {
            let error = latency.validate().unwrap_err();
            assert!(matches!(error, NetError::InvalidConfig(_)), "{error}");
        }
    }
}
