//! One run's world and its step: the markets' prices, the venue, the traders, the liquidators,
//! the market signals and the recorder, opened once per run and driven step by step through
//! a fixed sequence of phases.

use super::liquidators::Liquidators;
use super::opening::{Population, open_population, open_venue};
use super::prices::Prices;
use super::recorder::{Recorder, StepTotals};
use super::row::{MarketRow, RunRow};
use super::signals::{Indicators, SignalFlow};
use super::traders::{ActOn, Traders};
use super::view::{PriceFault, StepView};
use crate::config::Scenario;
use crate::protocol::{CloseContext, ForcedClose, LiquidationMap, Liquidator, Venue};
use crate::rng::{Stream, stream_rng};

/// This step's forced flow in one market, read when the step's effects propagate.
#[derive(Clone, Copy, Debug, Default)]
struct ForcedFlow {
    /// Notional of long positions closed by force (USD at the mark).
    longs: f64,
    /// Notional of short positions closed by force.
    shorts: f64,
    /// Notional ADL closed to cover them.
    adl: f64,
}

impl ForcedFlow {
    fn add(&mut self, c: &ForcedClose) {
        if c.long {
            self.longs += c.notional;
        } else {
            self.shorts += c.notional;
        }
        self.adl += c.socialized.notional;
    }
}

/// Outside revenue into the funds each step (MODEL.md section 5).
struct Revenue {
    per_step: f64,
    /// Each fund's share of it.
    fund_shares: Vec<f64>,
}

/// Scratch space of the liquidation phase, kept so that no step allocates.
#[derive(Default)]
struct Scratch {
    due: Vec<u32>,
    keys: Vec<(f64, u32)>,
}

pub(super) struct World<'s> {
    sc: &'s Scenario,
    prices: Prices<'s>,
    venue: Venue,
    traders: Traders<'s>,
    liquidators: Liquidators,
    /// The signals strategies read, one set per market.
    signals: Vec<Indicators>,
    revenue: Revenue,
    recorder: Recorder,
    flow: Vec<ForcedFlow>,
    /// Each market's voluntary closes and reductions in the last act phase (USD at the mark),
    /// which the next step's signals take in.
    derisked: Vec<f64>,
    scratch: Scratch,
}

impl<'s> World<'s> {
    /// Opens the world of seed `seed_index`: every market at its starting price, the traders
    /// of each market in turn opened at its index, the venue with its funds, reserves and
    /// keepers, and every random stream of the run.
    pub fn open(sc: &'s Scenario, master_seed: u64, seed_index: u64) -> Self {
        let population = open_population(sc, master_seed, seed_index);
        Self::open_with(sc, master_seed, seed_index, population)
    }

    /// [`World::open`] with the markets' books and the traders' states given (tests place
    /// positions where a closed form needs them).
    fn open_with(
        sc: &'s Scenario,
        master_seed: u64,
        seed_index: u64,
        (markets, states, open_interest): Population,
    ) -> Self {
        let prices = Prices::open(sc, master_seed, seed_index);
        let n = states.rate.len();
        let venue = open_venue(sc, markets, &states);
        let (indicators, reads) = Indicators::plan(sc.population.groups());
        let signals = prices
            .iter()
            .zip(&open_interest.markets)
            .map(|(p, &oi)| {
                Indicators::start(&indicators, p.mark.mark(), oi, sc.dt_seconds, sc.steps)
            })
            .collect();
        let traders = Traders::open(
            sc,
            states,
            reads,
            stream_rng(master_seed, seed_index, Stream::Decisions),
            stream_rng(master_seed, seed_index, Stream::Reentry),
        );
        let liquidators = Liquidators::open(
            &sc.liquidation,
            n,
            prices.len(),
            stream_rng(master_seed, seed_index, Stream::Keepers),
        );
        let recorder = Recorder::open(
            seed_index as u32,
            open_interest.run,
            &open_interest.markets,
            &prices,
            venue.fund_balance(),
        );
        let revenue = Revenue {
            per_step: sc.fund_revenue_per_step,
            fund_shares: sc.fund_shares_of_total().to_vec(),
        };
        Self {
            sc,
            flow: vec![ForcedFlow::default(); prices.len()],
            derisked: vec![0.0; prices.len()],
            prices,
            venue,
            traders,
            liquidators,
            signals,
            revenue,
            recorder,
            scratch: Scratch::default(),
        }
    }

    /// The state before the first step.
    pub fn initial_view(&self) -> StepView {
        let first = &self.prices.get(0).mark;
        StepView {
            step: 0,
            index: first.index(),
            mark: first.mark(),
            fund_balance: self.venue.fund_balance(),
            oracle: self.venue.markets()[0].oracle().unwrap_or(0.0),
            ..StepView::default()
        }
    }

