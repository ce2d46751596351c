//! The figures a backtest's "Record" section sets beside what was reported (MODEL.md section
//! 16), for every cell: the grid's other axes are the inputs that had to be assumed, so the
//! cells side by side are the answer's sensitivity to them.

use std::num::NonZeroU64;

use super::runs::RunFigures;
use crate::stats::{SortedSample, Z95, wilson_of};

/// The 5%, 50% and 95% points over runs of the fund's change (USD, or coins for a fund held
/// in coin), or of another figure of the fund (its inventory's peak loss in coins).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FundChange {
    pub p5: f64,
    pub p50: f64,
    pub p95: f64,
}

/// One cell's simulated figures for the record's comparison.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordCell {
    pub runs: NonZeroU64,
    pub fund_change: FundChange,
    /// A fund held in coin: its change in coins (`None` for a fund held in USD).
    pub fund_change_coin: Option<FundChange>,
    /// A fund held in coin: its inventory's peak loss in coins (`None` in USD).
    pub inventory_peak_loss_coin: Option<FundChange>,
    /// Runs that auto-deleveraged or socialized losses.
    pub socialized: u64,
    /// Its 95% Wilson interval, as a probability: (low, high).
    pub socialized_ci: (f64, f64),
    pub bad_debt_mean: f64,
}

impl FundChange {
    /// The 5%, 50% and 95% points of `finals` less `start`.
    fn of(finals: &SortedSample, start: f64) -> Self {
        let q = |p| finals.quantile(p) - start;
        Self {
            p5: q(0.05),
            p50: q(0.5),
            p95: q(0.95),
        }
    }
}

impl RecordCell {
    pub fn p_socialized(&self) -> f64 {
        self.socialized as f64 / self.runs.get() as f64
    }
}

/// A run of a cell the experiment does not have: the runs table is not this experiment's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnknownCell {
    pub cell: usize,
    pub cells: usize,
}

impl std::fmt::Display for UnknownCell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "has a run of cell {} but the experiment has {} cells",
            self.cell, self.cells
        )
    }
}

/// One cell's runs, gathered for its figures.
#[derive(Clone, Default)]
struct Gathered {
    finals: Vec<f64>,
    coin_changes: Vec<Option<f64>>,
    coin_peak_losses: Vec<Option<f64>>,
    socialized: u64,
    bad_debt: f64,
}

impl Gathered {
    fn add(&mut self, r: &RunFigures) {
        self.finals.push(r.fund_final);
        self.coin_changes.push(r.fund_coin_change);
        self.coin_peak_losses.push(r.inventory_peak_loss_coin);
        self.socialized += u64::from(r.adl_count > 0 || r.socialized_loss > 0.0);
        self.bad_debt += r.bad_debt;
    }

    /// The cell's figures (`None` without runs).
    fn figures(self, initial: f64) -> Option<RecordCell> {
        let runs = NonZeroU64::new(self.finals.len() as u64)?;
        let finals = SortedSample::new(self.finals)?;
        // Figures in coins, when every run has one (a fund held in coin).
        let in_coin = |v: Vec<Option<f64>>| {
            let sample = v.into_iter().collect::<Option<Vec<f64>>>()?;
            SortedSample::new(sample).map(|s| FundChange::of(&s, 0.0))
        };
        Some(RecordCell {
            runs,
            fund_change: FundChange::of(&finals, initial),
            fund_change_coin: in_coin(self.coin_changes),
            inventory_peak_loss_coin: in_coin(self.coin_peak_losses),
            socialized: self.socialized,
            socialized_ci: wilson_of(self.socialized, runs, Z95),
            bad_debt_mean: self.bad_debt / runs.get() as f64,
        })
    }
}

/// Every cell's figures, in cell order, from the runs of every cell; `fund_initial` holds each
/// cell's fund at t = 0, one per cell of the experiment. A cell without runs has no figures
/// (`None`).
pub fn record_cells(
    runs: &[RunFigures],
    fund_initial: &[f64],
) -> Result<Vec<Option<RecordCell>>, UnknownCell> {
    let n = fund_initial.len();
    let mut cells = vec![Gathered::default(); n];
    for r in runs {
        let Some(cell) = cells.get_mut(r.cell) else {
            return Err(UnknownCell {
                cell: r.cell,
                cells: n,
            });
        };
        cell.add(r);
    }
    Ok(cells
        .into_iter()
        .zip(fund_initial)
        .map(|(cell, &initial)| cell.figures(initial))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::montecarlo::runs::tests::run;

    /// Twenty runs of cell 0 ending at 1..=20 from a fund of 10; one of them socialized a
    /// loss. Cell 1 has no runs and no figures.
    #[test]
    fn figures_of_a_cell_and_none_without_runs() {
        let mut runs: Vec<RunFigures> = (1..=20)
            .map(|i| RunFigures {
                fund_final: i as f64,
                ..run(0, i, 2.0)
            })
            .collect();
        runs[3].socialized_loss = 5.0;
        let cells = record_cells(&runs, &[10.0, 10.0]).unwrap();
        let c = cells[0].as_ref().unwrap();
        assert_eq!(c.runs.get(), 20);
        assert_eq!(
            c.fund_change,
            FundChange {
                p5: -9.0,
                p50: 0.0,
                p95: 9.0
            }
        );
        assert_eq!(c.socialized, 1);
        assert!((c.p_socialized() - 0.05).abs() < 1e-15);
        assert!(c.socialized_ci.0 < 0.05 && c.socialized_ci.1 > 0.05);
        assert_eq!(c.bad_debt_mean, 1.0);
        assert_eq!(cells[1], None);
        assert_eq!(
            record_cells(&[run(3, 0, 1.0)], &[10.0]),
            Err(UnknownCell { cell: 3, cells: 1 })
        );
    }
}
