//! What a grid cell reports, aggregated over its seeds (MODEL.md section 9). Every estimate
//! carries a standard error or an interval; undefined figures are `None`, never NaN.

use crate::config::Scenario;
use crate::simulation::{MarketRow, RunRow, flat_row};
use crate::stats::{
    Moments, QuantileEstimate, Z95, expected_shortfall, quantile_sorted, quantile_with_bounds,
    upper_bound_rank, wilson,
};

flat_row! {
    /// What a grid cell reports, aggregated over its seeds (MODEL.md section 9): one row of
    /// `summary.*`. This declaration is the summary's only list of columns: the tables are
    /// written from it and read back through it (a missing column is an error). `_se` is a
    /// standard error, `_lo95` and `_hi95` a 95% interval (order statistics for quantiles,
    /// Wilson for probabilities); undefined figures are empty, never NaN.
    CellSummary {
        runs: u32,
        fund_initial: f64,
        depletions: u32,
        depletion_probability: f64,
        depletion_probability_lo95: f64,
        depletion_probability_hi95: f64,
        bad_debt_mean: f64,
        bad_debt_mean_se: f64,
        bad_debt_p50: f64,
        /// VaR95: p95 of bad debt (Gauntlet's definition).
        bad_debt_var95: f64,
        bad_debt_var95_lo95: Option<f64>,
        bad_debt_var95_hi95: Option<f64>,
        bad_debt_var99: f64,
        bad_debt_var99_lo95: Option<f64>,
        bad_debt_var99_hi95: Option<f64>,
        /// Expected shortfall beyond VaR95 and VaR99.
        bad_debt_cvar95: f64,
        bad_debt_cvar95_se: f64,
        bad_debt_cvar99: f64,
        bad_debt_cvar99_se: f64,
        bad_debt_uncovered_mean: f64,
        bad_debt_uncovered_mean_se: f64,
        /// Mean bad debt over mean open interest: "less bad debt" that is not merely "less was
        /// at risk" (MODEL.md section 8).
        bad_debt_to_open_interest: Option<f64>,
        /// LaR95: p95 of liquidated notional.
        liquidated_notional_lar95: f64,
        liquidated_notional_lar95_lo95: Option<f64>,
        liquidated_notional_lar95_hi95: Option<f64>,
        liquidation_count_mean: f64,
        liquidation_count_mean_se: f64,
        liquidation_notional_mean: f64,
        liquidation_notional_mean_se: f64,
        slippage_loss_mean: f64,
        slippage_loss_mean_se: f64,
        slippage_loss_p99: f64,
        slippage_loss_p99_lo95: Option<f64>,
        slippage_loss_p99_hi95: Option<f64>,
        penalty_paid_mean: f64,
        penalty_paid_mean_se: f64,
        adl_probability: f64,
        adl_probability_lo95: f64,
        adl_probability_hi95: f64,
        adl_notional_mean: f64,
        adl_notional_mean_se: f64,
        socialized_loss_mean: f64,
        socialized_loss_mean_se: f64,
        cascade_count_mean: f64,
        cascade_count_mean_se: f64,
        cascade_longest_steps_mean: f64,
        cascade_longest_steps_mean_se: f64,
        cascade_longest_steps_max: u32,
        cascade_largest_notional_mean: f64,
        cascade_largest_notional_mean_se: f64,
        cascade_largest_notional_p99: f64,
        cascade_largest_notional_p99_lo95: Option<f64>,
        cascade_largest_notional_p99_hi95: Option<f64>,
        /// Mean induced share over runs with liquidations.
        induced_share_mean: Option<f64>,
        induced_share_mean_se: Option<f64>,
        /// Mean recovery rate over runs with liquidation losses.
        recovery_rate_mean: Option<f64>,
        recovery_rate_mean_se: Option<f64>,
        /// The mark/index ratio furthest from 1 in any run.
        worst_mark_index_ratio: f64,
        index_max_drawdown_mean: f64,
        index_max_drawdown_mean_se: f64,
        open_interest_mean: f64,
        /// `F0 / VaR99`; empty when VaR99 is 0.
        fund_to_var99: Option<f64>,
        /// `F0 / mean open interest`.
        fund_to_open_interest: f64,
        required_capital_mean: f64,
        required_capital_mean_se: f64,
        required_capital_q95: f64,
        required_capital_q95_lo95: Option<f64>,
        required_capital_q95_hi95: Option<f64>,
        required_capital_q99: f64,
        required_capital_q99_lo95: Option<f64>,
        required_capital_q99_hi95: Option<f64>,
        required_capital_q999: f64,
        required_capital_q999_lo95: Option<f64>,
        required_capital_q999_hi95: Option<f64>,
        /// One-sided 95% upper confidence bound of required capital q99: the fund to hold for
        /// a 1% depletion target (MODEL.md section 10).
        required_capital_q99_ub95: Option<f64>,
        required_capital_max: f64,
        fund_final_mean: f64,
        fund_final_mean_se: f64,
        fund_min_mean: f64,
        fund_min_mean_se: f64,
        ledger_imbalance_max: f64,
        /// Shared fund of several markets: mean spill-over (what other markets' stake paid for
        /// a market's deficits) and the share of runs with any.
        spillover_mean: f64,
        spillover_mean_se: f64,
        spillover_probability: f64,
        /// Agents: decisions, re-entries, reserve added, keepers' profit and positions no
        /// keeper took, per run.
        decisions_mean: f64,
        reentries_mean: f64,
        reserve_added_mean: f64,
        keeper_profit_mean: f64,
        keeper_profit_mean_se: f64,
        left_waiting_mean: f64,
        /// Voluntary de-risking (MODEL.md section 8): closing notional and its slippage per
        /// run, the net signed voluntary flow inside cascades (negative: behavioral traders
        /// sold into them), herders who de-risked, and other venues' forced flow.
        voluntary_close_notional_mean: f64,
        voluntary_close_notional_mean_se: f64,
        voluntary_close_slippage_mean: f64,
        cascade_voluntary_flow_mean: f64,
        cascade_voluntary_flow_mean_se: f64,
        herders_derisked_mean: f64,
        other_venue_notional_mean: f64,
        /// Lending: insolvent debt (bad debt plus what loans' collateral no longer covers at
        /// the end), its mean and Gauntlet's VaR95 (p95) with its interval.
        insolvent_debt_mean: f64,
        insolvent_debt_mean_se: f64,
        insolvent_debt_var95: f64,
        insolvent_debt_var95_lo95: Option<f64>,
        insolvent_debt_var95_hi95: Option<f64>,
        underwater_debt_mean: f64,
        protocol_fees_mean: f64,
        deficit_offset_mean: f64,
        keeper_incentives_mean: f64,
        /// Takeover (MODEL.md section 4): the notional the fund or a vault inherited per run,
        /// and the share of runs with any.
        taken_over_notional_mean: f64,
        taken_over_probability: f64,
        /// The most the funds' inventory stood under water in a run: mean and p99 with its
        /// interval (BitMEX's "peak unrealised loss").
        inventory_peak_loss_mean: f64,
        inventory_peak_loss_p99: f64,
        inventory_peak_loss_p99_lo95: Option<f64>,
        inventory_peak_loss_p99_hi95: Option<f64>,
        /// Profit realized unwinding inventory per run (negative: a loss).
        inventory_pnl_mean: f64,
        inventory_pnl_mean_se: f64,
        /// OKX's early auto-deleveraging: the share of runs in which it fired, with its
        /// Wilson interval.
        early_adl_probability: f64,
        early_adl_probability_lo95: f64,
        early_adl_probability_hi95: f64,
    }
}

