//! Fund calibration (MODEL.md sections 5 and 10).
//!
//! A run depletes a fund of size F exactly when its required capital R exceeds F, as long as
//! nothing before depletion depends on F. So one batch of runs with a fund that never runs dry
//! gives, for every F at once, the share of runs that would deplete. The fund for a target
//! depletion probability `a` is the `(1 - a)` quantile of R. Its one-sided 95% upper
//! confidence bound is an order statistic whose rank comes from the binomial distribution.

use std::num::NonZeroU64;

use rayon::prelude::*;

use crate::config::Scenario;
use crate::params::ParamError;
use crate::simulation::{RunOptions, simulate};
use crate::stats::{Moments, SortedSample, Z95, wilson_of};

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
    /// `None` for a single run (unknown, not 0).
    pub trader_losses_se: Option<f64>,
    /// The target needs more than the fund cap allows: `fund` (and the bound) are the cap, and
    /// the target is not met (bisection calibration only).
    pub capped: bool,
}

/// Per run of one cell: the critical fund (required capital, or a bisection threshold that
/// is infinite above a cap) and what liquidated traders paid (penalties plus slippage).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CellSamples {
    pub critical: Vec<f64>,
    pub trader_losses: Vec<f64>,
}

/// One point of a depletion curve.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CurvePoint {
    pub fund: f64,
    pub p: f64,
    pub lo: f64,
    pub hi: f64,
}

/// Calibrates one cell from its runs' required capital and trader losses (same order);
/// `None` for a cell without runs, which says nothing about any fund.
pub fn calibrate(required: &[f64], trader_losses: &[f64], target: f64) -> Option<Calibration> {
    let r = SortedSample::new(required.to_vec())?;
    let fund = r.quantile(1.0 - target);
    let losses: Moments = trader_losses.iter().copied().collect();
    Some(Calibration {
        runs: r.len() as u64,
        target,
        fund,
        fund_ub95: r.upper_bound(1.0 - target, 0.95),
        depletion_at_fund: share_above(r.values(), fund),
        trader_losses: losses.mean()?,
        trader_losses_se: losses.std_error(),
        capped: false,
    })
}

/// Bisection steps of the fallback: the critical fund is found to within `cap / 2^30`.
pub const BISECTION_STEPS: u32 = 30;

