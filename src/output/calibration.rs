//! Tables and text of `backstop calibrate`, from the runs of a calibration experiment.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use super::atomic::write_atomic;
use super::charts::{DepletionCurve, render};
use super::error::OutputError;
use super::paths::RUNS_FILE;
use super::read::{read_parquet_file, values};
use super::tables::{write_csv_bytes, write_parquet_bytes};
use super::text::format_money;
use crate::config::target::{over_a_year, pct_short};
use crate::config::{AxisValue, Experiment, Target};
use crate::montecarlo::calibration::{
    Calibration, CellSamples, CurvePoint, calibrate, calibrate_capped, depletion_curve, frontier,
};

/// The files of one target, named by its daily probability (`calibration_p0.001.csv`), so
/// that a second target sits beside the first instead of overwriting it.
pub struct CalibrationFiles {
    pub table_csv: String,
    pub table_parquet: String,
    pub curve_csv: String,
    pub report: String,
    pub chart: String,
}

impl CalibrationFiles {
    pub fn of(target: &Target) -> Self {
        let tag = target.file_tag();
        Self {
            table_csv: format!("calibration_{tag}.csv"),
            table_parquet: format!("calibration_{tag}.parquet"),
            curve_csv: format!("calibration_curve_{tag}.csv"),
            report: format!("calibration_{tag}.md"),
            chart: format!("calibration_{tag}.png"),
        }
    }
}

/// Points of each cell's depletion curve.
const CURVE_POINTS: usize = 101;

/// One cell's calibration and its curve.
#[derive(Clone, Debug)]
pub struct CellCalibration {
    pub cell: usize,
    pub calibration: Calibration,
    pub curve: Vec<CurvePoint>,
    pub on_frontier: bool,
}

/// Each cell's required capital and trader losses (penalties plus slippage), per run, from
/// `dir/runs.parquet` of a calibration experiment.
pub fn samples_from_runs(exp: &Experiment, dir: &Path) -> Result<Vec<CellSamples>, OutputError> {
    let path = dir.join(RUNS_FILE);
    let wanted = ["cell", "required_capital", "penalty_paid", "slippage_loss"];
    let df = read_parquet_file(&path, Some(&wanted))?;
    let cells = values(&df, "cell", &path)?;
    let required = values(&df, "required_capital", &path)?;
    let penalty = values(&df, "penalty_paid", &path)?;
    let slippage = values(&df, "slippage_loss", &path)?;
    let mut per_cell = vec![CellSamples::default(); exp.cells.len()];
    for i in 0..cells.len() {
        let Some(s) = per_cell.get_mut(cells[i] as usize) else {
            return Err(OutputError::at(
                &path,
                format!(
                    "row {i}: cell {} is not a cell of this experiment (it has {})",
                    cells[i],
                    exp.cells.len()
                ),
            ));
        };
        s.critical.push(required[i]);
        s.trader_losses.push(penalty[i] + slippage[i]);
    }
    if let Some(c) = per_cell.iter().position(|s| s.critical.is_empty()) {
        return Err(OutputError::at(&path, format!("no run of cell {c}")));
    }
    Ok(per_cell)
}

/// Calibrates every cell from its runs' critical funds (required capital, or bisection
/// thresholds that may be infinite above a cap) and trader losses.
pub fn calibrate_cells(
    exp: &Experiment,
    per_cell: &[CellSamples],
    target: f64,
) -> Result<Vec<CellCalibration>, String> {
    let calibrations = per_cell
        .iter()
        .enumerate()
        .map(|(c, s)| {
            match exp.cells[c].scenario.fund_cap() {
                Some(cap) => calibrate_capped(&s.critical, &s.trader_losses, target, cap),
                None => calibrate(&s.critical, &s.trader_losses, target),
            }
            .ok_or_else(|| format!("cell {c} has no runs to calibrate from"))
        })
        .collect::<Result<Vec<Calibration>, String>>()?;
    // One fund axis for every curve, reaching past the largest bound.
    let top = calibrations
        .iter()
        .map(|c| c.fund_ub95.unwrap_or(c.fund))
        .fold(1.0, f64::max)
        * 1.5;
    let funds: Vec<f64> = (0..CURVE_POINTS)
        .map(|i| top * i as f64 / (CURVE_POINTS - 1) as f64)
        .collect();
    let front = frontier(&calibrations);
    Ok(calibrations
        .into_iter()
        .enumerate()
        .map(|(cell, calibration)| CellCalibration {
            cell,
            curve: depletion_curve(&per_cell[cell].critical, &funds),
            calibration,
            on_frontier: front.contains(&cell),
        })
        .collect())
}

