//! The seed every random decision of a world derives from.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The seed of a world: one `u64` from which every random decision derives.
///
/// Seeds print in hex (`0x00000000000004d2`) so a failure report can be pasted
/// back verbatim, and parse from hex (`0x…`) or decimal.
///
/// # Examples
///
/// ```
/// use detsim::Seed;
///
/// let seed: Seed = "0x4d2".parse().unwrap();
/// assert_eq!(seed, Seed::new(1234));
/// assert_eq!("1234".parse::<Seed>().unwrap(), seed);
/// assert_eq!(seed.to_string(), "0x00000000000004d2");
/// assert!("0xZZ".parse::<Seed>().is_err());
/// ```
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Seed(u64);

impl Seed {
    /// A seed from its number.
    pub const fn new(value: u64) -> Seed {
        Seed(value)
    }

    /// The seed's number.
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl From<u64> for Seed {
    fn from(value: u64) -> Seed {
        Seed(value)
    }
}

impl fmt::Display for Seed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#018x}", self.0)
    }
}

/// A string that is not a seed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseSeedError {
    input: String,
}

impl fmt::Display for ParseSeedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid seed {:?}: expected a u64 in hex (0x1f) or decimal (31)",
            self.input
        )
    }
}

impl std::error::Error for ParseSeedError {}

impl FromStr for Seed {
    type Err = ParseSeedError;

    fn from_str(s: &str) -> Result<Seed, ParseSeedError> {
        let trimmed = s.trim().replace('_', "");
        let parsed = match trimmed
            .strip_prefix("0x")
            .or_else(|| trimmed.strip_prefix("0X"))
        {
            Some(hex) => u64::from_str_radix(hex, 16),
            None => trimmed.parse::<u64>(),
        };
        parsed.map(Seed).map_err(|_| ParseSeedError {
            input: s.to_owned(),
        })
    }
}
