//! The Poisson distribution's upper tail and the scan's likelihood ratio, computed stably for the
//! small means (≈ 0.01–10 cases) and small counts a cell sees, and for large ones too.
#![expect(
    clippy::cast_precision_loss,
    reason = "case counts are far below 2^52, where u64 to f64 is exact"
)]

/// `ln(k!)`: a plain sum below 64, Stirling's series above (relative error below 1e-16 there).
#[must_use]
pub fn ln_factorial(k: u64) -> f64 {
    if k < 64 {
        (2..=k).map(|i| (i as f64).ln()).sum()
    } else {
        let x = k as f64;
        let x2 = x * x;
        x * x.ln() - x + 0.5 * (std::f64::consts::TAU * x).ln() + 1.0 / (12.0 * x)
            - 1.0 / (360.0 * x * x2)
            + 1.0 / (1260.0 * x * x2 * x2)
            - 1.0 / (1680.0 * x * x2 * x2 * x2)
    }
}

/// `P(X ≥ k)` for `X ~ Poisson(mean)`.
///
/// Above the mean the tail is summed upwards from the term at `k` (computed in logs, so it neither
/// underflows nor overflows), which keeps full relative precision for tiny p-values; at or below the
/// mean it is one minus the lower sum, summed downwards from `k - 1`, where the result is large and
/// the subtraction loses nothing that matters.
#[must_use]
pub fn upper_tail(k: u64, mean: f64) -> f64 {
    if k == 0 {
        return 1.0;
    }
    if mean <= 0.0 || !mean.is_finite() {
        return if mean.is_finite() { 0.0 } else { 1.0 };
    }
    let ln_term = |i: u64| -mean + i as f64 * mean.ln() - ln_factorial(i);
    if k as f64 > mean {
        let mut term = ln_term(k).exp();
        let mut sum = term;
        let mut i = k;
        while term > sum * 1e-17 {
            i += 1;
            term *= mean / i as f64;
            sum += term;
        }
        sum.min(1.0)
    } else {
        let mut term = ln_term(k - 1).exp();
        let mut lower = term;
        let mut i = k - 1;
        while i > 0 && term > lower * 1e-17 {
            term *= i as f64 / mean;
            lower += term;
            i -= 1;
        }
        (1.0 - lower).clamp(0.0, 1.0)
    }
}

/// The log likelihood ratio of `observed` cases against `expected`, for an excess only (0 when
/// `observed ≤ expected`): `c ln(c/e) − (c − e)`, the expectation-based Poisson scan statistic
/// (Neill et al. 2005), which orders zones of different sizes on one scale.
#[must_use]
pub fn llr(observed: u64, expected: f64) -> f64 {
    let c = observed as f64;
    if c <= expected || expected <= 0.0 {
        return 0.0;
    }
    c * (c / expected).ln() - (c - expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Relative difference.
    fn rel(a: f64, b: f64) -> f64 {
        ((a - b) / b).abs()
    }

    #[test]
    #[expect(clippy::float_cmp, reason = "ln(0!) and ln(1!) are exactly zero")]
    fn ln_factorial_matches_the_product_across_the_switch() {
        // 20! = 2432902008176640000; ln(64!) and ln(100!) from Python's `math.lgamma`.
        assert!(rel(ln_factorial(20), 2_432_902_008_176_640_000_f64.ln()) < 1e-14);
        assert!(rel(ln_factorial(63), 201.009_316_399_281_52) < 1e-14);
        assert!(rel(ln_factorial(64), 205.168_199_482_641_23) < 1e-14);
        assert!(rel(ln_factorial(100), 363.739_375_555_563_47) < 1e-14);
        assert_eq!(ln_factorial(0), 0.0);
        assert_eq!(ln_factorial(1), 0.0);
    }

    /// Reference values: `1 - exp(-m) Σ_{i<k} m^i/i!` in 60-digit decimal arithmetic (Python's
    /// `decimal` at 300 digits, independent of this code).
    #[test]
    fn upper_tail_matches_exact_values() {
        let cases: &[(u64, f64, f64)] = &[
            (1, 0.1, 0.095_162_581_964_040_43),
            (5, 0.2, 2.258_190_552_957_820_5e-6),
            (5, 0.5, 1.721_156_299_558_407_8e-4),
            (6, 1.0, 5.941_848_175_816_93e-4),
            (3, 3.0, 0.576_809_918_873_156_5),
            (10, 2.0, 4.649_807_501_726_380_5e-5),
            (30, 0.05, 3.345_232_720_927_003_5e-72),
            (1000, 900.0, 5.499_022_657_117_829e-4),
            (800, 900.0, 0.999_674_918_692_082_1),
        ];
        for &(k, m, want) in cases {
            let got = upper_tail(k, m);
            assert!(
                rel(got, want) < 1e-9,
                "P(X >= {k} | {m}) = {got}, want {want}"
            );
        }
    }

    #[test]
    #[expect(clippy::float_cmp, reason = "the edges are exact: 0 and 1")]
    fn upper_tail_edges() {
        assert_eq!(upper_tail(0, 3.0), 1.0);
        assert_eq!(upper_tail(0, 0.0), 1.0);
        assert_eq!(upper_tail(1, 0.0), 0.0);
        // Huge counts underflow to zero rather than to NaN.
        assert_eq!(upper_tail(5000, 0.01), 0.0);
        // Monotone in k.
        let tails: Vec<f64> = (0..20).map(|k| upper_tail(k, 4.0)).collect();
        assert!(tails.windows(2).all(|w| w[0] >= w[1]));
    }

    #[test]
    #[expect(clippy::float_cmp, reason = "no excess is exactly zero")]
    fn llr_is_zero_without_excess_and_grows_with_it() {
        assert_eq!(llr(1, 2.0), 0.0);
        assert_eq!(llr(0, 0.0), 0.0);
        let a = llr(5, 0.5);
        assert!(rel(a, 5.0 * 10_f64.ln() - 4.5) < 1e-12);
        assert!(llr(6, 0.5) > a);
    }
}
