//! Monte Carlo over a grid: every (cell, seed) run in parallel, rows collected in index order,
//! each cell reduced serially. The same experiment gives the same bits on any thread count.

mod summary;

pub use summary::{CellSummary, summarize};

use rayon::prelude::*;

use crate::config::Experiment;
use crate::simulation::{RunOptions, RunRow, simulate};

/// Rows of every run, cell-major (all seeds of cell 0, then cell 1, ...), and one summary per
/// cell. Holds one row of scalars per run and nothing per step.
#[derive(Clone, Debug)]
pub struct ExperimentResult {
    pub rows: Vec<RunRow>,
    pub summaries: Vec<CellSummary>,
}

impl ExperimentResult {
    /// The runs of cell `c`.
    pub fn cell_rows(&self, c: usize) -> &[RunRow] {
        let n = self.rows.len() / self.summaries.len().max(1);
        &self.rows[c * n..(c + 1) * n]
    }
}

/// Runs every cell of `exp` over its seeds on the current rayon pool. `on_run_done` is called
/// once per finished run (from worker threads), for progress reporting.
pub fn run_experiment(
    exp: &Experiment,
    opts: RunOptions,
    on_run_done: &(dyn Fn() + Sync),
) -> ExperimentResult {
    let seeds = exp.seeds as u64;
    let rows: Vec<RunRow> = (0..exp.total_runs())
        .into_par_iter()
        .map(|k| {
            let cell = &exp.cells[(k / seeds) as usize];
            let row = simulate(&cell.scenario, exp.master_seed, k % seeds, opts);
            on_run_done();
            row
        })
        .collect();
    let summaries = exp
        .cells
        .iter()
        .enumerate()
        .map(|(c, cell)| {
            let s = c * exp.seeds as usize;
            summarize(&cell.scenario, &rows[s..s + exp.seeds as usize])
        })
        .collect();
    ExperimentResult { rows, summaries }
}
