//! The liquidation map in the report: its section of `report.md` and its chart, both from
//! `liquidation_map.parquet` (the sample path's run at t = 0 and after its largest cascade).

use std::fmt::Write as _;

use super::super::charts::{LiquidationMapChart, MapColour, MapPanel, MapSide};
use super::super::text::cell_text;
use super::super::text::{format_money, format_pct};
use super::inputs::{MapRow, Tables};
use crate::protocol::{DistanceBucket, ExposureSide};
use crate::simulation::MapMoment;

/// The moves whose reach the report spells out, in %.
const REACH_PCT: [f64; 3] = [1.0, 5.0, 10.0];

/// One market's rows of the map.
struct MarketMap<'t> {
    name: &'t str,
    sides: Vec<ExposureSide>,
    rows: Vec<&'t MapRow>,
}

impl MarketMap<'_> {
    fn notional(&self, moment: MapMoment, side: ExposureSide, bucket: DistanceBucket) -> f64 {
        self.rows
            .iter()
            .filter(|r| r.moment == moment && r.side == side && r.bucket == bucket)
            .map(|r| r.notional)
            .sum()
    }

    /// The notional of `side` at `moment` (every side when `None`) in buckets that pass `keep`.
    fn sum(
        &self,
        moment: MapMoment,
        side: Option<ExposureSide>,
        keep: impl Fn(DistanceBucket) -> bool,
    ) -> f64 {
        self.rows
            .iter()
            .filter(|r| r.moment == moment && side.is_none_or(|s| r.side == s) && keep(r.bucket))
            .map(|r| r.notional)
            .sum()
    }

    /// The market's open interest at `moment`.
    fn total(&self, moment: MapMoment) -> f64 {
        self.sum(moment, None, |_| true)
    }

    /// What a move of `pct` against `side` reaches: the buckets that end at or below it.
    fn reach(&self, moment: MapMoment, side: ExposureSide, pct: f64) -> f64 {
        self.sum(moment, Some(side), |b| {
            b.edges_pct().1.is_some_and(|hi| hi <= pct)
        })
    }
}

/// The markets of the map in market order, each with the sides its rows hold.
fn markets(t: &Tables) -> Vec<MarketMap<'_>> {
    let mut out: Vec<MarketMap> = Vec::new();
    for r in &t.map {
        let m = match out.iter().position(|m| m.name == r.market) {
            Some(i) => &mut out[i],
            None => {
                out.push(MarketMap {
                    name: &r.market,
                    sides: Vec::new(),
                    rows: Vec::new(),
                });
                let last = out.len() - 1;
                &mut out[last]
            }
        };
        if !m.sides.contains(&r.side) {
            m.sides.push(r.side);
        }
        m.rows.push(r);
    }
    out
}

/// The worst step, when the run had one.
fn worst_step(t: &Tables) -> Option<u32> {
    t.map
        .iter()
        .find(|r| r.moment == MapMoment::WorstStep)
        .map(|r| r.step)
}

fn side_name(side: ExposureSide) -> &'static str {
    match side {
        ExposureSide::Long => "longs",
        ExposureSide::Short => "shorts",
        ExposureSide::Collateral => "loans",
    }
}

/// `$1.2M (3.4%)`: a notional and its share of `total`.
fn money_share(notional: f64, total: f64) -> String {
    if total > 0.0 {
        format!(
            "{} ({})",
            format_money(notional),
            format_pct(notional / total)
        )
    } else {
        format_money(notional)
    }
}

/// [`money_share`] in a table cell: `-` for nothing.
fn cell(notional: f64, total: f64) -> String {
    if notional == 0.0 {
        "-".into()
    } else {
        money_share(notional, total)
    }
}

/// The section "Liquidation map" of `report.md`.
pub(super) fn section(s: &mut String, t: &Tables) {
    if t.map.is_empty() {
        return;
    }
    let _ = writeln!(s, "## Liquidation map\n");
    let dt = t.exp.cells[t.h].scenario.dt_seconds();
    let worst = worst_step(t);
    let when = match worst {
        Some(k) => format!(
            "at t = 0 and after its worst step, step {k} (hour {:.1}): the step of its largest \
             cascade, the one that liquidated the most notional, so the map shows what that \
             cascade left standing and how close it stood",
            k as f64 * dt / 3600.0
        ),
        None => "at t = 0 only: no position was liquidated in that run, so it has no worst \
                 step"
            .into(),
    };
    let _ = writeln!(
        s,
        "Open notional by how far the price must move against it before it is liquidated: \
         for a perp position, the move of the mark that brings its margin down to maintenance \
         (a fall for longs, a rise for shorts); for a loan, the fall of the oracle that takes its \
         health factor under 1, its notional being its debt. Both are read off the engine's own \
         rules. The map follows one run, the one the sample path follows (seed {} of the \
         headline cell, {}: its 1-in-{} day for the fund), so it costs the same whatever the number of seeds; it is taken \
         {when}. Shares are of that moment's open interest in the market; `past` is notional \
         already liquidatable, waiting for the next step or a keeper. Every bucket is in \
         `liquidation_map.csv`.\n",
        t.sample.seed,
        cell_text(&t.exp, t.h),
        t.exp.target.one_in(),
    );
    let markets = markets(t);
    for m in &markets {
        if markets.len() > 1 {
            let _ = writeln!(s, "### Market `{}`\n", m.name);
        }
        market_table(s, m, worst);
        reach_sentence(s, m, MapMoment::Start, "At t = 0");
        if let Some(k) = worst {
            reach_sentence(s, m, MapMoment::WorstStep, &format!("After step {k}"));
        }
    }
}

