//! Monte Carlo over a grid.
//!
//! Work is cut into [`Unit`]s: a block of up to [`BLOCK`] consecutive seeds of one cell. A unit
//! runs its seeds in parallel and collects its rows in seed order, so its result is the same
//! bits on any thread count; units are independent, which is what resuming, sharding and
//! merging build on. Cells are reduced serially from their units' rows.

pub mod calibration;
pub mod contrast;
mod fan;
pub mod record;
mod runs;
mod summary;

pub use fan::{FanAggregate, FanBand, FanPoint, FundSampler, checkpoints};
pub use runs::{HeadlineRuns, RunFigures, runs_of_cell};
pub use summary::{CellRuns, CellSummary, EmptyCell, MarketSummary, summarize, summarize_markets};

use rayon::prelude::*;

use crate::config::Experiment;
use crate::protocol::LEDGER_TOLERANCE;
use crate::simulation::{
    MapWatch, MarketRow, RunOptions, RunRow, RunRows, StepView, ThinnedPath, simulate_observed,
};
use crate::stats::SortedSample;

/// Seeds per unit of work: small enough to checkpoint often, large enough to keep all cores
/// busy.
pub const BLOCK: u64 = 1_000;

/// Points of the fund-balance fan chart per run.
pub const FAN_POINTS: usize = 241;

/// A block of consecutive seeds of one cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Unit {
    /// Position in [`units`]: cell-major, then by seed.
    pub index: usize,
    pub cell: usize,
    /// Seed indices `start..end`.
    pub start: u64,
    pub end: u64,
}

/// Every unit of `exp`, cell-major, seeds ascending.
pub fn units(exp: &Experiment) -> Vec<Unit> {
    let seeds = exp.seeds as u64;
    let mut out = Vec::new();
    for cell in 0..exp.cells.len() {
        let mut start = 0;
        while start < seeds {
            let end = (start + BLOCK).min(seeds);
            out.push(Unit {
                index: out.len(),
                cell,
                start,
                end,
            });
            start = end;
        }
    }
    out
}

/// The rows of a unit's runs (seed order), their markets' rows (seed order, then market
/// order), and the histogram of their fund paths.
#[derive(Clone, Debug)]
pub struct UnitResult {
    pub rows: Vec<RunRow>,
    pub markets: Vec<MarketRow>,
    pub fan: FanAggregate,
    /// The first run (in seed order) that went wrong, and how: such a unit is never saved.
    pub failure: Option<RunFailure>,
}

/// A run whose figures must not reach a table: a price that left the sane range, a figure
/// that is not finite, or money not conserved.
#[derive(Clone, Debug, PartialEq)]
pub struct RunFailure {
    pub seed: u64,
    pub what: String,
}

impl RunFailure {
    /// What is wrong with one finished run, if anything.
    fn of(seed: u64, rows: &RunRows) -> Option<Self> {
        let what = if let Some(fault) = &rows.fault {
            fault.to_string()
        } else if let Some(column) = rows
            .run
            .non_finite_column()
            .or_else(|| rows.markets.iter().find_map(MarketRow::non_finite_column))
        {
            format!("its `{column}` is not finite (a bug; please report it)")
        } else if let Some(bad) = rows
            .run
            .out_of_range()
            .or_else(|| rows.markets.iter().find_map(MarketRow::out_of_range))
        {
            format!(
                "its `{}` is {}, but it is {} (a bug; please report it)",
                bad.column,
                bad.value,
                bad.range.words()
            )
        } else if rows.run.ledger_imbalance > LEDGER_TOLERANCE {
            format!(
                "its relative ledger imbalance is {:e}: money was not conserved (a bug; please \
                 report it)",
                rows.run.ledger_imbalance
            )
        } else {
            return None;
        };
        Some(Self { seed, what })
    }
}

/// The fan checkpoints of `cell`.
pub fn cell_checkpoints(exp: &Experiment, cell: usize) -> Vec<u64> {
    checkpoints(exp.cells[cell].scenario.steps(), FAN_POINTS)
}

