//! The report's charts, drawn from the tables for the headline cell, each written as PNG and
//! SVG with its caption in `report.md`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::super::atomic::write_atomic;
use super::super::charts::{
    CascadeCcdf, CellEstimate, Chart, DepletionCurve, Exceedance, FundFan, Heatmap, Histogram,
    SamplePathChart, Tornado, TornadoBar, horizon_word, render,
};
use super::super::drivers::DriversFound;
use super::super::error::OutputError;
use super::super::tables::market_names;
use super::super::text::cell_text;
use super::super::text::{axis_text, format_money, percentile};
use super::inputs::Tables;
use super::outcome::ReportOutcome;
use super::reading::HeadlineReading;
use crate::config::target::pct_short;
use crate::montecarlo::calibration::depletion_curve;

/// The charts drawn so far: their files, their part of `report.md`, and what was not drawn.
pub(super) struct Charts {
    dir: PathBuf,
    pub markdown: String,
    pub outcome: ReportOutcome,
}

impl Charts {
    pub fn new(dir: &Path) -> Self {
        Self {
            dir: dir.to_path_buf(),
            markdown: String::new(),
            outcome: ReportOutcome::default(),
        }
    }

    /// Renders `chart`, writes its PNG and SVG, and adds it with `caption` to the report.
    fn emit<C: Chart>(&mut self, chart: &C, caption: &str) -> Result<(), OutputError> {
        self.write_files(chart)?;
        let name = chart.name();
        let title = chart.title();
        let _ = writeln!(
            self.markdown,
            "### {title}\n\n![{title}]({name}.png)\n\n{caption} ([SVG]({name}.svg))\n"
        );
        Ok(())
    }

    /// Renders `chart` and writes its PNG and SVG, for a section that places it itself.
    fn write_files<C: Chart>(&mut self, chart: &C) -> Result<(), OutputError> {
        let name = chart.name();
        let rendered =
            render(chart).map_err(|e| OutputError::at(&self.dir.join(format!("{name}.png")), e))?;
        for (ext, bytes) in [("png", rendered.png), ("svg", rendered.svg.into_bytes())] {
            let path = self.dir.join(format!("{name}.{ext}"));
            write_atomic(&path, &bytes).map_err(|e| OutputError::at(&path, e))?;
            self.outcome.files.push(path);
        }
        Ok(())
    }

    /// The tornado of what drives the fund, when `backstop drivers` left its table; the
    /// drivers section of `report.md` shows it.
    fn drivers(&mut self, t: &Tables) -> Result<(), OutputError> {
        let DriversFound::Table(table) = &t.drivers else {
            return Ok(());
        };
        let Some(base) = table.base() else {
            return Ok(());
        };
        let chart = Tornado {
            title: "What drives the fund?".into(),
            base: base.fund_needed,
            bars: table
                .rows
                .iter()
                .filter(|r| !r.is_base())
                .map(|r| TornadoBar {
                    label: format!("{}: {}", r.driver, r.variant),
                    value: r.fund_needed,
                })
                .collect(),
            x_desc: format!(
                "Fund that keeps P(depletion) under {} a day (USD)",
                pct_short(t.exp.target.per_day())
            ),
        };
        self.write_files(&chart)
    }

    /// Every chart of the report, in its order.
    pub fn draw_all(&mut self, t: &Tables) -> Result<(), OutputError> {
        self.heatmap(t)?;
        self.depletion_curve(t)?;
        self.fund_fan(t)?;
        self.losses(t)?;
        self.sample_path(t)?;
        self.drivers(t)?;
        self.liquidation_map(t)
    }

    /// The sample path's run by distance to liquidation, at t = 0 and after its largest
    /// cascade.
    fn liquidation_map(&mut self, t: &Tables) -> Result<(), OutputError> {
        let chart = super::map::chart(t);
        let caption = format!(
            "Open notional of the run above (seed {}, {}) by how far the price must move against it before it is liquidated, longs and shorts apart (a lending market's loans by the fall of its oracle): at t = 0, and after the step of the run's largest cascade. The table is `liquidation_map.csv`.",
            t.sample.seed,
            cell_text(&t.exp, t.h)
        );
        self.emit(&chart, &caption)
    }

