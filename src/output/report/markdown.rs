//! The text of `report.md`: the question and its answer, the table by grid cell, each
//! market's figures, the charts, every parameter, the method and the caveats.

use std::fmt::Write as _;

use super::super::paths::{EXPERIMENT_FILE, SUMMARY_BY_MARKET_CSV, SUMMARY_CSV};
use super::super::text::{axis_text, cell_text, format_money, format_pct, over_a_year, percentile};
use super::inputs::Tables;
use super::reading::{CellNeed, HeadlineReading};
use crate::config::file::RecordSection;
use crate::config::target::pct_short;
use crate::config::toml_leaves;
use crate::config::{Experiment, Target};
use crate::montecarlo::contrast::CellContrast;
use crate::montecarlo::record::{FundChange, RecordCell};
use crate::montecarlo::{CellSummary, MarketSummary};
use crate::protocol::LiquidationMode;
use crate::protocol::lending::{LendingStyle, OracleSource};

/// The headline sentence from a cell's need at the target (its `1 - p` quantile of required
/// capital and that quantile's 95% upper bound, if the runs resolve it), the number of runs
/// and the largest required capital.
pub fn headline(
    point: f64,
    ub: Option<f64>,
    runs: u64,
    max_required: f64,
    target: &Target,
) -> String {
    let p = pct_short(target.per_day());
    match ub {
        _ if max_required <= 0.0 => format!(
            "In {runs} simulated days no deficit ever reached the fund: any fund keeps the chance of depletion on a day like this under {p}."
        ),
        Some(ub) => format!(
            "A fund of **{}** keeps the chance of depletion on a day like this under {p}, with 95% confidence (point estimate {}).",
            format_money(ub),
            format_money(point)
        ),
        None => format!(
            "A fund of about **{}** keeps the chance of depletion on a day like this under {p} (point estimate: {runs} runs are too few for a 95% upper bound at this target, which takes at least {}).",
            format_money(point),
            target.runs_for_bound()
        ),
    }
}

/// The whole of `report.md`.
pub(super) fn report(t: &Tables, charts_md: &str, notes: &[String]) -> String {
    let mut s = String::new();
    answer(&mut s, t);
    super::realism::section(&mut s, t);
    super::drivers::section(&mut s, t);
    cells_table(&mut s, t);
    contrast_section(&mut s, t);
    record_section(&mut s, t);
    markets_section(&mut s, &t.exp, &t.markets);
    lending_section(&mut s, t);
    super::map::section(&mut s, t);
    let _ = writeln!(s, "## Charts\n\n{charts_md}");
    for note in notes {
        let _ = writeln!(s, "*Not drawn:* {note}.\n");
    }
    scenario(&mut s, &t.exp);
    method(&mut s, &t.exp);
    caveats(&mut s, t);
    s
}

/// The title, the question, and the answer in a few sentences.
fn answer(s: &mut String, t: &Tables) {
    let (exp, head, n) = (&t.exp, t.head(), t.n());
    let _ = writeln!(s, "# Insurance fund study: {}\n", exp.name);

    let question = &exp.resolved.experiment.question;
    if !question.is_empty() {
        let _ = writeln!(s, "**Question.** {question}\n");
    }
    let _ = writeln!(
        s,
        "**Target.** The fund may run dry on at most {}; `experiment.target = {}` sets it.\n",
        exp.target,
        exp.target.as_toml()
    );
    let sentence = headline_sentence(exp, &t.needs, t.h, n);
    let configured = if exp.axes.is_empty() || exp.headline_on_grid().is_some() {
        "With the fund as configured".to_string()
    } else {
        format!(
            "The file's own values are not a cell of the grid, so this report reads its first cell ({}): with its fund",
            cell_text(exp, t.h)
        )
    };
    let _ = writeln!(
        s,
        "**Answer.** {sentence} {configured} ({}), the chance is **{}** (95% CI {} to {}).\n",
        format_money(head.fund_initial),
        format_pct(head.depletion_probability),
        format_pct(head.depletion_probability_lo95),
        format_pct(head.depletion_probability_hi95),
    );
    let _ = writeln!(
        s,
        "That is a chance a day. Over a year of 365 such days, were days independent, it \
         would be **{}** (95% CI {} to {}), `1 - (1 - p)^365`; days are not independent \
         (volatility clusters, and a crash day is not an ordinary one), so read it as an \
         order of magnitude until the model has horizons.\n",
        format_pct(over_a_year(head.depletion_probability)),
        format_pct(over_a_year(head.depletion_probability_lo95)),
        format_pct(over_a_year(head.depletion_probability_hi95)),
    );
    let markets = exp.cells[t.h].scenario.markets();
    let lending_only = markets.iter().all(|m| m.lending().is_some());
    let who = if lending_only {
        "keepers lose"
    } else {
        "liquidated traders lose"
    };
    let _ = writeln!(
        s,
        "On such a day, bad debt exceeds **{}** one time in 20 (VaR95), the worst 1% of days average **{}** (CVaR99), and {who} **{}** to slippage on average.\n",
        format_money(head.bad_debt_var95),
        format_money(head.bad_debt_cvar99),
        format_money(head.slippage_loss_mean),
    );
    takeover_sentence(s, head);
    let _ = writeln!(
        s,
        "Figures are for {} ({n} simulated days, master seed {}). A day is {} steps of {} s.\n",
        cell_text(exp, t.h),
        exp.master_seed,
        exp.resolved.experiment.steps,
        exp.resolved.experiment.dt_seconds
    );
}