fn axis_columns(exp: &Experiment, cells: &[usize]) -> Vec<Column> {
    exp.axes
        .iter()
        .enumerate()
        .map(|(a, axis)| {
            let name = PlSmallStr::from(axis.path.as_str());
            // A numeric axis has a number at every cell: each coordinate is one of its values.
            let numbers = axis
                .is_numeric()
                .then(|| {
                    cells
                        .iter()
                        .map(|&c| exp.cells[c].coords[a].as_f64())
                        .collect::<Option<Vec<f64>>>()
                })
                .flatten();
            if let Some(numbers) = numbers {
                Column::new(name, numbers)
            } else {
                Column::new(
                    name,
                    cells
                        .iter()
                        .map(|&c| exp.cells[c].coords[a].to_string())
                        .collect::<Vec<String>>(),
                )
            }
        })
        .collect()
}

/// One row per cell: the cell, its coordinates and its calibration.
fn calibration_frame(exp: &Experiment, cells: &[CellCalibration]) -> PolarsResult<DataFrame> {
    let idx: Vec<usize> = cells.iter().map(|c| c.cell).collect();
    let n = cells.len();
    let cal = |f: &dyn Fn(&Calibration) -> Option<f64>| -> Vec<Option<f64>> {
        cells.iter().map(|c| f(&c.calibration)).collect()
    };
    let mut columns = vec![Column::new(
        "cell".into(),
        idx.iter().map(|&c| c as u32).collect::<Vec<u32>>(),
    )];
    columns.extend(axis_columns(exp, &idx));
    columns.extend([
        Column::new("target".into(), cal(&|c| Some(c.target))),
        Column::new(
            "runs".into(),
            cells
                .iter()
                .map(|c| c.calibration.runs)
                .collect::<Vec<u64>>(),
        ),
        Column::new("fund_required".into(), cal(&|c| Some(c.fund))),
        Column::new("fund_required_ub95".into(), cal(&|c| c.fund_ub95)),
        Column::new(
            "depletion_at_fund".into(),
            cal(&|c| Some(c.depletion_at_fund)),
        ),
        Column::new("trader_losses_mean".into(), cal(&|c| Some(c.trader_losses))),
        Column::new("trader_losses_mean_se".into(), cal(&|c| c.trader_losses_se)),
        Column::new(
            "on_frontier".into(),
            cells.iter().map(|c| c.on_frontier).collect::<Vec<bool>>(),
        ),
    ]);
    DataFrame::new(n, columns)
}

/// One row per cell and point of its depletion curve.
fn curve_frame(exp: &Experiment, cells: &[CellCalibration]) -> PolarsResult<DataFrame> {
    let mut curve_cells = Vec::new();
    let (mut fund, mut p, mut lo, mut hi) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for c in cells {
        for pt in &c.curve {
            curve_cells.push(c.cell);
            fund.push(pt.fund);
            p.push(pt.p);
            lo.push(pt.lo);
            hi.push(pt.hi);
        }
    }
    let mut curve_cols = vec![Column::new(
        "cell".into(),
        curve_cells.iter().map(|&c| c as u32).collect::<Vec<u32>>(),
    )];
    curve_cols.extend(axis_columns(exp, &curve_cells));
    curve_cols.extend([
        Column::new("fund".into(), fund),
        Column::new("depletion_probability".into(), p),
        Column::new("depletion_probability_lo95".into(), lo),
        Column::new("depletion_probability_hi95".into(), hi),
    ]);
    DataFrame::new(curve_cells.len(), curve_cols)
}

