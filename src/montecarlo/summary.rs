//! What a grid cell reports, aggregated over its seeds (MODEL.md section 9). Every estimate
//! carries a standard error or an interval; undefined figures are `None`, never NaN.

use crate::config::Scenario;
use crate::simulation::{MarketRow, RunRow, flat_row};
use crate::stats::{
    Moments, QuantileEstimate, Z95, expected_shortfall, quantile_sorted, quantile_with_bounds,
    upper_bound_rank, wilson,
};

/// Aggregates of one cell.
#[derive(Clone, Debug, PartialEq)]
pub struct CellSummary {
    pub runs: u64,
    pub fund_initial: f64,
    pub depletions: u64,
    pub depletion_probability: f64,
    pub depletion_ci95: (f64, f64),
    pub bad_debt_mean: f64,
    pub bad_debt_mean_se: f64,
    pub bad_debt_p50: f64,
    pub bad_debt_p95: f64,
    pub bad_debt_p99: f64,
    /// VaR95: p95 of bad debt (Gauntlet's definition), with its order-statistic interval.
    pub var95: QuantileEstimate,
    pub var99: QuantileEstimate,
    pub cvar95: f64,
    pub cvar95_se: f64,
    pub cvar99: f64,
    pub cvar99_se: f64,
    pub bad_debt_uncovered_mean: f64,
    pub bad_debt_uncovered_mean_se: f64,
    /// LaR95: p95 of liquidated notional.
    pub lar95: QuantileEstimate,
    pub liquidation_count_mean: f64,
    pub liquidation_count_mean_se: f64,
    pub liquidation_notional_mean: f64,
    pub liquidation_notional_mean_se: f64,
    pub slippage_loss_mean: f64,
    pub slippage_loss_mean_se: f64,
    pub slippage_loss_p99: QuantileEstimate,
    pub penalty_paid_mean: f64,
    pub penalty_paid_mean_se: f64,
    pub adl_probability: f64,
    pub adl_ci95: (f64, f64),
    pub adl_notional_mean: f64,
    pub adl_notional_mean_se: f64,
    pub socialized_loss_mean: f64,
    pub socialized_loss_mean_se: f64,
    pub cascade_count_mean: f64,
    pub cascade_count_mean_se: f64,
    pub cascade_longest_steps_mean: f64,
    pub cascade_longest_steps_mean_se: f64,
    pub cascade_longest_steps_max: u32,
    pub cascade_largest_notional_mean: f64,
    pub cascade_largest_notional_mean_se: f64,
    pub cascade_largest_notional_p99: QuantileEstimate,
    /// Mean induced share over runs with liquidations.
    pub induced_share_mean: Option<f64>,
    pub induced_share_mean_se: Option<f64>,
    /// Mean recovery rate over runs with liquidation losses.
    pub recovery_rate_mean: Option<f64>,
    pub recovery_rate_mean_se: Option<f64>,
    pub worst_mark_index_ratio_min: f64,
    pub index_max_drawdown_mean: f64,
    pub index_max_drawdown_mean_se: f64,
    pub open_interest_mean: f64,
    /// `F0 / VaR99`; `None` when VaR99 is 0.
    pub fund_to_var99: Option<f64>,
    /// `F0 / mean open interest`.
    pub fund_to_open_interest: f64,
    pub required_capital_mean: f64,
    pub required_capital_mean_se: f64,
    pub required_capital_q95: QuantileEstimate,
    pub required_capital_q99: QuantileEstimate,
    pub required_capital_q999: QuantileEstimate,
    pub required_capital_max: f64,
    /// One-sided 95% upper confidence bound of required capital q99 (MODEL.md section 10).
    pub required_capital_q99_ub95: Option<f64>,
    pub fund_final_mean: f64,
    pub fund_final_mean_se: f64,
    pub fund_min_mean: f64,
    pub fund_min_mean_se: f64,
    pub ledger_imbalance_max: f64,
    /// A column that held NaN or an infinity in some run (a bug), if any.
    pub non_finite_column: Option<&'static str>,
    /// Shared fund of several markets: mean spill-over (what other markets' stake paid for a
    /// market's deficits) and the share of runs with any.
    pub spillover_mean: f64,
    pub spillover_mean_se: f64,
    pub spillover_probability: f64,
    /// Agents: decisions, re-entries, reserve added, keepers' profit and positions no keeper
    /// took, per run.
    pub decisions_mean: f64,
    pub reentries_mean: f64,
    pub reserve_added_mean: f64,
    pub keeper_profit_mean: f64,
    pub keeper_profit_mean_se: f64,
    pub left_waiting_mean: f64,
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

fn q(sorted: &[f64], p: f64) -> QuantileEstimate {
    quantile_with_bounds(sorted, p, 0.95).unwrap_or(QuantileEstimate {
        value: 0.0,
        lower: None,
        upper: None,
    })
}

/// Aggregates the runs of one cell (`rows` non-empty).
pub fn summarize(scenario: &Scenario, rows: &[RunRow]) -> CellSummary {
    let n = rows.len() as u64;
    let f0 = scenario.fund_initial();
    let depletions = rows.iter().filter(|r| r.depleted).count() as u64;
    let adls = rows.iter().filter(|r| r.adl_count > 0).count() as u64;
    let bad_debt = sorted(rows, |r| r.bad_debt);
    let required = sorted(rows, |r| r.required_capital);
    let liq_notional = sorted(rows, |r| r.liquidation_notional);
    let slippage = sorted(rows, |r| r.slippage_loss);
    let largest_cascade = sorted(rows, |r| r.cascade_largest_notional);
    let es95 = expected_shortfall(&bad_debt, 0.95).expect("non-empty");
    let es99 = expected_shortfall(&bad_debt, 0.99).expect("non-empty");
    let var99 = q(&bad_debt, 0.99);
    let m = |f: fn(&RunRow) -> f64| mean_se(&moments(rows, |r| Some(f(r))));
    let (bad_debt_mean, bad_debt_mean_se) = m(|r| r.bad_debt);
    let (uncovered_mean, uncovered_se) = m(|r| r.bad_debt_uncovered);
    let (liq_count_mean, liq_count_se) = m(|r| r.liquidation_count as f64);
    let (liq_notional_mean, liq_notional_se) = m(|r| r.liquidation_notional);
    let (slip_mean, slip_se) = m(|r| r.slippage_loss);
    let (pen_mean, pen_se) = m(|r| r.penalty_paid);
    let (adl_n_mean, adl_n_se) = m(|r| r.adl_notional);
    let (soc_mean, soc_se) = m(|r| r.socialized_loss);
    let (cc_mean, cc_se) = m(|r| r.cascade_count as f64);
    let (cl_mean, cl_se) = m(|r| r.cascade_longest_steps as f64);
    let (cn_mean, cn_se) = m(|r| r.cascade_largest_notional);
    let (dd_mean, dd_se) = m(|r| r.index_max_drawdown);
    let (oi_mean, _) = m(|r| r.open_interest);
    let (rc_mean, rc_se) = m(|r| r.required_capital);
    let (ff_mean, ff_se) = m(|r| r.fund_final);
    let (fm_mean, fm_se) = m(|r| r.fund_min);
    let induced = moments(rows, |r| r.induced_share);
    let recovery = moments(rows, |r| r.recovery_rate);
    let (spill_mean, spill_se) = m(|r| r.spillover);
    let (keeper_mean, keeper_se) = m(|r| r.keeper_profit);
    let worst_ratio = rows
        .iter()
        .map(|r| r.worst_mark_index_ratio)
        .max_by(|a, b| a.ln().abs().total_cmp(&b.ln().abs()))
        .unwrap_or(1.0);
    CellSummary {
        runs: n,
        fund_initial: f0,
        depletions,
        depletion_probability: depletions as f64 / n as f64,
        depletion_ci95: wilson(depletions, n, Z95).unwrap_or((0.0, 1.0)),
        bad_debt_mean,
        bad_debt_mean_se,
        bad_debt_p50: quantile_sorted(&bad_debt, 0.5).unwrap_or(0.0),
        bad_debt_p95: quantile_sorted(&bad_debt, 0.95).unwrap_or(0.0),
        bad_debt_p99: var99.value,
        var95: q(&bad_debt, 0.95),
        var99,
        cvar95: es95.value,
        cvar95_se: es95.std_error,
        cvar99: es99.value,
        cvar99_se: es99.std_error,
        bad_debt_uncovered_mean: uncovered_mean,
        bad_debt_uncovered_mean_se: uncovered_se,
        lar95: q(&liq_notional, 0.95),
        liquidation_count_mean: liq_count_mean,
        liquidation_count_mean_se: liq_count_se,
        liquidation_notional_mean: liq_notional_mean,
        liquidation_notional_mean_se: liq_notional_se,
        slippage_loss_mean: slip_mean,
        slippage_loss_mean_se: slip_se,
        slippage_loss_p99: q(&slippage, 0.99),
        penalty_paid_mean: pen_mean,
        penalty_paid_mean_se: pen_se,
        adl_probability: adls as f64 / n as f64,
        adl_ci95: wilson(adls, n, Z95).unwrap_or((0.0, 1.0)),
        adl_notional_mean: adl_n_mean,
        adl_notional_mean_se: adl_n_se,
        socialized_loss_mean: soc_mean,
        socialized_loss_mean_se: soc_se,
        cascade_count_mean: cc_mean,
        cascade_count_mean_se: cc_se,
        cascade_longest_steps_mean: cl_mean,
        cascade_longest_steps_mean_se: cl_se,
        cascade_longest_steps_max: rows
            .iter()
            .map(|r| r.cascade_longest_steps)
            .max()
            .unwrap_or(0),
        cascade_largest_notional_mean: cn_mean,
        cascade_largest_notional_mean_se: cn_se,
        cascade_largest_notional_p99: q(&largest_cascade, 0.99),
        induced_share_mean: induced.mean(),
        induced_share_mean_se: induced.std_error(),
        recovery_rate_mean: recovery.mean(),
        recovery_rate_mean_se: recovery.std_error(),
        worst_mark_index_ratio_min: worst_ratio,
        index_max_drawdown_mean: dd_mean,
        index_max_drawdown_mean_se: dd_se,
        open_interest_mean: oi_mean,
        fund_to_var99: (var99.value > 0.0).then(|| f0 / var99.value),
        fund_to_open_interest: if oi_mean > 0.0 { f0 / oi_mean } else { 0.0 },
        required_capital_mean: rc_mean,
        required_capital_mean_se: rc_se,
        required_capital_q95: q(&required, 0.95),
        required_capital_q99: q(&required, 0.99),
        required_capital_q999: q(&required, 0.999),
        required_capital_max: required.last().copied().unwrap_or(0.0),
        required_capital_q99_ub95: upper_bound_rank(n, 0.99, 0.95)
            .map(|u| required[u as usize - 1]),
        fund_final_mean: ff_mean,
        fund_final_mean_se: ff_se,
        fund_min_mean: fm_mean,
        fund_min_mean_se: fm_se,
        ledger_imbalance_max: rows.iter().map(|r| r.ledger_imbalance).fold(0.0, f64::max),
        non_finite_column: rows.iter().find_map(RunRow::non_finite_column),
        spillover_mean: spill_mean,
        spillover_mean_se: spill_se,
        spillover_probability: rows.iter().filter(|r| r.spillover > 0.0).count() as f64 / n as f64,
        decisions_mean: m(|r| r.decisions as f64).0,
        reentries_mean: m(|r| r.reentries as f64).0,
        reserve_added_mean: m(|r| r.reserve_added).0,
        keeper_profit_mean: keeper_mean,
        keeper_profit_mean_se: keeper_se,
        left_waiting_mean: m(|r| r.left_waiting as f64).0,
    }
}

impl CellSummary {
    /// The summary as named columns (in a fixed order) for tables; `None` where undefined.
    pub fn columns(&self) -> Vec<(&'static str, Option<f64>)> {
        let qe = |name: [&'static str; 3], e: &QuantileEstimate| {
            [
                (name[0], Some(e.value)),
                (name[1], e.lower),
                (name[2], e.upper),
            ]
        };
        let mut c: Vec<(&'static str, Option<f64>)> = vec![
            ("runs", Some(self.runs as f64)),
            ("fund_initial", Some(self.fund_initial)),
            ("depletions", Some(self.depletions as f64)),
            ("depletion_probability", Some(self.depletion_probability)),
            ("depletion_probability_lo95", Some(self.depletion_ci95.0)),
            ("depletion_probability_hi95", Some(self.depletion_ci95.1)),
            ("bad_debt_mean", Some(self.bad_debt_mean)),
            ("bad_debt_mean_se", Some(self.bad_debt_mean_se)),
            ("bad_debt_p50", Some(self.bad_debt_p50)),
        ];
        c.extend(qe(
            [
                "bad_debt_var95",
                "bad_debt_var95_lo95",
                "bad_debt_var95_hi95",
            ],
            &self.var95,
        ));
        c.extend(qe(
            [
                "bad_debt_var99",
                "bad_debt_var99_lo95",
                "bad_debt_var99_hi95",
            ],
            &self.var99,
        ));
        c.extend([
            ("bad_debt_cvar95", Some(self.cvar95)),
            ("bad_debt_cvar95_se", Some(self.cvar95_se)),
            ("bad_debt_cvar99", Some(self.cvar99)),
            ("bad_debt_cvar99_se", Some(self.cvar99_se)),
            (
                "bad_debt_uncovered_mean",
                Some(self.bad_debt_uncovered_mean),
            ),
            (
                "bad_debt_uncovered_mean_se",
                Some(self.bad_debt_uncovered_mean_se),
            ),
        ]);
        c.extend(qe(
            [
                "liquidated_notional_lar95",
                "liquidated_notional_lar95_lo95",
                "liquidated_notional_lar95_hi95",
            ],
            &self.lar95,
        ));
        c.extend([
            ("liquidation_count_mean", Some(self.liquidation_count_mean)),
            (
                "liquidation_count_mean_se",
                Some(self.liquidation_count_mean_se),
            ),
            (
                "liquidation_notional_mean",
                Some(self.liquidation_notional_mean),
            ),
            (
                "liquidation_notional_mean_se",
                Some(self.liquidation_notional_mean_se),
            ),
            ("slippage_loss_mean", Some(self.slippage_loss_mean)),
            ("slippage_loss_mean_se", Some(self.slippage_loss_mean_se)),
        ]);
        c.extend(qe(
            [
                "slippage_loss_p99",
                "slippage_loss_p99_lo95",
                "slippage_loss_p99_hi95",
            ],
            &self.slippage_loss_p99,
        ));
        c.extend([
            ("penalty_paid_mean", Some(self.penalty_paid_mean)),
            ("penalty_paid_mean_se", Some(self.penalty_paid_mean_se)),
            ("adl_probability", Some(self.adl_probability)),
            ("adl_probability_lo95", Some(self.adl_ci95.0)),
            ("adl_probability_hi95", Some(self.adl_ci95.1)),
            ("adl_notional_mean", Some(self.adl_notional_mean)),
            ("adl_notional_mean_se", Some(self.adl_notional_mean_se)),
            ("socialized_loss_mean", Some(self.socialized_loss_mean)),
            (
                "socialized_loss_mean_se",
                Some(self.socialized_loss_mean_se),
            ),
            ("cascade_count_mean", Some(self.cascade_count_mean)),
            ("cascade_count_mean_se", Some(self.cascade_count_mean_se)),
            (
                "cascade_longest_steps_mean",
                Some(self.cascade_longest_steps_mean),
            ),
            (
                "cascade_longest_steps_mean_se",
                Some(self.cascade_longest_steps_mean_se),
            ),
            (
                "cascade_longest_steps_max",
                Some(self.cascade_longest_steps_max as f64),
            ),
            (
                "cascade_largest_notional_mean",
                Some(self.cascade_largest_notional_mean),
            ),
            (
                "cascade_largest_notional_mean_se",
                Some(self.cascade_largest_notional_mean_se),
            ),
        ]);
        c.extend(qe(
            [
                "cascade_largest_notional_p99",
                "cascade_largest_notional_p99_lo95",
                "cascade_largest_notional_p99_hi95",
            ],
            &self.cascade_largest_notional_p99,
        ));
        c.extend([
            ("induced_share_mean", self.induced_share_mean),
            ("induced_share_mean_se", self.induced_share_mean_se),
            ("recovery_rate_mean", self.recovery_rate_mean),
            ("recovery_rate_mean_se", self.recovery_rate_mean_se),
            (
                "worst_mark_index_ratio",
                Some(self.worst_mark_index_ratio_min),
            ),
            (
                "index_max_drawdown_mean",
                Some(self.index_max_drawdown_mean),
            ),
            (
                "index_max_drawdown_mean_se",
                Some(self.index_max_drawdown_mean_se),
            ),
            ("open_interest_mean", Some(self.open_interest_mean)),
            ("fund_to_var99", self.fund_to_var99),
            ("fund_to_open_interest", Some(self.fund_to_open_interest)),
            ("required_capital_mean", Some(self.required_capital_mean)),
            (
                "required_capital_mean_se",
                Some(self.required_capital_mean_se),
            ),
        ]);
        c.extend(qe(
            [
                "required_capital_q95",
                "required_capital_q95_lo95",
                "required_capital_q95_hi95",
            ],
            &self.required_capital_q95,
        ));
        c.extend(qe(
            [
                "required_capital_q99",
                "required_capital_q99_lo95",
                "required_capital_q99_hi95",
            ],
            &self.required_capital_q99,
        ));
        c.extend(qe(
            [
                "required_capital_q999",
                "required_capital_q999_lo95",
                "required_capital_q999_hi95",
            ],
            &self.required_capital_q999,
        ));
        c.extend([
            ("required_capital_q99_ub95", self.required_capital_q99_ub95),
            ("required_capital_max", Some(self.required_capital_max)),
            ("fund_final_mean", Some(self.fund_final_mean)),
            ("fund_final_mean_se", Some(self.fund_final_mean_se)),
            ("fund_min_mean", Some(self.fund_min_mean)),
            ("fund_min_mean_se", Some(self.fund_min_mean_se)),
            ("ledger_imbalance_max", Some(self.ledger_imbalance_max)),
            ("spillover_mean", Some(self.spillover_mean)),
            ("spillover_mean_se", Some(self.spillover_mean_se)),
            ("spillover_probability", Some(self.spillover_probability)),
            ("decisions_mean", Some(self.decisions_mean)),
            ("reentries_mean", Some(self.reentries_mean)),
            ("reserve_added_mean", Some(self.reserve_added_mean)),
            ("keeper_profit_mean", Some(self.keeper_profit_mean)),
            ("keeper_profit_mean_se", Some(self.keeper_profit_mean_se)),
            ("left_waiting_mean", Some(self.left_waiting_mean)),
        ]);
        c
    }
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
    }
}
