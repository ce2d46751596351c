//! The governance report: charts and `report.md`, rebuilt from the tables a run leaves in its
//! output folder. Nothing here simulates; `backstop run` calls the same code after writing
//! its tables, so a report made later by `backstop report DIR` is the same report.
//!
//! The summaries are read back through their one typed declaration ([`CellSummary`],
//! [`MarketSummary`]): a missing column, or an empty value where one must be, is an error that
//! names the file, never a silent 0.

mod contrast;
mod figures;
mod markdown;
mod record;

use std::path::{Path, PathBuf};

use polars::prelude::*;

use super::{
    EXPERIMENT_FILE, FAN_FILE, OutputError, RUNS_FILE, SAMPLE_FILE, SUMMARY_BY_MARKET_PARQUET,
    SUMMARY_PARQUET, write_atomic,
};
use crate::config::{Experiment, Overrides};
use crate::montecarlo::{CellSummary, MarketSummary};

pub use markdown::headline;

pub const REPORT_FILE: &str = "report.md";

/// The depletion probability the headline answers for.
pub const TARGET: f64 = 0.01;

/// What `build_report` wrote, and what it could not draw and why.
#[derive(Debug, Default)]
pub struct ReportOutcome {
    pub files: Vec<PathBuf>,
    pub notes: Vec<String>,
}