    /// Each market's open positions by distance to liquidation now (market order): a perp
    /// market's at its mark, a lending market's on its oracle. O(positions): for the one run
    /// a report follows, when its observer asks.
    pub fn liquidation_maps(&self) -> Vec<LiquidationMap> {
        self.venue
            .markets()
            .iter()
            .enumerate()
            .map(|(m, market)| market.liquidation_map(self.prices.get(m).mark.mark()))
            .collect()
    }

    /// One step, as the fixed sequence of phases of a run (MODEL.md sections 1 to 5). A price
    /// that has left the sane range by the end of the step stops the run as an error.
    pub fn step(&mut self, step: u64, audit_ledger: bool) -> Result<StepView, PriceFault> {
        self.advance_markets(step);
        self.collect_revenue();
        let totals = self.liquidate(step);
        self.propagate();
        self.act(step);
        self.check_prices(step)?;
        Ok(self.observe(step, &totals, audit_ledger))
    }

    /// An index or mark beyond [`super::prices::SANE_FACTOR`] of its start, or not a number.
    fn check_prices(&self, step: u64) -> Result<(), PriceFault> {
        match self.prices.first_insane() {
            None => Ok(()),
            Some((m, start)) => {
                let mark = &self.prices.get(m).mark;
                Err(PriceFault {
                    market: self.sc.markets[m].name.clone(),
                    step,
                    start,
                    index: mark.index(),
                    mark: mark.mark(),
                })
            }
        }
    }

    /// Phase 1: every index moves, impact decays, depth and order caps follow; then each
    /// market advances (a lending market's oracle reads its market and its debts accrue
    /// interest), and a fund held in a market's coin is valued at its new index.
    fn advance_markets(&mut self, step: u64) {
        self.prices.advance();
        let now = step as f64 * self.sc.dt_seconds;
        for m in 0..self.prices.len() {
            let mark = &self.prices.get(m).mark;
            self.venue.advance_market(m, mark, now);
            self.venue.value_fund_in_coin(m, mark.index(), step);
        }
        self.recorder.after_advance(&self.prices);
    }

    /// Phase 2: outside revenue into the funds.
    fn collect_revenue(&mut self) {
        let per_step = self.revenue.per_step;
        if per_step > 0.0 {
            for (f, share) in self.revenue.fund_shares.iter().enumerate() {
                self.venue.pay_revenue(f as u16, per_step * share);
            }
            for (m, w) in self.sc.market_weights.iter().enumerate() {
                self.recorder.revenue(m, per_step * w);
            }
        }
    }

    /// Phase 3: market by market, every position due at this moment's mark is closed, worst
    /// margin first, each fill moving the mark for the next (MODEL.md section 4). Positions
    /// this step's fills make liquidatable wait for the next step, so a cascade unfolds step
    /// by step.
    fn liquidate(&mut self, step: u64) -> StepTotals {
        self.liquidators.begin_step(&self.venue);
        let mut totals = StepTotals::default();
        let mut active = false;
        for m in 0..self.prices.len() {
            active |= self.liquidate_market(m, step, &mut totals);
        }
        self.recorder.end_liquidations(active);
        totals
    }

    /// Phase 3 in market `m`. Returns whether the market took part in a cascade this step.
    fn liquidate_market(&mut self, m: usize, step: u64, totals: &mut StepTotals) -> bool {
        self.flow[m] = ForcedFlow::default();
        let price = self.prices.get_mut(m);
        let unwound = self.venue.unwind(m, &mut price.mark, price.law, step);
        if unwound.notional > 0.0 {
            self.recorder.unwound(m, &unwound);
        }
        let due = &mut self.scratch.due;
        due.clear();
        let mark = self.prices.get(m).mark.mark();
        self.venue.due(m, mark, due);
        let mut active = self.liquidators.admit(m, step, &mut self.venue, mark, due);
        if !due.is_empty() {
            self.venue
                .market(m)
                .order_worst_first(due, mark, &mut self.scratch.keys);
        }
        for n in 0..self.scratch.due.len() {
            let i = self.scratch.due[n];
            let price = self.prices.get(m);
            let Some(by) = self.liquidators.assign(m, step, i, &mut self.venue, price) else {
                continue;
            };
            let close = self.close(m, i, by, step);
            if close.waits {
                // A limited order the book could not fill at all: the position waits.
                continue;
            }
            self.liquidators.closed(by, &close);
            self.recorder.forced_close(m, &close);
            totals.add(&close);
            self.flow[m].add(&close);
            self.traders.after_forced_close(&close, step);
            active = true;
        }
        active
    }

