//! The short human summary printed at the end of a run.

use std::fmt::Write;

use crate::config::{Experiment, GridAxis, cell_label};
use crate::montecarlo::{Aggregates, CellSummary};

/// `$1.23M`, `$45.6k`, `$812`: money at a glance (USD).
pub fn format_money(x: f64) -> String {
    let a = x.abs();
    let sign = if x < 0.0 { "-" } else { "" };
    // Thresholds a rounding step below each unit, so that 999,960 reads $1.00M, not $1000.0k.
    if a >= 1e9 - 5e6 {
        format!("{sign}${:.2}B", a / 1e9)
    } else if a >= 1e6 - 50.0 {
        format!("{sign}${:.2}M", a / 1e6)
    } else if a >= 1e3 - 0.5 {
        format!("{sign}${:.1}k", a / 1e3)
    } else {
        format!("{sign}${a:.0}")
    }
}

/// A change in money, signed, in whole dollars: `+$1.20M`, `-$300.0k`, `$0`.
pub fn signed_money(x: f64) -> String {
    let x = x.round();
    if x > 0.0 {
        format!("+{}", format_money(x))
    } else if x < 0.0 {
        format_money(x)
    } else {
        format_money(0.0)
    }
}

/// A probability as a percentage with sensible precision: `0%`, `0.035%`, `1.76%`, `33.4%`.
pub fn format_pct(p: f64) -> String {
    if p == 0.0 {
        "0%".into()
    } else if p < 0.001 {
        format!("{:.3}%", 100.0 * p)
    } else if p < 0.1 {
        format!("{:.2}%", 100.0 * p)
    } else {
        format!("{:.1}%", 100.0 * p)
    }
}

/// What a daily probability means over a year of independent days: a stand-in until
/// horizons model the year itself (MODEL.md section 17).
pub use crate::config::target::over_a_year;

