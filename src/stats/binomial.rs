//! Binomial proportions: the Wilson score interval and the exact binomial distribution
//! function (for order-statistic bounds on quantiles).

/// Wilson score interval (Wilson 1927) for `k` successes in `n` trials at normal quantile `z`;
/// unlike the Wald interval it stays inside [0, 1] and is honest at k = 0, which is the usual
/// case for rare fund depletion. `None` when `n = 0`.
pub fn wilson(k: u64, n: u64, z: f64) -> Option<(f64, f64)> {
    if n == 0 {
        return None;
    }
    let n = n as f64;
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
    Some((lo, hi))
}

/// `P(B <= k)` for `B ~ Binomial(n, p)`, exact up to rounding: the probability mass function
/// is summed in log space from k = 0 up, so it neither underflows nor overflows for large n.
pub fn binomial_cdf(k: u64, n: u64, p: f64) -> f64 {
    if k >= n {
        return 1.0;
    }
    binomial_cdf_scan(n, p).nth(k as usize).unwrap_or(1.0)
}

/// `P(B <= k)` for k = 0, 1, ..., n - 1 in one pass, O(1) per k: the probability mass
/// function is summed in log space from k = 0 up, so it neither underflows nor overflows for
/// large n. The values never decrease (each step adds a non-negative term).
pub fn binomial_cdf_scan(n: u64, p: f64) -> impl Iterator<Item = f64> {
    let (lp, lq) = (p.ln(), (-p).ln_1p());
    let mut log_pmf = n as f64 * lq;
    let mut log_sum = log_pmf;
    (0..n).map(move |k| {
        if p <= 0.0 {
            return 1.0;
        }
        if p >= 1.0 {
            return 0.0;
        }
        if k > 0 {
            let j = k - 1;
            log_pmf += ((n - j) as f64 / (j + 1) as f64).ln() + lp - lq;
            let (hi, lo) = if log_sum > log_pmf {
                (log_sum, log_pmf)
            } else {
                (log_pmf, log_sum)
            };
            log_sum = hi + (lo - hi).exp().ln_1p();
        }
        log_sum.exp().min(1.0)
    })
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
    }

    /// Every value of the scan is the direct sum of binomial probabilities (n = 30, small
    /// enough for exact coefficients in f64), and the values never decrease, also where the
    /// tail is far below rounding (n = 2,000).
    #[test]
    fn the_scan_sums_the_pmf_and_never_decreases() {
        let (n, p) = (30u64, 0.3);
        let mut direct = 0.0;
        let mut choose = 1.0f64;
        for (k, c) in binomial_cdf_scan(n, p).enumerate() {
            if k > 0 {
                choose *= (n - k as u64 + 1) as f64 / k as f64;
            }
            direct += choose * p.powi(k as i32) * (1.0 - p).powi((n - k as u64) as i32);
            assert!((c - direct).abs() < 1e-13, "k {k}: {c} against {direct}");
        }
        for p in [0.01, 0.5, 0.99] {
            let scan: Vec<f64> = binomial_cdf_scan(2_000, p).collect();
            assert!(scan.windows(2).all(|w| w[1] >= w[0]), "p {p}");
        }
        assert!(binomial_cdf_scan(5, 0.0).all(|c| c == 1.0));
        assert!(binomial_cdf_scan(5, 1.0).all(|c| c == 0.0));
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
