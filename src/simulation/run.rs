//! The step loop of one run.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rand_distr::{Distribution, Exp1};

use super::RunRow;
use super::row::MAX_MARKETS;
use crate::agents::{MarketView, Order, TraderView};
use crate::rng::{Stream, market_rng, stream_rng};
use rand::RngExt;

use super::clock::DecisionClock;
use super::signals::{Indicators, MAX_SIGNALS, TraderStates};
use crate::config::Scenario;
use crate::market::{CommonStreams, MarkState, PriceModel};
use crate::market::{ImpactModel, Side};
use crate::protocol::{
    Account, FeeParams, KeeperParams, Liquidation, LiquidationMode, LiquidationParams, Liquidator,
    PositionBook, TradeFill, Venue,
};

/// Switches that change how much a run checks, never what it computes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunOptions {
    /// Sum every ledger account after every step (O(traders) per step; tests turn it on).
    /// Without it the ledger is summed once, at the end of the run.
    pub audit_ledger: bool,
}

/// The state of a run after one step, handed to a [`RunObserver`].
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct StepView {
    /// 0 is the state before the first step.
    pub step: u64,
    pub index: f64,
    pub mark: f64,
    pub fund_balance: f64,
    /// Forced closes during this step.
    pub liquidations: u32,
    /// Their notional at the mark.
    pub liquidated_notional: f64,
    /// Bankruptcy deficits during this step.
    pub bad_debt: f64,
}

/// Watches a run step by step from outside (as argmin's observers do): the run computes, the
/// observer records. Observing never changes what the run computes.
pub trait RunObserver {
    fn on_step(&mut self, view: &StepView);
}

/// No observer: compiles to nothing.
impl RunObserver for () {
    #[inline]
    fn on_step(&mut self, _: &StepView) {}
}

/// Records every step: for one sample path, not for batches.
impl RunObserver for Vec<StepView> {
    fn on_step(&mut self, view: &StepView) {
        self.push(*view);
    }
}

/// Runs `scenario` for seed index `seed_index` of `master_seed` and returns its figures.
///
/// Per step: the index moves (market stream), the impact decays, every position liquidatable
/// at the mark is closed worst margin ratio first (ties by trader id), each fill moving the
/// mark for the next; positions pushed under by this step's fills wait for the next step, so a
/// cascade unfolds step by step (MODEL.md section 4). Then traders whose Poisson decision time
/// has come act (agent stream).
pub fn simulate(
    scenario: &Scenario,
    master_seed: u64,
    seed_index: u64,
    opts: RunOptions,
) -> RunRow {
    simulate_observed(scenario, master_seed, seed_index, opts, &mut ())
}