fn sorted(rows: &[RunRow], f: impl Fn(&RunRow) -> f64) -> Vec<f64> {
    let mut v: Vec<f64> = rows.iter().map(f).collect();
    v.sort_by(f64::total_cmp);
    v
}

fn moments(rows: &[RunRow], f: impl Fn(&RunRow) -> Option<f64>) -> Moments {
    rows.iter().filter_map(f).collect()
}

fn mean_se(m: &Moments) -> (f64, f64) {
    (m.mean().unwrap_or(0.0), m.std_error().unwrap_or(0.0))
}

/// Mean and standard error of a figure of every run.
fn mean_of(rows: &[RunRow], f: impl Fn(&RunRow) -> f64) -> (f64, f64) {
    mean_se(&moments(rows, |r| Some(f(r))))
}

/// The `p`-quantile of sorted values with its 95% order-statistic interval.
fn q(sorted: &[f64], p: f64) -> (f64, Option<f64>, Option<f64>) {
    let e = quantile_with_bounds(sorted, p, 0.95).unwrap_or(QuantileEstimate {
        value: 0.0,
        lower: None,
        upper: None,
    });
    (e.value, e.lower, e.upper)
}

/// A share of `n` runs with its Wilson 95% interval.
fn probability(k: u64, n: u64) -> (f64, f64, f64) {
    let (lo, hi) = wilson(k, n, Z95).unwrap_or((0.0, 1.0));
    (k as f64 / n.max(1) as f64, lo, hi)
}

