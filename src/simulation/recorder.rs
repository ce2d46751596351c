//! The run's figures (MODEL.md section 8), kept as the run goes: forced-close records and
//! what each step leaves, turned into the run's row at the end.
//!
//! The recorder reads; it never changes the run. A new market kind adds no recording code: it
//! returns the same [`ForcedClose`] records as every other kind.

use super::prices::Prices;
use super::row::{MarketRow, RunRow};
use super::view::{StepView, VoluntaryTrade};
use crate::config::Scenario;
use crate::protocol::{BorrowerFlows, ForcedClose, Leftover, Unwound, Venue};

/// One market's figures so far, and what they are worked out from.
#[derive(Clone, Copy, Debug, Default)]
struct MarketTotals {
    row: MarketRow,
    /// Highest index so far.
    peak: f64,
    /// Lowest index since the peak was reached.
    low: f64,
    /// `ln(mark / index)` furthest from 0 so far.
    worst_log_ratio: f64,
    induced_notional: f64,
}

/// The current cascade: consecutive steps with liquidations so far, and what they closed.
#[derive(Clone, Copy, Debug, Default)]
struct Cascade {
    steps: u32,
    notional: f64,
}

/// This step's forced closes, over all markets, for the step view.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct StepTotals {
    liquidations: u32,
    notional: f64,
    bad_debt: f64,
}

impl StepTotals {
    pub fn add(&mut self, c: &ForcedClose) {
        self.liquidations += 1;
        self.notional += c.notional;
        self.bad_debt += c.deficit;
    }
}

pub(super) struct Recorder {
    row: RunRow,
    markets: Vec<MarketTotals>,
    /// Losses of liquidated positions and the deficits they left, for the recovery rate (a
    /// holder's loss on inventory it took over is bad debt but not a liquidated position's).
    losses_of_liquidated: f64,
    deficits_of_liquidated: f64,
    /// Liquidated notional that the index alone would not have liquidated.
    induced_notional: f64,
    cascade: Cascade,
    /// `ln(mark / index)` furthest from 0 so far.
    worst_log_ratio: f64,
    ledger_max: f64,
    /// Lowest total fund balance at the end of a step (several funds).
    total_fund_min: f64,
}

impl Recorder {
    /// A recorder for seed `seed` of a run whose open interest at t = 0 is `open_interest`
    /// (`market_open_interest` in each market), with markets starting at `prices` and the
    /// venue's funds holding `fund_balance`.
    pub fn open(
        seed: u32,
        open_interest: f64,
        market_open_interest: &[f64],
        prices: &Prices,
        fund_balance: f64,
    ) -> Self {
        let markets = prices
            .iter()
            .zip(market_open_interest)
            .enumerate()
            .map(|(m, (p, &oi))| MarketTotals {
                row: MarketRow {
                    seed,
                    market: m as u32,
                    open_interest: oi,
                    ..MarketRow::default()
                },
                peak: p.mark.index(),
                low: p.mark.index(),
                ..MarketTotals::default()
            })
            .collect();
        Self {
            row: RunRow {
                seed,
                open_interest,
                ..RunRow::default()
            },
            markets,
            losses_of_liquidated: 0.0,
            deficits_of_liquidated: 0.0,
            induced_notional: 0.0,
            cascade: Cascade::default(),
            worst_log_ratio: 0.0,
            ledger_max: 0.0,
            total_fund_min: fund_balance,
        }
    }

    /// The index has moved: drawdowns from each market's peak. For a fixed peak the drawdown
    /// `1 - S / peak` falls as `S` rises (rounding keeps that order), so the deepest one since
    /// the peak is at the lowest index since the peak: only a new low needs the division.
    pub fn after_advance(&mut self, prices: &Prices) {
        for (t, p) in self.markets.iter_mut().zip(prices.iter()) {
            let index = p.mark.index();
            if index > t.peak {
                (t.peak, t.low) = (index, index);
            } else if index < t.low {
                t.low = index;
                let drawdown = 1.0 - index / t.peak;
                t.row.index_max_drawdown = t.row.index_max_drawdown.max(drawdown);
                self.row.index_max_drawdown = self.row.index_max_drawdown.max(drawdown);
            }
        }
    }