/// [`simulate`] with an observer that sees the state after every step.
pub fn simulate_observed<O: RunObserver>(
    scenario: &Scenario,
    master_seed: u64,
    seed_index: u64,
    opts: RunOptions,
    observer: &mut O,
) -> RunRow {
    let sc = scenario;
    let n_markets = sc.markets.len();
    let mut population_rng = stream_rng(master_seed, seed_index, Stream::Population);
    let mut decision_rng = stream_rng(master_seed, seed_index, Stream::Decisions);
    let mut market_rngs: Vec<_> = (0..n_markets)
        .map(|m| market_rng(master_seed, seed_index, m))
        .collect();
    let mut common = sc
        .shocks
        .as_ref()
        .map(|_| CommonStreams::new(master_seed, seed_index));
    let mut models: Vec<_> = sc.markets.iter().map(|m| m.price_model.start()).collect();
    let mut marks: Vec<MarkState> = sc.markets.iter().map(|m| m.mark.clone()).collect();
    let impacts: Vec<&crate::market::ImpactLaw> = sc.markets.iter().map(|m| &m.book).collect();

    // Traders of each market in turn, opened at its index.
    let n: usize = sc.markets.iter().map(|m| m.traders as usize).sum();
    let mut book = PositionBook::with_capacity(n);
    let mut ranges = Vec::with_capacity(n_markets);
    let mut open_interest = 0.0;
    let groups = sc.population.groups();
    let mut traders = TraderStates::with_capacity(n);
    let mut traits_rng = stream_rng(master_seed, seed_index, Stream::Traits);
    for (m, ms) in sc.markets.iter().enumerate() {
        let s0 = marks[m].index();
        let start = book.len() as u32;
        for local in 0..ms.traders {
            let p = sc
                .population
                .draw(&mut population_rng, s0, sc.margin.max_leverage());
            book.push(p.collateral, p.size, s0);
            open_interest += p.size.abs() * s0;
            let g = sc.population.group_of(local, ms.traders);
            let group = &groups[g];
            traders.push(
                g as u8,
                group
                    .decisions_per_hour
                    .as_ref()
                    .map_or(0.0, |d| d.sample(&mut traits_rng)),
                p.collateral * group.reserve_ratio,
                p.collateral,
                p.leverage,
            );
        }
        ranges.push(start..book.len() as u32);
    }
    let funds = sc.initial_funds();
    let isolated = funds.len() > 1;
    let fund_of_market: Vec<u16> = (0..n_markets)
        .map(|m| if isolated { m as u16 } else { 0 })
        .collect();
    let fund_shares: Vec<f64> = if isolated {
        sc.fund_shares.clone()
    } else {
        vec![1.0]
    };
    let mut venue = Venue::open_markets(book, &ranges, sc.margin, funds, &fund_of_market);
    if traders.reserve.iter().any(|&r| r > 0.0) {
        venue = venue.with_reserves(std::mem::take(&mut traders.reserve));
    }
    let socialization = &*sc.socialization;

    // Poisson decision clock, times in steps. Traders with rate 0 (static) never enter it.
    let per_step = sc.dt_seconds / 3_600.0;
    let mut clock = DecisionClock::new(n, sc.steps);
    for i in 0..n as u32 {
        let rate = traders.rate[i as usize] * per_step;
        if rate > 0.0 {
            let t: f64 = Exp1.sample(&mut decision_rng);
            clock.schedule(i, t / rate);
        }
    }
    // Market signals the strategies read, one set per market.
    let (indicators, reads) = Indicators::plan(groups);
    let mut signals: Vec<Indicators> = marks
        .iter()
        .map(|mk| Indicators::start(&indicators, mk.mark(), sc.dt_seconds))
        .collect();
    let reentry = sc.population.reentry();
    let mut reentry_rng = stream_rng(master_seed, seed_index, Stream::Reentry);
    let mut comebacks: BinaryHeap<Reverse<(u64, u32)>> = BinaryHeap::new();
    let mut buffer = [0.0f64; MAX_SIGNALS];
    let latency = sc.liquidation.latency_steps();
    let mut pending: Vec<std::collections::VecDeque<(u64, u32)>> =
        vec![std::collections::VecDeque::new(); n_markets];
    let mut waiting = vec![false; if latency > 0 { n } else { 0 }];
    // Keeper mode: positions waiting for a keeper (since which step), per market.
    let keepers = match sc.liquidation.mode() {
        LiquidationMode::Keeper(k) => Some(k),
        LiquidationMode::Engine => None,
    };
    if let Some(k) = keepers {
        venue = venue.with_keepers(k.count, k.capital);
    }
    let mut waiting_since = vec![u64::MAX; if keepers.is_some() { n } else { 0 }];
    let mut waitlist: Vec<Vec<u32>> = vec![Vec::new(); n_markets];
    let mut free_capital = vec![0.0; keepers.map_or(0, |k| k.count as usize)];
    let mut keeper_rng = stream_rng(master_seed, seed_index, Stream::Keepers);

    let mut row = RunRow {
        seed: seed_index as u32,
        open_interest,
        ..RunRow::default()
    };
    let mut losses_of_liquidated = 0.0;
    let mut induced_notional = 0.0;
    let mut peaks: Vec<f64> = marks.iter().map(MarkState::index).collect();
    let mut worst_log_ratio: f64 = 0.0;
    let mut cascade_steps = 0u32;
    let mut cascade_notional = 0.0;
    let mut ledger_max: f64 = 0.0;
    let mut due = Vec::new();
    let mut sort_keys = Vec::new();
    // Per market: deficits, fund payouts, liquidated notional, inflows to the fund.
    let mut by_market = vec![[0.0f64; 4]; n_markets];
    let (mut scratch, mut shocks, mut crash) = (
        vec![0.0; n_markets],
        vec![0.0; n_markets],
        vec![0.0; n_markets],
    );
    let mut total_fund_min = venue.fund_balance();
    let mut order_caps = vec![0.0; n_markets];
    observer.on_step(&StepView {
        step: 0,
        index: marks[0].index(),
        mark: marks[0].mark(),
        fund_balance: venue.fund_balance(),
        ..StepView::default()
    });

    for step in 1..=sc.steps {
        let mut this_step = StepView {
            step,
            ..StepView::default()
        };
        match (&sc.shocks, &mut common) {
            (Some(joint), Some(rngs)) => {
                joint.draw(rngs, &mut scratch, &mut shocks, &mut crash);
                for (m, mark) in marks.iter_mut().enumerate() {
                    let r = models[m].next_log_return_driven(shocks[m], &mut market_rngs[m]);
                    mark.advance(r + crash[m]);
                }
            }
            _ => {
                for (m, mark) in marks.iter_mut().enumerate() {
                    mark.advance(models[m].next_log_return(&mut market_rngs[m]));
                }
            }
        }
        // The largest voluntary order (USD) of this step in each market: depth moves only
        // with the index, so it holds for the whole step.
        for (m, cap) in order_caps.iter_mut().enumerate() {
            *cap = impacts[m].notional_for_impact(sc.max_order_impact, marks[m].depth());
        }
        for (peak, mark) in peaks.iter_mut().zip(&marks) {
            let index = mark.index();
            *peak = peak.max(index);
            row.index_max_drawdown = row.index_max_drawdown.max(1.0 - index / *peak);
        }
        if sc.fund_revenue_per_step > 0.0 {
            for (f, share) in fund_shares.iter().enumerate() {
                venue.pay_into_fund(
                    Account::Counterparty,
                    f as u16,
                    sc.fund_revenue_per_step * share,
                );
            }
            for (m, w) in sc.market_weights.iter().enumerate() {
                by_market[m][3] += sc.fund_revenue_per_step * w;
            }
        }

        // Liquidations, market by market: each set is fixed at this moment's mark.
        let mut any_due = false;
        // Keepers' capital comes back once they have sold what they took last step.
        for (k, free) in free_capital.iter_mut().enumerate() {
            *free = venue.balance(Account::Keeper(k as u16)).max(0.0);
        }
        for m in 0..n_markets {
            // Notional of long and of short positions liquidated this step.
            let mut liquidated_here = [0.0; 2];
            due.clear();
            let mark = marks[m].mark();
            venue.markets[m]
                .queue
                .pop_liquidatable(&venue.book, &venue.margin, mark, &mut due);
            if latency > 0 {
                // The engine sees them now and acts `latency` steps later, if they are still
                // liquidatable then; those that recovered go back into the queue.
                for &i in &due {
                    if !waiting[i as usize] {
                        waiting[i as usize] = true;
                        pending[m].push_back((step + latency, i));
                    }
                }
                due.clear();
                while let Some(&(t, i)) = pending[m].front() {
                    if t > step {
                        break;
                    }
                    pending[m].pop_front();
                    let k = i as usize;
                    waiting[k] = false;
                    if venue.book.size[k] == 0.0 {
                        continue;
                    }
                    let equity = venue.book.equity(k, mark);
                    if venue
                        .margin
                        .is_liquidatable(equity, venue.book.notional(k, mark))
                    {
                        due.push(i);
                    } else {
                        venue.reindex(i);
                    }
                }
            }
            if keepers.is_some() {
                // Newly liquidatable positions join those already waiting for a keeper.
                for &i in &due {
                    if waiting_since[i as usize] == u64::MAX {
                        waiting_since[i as usize] = step;
                        waitlist[m].push(i);
                    }
                }
                due.clear();
                due.append(&mut waitlist[m]);
            }
            if due.is_empty() {
                signals[m].after_step(marks[m].mark(), 0.0, 0.0);
                continue;
            }
            any_due |= keepers.is_none();
            venue
                .book
                .sort_worst_margin_first(&mut due, mark, &mut sort_keys);
            for &i in &due {
                let k = i as usize;
                if venue.book.size[k] == 0.0 {
                    if keepers.is_some() {
                        waiting_since[k] = u64::MAX;
                    }
                    continue; // closed earlier this step (ADL)
                }
                let by = match keepers {
                    None => Liquidator::Engine,
                    Some(kp) => {
                        let now = marks[m].mark();
                        let equity = venue.book.equity(k, now);
                        if !venue
                            .margin
                            .is_liquidatable(equity, venue.book.notional(k, now))
                        {
                            // Recovered while waiting: back into the queue.
                            waiting_since[k] = u64::MAX;
                            venue.reindex(i);
                            continue;
                        }
                        let chosen = (step - waiting_since[k] >= kp.latency_steps)
                            .then(|| {
                                choose_keeper(
                                    &kp,
                                    &free_capital,
                                    &mut keeper_rng,
                                    venue.book.size[k],
                                    equity,
                                    &marks[m],
                                    impacts[m],
                                    &sc.liquidation,
                                )
                            })
                            .flatten();
                        match chosen {
                            Some(keeper) => Liquidator::Keeper {
                                k: keeper,
                                cost: kp.cost,
                            },
                            None => {
                                waitlist[m].push(i);
                                continue;
                            }
                        }
                    }
                };
                let was_long = venue.book.size[k] > 0.0;
                let l = venue.liquidate_by(
                    i,
                    &sc.liquidation,
                    &mut marks[m],
                    impacts[m],
                    socialization,
                    step,
                    by,
                );
                if let Liquidator::Keeper { k: keeper, .. } = by {
                    any_due = true;
                    waiting_since[k] = u64::MAX;
                    free_capital[keeper as usize] -= l.notional;
                    row.keeper_profit += l.keeper_profit;
                }
                record_liquidation(&l, &mut row, &mut by_market[m]);
                losses_of_liquidated += l.position_loss;
                if l.induced {
                    induced_notional += l.notional;
                }
                cascade_notional += l.notional;
                this_step.liquidations += 1;
                this_step.liquidated_notional += l.notional;
                this_step.bad_debt += l.deficit;
                liquidated_here[usize::from(!was_long)] += l.notional;
                if let Some(r) = reentry
                    && venue.book.size[i as usize] == 0.0
                    && reentry_rng.random::<f64>() < r.probability
                {
                    comebacks.push(Reverse((step + r.cooldown_steps, i)));
                }
            }
            signals[m].after_step(marks[m].mark(), liquidated_here[0], liquidated_here[1]);
        }
        if any_due {
            if cascade_steps == 0 {
                row.cascade_count += 1;
            }
            cascade_steps += 1;
            row.cascade_longest_steps = row.cascade_longest_steps.max(cascade_steps);
            row.cascade_largest_notional = row.cascade_largest_notional.max(cascade_notional);
        } else {
            cascade_steps = 0;
            cascade_notional = 0.0;
        }
        for mark in &marks {
            // ln(mark / index) is the log impact up to rounding (1e-15): a mark whose impact
            // is clearly inside the worst so far cannot beat it, and needs no logarithm.
            if mark.log_impact().abs() + 1e-12 < worst_log_ratio.abs() {
                continue;
            }
            let log_ratio = (mark.mark() / mark.index()).ln();
            if log_ratio.abs() > worst_log_ratio.abs() {
                worst_log_ratio = log_ratio;
            }
        }

        // Liquidated traders coming back, then decisions due by the end of this step, in
        // time order.
        while let Some(&Reverse((due_step, i))) = comebacks.peek() {
            if due_step > step {
                break;
            }
            comebacks.pop();
            let k = i as usize;
            if venue.book.size[k] != 0.0 {
                continue;
            }
            let m = venue.market_of(i);
            let mark = marks[m].mark();
            let p = sc
                .population
                .draw(&mut reentry_rng, mark, sc.margin.max_leverage());
            venue.deposit(i, p.collateral);
            let cap = order_caps[m] / mark;
            let size = p.size.clamp(-cap, cap);
            if let Some(fill) =
                trade_through_book(&mut venue, i, size, &mut marks[m], impacts[m], &sc.fees)
            {
                row.fee_revenue += fill.fee;
                by_market[m][3] += fill.fee_to_fund;
            }
            traders.target_leverage[k] = p.leverage;
            traders.peak_equity[k] = venue.book.equity(k, mark);
            row.reentries += 1;
        }
        clock.begin_step(step);
        while let Some((t, i)) = clock.pop() {
            let k = i as usize;
            let m = venue.market_of(i);
            let g = traders.group[k] as usize;
            let mark = marks[m].mark();
            for (slot, &id) in buffer.iter_mut().zip(&reads[g]) {
                *slot = signals[m].value(id);
            }
            let equity = venue.book.equity(k, mark);
            traders.peak_equity[k] = traders.peak_equity[k].max(equity);
            let me = TraderView {
                collateral: venue.book.collateral[k],
                size: venue.book.size[k],
                entry: venue.book.entry[k],
                reserve: venue.balance(Account::Reserve(i)),
                peak_equity: traders.peak_equity[k],
                target_leverage: traders.target_leverage[k],
            };
            let view = MarketView {
                step,
                mark,
                index: marks[m].index(),
                imr: sc.margin.imr(),
                mmr: sc.margin.mmr(),
                signals: &buffer[..reads[g].len()],
            };
            row.decisions += 1;
            match groups[g].strategy.decide(&me, &view, &mut decision_rng) {
                Order::TargetSize(target) => {
                    // Traders split large orders: one decision trades at most what moves
                    // the mark by `max_order_impact` at the book's current depth.
                    let cap = order_caps[m] / mark;
                    let delta = (target - me.size).clamp(-cap, cap);
                    if delta != 0.0
                        && let Some(fill) = trade_through_book(
                            &mut venue,
                            i,
                            delta,
                            &mut marks[m],
                            impacts[m],
                            &sc.fees,
                        )
                    {
                        row.fee_revenue += fill.fee;
                        by_market[m][3] += fill.fee_to_fund;
                    }
                }
                Order::TopUp(amount) => row.reserve_added += venue.top_up(i, amount),
                Order::Hold => {}
            }
            let gap: f64 = Exp1.sample(&mut decision_rng);
            clock.schedule(i, t + gap / (traders.rate[k] * per_step));
        }

        if opts.audit_ledger {
            ledger_max = ledger_max.max(venue.ledger_imbalance_relative());
        }
        this_step.index = marks[0].index();
        this_step.mark = marks[0].mark();
        this_step.fund_balance = venue.fund_balance();
        total_fund_min = total_fund_min.min(this_step.fund_balance);
        observer.on_step(&this_step);
    }

    // Keeper mode: what no keeper took by the end is closed by the venue's own backstop, into
    // the book like an engine liquidation (worst margin first, each fill moving the mark for
    // the next), so that the run counts what closing these positions costs. Valuing them at
    // the mark instead would spare them the slippage every liquidated position pays, and a
    // venue whose keepers do nothing would look safer than one whose keepers work.
    for m in 0..n_markets {
        let mut left = std::mem::take(&mut waitlist[m]);
        left.retain(|&i| venue.book.size[i as usize] != 0.0);
        let mark = marks[m].mark();
        venue
            .book
            .sort_worst_margin_first(&mut left, mark, &mut sort_keys);
        for i in left {
            if venue.book.size[i as usize] == 0.0 {
                continue; // closed by ADL for an earlier one
            }
            let l = venue.liquidate_by(
                i,
                &sc.liquidation,
                &mut marks[m],
                impacts[m],
                socialization,
                sc.steps,
                Liquidator::Engine,
            );
            row.left_waiting += 1;
            record_liquidation(&l, &mut row, &mut by_market[m]);
            losses_of_liquidated += l.position_loss;
        }
    }
    ledger_max = ledger_max.max(venue.ledger_imbalance_relative());
    row.fund_final = venue.fund_balance();
    row.fund_min = if venue.funds.len() == 1 {
        venue.funds[0].min_balance()
    } else {
        total_fund_min
    };
    row.depletion_step = venue
        .funds
        .iter()
        .filter_map(|f| f.depleted_at())
        .min()
        .map(|s| s as u32);
    row.depleted = row.depletion_step.is_some();
    // The smallest total fund that no fund of the run would have run dry with: with isolated
    // funds, fund m holds share s_m of the total and runs dry exactly when R_m > s_m F0.
    row.required_capital = venue
        .funds
        .iter()
        .zip(&fund_shares)
        .map(|(f, s)| f.required_capital() / s)
        .fold(0.0, f64::max);
    if !isolated && n_markets > 1 {
        let f0 = sc.fund.initial();
        row.spillover = by_market
            .iter()
            .zip(&sc.market_weights)
            .map(|(b, w)| (b[1] - (f0 * w + b[3])).max(0.0))
            .sum();
    }
    let per_market = |k: usize| -> [Option<f64>; MAX_MARKETS] {
        std::array::from_fn(|m| by_market.get(m).map(|b| b[k]))
    };
    [
        row.m1_bad_debt,
        row.m2_bad_debt,
        row.m3_bad_debt,
        row.m4_bad_debt,
    ] = per_market(0);
    [
        row.m1_fund_paid,
        row.m2_fund_paid,
        row.m3_fund_paid,
        row.m4_fund_paid,
    ] = per_market(1);
    [
        row.m1_liquidation_notional,
        row.m2_liquidation_notional,
        row.m3_liquidation_notional,
        row.m4_liquidation_notional,
    ] = per_market(2);
    row.worst_mark_index_ratio = worst_log_ratio.exp();
    row.recovery_rate =
        (losses_of_liquidated > 0.0).then(|| 1.0 - row.bad_debt / losses_of_liquidated);
    row.induced_share =
        (row.liquidation_notional > 0.0).then(|| induced_notional / row.liquidation_notional);
    row.ledger_imbalance = ledger_max;
    row
}