/// Aggregates the runs of one cell (`rows` non-empty).
pub fn summarize(scenario: &Scenario, rows: &[RunRow]) -> CellSummary {
    let mut s = CellSummary {
        runs: rows.len() as u32,
        fund_initial: scenario.fund_initial(),
        ..CellSummary::default()
    };
    depletion_and_losses(&mut s, rows);
    liquidations(&mut s, rows);
    cascades(&mut s, rows);
    capital(&mut s, rows);
    agents(&mut s, rows);
    lending(&mut s, rows);
    takeover(&mut s, rows);
    s
}

/// What the fund or a vault took over and how its inventory fared (MODEL.md section 4), and
/// OKX's early auto-deleveraging (section 6).
fn takeover(s: &mut CellSummary, rows: &[RunRow]) {
    let n = rows.len() as u64;
    s.taken_over_notional_mean = mean_of(rows, |r| r.taken_over_notional).0;
    let taken = rows.iter().filter(|r| r.taken_over_notional > 0.0).count() as u64;
    s.taken_over_probability = probability(taken, n).0;
    let peak = sorted(rows, |r| r.inventory_peak_loss);
    s.inventory_peak_loss_mean = mean_of(rows, |r| r.inventory_peak_loss).0;
    (
        s.inventory_peak_loss_p99,
        s.inventory_peak_loss_p99_lo95,
        s.inventory_peak_loss_p99_hi95,
    ) = q(&peak, 0.99);
    (s.inventory_pnl_mean, s.inventory_pnl_mean_se) = mean_of(rows, |r| r.inventory_pnl);
    let early = rows.iter().filter(|r| r.early_adl_step.is_some()).count() as u64;
    (
        s.early_adl_probability,
        s.early_adl_probability_lo95,
        s.early_adl_probability_hi95,
    ) = probability(early, n);
}

/// Lending figures (MODEL.md section 14): insolvent debt and its VaR95, what the treasury
/// took and paid. LaR95 is `liquidated_notional_lar95`: for lending markets, their
/// liquidated notional is the debt repaid.
fn lending(s: &mut CellSummary, rows: &[RunRow]) {
    let insolvent = sorted(rows, |r| r.insolvent_debt);
    (s.insolvent_debt_mean, s.insolvent_debt_mean_se) = mean_of(rows, |r| r.insolvent_debt);
    (
        s.insolvent_debt_var95,
        s.insolvent_debt_var95_lo95,
        s.insolvent_debt_var95_hi95,
    ) = q(&insolvent, 0.95);
    s.underwater_debt_mean = mean_of(rows, |r| r.underwater_debt).0;
    s.protocol_fees_mean = mean_of(rows, |r| r.protocol_fees).0;
    s.deficit_offset_mean = mean_of(rows, |r| r.deficit_offset).0;
    s.keeper_incentives_mean = mean_of(rows, |r| r.keeper_incentives).0;
}

