//! Binomial proportions: the Wilson score interval and the binomial distribution function
//! (for order-statistic bounds on quantiles).

use std::num::NonZeroU64;

use statrs::distribution::{Binomial, DiscreteCDF};

/// Wilson score interval (Wilson 1927) for `k` successes in `n` trials at normal quantile `z`;
/// unlike the Wald interval it stays inside [0, 1] and is honest at k = 0, which is the usual
/// case for rare fund depletion. `None` when `n = 0`.
pub fn wilson(k: u64, n: u64, z: f64) -> Option<(f64, f64)> {
    NonZeroU64::new(n).map(|n| wilson_of(k, n, z))
}

/// [`wilson`] where the trials are known to be at least one, so the interval always exists.
pub fn wilson_of(k: u64, n: NonZeroU64, z: f64) -> (f64, f64) {
    let n = n.get() as f64;
    let p = k as f64 / n;
    let z2 = z * z;
    let denom = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denom;
    let half = z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denom;
    // At k = 0 (k = n) the lower (upper) end is exactly 0 (1); say so rather than leave
    // rounding residue.
    let lo = if k == 0 {
        0.0
    } else {
        (centre - half).max(0.0)
    };
    let hi = if k as f64 == n {
        1.0
    } else {
        (centre + half).min(1.0)
    };
    (lo, hi)
}

/// `P(B <= k)` for `B ~ Binomial(n, p)`: statrs's, through the regularized incomplete beta
/// function, so it neither underflows nor overflows for large n. `p` outside [0, 1] (or NaN)
/// is treated as the nearer end.
pub fn binomial_cdf(k: u64, n: u64, p: f64) -> f64 {
    if k >= n {
        return 1.0;
    }
    let p = if p.is_nan() { 0.0 } else { p.clamp(0.0, 1.0) };
    Binomial::new(p, n).map_or(1.0, |b| b.cdf(k))
}

/// The smallest `k` in `0..n` with `P(B <= k)` meeting `reached`, by bisection (the CDF never
/// decreases in `k`); `None` when no `k < n` does. `O(log n)` evaluations, where summing the
/// mass function from 0 took `O(n)`.
pub fn first_binomial_rank(n: u64, p: f64, reached: impl Fn(f64) -> bool) -> Option<u64> {
    let (mut lo, mut hi) = (0u64, n);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if reached(binomial_cdf(mid, n, p)) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    (lo < n).then_some(lo)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::Z95;

    #[test]
    fn wilson_matches_hand_computation() {
        // k = 0, n = 100: upper bound z^2 / (n + z^2) = 3.8415 / 103.8415.
        let (lo, hi) = wilson(0, 100, Z95).unwrap();
        assert_eq!(lo, 0.0);
        assert!((hi - Z95 * Z95 / (100.0 + Z95 * Z95)).abs() < 1e-12);
        // k = 50, n = 100: centre 0.5, half width z sqrt(0.25/100 + z^2/40000) / (1 + z^2/100).
        let (lo, hi) = wilson(50, 100, Z95).unwrap();
        let half = Z95 * (0.0025f64 + Z95 * Z95 / 40_000.0).sqrt() / (1.0 + Z95 * Z95 / 100.0);
        assert!((lo - (0.5 - half)).abs() < 1e-12 && (hi - (0.5 + half)).abs() < 1e-12);
        assert!((lo - 0.403_832).abs() < 1e-6);
        assert_eq!(wilson(0, 0, Z95), None);
        let n = NonZeroU64::new(100).unwrap();
        assert_eq!(Some(wilson_of(50, n, Z95)), wilson(50, 100, Z95));
    }

    /// Every value is the direct sum of binomial probabilities (n = 30, small enough for
    /// exact coefficients in f64), and the values never decrease, also where the tail is far
    /// below rounding (n = 2,000); the bisection finds the first rank a linear search finds.
    #[test]
    fn the_cdf_sums_the_pmf_and_the_bisection_finds_the_first_rank() {
        let (n, p) = (30u64, 0.3_f64);
        let mut direct = 0.0;
        let mut choose = 1.0f64;
        for k in 0..n {
            if k > 0 {
                choose *= (n - k + 1) as f64 / k as f64;
            }
            direct += choose * p.powi(k as i32) * (1.0 - p).powi((n - k) as i32);
            let c = binomial_cdf(k, n, p);
            assert!((c - direct).abs() < 1e-13, "k {k}: {c} against {direct}");
        }
        for p in [0.01, 0.5, 0.99] {
            let cdf: Vec<f64> = (0..2_000).map(|k| binomial_cdf(k, 2_000, p)).collect();
            assert!(cdf.windows(2).all(|w| w[1] >= w[0]), "p {p}");
            for level in [1e-9, 0.025, 0.5, 0.975, 1.0 - 1e-9] {
                let linear = cdf.iter().position(|&c| c >= level).map(|k| k as u64);
                assert_eq!(first_binomial_rank(2_000, p, |c| c >= level), linear);
            }
        }
        assert!((0..5).all(|k| binomial_cdf(k, 5, 0.0) == 1.0));
        assert!((0..5).all(|k| binomial_cdf(k, 5, 1.0) == 0.0));
        assert_eq!(first_binomial_rank(5, 1.0, |c| c > 0.5), None);
    }

    #[test]
    fn binomial_cdf_matches_direct_sums() {
        // n = 10, p = 0.3: P(B <= 2) = 0.7^10 + 10 * 0.3 * 0.7^9 + 45 * 0.09 * 0.7^8.
        let direct = 0.7f64.powi(10) + 10.0 * 0.3 * 0.7f64.powi(9) + 45.0 * 0.09 * 0.7f64.powi(8);
        assert!((binomial_cdf(2, 10, 0.3) - direct).abs() < 1e-13);
        assert_eq!(binomial_cdf(10, 10, 0.3), 1.0);
        // Large n: mean 9900, sd 9.95; P(B <= 9900) is just above 1/2.
        let c = binomial_cdf(9_900, 10_000, 0.99);
        assert!(c > 0.5 && c < 0.56, "{c}");
    }
}