/// The headline sentence: a fund size read off required capital where the fund's size does
/// not shape the run before depletion, else where to find it.
pub(super) fn headline_sentence(
    exp: &Experiment,
    needs: &[Option<CellNeed>],
    h: usize,
    n: u64,
) -> String {
    if exp.cells[h].scenario.fund_shapes_the_run_before_depletion() {
        "The fund's size shapes the run before it runs dry (a cap sweeps its excess to treasury, or Comet's store front opens only below its target reserves), so this report does not read a fund size off required capital; `backstop calibrate` finds it by bisection.".to_string()
    } else {
        read_headline(exp, needs, h, n)
    }
}

/// The headline sentence, read from runs whose fund lasted ([`HeadlineReading`]).
fn read_headline(exp: &Experiment, needs: &[Option<CellNeed>], h: usize, n: u64) -> String {
    let target = &exp.target;
    let p = pct_short(target.per_day());
    let nth = format!("{}th", percentile(target.level()));
    let ran_dry = format!(
        "the configured fund runs dry on more than {p} of days, and a run whose fund is gone goes on without it (auto-deleveraging or socialized losses take the deficits)"
    );
    let said = |need: &CellNeed| headline(need.point, need.ub95, n, need.max, target);
    let Some(own) = needs[h] else {
        return "The headline cell has no runs to read a fund size from.".into();
    };
    match HeadlineReading::of(exp, needs, h) {
        HeadlineReading::Own => said(&own),
        HeadlineReading::LargerFund(other) => format!(
            "{} This is read from the cell whose fund is {} (otherwise the same): {ran_dry}, so the configured cell's own {nth} percentile ({}) is not the need of a fund that lasts.",
            said(&other),
            format_money(other.fund),
            format_money(own.point),
        ),
        HeadlineReading::CutShort { point_holds: true } => format!(
            "A fund of about **{}** keeps the chance of depletion on a day like this under {p} (point estimate); its 95% upper bound lies beyond the cell's fund of {}, where runs stop counting their need, so these runs cannot bound it: add a larger fund to the grid or run `backstop calibrate`, whose fund no deficit exhausts.",
            format_money(own.point),
            format_money(own.fund),
        ),
        HeadlineReading::CutShort { point_holds: false } => format!(
            "These runs cannot say what fund keeps the chance of depletion under {p}: {ran_dry}, so a run's need is no longer that of a fund that lasts. It is more than the configured {}, and their {nth} percentile ({}) is not the answer. No cell of the grid has a fund large enough to read it from; add one, or run `backstop calibrate`, whose fund no deficit exhausts.",
            format_money(own.fund),
            format_money(own.point),
        ),
    }
}

/// Where the fund (or a vault) took positions over (MODEL.md section 4), its loss comes
/// from the inventory it holds, not from bad debt: say how far under water that stood.
fn takeover_sentence(s: &mut String, head: &CellSummary) {
    if head.taken_over_probability == 0.0 {
        return;
    }
    let _ = writeln!(
        s,
        "Liquidation orders here are limited, and what the book does not fill is taken over: on {} of days the fund inherits positions ({} a day on average). Its loss then comes from that inventory, marked to the mark, not from bad debt: at its worst it stood **{}** under water on average, and **{}** one day in 100 (95% CI {} to {}); selling it back to the book {} **{}** a day on average. Depletion and required capital read the fund's cash plus this inventory.\n",
        format_pct(head.taken_over_probability),
        format_money(head.taken_over_notional_mean),
        format_money(head.inventory_peak_loss_mean),
        format_money(head.inventory_peak_loss_p99),
        head.inventory_peak_loss_p99_lo95
            .map_or("n/a".into(), format_money),
        head.inventory_peak_loss_p99_hi95
            .map_or("n/a".into(), format_money),
        if head.inventory_pnl_mean < 0.0 {
            "lost"
        } else {
            "gained"
        },
        format_money(head.inventory_pnl_mean.abs()),
    );
    if head.early_adl_probability > 0.0 {
        let _ = writeln!(
            s,
            "The fund's early auto-deleveraging (a drawdown within its window) fired on {} of days (95% CI {} to {}).\n",
            format_pct(head.early_adl_probability),
            format_pct(head.early_adl_probability_lo95),
            format_pct(head.early_adl_probability_hi95),
        );
    }
}

