//! Empirical quantiles, distribution-free confidence bounds from order statistics, and
//! expected shortfall.

use super::binomial::first_binomial_rank;
use super::moments::SampleMoments;

/// The `p`-quantile of sorted data as the order statistic `X_(ceil(n p))` (the empirical
/// inverse distribution function, Hyndman-Fan type 1). With this definition, a fund equal to
/// the `(1 - a)`-quantile of required capital is depleted in at most a share `a` of the runs.
/// `None` for empty data.
pub fn quantile_sorted(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let n = sorted.len();
    let rank = ((p * n as f64).ceil() as usize).clamp(1, n);
    Some(sorted[rank - 1])
}

/// A sample with at least one value, sorted ascending (`f64::total_cmp`): its quantiles
/// always exist, so whoever holds one never needs a fallback for an empty sample.
#[derive(Clone, Debug, PartialEq)]
pub struct SortedSample(Vec<f64>);

impl SortedSample {
    /// Sorts `values`; `None` when there are none.
    pub fn new(mut values: Vec<f64>) -> Option<Self> {
        if values.is_empty() {
            return None;
        }
        values.sort_by(f64::total_cmp);
        Some(Self(values))
    }

    /// Sorts `first` and `rest`: a sample of at least one value by construction.
    pub fn from_first(first: f64, rest: impl IntoIterator<Item = f64>) -> Self {
        let mut values = vec![first];
        values.extend(rest);
        values.sort_by(f64::total_cmp);
        Self(values)
    }

    /// The largest value.
    pub fn max(&self) -> f64 {
        self.0[self.0.len() - 1]
    }

    /// The `p`-quantile with a `conf` two-sided order-statistic interval (see
    /// [`quantile_with_bounds`]).
    pub fn quantile_with_bounds(&self, p: f64, conf: f64) -> QuantileEstimate {
        let n = self.0.len() as u64;
        let tail = (1.0 - conf) / 2.0;
        QuantileEstimate {
            value: self.quantile(p),
            lower: lower_bound_rank(n, p, tail).map(|l| self.0[l as usize - 1]),
            upper: upper_bound_rank(n, p, 1.0 - tail).map(|u| self.0[u as usize - 1]),
        }
    }

    /// A one-sided `conf` upper confidence bound for the `p`-quantile, `X_(u)` with `u` from
    /// [`upper_bound_rank`]; `None` when the sample is too small for it.
    pub fn upper_bound(&self, p: f64, conf: f64) -> Option<f64> {
        upper_bound_rank(self.0.len() as u64, p, conf).map(|u| self.0[u as usize - 1])
    }

    /// Expected shortfall at `level` with its standard error (see [`expected_shortfall`]).
    pub fn expected_shortfall(&self, level: f64) -> TailEstimate {
        let var = self.quantile(level);
        let a = 1.0 - level;
        let n = self.0.len() as f64;
        let excess = |x: &f64| (x - var).max(0.0);
        let e = SampleMoments::new(excess(&self.0[0]), self.0[1..].iter().map(excess));
        TailEstimate {
            value: var + e.mean() / a,
            std_error: e.variance().map(|v| v.sqrt() / (a * n.sqrt())),
        }
    }

    /// The `p`-quantile as [`quantile_sorted`] defines it (type 1, `X_(ceil(n p))`).
    pub fn quantile(&self, p: f64) -> f64 {
        let n = self.0.len();
        let rank = ((p * n as f64).ceil() as usize).clamp(1, n);
        self.0[rank - 1]
    }

    /// The values, ascending.
    pub fn values(&self) -> &[f64] {
        &self.0
    }

    /// How many values (at least 1).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Never: a sorted sample holds at least one value (clippy asks for the method).
    pub fn is_empty(&self) -> bool {
        false
    }
}

/// A quantile with a two-sided distribution-free confidence interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct QuantileEstimate {
    pub value: f64,
    /// `None` when the sample is too small for the confidence asked.
    pub lower: Option<f64>,
    pub upper: Option<f64>,
}

/// The `p`-quantile of sorted data with a `conf` two-sided interval `[X_(l), X_(u)]` whose
/// ranks come from the exact binomial distribution: `P(X_(l) <= xi_p) = P(B >= l)` and
/// `P(X_(u) >= xi_p) = P(B <= u - 1)` with `B ~ Binomial(n, p)` (David and Nagaraja, Order
/// Statistics, section 7.1). Each side misses with probability at most `(1 - conf) / 2`.
pub fn quantile_with_bounds(sorted: &[f64], p: f64, conf: f64) -> Option<QuantileEstimate> {
    let (&first, rest) = sorted.split_first()?;
    Some(SortedSample::from_first(first, rest.iter().copied()).quantile_with_bounds(p, conf))
}