/// The smallest fund, within `[0, cap]`, that seed `seed` does not deplete, to within
/// `cap / 2^steps` (the upper end of the final bracket, so that fund does not deplete);
/// infinity when even `cap` depletes. Depletion is monotone in the initial fund even with a
/// cap: a larger start keeps the balance at least as high at every step until depletion (the
/// cap clamps both paths alike), so bisection finds the threshold.
pub fn critical_fund(
    scenario: &Scenario,
    master_seed: u64,
    seed: u64,
    cap: f64,
    steps: u32,
) -> Result<f64, ParamError> {
    let depletes = |f: f64| -> Result<bool, ParamError> {
        Ok(simulate(
            &scenario.with_fund(f)?,
            master_seed,
            seed,
            RunOptions::default(),
        )
        .depleted)
    };
    if depletes(cap)? {
        return Ok(f64::INFINITY);
    }
    if !depletes(0.0)? {
        return Ok(0.0);
    }
    let (mut lo, mut hi) = (0.0, cap);
    for _ in 0..steps {
        let mid = 0.5 * (lo + hi);
        if depletes(mid)? {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Ok(hi)
}

/// The fallback of calibration when the fund shapes the run before depletion: every seed's
/// critical fund by bisection, and its trader losses with the fund at the cap. Seeds run in
/// parallel and come back in order.
pub fn bisect_cell(
    scenario: &Scenario,
    master_seed: u64,
    seeds: u64,
    cap: f64,
    on_seed_done: &(dyn Fn() + Sync),
) -> Result<CellSamples, ParamError> {
    let at_cap = scenario.with_fund(cap)?;
    let out: Vec<Result<(f64, f64), ParamError>> = (0..seeds)
        .into_par_iter()
        .map(|seed| {
            let critical = critical_fund(scenario, master_seed, seed, cap, BISECTION_STEPS)?;
            let row = simulate(&at_cap, master_seed, seed, RunOptions::default());
            on_seed_done();
            Ok((critical, row.penalty_paid + row.slippage_loss))
        })
        .collect();
    let mut samples = CellSamples::default();
    for r in out {
        let (c, l) = r?;
        samples.critical.push(c);
        samples.trader_losses.push(l);
    }
    Ok(samples)
}

/// [`calibrate`] for critical funds that may be infinite (above the cap): a target that needs
/// more than the cap is reported as the cap, flagged, never as infinity.
pub fn calibrate_capped(
    critical: &[f64],
    trader_losses: &[f64],
    target: f64,
    cap: f64,
) -> Option<Calibration> {
    let mut c = calibrate(critical, trader_losses, target)?;
    if !c.fund.is_finite() {
        c.fund = cap;
        c.capped = true;
    }
    if c.fund_ub95.is_some_and(|u| !u.is_finite()) {
        c.fund_ub95 = None;
    }
    Some(c)
}

/// Share of sorted values strictly above `x`: the depletion probability of a fund `x`.
pub fn share_above(sorted: &[f64], x: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    (sorted.len() - sorted.partition_point(|&v| v <= x)) as f64 / sorted.len() as f64
}

/// P(depletion) with its Wilson 95% interval at each fund size; no points without runs (an
/// empty sample says nothing about any fund).
pub fn depletion_curve(required: &[f64], funds: &[f64]) -> Vec<CurvePoint> {
    let mut r = required.to_vec();
    r.sort_by(f64::total_cmp);
    let Some(n) = NonZeroU64::new(r.len() as u64) else {
        return Vec::new();
    };
    funds
        .iter()
        .map(|&f| {
            // Runs that deplete a fund f: required capital above f.
            let k = r.len() - r.partition_point(|&v| v <= f);
            let (lo, hi) = wilson_of(k as u64, n, Z95);
            CurvePoint {
                fund: f,
                p: k as f64 / n.get() as f64,
                lo,
                hi,
            }
        })
        .collect()
}

/// Indices of the cells on the frontier of (fund, trader losses): no other cell needs a fund
/// at most as large and costs traders at most as much, with one of the two strictly smaller.
/// The fund compared is the 95% upper bound where there is one, the point estimate otherwise.
/// Both are compared in whole dollars: cells that differ by cents (penalties of 1% and 2%
/// taking the same equity, summed in another order) are a tie, and a tie is on the frontier
/// together.
pub fn frontier(cells: &[Calibration]) -> Vec<usize> {
    let fund = |c: &Calibration| c.fund_ub95.unwrap_or(c.fund).round();
    let losses = |c: &Calibration| c.trader_losses.round();
    (0..cells.len())
        .filter(|&i| {
            !cells.iter().enumerate().any(|(j, o)| {
                j != i
                    && fund(o) <= fund(&cells[i])
                    && losses(o) <= losses(&cells[i])
                    && (fund(o) < fund(&cells[i]) || losses(o) < losses(&cells[i]))
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::upper_bound_rank;

    #[test]
    fn the_fund_depletes_in_at_most_the_target_share() {
        // R = 1..=1000: the 99% quantile is X_(990) = 990, and exactly 10 runs exceed it.
        let r: Vec<f64> = (1..=1000).map(f64::from).collect();
        let c = calibrate(&r, &vec![1.0; 1000], 0.01).unwrap();
        assert_eq!(c.fund, 990.0);
        assert_eq!(c.depletion_at_fund, 0.01);
        // The bound is the order statistic of the binomial rank (values here equal their rank).
        let u = upper_bound_rank(1000, 0.99, 0.95).unwrap();
        assert_eq!(c.fund_ub95, Some(u as f64));
        assert!(u > 990 && u <= 1000);
        assert_eq!(share_above(&r, 989.0), 0.011);
        // Too few runs for a bound at 0.1%.
        assert_eq!(
            calibrate(&r[..100], &[1.0; 100], 0.001).unwrap().fund_ub95,
            None
        );
        // No runs: nothing to calibrate from, not a fund of 0.
        assert_eq!(calibrate(&[], &[], 0.01), None);
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
            trader_losses_se: None,
            capped: false,
        };
        let cells = [
            cell(10.0, 5.0),
            cell(8.0, 6.0),
            cell(12.0, 6.0),
            cell(8.0, 7.0),
        ];
        assert_eq!(frontier(&cells), vec![0, 1]);
        // Cents apart is a tie: both are on the frontier.
        let tied = [cell(10.0, 5.0), cell(10.0, 5.007), cell(10.0, 6.0)];
        assert_eq!(frontier(&tied), vec![0, 1]);
    }
}
