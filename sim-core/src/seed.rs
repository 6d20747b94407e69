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

    /// Hex after `0x` (or `0X`), else decimal; surrounding whitespace is
    /// ignored and `_` may separate digits (`0xdead_beef`). Nothing else:
    /// no sign, no empty digits, no leading or trailing `_`.
    fn from_str(s: &str) -> Result<Seed, ParseSeedError> {
        let trimmed = s.trim();
        let parsed = match trimmed
            .strip_prefix("0x")
            .or_else(|| trimmed.strip_prefix("0X"))
        {
            Some(hex) => parse_digits(hex, 16),
            None => parse_digits(trimmed, 10),
        };
        parsed.map(Seed).ok_or_else(|| ParseSeedError {
            input: s.to_owned(),
        })
    }
}

/// Parses `text` as digits of `radix` only, `_` allowed between two digits;
/// `None` for anything else (a sign, an empty string, a stray `_`) or a
/// value above `u64::MAX`.
pub(crate) fn parse_digits(text: &str, radix: u32) -> Option<u64> {
    let bytes = text.as_bytes();
    if bytes.is_empty() || bytes[0] == b'_' || bytes[bytes.len() - 1] == b'_' {
        return None;
    }
    let mut value: u64 = 0;
    let mut previous_underscore = false;
    for &byte in bytes {
        if byte == b'_' {
            if previous_underscore {
                return None;
            }
            previous_underscore = true;
            continue;
        }
        previous_underscore = false;
        let digit = char::from(byte).to_digit(radix)?;
        value = value
            .checked_mul(u64::from(radix))?
            .checked_add(u64::from(digit))?;
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_parse_strictly() {
        // Proves hex and decimal parse, with `_` between digits, and garbage is refused.
        for (text, value) in [
            ("0x4d2", 1234),
            ("0X4D2", 1234),
            ("1234", 1234),
            ("1_234", 1234),
            ("0xdead_beef", 0xdead_beef),
            (" 7\n", 7),
            ("0xffffffffffffffff", u64::MAX),
            ("18446744073709551615", u64::MAX),
        ] {
            assert_eq!(text.parse::<Seed>(), Ok(Seed::new(value)), "{text:?}");
        }
        for text in [
            "+5",
            "-5",
            "0x+5",
            "0x-5",
            "_7_",
            "_7",
            "7_",
            "7__0",
            "",
            "0x",
            "0x_1",
            "1 2",
            "0x1g",
            "18446744073709551616",
            "0x10000000000000000",
        ] {
            let error = text.parse::<Seed>().unwrap_err();
            assert_eq!(
                error.to_string(),
                format!("invalid seed {text:?}: expected a u64 in hex (0x1f) or decimal (31)")
            );
        }
    }
}