/// Adds one forced close to the run's figures and to its market's (deficits, fund payouts,
/// liquidated notional, fund inflows).
fn record_liquidation(l: &Liquidation, row: &mut RunRow, market: &mut [f64; 4]) {
    row.liquidation_count += 1;
    row.liquidation_notional += l.notional;
    row.slippage_loss += l.slippage_loss;
    row.penalty_paid += l.penalty;
    row.penalty_to_fund += l.penalty_to_fund;
    row.bad_debt += l.deficit;
    row.bad_debt_uncovered += l.uncovered;
    row.adl_count += l.socialized.positions;
    row.adl_notional += l.socialized.notional;
    row.socialized_loss += l.socialized.covered;
    market[0] += l.deficit;
    market[1] += l.fund_paid;
    market[2] += l.notional;
    market[3] += l.penalty_to_fund;
}

/// A voluntary market order of `delta` base units by trader `i`: it fills at the book's
/// average price and moves the mark like any other order (MODEL.md section 2), so panic
/// selling pushes prices too. The venue checks margin at that fill price; a refused order
/// changes nothing.
fn trade_through_book(
    venue: &mut Venue,
    i: u32,
    delta: f64,
    mark: &mut MarkState,
    book: &dyn ImpactModel,
    fees: &FeeParams,
) -> Option<TradeFill> {
    let side = if delta > 0.0 { Side::Buy } else { Side::Sell };
    let notional = delta.abs() * mark.mark();
    let order = mark.plan(side, notional, book);
    let fill = venue.trade(i, delta, order.fill_price, fees).ok()?;
    mark.commit(order);
    Some(fill)
}

