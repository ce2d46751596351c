//! The tables of a finished run carry one seal, `tables.seal`: the CRC-32 of every table the
//! run assembled, written last. `report` checks it before reading anything, so a folder that
//! mixes tables of two runs (a table copied in, a restart killed midway, a file changed since)
//! is refused by name instead of reported.

use std::path::Path;

use super::atomic::write_atomic;
use super::error::OutputError;
use super::paths::{
    EXPERIMENT_FILE, FAN_FILE, LIQUIDATION_MAP_CSV, LIQUIDATION_MAP_PARQUET, RUNS_BY_MARKET_FILE,
    RUNS_FILE, SAMPLE_FILE, SUMMARY_BY_MARKET_CSV, SUMMARY_BY_MARKET_PARQUET, SUMMARY_CSV,
    SUMMARY_PARQUET,
};

/// The seal's file name.
pub const TABLES_SEAL: &str = "tables.seal";

/// The tables a finished run leaves, all of them sealed (and removed, with the report, the
/// charts and the seal, when a new experiment starts in the folder).
pub(crate) const RUN_TABLES: [&str; 11] = [
    EXPERIMENT_FILE,
    RUNS_FILE,
    RUNS_BY_MARKET_FILE,
    SUMMARY_PARQUET,
    SUMMARY_CSV,
    SUMMARY_BY_MARKET_PARQUET,
    SUMMARY_BY_MARKET_CSV,
    FAN_FILE,
    SAMPLE_FILE,
    LIQUIDATION_MAP_PARQUET,
    LIQUIDATION_MAP_CSV,
];

/// The CRC-32 of a table, read in blocks (`runs.parquet` of a long sweep is large; memory
/// stays flat).
fn crc_of(dir: &Path, name: &str) -> Result<u32, OutputError> {
    use std::io::Read;
    let path = dir.join(name);
    let fail = |e: std::io::Error| {
        OutputError::at(
            &path,
            format!("cannot read: {e} (is this the output folder of a finished run?)"),
        )
    };
    let mut file = std::fs::File::open(&path).map_err(fail)?;
    let mut hasher = crc32fast::Hasher::new();
    let mut block = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut block).map_err(fail)?;
        if n == 0 {
            return Ok(hasher.finalize());
        }
        hasher.update(&block[..n]);
    }
}

/// Seals the tables of `dir`, once every one of them is written.
pub(crate) fn seal_tables(dir: &Path) -> Result<(), OutputError> {
    let mut text =
        String::from("# CRC-32 of each table of this run; `backstop report` checks them.\n");
    for name in RUN_TABLES {
        text.push_str(&format!("\"{name}\" = {}\n", crc_of(dir, name)?));
    }
    let path = dir.join(TABLES_SEAL);
    write_atomic(&path, text.as_bytes()).map_err(|e| OutputError::at(&path, e))
}

/// Removes the seal: tables are about to be rewritten.
pub(crate) fn break_seal(dir: &Path) {
    let _ = std::fs::remove_file(dir.join(TABLES_SEAL));
}

/// Checks that every table of `dir` is the one its run sealed.
pub(crate) fn check_tables(dir: &Path) -> Result<(), OutputError> {
    let path = dir.join(TABLES_SEAL);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        OutputError::at(
            &path,
            format!(
                "cannot read: {e}; the folder holds no finished run (a run still going, stopped \
                 midway, or written by a backstop before seals): run it again"
            ),
        )
    })?;
    let seal: toml::Table =
        toml::from_str(&text).map_err(|e| OutputError::at(&path, format!("is damaged: {e}")))?;
    for name in RUN_TABLES {
        let want = seal.get(name).and_then(|v| v.as_integer());
        if want != Some(crc_of(dir, name)? as i64) {
            return Err(OutputError::at(
                &dir.join(name),
                format!(
                    "does not belong to the run that wrote this folder's other tables (its \
                     checksum is not the one in {TABLES_SEAL}): a table of another run, or one \
                     changed since; run the experiment again"
                ),
            ));
        }
    }
    Ok(())
}
