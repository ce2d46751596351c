//! Tables as polars DataFrames. Mesa's batch_run is the model: flat rows that carry their
//! parameters, so every grid axis is a column of both tables.

use polars::prelude::*;

use crate::config::{AxisValue, Experiment, GridAxis};
use crate::montecarlo::{Aggregates, CellSummary, MarketSummary};
use crate::simulation::{ColumnSink, ColumnSource, MarketRow, RunRow};

/// One column per axis, repeating each cell's value `repeat` times.
fn axis_columns(axes: &[GridAxis], cells: &[Vec<AxisValue>], repeat: usize) -> Vec<Column> {
    axes.iter()
        .enumerate()
        .map(|(a, axis)| {
            let name = PlSmallStr::from(axis.path.as_str());
            // A numeric axis has a number at every cell: each coordinate is one of its values.
            let numbers = axis
                .is_numeric()
                .then(|| {
                    cells
                        .iter()
                        .map(|c| c[a].as_f64())
                        .collect::<Option<Vec<f64>>>()
                })
                .flatten();
            if let Some(numbers) = numbers {
                let v: Vec<f64> = numbers
                    .into_iter()
                    .flat_map(|x| std::iter::repeat_n(x, repeat))
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

/// The experiment's market names, in market order.
pub(crate) fn market_names(exp: &Experiment) -> Vec<String> {
    exp.cells
        .first()
        .map(|c| {
            c.scenario
                .markets()
                .iter()
                .map(|m| m.name().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// Replaces the `market` column (the market's place) by the market's name.
fn name_markets(exp: &Experiment, columns: &mut [Column]) -> PolarsResult<()> {
    let names = market_names(exp);
    if let Some(c) = columns.iter_mut().find(|c| c.name() == "market") {
        let named: Vec<String> = c
            .u32()?
            .iter()
            .map(|m| {
                m.and_then(|m| names.get(m as usize))
                    .cloned()
                    .ok_or_else(|| {
                        PolarsError::ComputeError(
                            "a market row names no market of the experiment".into(),
                        )
                    })
            })
            .collect::<PolarsResult<_>>()?;
        *c = Column::new("market".into(), named);
    }
    Ok(())
}

/// Market rows of cell `cell` as a table: `cell`, the grid axes, then the figures of
/// [`MarketRow`], with each market named. `runs_by_market.parquet` is these tables, one row
/// group per unit of work, in unit order.
pub fn market_rows_frame(
    exp: &Experiment,
    cell: usize,
    rows: &[MarketRow],
) -> PolarsResult<DataFrame> {
    let n = rows.len();
    let mut sink = PolarsSink(vec![Column::new("cell".into(), vec![cell as u32; n])]);
    sink.0.extend(axis_columns(
        &exp.axes,
        std::slice::from_ref(&exp.cells[cell].coords),
        n,
    ));
    MarketRow::emit_columns(rows, &mut sink);
    name_markets(exp, &mut sink.0)?;
    DataFrame::new(n, sink.0)
}

/// Reads market rows written by [`market_rows_frame`] back, bit for bit; a market name the
/// experiment does not have is an error.
pub fn market_rows_from_frame(exp: &Experiment, df: &DataFrame) -> Result<Vec<MarketRow>, String> {
    let names = market_names(exp);
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let numbered = numbered_markets(&names, df)?;
    MarketRow::take_columns(numbered.height(), &mut PolarsSource(&numbered))
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

/// One row per cell: `cell`, the grid axes, then the statistics of [`CellSummary`] (section 9).
pub fn summary_frame(exp: &Experiment, result: &Aggregates) -> PolarsResult<DataFrame> {
    let n = result.summaries.len();
    let coords: Vec<Vec<AxisValue>> = exp.cells.iter().map(|c| c.coords.clone()).collect();
    let mut sink = PolarsSink(vec![Column::new(
        "cell".into(),
        (0..n as u32).collect::<Vec<u32>>(),
    )]);
    sink.0.extend(axis_columns(&exp.axes, &coords, 1));
    CellSummary::emit_columns(&result.summaries, &mut sink);
    DataFrame::new(n, sink.0)
}

/// Reads the statistics of `summary.*` back, one per cell: every column of [`CellSummary`]
/// must be there, with its type.
pub fn summaries_from_frame(df: &DataFrame) -> Result<Vec<CellSummary>, String> {
    CellSummary::take_columns(df.height(), &mut PolarsSource(df))
}

/// Reads the statistics of `summary_by_market.*` back (market `names` in market order): every
/// column of [`MarketSummary`] must be there.
pub fn market_summaries_from_frame(
    names: &[&str],
    df: &DataFrame,
) -> Result<Vec<MarketSummary>, String> {
    let numbered = numbered_markets(names, df)?;
    MarketSummary::take_columns(numbered.height(), &mut PolarsSource(&numbered))
}

/// `df` with its `market` column of names turned back into the markets' places.
fn numbered_markets(names: &[&str], df: &DataFrame) -> Result<DataFrame, String> {
    let column = df
        .column("market")
        .map_err(|_| "column `market` is missing".to_string())?;
    let places = column
        .str()
        .map_err(|e| e.to_string())?
        .iter()
        .map(|name| {
            name.and_then(|n| names.iter().position(|m| *m == n))
                .map(|m| m as u32)
                .ok_or_else(|| format!("market `{}` is not in the experiment", name.unwrap_or("")))
        })
        .collect::<Result<Vec<u32>, String>>()?;
    let mut numbered = df.clone();
    numbered
        .replace("market", Column::new("market".into(), places))
        .map_err(|e| e.to_string())?;
    Ok(numbered)
}

/// One row per cell and market: `cell`, the grid axes, `market` (its name), then the
/// statistics of [`MarketSummary`].
pub fn market_summary_frame(exp: &Experiment, result: &Aggregates) -> PolarsResult<DataFrame> {
    let rows: &[MarketSummary] = &result.market_summaries;
    let n = rows.len();
    let per_cell = market_names(exp).len().max(1);
    let cells: Vec<u32> = (0..n).map(|k| (k / per_cell) as u32).collect();
    let coords: Vec<Vec<AxisValue>> = exp.cells.iter().map(|c| c.coords.clone()).collect();
    let mut sink = PolarsSink(vec![Column::new("cell".into(), cells)]);
    sink.0.extend(axis_columns(&exp.axes, &coords, per_cell));
    MarketSummary::emit_columns(rows, &mut sink);
    name_markets(exp, &mut sink.0)?;
    DataFrame::new(n, sink.0)
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
            for (v, x) in q
                .iter_mut()
                .zip([p.band.p5, p.band.p25, p.band.p50, p.band.p75, p.band.p95])
            {
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

/// One run step by step (the headline cell's 1-in-N day for the fund at the study's target).
pub fn sample_frame(exp: &Experiment, result: &Aggregates) -> PolarsResult<DataFrame> {
    let s = &result.sample;
    let dt = exp.cells[s.cell].scenario.dt_seconds();
    let lending = exp.cells[s.cell].scenario.markets()[0].lending().is_some();
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
            // The first market's oracle when it is a lending market (null for a perp).
            Column::new(
                "oracle".into(),
                s.steps
                    .iter()
                    .map(|v| lending.then_some(v.oracle))
                    .collect::<Vec<Option<f64>>>(),
            ),
        ],
    )
}

/// The sample path's run by distance to liquidation (MODEL.md section 3): one row per moment
/// (`start`, `worst_step`), market, side and bucket, every bucket written (zeros too), so
/// the table has the same shape for every run. A bucket's open edge is empty (null).
pub fn liquidation_map_frame(exp: &Experiment, result: &Aggregates) -> PolarsResult<DataFrame> {
    use crate::protocol::DistanceBucket;
    let s = &result.sample;
    let names = market_names(exp);
    let mut market: Vec<String> = Vec::new();
    let mut moment: Vec<&str> = Vec::new();
    let mut step: Vec<u32> = Vec::new();
    let mut side: Vec<&str> = Vec::new();
    let mut lo: Vec<Option<f64>> = Vec::new();
    let mut hi: Vec<Option<f64>> = Vec::new();
    let mut notional: Vec<f64> = Vec::new();
    let mut positions: Vec<u32> = Vec::new();
    for m in s.map.moments() {
        for (name, map) in names.iter().zip(&m.maps) {
            for &sd in map.sides() {
                for b in DistanceBucket::ALL {
                    let t = map.get(sd, b);
                    let (l, h) = b.edges_pct();
                    market.push(name.clone());
                    moment.push(m.moment.label());
                    step.push(m.step as u32);
                    side.push(sd.label());
                    lo.push(l);
                    hi.push(h);
                    notional.push(t.notional);
                    positions.push(t.positions);
                }
            }
        }
    }
    let n = market.len();
    DataFrame::new(
        n,
        vec![
            Column::new("cell".into(), vec![s.cell as u32; n]),
            Column::new("seed".into(), vec![s.seed; n]),
            Column::new("market".into(), market),
            Column::new("moment".into(), moment),
            Column::new("step".into(), step),
            Column::new("side".into(), side),
            Column::new("bucket_lo_pct".into(), lo),
            Column::new("bucket_hi_pct".into(), hi),
            Column::new("notional_usd".into(), notional),
            Column::new("positions".into(), positions),
        ],
    )
}
