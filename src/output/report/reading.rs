//! Which runs the headline's fund size may be read from (issue 34, item 1).
//!
//! A run's required capital is the need of a fund that lasts only while its fund lasts: once
//! the fund is gone, ADL or socialized losses take the deficits and the run goes on as a
//! different day (MODEL.md section 10). A run whose required capital lies below its cell's
//! fund never ran dry, so its figure is exact; one above it is not the need of a lasting fund
//! (neither a bound above nor below: measured, a 200k fund's 99th percentile came out above a
//! 400k fund's on the same seeds). A quantile of a cell is therefore exact only when it, and
//! its 95% bound, lie below that cell's fund. Cells that differ only in `fund.initial`
//! run the same days on common seeds until their funds run dry, so where the headline cell's
//! own quantile is cut short, the smallest larger fund of the grid that holds it answers for
//! the headline cell, bit for bit the figure `backstop calibrate` (a fund no deficit
//! exhausts) gives.

use crate::config::{Experiment, Target};
use crate::montecarlo::RunFigures;
use crate::stats::SortedSample;

const FUND_AXIS: &str = "fund.initial";

/// A cell's need at the study's target: the `1 - p` quantile of its runs' required capital,
/// its one-sided 95% upper bound (binomial order statistics, as `calibrate` reads it), the
/// largest need, and the cell's fund. With the default 1% target these are the summary's
/// `required_capital_q99`, `_q99_ub95` and `_max`, bit for bit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CellNeed {
    pub point: f64,
    /// Two-sided 95% interval of the quantile (the cells table's).
    pub lo95: Option<f64>,
    pub hi95: Option<f64>,
    pub ub95: Option<f64>,
    pub max: f64,
    pub fund: f64,
}

impl CellNeed {
    /// Every cell's need; `None` for a cell without runs. The runs are split by cell in one
    /// pass (a sweep's table holds a million of them).
    pub fn of_cells(runs: &[RunFigures], funds: &[f64], target: &Target) -> Vec<Option<Self>> {
        let mut by_cell: Vec<Vec<f64>> = vec![Vec::new(); funds.len()];
        for r in runs {
            if let Some(cell) = by_cell.get_mut(r.cell) {
                cell.push(r.required_capital);
            }
        }
        funds
            .iter()
            .zip(by_cell)
            .map(|(&fund, needs)| {
                let needs = SortedSample::new(needs)?;
                let ub95 = needs.upper_bound(target.level(), 0.95);
                let q = needs.quantile_with_bounds(target.level(), 0.95);
                Some(Self {
                    point: q.value,
                    lo95: q.lower,
                    hi95: q.upper,
                    ub95,
                    max: needs.max(),
                    fund,
                })
            })
            .collect()
    }

    /// The quantile's 95% upper bound, or the quantile itself when the runs resolve no bound.
    pub fn reach(&self) -> f64 {
        self.ub95.unwrap_or(self.point)
    }

    /// Whether every run the quantile and its bound count ran its whole day with a fund left.
    pub fn holds(&self) -> bool {
        self.max <= 0.0 || self.reach() < self.fund
    }
}

/// Where the headline's quantile comes from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum HeadlineReading {
    /// The headline cell's own quantile and bound lie below its fund.
    Own,
    /// The headline cell's fund runs dry too often for its quantile; this cell differs from
    /// it only in a larger fund, which holds the quantile and its bound.
    LargerFund(CellNeed),
    /// No cell of the grid holds the quantile and its bound. The headline cell's point
    /// estimate is exact when `point_holds` (only its bound is cut short); otherwise the
    /// runs say only that the need exceeds the cell's fund.
    CutShort { point_holds: bool },
}

impl HeadlineReading {
    pub fn of(exp: &Experiment, needs: &[Option<CellNeed>], h: usize) -> Self {
        let Some(head) = needs[h] else {
            return Self::CutShort { point_holds: false };
        };
        if head.holds() {
            return Self::Own;
        }
        let larger = exp
            .axes
            .iter()
            .position(|a| a.path == FUND_AXIS)
            .and_then(|f| {
                let same_but_fund = |c: usize| {
                    exp.cells[c]
                        .coords
                        .iter()
                        .zip(&exp.cells[h].coords)
                        .enumerate()
                        .all(|(i, (a, b))| i == f || a == b)
                };
                let larger_holding =
                    |c: usize| needs[c].filter(|n| n.fund > head.fund && n.holds());
                (0..needs.len())
                    .filter(|&c| same_but_fund(c))
                    .filter_map(larger_holding)
                    .min_by(|a, b| a.fund.total_cmp(&b.fund))
            });
        match larger {
            Some(need) => Self::LargerFund(need),
            None => Self::CutShort {
                point_holds: head.point < head.fund,
            },
        }
    }
}