/// A quantile level as a percentile without trailing zeros, to four decimals: `0.99` ->
/// `99`, `0.999` -> `99.9`, `0.99998627` -> `99.9986`.
pub fn percentile(level: f64) -> String {
    let s = format!("{:.4}", 100.0 * level);
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Whether any market of the experiment is a lending market.
fn has_lending(exp: &Experiment) -> bool {
    exp.cells
        .first()
        .is_some_and(|c| c.scenario.markets().iter().any(|m| m.lending().is_some()))
}

fn axis_value(axis: &GridAxis, v: &crate::config::AxisValue) -> String {
    axis_text(&axis.path, v)
}

/// A grid value as people read it: rates and shares in percent, money in dollars.
pub(super) fn axis_text(path: &str, v: &crate::config::AxisValue) -> String {
    match v.as_f64() {
        Some(x) if path.ends_with("rate") || path.ends_with("share") || path.ends_with("mr") => {
            format_pct(x)
        }
        Some(x) if path.starts_with("fund.") || path.ends_with("_usd") => format_money(x),
        _ => v.to_string(),
    }
}

/// The printed summary: one line per cell with the headline figures, each market's figures
/// when there are several, then, for a grid of two axes, the depletion probability as a table.
pub fn summary_text(exp: &Experiment, agg: &Aggregates, seconds: f64) -> String {
    let mut s = String::new();
    let runs = exp.total_runs();
    let _ = writeln!(
        s,
        "backstop: {} | {} cell{} x {} seeds = {} runs in {:.1} s ({:.0} runs/s), master seed {}\n",
        exp.name,
        exp.cells.len(),
        if exp.cells.len() == 1 { "" } else { "s" },
        exp.seeds,
        runs,
        seconds,
        runs as f64 / seconds.max(1e-9),
        exp.master_seed
    );
    let labels = cell_labels(exp);
    cells_table(&mut s, &labels, &agg.summaries);
    if has_lending(exp) {
        yearly_lines(&mut s, &labels, &agg.summaries);
    }
    markets_lines(&mut s, exp, &labels, agg);
    depletion_table(&mut s, exp, &agg.summaries);
    s
}

/// `fund.initial $1.00M, liquidation.penalty_rate 1.00%`, or `the scenario as written`.
pub fn cell_text(exp: &Experiment, c: usize) -> String {
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

/// Each cell's grid values, short: the last part of each axis path, unless another axis ends
/// the same way (`traders.mix.0.share`, `traders.mix.1.share`).
fn cell_labels(exp: &Experiment) -> Vec<String> {
    let last = |p: &str| p.rsplit('.').next().unwrap_or(p).to_string();
    let short = |a: &GridAxis| {
        let clash = exp
            .axes
            .iter()
            .filter(|b| last(&b.path) == last(&a.path))
            .count()
            > 1;
        if clash { a.path.clone() } else { last(&a.path) }
    };
    exp.cells
        .iter()
        .map(|cell| {
            if exp.axes.is_empty() {
                return cell_label(&exp.axes, &cell.coords);
            }
            exp.axes
                .iter()
                .zip(&cell.coords)
                .map(|(a, v)| format!("{}={}", short(a), axis_value(a, v)))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

fn label_width(labels: &[String]) -> usize {
    labels.iter().map(String::len).max().unwrap_or(4).max(4)
}

/// One line per cell: the daily P(depletion) read over a year of independent days.
fn yearly_lines(s: &mut String, labels: &[String], summaries: &[CellSummary]) {
    let w = label_width(labels);
    let _ = writeln!(
        s,
        "\nP(depletion) a day, and over a year if days were independent, 1 - (1 - p)^365:"
    );
    for (label, sm) in labels.iter().zip(summaries) {
        let _ = writeln!(
            s,
            "{label:<w$}  {:>8} a day  {:>7} a year [{}, {}]",
            format_pct(sm.depletion_probability),
            format_pct(over_a_year(sm.depletion_probability)),
            format_pct(over_a_year(sm.depletion_probability_lo95)),
            format_pct(over_a_year(sm.depletion_probability_hi95)),
        );
    }
}

/// One line per cell: depletion, VaR95, CVaR99, slippage and required capital.
fn cells_table(s: &mut String, labels: &[String], summaries: &[CellSummary]) {
    let w = label_width(labels);
    let _ = writeln!(
        s,
        "{:<w$}  {:>22}  {:>10}  {:>18}  {:>16}  {:>24}",
        "cell",
        "P(depletion) [95% CI]",
        "VaR95 debt",
        "CVaR99 debt +-SE",
        "slippage +-SE",
        "required q99 [95% CI]"
    );
    for (label, sm) in labels.iter().zip(summaries) {
        let bound = |b: Option<f64>| b.map(format_money).unwrap_or_else(|| "n/a".into());
        let depletion = format!(
            "{} [{}, {}]",
            format_pct(sm.depletion_probability),
            format_pct(sm.depletion_probability_lo95),
            format_pct(sm.depletion_probability_hi95)
        );
        let cvar = format!(
            "{} +-{}",
            format_money(sm.bad_debt_cvar99),
            bound(sm.bad_debt_cvar99_se)
        );
        let slippage = format!(
            "{} +-{}",
            format_money(sm.slippage_loss_mean),
            bound(sm.slippage_loss_mean_se)
        );
        let required = format!(
            "{} [{}, {}]",
            format_money(sm.required_capital_q99),
            bound(sm.required_capital_q99_lo95),
            bound(sm.required_capital_q99_hi95)
        );
        let var95 = format_money(sm.bad_debt_var95);
        let _ = writeln!(
            s,
            "{label:<w$}  {depletion:>22}  {var95:>10}  {cvar:>18}  {slippage:>16}  {required:>24}"
        );
    }
    let _ = writeln!(
        s,
        "(mean slippage loss per run; required q99: the fund that keeps P(depletion) <= 1%)"
    );
}

/// With several markets: per cell, each market's mean bad debt and what the fund paid for
/// it, and the spill-over onto a shared fund.
fn markets_lines(s: &mut String, exp: &Experiment, labels: &[String], agg: &Aggregates) {
    let markets = exp
        .cells
        .first()
        .map(|c| c.scenario.markets())
        .unwrap_or(&[]);
    if markets.len() < 2 {
        return;
    }
    let names: Vec<&str> = markets.iter().map(|m| m.name()).collect();
    let _ = writeln!(
        s,
        "\nBy market ({}): mean bad debt | mean paid by the fund (its share of all the fund \
         paid); spill-over onto a shared fund",
        names.join(", ")
    );
    let w = label_width(labels);
    let per_cell = agg.market_summaries.chunks(markets.len());
    for ((label, sm), cell_markets) in labels.iter().zip(&agg.summaries).zip(per_cell) {
        let total: f64 = cell_markets.iter().map(|ms| ms.fund_paid_mean).sum();
        let per: Vec<String> = cell_markets
            .iter()
            .zip(&names)
            .map(|(ms, name)| {
                let share = if total > 0.0 {
                    format_pct(ms.fund_paid_mean / total)
                } else {
                    "n/a".into()
                };
                format!(
                    "{name} {} | {} ({share})",
                    format_money(ms.bad_debt_mean),
                    format_money(ms.fund_paid_mean)
                )
            })
            .collect();
        let _ = writeln!(
            s,
            "{:<w$}  {};  spill-over {} +-{} (in {} of runs)",
            label,
            per.join(";  "),
            format_money(sm.spillover_mean),
            sm.spillover_mean_se.map_or("n/a".into(), format_money),
            format_pct(sm.spillover_probability)
        );
    }
}

/// For a grid of two plain axes: P(depletion), rows by the first axis, columns by the second.
fn depletion_table(s: &mut String, exp: &Experiment, summaries: &[CellSummary]) {
    if !(exp.axes.len() == 2 && exp.axes[1].group == 1) {
        return;
    }
    let (rows, cols) = (&exp.axes[0], &exp.axes[1]);
    let _ = writeln!(
        s,
        "\nP(depletion): {} (rows) x {} (columns)",
        rows.path, cols.path
    );
    let _ = write!(s, "{:>14}", "");
    for v in &cols.values {
        let _ = write!(s, "{:>12}", axis_value(cols, v));
    }
    let _ = writeln!(s);
    for (r, rv) in rows.values.iter().enumerate() {
        let _ = write!(s, "{:>14}", axis_value(rows, rv));
        for c in 0..cols.values.len() {
            let sm = &summaries[r * cols.values.len() + c];
            let _ = write!(s, "{:>12}", format_pct(sm.depletion_probability));
        }
        let _ = writeln!(s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_compact() {
        assert_eq!(format_money(1_234_567.0), "$1.23M");
        assert_eq!(format_money(45_600.0), "$45.6k");
        assert_eq!(format_money(-812.4), "-$812");
        assert_eq!(format_money(0.0), "$0");
    }

    /// 1 - (1 - p)^365 by hand for a few p; near 0 it is about 365 p, and the ends stay put.
    #[test]
    fn a_daily_probability_over_a_year_of_independent_days() {
        for p in [0.0019, 0.01, 0.1, 0.5] {
            let direct = 1.0 - (1.0f64 - p).powi(365);
            assert!((over_a_year(p) - direct).abs() < 1e-12, "{p}");
        }
        assert!((over_a_year(1e-12) / 365e-12 - 1.0).abs() < 1e-9);
        assert_eq!(over_a_year(0.0), 0.0);
        assert_eq!(over_a_year(1.0), 1.0);
        // R3's 0.19% a day is half the years.
        assert!((over_a_year(0.0019) - 0.5003).abs() < 1e-3);
    }
}
