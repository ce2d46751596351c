//! Reading tables back: a Parquet file, and its numeric columns with every value present. A
//! missing column or an empty value is an error naming the file, never a silent 0.

use std::path::Path;

use polars::prelude::{DataFrame, DataType};

use super::error::OutputError;
use crate::montecarlo::RunFigures;

/// What to do about a table that is not there: a folder with its `experiment.toml` but not
/// its tables is a report kept without them (the committed examples, whose Parquet tables
/// are not committed), which the same experiment, run again into it, gives back byte for
/// byte; any other folder is probably not a run's.
fn missing_hint(path: &Path) -> String {
    let dir = path.parent().unwrap_or(Path::new("."));
    let experiment = dir.join(super::paths::EXPERIMENT_FILE);
    if experiment.exists() {
        format!(
            "this folder keeps a report without its tables, as the committed examples do; \
             make them with `backstop run {} --out {}`, the same experiment, which rewrites \
             the report with the same bytes",
            experiment.display(),
            dir.display()
        )
    } else {
        "is this the output folder of `backstop run`?".into()
    }
}

/// Reads a Parquet table (only `columns`, when given). A damaged file is an error naming it:
/// the reader's own error, or, should the reader panic on bytes it does not expect, that
/// panic caught here, so that `report` and `merge` refuse a damaged folder instead of
/// aborting.
pub(crate) fn read_parquet_file(
    path: &Path,
    columns: Option<&[&str]>,
) -> Result<polars::prelude::DataFrame, OutputError> {
    use polars::prelude::{ParquetReader, SerReader};
    let f = std::fs::File::open(path)
        .map_err(|e| OutputError::at(path, format!("cannot read: {e} ({})", missing_hint(path))))?;
    let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let reader = ParquetReader::new(f);
        match columns {
            Some(c) => reader.with_columns(Some(c.iter().map(|s| s.to_string()).collect())),
            None => reader,
        }
        .finish()
    }));
    let damaged = |why: String| {
        OutputError::at(
            path,
            format!("is damaged (not a readable Parquet table: {why}); run again with --restart"),
        )
    };
    match read {
        Ok(Ok(df)) => Ok(df),
        Ok(Err(e)) => Err(damaged(e.to_string())),
        Err(_) => Err(damaged("the reader gave up on it".into())),
    }
}

/// A numeric column, every value present.
pub(crate) fn values(df: &DataFrame, name: &str, path: &Path) -> Result<Vec<f64>, OutputError> {
    let c = df
        .column(name)
        .map_err(|_| OutputError::at(path, format!("column `{name}` is missing")))?
        .cast(&DataType::Float64)
        .map_err(|e| OutputError::at(path, format!("column `{name}`: {e}")))?;
    c.f64()
        .map_err(|e| OutputError::at(path, e))?
        .iter()
        .map(|v| {
            v.ok_or_else(|| OutputError::at(path, format!("column `{name}` has an empty value")))
        })
        .collect()
}

/// The values of column `name` in the rows of `cell` (by the `cell` column).
pub(crate) fn values_of_cell(
    df: &DataFrame,
    name: &str,
    cell: usize,
    path: &Path,
) -> Result<Vec<f64>, OutputError> {
    let cells = values(df, "cell", path)?;
    Ok(values(df, name, path)?
        .into_iter()
        .zip(cells)
        .filter(|(_, c)| *c as usize == cell)
        .map(|(v, _)| v)
        .collect())
}

/// The figures of every run in `runs.parquet` at `path`, in table order: the one place the
/// runs table is read back for statistics over runs.
pub(crate) fn read_run_figures(path: &Path) -> Result<Vec<RunFigures>, OutputError> {
    let mut wanted = RunFigures::COLUMNS.to_vec();
    let present = column_names(path)?;
    wanted.extend(
        RunFigures::OPTIONAL_COLUMNS
            .iter()
            .filter(|c| present.iter().any(|p| p == *c)),
    );
    let df = read_parquet_file(path, Some(&wanted))?;
    let col = |name: &str| values(&df, name, path);
    let coin = optional_values(&df, "fund_coin_change", path)?;
    let peak_coin = optional_values(&df, "inventory_peak_loss_coin", path)?;
    let cell = col("cell")?;
    let seed = col("seed")?;
    let required = col("required_capital")?;
    let bad_debt = col("bad_debt")?;
    let slippage = col("slippage_loss")?;
    let cascade = col("cascade_largest_notional")?;
    let open_interest = col("open_interest")?;
    let flow = col("cascade_voluntary_flow")?;
    let voluntary = col("voluntary_close_notional")?;
    let fund_final = col("fund_final")?;
    let adl = col("adl_count")?;
    let socialized = col("socialized_loss")?;
    Ok((0..cell.len())
        .map(|i| RunFigures {
            cell: cell[i] as usize,
            seed: seed[i] as u32,
            required_capital: required[i],
            bad_debt: bad_debt[i],
            slippage_loss: slippage[i],
            cascade_largest_notional: cascade[i],
            open_interest: open_interest[i],
            cascade_voluntary_flow: flow[i],
            voluntary_close_notional: voluntary[i],
            fund_final: fund_final[i],
            adl_count: adl[i] as u32,
            socialized_loss: socialized[i],
            fund_coin_change: coin.as_ref().and_then(|c| c[i]),
            inventory_peak_loss_coin: peak_coin.as_ref().and_then(|c| c[i]),
        })
        .collect())
}

/// The names of a Parquet table's columns, read from its footer.
fn column_names(path: &Path) -> Result<Vec<String>, OutputError> {
    use polars::prelude::{ParquetReader, SerReader};
    let f = std::fs::File::open(path)
        .map_err(|e| OutputError::at(path, format!("cannot read: {e} ({})", missing_hint(path))))?;
    let schema = ParquetReader::new(f).schema().map_err(|e| {
        OutputError::at(path, format!("is damaged ({e}); run again with --restart"))
    })?;
    Ok(schema.iter_names().map(|n| n.to_string()).collect())
}

/// A numeric column whose values may be empty (`None` for a table without the column).
fn optional_values(
    df: &DataFrame,
    name: &str,
    path: &Path,
) -> Result<Option<Vec<Option<f64>>>, OutputError> {
    let Ok(column) = df.column(name) else {
        return Ok(None);
    };
    let c = column
        .cast(&DataType::Float64)
        .map_err(|e| OutputError::at(path, format!("column `{name}`: {e}")))?;
    Ok(Some(
        c.f64()
            .map_err(|e| OutputError::at(path, e))?
            .iter()
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use polars::prelude::{Column, DataFrame};

    /// A missing column and an empty value are errors naming the file; present values are
    /// read as they are, and a cell's rows in table order.
    #[test]
    fn a_column_is_read_whole_or_refused() {
        let path = Path::new("out/runs.parquet");
        let df = DataFrame::new(
            3,
            vec![
                Column::new("cell".into(), vec![1u32, 0, 1]),
                Column::new("x".into(), vec![1.5, 2.5, 3.5]),
                Column::new("gap".into(), vec![Some(1.0), None, Some(2.0)]),
            ],
        )
        .unwrap();
        assert_eq!(values(&df, "x", path).unwrap(), vec![1.5, 2.5, 3.5]);
        assert_eq!(values_of_cell(&df, "x", 1, path).unwrap(), vec![1.5, 3.5]);
        let missing = values(&df, "y", path).unwrap_err();
        assert_eq!(missing.path, path);
        assert!(missing.message.contains("`y` is missing"), "{missing}");
        let empty = values(&df, "gap", path).unwrap_err();
        assert!(empty.message.contains("empty value"), "{empty}");
    }
}