    /// Closes trader `i` of market `m` by force, by `by`.
    fn close(&mut self, m: usize, i: u32, by: Liquidator, step: u64) -> ForcedClose {
        let price = self.prices.get_mut(m);
        let mut ctx = CloseContext {
            params: &self.sc.liquidation,
            price: &mut price.mark,
            law: price.law,
            socialization: self.sc.socialization,
            step,
        };
        self.venue.force_close(m, i, by, &mut ctx)
    }

    /// Phase 4: this step's flow reaches what reads it. Other venues' forced flow, which
    /// this venue's stands for, moves the index through the world's book (MODEL.md section 2;
    /// impact reaching the index from each fill, `permanent_impact`, acted at the fill); then
    /// the market signals the strategies read take in the step's forced flow and the last act
    /// phase's voluntary de-risking, and the recorder the mark/index gap.
    fn propagate(&mut self) {
        for (m, flow) in self.flow.iter().enumerate() {
            let price = self.prices.get_mut(m);
            if let Some(others) = price.other_venues {
                // Long liquidations are sells: net buying is shorts closed minus longs.
                let (notional, log_move) = others.index_move(flow.shorts - flow.longs);
                price.mark.move_index(log_move);
                self.recorder.other_venues(notional);
            }
        }
        for (m, (signals, flow)) in self.signals.iter_mut().zip(&self.flow).enumerate() {
            let step_flow = SignalFlow {
                longs_liquidated: flow.longs,
                shorts_liquidated: flow.shorts,
                derisking: flow.longs + flow.shorts + flow.adl + self.derisked[m],
            };
            signals.after_step(self.prices.get(m).mark.mark(), &step_flow);
            self.derisked[m] = 0.0;
        }
        self.recorder.after_liquidations(&self.prices);
    }

    /// Phase 5: each market's holders with plans act (a lending market's defenders, loopers
    /// and de-riskers), then traders.
    fn act(&mut self, step: u64) {
        for m in 0..self.prices.len() {
            let liquidated = self.flow[m].longs + self.flow[m].shorts;
            let price = self.prices.get_mut(m);
            if let Some(flows) = self
                .venue
                .holders_act(m, &mut price.mark, price.law, liquidated)
            {
                self.recorder.borrowers_acted(m, &flows);
            }
        }
        self.traders.act(
            step,
            ActOn {
                venue: &mut self.venue,
                prices: &mut self.prices,
                signals: &self.signals,
                recorder: &mut self.recorder,
                derisked: &mut self.derisked,
            },
        );
    }

    /// Phase 6: the ledger audit (when asked) and the step's view for observers.
    fn observe(&mut self, step: u64, totals: &StepTotals, audit_ledger: bool) -> StepView {
        for m in 0..self.prices.len() {
            let mark = self.prices.get(m).mark.mark();
            self.venue.mark_inventory(m, mark, step);
        }
        self.venue.end_step(step);
        if audit_ledger {
            self.recorder.audit(&self.venue);
        }
        self.recorder
            .step_view(step, totals, &self.prices, &self.venue)
    }

    /// Ends the run: what still waits for a keeper is closed by the venue's own backstop,
    /// and the recorder gives the run's row and its markets' rows.
    pub fn finish(mut self) -> (RunRow, Vec<MarketRow>) {
        for m in 0..self.prices.len() {
            self.close_what_waits(m);
        }
        self.recorder.finish(&self.venue, self.sc)
    }

    /// Keeper mode: what no keeper took by the end is closed by the venue's own backstop, into
    /// the book like an engine liquidation (worst margin first, each fill moving the mark for
    /// the next), so that the run counts what closing these positions costs. Valuing them at
    /// the mark instead would spare them the slippage every liquidated position pays, and a
    /// venue whose keepers do nothing would look safer than one whose keepers work.
    ///
    /// A lending protocol has no such backstop: loans no keeper took stay open, and what
    /// their collateral no longer covers is reported as underwater debt
    /// ([`crate::protocol::Market::end_of_run`] takes them out of what waits).
    fn close_what_waits(&mut self, m: usize) {
        let mut left = self.liquidators.take_waiting(m);
        left.retain(|&i| self.venue.market(m).is_open(i));
        let leftover = self.venue.end_of_run(m, &mut left);
        self.recorder.leftover(m, leftover);
        if left.is_empty() {
            return;
        }
        let mark = self.prices.get(m).mark.mark();
        self.venue
            .market(m)
            .order_worst_first(&mut left, mark, &mut self.scratch.keys);
        for i in left {
            if !self.venue.market(m).is_open(i) {
                continue; // closed by ADL for an earlier one
            }
            let close = self.close(m, i, Liquidator::Engine, self.sc.steps);
            self.recorder.backstop_close(m, &close);
        }
    }
}

#[cfg(test)]
#[path = "contagion_tests.rs"]
mod contagion_tests;
