//! The governance report: charts and `report.md`, rebuilt from the tables a run leaves in its
//! output folder. Nothing here simulates; `backstop run` calls the same code after writing
//! its tables, so a report made later by `backstop report DIR` is the same report.
//!
//! The summaries are read back through their one typed declaration (`CellSummary`,
//! `MarketSummary`): a missing column, or an empty value where one must be, is an error that
//! names the file, never a silent 0. The runs table is read back once as typed rows
//! (`RunFigures`); every statistic over runs is computed in montecarlo/, and this folder only
//! draws and writes.

mod drivers;
mod figures;
mod inputs;
mod map;
mod markdown;
mod outcome;
mod reading;
mod realism;

use std::path::Path;

use super::atomic::write_atomic;
use super::error::OutputError;
use super::paths::RUNS_FILE;
use super::read::read_run_figures;
use crate::config::Experiment;
use crate::montecarlo::runs_of_cell;
use inputs::Tables;
use reading::CellNeed;

pub use markdown::headline;
pub use outcome::{REPORT_FILE, ReportOutcome};

/// Builds every chart and `report.md` from the tables in `dir`.
pub fn build_report(dir: &Path) -> Result<ReportOutcome, OutputError> {
    let tables = Tables::read(dir)?;
    // Tables that read well may still come from two runs: the seal says whether they are one.
    super::seal::check_tables(dir)?;
    let mut charts = figures::Charts::new(dir);
    charts.draw_all(&tables)?;
    let md = markdown::report(&tables, &charts.markdown, &charts.outcome.notes);
    let path = dir.join(REPORT_FILE);
    write_atomic(&path, md.as_bytes()).map_err(|e| OutputError::at(&path, e))?;
    let mut out = charts.outcome;
    out.files.push(path);
    Ok(out)
}

/// The console's answer at the study's target: the target in words and the report's headline
/// sentence, read from `dir/runs.parquet` the same way (runs whose fund lasted).
pub fn target_answer(exp: &Experiment, dir: &Path) -> Result<String, OutputError> {
    let figures = read_run_figures(&dir.join(RUNS_FILE))?;
    let funds: Vec<f64> = exp
        .cells
        .iter()
        .map(|c| c.scenario.fund_initial())
        .collect();
    let needs = CellNeed::of_cells(&figures, &funds, &exp.target);
    let h = exp.headline_cell();
    let n = runs_of_cell(&figures, h).count() as u64;
    let sentence = markdown::headline_sentence(exp, &needs, h, n).replace("**", "");
    Ok(format!("Target: at most {}.\n{sentence}\n", exp.target))
}