/// Runs one unit on the current rayon pool; `on_run_done` is called once per finished run.
pub fn run_unit(
    exp: &Experiment,
    unit: &Unit,
    opts: RunOptions,
    on_run_done: &(dyn Fn() + Sync),
) -> UnitResult {
    let cps = cell_checkpoints(exp, unit.cell);
    let scenario = &exp.cells[unit.cell].scenario;
    let out: Vec<(RunRows, Vec<f64>)> = (unit.start..unit.end)
        .into_par_iter()
        .map(|seed| {
            let mut sampler = FundSampler::new(&cps);
            let rows = simulate_observed(scenario, exp.master_seed, seed, opts, &mut sampler);
            on_run_done();
            (rows, sampler.values)
        })
        .collect();
    let mut fan = FanAggregate::new(cps.clone());
    let mut rows = Vec::with_capacity(out.len());
    let mut markets = Vec::with_capacity(out.len() * scenario.markets().len());
    let mut failure = None;
    for (seed, (run, path)) in (unit.start..).zip(out) {
        failure = failure.or_else(|| RunFailure::of(seed, &run));
        fan.push(&path);
        rows.push(run.run);
        markets.extend(run.markets);
    }
    UnitResult {
        rows,
        markets,
        fan,
        failure,
    }
}

/// One run followed step by step, for the sample-path chart, with its liquidation map at
/// t = 0 and after its largest cascade: the report maps this one run, so memory does not grow
/// with seeds.
#[derive(Clone, Debug)]
pub struct SamplePath {
    pub cell: usize,
    pub seed: u32,
    pub steps: Vec<StepView>,
    /// Boxed: the aggregates that carry the path stay small.
    pub map: Box<MapWatch>,
}

impl SamplePath {
    /// No path: `cell` had no runs to follow (seed 0, no steps).
    fn empty(cell: usize) -> Self {
        Self {
            cell,
            seed: 0,
            steps: Vec::new(),
            map: Box::default(),
        }
    }
}

/// What a finished experiment reports beyond its rows: one summary and one fund fan per cell,
/// one summary per cell and market (cell-major, then market order), and one sample path of
/// the headline cell.
#[derive(Clone, Debug)]
pub struct Aggregates {
    pub summaries: Vec<CellSummary>,
    pub market_summaries: Vec<MarketSummary>,
    pub fans: Vec<Vec<FanPoint>>,
    pub sample: SamplePath,
    /// The first cell with a run or market row holding NaN or an infinity, and the column: a
    /// bug, which output refuses to show.
    pub non_finite: Option<(usize, &'static str)>,
}

/// Rows of every run, cell-major (all seeds of cell 0, then cell 1, ...), their markets' rows
/// in the same order (each run's markets in market order), and the aggregates.
#[derive(Clone, Debug)]
pub struct ExperimentResult {
    pub rows: Vec<RunRow>,
    pub market_rows: Vec<MarketRow>,
    pub summaries: Vec<CellSummary>,
    pub market_summaries: Vec<MarketSummary>,
    pub fans: Vec<Vec<FanPoint>>,
    pub sample: SamplePath,
    pub non_finite: Option<(usize, &'static str)>,
    /// The first run (cell, then seed) that went wrong: its rows are empty, not figures.
    pub failure: Option<(usize, RunFailure)>,
}

impl ExperimentResult {
    /// The runs of cell `c`.
    pub fn cell_rows(&self, c: usize) -> &[RunRow] {
        let n = self.rows.len() / self.summaries.len().max(1);
        &self.rows[c * n..(c + 1) * n]
    }

    /// The market rows of cell `c`.
    pub fn cell_market_rows(&self, c: usize) -> &[MarketRow] {
        let n = self.market_rows.len() / self.summaries.len().max(1);
        &self.market_rows[c * n..(c + 1) * n]
    }