/// Depletion (section 5), bad debt and its tail (VaR, CVaR), ADL and socialized losses.
fn depletion_and_losses(s: &mut CellSummary, rows: &[RunRow]) {
    let n = rows.len() as u64;
    let depletions = rows.iter().filter(|r| r.depleted).count() as u64;
    s.depletions = depletions as u32;
    (
        s.depletion_probability,
        s.depletion_probability_lo95,
        s.depletion_probability_hi95,
    ) = probability(depletions, n);
    let bad_debt = sorted(rows, |r| r.bad_debt);
    (s.bad_debt_mean, s.bad_debt_mean_se) = mean_of(rows, |r| r.bad_debt);
    s.bad_debt_p50 = quantile_sorted(&bad_debt, 0.5).unwrap_or(0.0);
    (
        s.bad_debt_var95,
        s.bad_debt_var95_lo95,
        s.bad_debt_var95_hi95,
    ) = q(&bad_debt, 0.95);
    (
        s.bad_debt_var99,
        s.bad_debt_var99_lo95,
        s.bad_debt_var99_hi95,
    ) = q(&bad_debt, 0.99);
    let es95 = expected_shortfall(&bad_debt, 0.95).expect("non-empty");
    let es99 = expected_shortfall(&bad_debt, 0.99).expect("non-empty");
    (s.bad_debt_cvar95, s.bad_debt_cvar95_se) = (es95.value, es95.std_error);
    (s.bad_debt_cvar99, s.bad_debt_cvar99_se) = (es99.value, es99.std_error);
    (s.bad_debt_uncovered_mean, s.bad_debt_uncovered_mean_se) =
        mean_of(rows, |r| r.bad_debt_uncovered);
    let adls = rows.iter().filter(|r| r.adl_count > 0).count() as u64;
    (
        s.adl_probability,
        s.adl_probability_lo95,
        s.adl_probability_hi95,
    ) = probability(adls, n);
    (s.adl_notional_mean, s.adl_notional_mean_se) = mean_of(rows, |r| r.adl_notional);
    (s.socialized_loss_mean, s.socialized_loss_mean_se) = mean_of(rows, |r| r.socialized_loss);
}

/// Forced closes: how many, how much, LaR95, slippage and penalties, the mark's worst gap.
fn liquidations(s: &mut CellSummary, rows: &[RunRow]) {
    let liquidated = sorted(rows, |r| r.liquidation_notional);
    let slippage = sorted(rows, |r| r.slippage_loss);
    (
        s.liquidated_notional_lar95,
        s.liquidated_notional_lar95_lo95,
        s.liquidated_notional_lar95_hi95,
    ) = q(&liquidated, 0.95);
    (s.liquidation_count_mean, s.liquidation_count_mean_se) =
        mean_of(rows, |r| r.liquidation_count as f64);
    (s.liquidation_notional_mean, s.liquidation_notional_mean_se) =
        mean_of(rows, |r| r.liquidation_notional);
    (s.slippage_loss_mean, s.slippage_loss_mean_se) = mean_of(rows, |r| r.slippage_loss);
    (
        s.slippage_loss_p99,
        s.slippage_loss_p99_lo95,
        s.slippage_loss_p99_hi95,
    ) = q(&slippage, 0.99);
    (s.penalty_paid_mean, s.penalty_paid_mean_se) = mean_of(rows, |r| r.penalty_paid);
    let recovery = moments(rows, |r| r.recovery_rate);
    (s.recovery_rate_mean, s.recovery_rate_mean_se) = (recovery.mean(), recovery.std_error());
    s.worst_mark_index_ratio = rows
        .iter()
        .map(|r| r.worst_mark_index_ratio)
        .max_by(|a, b| a.ln().abs().total_cmp(&b.ln().abs()))
        .unwrap_or(1.0);
    (s.index_max_drawdown_mean, s.index_max_drawdown_mean_se) =
        mean_of(rows, |r| r.index_max_drawdown);
}

