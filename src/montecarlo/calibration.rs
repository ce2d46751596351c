//! Fund calibration (MODEL.md sections 5 and 10).
//!
//! A run depletes a fund of size F exactly when its required capital R exceeds F, as long as
//! nothing before depletion depends on F. So one batch of runs with a fund that never runs dry
//! gives, for every F at once, the share of runs that would deplete. The fund for a target
//! depletion probability `a` is the `(1 - a)` quantile of R. Its one-sided 95% upper
//! confidence bound is an order statistic whose rank comes from the binomial distribution.

use crate::stats::{Moments, Z95, quantile_sorted, upper_bound_rank, wilson};

/// The calibrated fund of one cell of the non-fund axes.
#[derive(Clone, Debug, PartialEq)]
pub struct Calibration {
    pub runs: u64,
    pub target: f64,
    /// The `(1 - target)` quantile of required capital: the smallest fund that depletes in at
    /// most a share `target` of these runs.
    pub fund: f64,
    /// One-sided 95% upper confidence bound of that quantile; `None` when the runs are too few
    /// (`(1 - target)^n > 0.05`).
    pub fund_ub95: Option<f64>,
    /// Share of these runs that deplete a fund of `fund` (at most `target`).
    pub depletion_at_fund: f64,
    /// Mean of what liquidated traders pay per run: penalties plus slippage.
    pub trader_losses: f64,
    pub trader_losses_se: f64,
}

/// One point of a depletion curve.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CurvePoint {
    pub fund: f64,
    pub p: f64,
    pub lo: f64,
    pub hi: f64,
}

/// Calibrates one cell from its runs' required capital and trader losses (same order).
pub fn calibrate(required: &[f64], trader_losses: &[f64], target: f64) -> Calibration {
    let mut r = required.to_vec();
    r.sort_by(f64::total_cmp);
    let n = r.len() as u64;
    let fund = quantile_sorted(&r, 1.0 - target).unwrap_or(0.0);
    let fund_ub95 = if n == 0 {
        None
    } else {
        upper_bound_rank(n, 1.0 - target, 0.95).map(|u| r[u as usize - 1])
    };
    let losses: Moments = trader_losses.iter().copied().collect();
    Calibration {
        runs: n,
        target,
        fund,
        fund_ub95,
        depletion_at_fund: share_above(&r, fund),
        trader_losses: losses.mean().unwrap_or(0.0),
        trader_losses_se: losses.std_error().unwrap_or(0.0),
    }
}

/// Share of sorted values strictly above `x`: the depletion probability of a fund `x`.
pub fn share_above(sorted: &[f64], x: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    (sorted.len() - sorted.partition_point(|&v| v <= x)) as f64 / sorted.len() as f64
}

/// P(depletion) with its Wilson 95% interval at each fund size.
pub fn depletion_curve(required: &[f64], funds: &[f64]) -> Vec<CurvePoint> {
    let mut r = required.to_vec();
    r.sort_by(f64::total_cmp);
    let n = r.len() as u64;
    funds
        .iter()
        .map(|&f| {
            let k = r.len() - r.partition_point(|&v| v <= f);
            let (lo, hi) = wilson(k as u64, n, Z95).unwrap_or((0.0, 1.0));
            CurvePoint {
                fund: f,
                p: k as f64 / n.max(1) as f64,
                lo,
                hi,
            }
        })
        .collect()
}

/// Indices of the cells on the frontier of (fund, trader losses): no other cell needs a fund
/// at most as large and costs traders at most as much, with one of the two strictly smaller.
/// The fund compared is the 95% upper bound where there is one, the point estimate otherwise.
pub fn frontier(cells: &[Calibration]) -> Vec<usize> {
    let fund = |c: &Calibration| c.fund_ub95.unwrap_or(c.fund);
    (0..cells.len())
        .filter(|&i| {
            !cells.iter().enumerate().any(|(j, o)| {
                j != i
                    && fund(o) <= fund(&cells[i])
                    && o.trader_losses <= cells[i].trader_losses
                    && (fund(o) < fund(&cells[i]) || o.trader_losses < cells[i].trader_losses)
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fund_depletes_in_at_most_the_target_share() {
        // R = 1..=1000: the 99% quantile is X_(990) = 990, and exactly 10 runs exceed it.
        let r: Vec<f64> = (1..=1000).map(f64::from).collect();
        let c = calibrate(&r, &vec![1.0; 1000], 0.01);
        assert_eq!(c.fund, 990.0);
        assert_eq!(c.depletion_at_fund, 0.01);
        // The bound is the order statistic of the binomial rank (values here equal their rank).
        let u = upper_bound_rank(1000, 0.99, 0.95).unwrap();
        assert_eq!(c.fund_ub95, Some(u as f64));
        assert!(u > 990 && u <= 1000);
        assert_eq!(share_above(&r, 989.0), 0.011);
        // Too few runs for a bound at 0.1%.
        assert_eq!(calibrate(&r[..100], &[1.0; 100], 0.001).fund_ub95, None);
    }

    #[test]
    fn curve_counts_runs_above_each_fund() {
        let r = [0.0, 0.0, 5.0, 10.0];
        let c = depletion_curve(&r, &[0.0, 5.0, 7.0, 10.0]);
        assert_eq!(
            c.iter().map(|p| p.p).collect::<Vec<_>>(),
            vec![0.5, 0.25, 0.25, 0.0]
        );
        assert!(c.iter().all(|p| p.lo <= p.p && p.p <= p.hi));
    }

    #[test]
    fn frontier_drops_dominated_cells() {
        let cell = |fund: f64, losses: f64| Calibration {
            runs: 1,
            target: 0.01,
            fund,
            fund_ub95: Some(fund),
            depletion_at_fund: 0.0,
            trader_losses: losses,
            trader_losses_se: 0.0,
        };
        let cells = [
            cell(10.0, 5.0),
            cell(8.0, 6.0),
            cell(12.0, 6.0),
            cell(8.0, 7.0),
        ];
        assert_eq!(frontier(&cells), vec![0, 1]);
    }
}
