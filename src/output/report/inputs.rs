//! Everything the report is made of, read from an output folder once, before anything is
//! drawn: the experiment, the summaries, the headline cell's runs and fan, the sample path,
//! and the statistics over runs (contrasts, the record) computed in montecarlo/ from the runs
//! table read back as typed rows.

use std::path::Path;

use super::super::drivers::{DriversFound, read_drivers};
use super::super::error::OutputError;
use super::super::paths::{
    EXPERIMENT_FILE, FAN_FILE, LIQUIDATION_MAP_PARQUET, RUNS_FILE, SAMPLE_FILE,
    SUMMARY_BY_MARKET_PARQUET, SUMMARY_PARQUET,
};
use super::super::read::{read_parquet_file, read_run_figures, values, values_of_cell};
use super::super::tables::{market_summaries_from_frame, summaries_from_frame};
use super::reading::CellNeed;
use crate::config::{Experiment, Overrides};
use crate::montecarlo::contrast::{self, CellContrast};
use crate::montecarlo::record::{self, RecordCell};
use crate::montecarlo::{CellSummary, FanBand, HeadlineRuns, MarketSummary};
use crate::protocol::{DistanceBucket, ExposureSide};
use crate::simulation::MapMoment;

/// The headline cell's fan of fund balances: hours and the five percentile bands.
pub(super) struct HeadlineFan {
    pub hours: Vec<f64>,
    pub bands: Vec<FanBand>,
}

/// Everything the report is made of, read from an output folder.
pub(super) struct Tables {
    pub exp: Experiment,
    pub summaries: Vec<CellSummary>,
    /// Each cell's required capital at the study's target (`None`: a cell without runs).
    pub needs: Vec<Option<CellNeed>>,
    pub markets: Vec<MarketSummary>,
    /// The headline cell: the scenario as written.
    pub h: usize,
    pub runs: HeadlineRuns,
    pub fan: HeadlineFan,
    pub sample: Sample,
    /// The sample path's run by distance to liquidation.
    pub map: Vec<MapRow>,
    /// Each cell against its baseline, when the experiment names a contrast axis.
    pub contrasts: Vec<CellContrast>,
    /// What `backstop drivers` left in the folder, if anything.
    pub drivers: DriversFound,
    /// Every cell's figures beside the record (`None` for a cell without runs), when the
    /// experiment has one.
    pub record: Vec<Option<RecordCell>>,
}

impl Tables {
    pub fn read(dir: &Path) -> Result<Self, OutputError> {
        let exp_path = dir.join(EXPERIMENT_FILE);
        let exp = Experiment::load(&exp_path, Overrides::default())
            .map_err(|e| OutputError::at(&exp_path, e))?;
        let summaries = read_summaries(dir, &exp)?;
        let markets = read_market_summaries(dir, &exp)?;
        let h = exp.headline_cell();
        let runs_path = dir.join(RUNS_FILE);
        let figures = read_run_figures(&runs_path)?;
        let funds: Vec<f64> = summaries.iter().map(|s| s.fund_initial).collect();
        let needs = CellNeed::of_cells(&figures, &funds, &exp.target);
        let runs = HeadlineRuns::of(&figures, h).ok_or_else(|| {
            OutputError::at(
                &runs_path,
                format!("holds no run of the headline cell ({h})"),
            )
        })?;
        // Every table is read before any chart is drawn: a damaged one refuses the report
        // before anything is rewritten.
        let fan = read_fan(dir, h)?;
        let sample = read_sample(dir)?;
        let map = read_liquidation_map(dir)?;
        let contrasts = if exp.contrast_axis().is_some() {
            contrast::contrasts(&exp, &figures).map_err(|e| OutputError::at(&runs_path, e))?
        } else {
            Vec::new()
        };
        let record = if exp.resolved.experiment.record.is_some() {
            record::record_cells(&figures, &funds).map_err(|e| OutputError::at(&runs_path, e))?
        } else {
            Vec::new()
        };
        let drivers = read_drivers(dir)?;
        Ok(Self {
            drivers,
            exp,
            summaries,
            needs,
            markets,
            h,
            runs,
            fan,
            sample,
            map,
            contrasts,
            record,
        })
    }

    pub fn head(&self) -> &CellSummary {
        &self.summaries[self.h]
    }

    /// Runs behind the headline cell's figures.
    pub fn n(&self) -> u64 {
        self.runs.runs()
    }
}