/// Cascades (section 8): count, longest, largest, and the share induced by impact.
fn cascades(s: &mut CellSummary, rows: &[RunRow]) {
    (s.cascade_count_mean, s.cascade_count_mean_se) = mean_of(rows, |r| r.cascade_count as f64);
    (
        s.cascade_longest_steps_mean,
        s.cascade_longest_steps_mean_se,
    ) = mean_of(rows, |r| r.cascade_longest_steps as f64);
    s.cascade_longest_steps_max = rows
        .iter()
        .map(|r| r.cascade_longest_steps)
        .max()
        .unwrap_or(0);
    (
        s.cascade_largest_notional_mean,
        s.cascade_largest_notional_mean_se,
    ) = mean_of(rows, |r| r.cascade_largest_notional);
    let largest = sorted(rows, |r| r.cascade_largest_notional);
    (
        s.cascade_largest_notional_p99,
        s.cascade_largest_notional_p99_lo95,
        s.cascade_largest_notional_p99_hi95,
    ) = q(&largest, 0.99);
    let induced = moments(rows, |r| r.induced_share);
    (s.induced_share_mean, s.induced_share_mean_se) = (induced.mean(), induced.std_error());
}

/// Required capital and its quantiles (sections 5 and 10), the solvency ratios, the fund.
fn capital(s: &mut CellSummary, rows: &[RunRow]) {
    let n = rows.len() as u64;
    let f0 = s.fund_initial;
    let required = sorted(rows, |r| r.required_capital);
    (s.required_capital_mean, s.required_capital_mean_se) = mean_of(rows, |r| r.required_capital);
    (
        s.required_capital_q95,
        s.required_capital_q95_lo95,
        s.required_capital_q95_hi95,
    ) = q(&required, 0.95);
    (
        s.required_capital_q99,
        s.required_capital_q99_lo95,
        s.required_capital_q99_hi95,
    ) = q(&required, 0.99);
    (
        s.required_capital_q999,
        s.required_capital_q999_lo95,
        s.required_capital_q999_hi95,
    ) = q(&required, 0.999);
    s.required_capital_max = required.last().copied().unwrap_or(0.0);
    s.required_capital_q99_ub95 = upper_bound_rank(n, 0.99, 0.95).map(|u| required[u as usize - 1]);
    s.open_interest_mean = mean_of(rows, |r| r.open_interest).0;
    let oi = s.open_interest_mean;
    s.fund_to_var99 = (s.bad_debt_var99 > 0.0).then(|| f0 / s.bad_debt_var99);
    s.fund_to_open_interest = if oi > 0.0 { f0 / oi } else { 0.0 };
    s.bad_debt_to_open_interest = (oi > 0.0).then(|| s.bad_debt_mean / oi);
    (s.fund_final_mean, s.fund_final_mean_se) = mean_of(rows, |r| r.fund_final);
    (s.fund_min_mean, s.fund_min_mean_se) = mean_of(rows, |r| r.fund_min);
    s.ledger_imbalance_max = rows.iter().map(|r| r.ledger_imbalance).fold(0.0, f64::max);
    (s.spillover_mean, s.spillover_mean_se) = mean_of(rows, |r| r.spillover);
    s.spillover_probability =
        probability(rows.iter().filter(|r| r.spillover > 0.0).count() as u64, n).0;
}

/// What the agents did: decisions, re-entries, reserves, keepers.
fn agents(s: &mut CellSummary, rows: &[RunRow]) {
    s.decisions_mean = mean_of(rows, |r| r.decisions as f64).0;
    s.reentries_mean = mean_of(rows, |r| r.reentries as f64).0;
    s.reserve_added_mean = mean_of(rows, |r| r.reserve_added).0;
    (s.keeper_profit_mean, s.keeper_profit_mean_se) = mean_of(rows, |r| r.keeper_profit);
    s.left_waiting_mean = mean_of(rows, |r| r.left_waiting as f64).0;
    (
        s.voluntary_close_notional_mean,
        s.voluntary_close_notional_mean_se,
    ) = mean_of(rows, |r| r.voluntary_close_notional);
    s.voluntary_close_slippage_mean = mean_of(rows, |r| r.voluntary_close_slippage).0;
    (
        s.cascade_voluntary_flow_mean,
        s.cascade_voluntary_flow_mean_se,
    ) = mean_of(rows, |r| r.cascade_voluntary_flow);
    s.herders_derisked_mean = mean_of(rows, |r| r.herders_derisked as f64).0;
    s.other_venue_notional_mean = mean_of(rows, |r| r.other_venue_notional).0;
}