    /// Revenue of `amount` paid into the fund on market `m`'s behalf.
    pub fn revenue(&mut self, m: usize, amount: f64) {
        self.markets[m].row.fund_inflow += amount;
    }

    /// A forced close during the liquidation phase of a step.
    pub fn forced_close(&mut self, m: usize, c: &ForcedClose) {
        self.record(m, c);
        if c.induced {
            self.induced_notional += c.notional;
            self.markets[m].induced_notional += c.notional;
        }
        self.cascade.notional += c.notional;
    }

    /// A position no keeper took, closed by the venue's backstop at the end of the run.
    pub fn backstop_close(&mut self, m: usize, c: &ForcedClose) {
        self.row.left_waiting += 1;
        self.markets[m].row.left_waiting += 1;
        self.record(m, c);
    }

    #[inline]
    fn record(&mut self, m: usize, c: &ForcedClose) {
        let row = &mut self.row;
        row.liquidation_count += 1;
        row.liquidation_notional += c.notional;
        row.slippage_loss += c.slippage_loss;
        row.penalty_paid += c.penalty;
        row.penalty_to_fund += c.penalty_to_fund;
        row.bad_debt += c.deficit;
        row.bad_debt_uncovered += c.uncovered;
        row.adl_count += c.socialized.positions;
        row.adl_notional += c.socialized.notional;
        row.socialized_loss += c.socialized.covered;
        row.keeper_profit += c.keeper_profit;
        row.protocol_fees += c.protocol_fee;
        row.deficit_offset += c.offset_paid;
        row.keeper_incentives += c.incentive;
        let market = &mut self.markets[m].row;
        market.keeper_incentives += c.incentive;
        market.seized_value += c.seized_value;
        market.protocol_fees += c.protocol_fee;
        market.deficit_offset += c.offset_paid;
        market.liquidation_count += 1;
        market.liquidation_notional += c.notional;
        market.slippage_loss += c.slippage_loss;
        market.penalty_paid += c.penalty;
        market.bad_debt += c.deficit;
        market.fund_paid += c.fund_paid;
        market.bad_debt_uncovered += c.uncovered;
        market.adl_count += c.socialized.positions;
        market.adl_notional += c.socialized.notional;
        market.socialized_loss += c.socialized.covered;
        market.fund_inflow += c.penalty_to_fund;
        market.taken_over_notional += c.taken_over;
        self.row.taken_over_notional += c.taken_over;
        // A deficit is a loss the position made that its collateral did not meet, even where
        // the collateral went earlier (fees, losses realized before): never count less.
        self.losses_of_liquidated += c.position_loss.max(c.deficit);
        self.deficits_of_liquidated += c.deficit;
    }

    /// A holder sold part of its inventory back to market `m`'s book; a loss its cash could
    /// not pay is bad debt nobody covered.
    pub fn unwound(&mut self, m: usize, u: &Unwound) {
        let row = &mut self.row;
        row.inventory_sold_notional += u.notional;
        row.bad_debt += u.uncovered;
        row.bad_debt_uncovered += u.uncovered;
        let market = &mut self.markets[m].row;
        market.inventory_sold_notional += u.notional;
        market.bad_debt += u.uncovered;
        market.bad_debt_uncovered += u.uncovered;
    }

    /// The liquidation phase is over; `active` says whether it liquidated (or, for the engine,
    /// found positions due): a cascade goes on, starts, or has ended.
    pub fn end_liquidations(&mut self, active: bool) {
        if active {
            if self.cascade.steps == 0 {
                self.row.cascade_count += 1;
            }
            self.cascade.steps += 1;
            let row = &mut self.row;
            row.cascade_longest_steps = row.cascade_longest_steps.max(self.cascade.steps);
            row.cascade_largest_notional = row.cascade_largest_notional.max(self.cascade.notional);
        } else {
            self.cascade = Cascade::default();
        }
    }