/// The table of results by grid cell, the headline cell in bold.
fn cells_table(s: &mut String, t: &Tables) {
    let exp = &t.exp;
    let _ = writeln!(s, "## Results by grid cell\n");
    let mut header = String::from("|");
    let mut rule = String::from("|");
    for a in &exp.axes {
        let _ = write!(header, " {} |", a.path);
        rule.push_str(" ---: |");
    }
    let target = &exp.target;
    let _ = write!(
        header,
        " P(depletion) [95% CI] | VaR95 bad debt | CVaR99 bad debt | mean slippage | required capital at {} a day [95% CI] |",
        pct_short(target.per_day())
    );
    rule.push_str(" ---: | ---: | ---: | ---: | ---: |");
    let _ = writeln!(s, "{header}\n{rule}");
    let bound = |b: Option<f64>| b.map(format_money).unwrap_or_else(|| "n/a".into());
    // A quantile at or above its cell's fund counts runs cut short when the fund ran dry.
    let cut_short = |q: f64, fund: f64| {
        if q >= fund && q > 0.0 {
            format!("{} †", format_money(q))
        } else {
            format_money(q)
        }
    };
    let mut any_cut = false;
    for (c, ((cell, r), need)) in exp.cells.iter().zip(&t.summaries).zip(&t.needs).enumerate() {
        let mut line = String::from("|");
        for (a, v) in exp.axes.iter().zip(&cell.coords) {
            let text = axis_text(&a.path, v);
            if c == t.h {
                let _ = write!(line, " **{text}** |");
            } else {
                let _ = write!(line, " {text} |");
            }
        }
        let _ = writeln!(
            line,
            " {} [{}, {}] | {} | {} | {} | {} [{}, {}] |",
            format_pct(r.depletion_probability),
            format_pct(r.depletion_probability_lo95),
            format_pct(r.depletion_probability_hi95),
            format_money(r.bad_debt_var95),
            format_money(r.bad_debt_cvar99),
            format_money(r.slippage_loss_mean),
            need.map_or("n/a".into(), |n| cut_short(n.point, n.fund)),
            bound(need.and_then(|n| n.lo95)),
            bound(need.and_then(|n| n.hi95)),
        );
        any_cut |= need.is_some_and(|n| n.point >= n.fund && n.max > 0.0);
        s.push_str(&line);
    }
    if !exp.axes.is_empty() {
        let bold = if exp.headline_on_grid().is_some() {
            "The row in bold is the scenario as written; the headline refers to it."
        } else {
            "No row is the scenario as written (its values are not on the grid); the headline refers to the row in bold, the grid's first."
        };
        let _ = writeln!(s, "\n{bold}");
    }
    if any_cut {
        let _ = writeln!(
            s,
            "\n† The fund of that row runs dry on more than {} of days, and a run whose fund is gone goes on without it (auto-deleveraging takes the deficits), so its {}th percentile is not the need of a fund that lasts. A row with the same other values and a fund above its 95% bound reads it exactly.",
            pct_short(target.per_day()),
            percentile(target.level())
        );
    }
    let _ = writeln!(
        s,
        "\nAll statistics, with standard errors and intervals, are in [`{SUMMARY_CSV}`]({SUMMARY_CSV}).\n"
    );
}

/// A share of open interest, signed, in percent with three significant digits.
fn signed_pct_of_oi(x: f64) -> String {
    if x == 0.0 {
        return "0".into();
    }
    let digits = (2 - (100.0 * x.abs()).log10().floor() as i32).clamp(0, 6) as usize;
    format!("{:+.*}%", digits, 100.0 * x)
}

/// A backtest's record (MODEL.md section 16) beside the headline cell's simulated
/// distribution, and where the two disagree.
fn record_section(s: &mut String, t: &Tables) {
    let Some(record) = &t.exp.resolved.experiment.record else {
        return;
    };
    let Some(cell) = t.record.get(t.h).and_then(Option::as_ref) else {
        return;
    };
    record_table(s, t, record, cell);
    record_verdict(s, record, cell);
    if !record.assumed.is_empty() {
        let _ = writeln!(s, "Inputs the simulation had to assume:\n");
        for a in &record.assumed {
            let _ = writeln!(s, "- {a}");
        }
        let _ = writeln!(s);
    }
    sensitivity_table(s, t, record);
}

/// The record's figures beside the headline cell's, one row each.
fn record_table(s: &mut String, t: &Tables, record: &RecordSection, cell: &RecordCell) {
    let head = t.head();
    let FundChange { p5, p50, p95 } = cell.fund_change;
    let (lo, hi) = cell.socialized_ci;
    let venue = &t.exp.resolved.experiment.venue;
    let _ = writeln!(
        s,
        "## Record\n\nWhat was reported ({}), beside the headline cell's {} simulated runs ({}){}.\n\n| figure | record | simulated |\n| --- | ---: | ---: |",
        record.source,
        cell.runs,
        cell_text(&t.exp, t.h),
        if venue.is_empty() {
            String::new()
        } else {
            format!(
                " on the `{venue}` venue preset (`backstop presets {venue}` prints its rules and sources)"
            )
        }
    );
    let money = |x: Option<f64>| x.map(format_money).unwrap_or_else(|| "not reported".into());
    let _ = writeln!(
        s,
        "| fund change | {} | median {} (90% of runs from {} to {}) |",
        money(record.fund_change_usd),
        format_money(p50),
        format_money(p5),
        format_money(p95)
    );
    coin_rows(s, record, cell);
    let yes_no = |b: Option<bool>| match b {
        Some(true) => "yes",
        Some(false) => "no",
        None => "not reported",
    };
    let _ = writeln!(
        s,
        "| ADL or socialized losses | {} | in {} of runs [{}, {}] |",
        yes_no(record.adl),
        format_pct(cell.p_socialized()),
        format_pct(lo),
        format_pct(hi)
    );
    let _ = writeln!(
        s,
        "| injection | {} | bad debt left uncovered: mean {} |",
        money(record.injection_usd),
        format_money(head.bad_debt_uncovered_mean)
    );
    let _ = writeln!(
        s,
        "| bad debt | not reported | mean {}, VaR95 {} |\n",
        format_money(head.bad_debt_mean),
        format_money(head.bad_debt_var95)
    );
}

