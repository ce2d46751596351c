//! The realism panel beside the answer (issue 34, item 3): the figures that tell a risk
//! committee whether the simulated day looks like a day real venues have, each market's and
//! the fund's, with a flag where one is beyond what real venues show. A fund size read off a
//! day no venue has is not an answer, whatever its interval.

use std::fmt::Write as _;

use super::super::text::{format_money, format_pct};
use super::inputs::Tables;
use crate::montecarlo::MarketSummary;

/// Liquidations caused by the venue's own impact (not liquidatable at the index) above this
/// share: real venues' marks are anchored to an index of other venues (VENUES.md), so their
/// own forced flow cannot trigger most of their liquidations.
const INDUCED_SHARE_FLAG: f64 = 0.5;
/// A mark or oracle further than this from the index: index-anchored marks keep within a
/// capped basis of it (BitMEX's fair price: index times a funding basis capped at 0.375% per
/// 8 h, VENUES.md), and aggregated oracles read many venues. The 5% itself is the issue's
/// threshold, not a published figure.
const PRICE_GAP_FLAG: f64 = 0.05;
/// A day in 20 liquidating more than this share of open interest: a day that liquidates a
/// fifth of a venue's book is one of the record's crashes (MODEL.md section 16), not one
/// ordinary day in twenty.
const LIQUIDATED_SHARE_FLAG: f64 = 0.2;

/// One market's figures in the headline cell, with the flags they raise.
struct MarketRealism<'a> {
    name: &'a str,
    lending: bool,
    summary: &'a MarketSummary,
}

impl MarketRealism<'_> {
    fn share(&self, x: f64) -> Option<f64> {
        (self.summary.open_interest_mean > 0.0).then(|| x / self.summary.open_interest_mean)
    }

    /// The price gap the market's liquidations read: the mark's for perps, the oracle's for
    /// lending.
    fn gap(&self) -> Option<f64> {
        if self.lending {
            self.summary.worst_oracle_gap
        } else {
            Some(self.summary.worst_mark_index_ratio)
        }
    }

    fn flags(&self) -> Vec<String> {
        let mut flags = Vec::new();
        if let Some(share) = self.summary.induced_share_mean
            && share > INDUCED_SHARE_FLAG
        {
            flags.push(format!(
                "`{}`: {} of liquidated notional is induced (the venue's own impact liquidated it; the index would not have), over one half",
                self.name,
                format_pct(share)
            ));
        }
        if let Some(r) = self.gap()
            && (r - 1.0).abs() > PRICE_GAP_FLAG
        {
            flags.push(format!(
                "`{}`: the {} stood at {:.3} of the index on its worst step, more than {} away",
                self.name,
                if self.lending { "oracle" } else { "mark" },
                r,
                format_pct(PRICE_GAP_FLAG)
            ));
        }
        if let Some(share) = self.share(self.summary.liquidated_notional_lar95)
            && share > LIQUIDATED_SHARE_FLAG
        {
            flags.push(format!(
                "`{}`: one day in 20 liquidates {} of open interest or more, over a fifth",
                self.name,
                format_pct(share)
            ));
        }
        flags
    }
}

/// The panel: a row per market, the fund's own figures under it, and the flags.
pub(super) fn section(s: &mut String, t: &Tables) {
    let markets = t.exp.cells[t.h].scenario.markets();
    let per_cell = markets.len();
    let Some(summaries) = t.markets.get(t.h * per_cell..(t.h + 1) * per_cell) else {
        return;
    };
    let rows: Vec<MarketRealism> = markets
        .iter()
        .zip(summaries)
        .map(|(m, summary)| MarketRealism {
            name: m.name(),
            lending: m.lending().is_some(),
            summary,
        })
        .collect();
    let _ = writeln!(
        s,
        "### Is this a day real venues have?\n\nThe headline cell's day, in the figures that say whether it is one (means over its runs; open interest is a loan market's debt):\n\n| market | open interest | liquidated a day (of open interest) | one day in 20 (LaR95) | induced share | worst mark or oracle / index |\n| --- | ---: | ---: | ---: | ---: | ---: |"
    );
    let pct = |x: Option<f64>| x.map_or("n/a".into(), format_pct);
    for r in &rows {
        let m = r.summary;
        let _ = writeln!(
            s,
            "| {} | {} | {} ({}) | {} ({}) | {} | {} |",
            r.name,
            format_money(m.open_interest_mean),
            format_money(m.liquidation_notional_mean),
            pct(r.share(m.liquidation_notional_mean)),
            format_money(m.liquidated_notional_lar95),
            pct(r.share(m.liquidated_notional_lar95)),
            pct(m.induced_share_mean),
            r.gap().map_or("n/a".into(), |g| format!("{g:.4}")),
        );
    }
    let head = t.head();
    let lending_only = rows.iter().all(|r| r.lending);
    let loss = if lending_only {
        format!(
            "mean insolvent debt (bad plus underwater) {}",
            format_money(head.insolvent_debt_mean)
        )
    } else {
        format!(
            "P(auto-deleveraging) {} (95% CI {} to {})",
            format_pct(head.adl_probability),
            format_pct(head.adl_probability_lo95),
            format_pct(head.adl_probability_hi95)
        )
    };
    let _ = writeln!(
        s,
        "\nThe fund is {} of open interest; {loss}.\n",
        format_pct(head.fund_to_open_interest),
    );
    let flags: Vec<String> = rows.iter().flat_map(MarketRealism::flags).collect();
    if flags.is_empty() {
        let _ = writeln!(
            s,
            "No figure is beyond what real venues show (induced share over one half, a mark or oracle more than 5% from the index, a day in 20 liquidating over a fifth of open interest).\n"
        );
    } else {
        let _ = writeln!(
            s,
            "**Beyond what real venues show** (read the answer with this in mind):\n"
        );
        for f in flags {
            let _ = writeln!(s, "- ⚠ {f}.");
        }
        let _ = writeln!(s);
    }
}