/// The keeper that takes a position of `size` (equity `equity` at the mark): the first, from a
/// random start (so equal keepers win equally often), with capital free for the notional and
/// an expected profit, its share of the penalty less the slippage the book quotes and its
/// cost, above zero. `None`: nobody is willing.
#[allow(clippy::too_many_arguments)]
fn choose_keeper(
    kp: &KeeperParams,
    free_capital: &[f64],
    rng: &mut crate::rng::SimRng,
    size: f64,
    equity: f64,
    mark: &MarkState,
    book: &dyn ImpactModel,
    params: &LiquidationParams,
) -> Option<u16> {
    let p = mark.mark();
    let notional = size.abs() * p;
    let reward =
        (1.0 - params.fund_share()) * (params.penalty_rate() * notional).min(equity.max(0.0));
    // Slippage is never negative: a reward that does not cover the cost alone (most often
    // a position already under water, which pays no penalty) needs no quote.
    if reward - kp.cost <= 0.0 {
        return None;
    }
    let side = if size > 0.0 { Side::Sell } else { Side::Buy };
    let fill = mark.quote_fill(side, notional, book);
    let slippage = size.abs() * (p - fill).abs();
    if reward - slippage - kp.cost <= 0.0 {
        return None;
    }
    let count = kp.count as usize;
    let start = rng.random_range(0..count);
    (0..count)
        .map(|j| (start + j) % count)
        .find(|&k| free_capital[k] >= notional)
        .map(|k| k as u16)
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use rand::RngExt;

    use super::*;
    use crate::agents::{MarketView, Order, Strategy, TraderView};
    use crate::config::{Experiment, Overrides};
    use crate::protocol::LEDGER_TOLERANCE;
    use crate::rng::SimRng;

    /// A test strategy: at each decision, flattens a position or reopens one at 5x, long or
    /// short at random, so that trades of both kinds and fees happen.
    struct Flipper;

    impl Strategy for Flipper {
        fn decide(&self, me: &TraderView, m: &MarketView, rng: &mut SimRng) -> Order {
            if me.size != 0.0 {
                Order::TargetSize(0.0)
            } else {
                let side = if rng.random::<f64>() < 0.5 { -1.0 } else { 1.0 };
                Order::TargetSize(side * 5.0 * me.collateral / m.mark)
            }
        }
    }

    fn scenario() -> Scenario {
        let text = "[experiment]\nseeds = 1\nsteps = 240\n[traders]\ncount = 50\n[margin]\nfee_fund_share = 0.5\n";
        let exp = Experiment::parse(text, Path::new("t.toml"), Overrides::default()).unwrap();
        exp.cells[0].scenario.with_strategy(Arc::new(Flipper), 4.0)
    }

    #[test]
    fn strategies_decide_at_poisson_times_pay_fees_and_keep_the_ledger() {
        let sc = scenario();
        let opts = RunOptions { audit_ledger: true };
        let a = simulate(&sc, 3, 0, opts);
        // 50 traders, 4 decisions an hour, 4 hours: about 800 decisions, each a trade with a fee.
        assert!(a.fee_revenue > 0.0);
        assert!(
            a.ledger_imbalance <= LEDGER_TOLERANCE,
            "{}",
            a.ledger_imbalance
        );
        // Same seed, same bits; the market does not depend on the agents' stream.
        assert_eq!(a, simulate(&sc, 3, 0, opts));
        let static_run = simulate(
            &scenario().with_strategy(Arc::new(crate::agents::Static), 0.0),
            3,
            0,
            opts,
        );
        assert_eq!(static_run.fee_revenue, 0.0);
        assert_eq!(static_run.index_max_drawdown, a.index_max_drawdown);
    }
}