    /// P(depletion) over the first axes of the first two grid factors; other axes are held at
    /// the headline cell's values.
    fn heatmap(&mut self, t: &Tables) -> Result<(), OutputError> {
        let exp = &t.exp;
        let first_of = |g: usize| exp.axes.iter().position(|a| a.group == g);
        let (Some(yi_axis), Some(xi_axis)) = (first_of(0), first_of(1)) else {
            self.outcome.notes.push(
                "depletion_heatmap: needs a grid with two axes; this experiment has fewer".into(),
            );
            return Ok(());
        };
        let (ya, xa) = (&exp.axes[yi_axis], &exp.axes[xi_axis]);
        let mut values = vec![vec![0.0; xa.values.len()]; ya.values.len()];
        let mut seen = vec![vec![false; xa.values.len()]; ya.values.len()];
        // Every cell's coordinate is one of its axis's values: the grid is built from them.
        let place = |axis: &crate::config::GridAxis, i: usize, c: usize| {
            axis.values
                .iter()
                .position(|v| *v == exp.cells[c].coords[i])
                .ok_or_else(|| {
                    OutputError::at(
                        &self.dir.join("depletion_heatmap.png"),
                        format!("cell {c} lies off its grid axis `{}`", axis.path),
                    )
                })
        };
        for (c, cell) in exp.cells.iter().enumerate() {
            let (yi, xi) = (place(ya, yi_axis, c)?, place(xa, xi_axis, c)?);
            let in_slice = exp
                .axes
                .iter()
                .enumerate()
                .all(|(i, a)| a.group <= 1 || cell.coords[i] == exp.cells[t.h].coords[i]);
            if in_slice && !seen[yi][xi] {
                values[yi][xi] = t.summaries[c].depletion_probability;
                seen[yi][xi] = true;
            }
        }
        let chart = Heatmap {
            title: format!(
                "Chance the fund runs dry in a {}",
                horizon_word(
                    t.exp.cells[t.h].scenario.steps() as f64 * t.exp.resolved.experiment.dt_seconds
                        / 3_600.0
                )
            ),
            x_name: axis_name(&xa.path),
            x_labels: xa.values.iter().map(|v| axis_text(&xa.path, v)).collect(),
            y_name: axis_name(&ya.path),
            y_labels: ya.values.iter().map(|v| axis_text(&ya.path, v)).collect(),
            values,
        };
        let fund_on_axis = [ya, xa].iter().any(|a| a.path == "fund.initial");
        let fund = if fund_on_axis {
            String::new()
        } else {
            format!(", with a fund of {}", format_money(t.head().fund_initial))
        };
        let others = if exp.axes.iter().any(|a| a.group > 1) {
            format!(
                "; the other axes at the headline cell's values ({})",
                cell_text(exp, t.h)
            )
        } else {
            String::new()
        };
        let caption = format!(
            "P(depletion) for every `{}` and `{}` ({} runs per cell{fund}{others}); grey cells never ran dry.",
            ya.path, xa.path, exp.seeds
        );
        self.emit(&chart, &caption)
    }

