//! What a grid cell reports, aggregated over its seeds (MODEL.md section 9). Every estimate
//! carries a standard error or an interval; undefined figures are `None`, never NaN.

use crate::config::Scenario;
use crate::simulation::{MarketRow, RunRow, flat_row};
use crate::stats::{Moments, SampleMoments, SortedSample, Z95, upper_bound_rank, wilson_of};
use std::num::NonZeroU64;

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
        bad_debt_mean_se: Option<f64>,
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
        bad_debt_cvar95_se: Option<f64>,
        bad_debt_cvar99: f64,
        bad_debt_cvar99_se: Option<f64>,
        bad_debt_uncovered_mean: f64,
        bad_debt_uncovered_mean_se: Option<f64>,
        /// Mean bad debt over mean open interest: "less bad debt" that is not merely "less was
        /// at risk" (MODEL.md section 8).
        bad_debt_to_open_interest: Option<f64>,
        /// LaR95: p95 of liquidated notional.
        liquidated_notional_lar95: f64,
        liquidated_notional_lar95_lo95: Option<f64>,
        liquidated_notional_lar95_hi95: Option<f64>,
        liquidation_count_mean: f64,
        liquidation_count_mean_se: Option<f64>,
        liquidation_notional_mean: f64,
        liquidation_notional_mean_se: Option<f64>,
        slippage_loss_mean: f64,
        slippage_loss_mean_se: Option<f64>,
        slippage_loss_p99: f64,
        slippage_loss_p99_lo95: Option<f64>,
        slippage_loss_p99_hi95: Option<f64>,
        penalty_paid_mean: f64,
        penalty_paid_mean_se: Option<f64>,
        adl_probability: f64,
        adl_probability_lo95: f64,
        adl_probability_hi95: f64,
        adl_notional_mean: f64,
        adl_notional_mean_se: Option<f64>,
        socialized_loss_mean: f64,
        socialized_loss_mean_se: Option<f64>,
        cascade_count_mean: f64,
        cascade_count_mean_se: Option<f64>,
        cascade_longest_steps_mean: f64,
        cascade_longest_steps_mean_se: Option<f64>,
        cascade_longest_steps_max: u32,
        cascade_largest_notional_mean: f64,
        cascade_largest_notional_mean_se: Option<f64>,
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
        index_max_drawdown_mean_se: Option<f64>,
        open_interest_mean: f64,
        /// `F0 / VaR99`; empty when VaR99 is 0.
        fund_to_var99: Option<f64>,
        /// `F0 / mean open interest`.
        fund_to_open_interest: f64,
        required_capital_mean: f64,
        required_capital_mean_se: Option<f64>,
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
        fund_final_mean_se: Option<f64>,
        fund_min_mean: f64,
        fund_min_mean_se: Option<f64>,
        ledger_imbalance_max: f64,
        /// Shared fund of several markets: mean spill-over (what other markets' stake paid for
        /// a market's deficits) and the share of runs with any.
        spillover_mean: f64,
        spillover_mean_se: Option<f64>,
        spillover_probability: f64,
        /// Agents: decisions, re-entries, reserve added, keepers' profit and positions no
        /// keeper took, per run.
        decisions_mean: f64,
        reentries_mean: f64,
        reserve_added_mean: f64,
        keeper_profit_mean: f64,
        keeper_profit_mean_se: Option<f64>,
        left_waiting_mean: f64,
        /// Voluntary de-risking (MODEL.md section 8): closing notional and its slippage per
        /// run, the net signed voluntary flow inside cascades (negative: behavioral traders
        /// sold into them), herders who de-risked, and other venues' forced flow.
        voluntary_close_notional_mean: f64,
        voluntary_close_notional_mean_se: Option<f64>,
        voluntary_close_slippage_mean: f64,
        cascade_voluntary_flow_mean: f64,
        cascade_voluntary_flow_mean_se: Option<f64>,
        herders_derisked_mean: f64,
        other_venue_notional_mean: f64,
        /// Lending: insolvent debt (bad debt plus what loans' collateral no longer covers at
        /// the end), its mean and Gauntlet's VaR95 (p95) with its interval.
        insolvent_debt_mean: f64,
        insolvent_debt_mean_se: Option<f64>,
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
        inventory_pnl_mean_se: Option<f64>,
        /// OKX's early auto-deleveraging: the share of runs in which it fired, with its
        /// Wilson interval.
        early_adl_probability: f64,
        early_adl_probability_lo95: f64,
        early_adl_probability_hi95: f64,
    }
}