/// Writes the target's table (one row per cell, CSV and Parquet), its curves, and its
/// report with the chart ([`CalibrationFiles`]).
pub fn write_calibration(
    dir: &Path,
    exp: &Experiment,
    cells: &[CellCalibration],
    target: &Target,
) -> Result<Vec<PathBuf>, OutputError> {
    let names = CalibrationFiles::of(target);
    let at = |name: &str| dir.join(name);
    let mut table =
        calibration_frame(exp, cells).map_err(|e| OutputError::at(&at(&names.table_csv), e))?;
    let mut curve =
        curve_frame(exp, cells).map_err(|e| OutputError::at(&at(&names.curve_csv), e))?;
    let chart = calibration_chart(exp, cells, target);
    let png = render(&chart)
        .map_err(|e| OutputError::at(&at(&names.chart), e))?
        .png;
    let report = calibration_report(exp, cells, target, &names);
    let files = [
        (
            &names.table_csv,
            write_csv_bytes(&mut table).map_err(|e| OutputError::at(&at(&names.table_csv), e))?,
        ),
        (
            &names.table_parquet,
            write_parquet_bytes(&mut table)
                .map_err(|e| OutputError::at(&at(&names.table_parquet), e))?,
        ),
        (
            &names.curve_csv,
            write_csv_bytes(&mut curve).map_err(|e| OutputError::at(&at(&names.curve_csv), e))?,
        ),
        (&names.chart, png),
        (&names.report, report.into_bytes()),
    ];
    let mut written = Vec::new();
    for (name, bytes) in files {
        let path = dir.join(name);
        write_atomic(&path, &bytes).map_err(|e| OutputError::at(&path, e))?;
        written.push(path);
    }
    Ok(written)
}

/// The cell the summary line recommends: the smallest fund by its 95% bound (else its point
/// estimate), in whole dollars; the first of a tie.
fn recommended_cell(cells: &[CellCalibration]) -> Option<&CellCalibration> {
    cells.iter().min_by(|a, b| bound(a).total_cmp(&bound(b)))
}

/// What calibrate posts for a cell: its 95% bound where the runs give one, else its point
/// estimate, in whole dollars.
fn bound(c: &CellCalibration) -> f64 {
    c.calibration
        .fund_ub95
        .unwrap_or(c.calibration.fund)
        .round()
}

/// The recommended cell's depletion curve with the target and its fund.
fn calibration_chart(
    exp: &Experiment,
    cells: &[CellCalibration],
    target: &Target,
) -> DepletionCurve {
    let best = recommended_cell(cells);
    let title = match best {
        Some(c) if !exp.axes.is_empty() => {
            format!("How big must the fund be? ({})", cell_text(exp, c.cell))
        }
        _ => "How big must the fund be?".into(),
    };
    let curve = best.map_or(&[][..], |c| &c.curve[..]);
    DepletionCurve {
        title,
        funds: curve.iter().map(|p| p.fund).collect(),
        p: curve.iter().map(|p| p.p).collect(),
        lo: curve.iter().map(|p| p.lo).collect(),
        hi: curve.iter().map(|p| p.hi).collect(),
        runs: best.map_or(0, |c| c.calibration.runs),
        target: target.per_day(),
        recommended: best.map(|c| c.calibration.fund),
        recommended_ub: best.and_then(|c| c.calibration.fund_ub95),
        recommended_from: None,
        exact_up_to: None,
        cells: Vec::new(),
    }
}

