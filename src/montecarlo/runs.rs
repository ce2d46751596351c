//! The figures of one run that the statistics over runs read (contrasts, the record, the
//! report's charts), as a typed row: `runs.parquet` is read back once, by name, into these
//! named fields, and everything downstream reads fields, not column names.

use crate::stats::SortedSample;

/// One run's figures, as written to its row of `runs.parquet`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RunFigures {
    pub cell: usize,
    pub seed: u32,
    pub required_capital: f64,
    pub bad_debt: f64,
    pub slippage_loss: f64,
    pub cascade_largest_notional: f64,
    pub open_interest: f64,
    pub cascade_voluntary_flow: f64,
    pub voluntary_close_notional: f64,
    pub fund_final: f64,
    pub adl_count: u32,
    pub socialized_loss: f64,
    /// A fund held in coin: its change over the run in coins (`None` for a USD fund, and in
    /// tables written before the column existed).
    pub fund_coin_change: Option<f64>,
    /// A fund held in coin: its inventory's peak loss in coins (`None` as above).
    pub inventory_peak_loss_coin: Option<f64>,
}

impl RunFigures {
    /// The columns of `runs.parquet` these figures come from, in field order.
    pub const COLUMNS: [&'static str; 12] = [
        "cell",
        "seed",
        "required_capital",
        "bad_debt",
        "slippage_loss",
        "cascade_largest_notional",
        "open_interest",
        "cascade_voluntary_flow",
        "voluntary_close_notional",
        "fund_final",
        "adl_count",
        "socialized_loss",
    ];

    /// A column of `runs.parquet` read when the table has it (added with funds held in
    /// coin; tables written before hold none).
    pub const OPTIONAL_COLUMNS: [&'static str; 2] =
        ["fund_coin_change", "inventory_peak_loss_coin"];
}

/// The runs of `cell`, in the order given (the table's order).
pub fn runs_of_cell(runs: &[RunFigures], cell: usize) -> impl Iterator<Item = &RunFigures> {
    runs.iter().filter(move |r| r.cell == cell)
}

/// The headline cell's runs as the report's charts read them.
#[derive(Clone, Debug, PartialEq)]
pub struct HeadlineRuns {
    pub required: SortedSample,
    pub bad_debt: SortedSample,
    /// Slippage loss per run, in table order.
    pub slippage: Vec<f64>,
    /// The largest cascade's notional per run, in table order.
    pub cascades: Vec<f64>,
}

impl HeadlineRuns {
    /// The runs of cell `h`; `None` when the table holds none of them.
    pub fn of(runs: &[RunFigures], h: usize) -> Option<Self> {
        let pick = |f: fn(&RunFigures) -> f64| runs_of_cell(runs, h).map(f).collect::<Vec<f64>>();
        Some(Self {
            required: SortedSample::new(pick(|r| r.required_capital))?,
            bad_debt: SortedSample::new(pick(|r| r.bad_debt))?,
            slippage: pick(|r| r.slippage_loss),
            cascades: pick(|r| r.cascade_largest_notional),
        })
    }

    /// How many runs (at least 1).
    pub fn runs(&self) -> u64 {
        self.required.len() as u64
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn run(cell: usize, seed: u32, required: f64) -> RunFigures {
        RunFigures {
            cell,
            seed,
            required_capital: required,
            bad_debt: required / 2.0,
            slippage_loss: 1.0,
            cascade_largest_notional: 2.0,
            open_interest: 1_000.0,
            cascade_voluntary_flow: 0.0,
            voluntary_close_notional: 0.0,
            fund_final: 100.0,
            adl_count: 0,
            socialized_loss: 0.0,
            fund_coin_change: None,
            inventory_peak_loss_coin: None,
        }
    }

    #[test]
    fn the_headline_runs_are_its_cells_sorted_and_none_without_runs() {
        let runs = [
            run(0, 0, 5.0),
            run(1, 0, 9.0),
            run(0, 1, 3.0),
            run(0, 2, 4.0),
        ];
        let h = HeadlineRuns::of(&runs, 0).unwrap();
        assert_eq!(h.required.values(), &[3.0, 4.0, 5.0]);
        assert_eq!(h.bad_debt.values(), &[1.5, 2.0, 2.5]);
        assert_eq!((h.runs(), h.slippage.len()), (3, 3));
        assert_eq!(HeadlineRuns::of(&runs, 2), None);
    }
}
