//! Output: tables (Parquet, CSV), the resolved experiment, the printed summary, charts and the
//! governance report. Runs downstream of the simulation and never reaches back into it.

mod atomic;
pub mod calibration;
pub mod charts;
pub mod lock;
mod report;
mod seal;
pub mod store;
mod tables;
mod text;

pub use atomic::write_atomic;
pub use report::{REPORT_FILE, ReportOutcome, TARGET, build_report, headline};
pub use tables::{
    fan_frame, market_rows_frame, market_rows_from_frame, market_summary_frame, rows_frame,
    rows_from_frame, sample_frame, summaries_from_frame, summary_frame, write_csv_bytes,
    write_parquet_bytes,
};
pub use text::{format_money, format_pct, summary_text};

use std::path::{Path, PathBuf};

use crate::config::Experiment;
use crate::montecarlo::{Aggregates, ExperimentResult};

/// An output that could not be written: which file and why.
#[derive(Debug)]
pub struct OutputError {
    pub path: PathBuf,
    pub message: String,
}

impl std::fmt::Display for OutputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.message)
    }
}

impl std::error::Error for OutputError {}

/// The files a run writes into its output folder.
pub const RUNS_FILE: &str = "runs.parquet";
pub const RUNS_BY_MARKET_FILE: &str = "runs_by_market.parquet";
pub const SUMMARY_PARQUET: &str = "summary.parquet";
pub const SUMMARY_CSV: &str = "summary.csv";
pub const SUMMARY_BY_MARKET_PARQUET: &str = "summary_by_market.parquet";
pub const SUMMARY_BY_MARKET_CSV: &str = "summary_by_market.csv";
pub const EXPERIMENT_FILE: &str = "experiment.toml";
pub const FAN_FILE: &str = "fund_fan.parquet";
pub const SAMPLE_FILE: &str = "sample_path.parquet";

/// Reads a Parquet table (only `columns`, when given). A damaged file is an error naming it:
/// the reader's own error, or, should the reader panic on bytes it does not expect, that
/// panic caught here, so that `report` and `merge` refuse a damaged folder instead of
/// aborting.
pub(crate) fn read_parquet_file(
    path: &Path,
    columns: Option<&[&str]>,
) -> Result<polars::prelude::DataFrame, OutputError> {
    use polars::prelude::{ParquetReader, SerReader};
    let f = std::fs::File::open(path).map_err(|e| OutputError {
        path: path.to_path_buf(),
        message: format!("cannot read: {e} (is this the output folder of `backstop run`?)"),
    })?;
    let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let reader = ParquetReader::new(f);
        match columns {
            Some(c) => reader.with_columns(Some(c.iter().map(|s| s.to_string()).collect())),
            None => reader,
        }
        .finish()
    }));
    let damaged = |why: String| OutputError {
        path: path.to_path_buf(),
        message: format!(
            "is damaged (not a readable Parquet table: {why}); run again with --restart"
        ),
    };
    match read {
        Ok(Ok(df)) => Ok(df),
        Ok(Err(e)) => Err(damaged(e.to_string())),
        Err(_) => Err(damaged("the reader gave up on it".into())),
    }
}

