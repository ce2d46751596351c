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

use crate::config::Experiment;
use crate::montecarlo::CellSummary;

const FUND_AXIS: &str = "fund.initial";

/// Where the headline's quantile comes from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum HeadlineReading {
    /// The headline cell's own quantile and bound lie below its fund.
    Own,
    /// The headline cell's fund runs dry too often for its quantile; this cell differs from
    /// it only in a larger fund, which holds the quantile and its bound.
    LargerFund(usize),
    /// No cell of the grid holds the quantile and its bound. The headline cell's point
    /// estimate is exact when `point_holds` (only its bound is cut short); otherwise the
    /// runs say only that the need exceeds the cell's fund.
    CutShort { point_holds: bool },
}

/// The quantile's 95% upper bound, or the quantile itself when the runs resolve no bound.
fn reach(s: &CellSummary) -> f64 {
    s.required_capital_q99_ub95
        .unwrap_or(s.required_capital_q99)
}

/// Whether every run `s`'s quantile and bound count ran its whole day with a fund left.
fn holds(s: &CellSummary) -> bool {
    s.required_capital_max <= 0.0 || reach(s) < s.fund_initial
}

impl HeadlineReading {
    pub fn of(exp: &Experiment, summaries: &[CellSummary], h: usize) -> Self {
        let head = &summaries[h];
        if holds(head) {
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
                (0..summaries.len())
                    .filter(|&c| same_but_fund(c))
                    .filter(|&c| summaries[c].fund_initial > head.fund_initial)
                    .filter(|&c| holds(&summaries[c]))
                    .min_by(|&a, &b| {
                        summaries[a]
                            .fund_initial
                            .total_cmp(&summaries[b].fund_initial)
                    })
            });
        match larger {
            Some(c) => Self::LargerFund(c),
            None => Self::CutShort {
                point_holds: head.required_capital_q99 < head.fund_initial,
            },
        }
    }
}
