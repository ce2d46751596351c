//! `backstop drivers DIR`: what drives the fund a run recommends (issue 34, item 3). Each
//! variant of [`crate::config::drivers`] runs on the run's own seeds with a fund no deficit
//! exhausts; its need at the study's target is the `1 - p` quantile of required capital, as
//! `calibrate` reads it. The table (`drivers.csv`, `.parquet`) carries the CRC-32 of the
//! run's `experiment.toml`, so a report never sets one run's drivers beside another's answer.

use std::path::Path;

use polars::prelude::*;

use super::atomic::write_atomic;
use super::error::OutputError;
use super::paths::EXPERIMENT_FILE;
use super::read::read_parquet_file;
use super::tables::{write_csv_bytes, write_parquet_bytes};
use crate::config::Target;
use crate::montecarlo::calibration::share_above;
use crate::simulation::RunRow;
use crate::stats::{SampleMoments, SortedSample};

pub const DRIVERS_CSV: &str = "drivers.csv";
pub const DRIVERS_PARQUET: &str = "drivers.parquet";

/// The `driver` of the scenario as written's row.
pub const AS_WRITTEN: &str = "as written";

/// One variant's figures on the run's seeds.
#[derive(Clone, Debug, PartialEq)]
pub struct DriverRow {
    /// The assumption moved; [`AS_WRITTEN`] for the scenario as written (whose `variant`
    /// is empty).
    pub driver: String,
    pub variant: String,
    pub runs: u64,
    /// The fund that keeps P(depletion) at the target: the `1 - p` quantile of required
    /// capital, with its two-sided 95% interval and one-sided 95% upper bound.
    pub fund_needed: f64,
    pub fund_needed_lo95: Option<f64>,
    pub fund_needed_hi95: Option<f64>,
    pub fund_needed_ub95: Option<f64>,
    /// P(depletion) of the run's own fund, read off required capital (a fund `F` runs dry
    /// exactly on the days whose required capital exceeds `F`).
    pub depletion_at_fund: f64,
    pub open_interest_mean: f64,
    pub liquidation_notional_mean: f64,
    pub bad_debt_mean: f64,
}

impl DriverRow {
    pub fn is_base(&self) -> bool {
        self.driver == AS_WRITTEN
    }

    /// The figures of one variant's runs; `None` without runs.
    pub fn of(
        driver: &str,
        variant: &str,
        rows: &[RunRow],
        target: &Target,
        fund: f64,
    ) -> Option<Self> {
        let (first, rest) = rows.split_first()?;
        let needs = SortedSample::from_first(
            first.required_capital,
            rest.iter().map(|r| r.required_capital),
        );
        let n = needs.len() as u64;
        let q = needs.quantile_with_bounds(target.level(), 0.95);
        let mean = |f: fn(&RunRow) -> f64| SampleMoments::new(f(first), rest.iter().map(f)).mean();
        Some(Self {
            driver: driver.into(),
            variant: variant.into(),
            runs: n,
            fund_needed: q.value,
            fund_needed_lo95: q.lower,
            fund_needed_hi95: q.upper,
            fund_needed_ub95: needs.upper_bound(target.level(), 0.95),
            depletion_at_fund: share_above(needs.values(), fund),
            open_interest_mean: mean(|r| r.open_interest),
            liquidation_notional_mean: mean(|r| r.liquidation_notional),
            bad_debt_mean: mean(|r| r.bad_debt),
        })
    }
}

/// The drivers of one run: its variants' rows (the scenario as written first) and the
/// drivers left out, with why.
#[derive(Clone, Debug, PartialEq)]
pub struct DriversTable {
    pub rows: Vec<DriverRow>,
    pub left_out: Vec<(String, String)>,
}

impl DriversTable {
    /// The scenario as written.
    pub fn base(&self) -> Option<&DriverRow> {
        self.rows.iter().find(|r| r.is_base())
    }
}

/// The CRC-32 of the run's `experiment.toml`, which ties a drivers table to its run.
pub fn experiment_crc(dir: &Path) -> Result<u32, OutputError> {
    let path = dir.join(EXPERIMENT_FILE);
    let bytes = std::fs::read(&path).map_err(|e| {
        OutputError::at(
            &path,
            format!("cannot read: {e} (is this the output folder of `backstop run`?)"),
        )
    })?;
    Ok(crc32fast::hash(&bytes))
}

