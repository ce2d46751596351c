//! Output: tables (Parquet, CSV), the resolved experiment, the printed summary, charts and the
//! governance report. Runs downstream of the simulation and never reaches back into it.
//!
//! This file only declares the parts and names what the rest of the crate uses. Inside
//! output/ the leaves are `error` (the one error and its helper) and `paths` (file names);
//! files import from the file that holds an item, never back from this one.

mod atomic;
pub mod calibration;
pub mod charts;
pub mod drivers;
mod error;
pub mod lock;
mod paths;
mod read;
mod report;
mod seal;
pub mod store;
mod tables;
mod text;
mod write;

pub use atomic::write_atomic;
pub use error::OutputError;
pub use paths::{
    EXPERIMENT_FILE, FAN_FILE, LIQUIDATION_MAP_CSV, LIQUIDATION_MAP_PARQUET, RUNS_BY_MARKET_FILE,
    RUNS_FILE, SAMPLE_FILE, SUMMARY_BY_MARKET_CSV, SUMMARY_BY_MARKET_PARQUET, SUMMARY_CSV,
    SUMMARY_PARQUET,
};
pub use report::{REPORT_FILE, ReportOutcome, build_report, headline, target_answer};
pub use tables::{
    fan_frame, liquidation_map_frame, market_rows_frame, market_rows_from_frame,
    market_summary_frame, rows_frame, rows_from_frame, sample_frame, summaries_from_frame,
    summary_frame, write_csv_bytes, write_parquet_bytes,
};
pub use text::{format_money, format_pct, signed_money, summary_text};
pub use write::{write_aggregates, write_all, write_runs_parquet};