/// The runs of one cell, or of one market in it: at least one by construction (the first is
/// held apart), so every mean, quantile and interval over them exists and none needs a
/// fallback. Values are taken in the rows' order.
#[derive(Debug)]
pub struct CellRuns<'a, R> {
    first: &'a R,
    rest: &'a [R],
}

// By hand: a view of borrowed rows copies whatever the rows are (derive would ask `R: Copy`).
impl<R> Clone for CellRuns<'_, R> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<R> Copy for CellRuns<'_, R> {}

impl<'a, R> CellRuns<'a, R> {
    /// `None` for no rows.
    pub fn new(rows: &'a [R]) -> Option<Self> {
        rows.split_first().map(|(first, rest)| Self { first, rest })
    }

    fn iter(&self) -> impl Iterator<Item = &'a R> + 'a {
        std::iter::once(self.first).chain(self.rest)
    }

    fn n(&self) -> NonZeroU64 {
        NonZeroU64::MIN.saturating_add(self.rest.len() as u64)
    }

    fn moments(&self, f: impl Fn(&R) -> f64) -> SampleMoments {
        SampleMoments::new(f(self.first), self.rest.iter().map(f))
    }

    /// Mean of a figure of every run.
    fn mean(&self, f: impl Fn(&R) -> f64) -> f64 {
        self.moments(f).mean()
    }

    /// Mean and standard error (`None` for one run) of a figure of every run.
    fn mean_se(&self, f: impl Fn(&R) -> f64) -> (f64, Option<f64>) {
        let m = self.moments(f);
        (m.mean(), m.std_error())
    }

    /// Mean and standard error of a figure only some runs have (`None` when none has it).
    fn mean_where(&self, f: impl Fn(&R) -> Option<f64>) -> (Option<f64>, Option<f64>) {
        let m: Moments = self.iter().filter_map(f).collect();
        (m.mean(), m.std_error())
    }

    fn sample(&self, f: impl Fn(&R) -> f64) -> SortedSample {
        SortedSample::from_first(f(self.first), self.rest.iter().map(f))
    }

    fn count(&self, f: impl Fn(&R) -> bool) -> u64 {
        self.iter().filter(|r| f(r)).count() as u64
    }

    /// The share of runs for which `f` holds, with its Wilson 95% interval.
    fn share(&self, f: impl Fn(&R) -> bool) -> (f64, f64, f64) {
        probability(self.count(f), self.n())
    }

    /// The ratio furthest from 1 (in log) of a figure of every run.
    fn furthest_from_one(&self, f: impl Fn(&R) -> f64) -> f64 {
        self.rest.iter().map(&f).fold(f(self.first), |a, b| {
            if b.ln().abs() >= a.ln().abs() { b } else { a }
        })
    }
}

/// The `p`-quantile of a sample with its 95% order-statistic interval.
fn q(sample: &SortedSample, p: f64) -> (f64, Option<f64>, Option<f64>) {
    let e = sample.quantile_with_bounds(p, 0.95);
    (e.value, e.lower, e.upper)
}

/// A share of `n` runs with its Wilson 95% interval.
fn probability(k: u64, n: NonZeroU64) -> (f64, f64, f64) {
    let (lo, hi) = wilson_of(k, n, Z95);
    (k as f64 / n.get() as f64, lo, hi)
}

