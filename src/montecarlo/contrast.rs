//! The contrast of an experiment (`experiment.contrast`): each cell set against its baseline
//! cell on common seeds (MODEL.md section 11: the same seed index sees the same market and the
//! same accounts in every cell), so the difference is the parameters' and not luck's. Both
//! figures are over open interest (MODEL.md section 8: "less bad debt" must not be merely
//! "less was at risk").

use rand::{RngExt, SeedableRng};

use super::runs::{RunFigures, runs_of_cell};
use crate::config::Experiment;
use crate::rng::SimRng;
use crate::stats::{SortedSample, Z95};

/// Bootstrap resamples of the seeds for the interval of a difference of quantiles.
const RESAMPLES: usize = 1_000;
/// The seed of the bootstrap's generator: the report is a pure function of the tables.
const BOOTSTRAP_SEED: u64 = 0x5EED_C0DE;
/// The quantile of required capital compared: the fund for a 1% depletion target.
const CAPITAL_QUANTILE: f64 = 0.99;

/// One cell against its baseline.
#[derive(Clone, Debug, PartialEq)]
pub struct CellContrast {
    pub cell: usize,
    pub baseline: usize,
    pub runs: usize,
    /// Mean over seeds of `(bad debt - baseline bad debt) / open interest`.
    pub bad_debt: f64,
    pub bad_debt_lo95: f64,
    pub bad_debt_hi95: f64,
    /// `(q99 of required capital - baseline's q99) / mean open interest`, with a 95%
    /// percentile-bootstrap interval over seeds (resampled in pairs).
    pub capital: f64,
    pub capital_lo95: f64,
    pub capital_hi95: f64,
    /// Mean net signed voluntary flow inside cascades over open interest, in this cell.
    pub cascade_flow: f64,
    pub cascade_flow_se: f64,
    /// Mean voluntary closing notional over open interest, in this cell.
    pub voluntary: f64,
}

impl CellContrast {
    /// `+1` when both intervals lie above 0 (the cell needs more), `-1` below, 0 unsettled.
    pub fn sign(lo: f64, hi: f64) -> i8 {
        if lo > 0.0 {
            1
        } else if hi < 0.0 {
            -1
        } else {
            0
        }
    }
}

/// One cell's runs, by seed.
struct Runs {
    seed: Vec<u32>,
    bad_debt: Vec<f64>,
    required: Vec<f64>,
    open_interest: Vec<f64>,
    cascade_flow: Vec<f64>,
    voluntary: Vec<f64>,
}

fn runs_of(runs: &[RunFigures], cell: usize) -> Runs {
    let mut order: Vec<&RunFigures> = runs_of_cell(runs, cell).collect();
    order.sort_by_key(|r| r.seed);
    let pick = |f: fn(&RunFigures) -> f64| order.iter().map(|r| f(r)).collect();
    Runs {
        seed: order.iter().map(|r| r.seed).collect(),
        bad_debt: pick(|r| r.bad_debt),
        required: pick(|r| r.required_capital),
        open_interest: pick(|r| r.open_interest),
        cascade_flow: pick(|r| r.cascade_voluntary_flow),
        voluntary: pick(|r| r.voluntary_close_notional),
    }
}

/// A cell and its baseline that cannot be set side by side: not the same seeds, or no runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnpairedCells {
    pub cell: usize,
    pub baseline: usize,
}

impl std::fmt::Display for UnpairedCells {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "cells {} and {} do not hold the same seeds",
            self.cell, self.baseline
        )
    }
}

/// Every cell of `exp` with a baseline, set against it, from the runs of every cell.
pub fn contrasts(
    exp: &Experiment,
    runs: &[RunFigures],
) -> Result<Vec<CellContrast>, UnpairedCells> {
    let mut out = Vec::new();
    for (cell, baseline) in exp.contrast_baselines().into_iter().enumerate() {
        let Some(baseline) = baseline else { continue };
        let (a, b) = (runs_of(runs, cell), runs_of(runs, baseline));
        let unpaired = UnpairedCells { cell, baseline };
        if a.seed != b.seed {
            return Err(unpaired);
        }
        out.push(contrast(cell, baseline, &a, &b).ok_or(unpaired)?);
    }
    Ok(out)
}

fn mean_se(x: &[f64]) -> (f64, f64) {
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    if x.len() < 2 {
        return (mean, 0.0);
    }
    let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, (var / n).sqrt())
}

/// `x` as a share of open interest; a run with no open interest put nothing at risk, and its
/// share is 0 by definition (not a fallback: a contrast of such runs is 0, not undefined).
fn ratio(x: f64, oi: f64) -> f64 {
    if oi > 0.0 { x / oi } else { 0.0 }
}

