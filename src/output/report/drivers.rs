//! The report's "What drives this number" section, from the `drivers.parquet` that
//! `backstop drivers DIR` leaves in the run's folder (issue 34, item 3).

use std::fmt::Write as _;

use super::super::drivers::{DRIVERS_CSV, DriversFound, DriversTable};
use super::super::text::{format_money, format_pct, signed_money};
use super::inputs::Tables;
use crate::config::target::pct_short;

/// The chart's file stem (`drivers.png`, `.svg`).
pub(super) const CHART: &str = "drivers";

pub(super) fn section(s: &mut String, t: &Tables) {
    let _ = writeln!(s, "## What drives this number\n");
    match &t.drivers {
        DriversFound::None => {
            let _ = writeln!(
                s,
                "Run `backstop drivers` on this folder to see how the fund moves when each driving assumption moves alone (the book's depth, the mark rule, how impact is priced, a lending market's oracle, the price model), on the same seeds.\n"
            );
        }
        DriversFound::Stale => {
            let _ = writeln!(
                s,
                "*`drivers.parquet` here was written for another experiment than this folder's; run `backstop drivers` on the folder again.*\n"
            );
        }
        DriversFound::Table(table) => table_section(s, t, table),
    }
}

fn table_section(s: &mut String, t: &Tables, table: &DriversTable) {
    let Some(base) = table.base() else {
        return;
    };
    let p = pct_short(t.exp.target.per_day());
    let _ = writeln!(
        s,
        "Each row moves one assumption of the scenario as written and runs the same {} days (common seeds) with a fund no deficit exhausts, so each variant's need is the fund that keeps its chance of depletion under {p} a day, read off required capital as `backstop calibrate` reads it (the scenario as written's is calibrate's figure for the headline cell). The last column is the chance that the configured fund ({}) runs dry under each variant.\n",
        base.runs,
        format_money(t.head().fund_initial),
    );
    let _ = writeln!(
        s,
        "| assumption | set to | fund needed at {p} a day [95% CI] | change | P(depletion) with the configured fund |\n| --- | --- | ---: | ---: | ---: |"
    );
    let bound = |b: Option<f64>| b.map_or("n/a".into(), format_money);
    for r in &table.rows {
        let (driver, change) = if r.is_base() {
            ("**as written**".to_string(), String::new())
        } else {
            (
                r.driver.clone(),
                signed_money(r.fund_needed - base.fund_needed),
            )
        };
        let _ = writeln!(
            s,
            "| {driver} | {} | {} [{}, {}] | {change} | {} |",
            r.variant,
            format_money(r.fund_needed),
            bound(r.fund_needed_lo95),
            bound(r.fund_needed_hi95),
            format_pct(r.depletion_at_fund),
        );
    }
    let _ = writeln!(
        s,
        "\n![What drives the fund?]({CHART}.png)\n\nThe fund each variant needs against the scenario as written's, the largest moves on top; red needs more, green less ([SVG]({CHART}.svg)). Every figure, with open interest, liquidated notional and bad debt per variant, is in [`{DRIVERS_CSV}`]({DRIVERS_CSV}).\n"
    );
    if !table.left_out.is_empty() {
        let _ = writeln!(s, "Left out, as they do not apply here:\n");
        for (driver, why) in &table.left_out {
            let _ = writeln!(s, "- {driver}: {why}.");
        }
        let _ = writeln!(s);
    }
}
