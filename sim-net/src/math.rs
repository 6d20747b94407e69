//! `ln` and `exp` from IEEE basic operations only (`+ - * /`, which are
//! correctly rounded everywhere), so a latency drawn from a seed is the same
//! number on every platform. `f64::ln`/`f64::exp` call the platform's libm,
//! whose last bits differ between systems.

const LN2: f64 = std::f64::consts::LN_2;

/// The natural logarithm of `x > 0` (relative error below 1e-15).
pub(crate) fn ln(x: f64) -> f64 {
    debug_assert!(x > 0.0 && x.is_finite(), "ln of {x}");
    // x = m * 2^e with m in [sqrt(1/2), sqrt(2)).
    let bits = x.to_bits();
    let mut exponent = ((bits >> 52) & 0x7ff) as i64 - 1023;
    let mut m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000);
    if exponent == -1023 {
        // Subnormal: normalise through a multiplication by 2^54.
        let y = x * f64::from_bits(0x4350_0000_0000_0000);
        return ln(y) - 54.0 * LN2;
    }
    if m > std::f64::consts::SQRT_2 {
        m *= 0.5;
        exponent += 1;
    }
    // ln(m) = 2 atanh(s), s = (m - 1) / (m + 1), |s| < 0.1716.
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let mut term = s;
    let mut sum = 0.0;
    let mut k = 1.0;
    while k < 40.0 {
        sum += term / k;
        term *= s2;
        k += 2.0;
    }
    2.0 * sum + exponent as f64 * LN2
}

/// `e^x`, saturating to 0 and infinity outside about ±709.
pub(crate) fn exp(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    if x > 709.0 {
        return f64::INFINITY;
    }
    if x < -745.0 {
        return 0.0;
    }
    // x = k ln2 + r, |r| <= ln2 / 2.
    let k = (x / LN2 + if x >= 0.0 { 0.5 } else { -0.5 }) as i64;
    let r = x - k as f64 * LN2;
    let mut term = 1.0;
    let mut sum = 1.0;
    for n in 1..25 {
        term *= r / n as f64;
        sum += term;
    }
    // Scale by 2^k in two steps so that neither factor overflows.
    let half = k / 2;
    sum * pow2(half) * pow2(k - half)
}

fn pow2(k: i64) -> f64 {
    debug_assert!((-1022..=1023).contains(&k), "2^{k} is out of range");
    f64::from_bits(((k + 1023) as u64) << 52)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ln_and_exp_match_std_closely() {
        // Proves the portable functions agree with the platform's to ~1e-14.
        let mut x = 1e-300;
        while x < 1e300 {
            let ours = ln(x);
            let theirs = x.ln();
            assert!(
                (ours - theirs).abs() <= 1e-14 * theirs.abs().max(1.0),
                "ln({x}) = {ours}, std says {theirs}"
            );
            x *= 1.37;
        }
        let mut x = -700.0;
        while x < 700.0 {
            let ours = exp(x);
            let theirs = x.exp();
            assert!(
                (ours - theirs).abs() <= 1e-13 * theirs,
                "exp({x}) = {ours}, std says {theirs}"
            );
            x += 0.731;
        }
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(ln(1.0), 0.0);
    }
}
