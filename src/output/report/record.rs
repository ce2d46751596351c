//! The figures a backtest's "Record" section sets beside what was reported (MODEL.md section
//! 16), for every cell: the grid's other axes are the inputs that had to be assumed, so the
//! cells side by side are the answer's sensitivity to them.

use std::path::Path;

use polars::prelude::DataFrame;

use super::{OutputError, values};
use crate::config::Experiment;
use crate::stats::{Z95, quantile_sorted, wilson};

/// The columns of `runs.parquet` the record's figures read.
pub const COLUMNS: &[&str] = &[
    "cell",
    "fund_final",
    "adl_count",
    "socialized_loss",
    "bad_debt",
];

/// One cell's simulated figures for the record's comparison.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordCell {
    pub runs: u64,
    /// The fund's change over the run (USD): 5th, 50th and 95th percentiles over runs.
    pub fund_change: [f64; 3],
    /// Runs that auto-deleveraged or socialized losses.
    pub socialized: u64,
    /// Its 95% Wilson interval, as a probability.
    pub socialized_ci: (f64, f64),
    pub bad_debt_mean: f64,
}

impl RecordCell {
    pub fn p_socialized(&self) -> f64 {
        self.socialized as f64 / self.runs.max(1) as f64
    }
}

/// Every cell's figures, in cell order, from the runs table; `fund_initial[c]` is cell `c`'s
/// fund at t = 0.
pub fn record_cells(
    exp: &Experiment,
    runs: &DataFrame,
    fund_initial: &[f64],
    path: &Path,
) -> Result<Vec<RecordCell>, OutputError> {
    let cells = values(runs, "cell", path)?;
    let fund_final = values(runs, "fund_final", path)?;
    let adl = values(runs, "adl_count", path)?;
    let socialized = values(runs, "socialized_loss", path)?;
    let bad_debt = values(runs, "bad_debt", path)?;
    let n = exp.cells.len();
    let mut finals: Vec<Vec<f64>> = vec![Vec::new(); n];
    let mut hits = vec![0u64; n];
    let mut debt = vec![0.0; n];
    for r in 0..cells.len() {
        let c = cells[r] as usize;
        if c >= n {
            continue;
        }
        finals[c].push(fund_final[r]);
        hits[c] += u64::from(adl[r] > 0.0 || socialized[r] > 0.0);
        debt[c] += bad_debt[r];
    }
    Ok(finals
        .into_iter()
        .enumerate()
        .map(|(c, mut f)| {
            f.sort_by(f64::total_cmp);
            let runs = f.len() as u64;
            let q = |p| {
                quantile_sorted(&f, p).unwrap_or(0.0) - fund_initial.get(c).copied().unwrap_or(0.0)
            };
            RecordCell {
                runs,
                fund_change: [q(0.05), q(0.5), q(0.95)],
                socialized: hits[c],
                socialized_ci: wilson(hits[c], runs, Z95).unwrap_or((0.0, 1.0)),
                bad_debt_mean: if runs > 0 { debt[c] / runs as f64 } else { 0.0 },
            }
        })
        .collect())
}