/// The moments of the map, with their column names.
fn moments(worst: Option<u32>) -> Vec<(MapMoment, String)> {
    let mut out = vec![(MapMoment::Start, "at t = 0".to_string())];
    if let Some(k) = worst {
        out.push((MapMoment::WorstStep, format!("after step {k}")));
    }
    out
}

/// One market's table: a row per bucket that holds anything, a column per side and moment.
fn market_table(s: &mut String, m: &MarketMap, worst: Option<u32>) {
    let moments = moments(worst);
    let mut header = String::from("| distance to liquidation |");
    let mut rule = String::from("| ---: |");
    for (_, when) in &moments {
        for &side in &m.sides {
            let _ = write!(header, " {} {when} |", side_name(side));
            rule.push_str(" ---: |");
        }
    }
    let _ = writeln!(s, "{header}\n{rule}");
    for b in DistanceBucket::ALL {
        let cells: Vec<(f64, f64)> = moments
            .iter()
            .flat_map(|&(moment, _)| {
                let total = m.total(moment);
                m.sides
                    .iter()
                    .map(move |&side| (m.notional(moment, side, b), total))
            })
            .collect();
        if cells.iter().all(|&(n, _)| n == 0.0) {
            continue;
        }
        let _ = write!(s, "| {} |", b.label());
        for (n, total) in cells {
            let _ = write!(s, " {} |", cell(n, total));
        }
        s.push('\n');
    }
    let _ = write!(s, "| **open interest** |");
    for &(moment, _) in &moments {
        let total = m.total(moment);
        for &side in &m.sides {
            let _ = write!(
                s,
                " **{}** |",
                money_share(m.sum(moment, Some(side), |_| true), total)
            );
        }
    }
    s.push_str("\n\n");
}

/// How much of each side a move of 1%, 5% and 10% against it reaches at `moment`, with its
/// share of the side.
fn reach_sentence(s: &mut String, m: &MarketMap, moment: MapMoment, when: &str) {
    let parts: Vec<String> = m
        .sides
        .iter()
        .map(|&side| {
            let total = m.sum(moment, Some(side), |_| true);
            let reached: Vec<String> = REACH_PCT
                .iter()
                .map(|&p| money_share(m.reach(moment, side, p), total))
                .collect();
            format!("{} of {}", reached.join(", "), side_name(side))
        })
        .collect();
    let moves = match m.sides.as_slice() {
        [ExposureSide::Collateral] => "a fall of the oracle",
        _ => "a move of the mark against them",
    };
    let _ = writeln!(
        s,
        "{when}, {moves} of 1%, 5% or 10% reaches {} (shares of {}).\n",
        parts.join("; and "),
        if m.sides.len() > 1 {
            "each side's open interest"
        } else {
            "the debt"
        }
    );
}

/// The chart: a panel per market, longs to the left and shorts to the right (loans to the
/// right alone), t = 0 solid and the worst step pale.
pub(super) fn chart(t: &Tables) -> LiquidationMapChart {
    let worst = worst_step(t);
    let panels = markets(t)
        .iter()
        .map(|m| {
            let side = |side: ExposureSide| MapSide {
                name: match side {
                    ExposureSide::Long => "Longs",
                    ExposureSide::Short => "Shorts",
                    ExposureSide::Collateral => "Loans",
                }
                .into(),
                colour: match side {
                    ExposureSide::Long => MapColour::Long,
                    ExposureSide::Short => MapColour::Short,
                    ExposureSide::Collateral => MapColour::Loan,
                },
                start: DistanceBucket::ALL
                    .map(|b| m.notional(MapMoment::Start, side, b))
                    .to_vec(),
                worst: worst.map(|_| {
                    DistanceBucket::ALL
                        .map(|b| m.notional(MapMoment::WorstStep, side, b))
                        .to_vec()
                }),
            };
            let (left, right) = match m.sides.as_slice() {
                [only] => (None, side(*only)),
                [first, second, ..] => (Some(side(*first)), side(*second)),
                [] => (None, side(ExposureSide::Long)),
            };
            MapPanel {
                market: m.name.to_string(),
                left,
                right,
            }
        })
        .collect();
    LiquidationMapChart {
        title: format!(
            "How far is open interest from liquidation? (seed {})",
            t.sample.seed
        ),
        buckets: DistanceBucket::ALL
            .iter()
            .map(|b| b.label().to_string())
            .collect(),
        worst_name: worst.map_or(String::new(), |k| format!("after step {k}")),
        panels,
    }
}