/// `calibration_<tag>.md`: the target, the table, the recommendation and the chart.
fn calibration_report(
    exp: &Experiment,
    cells: &[CellCalibration],
    target: &Target,
    names: &CalibrationFiles,
) -> String {
    let mut s = format!("# Fund calibration: {}\n\n", exp.name);
    let question = &exp.resolved.experiment.question;
    if !question.is_empty() {
        let _ = writeln!(s, "**Question.** {question}\n");
    }
    let _ = writeln!(
        s,
        "**Target.** The fund may run dry on at most {target}.\n\n```\n{}```\n",
        calibration_text(exp, cells)
    );
    let runs = cells.first().map_or(0, |c| c.calibration.runs);
    if runs < target.runs_for_bound() {
        let _ = writeln!(
            s,
            "{runs} runs per cell are too few for a 95% upper bound at this target; it takes at least {} (`experiment.seeds`).\n",
            target.runs_for_bound()
        );
    }
    let _ = writeln!(
        s,
        "![P(depletion) against the fund]({})\n\nP(depletion) against the fund for the recommended cell, read off {runs} runs' critical funds (the smallest fund each day leaves standing), with its Wilson 95% band. Every cell's curve is in [`{}`]({}); the table in [`{}`]({}).\n",
        names.chart, names.curve_csv, names.curve_csv, names.table_csv, names.table_csv
    );
    s
}

fn cell_text(exp: &Experiment, c: usize) -> String {
    if exp.axes.is_empty() {
        return "the scenario".into();
    }
    exp.axes
        .iter()
        .zip(&exp.cells[c].coords)
        .map(|(a, v): (_, &AxisValue)| format!("{}={v}", a.path))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The printed recommendations.
pub fn calibration_text(exp: &Experiment, cells: &[CellCalibration]) -> String {
    let mut s = String::new();
    let Some(first) = cells.first() else {
        return "no cells to calibrate\n".into();
    };
    let target = first.calibration.target;
    let _ = writeln!(
        s,
        "Fund that keeps P(depletion) <= {} a day ({} over a year of independent days; {} runs per cell; bound: one-sided 95% from binomial order statistics)\n",
        pct_short(target),
        pct_short(over_a_year(target)),
        first.calibration.runs
    );
    let w = cells
        .iter()
        .map(|c| cell_text(exp, c.cell).len())
        .max()
        .unwrap_or(4)
        .max(4);
    let _ = writeln!(
        s,
        "{:<w$}  {:>12}  {:>12}  {:>22}  frontier",
        "cell", "fund", "95% bound", "trader losses +-SE"
    );
    for c in cells {
        let k = &c.calibration;
        let _ = writeln!(
            s,
            "{:<w$}  {:>12}  {:>12}  {:>22}  {}",
            cell_text(exp, c.cell),
            if k.capped {
                format!("> cap {}", format_money(k.fund))
            } else {
                format_money(k.fund)
            },
            k.fund_ub95
                .map(format_money)
                .unwrap_or_else(|| "n/a".into()),
            format!(
                "{} +-{}",
                format_money(k.trader_losses),
                k.trader_losses_se.map_or("n/a".into(), format_money)
            ),
            if c.on_frontier { "yes" } else { "" }
        );
    }
    let _ = writeln!(s, "{}", smallest_fund_line(exp, cells));
    if cells.len() > 1 {
        let _ = writeln!(
            s,
            "Frontier of fund size against what liquidated traders pay (penalties plus slippage): the cells marked `yes`; every other cell needs a larger fund or costs traders more, or both."
        );
    }
    s
}

/// The line under calibrate's table: the smallest fund to post, read the way the table reads
/// it (the 95% bound where the runs give one, else the point estimate, in whole dollars),
/// naming every cell that needs it and each one's own point estimate.
fn smallest_fund_line(exp: &Experiment, cells: &[CellCalibration]) -> String {
    let Some(best) = recommended_cell(cells).map(bound) else {
        return String::new();
    };
    let tied: Vec<&CellCalibration> = cells.iter().filter(|c| bound(c) == best).collect();
    let named: Vec<String> = tied
        .iter()
        .map(|c| {
            format!(
                "{} (point estimate {})",
                cell_text(exp, c.cell),
                format_money(c.calibration.fund)
            )
        })
        .collect();
    let with = if tied.iter().all(|c| c.calibration.fund_ub95.is_some()) {
        "with 95% confidence".to_string()
    } else {
        let needed = Target::daily(tied[0].calibration.target).map_or(0, |t| t.runs_for_bound());
        format!("by the point estimate (too few runs for a bound, which takes at least {needed})")
    };
    format!(
        "\nSmallest fund meeting the target {with}: {}, in {}.",
        format_money(best),
        named.join(" and ")
    )
}