fn fail(path: &Path, e: &dyn std::fmt::Display) -> OutputError {
    OutputError {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// Writes a table of runs (`runs.parquet`, `runs_by_market.parquet`) from per-unit tables,
/// one row group each, in the order given; the file appears only when complete (temporary
/// file, then rename).
pub fn write_runs_parquet(
    path: &Path,
    mut frames: impl Iterator<Item = Result<polars::prelude::DataFrame, OutputError>>,
) -> Result<(), OutputError> {
    use polars::prelude::ParquetWriter;
    let tmp = path.with_extension(format!("parquet.{}.tmp", std::process::id()));
    let result = (|| {
        let file = std::fs::File::create(&tmp).map_err(|e| fail(&tmp, &e))?;
        let mut writer = None;
        for df in frames.by_ref() {
            let df = df?;
            if writer.is_none() {
                writer = Some(
                    ParquetWriter::new(&file)
                        .batched(df.schema())
                        .map_err(|e| fail(path, &e))?,
                );
            }
            if let Some(w) = writer.as_mut() {
                w.write_batch(&df).map_err(|e| fail(path, &e))?;
            }
        }
        if let Some(w) = writer {
            w.finish().map_err(|e| fail(path, &e))?;
        }
        file.sync_all().map_err(|e| fail(&tmp, &e))?;
        std::fs::rename(&tmp, path).map_err(|e| fail(path, &e))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Writes the summary tables, the fan and sample-path tables and the resolved experiment into
/// `dir`, each atomically: a killed process leaves the previous file or the new one.
pub fn write_aggregates(
    dir: &Path,
    exp: &Experiment,
    agg: &Aggregates,
) -> Result<Vec<PathBuf>, OutputError> {
    let mut summary = summary_frame(exp, agg).map_err(|e| fail(&dir.join(SUMMARY_PARQUET), &e))?;
    let mut by_market = market_summary_frame(exp, agg)
        .map_err(|e| fail(&dir.join(SUMMARY_BY_MARKET_PARQUET), &e))?;
    let mut fan = fan_frame(exp, agg).map_err(|e| fail(&dir.join(FAN_FILE), &e))?;
    let mut sample = sample_frame(exp, agg).map_err(|e| fail(&dir.join(SAMPLE_FILE), &e))?;
    let files: Vec<(&str, Vec<u8>)> = vec![
        (
            SUMMARY_PARQUET,
            write_parquet_bytes(&mut summary).map_err(|e| fail(&dir.join(SUMMARY_PARQUET), &e))?,
        ),
        (
            SUMMARY_CSV,
            write_csv_bytes(&mut summary).map_err(|e| fail(&dir.join(SUMMARY_CSV), &e))?,
        ),
        (
            SUMMARY_BY_MARKET_PARQUET,
            write_parquet_bytes(&mut by_market)
                .map_err(|e| fail(&dir.join(SUMMARY_BY_MARKET_PARQUET), &e))?,
        ),
        (
            SUMMARY_BY_MARKET_CSV,
            write_csv_bytes(&mut by_market)
                .map_err(|e| fail(&dir.join(SUMMARY_BY_MARKET_CSV), &e))?,
        ),
        (
            FAN_FILE,
            write_parquet_bytes(&mut fan).map_err(|e| fail(&dir.join(FAN_FILE), &e))?,
        ),
        (
            SAMPLE_FILE,
            write_parquet_bytes(&mut sample).map_err(|e| fail(&dir.join(SAMPLE_FILE), &e))?,
        ),
        (EXPERIMENT_FILE, exp.to_resolved_toml().into_bytes()),
    ];
    std::fs::create_dir_all(dir).map_err(|e| fail(dir, &e))?;
    let mut written = Vec::new();
    for (name, bytes) in files {
        let path = dir.join(name);
        write_atomic(&path, &bytes).map_err(|e| fail(&path, &e))?;
        written.push(path);
    }
    Ok(written)
}

/// Writes every table of an in-memory result into `dir` (the same bytes as a run through
/// [`store::run_to_dir`]).
pub fn write_all(
    dir: &Path,
    exp: &Experiment,
    result: &ExperimentResult,
) -> Result<Vec<PathBuf>, OutputError> {
    std::fs::create_dir_all(dir).map_err(|e| fail(dir, &e))?;
    let seeds = exp.seeds as usize;
    let path = dir.join(RUNS_FILE);
    let frames = crate::montecarlo::units(exp).into_iter().map(|u| {
        let base = u.cell * seeds;
        rows_frame(
            exp,
            u.cell,
            &result.rows[base + u.start as usize..base + u.end as usize],
        )
        .map_err(|e| fail(&path, &e))
    });
    write_runs_parquet(&path, frames)?;
    let markets_path = dir.join(RUNS_BY_MARKET_FILE);
    let per_run = result.market_rows.len() / result.rows.len().max(1);
    let frames = crate::montecarlo::units(exp).into_iter().map(|u| {
        let base = (u.cell * seeds + u.start as usize) * per_run;
        let end = (u.cell * seeds + u.end as usize) * per_run;
        market_rows_frame(exp, u.cell, &result.market_rows[base..end])
            .map_err(|e| fail(&markets_path, &e))
    });
    write_runs_parquet(&markets_path, frames)?;
    let mut written = vec![path.clone(), markets_path];
    written.extend(write_aggregates(dir, exp, &result.aggregates())?);
    seal::seal_tables(dir)?;
    Ok(written)
}