/// The figures of a fund held in coin: each one's name, the record's value and the cell's
/// simulated points (`None` for a fund held in USD).
fn coin_figures(
    record: &RecordSection,
    cell: &RecordCell,
) -> [(&'static str, Option<f64>, Option<FundChange>); 2] {
    [
        (
            "fund change in its coin",
            record.fund_change_coin,
            cell.fund_change_coin,
        ),
        (
            "inventory's peak loss in its coin",
            record.inventory_peak_loss_coin,
            cell.inventory_peak_loss_coin,
        ),
    ]
}

/// A fund held in coin: its change and its inventory's peak loss in coins, beside the record.
fn coin_rows(s: &mut String, record: &RecordSection, cell: &RecordCell) {
    let coins = |x: f64| format!("{x:+.0}");
    for (figure, reported, simulated) in coin_figures(record, cell) {
        let Some(q) = simulated else { continue };
        let _ = writeln!(
            s,
            "| {figure} | {} | median {} (90% of runs from {} to {}) |",
            reported.map_or_else(|| "not reported".into(), coins),
            coins(q.p50),
            coins(q.p5),
            coins(q.p95)
        );
    }
}

/// Whether the model and the record agree, in a sentence.
fn record_verdict(s: &mut String, record: &RecordSection, cell: &RecordCell) {
    let disagree = disagreements(record, cell);
    let reported = record.reports_anything();
    if !reported {
        let _ = writeln!(
            s,
            "The record reports no fund change and no word on ADL: there is nothing to set the model against, only its own distribution.\n"
        );
    } else if disagree.is_empty() {
        let _ = writeln!(
            s,
            "The model and the record agree on every figure reported.\n"
        );
    } else {
        let _ = writeln!(s, "**Where they disagree:** {}.\n", disagree.join("; "));
    }
}

/// Where a cell's simulated figures and the record part: a reported fund change outside the
/// simulated 90% band, or ADL whose 95% interval excludes what was reported.
fn disagreements(record: &RecordSection, cell: &RecordCell) -> Vec<String> {
    let FundChange { p5, p95, .. } = cell.fund_change;
    let (lo, hi) = cell.socialized_ci;
    let mut disagree = Vec::new();
    if let Some(f) = record.fund_change_usd
        && !(p5..=p95).contains(&f)
    {
        disagree.push(format!(
            "the reported fund change ({}) lies outside the simulated 90% band",
            format_money(f)
        ));
    }
    for (figure, reported, simulated) in coin_figures(record, cell) {
        if let (Some(f), Some(q)) = (reported, simulated)
            && !(q.p5..=q.p95).contains(&f)
        {
            disagree.push(format!(
                "the reported {figure} ({f:+.0}) lies outside the simulated 90% band"
            ));
        }
    }
    // The record is one day: the model disagrees when it makes what happened a less than
    // 5% event, its whole 95% interval saying so (the fund's band is the same 5% a side).
    match record.adl {
        Some(false) if lo > 0.95 => disagree.push(format!(
            "the record has no ADL, the model has it in {} of runs",
            format_pct(cell.p_socialized())
        )),
        Some(true) if hi < 0.05 => disagree.push(format!(
            "the record has ADL, the model in only {} of runs",
            format_pct(cell.p_socialized())
        )),
        _ => {}
    }
    disagree
}

/// Every cell beside the record: the grid's axes are the assumed inputs, so the rows are the
/// answer's sensitivity to them.
fn sensitivity_table(s: &mut String, t: &Tables, record: &RecordSection) {
    let exp = &t.exp;
    if exp.axes.is_empty() || t.record.len() != exp.cells.len() {
        return;
    }
    let _ = writeln!(
        s,
        "### Sensitivity to the assumed inputs\n\nEvery cell of the grid beside the record (the headline cell in bold). \"agrees\": each reported figure of the fund lies inside the cell's 90% band and ADL's 95% interval holds what was reported.\n"
    );
    let mut header = String::from("|");
    let mut rule = String::from("|");
    for a in &exp.axes {
        let _ = write!(header, " {} |", a.path);
        rule.push_str(" ---: |");
    }
    header.push_str(" fund change: median [5%, 95%] |");
    rule.push_str(" ---: |");
    let in_coin = t
        .record
        .iter()
        .flatten()
        .any(|r| r.fund_change_coin.is_some());
    if in_coin {
        header.push_str(" in its coin |");
        rule.push_str(" ---: |");
    }
    header.push_str(" P(ADL or socialized) [95% CI] | mean bad debt | agrees |");
    rule.push_str(" ---: | ---: | :--- |");
    let _ = writeln!(s, "{header}\n{rule}");
    let mut agreeing = 0;
    for (c, (cell, figures)) in exp.cells.iter().zip(&t.record).enumerate() {
        let bold = |x: String| if c == t.h { format!("**{x}**") } else { x };
        let mut row = String::from("|");
        for (a, v) in exp.axes.iter().zip(&cell.coords) {
            let _ = write!(row, " {} |", bold(axis_text(&a.path, v)));
        }
        // A cell without runs has no figures to set beside the record.
        let Some(figures) = figures else {
            let coin = if in_coin { " n/a |" } else { "" };
            let _ = writeln!(s, "{row} n/a |{coin} n/a | n/a | n/a |");
            continue;
        };
        let agrees = disagreements(record, figures).is_empty();
        agreeing += usize::from(agrees);
        sensitivity_figures(s, &row, record, figures, agrees);
    }
    if record.reports_anything() {
        let _ = writeln!(
            s,
            "\nThe record agrees with {agreeing} of {} cells.\n",
            exp.cells.len()
        );
    } else {
        let _ = writeln!(s);
    }
}

/// The figures of one cell's row of the sensitivity table, after its coordinates `row`.
fn sensitivity_figures(
    s: &mut String,
    row: &str,
    record: &RecordSection,
    figures: &RecordCell,
    agrees: bool,
) {
    let FundChange { p5, p50, p95 } = figures.fund_change;
    let (lo, hi) = figures.socialized_ci;
    let reported = record.reports_anything();
    let coin = figures.fund_change_coin.map_or_else(String::new, |c| {
        format!(" {:+.0} [{:+.0}, {:+.0}] |", c.p50, c.p5, c.p95)
    });
    let _ = writeln!(
        s,
        "{row} {} [{}, {}] |{coin} {} [{}, {}] | {} | {} |",
        format_money(p50),
        format_money(p5),
        format_money(p95),
        format_pct(figures.p_socialized()),
        format_pct(lo),
        format_pct(hi),
        format_money(figures.bad_debt_mean),
        match (reported, agrees) {
            (false, _) => "n/a",
            (true, true) => "yes",
            (true, false) => "no",
        }
    );
}

/// With a contrast axis: each cell set against its baseline cell on common seeds.
fn contrast_section(s: &mut String, t: &Tables) {
    if t.contrasts.is_empty() {
        return;
    }
    let exp = &t.exp;
    let Some(a) = exp.contrast_axis() else { return };
    let axis = &exp.axes[a];
    let baseline = axis_text(&axis.path, &axis.values[0]);
    let _ = writeln!(
        s,
        "## Against the baseline (`{}` = {baseline})

Each cell minus the cell with `{}` at {baseline} and the same other coordinates, on the same seeds (the same market and the same accounts), over open interest. Bad debt: the mean of the paired differences with its 95% interval. Fund: the difference of the 1% funds (q99 of required capital), with a 95% bootstrap interval over seeds. **more** / **less**: the whole interval lies above / below 0. The last two columns are the cell's own voluntary closes and its net signed voluntary flow inside cascades (negative: its traders sold into the cascades), each over open interest.\n",
        axis.path, axis.path
    );
    let mut header = String::from("|");
    let mut rule = String::from("|");
    for a in &exp.axes {
        let _ = write!(header, " {} |", a.path);
        rule.push_str(" ---: |");
    }
    header.push_str(" bad debt / OI [95% CI] | | 1% fund / OI [95% CI] | | voluntary closes / OI | voluntary flow in cascades / OI (se) |");
    rule.push_str(" ---: | :--- | ---: | :--- | ---: | ---: |");
    let _ = writeln!(s, "{header}\n{rule}");
    let word = |lo: f64, hi: f64| match CellContrast::sign(lo, hi) {
        1 => "**more**",
        -1 => "**less**",
        _ => "unsettled",
    };
    let (mut more, mut less) = (0, 0);
    let (mut debt_more, mut debt_less) = (0, 0);
    for c in &t.contrasts {
        let mut line = String::from("|");
        for (a, v) in exp.axes.iter().zip(&exp.cells[c.cell].coords) {
            let _ = write!(line, " {} |", axis_text(&a.path, v));
        }
        match CellContrast::sign(c.capital_lo95, c.capital_hi95) {
            1 => more += 1,
            -1 => less += 1,
            _ => {}
        }
        match CellContrast::sign(c.bad_debt_lo95, c.bad_debt_hi95) {
            1 => debt_more += 1,
            -1 => debt_less += 1,
            _ => {}
        }
        let _ = writeln!(
            line,
            " {} [{}, {}] | {} | {} [{}, {}] | {} | {} | {} ({}) |",
            signed_pct_of_oi(c.bad_debt),
            signed_pct_of_oi(c.bad_debt_lo95),
            signed_pct_of_oi(c.bad_debt_hi95),
            word(c.bad_debt_lo95, c.bad_debt_hi95),
            signed_pct_of_oi(c.capital),
            signed_pct_of_oi(c.capital_lo95),
            signed_pct_of_oi(c.capital_hi95),
            word(c.capital_lo95, c.capital_hi95),
            signed_pct_of_oi(c.voluntary),
            signed_pct_of_oi(c.cascade_flow),
            signed_pct_of_oi(c.cascade_flow_se).trim_start_matches('+'),
        );
        s.push_str(&line);
    }
    let n = t.contrasts.len();
    let _ = writeln!(
        s,
        "\nOf {n} cells set against their baseline, {more} need a larger 1% fund, {less} a smaller one, and {} are not settled at 95% by {} seeds. Mean bad debt is larger in {debt_more}, smaller in {debt_less} and not settled in {}.\n",
        n - more - less,
        t.contrasts[0].runs,
        n - debt_more - debt_less,
    );
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

/// Which stake the fund is (MODEL.md section 14, "Which stake"): one debt asset's, shared by
/// every lending market that borrows it, with each collateral's share of what it paid; or,
/// with one lending market, only the slice of that stake its collateral draws on.
fn stake_paragraph(s: &mut String, t: &Tables) {
    let scenario = &t.exp.cells[t.h].scenario;
    let markets = scenario.markets();
    let lending: Vec<usize> = (0..markets.len())
        .filter(|&m| markets[m].lending().is_some())
        .collect();
    let Some(&first) = lending.first() else {
        return;
    };
    let asset = markets[first].lending().and_then(|l| l.debt_asset());
    let same_asset = lending
        .iter()
        .all(|&m| markets[m].lending().and_then(|l| l.debt_asset()) == asset);
    let stake = match asset {
        Some(a) if same_asset => format!("the {a} stake"),
        _ => "the debt asset's stake".to_string(),
    };
    let shared = scenario.fund_shares_of_total().len() == 1;
    if lending.len() == 1 || !shared {
        let _ = writeln!(
            s,
            "**Which stake.** A backstop covers its debt asset's deficits from every \
             collateral at once (an Umbrella stake; Comet's reserves, for its base asset); this \
             study sizes only the slice of {stake} that `{}` loans draw on.\n",
            markets[first].name()
        );
        return;
    }
    let per_cell = markets.len();
    let paid = |m: usize| {
        t.markets
            .get(t.h * per_cell + m)
            .map_or(0.0, |r| r.fund_paid_mean)
    };
    let total: f64 = lending.iter().map(|&m| paid(m)).sum();
    let shares: Vec<String> = lending
        .iter()
        .map(|&m| {
            let share = if total > 0.0 {
                format_pct(paid(m) / total)
            } else {
                "n/a".into()
            };
            format!("`{}` {share}", markets[m].name())
        })
        .collect();
    let _ = writeln!(
        s,
        "**Which stake.** The fund is {stake}: one stake shared by the {} lending markets whose \
         loans borrow it, one per collateral. Each collateral's share of the stake's draws \
         (the deficits it paid for that market over all it paid, {} a day on average): {}.\n",
        lending.len(),
        format_money(total),
        shares.join(", ")
    );
}

/// Lending markets (MODEL.md section 14): the stake, the health factor and the keepers, in
/// the headline cell.
fn lending_section(s: &mut String, t: &Tables) {
    let exp = &t.exp;
    let markets = exp.cells[t.h].scenario.markets();
    let per_cell = markets.len();
    let head = t.head();
    stake_paragraph(s, t);
    for (m, market) in markets.iter().enumerate() {
        let (Some(l), Some(row)) = (market.lending(), t.markets.get(t.h * per_cell + m)) else {
            continue;
        };
        let lt = l.terms().style().liquidation_threshold();
        let reads = match l.terms().source() {
            OracleSource::Index => "which reads the index",
            OracleSource::Market => "which reads the market's book (keepers' sales move it)",
        };
        let flash = matches!(
            exp.cells[t.h].scenario.liquidation.mode(),
            LiquidationMode::Keeper(k) if k.flash()
        );
        let funding = if flash {
            "fund what they pay with flash loans"
        } else {
            "pay from their capital"
        };
        let _ = writeln!(
            s,
            "## Lending market `{}`\n\n\
             {} borrowers, `{}` liquidations. A loan is liquidatable when its health factor, \
             `collateral x oracle x {lt} / debt`, falls under 1 on the protocol's oracle, \
             {reads}; keepers {funding} and liquidate when the collateral they receive, sold \
             into the market's book, pays for the debt they repay, the slippage and their gas \
             (Aave: repaying the amount that pays them most within the close factor). The \
             backstop (the fund: an Umbrella stake, Comet reserves, Maker's surplus) pays the \
             bad debt a loan leaves when its collateral is gone.\n",
            market.name(),
            l.borrowers(),
            l.style_name(),
        );
        if let LendingStyle::Comet { rules, .. } = l.terms().style() {
            let _ = writeln!(
                s,
                "Under Compound III's rules no purchase is needed: any keeper absorbs a \
                 liquidatable loan for gas alone, and the reserves (the fund) hold what they \
                 absorb, marked at the oracle in their balance, selling it at the store front \
                 only while their cash is below the target reserves ({}).\n",
                format_money(rules.target_reserves()),
            );
        }
        lending_figures(s, row, head.keeper_profit_mean);
        let behavior = l.terms().behavior();
        if !behavior.is_static() {
            // A way of acting that is not configured is taken by none of the borrowers.
            let acting = BorrowersActing {
                defend: behavior.defend.map_or(0.0, |d| d.share()),
                looping: behavior.looping.map_or(0.0, |o| o.share()),
                derisk: behavior.derisk.map(|r| r.share()),
            };
            borrowers_acting(s, &acting, row);
        }
        if row.underwater_debt_mean > row.bad_debt_mean {
            let _ = writeln!(
                s,
                "More debt is under water at the end of the day than was recognised as bad \
                 debt: loans no keeper liquidated sank below their debt without their deficit \
                 reaching the fund. Size the backstop on insolvent debt, not on bad debt \
                 alone.\n"
            );
        }
    }
}

/// A lending market's figures in the headline cell; `keeper_profit` is over all markets.
fn lending_figures(s: &mut String, row: &MarketSummary, keeper_profit: f64) {
    let gap = row
        .worst_oracle_gap
        .map_or_else(|| "n/a".to_string(), |g| format!("{g:.4}"));
    let _ = writeln!(
        s,
        "| figure (mean per day unless stated) | value |\n\
         | --- | ---: |\n\
         | debt at t = 0 | {} |\n\
         | debt repaid by liquidations | {} |\n\
         | LaR95: p95 of the debt liquidated in a day | {} |\n\
         | collateral seized, at the oracle | {} |\n\
         | bad debt | {} |\n\
         | underwater debt at the end (collateral no longer covers it; not yet bad debt) | {} |\n\
         | VaR95 of insolvent debt (bad + underwater) | {} |\n\
         | keepers' profit (all markets) | {} |\n\
         | keeper incentives paid by the fund | {} |\n\
         | protocol fees | {} |\n\
         | loans left waiting for a keeper at the end | {:.1} |\n\
         | worst oracle / index ratio in any run | {gap} |\n",
        format_money(row.open_interest_mean),
        format_money(row.liquidation_notional_mean),
        format_money(row.liquidated_notional_lar95),
        format_money(row.seized_value_mean),
        format_money(row.bad_debt_mean),
        format_money(row.underwater_debt_mean),
        format_money(row.insolvent_debt_var95),
        format_money(keeper_profit),
        format_money(row.keeper_incentives_mean),
        format_money(row.protocol_fees_mean),
        row.left_waiting_mean,
    );
}

/// The shares of a lending market's borrowers who act each way.
struct BorrowersActing {
    defend: f64,
    looping: f64,
    /// `None`: de-risking is not configured, and the report does not mention it.
    derisk: Option<f64>,
}

/// What the borrowers who act did: defended, looped and de-risked.
fn borrowers_acting(s: &mut String, acting: &BorrowersActing, row: &MarketSummary) {
    let _ = writeln!(
        s,
        "Borrowers act: {} defend (from a reserve, while the health factor is under \
         its band but not yet under 1) and spent {} a day; {} loop (borrowing back to \
         the LTV they opened at when the price has risen) and took on {} of new debt \
         a day.\n",
        format_pct(acting.defend),
        format_money(row.defender_spend_mean),
        format_pct(acting.looping),
        format_money(row.looped_debt_mean),
    );
    if let Some(share) = acting.derisk {
        let _ = writeln!(
            s,
            "{} de-risk (selling collateral into the book to repay part of their debt \
             once the market's liquidations pass their threshold) and repaid {} a \
             day.\n",
            format_pct(share),
            format_money(row.derisked_debt_mean),
        );
    }
}

/// Every parameter of the scenario as resolved that the run reads, and the grid.
fn scenario(s: &mut String, exp: &Experiment) {
    let _ = writeln!(s, "## Scenario\n\n| parameter | value |\n| --- | --- |");
    let mut rows = Vec::new();
    if let Ok(v) = toml::Value::try_from(&exp.resolved) {
        toml_leaves("", &v, &mut rows);
    }
    let (perps, _) = kinds(exp);
    let mut left_out = 0;
    for (k, v) in rows {
        if k == "experiment.question" {
            continue;
        }
        if !perps && perp_only(&k) {
            left_out += 1;
            continue;
        }
        let _ = writeln!(s, "| `{k}` | {} |", v.replace('|', "\\|"));
    }
    for a in &exp.axes {
        let values: Vec<String> = a.values.iter().map(|v| v.to_string()).collect();
        let _ = writeln!(s, "| grid `{}` | {} |", a.path, values.join(", "));
    }
    if left_out > 0 {
        let _ = writeln!(
            s,
            "\nLeft out, as this run has no perp market to read them: {left_out} parameters of \
             perp traders (`traders`), their margins (`margin`), the engine's liquidation rules \
             (`liquidation`, but for `mode` and `keepers`) and auto-deleveraging \
             (`fund.adl_*`). [`{EXPERIMENT_FILE}`]({EXPERIMENT_FILE}) holds them at their \
             defaults."
        );
    }
}

/// A parameter only a perp market reads: its traders and margins, the engine's liquidation
/// rules (a lending market's keepers have their own table) and ADL (lenders hold no position
/// to deleverage). Checked on the lending example: each, moved alone on a grid, leaves every
/// figure unchanged or is refused with keepers.
fn perp_only(key: &str) -> bool {
    key.starts_with("traders.")
        || key.starts_with("margin.")
        || key.starts_with("fund.adl_")
        || key
            .strip_prefix("liquidation.")
            .is_some_and(|rest| rest != "mode" && !rest.starts_with("keepers."))
}

/// How the numbers were made.
fn method(s: &mut String, exp: &Experiment) {
    let (perps, lending) = kinds(exp);
    let _ = writeln!(
        s,
        "\n## Method\n\nbackstop simulates the venue one step at a time. The index follows the configured price model."
    );
    if perps {
        let _ = writeln!(
            s,
            "On a perp market, forced closes of liquidated positions move the venue's book, and the \
             impact decays with the configured half-life; the mark follows the venue's rule. Every \
             position liquidatable at a step is closed, worst margin first, as the venue's \
             liquidation orders allow. Penalties feed the insurance fund. Deficits of bankrupt \
             positions are paid by the fund, and once it is empty by auto-deleveraging (or left \
             uncovered)."
        );
    }
    if lending {
        let _ = writeln!(
            s,
            "On a lending market, a loan whose health factor falls under 1 on the protocol's oracle \
             is liquidated as its contracts run it (keepers repaying within the close factor, an \
             auction, or an absorb), the seized collateral sold into the market's book. A loan \
             whose collateral is gone leaves bad debt, which the backstop (the fund) pays, and \
             what it cannot pay is left to the lenders."
        );
    }
    let _ = writeln!(
        s,
        "Every grid cell sees the same market shocks for the same seed (common random numbers), \
         so differences between cells are differences of parameters, not of luck.\n\n\
         The fund a run needs is its *required capital*, the largest cumulative excess of payouts \
         over inflows. Without a fund cap, a fund of size F runs dry exactly on the runs whose \
         required capital exceeds F, so one batch of runs gives the whole depletion curve. Depletion \
         probabilities carry Wilson 95% intervals. Quantiles are order statistics, with \
         distribution-free binomial confidence bounds. Expected shortfall carries an \
         influence-function standard error. The model is specified in MODEL.md. The resolved \
         experiment in [`{EXPERIMENT_FILE}`]({EXPERIMENT_FILE}) repeats every number here \
         bit for bit."
    );
}

/// Whether the headline cell has perp markets, and lending markets.
fn kinds(exp: &Experiment) -> (bool, bool) {
    let markets = exp.cells.first().map_or(&[][..], |c| c.scenario.markets());
    (
        markets.iter().any(|m| m.lending().is_none()),
        markets.iter().any(|m| m.lending().is_some()),
    )
}

/// What one run covers: `day` for 24 hours, else `run of 48 hours` or `run of 24 minutes`.
fn horizon(exp: &Experiment) -> String {
    let x = &exp.resolved.experiment;
    let seconds = x.steps as f64 * x.dt_seconds;
    let hours = seconds / 3_600.0;
    if (hours - 24.0).abs() < 1e-9 {
        "day".into()
    } else if hours >= 1.0 {
        format!("run of {} hours", trim(hours))
    } else {
        format!("run of {} minutes", trim(seconds / 60.0))
    }
}

fn trim(x: f64) -> String {
    let s = format!("{x:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// What the price model is, for the caveats: a fitted law, or history.
fn model_caveat(exp: &Experiment) -> &'static str {
    use crate::config::file::PriceModelSpec;
    match &exp.resolved.market.model {
        PriceModelSpec::Replay { .. } => {
            "The price path is history, replayed: one path, so the figures say what that \
             stretch would have cost these accounts, not how likely such a stretch is."
        }
        PriceModelSpec::Bootstrap { .. } => {
            "Price moves are resampled from history in blocks: no stretch worse than the \
             data's worst blocks can occur. Check the result against a fitted model's tails."
        }
        _ => {
            "Volatility is a fitted model, not history. Check the result against a replay of a \
             real crash before relying on it."
        }
    }
}

/// What the numbers do not say, in the words of what the run has.
fn caveats(s: &mut String, t: &Tables) {
    let (exp, n) = (&t.exp, t.n());
    let (perps, _) = kinds(exp);
    let behaviour = if perps {
        exp.cells
            .first()
            .map(|c| c.scenario.behaviour_caveat())
            .unwrap_or_default()
    } else {
        "Borrowers hold their loans unless they are configured to defend or loop, and keepers \
         act only when a liquidation pays them; real borrowers and keepers adapt in ways these \
         rules do not. Real cascades can be worse."
            .to_string()
    };
    let p = pct_short(exp.target.per_day());
    let horizon = horizon(exp);
    let _ = writeln!(
        s,
        "\n## Caveats\n\n\
         - A simulated {horizon} is only as good as its model. {behaviour}\n\
         - {}\n\
         - Estimates at the {p} level rest on the worst {p} of {n} runs. The intervals say how far \
         they could move with more seeds, not how far the model is from reality.\n\
         - The fund is sized for one {horizon} and does not count the revenue that refills it \
         between bad ones.",
        model_caveat(exp)
    );
}
