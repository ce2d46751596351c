//! Tables as polars DataFrames. Mesa's batch_run is the model: flat rows that carry their
//! parameters, so every grid axis is a column of both tables.

use polars::prelude::*;

use crate::config::{AxisValue, Experiment, GridAxis};
use crate::montecarlo::Aggregates;
use crate::simulation::{ColumnSink, ColumnSource, RunRow};

/// One column per axis, repeating each cell's value `repeat` times.
fn axis_columns(axes: &[GridAxis], cells: &[Vec<AxisValue>], repeat: usize) -> Vec<Column> {
    axes.iter()
        .enumerate()
        .map(|(a, axis)| {
            let name = PlSmallStr::from(axis.path.as_str());
            if axis.is_numeric() {
                let v: Vec<f64> = cells
                    .iter()
                    .flat_map(|c| std::iter::repeat_n(c[a].as_f64().unwrap_or(0.0), repeat))
                    .collect();
                Column::new(name, v)
            } else if axis.values.iter().all(|v| matches!(v, AxisValue::Bool(_))) {
                let v: Vec<bool> = cells
                    .iter()
                    .flat_map(|c| {
                        std::iter::repeat_n(matches!(c[a], AxisValue::Bool(true)), repeat)
                    })
                    .collect();
                Column::new(name, v)
            } else {
                let v: Vec<String> = cells
                    .iter()
                    .flat_map(|c| std::iter::repeat_n(c[a].to_string(), repeat))
                    .collect();
                Column::new(name, v)
            }
        })
        .collect()
}

struct PolarsSink(Vec<Column>);

impl ColumnSink for PolarsSink {
    fn f64(&mut self, name: &'static str, values: Vec<f64>) {
        self.0.push(Column::new(name.into(), values));
    }
    fn opt_f64(&mut self, name: &'static str, values: Vec<Option<f64>>) {
        self.0.push(Column::new(name.into(), values));
    }
    fn u32(&mut self, name: &'static str, values: Vec<u32>) {
        self.0.push(Column::new(name.into(), values));
    }
    fn opt_u32(&mut self, name: &'static str, values: Vec<Option<u32>>) {
        self.0.push(Column::new(name.into(), values));
    }
    fn bool(&mut self, name: &'static str, values: Vec<bool>) {
        self.0.push(Column::new(name.into(), values));
    }
}

/// Rows of cell `cell` as a table: `cell`, the grid axes, then the figures of [`RunRow`].
/// `runs.parquet` is these tables, one row group per unit of work, in unit order.
pub fn rows_frame(exp: &Experiment, cell: usize, rows: &[RunRow]) -> PolarsResult<DataFrame> {
    let n = rows.len();
    let mut sink = PolarsSink(vec![Column::new("cell".into(), vec![cell as u32; n])]);
    sink.0.extend(axis_columns(
        &exp.axes,
        std::slice::from_ref(&exp.cells[cell].coords),
        n,
    ));
    RunRow::emit_columns(rows, &mut sink);
    DataFrame::new(n, sink.0)
}

struct PolarsSource<'a>(&'a DataFrame);

impl PolarsSource<'_> {
    fn column(&self, name: &str) -> Result<&Column, String> {
        self.0
            .column(name)
            .map_err(|_| format!("column `{name}` is missing"))
    }
}

impl ColumnSource for PolarsSource<'_> {
    fn f64(&mut self, name: &'static str) -> Result<Vec<f64>, String> {
        let c = self.column(name)?.f64().map_err(|e| e.to_string())?;
        c.iter()
            .map(|v| v.ok_or_else(|| format!("`{name}` has a null")))
            .collect()
    }
    fn opt_f64(&mut self, name: &'static str) -> Result<Vec<Option<f64>>, String> {
        Ok(self
            .column(name)?
            .f64()
            .map_err(|e| e.to_string())?
            .iter()
            .collect())
    }
    fn u32(&mut self, name: &'static str) -> Result<Vec<u32>, String> {
        let c = self.column(name)?.u32().map_err(|e| e.to_string())?;
        c.iter()
            .map(|v| v.ok_or_else(|| format!("`{name}` has a null")))
            .collect()
    }
    fn opt_u32(&mut self, name: &'static str) -> Result<Vec<Option<u32>>, String> {
        Ok(self
            .column(name)?
            .u32()
            .map_err(|e| e.to_string())?
            .iter()
            .collect())
    }
    fn bool(&mut self, name: &'static str) -> Result<Vec<bool>, String> {
        let c = self.column(name)?.bool().map_err(|e| e.to_string())?;
        c.iter()
            .map(|v| v.ok_or_else(|| format!("`{name}` has a null")))
            .collect()
    }
}

