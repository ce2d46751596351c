//! Writing a run's tables: the runs tables streamed unit by unit, then the aggregates and
//! the resolved experiment, each file atomically.

use std::path::{Path, PathBuf};

use super::atomic::write_atomic;
use super::error::OutputError;
use super::paths::{
    EXPERIMENT_FILE, FAN_FILE, LIQUIDATION_MAP_CSV, LIQUIDATION_MAP_PARQUET, RUNS_BY_MARKET_FILE,
    RUNS_FILE, SAMPLE_FILE, SUMMARY_BY_MARKET_CSV, SUMMARY_BY_MARKET_PARQUET, SUMMARY_CSV,
    SUMMARY_PARQUET,
};
use super::tables::{
    fan_frame, liquidation_map_frame, market_rows_frame, market_summary_frame, rows_frame,
    sample_frame, summary_frame, write_csv_bytes, write_parquet_bytes,
};
use crate::config::Experiment;
use crate::montecarlo::{Aggregates, ExperimentResult};

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
        let file = std::fs::File::create(&tmp).map_err(|e| OutputError::at(&tmp, &e))?;
        let mut writer = None;
        for df in frames.by_ref() {
            let df = df?;
            if writer.is_none() {
                writer = Some(
                    ParquetWriter::new(&file)
                        .batched(df.schema())
                        .map_err(|e| OutputError::at(path, &e))?,
                );
            }
            if let Some(w) = writer.as_mut() {
                w.write_batch(&df).map_err(|e| OutputError::at(path, &e))?;
            }
        }
        if let Some(w) = writer {
            w.finish().map_err(|e| OutputError::at(path, &e))?;
        }
        file.sync_all().map_err(|e| OutputError::at(&tmp, &e))?;
        std::fs::rename(&tmp, path).map_err(|e| OutputError::at(path, &e))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Writes the summary tables, the fan, sample-path and liquidation-map tables and the resolved
/// experiment into
/// `dir`, each atomically: a killed process leaves the previous file or the new one.
pub fn write_aggregates(
    dir: &Path,
    exp: &Experiment,
    agg: &Aggregates,
) -> Result<Vec<PathBuf>, OutputError> {
    let mut summary =
        summary_frame(exp, agg).map_err(|e| OutputError::at(&dir.join(SUMMARY_PARQUET), &e))?;
    let mut by_market = market_summary_frame(exp, agg)
        .map_err(|e| OutputError::at(&dir.join(SUMMARY_BY_MARKET_PARQUET), &e))?;
    let mut fan = fan_frame(exp, agg).map_err(|e| OutputError::at(&dir.join(FAN_FILE), &e))?;
    let mut sample =
        sample_frame(exp, agg).map_err(|e| OutputError::at(&dir.join(SAMPLE_FILE), &e))?;
    let mut map = liquidation_map_frame(exp, agg)
        .map_err(|e| OutputError::at(&dir.join(LIQUIDATION_MAP_PARQUET), &e))?;
    let files: Vec<(&str, Vec<u8>)> = vec![
        (
            SUMMARY_PARQUET,
            write_parquet_bytes(&mut summary)
                .map_err(|e| OutputError::at(&dir.join(SUMMARY_PARQUET), &e))?,
        ),
        (
            SUMMARY_CSV,
            write_csv_bytes(&mut summary)
                .map_err(|e| OutputError::at(&dir.join(SUMMARY_CSV), &e))?,
        ),
        (
            SUMMARY_BY_MARKET_PARQUET,
            write_parquet_bytes(&mut by_market)
                .map_err(|e| OutputError::at(&dir.join(SUMMARY_BY_MARKET_PARQUET), &e))?,
        ),
        (
            SUMMARY_BY_MARKET_CSV,
            write_csv_bytes(&mut by_market)
                .map_err(|e| OutputError::at(&dir.join(SUMMARY_BY_MARKET_CSV), &e))?,
        ),
        (
            FAN_FILE,
            write_parquet_bytes(&mut fan).map_err(|e| OutputError::at(&dir.join(FAN_FILE), &e))?,
        ),
        (
            SAMPLE_FILE,
            write_parquet_bytes(&mut sample)
                .map_err(|e| OutputError::at(&dir.join(SAMPLE_FILE), &e))?,
        ),
        (
            LIQUIDATION_MAP_PARQUET,
            write_parquet_bytes(&mut map)
                .map_err(|e| OutputError::at(&dir.join(LIQUIDATION_MAP_PARQUET), &e))?,
        ),
        (
            LIQUIDATION_MAP_CSV,
            write_csv_bytes(&mut map)
                .map_err(|e| OutputError::at(&dir.join(LIQUIDATION_MAP_CSV), &e))?,
        ),
        (EXPERIMENT_FILE, exp.to_resolved_toml().into_bytes()),
    ];
    std::fs::create_dir_all(dir).map_err(|e| OutputError::at(dir, &e))?;
    let mut written = Vec::new();
    for (name, bytes) in files {
        let path = dir.join(name);
        write_atomic(&path, &bytes).map_err(|e| OutputError::at(&path, &e))?;
        written.push(path);
    }
    Ok(written)
}

/// Writes every table of an in-memory result into `dir` (the same bytes as a run through
/// [`run_to_dir`](super::store::run_to_dir)).
pub fn write_all(
    dir: &Path,
    exp: &Experiment,
    result: &ExperimentResult,
) -> Result<Vec<PathBuf>, OutputError> {
    std::fs::create_dir_all(dir).map_err(|e| OutputError::at(dir, &e))?;
    let seeds = exp.seeds as usize;
    let path = dir.join(RUNS_FILE);
    let frames = crate::montecarlo::units(exp).into_iter().map(|u| {
        let base = u.cell * seeds;
        rows_frame(
            exp,
            u.cell,
            &result.rows[base + u.start as usize..base + u.end as usize],
        )
        .map_err(|e| OutputError::at(&path, &e))
    });
    write_runs_parquet(&path, frames)?;
    let markets_path = dir.join(RUNS_BY_MARKET_FILE);
    let per_run = result.market_rows.len() / result.rows.len().max(1);
    let frames = crate::montecarlo::units(exp).into_iter().map(|u| {
        let base = (u.cell * seeds + u.start as usize) * per_run;
        let end = (u.cell * seeds + u.end as usize) * per_run;
        market_rows_frame(exp, u.cell, &result.market_rows[base..end])
            .map_err(|e| OutputError::at(&markets_path, &e))
    });
    write_runs_parquet(&markets_path, frames)?;
    let mut written = vec![path.clone(), markets_path];
    written.extend(write_aggregates(dir, exp, &result.aggregates())?);
    super::seal::seal_tables(dir)?;
    Ok(written)
}
