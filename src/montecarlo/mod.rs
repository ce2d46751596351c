//! Monte Carlo over a grid: every (cell, seed) run in parallel, rows collected in index order,
//! each cell reduced serially. The same experiment gives the same bits on any thread count.

mod fan;
mod summary;

pub use fan::{FanAggregate, FanPoint, FundSampler, checkpoints};
pub use summary::{CellSummary, summarize};

use rayon::prelude::*;

use crate::config::Experiment;
use crate::simulation::{RunOptions, RunRow, StepView, simulate_observed};
use crate::stats::quantile_sorted;

/// Runs are processed in chunks of this many, so that per-run fund paths for the fan chart
/// are folded into histograms and dropped while the next chunk runs: memory stays one row of
/// scalars per run.
const CHUNK: u64 = 4_096;

/// Points of the fund-balance fan chart per run.
pub const FAN_POINTS: usize = 241;

/// One run followed step by step, for the sample-path chart.
#[derive(Clone, Debug)]
pub struct SamplePath {
    pub cell: usize,
    pub seed: u32,
    /// Why this seed: the run at the 99th percentile of bad debt in its cell.
    pub steps: Vec<StepView>,
}

/// Rows of every run, cell-major (all seeds of cell 0, then cell 1, ...), one summary and one
/// fund fan per cell, and one sample path of the headline cell.
#[derive(Clone, Debug)]
pub struct ExperimentResult {
    pub rows: Vec<RunRow>,
    pub summaries: Vec<CellSummary>,
    pub fans: Vec<Vec<FanPoint>>,
    pub sample: SamplePath,
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
    let total = exp.total_runs();
    let cps: Vec<Vec<u64>> = exp
        .cells
        .iter()
        .map(|c| checkpoints(c.scenario.steps(), FAN_POINTS))
        .collect();
    let mut fans: Vec<FanAggregate> = cps.iter().cloned().map(FanAggregate::new).collect();
    let mut rows: Vec<RunRow> = Vec::with_capacity(total as usize);
    let mut start = 0;
    while start < total {
        let end = (start + CHUNK).min(total);
        let chunk: Vec<(RunRow, Vec<f64>)> = (start..end)
            .into_par_iter()
            .map(|k| {
                let c = (k / seeds) as usize;
                let mut sampler = FundSampler::new(&cps[c]);
                let row = simulate_observed(
                    &exp.cells[c].scenario,
                    exp.master_seed,
                    k % seeds,
                    opts,
                    &mut sampler,
                );
                on_run_done();
                (row, sampler.values)
            })
            .collect();
        for (k, (row, path)) in (start..end).zip(chunk) {
            fans[(k / seeds) as usize].push(&path);
            rows.push(row);
        }
        start = end;
    }
    let summaries = exp
        .cells
        .iter()
        .enumerate()
        .map(|(c, cell)| {
            let s = c * exp.seeds as usize;
            summarize(&cell.scenario, &rows[s..s + exp.seeds as usize])
        })
        .collect();
    let cell = exp.headline_cell();
    let sample = sample_path(
        exp,
        cell,
        &rows[cell * seeds as usize..(cell + 1) * seeds as usize],
        opts,
    );
    ExperimentResult {
        rows,
        summaries,
        fans: fans.iter().map(FanAggregate::bands).collect(),
        sample,
    }
}

/// Re-runs, step by step, the seed of `cell` whose bad debt is the 99th percentile of the
/// cell's runs: a bad day, but one that happens (ties: the lowest seed).
pub fn sample_path(exp: &Experiment, cell: usize, rows: &[RunRow], opts: RunOptions) -> SamplePath {
    let mut debts: Vec<f64> = rows.iter().map(|r| r.bad_debt).collect();
    debts.sort_by(f64::total_cmp);
    let target = quantile_sorted(&debts, 0.99).unwrap_or(0.0);
    let seed = rows
        .iter()
        .find(|r| r.bad_debt == target)
        .map_or(0, |r| r.seed);
    let mut steps = Vec::with_capacity(exp.cells[cell].scenario.steps() as usize + 1);
    simulate_observed(
        &exp.cells[cell].scenario,
        exp.master_seed,
        seed as u64,
        opts,
        &mut steps,
    );
    SamplePath { cell, seed, steps }
}