flat_row! {
    /// What one market of one grid cell reports, aggregated over the cell's seeds (MODEL.md
    /// sections 8 and 9): one row per (cell, market) of `summary_by_market.*`.
    MarketSummary {
        /// The market's place in the experiment (tables show its name).
        market: u32,
        runs: u32,
        open_interest_mean: f64,
        bad_debt_mean: f64,
        bad_debt_mean_se: f64,
        /// p95 and p99 of the market's bad debt (Gauntlet's VaR).
        bad_debt_var95: f64,
        bad_debt_var99: f64,
        /// Mean bad debt over mean open interest: comparable across markets of any size.
        bad_debt_to_open_interest: Option<f64>,
        /// Share of runs with any bad debt in this market, with its Wilson interval.
        bad_debt_probability: f64,
        bad_debt_probability_lo95: f64,
        bad_debt_probability_hi95: f64,
        fund_paid_mean: f64,
        fund_paid_mean_se: f64,
        bad_debt_uncovered_mean: f64,
        socialized_loss_mean: f64,
        adl_probability: f64,
        /// What a shared fund paid for this market beyond its own stake.
        spillover_mean: f64,
        spillover_mean_se: f64,
        spillover_probability: f64,
        liquidation_count_mean: f64,
        liquidation_notional_mean: f64,
        liquidation_notional_mean_se: f64,
        /// LaR95: p95 of the market's liquidated notional.
        liquidated_notional_lar95: f64,
        slippage_loss_mean: f64,
        slippage_loss_mean_se: f64,
        penalty_paid_mean: f64,
        fund_inflow_mean: f64,
        fee_revenue_mean: f64,
        left_waiting_mean: f64,
        index_max_drawdown_mean: f64,
        /// The mark/index ratio furthest from 1 in any run.
        worst_mark_index_ratio: f64,
        induced_share_mean: Option<f64>,
        /// Lending: insolvent debt (bad plus underwater), mean and VaR95.
        insolvent_debt_mean: f64,
        insolvent_debt_var95: f64,
        underwater_debt_mean: f64,
        seized_value_mean: f64,
        protocol_fees_mean: f64,
        keeper_incentives_mean: f64,
        /// Lending: what defenders spent and the debt loopers took on, means per run.
        defender_spend_mean: f64,
        looped_debt_mean: f64,
        derisked_debt_mean: f64,
        /// Lending: the oracle/index ratio furthest from 1 in any run.
        worst_oracle_gap: Option<f64>,
    }
}

/// The summaries of each market of one cell, from its market rows (any order of runs; each
/// row names its market).
pub fn summarize_markets(scenario: &Scenario, rows: &[MarketRow]) -> Vec<MarketSummary> {
    (0..scenario.markets().len())
        .map(|m| {
            let mine: Vec<MarketRow> = rows
                .iter()
                .filter(|r| r.market as usize == m)
                .copied()
                .collect();
            summarize_market(m as u32, &mine)
        })
        .collect()
}

fn market_moments(rows: &[MarketRow], f: impl Fn(&MarketRow) -> f64) -> (f64, f64) {
    mean_se(&rows.iter().map(f).collect::<Moments>())
}

fn market_sorted(rows: &[MarketRow], f: impl Fn(&MarketRow) -> f64) -> Vec<f64> {
    let mut v: Vec<f64> = rows.iter().map(f).collect();
    v.sort_by(f64::total_cmp);
    v
}

