//! Output: tables (Parquet, CSV), the resolved experiment, the printed summary, charts and the
//! governance report. Runs downstream of the simulation and never reaches back into it.

mod atomic;
pub mod charts;
mod report;
mod tables;
mod text;

pub use atomic::write_atomic;
pub use report::{REPORT_FILE, ReportOutcome, TARGET, build_report, headline};
pub use tables::{
    fan_frame, runs_frame, sample_frame, summary_frame, write_csv_bytes, write_parquet_bytes,
};
pub use text::{format_money, summary_text};

use std::path::{Path, PathBuf};

use crate::config::Experiment;
use crate::montecarlo::ExperimentResult;

/// An output that could not be written: which file and why.
#[derive(Debug)]
pub struct OutputError {
    pub path: PathBuf,
    pub message: String,
}

impl std::fmt::Display for OutputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot write {}: {}", self.path.display(), self.message)
    }
}

impl std::error::Error for OutputError {}

/// The files a run writes into its output folder.
pub const RUNS_FILE: &str = "runs.parquet";
pub const SUMMARY_PARQUET: &str = "summary.parquet";
pub const SUMMARY_CSV: &str = "summary.csv";
pub const EXPERIMENT_FILE: &str = "experiment.toml";
pub const FAN_FILE: &str = "fund_fan.parquet";
pub const SAMPLE_FILE: &str = "sample_path.parquet";

/// Encodes every table in memory, then writes each file atomically into `dir`: a killed
/// process leaves either the previous file or the new one, never half of one.
pub fn write_all(
    dir: &Path,
    exp: &Experiment,
    result: &ExperimentResult,
) -> Result<Vec<PathBuf>, OutputError> {
    let fail = |path: &Path, e: &dyn std::fmt::Display| OutputError {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let mut runs = runs_frame(exp, result).map_err(|e| fail(&dir.join(RUNS_FILE), &e))?;
    let mut summary =
        summary_frame(exp, result).map_err(|e| fail(&dir.join(SUMMARY_PARQUET), &e))?;
    let mut fan = fan_frame(exp, result).map_err(|e| fail(&dir.join(FAN_FILE), &e))?;
    let mut sample = sample_frame(exp, result).map_err(|e| fail(&dir.join(SAMPLE_FILE), &e))?;
    let files: Vec<(&str, Vec<u8>)> = vec![
        (
            RUNS_FILE,
            write_parquet_bytes(&mut runs).map_err(|e| fail(&dir.join(RUNS_FILE), &e))?,
        ),
        (
            SUMMARY_PARQUET,
            write_parquet_bytes(&mut summary).map_err(|e| fail(&dir.join(SUMMARY_PARQUET), &e))?,
        ),
        (
            SUMMARY_CSV,
            write_csv_bytes(&mut summary).map_err(|e| fail(&dir.join(SUMMARY_CSV), &e))?,
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