    /// P(depletion) against fund size, read off required capital: only where required capital
    /// predicts depletion (no fund cap, no Comet target reserves).
    fn depletion_curve(&mut self, t: &Tables) -> Result<(), OutputError> {
        if t.exp.cells[t.h]
            .scenario
            .fund_shapes_the_run_before_depletion()
        {
            self.outcome.notes.push("depletion_curve: the fund's size shapes the run (a fund cap, or Comet's target reserves), so required capital does not give the curve; use `backstop calibrate`".into());
            return Ok(());
        }
        let required = &t.runs.required;
        let n = t.n();
        let target = &t.exp.target;
        // The quantile and its bound as the headline reads them: from runs whose fund lasted.
        let own = t.needs[t.h];
        let (recommended, recommended_ub, recommended_from) =
            match HeadlineReading::of(&t.exp, &t.needs, t.h) {
                HeadlineReading::Own => (own.map(|n| n.point), own.and_then(|n| n.ub95), None),
                HeadlineReading::LargerFund(other) => {
                    (Some(other.point), other.ub95, Some(other.fund))
                }
                HeadlineReading::CutShort { point_holds } => {
                    (own.filter(|_| point_holds).map(|n| n.point), None, None)
                }
            };
        let exact_up_to = own.filter(|n| !n.holds()).map(|n| n.fund);
        let cells = fund_cells(t);
        // The axis reaches past the largest of these; a missing upper bound adds nothing (the
        // axis is at least 1 anyway).
        let top = [
            Some(required.quantile(0.999_f64.max(target.level())) * 1.2),
            recommended_ub.map(|ub| ub * 1.1),
            Some(
                cells
                    .iter()
                    .map(|c| c.fund)
                    .fold(t.head().fund_initial, f64::max)
                    * 1.1,
            ),
        ]
        .into_iter()
        .flatten()
        .fold(1.0, f64::max);
        let funds: Vec<f64> = (0..=200).map(|i| top * i as f64 / 200.0).collect();
        let points = depletion_curve(required.values(), &funds);
        let curve = DepletionCurve {
            title: "How big must the fund be?".into(),
            funds,
            p: points.iter().map(|c| c.p).collect(),
            lo: points.iter().map(|c| c.lo).collect(),
            hi: points.iter().map(|c| c.hi).collect(),
            runs: n,
            target: target.per_day(),
            recommended,
            recommended_ub,
            recommended_from,
            exact_up_to,
            cells,
        };
        let dry = exact_up_to.map_or(String::new(), |fund| {
            format!(
                " Their fund ({}) ran dry too often for the target: past it a run's need stops growing (the fund is gone), so the curve there is a lower bound.",
                format_money(fund)
            )
        });
        let caption = format!(
            "P(depletion) against fund size for {}, read off the required capital of {n} runs; dots are grid cells run with that fund (95% Wilson intervals).{dry}",
            cell_text(&t.exp, t.h)
        );
        self.emit(&curve, &caption)
    }

    fn fund_fan(&mut self, t: &Tables) -> Result<(), OutputError> {
        let chart = FundFan {
            title: "Insurance fund balance through the day".into(),
            hours: t.fan.hours.clone(),
            bands: t.fan.bands.clone(),
            initial: t.head().fund_initial,
        };
        let caption = format!(
            "Percentiles of the fund balance across {} simulated days ({}); read off per-step histograms, within 2%.",
            t.n(),
            cell_text(&t.exp, t.h)
        );
        self.emit(&chart, &caption)
    }

    /// Bad debt exceedance, slippage histogram and cascade sizes.
    fn losses(&mut self, t: &Tables) -> Result<(), OutputError> {
        let label = cell_text(&t.exp, t.h);
        let head = t.head();
        let exceedance = Exceedance {
            title: "How much bad debt can a day bring?".into(),
            x_desc: "Bad debt in the day (USD)".into(),
            sorted: t.runs.bad_debt.values().to_vec(),
            markers: vec![
                ("VaR95".into(), head.bad_debt_var95),
                ("VaR99".into(), head.bad_debt_var99),
            ],
        };
        let caption =
            format!("Share of simulated days whose bad debt exceeds each amount ({label}).");
        self.emit(&exceedance, &caption)?;
        let slippage = Histogram {
            title: "What traders lose to slippage in forced closes".into(),
            x_desc: "Slippage loss in the day (USD)".into(),
            values: t.runs.slippage.clone(),
            bins: 40,
        };
        let caption = format!("Slippage loss of liquidated positions per simulated day ({label}).");
        self.emit(&slippage, &caption)?;
        let cascades = CascadeCcdf {
            title: "How large do liquidation cascades get?".into(),
            sizes: t.runs.cascades.clone(),
        };
        let caption = format!(
            "Largest cascade of each day: notional liquidated in consecutive steps with liquidations ({label})."
        );
        self.emit(&cascades, &caption)
    }