fn err(path: &Path, e: impl std::fmt::Display) -> OutputError {
    OutputError {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

fn read_parquet(path: &Path, columns: Option<&[&str]>) -> Result<DataFrame, OutputError> {
    super::read_parquet_file(path, columns)
}

/// A numeric column, every value present.
fn values(df: &DataFrame, name: &str, path: &Path) -> Result<Vec<f64>, OutputError> {
    let c = df
        .column(name)
        .map_err(|_| err(path, format!("column `{name}` is missing")))?
        .cast(&DataType::Float64)
        .map_err(|e| err(path, format!("column `{name}`: {e}")))?;
    c.f64()
        .map_err(|e| err(path, e))?
        .iter()
        .map(|v| v.ok_or_else(|| err(path, format!("column `{name}` has an empty value"))))
        .collect()
}

/// The values of column `name` in the rows of `cell` (by the `cell` column).
fn values_of_cell(
    df: &DataFrame,
    name: &str,
    cell: usize,
    path: &Path,
) -> Result<Vec<f64>, OutputError> {
    let cells = values(df, "cell", path)?;
    Ok(values(df, name, path)?
        .into_iter()
        .zip(cells)
        .filter(|(_, c)| *c as usize == cell)
        .map(|(v, _)| v)
        .collect())
}

/// The headline cell's runs, as the charts read them.
struct HeadlineRuns {
    /// Required capital, sorted.
    required: Vec<f64>,
    /// Bad debt, sorted.
    bad_debt: Vec<f64>,
    slippage: Vec<f64>,
    cascades: Vec<f64>,
}

/// Everything the report is made of, read from an output folder.
struct Tables {
    exp: Experiment,
    summaries: Vec<CellSummary>,
    markets: Vec<MarketSummary>,
    /// The headline cell: the scenario as written.
    h: usize,
    runs: HeadlineRuns,
    /// The headline cell's fund fan: hours and the five percentile bands.
    fan: (Vec<f64>, Vec<[f64; 5]>),
    sample: Sample,
    /// Each cell against its baseline, when the experiment names a contrast axis.
    contrasts: Vec<contrast::CellContrast>,
    /// Every cell's figures beside the record, when the experiment has one.
    record: Vec<record::RecordCell>,
}

impl Tables {
    fn read(dir: &Path) -> Result<Self, OutputError> {
        let exp_path = dir.join(EXPERIMENT_FILE);
        let exp =
            Experiment::load(&exp_path, Overrides::default()).map_err(|e| err(&exp_path, e))?;
        let summaries = read_summaries(dir, &exp)?;
        let markets = read_market_summaries(dir, &exp)?;
        let h = exp.headline_cell();
        let runs = read_headline_runs(dir, h)?;
        // Every table is read before any chart is drawn: a damaged one refuses the report
        // before anything is rewritten.
        let fan = read_fan(dir, h)?;
        let sample = read_sample(dir)?;
        let contrasts = if exp.contrast_axis().is_some() {
            let path = dir.join(RUNS_FILE);
            let runs = read_parquet(&path, Some(contrast::COLUMNS))?;
            contrast::contrasts(&exp, &runs, &path)?
        } else {
            Vec::new()
        };
        let record = if exp.resolved.experiment.record.is_some() {
            let path = dir.join(RUNS_FILE);
            let runs = read_parquet(&path, Some(record::COLUMNS))?;
            let funds: Vec<f64> = summaries.iter().map(|s| s.fund_initial).collect();
            record::record_cells(&exp, &runs, &funds, &path)?
        } else {
            Vec::new()
        };
        Ok(Self {
            exp,
            summaries,
            markets,
            h,
            runs,
            fan,
            sample,
            contrasts,
            record,
        })
    }

    fn head(&self) -> &CellSummary {
        &self.summaries[self.h]
    }

    /// Runs behind the headline cell's figures.
    fn n(&self) -> u64 {
        self.runs.required.len() as u64
    }
}

/// `summary.parquet`, one row per cell, through [`CellSummary`].
fn read_summaries(dir: &Path, exp: &Experiment) -> Result<Vec<CellSummary>, OutputError> {
    let path = dir.join(SUMMARY_PARQUET);
    let rows =
        super::summaries_from_frame(&read_parquet(&path, None)?).map_err(|e| err(&path, e))?;
    if rows.len() != exp.cells.len() {
        return Err(err(
            &path,
            format!(
                "has {} rows but the experiment has {} cells",
                rows.len(),
                exp.cells.len()
            ),
        ));
    }
    Ok(rows)
}

/// `summary_by_market.parquet`, one row per cell and market, through [`MarketSummary`].
fn read_market_summaries(dir: &Path, exp: &Experiment) -> Result<Vec<MarketSummary>, OutputError> {
    let path = dir.join(SUMMARY_BY_MARKET_PARQUET);
    let names: Vec<&str> = exp.cells[0]
        .scenario
        .markets()
        .iter()
        .map(|m| m.name())
        .collect();
    let df = read_parquet(&path, None)?;
    let rows =
        super::tables::market_summaries_from_frame(&names, &df).map_err(|e| err(&path, e))?;
    if rows.len() != exp.cells.len() * names.len() {
        return Err(err(
            &path,
            format!(
                "has {} rows but the experiment has {} cells of {} markets",
                rows.len(),
                exp.cells.len(),
                names.len()
            ),
        ));
    }
    Ok(rows)
}

/// The columns of `runs.parquet` the charts use, for the headline cell only: a million-run
/// table stays small in memory.
fn read_headline_runs(dir: &Path, h: usize) -> Result<HeadlineRuns, OutputError> {
    let path = dir.join(RUNS_FILE);
    let wanted = [
        "cell",
        "required_capital",
        "bad_debt",
        "slippage_loss",
        "cascade_largest_notional",
    ];
    let runs = read_parquet(&path, Some(&wanted))?;
    let of_headline = |name: &str| values_of_cell(&runs, name, h, &path);
    let mut required = of_headline("required_capital")?;
    required.sort_by(f64::total_cmp);
    let mut bad_debt = of_headline("bad_debt")?;
    bad_debt.sort_by(f64::total_cmp);
    Ok(HeadlineRuns {
        required,
        bad_debt,
        slippage: of_headline("slippage_loss")?,
        cascades: of_headline("cascade_largest_notional")?,
    })
}

/// Builds every chart and `report.md` from the tables in `dir`.
pub fn build_report(dir: &Path) -> Result<ReportOutcome, OutputError> {
    let tables = Tables::read(dir)?;
    // Tables that read well may still come from two runs: the seal says whether they are one.
    super::seal::check_tables(dir)?;
    let mut charts = figures::Charts::new(dir);
    charts.draw_all(&tables)?;
    let md = markdown::report(&tables, &charts.markdown, &charts.outcome.notes);
    let path = dir.join(REPORT_FILE);
    write_atomic(&path, md.as_bytes()).map_err(|e| err(&path, e))?;
    let mut out = charts.outcome;
    out.files.push(path);
    Ok(out)
}

/// The headline cell's fan of fund balances: hours and the five percentile bands.
fn read_fan(dir: &Path, h: usize) -> Result<(Vec<f64>, Vec<[f64; 5]>), OutputError> {
    let path = dir.join(FAN_FILE);
    let fan = read_parquet(&path, None)?;
    let pick = |name: &str| values_of_cell(&fan, name, h, &path);
    let hours = pick("hour")?;
    let qs = [
        pick("p5")?,
        pick("p25")?,
        pick("p50")?,
        pick("p75")?,
        pick("p95")?,
    ];
    let bands = (0..hours.len())
        .map(|i| [qs[0][i], qs[1][i], qs[2][i], qs[3][i], qs[4][i]])
        .collect();
    Ok((hours, bands))
}

/// The sample path, step by step.
struct Sample {
    seed: u32,
    hours: Vec<f64>,
    index: Vec<f64>,
    mark: Vec<f64>,
    fund: Vec<f64>,
    liquidated: Vec<f64>,
    bad_debt: Vec<f64>,
}

fn read_sample(dir: &Path) -> Result<Sample, OutputError> {
    let path = dir.join(SAMPLE_FILE);
    let df = read_parquet(&path, None)?;
    let col = |name: &str| values(&df, name, &path);
    Ok(Sample {
        seed: col("seed")?.first().copied().unwrap_or(0.0) as u32,
        hours: col("hour")?,
        index: col("index")?,
        mark: col("mark")?,
        fund: col("fund_balance")?,
        liquidated: col("liquidated_notional")?,
        bad_debt: col("bad_debt")?,
    })
}