/// Aggregates the runs of one cell (`rows` non-empty).
pub fn summarize(scenario: &Scenario, rows: CellRuns<RunRow>) -> CellSummary {
    let mut s = CellSummary {
        runs: rows.n().get() as u32,
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
fn takeover(s: &mut CellSummary, rows: CellRuns<RunRow>) {
    s.taken_over_notional_mean = rows.mean(|r| r.taken_over_notional);
    s.taken_over_probability = rows.share(|r| r.taken_over_notional > 0.0).0;
    let peak = rows.sample(|r| r.inventory_peak_loss);
    s.inventory_peak_loss_mean = rows.mean(|r| r.inventory_peak_loss);
    (
        s.inventory_peak_loss_p99,
        s.inventory_peak_loss_p99_lo95,
        s.inventory_peak_loss_p99_hi95,
    ) = q(&peak, 0.99);
    (s.inventory_pnl_mean, s.inventory_pnl_mean_se) = rows.mean_se(|r| r.inventory_pnl);
    (
        s.early_adl_probability,
        s.early_adl_probability_lo95,
        s.early_adl_probability_hi95,
    ) = rows.share(|r| r.early_adl_step.is_some());
}

/// Lending figures (MODEL.md section 14): insolvent debt and its VaR95, what the treasury
/// took and paid. LaR95 is `liquidated_notional_lar95`: for lending markets, their
/// liquidated notional is the debt repaid.
fn lending(s: &mut CellSummary, rows: CellRuns<RunRow>) {
    let insolvent = rows.sample(|r| r.insolvent_debt);
    (s.insolvent_debt_mean, s.insolvent_debt_mean_se) = rows.mean_se(|r| r.insolvent_debt);
    (
        s.insolvent_debt_var95,
        s.insolvent_debt_var95_lo95,
        s.insolvent_debt_var95_hi95,
    ) = q(&insolvent, 0.95);
    s.underwater_debt_mean = rows.mean(|r| r.underwater_debt);
    s.protocol_fees_mean = rows.mean(|r| r.protocol_fees);
    s.deficit_offset_mean = rows.mean(|r| r.deficit_offset);
    s.keeper_incentives_mean = rows.mean(|r| r.keeper_incentives);
}

/// Depletion (section 5), bad debt and its tail (VaR, CVaR), ADL and socialized losses.
fn depletion_and_losses(s: &mut CellSummary, rows: CellRuns<RunRow>) {
    s.depletions = rows.count(|r| r.depleted) as u32;
    (
        s.depletion_probability,
        s.depletion_probability_lo95,
        s.depletion_probability_hi95,
    ) = rows.share(|r| r.depleted);
    let bad_debt = rows.sample(|r| r.bad_debt);
    (s.bad_debt_mean, s.bad_debt_mean_se) = rows.mean_se(|r| r.bad_debt);
    s.bad_debt_p50 = bad_debt.quantile(0.5);
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
    let es95 = bad_debt.expected_shortfall(0.95);
    let es99 = bad_debt.expected_shortfall(0.99);
    (s.bad_debt_cvar95, s.bad_debt_cvar95_se) = (es95.value, es95.std_error);
    (s.bad_debt_cvar99, s.bad_debt_cvar99_se) = (es99.value, es99.std_error);
    (s.bad_debt_uncovered_mean, s.bad_debt_uncovered_mean_se) =
        rows.mean_se(|r| r.bad_debt_uncovered);
    (
        s.adl_probability,
        s.adl_probability_lo95,
        s.adl_probability_hi95,
    ) = rows.share(|r| r.adl_count > 0);
    (s.adl_notional_mean, s.adl_notional_mean_se) = rows.mean_se(|r| r.adl_notional);
    (s.socialized_loss_mean, s.socialized_loss_mean_se) = rows.mean_se(|r| r.socialized_loss);
}

/// Forced closes: how many, how much, LaR95, slippage and penalties, the mark's worst gap.
fn liquidations(s: &mut CellSummary, rows: CellRuns<RunRow>) {
    let liquidated = rows.sample(|r| r.liquidation_notional);
    let slippage = rows.sample(|r| r.slippage_loss);
    (
        s.liquidated_notional_lar95,
        s.liquidated_notional_lar95_lo95,
        s.liquidated_notional_lar95_hi95,
    ) = q(&liquidated, 0.95);
    (s.liquidation_count_mean, s.liquidation_count_mean_se) =
        rows.mean_se(|r| r.liquidation_count as f64);
    (s.liquidation_notional_mean, s.liquidation_notional_mean_se) =
        rows.mean_se(|r| r.liquidation_notional);
    (s.slippage_loss_mean, s.slippage_loss_mean_se) = rows.mean_se(|r| r.slippage_loss);
    (
        s.slippage_loss_p99,
        s.slippage_loss_p99_lo95,
        s.slippage_loss_p99_hi95,
    ) = q(&slippage, 0.99);
    (s.penalty_paid_mean, s.penalty_paid_mean_se) = rows.mean_se(|r| r.penalty_paid);
    (s.recovery_rate_mean, s.recovery_rate_mean_se) = rows.mean_where(|r| r.recovery_rate);
    s.worst_mark_index_ratio = rows.furthest_from_one(|r| r.worst_mark_index_ratio);
    (s.index_max_drawdown_mean, s.index_max_drawdown_mean_se) =
        rows.mean_se(|r| r.index_max_drawdown);
}

/// Cascades (section 8): count, longest, largest, and the share induced by impact.
fn cascades(s: &mut CellSummary, rows: CellRuns<RunRow>) {
    (s.cascade_count_mean, s.cascade_count_mean_se) = rows.mean_se(|r| r.cascade_count as f64);
    (
        s.cascade_longest_steps_mean,
        s.cascade_longest_steps_mean_se,
    ) = rows.mean_se(|r| r.cascade_longest_steps as f64);
    s.cascade_longest_steps_max = rows
        .iter()
        .map(|r| r.cascade_longest_steps)
        .fold(0, u32::max);
    (
        s.cascade_largest_notional_mean,
        s.cascade_largest_notional_mean_se,
    ) = rows.mean_se(|r| r.cascade_largest_notional);
    let largest = rows.sample(|r| r.cascade_largest_notional);
    (
        s.cascade_largest_notional_p99,
        s.cascade_largest_notional_p99_lo95,
        s.cascade_largest_notional_p99_hi95,
    ) = q(&largest, 0.99);
    (s.induced_share_mean, s.induced_share_mean_se) = rows.mean_where(|r| r.induced_share);
}

/// Required capital and its quantiles (sections 5 and 10), the solvency ratios, the fund.
fn capital(s: &mut CellSummary, rows: CellRuns<RunRow>) {
    let n = rows.n().get();
    let f0 = s.fund_initial;
    let required = rows.sample(|r| r.required_capital);
    (s.required_capital_mean, s.required_capital_mean_se) = rows.mean_se(|r| r.required_capital);
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
    s.required_capital_max = required.max();
    s.required_capital_q99_ub95 =
        upper_bound_rank(n, 0.99, 0.95).map(|u| required.values()[u as usize - 1]);
    s.open_interest_mean = rows.mean(|r| r.open_interest);
    let oi = s.open_interest_mean;
    s.fund_to_var99 = (s.bad_debt_var99 > 0.0).then(|| f0 / s.bad_debt_var99);
    s.fund_to_open_interest = if oi > 0.0 { f0 / oi } else { 0.0 };
    s.bad_debt_to_open_interest = (oi > 0.0).then(|| s.bad_debt_mean / oi);
    (s.fund_final_mean, s.fund_final_mean_se) = rows.mean_se(|r| r.fund_final);
    (s.fund_min_mean, s.fund_min_mean_se) = rows.mean_se(|r| r.fund_min);
    s.ledger_imbalance_max = rows.iter().map(|r| r.ledger_imbalance).fold(0.0, f64::max);
    (s.spillover_mean, s.spillover_mean_se) = rows.mean_se(|r| r.spillover);
    s.spillover_probability = rows.share(|r| r.spillover > 0.0).0;
}

/// What the agents did: decisions, re-entries, reserves, keepers.
fn agents(s: &mut CellSummary, rows: CellRuns<RunRow>) {
    s.decisions_mean = rows.mean(|r| r.decisions as f64);
    s.reentries_mean = rows.mean(|r| r.reentries as f64);
    s.reserve_added_mean = rows.mean(|r| r.reserve_added);
    (s.keeper_profit_mean, s.keeper_profit_mean_se) = rows.mean_se(|r| r.keeper_profit);
    s.left_waiting_mean = rows.mean(|r| r.left_waiting as f64);
    (
        s.voluntary_close_notional_mean,
        s.voluntary_close_notional_mean_se,
    ) = rows.mean_se(|r| r.voluntary_close_notional);
    s.voluntary_close_slippage_mean = rows.mean(|r| r.voluntary_close_slippage);
    (
        s.cascade_voluntary_flow_mean,
        s.cascade_voluntary_flow_mean_se,
    ) = rows.mean_se(|r| r.cascade_voluntary_flow);
    s.herders_derisked_mean = rows.mean(|r| r.herders_derisked as f64);
    s.other_venue_notional_mean = rows.mean(|r| r.other_venue_notional);
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
        bad_debt_mean_se: Option<f64>,
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
        fund_paid_mean_se: Option<f64>,
        bad_debt_uncovered_mean: f64,
        socialized_loss_mean: f64,
        adl_probability: f64,
        /// What a shared fund paid for this market beyond its own stake.
        spillover_mean: f64,
        spillover_mean_se: Option<f64>,
        spillover_probability: f64,
        liquidation_count_mean: f64,
        liquidation_notional_mean: f64,
        liquidation_notional_mean_se: Option<f64>,
        /// LaR95: p95 of the market's liquidated notional.
        liquidated_notional_lar95: f64,
        slippage_loss_mean: f64,
        slippage_loss_mean_se: Option<f64>,
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
/// row names its market). A market with no row in the cell is an error naming it.
pub fn summarize_markets(
    scenario: &Scenario,
    rows: &[MarketRow],
) -> Result<Vec<MarketSummary>, EmptyCell> {
    (0..scenario.markets().len())
        .map(|m| {
            let mine: Vec<MarketRow> = rows
                .iter()
                .filter(|r| r.market as usize == m)
                .copied()
                .collect();
            let runs = CellRuns::new(&mine).ok_or(EmptyCell { market: Some(m) })?;
            Ok(summarize_market(m as u32, runs))
        })
        .collect()
}

/// A cell, or one market of it, with no run to summarize: `cell_rows` gave nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EmptyCell {
    pub market: Option<usize>,
}

impl std::fmt::Display for EmptyCell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.market {
            Some(m) => write!(f, "market {m} of a cell has no run to summarize"),
            None => write!(f, "a cell has no run to summarize"),
        }
    }
}