    pub fn aggregates(&self) -> Aggregates {
        Aggregates {
            summaries: self.summaries.clone(),
            market_summaries: self.market_summaries.clone(),
            fans: self.fans.clone(),
            sample: self.sample.clone(),
            non_finite: self.non_finite,
        }
    }
}

/// One cell's rows, read back for its summaries.
pub struct CellRows {
    pub runs: Vec<RunRow>,
    pub markets: Vec<MarketRow>,
}

/// Reduces cells one at a time: `cell_rows(c)` gives the rows of cell `c` in seed order and
/// `fans` the merged histograms. Only one cell's rows need be in memory at once.
pub fn aggregate<E: From<EmptyCell>>(
    exp: &Experiment,
    fans: &[FanAggregate],
    opts: RunOptions,
    mut cell_rows: impl FnMut(usize) -> Result<CellRows, E>,
) -> Result<Aggregates, E> {
    let h = exp.headline_cell();
    let mut summaries = Vec::with_capacity(exp.cells.len());
    let mut market_summaries = Vec::new();
    let mut sample = None;
    let mut non_finite = None;
    for (c, cell) in exp.cells.iter().enumerate() {
        let rows = cell_rows(c)?;
        let bad = rows
            .runs
            .iter()
            .find_map(RunRow::non_finite_column)
            .or_else(|| rows.markets.iter().find_map(MarketRow::non_finite_column));
        non_finite = non_finite.or(bad.map(|column| (c, column)));
        let runs = CellRuns::new(&rows.runs).ok_or(EmptyCell { market: None })?;
        summaries.push(summarize(&cell.scenario, runs));
        market_summaries.extend(summarize_markets(&cell.scenario, &rows.markets).map_err(E::from)?);
        if c == h {
            sample = Some(sample_path(exp, c, &rows.runs, opts));
        }
    }
    Ok(Aggregates {
        summaries,
        market_summaries,
        non_finite,
        fans: fans.iter().map(FanAggregate::bands).collect(),
        // The headline cell is one of the cells, so the loop above set its path.
        sample: sample.unwrap_or_else(|| SamplePath::empty(h)),
    })
}

/// Runs every unit of `exp` in memory on the current rayon pool. `on_run_done` is called once
/// per finished run (from worker threads), for progress reporting.
pub fn run_experiment(
    exp: &Experiment,
    opts: RunOptions,
    on_run_done: &(dyn Fn() + Sync),
) -> ExperimentResult {
    let mut fans: Vec<FanAggregate> = (0..exp.cells.len())
        .map(|c| FanAggregate::new(cell_checkpoints(exp, c)))
        .collect();
    let mut rows: Vec<RunRow> = Vec::with_capacity(exp.total_runs() as usize);
    let mut market_rows: Vec<MarketRow> = Vec::new();
    let mut failure = None;
    for unit in units(exp) {
        let r = run_unit(exp, &unit, opts, on_run_done);
        failure = failure.or(r.failure.map(|f| (unit.cell, f)));
        fans[unit.cell].merge(&r.fan);
        rows.extend(r.rows);
        market_rows.extend(r.markets);
    }
    let seeds = exp.seeds as usize;
    let per_run = exp.cells.first().map_or(1, |c| c.scenario.markets().len());
    let agg = aggregate(exp, &fans, opts, |c| {
        let m = seeds * per_run;
        Ok::<_, EmptyCell>(CellRows {
            runs: rows[c * seeds..(c + 1) * seeds].to_vec(),
            markets: market_rows[c * m..(c + 1) * m].to_vec(),
        })
    })
    // Every cell ran `exp.seeds` runs on every market, and validation asks for at least one.
    .unwrap_or_else(|e| unreachable!("{e}: every cell runs at least one seed"));
    ExperimentResult {
        rows,
        market_rows,
        summaries: agg.summaries,
        market_summaries: agg.market_summaries,
        fans: agg.fans,
        sample: agg.sample,
        non_finite: agg.non_finite,
        failure,
    }
}

/// Re-runs, step by step, the seed of `cell` whose required capital (what the fund had to
/// pay out at its worst) is the `1 - target` quantile of the cell's runs (the 99th
/// percentile at the default 1% a day): the day the headline's
/// quantile is read from, a bad day but one that happens (ties: the lowest seed). Bad debt
/// would not do: where liquidation orders are limited at the bankruptcy price (the baseline's
/// Binance rules) it is zero on nearly every day, and its 99th percentile picked a calm one.
/// A cell without runs has no such day: its path has no steps. The same re-run draws the
/// run's liquidation map ([`MapWatch`]).
pub fn sample_path(exp: &Experiment, cell: usize, rows: &[RunRow], opts: RunOptions) -> SamplePath {
    let Some(needs) = SortedSample::new(rows.iter().map(|r| r.required_capital).collect()) else {
        return SamplePath::empty(cell);
    };
    let target = needs.quantile(exp.target.level());
    // The target is one of the rows' values, so a row holds it.
    let Some(seed) = rows
        .iter()
        .find(|r| r.required_capital == target)
        .map(|r| r.seed)
    else {
        return SamplePath::empty(cell);
    };
    let mut watch = (
        ThinnedPath::new(exp.cells[cell].scenario.steps()),
        MapWatch::default(),
    );
    simulate_observed(
        &exp.cells[cell].scenario,
        exp.master_seed,
        seed as u64,
        opts,
        &mut watch,
    );
    let (path, map) = watch;
    SamplePath {
        cell,
        seed,
        steps: path.points,
        map: Box::new(map),
    }
}
