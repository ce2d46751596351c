//! The governance report: charts and `report.md`, rebuilt from the tables a run leaves in its
//! output folder. Nothing here simulates; `backstop run` calls the same code after writing
//! its tables, so a report made later by `backstop report DIR` is the same report.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use super::charts::{
    CascadeCcdf, CellEstimate, Chart, DepletionCurve, Exceedance, FundFan, Heatmap, Histogram,
    SamplePathChart, render,
};
use super::text::axis_text;
use super::{
    EXPERIMENT_FILE, FAN_FILE, OutputError, RUNS_FILE, SAMPLE_FILE, SUMMARY_BY_MARKET_CSV,
    SUMMARY_BY_MARKET_PARQUET, SUMMARY_CSV, SUMMARY_PARQUET, format_money, format_pct,
    write_atomic,
};
use crate::config::{Experiment, Overrides};
use crate::montecarlo::MarketSummary;
use crate::stats::{Z95, quantile_sorted, wilson};

pub const REPORT_FILE: &str = "report.md";

/// The depletion probability the headline answers for.
pub const TARGET: f64 = 0.01;

/// What `build_report` wrote, and what it could not draw and why.
#[derive(Debug, Default)]
pub struct ReportOutcome {
    pub files: Vec<PathBuf>,
    pub notes: Vec<String>,
}

fn err(path: &Path, e: impl std::fmt::Display) -> OutputError {
    OutputError {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

fn read_parquet(path: &Path) -> Result<DataFrame, OutputError> {
    let f = std::fs::File::open(path).map_err(|e| {
        err(
            path,
            format!("{e} (is this the output folder of `backstop run`?)"),
        )
    })?;
    ParquetReader::new(f).finish().map_err(|e| err(path, e))
}

fn f64_col(df: &DataFrame, name: &str, path: &Path) -> Result<Vec<Option<f64>>, OutputError> {
    let c = df
        .column(name)
        .map_err(|_| err(path, format!("column `{name}` is missing")))?;
    let c = c
        .cast(&DataType::Float64)
        .map_err(|e| err(path, format!("column `{name}`: {e}")))?;
    Ok(c.f64().map_err(|e| err(path, e))?.iter().collect())
}

fn u32_col(df: &DataFrame, name: &str, path: &Path) -> Result<Vec<u32>, OutputError> {
    Ok(f64_col(df, name, path)?
        .into_iter()
        .map(|v| v.unwrap_or(0.0) as u32)
        .collect())
}

/// One summary row as name -> value.
struct SummaryRow<'a> {
    df: &'a DataFrame,
    row: usize,
}

impl SummaryRow<'_> {
    fn get(&self, name: &str) -> Option<f64> {
        let c = self.df.column(name).ok()?.cast(&DataType::Float64).ok()?;
        c.f64().ok()?.get(self.row)
    }
    fn num(&self, name: &str) -> f64 {
        self.get(name).unwrap_or(0.0)
    }
}