fn frame(table: &DriversTable, crc: u32) -> PolarsResult<DataFrame> {
    let rows = &table.rows;
    let n = rows.len() + table.left_out.len();
    let text = |f: fn(&DriverRow) -> &str, out: fn(&(String, String)) -> &str| -> Vec<String> {
        rows.iter()
            .map(|r| f(r).to_string())
            .chain(table.left_out.iter().map(|l| out(l).to_string()))
            .collect()
    };
    let num = |f: fn(&DriverRow) -> Option<f64>| -> Vec<Option<f64>> {
        rows.iter()
            .map(f)
            .chain(table.left_out.iter().map(|_| None))
            .collect()
    };
    let base = table.base().map(|b| b.fund_needed);
    DataFrame::new(
        n,
        vec![
            Column::new("driver".into(), text(|r| &r.driver, |l| &l.0)),
            Column::new("variant".into(), text(|r| &r.variant, |_| "")),
            Column::new("left_out_because".into(), text(|_| "", |l| &l.1)),
            Column::new(
                "runs".into(),
                rows.iter()
                    .map(|r| Some(r.runs))
                    .chain(table.left_out.iter().map(|_| None))
                    .collect::<Vec<Option<u64>>>(),
            ),
            Column::new("fund_needed".into(), num(|r| Some(r.fund_needed))),
            Column::new("fund_needed_lo95".into(), num(|r| r.fund_needed_lo95)),
            Column::new("fund_needed_hi95".into(), num(|r| r.fund_needed_hi95)),
            Column::new("fund_needed_ub95".into(), num(|r| r.fund_needed_ub95)),
            Column::new(
                "change".into(),
                rows.iter()
                    .map(|r| base.map(|b| r.fund_needed - b))
                    .chain(table.left_out.iter().map(|_| None))
                    .collect::<Vec<Option<f64>>>(),
            ),
            Column::new(
                "depletion_at_fund".into(),
                num(|r| Some(r.depletion_at_fund)),
            ),
            Column::new(
                "open_interest_mean".into(),
                num(|r| Some(r.open_interest_mean)),
            ),
            Column::new(
                "liquidation_notional_mean".into(),
                num(|r| Some(r.liquidation_notional_mean)),
            ),
            Column::new("bad_debt_mean".into(), num(|r| Some(r.bad_debt_mean))),
            Column::new("experiment_crc".into(), vec![crc as i64; n]),
        ],
    )
}

/// Writes `drivers.csv` and `drivers.parquet` into the run's folder.
pub fn write_drivers(dir: &Path, table: &DriversTable) -> Result<(), OutputError> {
    let crc = experiment_crc(dir)?;
    let at = |name: &str| dir.join(name);
    let mut df = frame(table, crc).map_err(|e| OutputError::at(&at(DRIVERS_CSV), e))?;
    let csv = write_csv_bytes(&mut df).map_err(|e| OutputError::at(&at(DRIVERS_CSV), e))?;
    let parquet =
        write_parquet_bytes(&mut df).map_err(|e| OutputError::at(&at(DRIVERS_PARQUET), e))?;
    for (name, bytes) in [(DRIVERS_PARQUET, parquet), (DRIVERS_CSV, csv)] {
        write_atomic(&at(name), &bytes).map_err(|e| OutputError::at(&at(name), e))?;
    }
    Ok(())
}

/// What the report finds of the drivers in a run's folder.
pub enum DriversFound {
    None,
    /// A table written for another experiment than the folder's.
    Stale,
    Table(DriversTable),
}

/// Reads `drivers.parquet` back, if the folder has one for its own experiment.
pub fn read_drivers(dir: &Path) -> Result<DriversFound, OutputError> {
    let path = dir.join(DRIVERS_PARQUET);
    if !path.is_file() {
        return Ok(DriversFound::None);
    }
    let df = read_parquet_file(&path, None)?;
    let bad = |e: PolarsError| OutputError::at(&path, e);
    // Every row names its driver, its variant and why it was left out ("" when it ran).
    let strings = |name: &str| -> Result<Vec<String>, OutputError> {
        df.column(name)
            .map_err(bad)?
            .str()
            .map_err(bad)?
            .iter()
            .map(|s| {
                s.map(str::to_string)
                    .ok_or_else(|| OutputError::at(&path, format!("`{name}` is empty on a row")))
            })
            .collect()
    };
    let numbers = |name: &str| -> Result<Vec<Option<f64>>, OutputError> {
        Ok(df
            .column(name)
            .map_err(bad)?
            .cast(&DataType::Float64)
            .map_err(bad)?
            .f64()
            .map_err(bad)?
            .iter()
            .collect())
    };
    let crc = numbers("experiment_crc")?;
    let own = experiment_crc(dir)? as f64;
    if crc.iter().any(|c| *c != Some(own)) {
        return Ok(DriversFound::Stale);
    }
    let (driver, variant, why) = (
        strings("driver")?,
        strings("variant")?,
        strings("left_out_because")?,
    );
    let col = |name: &str| numbers(name);
    let (runs, need, lo, hi, ub, dep, oi, liq, debt) = (
        col("runs")?,
        col("fund_needed")?,
        col("fund_needed_lo95")?,
        col("fund_needed_hi95")?,
        col("fund_needed_ub95")?,
        col("depletion_at_fund")?,
        col("open_interest_mean")?,
        col("liquidation_notional_mean")?,
        col("bad_debt_mean")?,
    );
    let missing = |name: &str| OutputError::at(&path, format!("`{name}` is empty on a run row"));
    let mut table = DriversTable {
        rows: Vec::new(),
        left_out: Vec::new(),
    };
    for i in 0..df.height() {
        if !why[i].is_empty() {
            table.left_out.push((driver[i].clone(), why[i].clone()));
            continue;
        }
        table.rows.push(DriverRow {
            driver: driver[i].clone(),
            variant: variant[i].clone(),
            runs: runs[i].ok_or_else(|| missing("runs"))? as u64,
            fund_needed: need[i].ok_or_else(|| missing("fund_needed"))?,
            fund_needed_lo95: lo[i],
            fund_needed_hi95: hi[i],
            fund_needed_ub95: ub[i],
            depletion_at_fund: dep[i].ok_or_else(|| missing("depletion_at_fund"))?,
            open_interest_mean: oi[i].ok_or_else(|| missing("open_interest_mean"))?,
            liquidation_notional_mean: liq[i]
                .ok_or_else(|| missing("liquidation_notional_mean"))?,
            bad_debt_mean: debt[i].ok_or_else(|| missing("bad_debt_mean"))?,
        });
    }
    Ok(DriversFound::Table(table))
}