    /// The headline cell's 1-in-N day for the fund at the study's target, step by step.
    fn sample_path(&mut self, t: &Tables) -> Result<(), OutputError> {
        let s = &t.sample;
        let liquidations = s
            .hours
            .iter()
            .zip(&s.mark)
            .zip(&s.liquidated)
            .filter(|(_, n)| **n > 0.0)
            .map(|((&h, &m), &n)| (h, m, n))
            .collect();
        let debt: f64 = s.bad_debt.iter().sum();
        let low = s.fund.iter().copied().fold(f64::INFINITY, f64::min);
        let word = horizon_word(s.horizon);
        let one_in = t.exp.target.one_in();
        let names = market_names(&t.exp);
        let chart = SamplePathChart {
            title: format!(
                "A 1-in-{one_in} {word} for the fund (seed {}): its low {}, bad debt {}",
                s.seed,
                format_money(low),
                format_money(debt)
            ),
            hours: s.hours.clone(),
            index: s.index.clone(),
            mark: s.mark.clone(),
            oracle: s.oracle.clone(),
            market: (names.len() > 1).then(|| names[0].clone()),
            fund: s.fund.clone(),
            liquidations,
        };
        let prices = match (names.len(), s.oracle.is_empty()) {
            (1, true) => "index and mark".to_string(),
            (1, false) => {
                "index, the book where seized collateral sells and the oracle the loans are valued at"
                    .into()
            }
            (n, _) => format!(
                "index and mark{} of `{}` (the first of its {n} markets; the liquidations are all of theirs)",
                if s.oracle.is_empty() { "" } else { " and oracle" },
                names[0],
            ),
        };
        let caption = format!(
            "The simulated {word} whose required capital (what the fund had to pay out at its worst) is the {}th percentile of {} ({}), the quantile the headline reads: {prices}, liquidations, and the fund beneath.",
            percentile(t.exp.target.level()),
            t.n(),
            cell_text(&t.exp, t.h)
        );
        self.emit(&chart, &caption)
    }
}

/// The grid cells that differ from the headline cell only in the fund, with their own
/// depletion estimates (the dots of the depletion curve).
fn fund_cells(t: &Tables) -> Vec<CellEstimate> {
    let exp = &t.exp;
    let Some(fa) = exp.axes.iter().position(|a| a.path == "fund.initial") else {
        return Vec::new();
    };
    exp.cells
        .iter()
        .enumerate()
        .filter(|(_, c)| {
            c.coords
                .iter()
                .enumerate()
                .all(|(i, v)| i == fa || *v == exp.cells[t.h].coords[i])
        })
        .map(|(c, cell)| {
            let s = &t.summaries[c];
            CellEstimate {
                fund: cell.scenario.fund_initial(),
                p: s.depletion_probability,
                lo: s.depletion_probability_lo95,
                hi: s.depletion_probability_hi95,
            }
        })
        .collect()
}

/// A grid axis as people read it, its path kept for reference: `Initial fund
/// (fund.initial)`; a path without a name of its own is shown as it is.
fn axis_name(path: &str) -> String {
    let name = match path {
        "fund.initial" => "Initial fund",
        "liquidation.penalty_rate" => "Liquidation penalty",
        "margin.mmr" => "Maintenance margin",
        "margin.imr" => "Initial margin",
        "market.book.depth_usd" => "Book depth per 1% move",
        "market.mark.rule" => "Mark rule",
        "traders.count" => "Traders",
        "traders.open_interest_usd" => "Open interest",
        _ => return path.to_string(),
    };
    format!("{name} ({path})")
}