    /// After this step's forced flow: how far each mark stands from its index.
    pub fn after_liquidations(&mut self, prices: &Prices) {
        for (t, p) in self.markets.iter_mut().zip(prices.iter()) {
            // ln(mark / index) is the log impact up to rounding (1e-15): a mark whose impact
            // is clearly inside the market's worst so far cannot beat it (nor the run's, which
            // is at least as far out), and needs no logarithm. With no impact at all the mark
            // is the index exactly, and the ratio 1.
            let log_impact = p.mark.log_impact().abs();
            if log_impact == 0.0 || log_impact + 1e-12 < t.worst_log_ratio.abs() {
                continue;
            }
            let log_ratio = (p.mark.mark() / p.mark.index()).ln();
            if log_ratio.abs() > t.worst_log_ratio.abs() {
                t.worst_log_ratio = log_ratio;
            }
            if log_ratio.abs() > self.worst_log_ratio.abs() {
                self.worst_log_ratio = log_ratio;
            }
        }
    }

    /// A voluntary trade in market `m`, in the act phase of a step.
    pub fn trade(&mut self, m: usize, trade: &VoluntaryTrade) {
        let fill = &trade.fill;
        self.row.voluntary_close_notional += trade.reduced_notional;
        self.row.voluntary_close_slippage += trade.reduced_slippage;
        if self.cascade.steps > 0 {
            self.row.cascade_voluntary_flow += trade.signed_notional;
        }
        self.row.fee_revenue += fill.fee;
        let market = &mut self.markets[m].row;
        market.fee_revenue += fill.fee;
        market.fund_inflow += fill.fee_to_fund;
    }

    /// A herding trader decided to de-risk.
    pub fn derisked(&mut self) {
        self.row.herders_derisked += 1;
    }

    /// Other venues' forced flow of `notional` (absolute) this step.
    pub fn other_venues(&mut self, notional: f64) {
        self.row.other_venue_notional += notional;
    }

    pub fn decision(&mut self) {
        self.row.decisions += 1;
    }

    pub fn reentry(&mut self) {
        self.row.reentries += 1;
    }

    pub fn reserve_added(&mut self, amount: f64) {
        self.row.reserve_added += amount;
    }

    /// Market `m`'s holders with plans this step (a lending market's defenders, loopers and
    /// de-riskers).
    pub fn borrowers_acted(&mut self, m: usize, flows: &BorrowerFlows) {
        let row = &mut self.markets[m].row;
        row.defender_spend += flows.defended;
        row.looped_debt += flows.looped;
        row.derisked_debt += flows.derisked;
        // Comet's store front: its buyers' slippage and profit are the keepers' as a
        // liquidation's are (zeros in every other market, which leave the sums' bits).
        row.slippage_loss += flows.store_front_slippage;
        self.row.slippage_loss += flows.store_front_slippage;
        self.row.keeper_profit += flows.store_front_keeper_profit;
    }

    /// Market `m` at the end: positions no keeper took that stay open, and what is left
    /// under water (zeros for a market whose venue closes what waits).
    pub fn leftover(&mut self, m: usize, left: Leftover) {
        self.row.left_waiting += left.waiting;
        self.row.underwater_debt += left.shortfall;
        let row = &mut self.markets[m].row;
        row.left_waiting += left.waiting;
        row.underwater_loans += left.underwater;
        row.underwater_debt += left.shortfall;
    }

    /// Sums every ledger account now (O(traders)).
    pub fn audit(&mut self, venue: &Venue) {
        self.ledger_max = self.ledger_max.max(venue.ledger_imbalance_relative());
    }

    /// The state after step `step` (the first market's prices, the venue's funds), whose
    /// forced closes added up to `totals`.
    pub fn step_view(
        &mut self,
        step: u64,
        totals: &StepTotals,
        prices: &Prices,
        venue: &Venue,
    ) -> StepView {
        let first = &prices.get(0).mark;
        let fund_balance = venue.fund_balance();
        self.total_fund_min = self.total_fund_min.min(fund_balance);
        StepView {
            step,
            index: first.index(),
            mark: first.mark(),
            fund_balance,
            liquidations: totals.liquidations,
            liquidated_notional: totals.notional,
            bad_debt: totals.bad_debt,
            oracle: venue.markets()[0].oracle().unwrap_or(0.0),
        }
    }