/// `fund.initial $1.00M, liquidation.penalty_rate 1.00%`, or `the scenario as written`.
fn cell_text(exp: &Experiment, c: usize) -> String {
    if exp.axes.is_empty() {
        return "the scenario as written".into();
    }
    exp.axes
        .iter()
        .zip(&exp.cells[c].coords)
        .map(|(a, v)| format!("{} {}", a.path, axis_text(&a.path, v)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A probability without trailing zeros: `1%`, `0.5%`.
fn pct_short(p: f64) -> String {
    let s = format!("{:.4}", 100.0 * p);
    format!("{}%", s.trim_end_matches('0').trim_end_matches('.'))
}

/// Dotted key -> value rows of a TOML table, in file order.
fn flatten(prefix: &str, v: &toml::Value, out: &mut Vec<(String, String)>) {
    match v {
        toml::Value::Table(t) => {
            for (k, v) in t {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        other => out.push((prefix.to_string(), other.to_string())),
    }
}

/// Builds every chart and `report.md` from the tables in `dir`.
pub fn build_report(dir: &Path) -> Result<ReportOutcome, OutputError> {
    let exp_path = dir.join(EXPERIMENT_FILE);
    let exp = Experiment::load(&exp_path, Overrides::default()).map_err(|e| err(&exp_path, e))?;
    let summary_path = dir.join(SUMMARY_PARQUET);
    let summary = read_parquet(&summary_path)?;
    if summary.height() != exp.cells.len() {
        return Err(err(
            &summary_path,
            format!(
                "has {} rows but the experiment has {} cells",
                summary.height(),
                exp.cells.len()
            ),
        ));
    }
    let h = exp.headline_cell();
    let head = SummaryRow {
        df: &summary,
        row: h,
    };
    let runs_path = dir.join(RUNS_FILE);
    // Only the columns the charts use: a million-run table stays small in memory.
    let runs = {
        let f = std::fs::File::open(&runs_path).map_err(|e| err(&runs_path, e))?;
        let wanted = [
            "cell",
            "required_capital",
            "bad_debt",
            "slippage_loss",
            "cascade_largest_notional",
        ];
        ParquetReader::new(f)
            .with_columns(Some(wanted.iter().map(|s| s.to_string()).collect()))
            .finish()
            .map_err(|e| err(&runs_path, e))?
    };
    let run_cells = u32_col(&runs, "cell", &runs_path)?;
    let of_headline = |name: &str| -> Result<Vec<f64>, OutputError> {
        Ok(f64_col(&runs, name, &runs_path)?
            .into_iter()
            .zip(&run_cells)
            .filter(|(_, c)| **c as usize == h)
            .map(|(v, _)| v.unwrap_or(0.0))
            .collect())
    };
    let mut required = of_headline("required_capital")?;
    required.sort_by(f64::total_cmp);
    let mut bad_debt = of_headline("bad_debt")?;
    bad_debt.sort_by(f64::total_cmp);
    let slippage = of_headline("slippage_loss")?;
    let cascades = of_headline("cascade_largest_notional")?;
    let n = required.len() as u64;

    let label = cell_text(&exp, h);
    let f0 = head.num("fund_initial");
    let mut out = ReportOutcome::default();
    let mut charts_md = String::new();
    let mut emit = |chart: &dyn ChartEntry,
                    caption: &str,
                    out: &mut ReportOutcome|
     -> Result<(), OutputError> {
        let (name, rendered) = chart
            .render_entry()
            .map_err(|e| err(&dir.join(chart.file_name()), e))?;
        for (ext, bytes) in [("png", rendered.png), ("svg", rendered.svg.into_bytes())] {
            let path = dir.join(format!("{name}.{ext}"));
            write_atomic(&path, &bytes).map_err(|e| err(&path, e))?;
            out.files.push(path);
        }
        let _ = writeln!(
            charts_md,
            "### {}\n\n![{}]({name}.png)\n\n{caption} ([SVG]({name}.svg))\n",
            chart.title(),
            chart.title()
        );
        Ok(())
    };

    // 1. Heatmap over the first axes of the first two grid factors; other axes are held at the
    // headline cell's values.
    let first_of = |g: usize| exp.axes.iter().position(|a| a.group == g);
    if let (Some(yi_axis), Some(xi_axis)) = (first_of(0), first_of(1)) {
        let (ya, xa) = (&exp.axes[yi_axis], &exp.axes[xi_axis]);
        let p = f64_col(&summary, "depletion_probability", &summary_path)?;
        let mut values = vec![vec![0.0; xa.values.len()]; ya.values.len()];
        let mut seen = vec![vec![false; xa.values.len()]; ya.values.len()];
        for (c, cell) in exp.cells.iter().enumerate() {
            let yi = ya
                .values
                .iter()
                .position(|v| *v == cell.coords[yi_axis])
                .unwrap_or(0);
            let xi = xa
                .values
                .iter()
                .position(|v| *v == cell.coords[xi_axis])
                .unwrap_or(0);
            let in_slice = exp
                .axes
                .iter()
                .enumerate()
                .all(|(i, a)| a.group <= 1 || cell.coords[i] == exp.cells[h].coords[i]);
            if in_slice && !seen[yi][xi] {
                values[yi][xi] = p[c].unwrap_or(0.0);
                seen[yi][xi] = true;
            }
        }
        let chart = Heatmap {
            title: "Chance the fund runs dry in a day".into(),
            x_name: xa.path.clone(),
            x_labels: xa.values.iter().map(|v| axis_text(&xa.path, v)).collect(),
            y_name: ya.path.clone(),
            y_labels: ya.values.iter().map(|v| axis_text(&ya.path, v)).collect(),
            values,
        };
        emit(
            &chart,
            &format!(
                "P(depletion) for every {} and {} ({} runs per cell).",
                ya.path, xa.path, exp.seeds
            ),
            &mut out,
        )?;
    } else {
        out.notes.push(
            "depletion_heatmap: needs a grid with two axes; this experiment has fewer".into(),
        );
    }

    // 2. Depletion curve from required capital: only where required capital predicts depletion.
    let shortcut = !exp.cells[h].scenario.fund_shapes_the_run_before_depletion();
    if shortcut {
        let recommended = quantile_sorted(&required, 1.0 - TARGET).unwrap_or(0.0);
        let recommended_ub = head.get("required_capital_q99_ub95");
        let fund_axis = exp.axes.iter().position(|a| a.path == "fund.initial");
        let cells: Vec<CellEstimate> = match fund_axis {
            Some(fa) => exp
                .cells
                .iter()
                .enumerate()
                .filter(|(_, c)| {
                    c.coords
                        .iter()
                        .enumerate()
                        .all(|(i, v)| i == fa || *v == exp.cells[h].coords[i])
                })
                .map(|(c, cell)| {
                    let row = SummaryRow {
                        df: &summary,
                        row: c,
                    };
                    CellEstimate {
                        fund: cell.scenario.fund_initial(),
                        p: row.num("depletion_probability"),
                        lo: row.num("depletion_probability_lo95"),
                        hi: row.num("depletion_probability_hi95"),
                    }
                })
                .collect(),
            None => Vec::new(),
        };
        let top = [
            quantile_sorted(&required, 0.999).unwrap_or(0.0) * 1.2,
            recommended_ub.unwrap_or(0.0) * 1.1,
            cells.iter().map(|c| c.fund).fold(f0, f64::max) * 1.1,
        ]
        .into_iter()
        .fold(1.0, f64::max);
        let funds: Vec<f64> = (0..=200).map(|i| top * i as f64 / 200.0).collect();
        let (mut p, mut lo, mut hi) = (Vec::new(), Vec::new(), Vec::new());
        for &f in &funds {
            // Runs that deplete a fund f: required capital above f.
            let k = required.len() - required.partition_point(|&r| r <= f);
            let (l, u) = wilson(k as u64, n, Z95).unwrap_or((0.0, 1.0));
            p.push(k as f64 / n.max(1) as f64);
            lo.push(l);
            hi.push(u);
        }
        let curve = DepletionCurve {
            title: "How big must the fund be?".into(),
            funds,
            p,
            lo,
            hi,
            runs: n,
            target: TARGET,
            recommended,
            recommended_ub,
            cells,
        };
        emit(
            &curve,
            &format!(
                "P(depletion) against fund size for {label}, read off the required capital of {n} runs; dots are grid cells run with that fund (95% Wilson intervals)."
            ),
            &mut out,
        )?;
    } else {
        out.notes.push("depletion_curve: the fund cap makes the run depend on the fund, so required capital does not give the curve; use `backstop calibrate`".into());
    }

    // 3. Fan chart of the fund balance.
    let fan_path = dir.join(FAN_FILE);
    let fan = read_parquet(&fan_path)?;
    let fan_cells = u32_col(&fan, "cell", &fan_path)?;
    let pick = |name: &str| -> Result<Vec<f64>, OutputError> {
        Ok(f64_col(&fan, name, &fan_path)?
            .into_iter()
            .zip(&fan_cells)
            .filter(|(_, c)| **c as usize == h)
            .map(|(v, _)| v.unwrap_or(0.0))
            .collect())
    };
    let hours = pick("hour")?;
    let qs = [
        pick("p5")?,
        pick("p25")?,
        pick("p50")?,
        pick("p75")?,
        pick("p95")?,
    ];
    let bands = (0..hours.len())
        .map(|i| [qs[0][i], qs[1][i], qs[2][i], qs[3][i], qs[4][i]])
        .collect();
    emit(
        &FundFan {
            title: "Insurance fund balance through the day".into(),
            hours,
            bands,
            initial: f0,
        },
        &format!(
            "Percentiles of the fund balance across {n} simulated days ({label}); read off per-step histograms, within 2%."
        ),
        &mut out,
    )?;

    // 4. Loss distributions.
    let var95 = head.num("bad_debt_var95");
    let var99 = head.num("bad_debt_var99");
    emit(
        &Exceedance {
            title: "How much bad debt can a day bring?".into(),
            x_desc: "Bad debt in the day (USD)".into(),
            sorted: bad_debt,
            markers: vec![("VaR95".into(), var95), ("VaR99".into(), var99)],
        },
        &format!("Share of simulated days whose bad debt exceeds each amount ({label})."),
        &mut out,
    )?;
    emit(
        &Histogram {
            title: "What traders lose to slippage in forced closes".into(),
            x_desc: "Slippage loss in the day (USD)".into(),
            values: slippage,
            bins: 40,
        },
        &format!("Slippage loss of liquidated positions per simulated day ({label})."),
        &mut out,
    )?;
    emit(
        &CascadeCcdf {
            title: "How large do liquidation cascades get?".into(),
            sizes: cascades,
        },
        &format!(
            "Largest cascade of each day: notional liquidated in consecutive steps with liquidations ({label})."
        ),
        &mut out,
    )?;

    // 5. One sample path.
    let sample_path = dir.join(SAMPLE_FILE);
    let sample = read_parquet(&sample_path)?;
    let seed = u32_col(&sample, "seed", &sample_path)?
        .first()
        .copied()
        .unwrap_or(0);
    let s_hours: Vec<f64> = f64_col(&sample, "hour", &sample_path)?
        .into_iter()
        .map(|v| v.unwrap_or(0.0))
        .collect();
    let s_mark: Vec<f64> = f64_col(&sample, "mark", &sample_path)?
        .into_iter()
        .map(|v| v.unwrap_or(0.0))
        .collect();
    let s_notional: Vec<f64> = f64_col(&sample, "liquidated_notional", &sample_path)?
        .into_iter()
        .map(|v| v.unwrap_or(0.0))
        .collect();
    let liquidations = s_hours
        .iter()
        .zip(&s_mark)
        .zip(&s_notional)
        .filter(|(_, n)| **n > 0.0)
        .map(|((&h, &m), &n)| (h, m, n))
        .collect();
    let sample_debt: f64 = f64_col(&sample, "bad_debt", &sample_path)?
        .into_iter()
        .flatten()
        .sum();
    emit(
        &SamplePathChart {
            title: format!(
                "A 1-in-100 day (seed {seed}): bad debt {}",
                format_money(sample_debt)
            ),
            hours: s_hours,
            index: f64_col(&sample, "index", &sample_path)?
                .into_iter()
                .map(|v| v.unwrap_or(0.0))
                .collect(),
            mark: s_mark,
            fund: f64_col(&sample, "fund_balance", &sample_path)?
                .into_iter()
                .map(|v| v.unwrap_or(0.0))
                .collect(),
            liquidations,
        },
        &format!(
            "The simulated day whose bad debt is the 99th percentile of {n} ({label}): index and mark, liquidations, and the fund beneath."
        ),
        &mut out,
    )?;

    // report.md
    let markets = read_market_summaries(dir, &exp)?;
    let md = report_markdown(&exp, &summary, &markets, h, n, &charts_md, &out.notes);
    let path = dir.join(REPORT_FILE);
    write_atomic(&path, md.as_bytes()).map_err(|e| err(&path, e))?;
    out.files.push(path);
    Ok(out)
}

/// The per-(cell, market) summaries of `summary_by_market.parquet`, read back through their
/// one declaration: a missing column is an error.
fn read_market_summaries(dir: &Path, exp: &Experiment) -> Result<Vec<MarketSummary>, OutputError> {
    let path = dir.join(SUMMARY_BY_MARKET_PARQUET);
    let df = read_parquet(&path)?;
    let names: Vec<&str> = exp.cells[0]
        .scenario
        .markets()
        .iter()
        .map(|m| m.name())
        .collect();
    let rows =
        super::tables::market_summaries_from_frame(&names, &df).map_err(|e| err(&path, e))?;
    if rows.len() != exp.cells.len() * names.len() {
        return Err(err(
            &path,
            format!(
                "has {} rows but the experiment has {} cells of {} markets",
                rows.len(),
                exp.cells.len(),
                names.len()
            ),
        ));
    }
    Ok(rows)
}

/// With several markets: each market's mean bad debt, what the fund paid for it and the
/// spill-over, per grid cell.
fn markets_section(s: &mut String, exp: &Experiment, markets: &[MarketSummary]) {
    let names: Vec<&str> = exp.cells[0]
        .scenario
        .markets()
        .iter()
        .map(|m| m.name())
        .collect();
    if names.len() < 2 {
        return;
    }
    let _ = writeln!(
        s,
        "## Markets\n\nEach market's mean bad debt, what the fund paid for it, and its *spill-over*: \
         what a shared fund paid for the market beyond that market's own stake (its \
         `fund_weight` share of the fund plus the penalties and fees it paid in), losses that \
         other markets' money covered. Isolated funds have none by construction. Every figure, \
         with its standard error, is in [`{SUMMARY_BY_MARKET_CSV}`]({SUMMARY_BY_MARKET_CSV}); \
         each run's, in `runs_by_market.parquet`.\n"
    );
    let mut header = String::from("|");
    let mut rule = String::from("|");
    for a in &exp.axes {
        let _ = write!(header, " {} |", a.path);
        rule.push_str(" ---: |");
    }
    header.push_str(" market | mean bad debt | P(bad debt) | paid by fund | spill-over (mean) | runs with spill-over |");
    rule.push_str(" --- | ---: | ---: | ---: | ---: | ---: |");
    let _ = writeln!(s, "{header}\n{rule}");
    for (k, m) in markets.iter().enumerate() {
        let cell = &exp.cells[k / names.len()];
        let mut line = String::from("|");
        for (a, v) in exp.axes.iter().zip(&cell.coords) {
            let _ = write!(line, " {} |", axis_text(&a.path, v));
        }
        let _ = writeln!(
            line,
            " {} | {} | {} | {} | {} | {} |",
            names[m.market as usize],
            format_money(m.bad_debt_mean),
            format_pct(m.bad_debt_probability),
            format_money(m.fund_paid_mean),
            format_money(m.spillover_mean),
            format_pct(m.spillover_probability)
        );
        s.push_str(&line);
    }
    s.push('\n');
}

/// A chart, erased to what `emit` needs.
trait ChartEntry {
    fn file_name(&self) -> String;
    fn title(&self) -> String;
    fn render_entry(
        &self,
    ) -> Result<(&'static str, super::charts::Rendered), Box<dyn std::error::Error>>;
}

impl<C: Chart> ChartEntry for C {
    fn file_name(&self) -> String {
        format!("{}.png", self.name())
    }
    fn title(&self) -> String {
        Chart::title(self).to_string()
    }
    fn render_entry(
        &self,
    ) -> Result<(&'static str, super::charts::Rendered), Box<dyn std::error::Error>> {
        Ok((self.name(), render(self)?))
    }
}

/// The headline sentence from the headline cell's summary row: required capital q99, its 95%
/// upper bound (if the runs resolve it), the number of runs and the largest required capital.
pub fn headline(row_q99: f64, row_ub: Option<f64>, runs: u64, max_required: f64) -> String {
    match row_ub {
        _ if max_required <= 0.0 => format!(
            "In {runs} simulated days no deficit ever reached the fund: any fund keeps the chance of depletion on a day like this under {}.",
            pct_short(TARGET)
        ),
        Some(ub) => format!(
            "A fund of **{}** keeps the chance of depletion on a day like this under {}, with 95% confidence (point estimate {}).",
            format_money(ub),
            pct_short(TARGET),
            format_money(row_q99)
        ),
        None => format!(
            "A fund of about **{}** keeps the chance of depletion on a day like this under {} (point estimate: {runs} runs are too few for a 95% upper bound).",
            format_money(row_q99),
            pct_short(TARGET)
        ),
    }
}

fn report_markdown(
    exp: &Experiment,
    summary: &DataFrame,
    markets: &[MarketSummary],
    h: usize,
    n: u64,
    charts_md: &str,
    notes: &[String],
) -> String {
    let head = SummaryRow {
        df: summary,
        row: h,
    };
    let label = cell_text(exp, h);
    let mut s = String::new();
    let _ = writeln!(s, "# Insurance fund study: {}\n", exp.name);
    let question = &exp.resolved.experiment.question;
    if !question.is_empty() {
        let _ = writeln!(s, "**Question.** {question}\n");
    }
    let _ = writeln!(
        s,
        "**Answer.** {} With the fund as configured ({}), the chance is **{}** (95% CI {} to {}).\n",
        if exp.cells[h].scenario.fund_shapes_the_run_before_depletion() {
            "The fund cap makes the run depend on the fund, so this report does not read a fund size off required capital; `backstop calibrate` finds it by bisection.".to_string()
        } else {
            headline(
                head.num("required_capital_q99"),
                head.get("required_capital_q99_ub95"),
                n,
                head.num("required_capital_max"),
            )
        },
        format_money(head.num("fund_initial")),
        format_pct(head.num("depletion_probability")),
        format_pct(head.num("depletion_probability_lo95")),
        format_pct(head.num("depletion_probability_hi95")),
    );
    let _ = writeln!(
        s,
        "On such a day, bad debt exceeds **{}** one time in 20 (VaR95), the worst 1% of days average **{}** (CVaR99), and liquidated traders lose **{}** to slippage on average.\n",
        format_money(head.num("bad_debt_var95")),
        format_money(head.num("bad_debt_cvar99")),
        format_money(head.num("slippage_loss_mean")),
    );
    let _ = writeln!(
        s,
        "Figures are for {label} ({n} simulated days, master seed {}). A day is {} steps of {} s.\n",
        exp.master_seed, exp.resolved.experiment.steps, exp.resolved.experiment.dt_seconds
    );

    let _ = writeln!(s, "## Results by grid cell\n");
    let mut header = String::from("|");
    let mut rule = String::from("|");
    for a in &exp.axes {
        let _ = write!(header, " {} |", a.path);
        rule.push_str(" ---: |");
    }
    header.push_str(" P(depletion) [95% CI] | VaR95 bad debt | CVaR99 bad debt | mean slippage | required capital q99 [95% CI] |");
    rule.push_str(" ---: | ---: | ---: | ---: | ---: |");
    let _ = writeln!(s, "{header}\n{rule}");
    for (c, cell) in exp.cells.iter().enumerate() {
        let r = SummaryRow {
            df: summary,
            row: c,
        };
        let mut line = String::from("|");
        for (a, v) in exp.axes.iter().zip(&cell.coords) {
            let text = axis_text(&a.path, v);
            if c == h {
                let _ = write!(line, " **{text}** |");
            } else {
                let _ = write!(line, " {text} |");
            }
        }
        let bound = |name: &str| {
            r.get(name)
                .map(format_money)
                .unwrap_or_else(|| "n/a".into())
        };
        let _ = writeln!(
            line,
            " {} [{}, {}] | {} | {} | {} | {} [{}, {}] |",
            format_pct(r.num("depletion_probability")),
            format_pct(r.num("depletion_probability_lo95")),
            format_pct(r.num("depletion_probability_hi95")),
            format_money(r.num("bad_debt_var95")),
            format_money(r.num("bad_debt_cvar99")),
            format_money(r.num("slippage_loss_mean")),
            format_money(r.num("required_capital_q99")),
            bound("required_capital_q99_lo95"),
            bound("required_capital_q99_hi95"),
        );
        s.push_str(&line);
    }
    if !exp.axes.is_empty() {
        let _ = writeln!(
            s,
            "\nThe row in bold is the scenario as written; the headline refers to it."
        );
    }
    let _ = writeln!(
        s,
        "\nAll statistics, with standard errors and intervals, are in [`{SUMMARY_CSV}`]({SUMMARY_CSV}).\n"
    );

    markets_section(&mut s, exp, markets);

    let _ = writeln!(s, "## Charts\n\n{charts_md}");
    for note in notes {
        let _ = writeln!(s, "*Not drawn:* {note}.\n");
    }

    let _ = writeln!(s, "## Scenario\n\n| parameter | value |\n| --- | --- |");
    let mut rows = Vec::new();
    if let Ok(v) = toml::Value::try_from(&exp.resolved) {
        flatten("", &v, &mut rows);
    }
    for (k, v) in rows {
        if k == "experiment.question" {
            continue;
        }
        let _ = writeln!(s, "| `{k}` | {} |", v.replace('|', "\\|"));
    }
    for a in &exp.axes {
        let values: Vec<String> = a.values.iter().map(|v| v.to_string()).collect();
        let _ = writeln!(s, "| grid `{}` | {} |", a.path, values.join(", "));
    }

    let _ = writeln!(
        s,
        "\n## Method\n\n\
         backstop simulates the venue one step at a time. The index follows the configured \
         volatility model. Forced closes of liquidated positions move the venue's mark through the \
         order book, and the impact decays with the configured half-life. Every position \
         liquidatable at a step is closed, worst margin first. Penalties feed the insurance fund. \
         Deficits of bankrupt positions are paid by the fund, and once it is empty by \
         auto-deleveraging (or left uncovered). Every grid cell sees the same market shocks for \
         the same seed (common random numbers), so differences between cells are differences of \
         parameters, not of luck.\n\n\
         The fund a day needs is its *required capital*, the largest cumulative excess of payouts \
         over inflows. Without a fund cap, a fund of size F runs dry exactly on the days whose \
         required capital exceeds F, so one batch of runs gives the whole depletion curve. Depletion \
         probabilities carry Wilson 95% intervals. Quantiles are order statistics, with \
         distribution-free binomial confidence bounds. Expected shortfall carries an \
         influence-function standard error. The model is specified in MODEL.md. The resolved \
         experiment in [`{EXPERIMENT_FILE}`]({EXPERIMENT_FILE}) repeats every number here \
         bit for bit."
    );
    let behaviour = exp
        .cells
        .first()
        .map(|c| c.scenario.behaviour_caveat())
        .unwrap_or_default();
    let _ = writeln!(
        s,
        "\n## Caveats\n\n\
         - A simulated day is only as good as its model. {behaviour}\n\
         - Volatility is a fitted model, not history. Check the result against a replay of a \
         real crash before relying on it.\n\
         - Estimates at the 1% level rest on the worst 1% of {n} runs. The intervals say how far \
         they could move with more seeds, not how far the model is from reality.\n\
         - The fund is sized for one day and does not count the revenue that refills it between \
         bad days."
    );
    s
}