/// `summary.parquet`, one row per cell, through [`CellSummary`].
fn read_summaries(dir: &Path, exp: &Experiment) -> Result<Vec<CellSummary>, OutputError> {
    let path = dir.join(SUMMARY_PARQUET);
    let rows = summaries_from_frame(&read_parquet_file(&path, None)?)
        .map_err(|e| OutputError::at(&path, e))?;
    if rows.len() != exp.cells.len() {
        return Err(OutputError::at(
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
    let df = read_parquet_file(&path, None)?;
    let rows = market_summaries_from_frame(&names, &df).map_err(|e| OutputError::at(&path, e))?;
    if rows.len() != exp.cells.len() * names.len() {
        return Err(OutputError::at(
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

/// The headline cell's fan of fund balances.
fn read_fan(dir: &Path, h: usize) -> Result<HeadlineFan, OutputError> {
    let path = dir.join(FAN_FILE);
    let fan = read_parquet_file(&path, None)?;
    let pick = |name: &str| values_of_cell(&fan, name, h, &path);
    let hours = pick("hour")?;
    let (p5, p25, p50, p75, p95) = (
        pick("p5")?,
        pick("p25")?,
        pick("p50")?,
        pick("p75")?,
        pick("p95")?,
    );
    let bands = (0..hours.len())
        .map(|i| FanBand {
            p5: p5[i],
            p25: p25[i],
            p50: p50[i],
            p75: p75[i],
            p95: p95[i],
        })
        .collect();
    Ok(HeadlineFan { hours, bands })
}

/// The sample path, step by step (at least one step).
pub(super) struct Sample {
    pub seed: u32,
    /// The last step's hour: how long the sampled run is.
    pub horizon: f64,
    pub hours: Vec<f64>,
    pub index: Vec<f64>,
    pub mark: Vec<f64>,
    /// The first market's oracle, when it is a lending market (empty otherwise).
    pub oracle: Vec<f64>,
    pub fund: Vec<f64>,
    pub liquidated: Vec<f64>,
    pub bad_debt: Vec<f64>,
}

fn read_sample(dir: &Path) -> Result<Sample, OutputError> {
    let path = dir.join(SAMPLE_FILE);
    let df = read_parquet_file(&path, None)?;
    let col = |name: &str| values(&df, name, &path);
    let (seeds, hours) = (col("seed")?, col("hour")?);
    let (Some(&seed), Some(&horizon)) = (seeds.first(), hours.last()) else {
        return Err(OutputError::at(&path, "holds no step of the sample path"));
    };
    Ok(Sample {
        seed: seed as u32,
        horizon,
        hours,
        index: col("index")?,
        mark: col("mark")?,
        oracle: oracle_column(&df, &path)?,
        fund: col("fund_balance")?,
        liquidated: col("liquidated_notional")?,
        bad_debt: col("bad_debt")?,
    })
}

/// The sample path's oracle: every step's value when the first market is a lending market;
/// empty for a perp's nulls, and for tables written before the column existed. A column of
/// another type, or with some steps null, is an error naming the file.
fn oracle_column(df: &polars::prelude::DataFrame, path: &Path) -> Result<Vec<f64>, OutputError> {
    let Ok(column) = df.column("oracle") else {
        return Ok(Vec::new());
    };
    let values = column.f64().map_err(|e| OutputError::at(path, e))?;
    if values.null_count() == values.len() {
        return Ok(Vec::new());
    }
    values
        .iter()
        .collect::<Option<Vec<f64>>>()
        .ok_or_else(|| OutputError::at(path, "`oracle` is empty on some steps but not all"))
}

/// One row of `liquidation_map.parquet`, read back typed.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct MapRow {
    pub market: String,
    pub moment: MapMoment,
    pub step: u32,
    pub side: ExposureSide,
    pub bucket: DistanceBucket,
    pub notional: f64,
    pub positions: u32,
}

/// The liquidation map's rows; a label or a pair of edges the code does not know is an error
/// naming the file.
fn read_liquidation_map(dir: &Path) -> Result<Vec<MapRow>, OutputError> {
    let path = dir.join(LIQUIDATION_MAP_PARQUET);
    let df = read_parquet_file(&path, None)?;
    let bad = |what: String| OutputError::at(&path, what);
    let text = |name: &str| -> Result<Vec<String>, OutputError> {
        let c = df
            .column(name)
            .map_err(|_| bad(format!("column `{name}` is missing")))?;
        c.str()
            .map_err(|e| bad(format!("column `{name}`: {e}")))?
            .iter()
            .map(|v| {
                v.map(String::from)
                    .ok_or_else(|| bad(format!("column `{name}` has an empty value")))
            })
            .collect()
    };
    let edge = |name: &str| -> Result<Vec<Option<f64>>, OutputError> {
        let c = df
            .column(name)
            .map_err(|_| bad(format!("column `{name}` is missing")))?
            .cast(&polars::prelude::DataType::Float64)
            .map_err(|e| bad(format!("column `{name}`: {e}")))?;
        Ok(c.f64()
            .map_err(|e| bad(format!("column `{name}`: {e}")))?
            .iter()
            .collect())
    };
    let (market, moment, side) = (text("market")?, text("moment")?, text("side")?);
    let (lo, hi) = (edge("bucket_lo_pct")?, edge("bucket_hi_pct")?);
    let col = |name: &str| values(&df, name, &path);
    let (step, notional, positions) = (col("step")?, col("notional_usd")?, col("positions")?);
    (0..market.len())
        .map(|r| {
            Ok(MapRow {
                market: market[r].clone(),
                moment: MapMoment::from_label(&moment[r])
                    .ok_or_else(|| bad(format!("row {r}: unknown moment `{}`", moment[r])))?,
                step: step[r] as u32,
                side: ExposureSide::from_label(&side[r])
                    .ok_or_else(|| bad(format!("row {r}: unknown side `{}`", side[r])))?,
                bucket: DistanceBucket::from_edges_pct(lo[r], hi[r]).ok_or_else(|| {
                    bad(format!(
                        "row {r}: no bucket has the edges {:?} to {:?}",
                        lo[r], hi[r]
                    ))
                })?,
                notional: notional[r],
                positions: positions[r] as u32,
            })
        })
        .collect()
}