/// One cell against its baseline on the same seeds; `None` when they hold no runs.
fn contrast(cell: usize, baseline: usize, a: &Runs, b: &Runs) -> Option<CellContrast> {
    let n = a.seed.len();
    let diffs: Vec<f64> = (0..n)
        .map(|i| ratio(a.bad_debt[i] - b.bad_debt[i], b.open_interest[i]))
        .collect();
    let (bad_debt, se) = mean_se(&diffs);
    let oi = b.open_interest.iter().sum::<f64>() / n as f64;
    let q = |v: &[f64]| SortedSample::new(v.to_vec()).map(|s| s.quantile(CAPITAL_QUANTILE));
    let capital = ratio(q(&a.required)? - q(&b.required)?, oi);
    let (capital_lo95, capital_hi95) = bootstrap(&a.required, &b.required, oi)?;
    let flows: Vec<f64> = (0..n)
        .map(|i| ratio(a.cascade_flow[i], a.open_interest[i]))
        .collect();
    let (cascade_flow, cascade_flow_se) = mean_se(&flows);
    let voluntary = (0..n)
        .map(|i| ratio(a.voluntary[i], a.open_interest[i]))
        .sum::<f64>()
        / n as f64;
    Some(CellContrast {
        cell,
        baseline,
        runs: n,
        bad_debt,
        bad_debt_lo95: bad_debt - Z95 * se,
        bad_debt_hi95: bad_debt + Z95 * se,
        capital,
        capital_lo95,
        capital_hi95,
        cascade_flow,
        cascade_flow_se,
        voluntary,
    })
}

/// The 2.5% and 97.5% points of the bootstrap distribution of the difference of q99s over
/// `oi`, the seeds resampled in pairs (Efron's percentile interval); `None` without seeds.
fn bootstrap(a: &[f64], b: &[f64], oi: f64) -> Option<(f64, f64)> {
    let n = a.len();
    if n == 0 {
        return None;
    }
    let mut rng = SimRng::seed_from_u64(BOOTSTRAP_SEED);
    let rank = ((CAPITAL_QUANTILE * n as f64).ceil() as usize).clamp(1, n) - 1;
    let (mut xa, mut xb) = (vec![0.0; n], vec![0.0; n]);
    let diffs: Vec<f64> = (0..RESAMPLES)
        .map(|_| {
            for k in 0..n {
                let i = rng.random_range(0..n);
                xa[k] = a[i];
                xb[k] = b[i];
            }
            let qa = *xa.select_nth_unstable_by(rank, f64::total_cmp).1;
            let qb = *xb.select_nth_unstable_by(rank, f64::total_cmp).1;
            ratio(qa - qb, oi)
        })
        .collect();
    let diffs = SortedSample::new(diffs)?;
    Some((diffs.quantile(0.025), diffs.quantile(0.975)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same runs against themselves differ by exactly 0; a cell whose every run has 100
    /// more of bad debt and 500 more of required capital, on 1,000 of open interest, differs
    /// by exactly 0.1 and 0.5, with intervals of no width.
    #[test]
    fn a_shift_is_measured_exactly() {
        let n = 500;
        let base = Runs {
            seed: (0..n as u32).collect(),
            bad_debt: (0..n).map(|i| (i % 17) as f64 * 10.0).collect(),
            required: (0..n).map(|i| (i % 23) as f64 * 100.0).collect(),
            open_interest: vec![1_000.0; n],
            cascade_flow: vec![-50.0; n],
            voluntary: vec![200.0; n],
        };
        let same = contrast(1, 0, &base, &base).unwrap();
        assert_eq!((same.bad_debt, same.capital), (0.0, 0.0));
        assert_eq!((same.capital_lo95, same.capital_hi95), (0.0, 0.0));
        let shifted = Runs {
            bad_debt: base.bad_debt.iter().map(|x| x + 100.0).collect(),
            required: base.required.iter().map(|x| x + 500.0).collect(),
            ..clone(&base)
        };
        let c = contrast(1, 0, &shifted, &base).unwrap();
        assert!((c.bad_debt - 0.1).abs() < 1e-12);
        assert!((c.bad_debt_hi95 - c.bad_debt).abs() < 1e-12);
        assert!((c.capital - 0.5).abs() < 1e-12);
        assert!((c.capital_lo95 - 0.5).abs() < 1e-12 && (c.capital_hi95 - 0.5).abs() < 1e-12);
        assert_eq!(CellContrast::sign(c.capital_lo95, c.capital_hi95), 1);
        assert!((c.cascade_flow + 0.05).abs() < 1e-12);
        let none = Runs {
            seed: Vec::new(),
            bad_debt: Vec::new(),
            required: Vec::new(),
            open_interest: Vec::new(),
            cascade_flow: Vec::new(),
            voluntary: Vec::new(),
        };
        assert_eq!(contrast(1, 0, &none, &none), None);
    }

    /// Runs are paired by seed whatever their order in the table.
    #[test]
    fn runs_are_read_by_seed() {
        use crate::montecarlo::runs::tests::run;
        let runs = [
            run(0, 2, 30.0),
            run(1, 0, 5.0),
            run(0, 0, 10.0),
            run(0, 1, 20.0),
        ];
        let r = runs_of(&runs, 0);
        assert_eq!(r.seed, vec![0, 1, 2]);
        assert_eq!(r.required, vec![10.0, 20.0, 30.0]);
    }

    fn clone(r: &Runs) -> Runs {
        Runs {
            seed: r.seed.clone(),
            bad_debt: r.bad_debt.clone(),
            required: r.required.clone(),
            open_interest: r.open_interest.clone(),
            cascade_flow: r.cascade_flow.clone(),
            voluntary: r.voluntary.clone(),
        }
    }
}