/// Reads rows written by [`rows_frame`] back, bit for bit.
pub fn rows_from_frame(df: &DataFrame) -> Result<Vec<RunRow>, String> {
    RunRow::take_columns(df.height(), &mut PolarsSource(df))
}

/// One row per cell: `cell`, the grid axes, then the statistics of section 9.
pub fn summary_frame(exp: &Experiment, result: &Aggregates) -> PolarsResult<DataFrame> {
    let n = result.summaries.len();
    let coords: Vec<Vec<AxisValue>> = exp.cells.iter().map(|c| c.coords.clone()).collect();
    let mut columns = vec![Column::new(
        "cell".into(),
        (0..n as u32).collect::<Vec<u32>>(),
    )];
    columns.extend(axis_columns(&exp.axes, &coords, 1));
    let per_cell: Vec<Vec<(&'static str, Option<f64>)>> =
        result.summaries.iter().map(|s| s.columns()).collect();
    if let Some(first) = per_cell.first() {
        for (j, (name, _)) in first.iter().enumerate() {
            let values: Vec<Option<f64>> = per_cell.iter().map(|c| c[j].1).collect();
            columns.push(Column::new((*name).into(), values));
        }
    }
    DataFrame::new(n, columns)
}

pub fn write_parquet_bytes(df: &mut DataFrame) -> PolarsResult<Vec<u8>> {
    let mut buf = Vec::new();
    ParquetWriter::new(&mut buf).finish(df)?;
    Ok(buf)
}

pub fn write_csv_bytes(df: &mut DataFrame) -> PolarsResult<Vec<u8>> {
    let mut buf = Vec::new();
    CsvWriter::new(&mut buf).include_header(true).finish(df)?;
    Ok(buf)
}

/// Fund balance quantiles over time, per cell: `cell`, `step`, `hour`, `p5` ... `p95`.
pub fn fan_frame(exp: &Experiment, result: &Aggregates) -> PolarsResult<DataFrame> {
    let mut cell = Vec::new();
    let mut step = Vec::new();
    let mut hour = Vec::new();
    let mut q: [Vec<f64>; 5] = Default::default();
    for (c, (fan, cfg)) in result.fans.iter().zip(&exp.cells).enumerate() {
        let dt = cfg.scenario.dt_seconds();
        for p in fan {
            cell.push(c as u32);
            step.push(p.step as u32);
            hour.push(p.step as f64 * dt / 3600.0);
            for (v, x) in q.iter_mut().zip([p.p5, p.p25, p.p50, p.p75, p.p95]) {
                v.push(x);
            }
        }
    }
    let height = cell.len();
    let [p5, p25, p50, p75, p95] = q;
    DataFrame::new(
        height,
        vec![
            Column::new("cell".into(), cell),
            Column::new("step".into(), step),
            Column::new("hour".into(), hour),
            Column::new("p5".into(), p5),
            Column::new("p25".into(), p25),
            Column::new("p50".into(), p50),
            Column::new("p75".into(), p75),
            Column::new("p95".into(), p95),
        ],
    )
}

/// One run step by step (the headline cell's 1-in-100 bad-debt day).
pub fn sample_frame(exp: &Experiment, result: &Aggregates) -> PolarsResult<DataFrame> {
    let s = &result.sample;
    let dt = exp.cells[s.cell].scenario.dt_seconds();
    let n = s.steps.len();
    let col = |name: &str, f: &dyn Fn(&crate::simulation::StepView) -> f64| {
        Column::new(name.into(), s.steps.iter().map(f).collect::<Vec<f64>>())
    };
    DataFrame::new(
        n,
        vec![
            Column::new("cell".into(), vec![s.cell as u32; n]),
            Column::new("seed".into(), vec![s.seed; n]),
            Column::new(
                "step".into(),
                s.steps.iter().map(|v| v.step as u32).collect::<Vec<u32>>(),
            ),
            col("hour", &|v| v.step as f64 * dt / 3600.0),
            col("index", &|v| v.index),
            col("mark", &|v| v.mark),
            col("fund_balance", &|v| v.fund_balance),
            Column::new(
                "liquidations".into(),
                s.steps.iter().map(|v| v.liquidations).collect::<Vec<u32>>(),
            ),
            col("liquidated_notional", &|v| v.liquidated_notional),
            col("bad_debt", &|v| v.bad_debt),
        ],
    )
}