/// Smallest rank `u` (1-based) with `P(B <= u - 1) >= conf`: `X_(u)` is a one-sided `conf`
/// upper confidence bound for the `p`-quantile. `None` when even `X_(n)` is not enough.
pub fn upper_bound_rank(n: u64, p: f64, conf: f64) -> Option<u64> {
    first_binomial_rank(n, p, |c| c >= conf).map(|k| k + 1)
}

/// Largest rank `l` with `P(B <= l - 1) <= tail`; `None` when even `X_(1)` is not low enough.
fn lower_bound_rank(n: u64, p: f64, tail: f64) -> Option<u64> {
    match first_binomial_rank(n, p, |c| c > tail) {
        // P(B <= 0) = (1 - p)^n is already above the tail.
        Some(0) => None,
        Some(k) => Some(k),
        None => Some(n),
    }
}

/// Expected shortfall at `level` with its standard error.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TailEstimate {
    pub value: f64,
    /// `None` for a single run (unknown, not 0).
    pub std_error: Option<f64>,
}

/// Expected shortfall (CVaR) of losses at `level` (e.g. 0.99): the mean loss in the worst
/// `a = 1 - level` of runs, estimated as `VaR + mean((X - VaR)+) / a` with `VaR` the
/// `level`-quantile (Rockafellar and Uryasev 2002; equal to Acerbi and Tasche's estimator).
/// Its standard error follows from the influence function, `sd((X - VaR)+) / (a sqrt n)`
/// (Chen 2008, "Nonparametric estimation of expected shortfall").
pub fn expected_shortfall(sorted: &[f64], level: f64) -> Option<TailEstimate> {
    let (&first, rest) = sorted.split_first()?;
    Some(SortedSample::from_first(first, rest.iter().copied()).expected_shortfall(level))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::binomial_cdf;

    #[test]
    fn type_one_quantiles() {
        let xs: Vec<f64> = (1..=100).map(|i| i as f64).collect();
        assert_eq!(quantile_sorted(&xs, 0.95), Some(95.0));
        assert_eq!(quantile_sorted(&xs, 0.951), Some(96.0));
        assert_eq!(quantile_sorted(&xs, 0.0), Some(1.0));
        assert_eq!(quantile_sorted(&xs, 1.0), Some(100.0));
        assert_eq!(quantile_sorted(&[], 0.5), None);
    }

    #[test]
    fn a_sorted_sample_has_the_quantiles_of_its_sorted_values() {
        assert_eq!(SortedSample::new(Vec::new()), None);
        let xs: Vec<f64> = (1..=100).rev().map(|i| i as f64).collect();
        let s = SortedSample::new(xs.clone()).unwrap();
        assert_eq!(s.len(), 100);
        assert_eq!(s.values()[0], 1.0);
        let mut sorted = xs;
        sorted.sort_by(f64::total_cmp);
        for p in [0.0, 0.025, 0.5, 0.95, 0.951, 0.99, 1.0] {
            assert_eq!(Some(s.quantile(p)), quantile_sorted(&sorted, p), "p {p}");
        }
        assert_eq!(SortedSample::new(vec![7.0]).unwrap().quantile(0.99), 7.0);
    }

    #[test]
    fn expected_shortfall_of_a_uniform_grid() {
        // 1..=100 at level 0.95: VaR = 95, worst 5% = 96..=100, mean 98.
        let xs: Vec<f64> = (1..=100).map(|i| i as f64).collect();
        let es = expected_shortfall(&xs, 0.95).unwrap();
        assert!((es.value - 98.0).abs() < 1e-12);
        assert!(es.std_error.is_some_and(|se| se > 0.0));
        // All zeros: ES 0 with zero SE (no NaN).
        let zeros = vec![0.0; 50];
        assert_eq!(
            expected_shortfall(&zeros, 0.99).unwrap(),
            TailEstimate {
                value: 0.0,
                std_error: Some(0.0)
            }
        );
        // One run: the tail's standard error is unknown, not 0.
        let one = expected_shortfall(&[5.0], 0.99).unwrap();
        assert_eq!(one.value, 5.0);
        assert_eq!(one.std_error, None);
    }

    #[test]
    fn order_statistic_ranks_match_binomial_tails() {
        // Median of n = 100: the classic 95% interval is [X_(40), X_(61)].
        let xs: Vec<f64> = (1..=100).map(|i| i as f64).collect();
        let q = quantile_with_bounds(&xs, 0.5, 0.95).unwrap();
        assert_eq!((q.lower, q.upper), (Some(40.0), Some(61.0)));
        // p = 0.99 with n = 100 has no finite upper bound at 95%: P(B <= 99) = 1 - 0.99^100 = 0.634.
        assert_eq!(upper_bound_rank(100, 0.99, 0.95), None);
        // n = 1000, p = 0.99: the upper rank u is the smallest with P(B <= u - 1) >= 0.95.
        let u = upper_bound_rank(1000, 0.99, 0.95).unwrap();
        assert!(binomial_cdf(u - 1, 1000, 0.99) >= 0.95);
        assert!(binomial_cdf(u - 2, 1000, 0.99) < 0.95);
    }
}
