//! What a report is for and what it leaves: the depletion target it answers for, its file,
//! and the outcome of building it. A leaf of report/.

use std::path::PathBuf;

pub const REPORT_FILE: &str = "report.md";

/// The depletion probability the headline answers for.
pub const TARGET: f64 = 0.01;

/// What `build_report` wrote, and what it could not draw and why.
#[derive(Debug, Default)]
pub struct ReportOutcome {
    pub files: Vec<PathBuf>,
    pub notes: Vec<String>,
}
