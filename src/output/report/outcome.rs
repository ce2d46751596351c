//! What a report leaves: its file
//! and the outcome of building it. A leaf of report/.

use std::path::PathBuf;

pub const REPORT_FILE: &str = "report.md";

/// What `build_report` wrote, and what it could not draw and why.
#[derive(Debug, Default)]
pub struct ReportOutcome {
    pub files: Vec<PathBuf>,
    pub notes: Vec<String>,
}