impl std::error::Error for EmptyCell {}

/// One market's summary from its rows (one per run).
fn summarize_market(market: u32, rows: CellRuns<MarketRow>) -> MarketSummary {
    let m = |f: fn(&MarketRow) -> f64| rows.mean_se(f);
    let bad_debt = rows.sample(|r| r.bad_debt);
    let (bad_debt_mean, bad_debt_mean_se) = m(|r| r.bad_debt);
    let open_interest_mean = rows.mean(|r| r.open_interest);
    let (with_debt, lo, hi) = rows.share(|r| r.bad_debt > 0.0);
    let (fund_paid_mean, fund_paid_mean_se) = m(|r| r.fund_paid);
    let (spillover_mean, spillover_mean_se) = m(|r| r.spillover);
    let (liquidation_notional_mean, liquidation_notional_mean_se) = m(|r| r.liquidation_notional);
    let (slippage_loss_mean, slippage_loss_mean_se) = m(|r| r.slippage_loss);
    MarketSummary {
        market,
        runs: rows.n().get() as u32,
        open_interest_mean,
        bad_debt_mean,
        bad_debt_mean_se,
        bad_debt_var95: bad_debt.quantile(0.95),
        bad_debt_var99: bad_debt.quantile(0.99),
        bad_debt_to_open_interest: (open_interest_mean > 0.0)
            .then(|| bad_debt_mean / open_interest_mean),
        bad_debt_probability: with_debt,
        bad_debt_probability_lo95: lo,
        bad_debt_probability_hi95: hi,
        fund_paid_mean,
        fund_paid_mean_se,
        bad_debt_uncovered_mean: rows.mean(|r| r.bad_debt_uncovered),
        socialized_loss_mean: rows.mean(|r| r.socialized_loss),
        adl_probability: rows.share(|r| r.adl_count > 0).0,
        spillover_mean,
        spillover_mean_se,
        spillover_probability: rows.share(|r| r.spillover > 0.0).0,
        liquidation_count_mean: rows.mean(|r| r.liquidation_count as f64),
        liquidation_notional_mean,
        liquidation_notional_mean_se,
        liquidated_notional_lar95: rows.sample(|r| r.liquidation_notional).quantile(0.95),
        slippage_loss_mean,
        slippage_loss_mean_se,
        penalty_paid_mean: rows.mean(|r| r.penalty_paid),
        fund_inflow_mean: rows.mean(|r| r.fund_inflow),
        fee_revenue_mean: rows.mean(|r| r.fee_revenue),
        left_waiting_mean: rows.mean(|r| r.left_waiting as f64),
        index_max_drawdown_mean: rows.mean(|r| r.index_max_drawdown),
        worst_mark_index_ratio: rows.furthest_from_one(|r| r.worst_mark_index_ratio),
        induced_share_mean: rows.mean_where(|r| r.induced_share).0,
        insolvent_debt_mean: rows.mean(|r| r.insolvent_debt),
        insolvent_debt_var95: rows.sample(|r| r.insolvent_debt).quantile(0.95),
        underwater_debt_mean: rows.mean(|r| r.underwater_debt),
        seized_value_mean: rows.mean(|r| r.seized_value),
        protocol_fees_mean: rows.mean(|r| r.protocol_fees),
        keeper_incentives_mean: rows.mean(|r| r.keeper_incentives),
        defender_spend_mean: rows.mean(|r| r.defender_spend),
        looped_debt_mean: rows.mean(|r| r.looped_debt),
        derisked_debt_mean: rows.mean(|r| r.derisked_debt),
        worst_oracle_gap: rows
            .iter()
            .filter_map(|r| r.worst_oracle_gap)
            .max_by(|a, b| a.ln().abs().total_cmp(&b.ln().abs())),
    }
}