/// One market's summary from its rows (one per run).
fn summarize_market(market: u32, rows: &[MarketRow]) -> MarketSummary {
    let n = rows.len() as u64;
    let m = |f: fn(&MarketRow) -> f64| market_moments(rows, f);
    let share = |f: fn(&MarketRow) -> bool| rows.iter().filter(|r| f(r)).count() as u64;
    let bad_debt = market_sorted(rows, |r| r.bad_debt);
    let liquidated = market_sorted(rows, |r| r.liquidation_notional);
    let (bad_debt_mean, bad_debt_mean_se) = m(|r| r.bad_debt);
    let (open_interest_mean, _) = m(|r| r.open_interest);
    let with_debt = share(|r| r.bad_debt > 0.0);
    let (lo, hi) = wilson(with_debt, n, Z95).unwrap_or((0.0, 1.0));
    let (fund_paid_mean, fund_paid_mean_se) = m(|r| r.fund_paid);
    let (spillover_mean, spillover_mean_se) = m(|r| r.spillover);
    let (liquidation_notional_mean, liquidation_notional_mean_se) = m(|r| r.liquidation_notional);
    let (slippage_loss_mean, slippage_loss_mean_se) = m(|r| r.slippage_loss);
    let fraction = |k: u64| if n > 0 { k as f64 / n as f64 } else { 0.0 };
    MarketSummary {
        market,
        runs: n as u32,
        open_interest_mean,
        bad_debt_mean,
        bad_debt_mean_se,
        bad_debt_var95: quantile_sorted(&bad_debt, 0.95).unwrap_or(0.0),
        bad_debt_var99: quantile_sorted(&bad_debt, 0.99).unwrap_or(0.0),
        bad_debt_to_open_interest: (open_interest_mean > 0.0)
            .then(|| bad_debt_mean / open_interest_mean),
        bad_debt_probability: fraction(with_debt),
        bad_debt_probability_lo95: lo,
        bad_debt_probability_hi95: hi,
        fund_paid_mean,
        fund_paid_mean_se,
        bad_debt_uncovered_mean: m(|r| r.bad_debt_uncovered).0,
        socialized_loss_mean: m(|r| r.socialized_loss).0,
        adl_probability: fraction(share(|r| r.adl_count > 0)),
        spillover_mean,
        spillover_mean_se,
        spillover_probability: fraction(share(|r| r.spillover > 0.0)),
        liquidation_count_mean: m(|r| r.liquidation_count as f64).0,
        liquidation_notional_mean,
        liquidation_notional_mean_se,
        liquidated_notional_lar95: quantile_sorted(&liquidated, 0.95).unwrap_or(0.0),
        slippage_loss_mean,
        slippage_loss_mean_se,
        penalty_paid_mean: m(|r| r.penalty_paid).0,
        fund_inflow_mean: m(|r| r.fund_inflow).0,
        fee_revenue_mean: m(|r| r.fee_revenue).0,
        left_waiting_mean: m(|r| r.left_waiting as f64).0,
        index_max_drawdown_mean: m(|r| r.index_max_drawdown).0,
        worst_mark_index_ratio: rows
            .iter()
            .map(|r| r.worst_mark_index_ratio)
            .max_by(|a, b| a.ln().abs().total_cmp(&b.ln().abs()))
            .unwrap_or(1.0),
        induced_share_mean: rows
            .iter()
            .filter_map(|r| r.induced_share)
            .collect::<Moments>()
            .mean(),
        insolvent_debt_mean: m(|r| r.insolvent_debt).0,
        insolvent_debt_var95: quantile_sorted(&market_sorted(rows, |r| r.insolvent_debt), 0.95)
            .unwrap_or(0.0),
        underwater_debt_mean: m(|r| r.underwater_debt).0,
        seized_value_mean: m(|r| r.seized_value).0,
        protocol_fees_mean: m(|r| r.protocol_fees).0,
        keeper_incentives_mean: m(|r| r.keeper_incentives).0,
        defender_spend_mean: m(|r| r.defender_spend).0,
        looped_debt_mean: m(|r| r.looped_debt).0,
        derisked_debt_mean: m(|r| r.derisked_debt).0,
        worst_oracle_gap: rows
            .iter()
            .filter_map(|r| r.worst_oracle_gap)
            .max_by(|a, b| a.ln().abs().total_cmp(&b.ln().abs())),
    }
}