    /// The run's row and its markets' rows, once the run is over.
    pub fn finish(mut self, venue: &Venue, sc: &Scenario) -> (RunRow, Vec<MarketRow>) {
        self.audit(venue);
        self.fund_figures(venue, sc);
        for (t, market) in self.markets.iter_mut().zip(venue.markets()) {
            t.row.worst_oracle_gap = market.worst_oracle_gap();
            t.row.insolvent_debt = t.row.bad_debt + t.row.underwater_debt;
        }
        let markets = self.market_figures(sc);
        let row = &mut self.row;
        row.insolvent_debt = row.bad_debt + row.underwater_debt;
        row.worst_mark_index_ratio = self.worst_log_ratio.exp();
        row.recovery_rate = (self.losses_of_liquidated > 0.0)
            .then(|| 1.0 - self.deficits_of_liquidated / self.losses_of_liquidated);
        row.induced_share = (row.liquidation_notional > 0.0)
            .then(|| self.induced_notional / row.liquidation_notional);
        row.ledger_imbalance = self.ledger_max;
        (self.row, markets)
    }

    /// Fund balance, depletion and required capital (MODEL.md section 5).
    fn fund_figures(&mut self, venue: &Venue, sc: &Scenario) {
        let funds = venue.funds();
        let row = &mut self.row;
        row.fund_final = venue.fund_balance();
        row.fund_min = if funds.len() == 1 {
            funds[0].min_balance()
        } else {
            self.total_fund_min
        };
        row.depletion_step = funds
            .iter()
            .filter_map(|f| f.depleted_at())
            .min()
            .map(|s| s as u32);
        row.depleted = row.depletion_step.is_some();
        // The smallest total fund that no fund of the run would have run dry with: with
        // isolated funds, fund m holds share s_m of the total and runs dry exactly when
        // R_m > s_m F0.
        let shares = sc.fund_shares_of_total();
        row.required_capital = funds
            .iter()
            .zip(shares.iter())
            .map(|(f, s)| f.required_capital() / s)
            .fold(0.0, f64::max);
        row.inventory_pnl = funds.iter().map(|f| f.inventory_pnl()).sum();
        row.inventory_end_value = funds.iter().map(|f| f.unrealized()).sum();
        row.inventory_peak_loss = funds.iter().map(|f| f.peak_inventory_loss()).sum();
        row.early_adl_step = funds
            .iter()
            .filter_map(|f| f.early_adl_at())
            .min()
            .map(|s| s as u32);
        row.fund_coin_change = funds
            .iter()
            .filter_map(|f| f.coin_change())
            .reduce(|a, b| a + b);
        row.inventory_peak_loss_coin = funds
            .iter()
            .filter_map(|f| f.peak_inventory_loss_coin())
            .reduce(|a, b| a + b);
        if let Some(vault) = venue.ledger().vault() {
            row.inventory_pnl += vault.inventory_pnl();
            row.vault_pnl = Some(vault.marked_balance() - vault.initial());
        }
    }

    /// Each market's row, and what a shared fund paid for one market out of the others'
    /// stake (summed over markets into the run's spill-over).
    fn market_figures(&mut self, sc: &Scenario) -> Vec<MarketRow> {
        let shared = sc.fund_shares.is_empty() && self.markets.len() > 1;
        let f0 = sc.fund.initial();
        let rows: Vec<MarketRow> = self
            .markets
            .iter()
            .zip(&sc.market_weights)
            .map(|(t, w)| {
                let mut row = t.row;
                if shared {
                    row.spillover = (row.fund_paid - (f0 * w + row.fund_inflow)).max(0.0);
                }
                row.worst_mark_index_ratio = t.worst_log_ratio.exp();
                row.induced_share = (row.liquidation_notional > 0.0)
                    .then(|| t.induced_notional / row.liquidation_notional);
                row
            })
            .collect();
        if shared {
            self.row.spillover = rows.iter().map(|r| r.spillover).sum();
        }
        rows
    }
}
