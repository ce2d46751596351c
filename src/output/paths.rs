//! The names of the files and folders a run leaves in its output folder. A leaf: every other
//! file of output/ reads its names from here, and this file imports nothing.

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
pub const LIQUIDATION_MAP_PARQUET: &str = "liquidation_map.parquet";
pub const LIQUIDATION_MAP_CSV: &str = "liquidation_map.csv";

/// The folder of saved units of work (see `store`), inside an output folder.
pub const PARTS_DIR: &str = "parts";
