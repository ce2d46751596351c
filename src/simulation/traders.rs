//! The traders' side of a run (MODEL.md section 3): their strategy state, the Poisson clock of
//! their decisions, and the liquidated traders waiting to come back. The act phase of a step
//! brings back those whose cool-down is over, then takes every decision due in the step, in
//! time order.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rand::RngExt;
use rand_distr::{Distribution, Exp1};

use super::clock::DecisionClock;
use super::prices::{MarketPrices, Prices};
use super::recorder::Recorder;
use super::signals::{Indicators, MAX_SIGNALS};
use super::view::VoluntaryTrade;
use crate::agents::{MarketView, Order, Reentry, StrategyGroup, TraderView};
use crate::config::Scenario;
use crate::market::Side;
use crate::protocol::{ForcedClose, MarginParams, Venue};
use crate::rng::SimRng;

/// Strategy state of every trader, by run-wide id, as a struct of arrays.
#[derive(Debug, Default)]
pub(super) struct TraderStates {
    pub group: Vec<u8>,
    /// Decisions per hour (0: never decides).
    pub rate: Vec<f64>,
    /// Reserve at t = 0 (handed to the venue's ledger before the first step).
    pub reserve: Vec<f64>,
    pub peak_equity: Vec<f64>,
    pub target_leverage: Vec<f64>,
    /// Private thresholds of herding traders (0 for the others).
    pub threshold: Vec<f64>,
    /// The position a de-risking trader is trading to.
    pub derisk_target: Vec<Option<f64>>,
}

impl TraderStates {
    pub fn with_capacity(n: usize) -> Self {
        Self {
            group: Vec::with_capacity(n),
            rate: Vec::with_capacity(n),
            reserve: Vec::with_capacity(n),
            peak_equity: Vec::with_capacity(n),
            target_leverage: Vec::with_capacity(n),
            threshold: Vec::with_capacity(n),
            derisk_target: Vec::with_capacity(n),
        }
    }

    pub fn push(&mut self, group: u8, rate: f64, reserve: f64, equity: f64, leverage: f64) {
        self.group.push(group);
        self.rate.push(rate);
        self.reserve.push(reserve);
        self.peak_equity.push(equity);
        self.target_leverage.push(leverage);
        self.threshold.push(0.0);
        self.derisk_target.push(None);
    }

    /// The private threshold of the trader pushed last.
    pub fn set_threshold(&mut self, threshold: f64) {
        if let Some(t) = self.threshold.last_mut() {
            *t = threshold;
        }
    }
}

/// Liquidated traders who will come back with fresh collateral, by the step they return.
struct Comebacks {
    rule: Option<Reentry>,
    rng: SimRng,
    due: BinaryHeap<Reverse<(u64, u32)>>,
}

/// What the act phase works on besides the traders: the venue, the markets' prices and
/// signals, the recorder, and each market's voluntary de-risking notional, which the next
/// step's signals take in.
pub(super) struct ActOn<'a, 's> {
    pub venue: &'a mut Venue,
    pub prices: &'a mut Prices<'s>,
    pub signals: &'a [Indicators],
    pub recorder: &'a mut Recorder,
    pub derisked: &'a mut [f64],
}

pub(super) struct Traders<'s> {
    sc: &'s Scenario,
    groups: &'s [StrategyGroup],
    states: TraderStates,
    /// For each group, the ids of the signals its strategy reads, in its order.
    reads: Vec<Vec<usize>>,
    clock: DecisionClock,
    decision_rng: SimRng,
    /// Steps per hour's worth of decision rate: `dt / 3600`.
    per_step: f64,
    comebacks: Comebacks,
    signals: [f64; MAX_SIGNALS],
    /// Whether any trader ever acts: one that decides, or one that may come back. A run of
    /// static traders (R1) skips the act phase altogether.
    ever_act: bool,
}

impl<'s> Traders<'s> {
    /// The traders of `sc` with their strategy state, each deciding first at an exponential
    /// time drawn from `decision_rng` (static traders, with rate 0, never enter the clock).
    pub fn open(
        sc: &'s Scenario,
        states: TraderStates,
        reads: Vec<Vec<usize>>,
        mut decision_rng: SimRng,
        reentry_rng: SimRng,
    ) -> Self {
        let n = states.rate.len();
        let per_step = sc.dt_seconds / 3_600.0;
        let mut clock = DecisionClock::new(n, sc.steps);
        for (i, &rate) in states.rate.iter().enumerate() {
            let rate = rate * per_step;
            if rate > 0.0 {
                let t: f64 = Exp1.sample(&mut decision_rng);
                clock.schedule(i as u32, t / rate);
            }
        }
        let ever_act = sc.population.reentry().is_some() || states.rate.iter().any(|&r| r > 0.0);
        Self {
            sc,
            ever_act,
            groups: sc.population.groups(),
            states,
            reads,
            clock,
            decision_rng,
            per_step,
            comebacks: Comebacks {
                rule: sc.population.reentry(),
                rng: reentry_rng,
                due: BinaryHeap::new(),
            },
            signals: [0.0; MAX_SIGNALS],
        }
    }

    /// A trader closed out by force may come back after its cool-down (MODEL.md section 3).
    pub fn after_forced_close(&mut self, close: &ForcedClose, step: u64) {
        let c = &mut self.comebacks;
        if let Some(r) = c.rule
            && close.flat
            && c.rng.random::<f64>() < r.probability
        {
            c.due.push(Reverse((step + r.cooldown_steps, close.trader)));
        }
    }

    /// Phase 5 of a step: liquidated traders coming back, then the decisions due by the end
    /// of this step, in time order.
    pub fn act(&mut self, step: u64, on: ActOn) {
        if !self.ever_act {
            return;
        }
        self.come_back(step, on.venue, on.prices, on.recorder);
        self.decide(step, on);
    }

    fn come_back(&mut self, step: u64, venue: &mut Venue, prices: &mut Prices, rec: &mut Recorder) {
        while let Some(&Reverse((due_step, i))) = self.comebacks.due.peek() {
            if due_step > step {
                break;
            }
            self.comebacks.due.pop();
            let m = venue.market_of(i);
            // Only a trader left flat comes back (borrowers never do).
            if !venue.takes_back(m, i) {
                continue;
            }
            let price = prices.get_mut(m);
            let mark = price.mark.mark();
            let margin = &self.sc.margin;
            let p = self
                .sc
                .population
                .draw(&mut self.comebacks.rng, mark, |c, l| {
                    margin.cap_leverage(c, l)
                });
            venue.deposit(m, i, p.collateral);
            // The order cap is a notional of the book's; in units at the book price.
            let cap = price.order_cap / price.mark.book();
            let size = p.size.clamp(-cap, cap);
            if let Some(trade) = trade_through_book(venue, m, i, size, price, self.sc) {
                rec.trade(m, &trade);
            }
            let k = i as usize;
            // A trader that comes back starts afresh; a herder may de-risk again.
            self.states.derisk_target[k] = None;
            self.states.target_leverage[k] = p.leverage;
            self.states.peak_equity[k] = venue.equity(m, i, mark);
            rec.reentry();
        }
    }

    fn decide(&mut self, step: u64, on: ActOn) {
        self.clock.begin_step(step);
        while let Some((t, i)) = self.clock.pop() {
            let k = i as usize;
            let m = on.venue.market_of(i);
            let g = self.states.group[k] as usize;
            for (slot, &id) in self.signals.iter_mut().zip(&self.reads[g]) {
                *slot = on.signals[m].value(id);
            }
            let price = on.prices.get_mut(m);
            let me = self.view_of(m, i, price.mark.mark(), on.venue);
            let (imr, mmr) = rates_at(&self.sc.margin, me.size.abs() * price.mark.mark());
            let view = MarketView {
                step,
                mark: price.mark.mark(),
                index: price.mark.index(),
                imr,
                mmr,
                signals: &self.signals[..self.reads[g].len()],
            };
            on.recorder.decision();
            let order = self.groups[g]
                .strategy
                .decide(&me, &view, &mut self.decision_rng);
            let target = match order {
                Order::TargetSize(target) => Some(target),
                Order::DeRisk(target) => {
                    self.states.derisk_target[k] = Some(target);
                    on.recorder.derisked();
                    Some(target)
                }
                Order::TopUp(_) | Order::Hold => None,
            };
            match order {
                Order::TargetSize(_) | Order::DeRisk(_) => {
                    // Traders split large orders: one decision trades at most what moves
                    // the mark by `max_order_impact` at the book's current depth.
                    let target = target.unwrap_or(me.size);
                    let cap = price.order_cap / price.mark.book();
                    let delta = (target - me.size).clamp(-cap, cap);
                    if delta != 0.0
                        && let Some(trade) =
                            trade_through_book(on.venue, m, i, delta, price, self.sc)
                    {
                        on.derisked[m] += trade.reduced_notional;
                        on.recorder.trade(m, &trade);
                    }
                }
                Order::TopUp(amount) => {
                    on.recorder.reserve_added(on.venue.top_up(m, i, amount));
                }
                Order::Hold => {}
            }
            let gap: f64 = Exp1.sample(&mut self.decision_rng);
            self.clock
                .schedule(i, t + gap / (self.states.rate[k] * self.per_step));
        }
    }

    /// What trader `i` of market `m` sees of itself at `mark`; its peak equity takes in the
    /// equity now.
    fn view_of(&mut self, m: usize, i: u32, mark: f64, venue: &Venue) -> TraderView {
        let k = i as usize;
        let position = venue.position(m, i);
        // `E = C + q (P - e)`, as the book computes it.
        let equity = position.collateral + position.size * (mark - position.entry);
        self.states.peak_equity[k] = self.states.peak_equity[k].max(equity);
        TraderView {
            collateral: position.collateral,
            size: position.size,
            entry: position.entry,
            reserve: venue.reserve(i),
            peak_equity: self.states.peak_equity[k],
            target_leverage: self.states.target_leverage[k],
            threshold: self.states.threshold[k],
            derisk_target: self.states.derisk_target[k],
        }
    }
}

/// The margin rates a position of `notional` meets: its tier's initial rate and its
/// maintenance margin over its notional (the base rates when flat).
fn rates_at(margin: &MarginParams, notional: f64) -> (f64, f64) {
    if margin.tiers().is_empty() || notional <= 0.0 {
        (margin.imr(), margin.mmr())
    } else {
        (
            margin.initial(notional) / notional,
            margin.maintenance(notional) / notional,
        )
    }
}

/// A voluntary market order of `delta` base units by trader `i` of market `m`: it fills at
/// the book's average price and moves the mark like any other order (MODEL.md section 2), so
/// panic selling pushes prices too. The venue checks margin at that fill price; a refused
/// order changes nothing.
#[inline]
pub(super) fn trade_through_book(
    venue: &mut Venue,
    m: usize,
    i: u32,
    delta: f64,
    price: &mut MarketPrices,
    sc: &Scenario,
) -> Option<VoluntaryTrade> {
    let side = if delta > 0.0 { Side::Buy } else { Side::Sell };
    // Voluntary orders meet the book: their notional and slippage are the book's.
    let book = price.mark.book();
    let notional = delta.abs() * book;
    let order = price.mark.plan(side, notional, price.law);
    let before = venue.position(m, i).size;
    let fill = venue.trade(m, i, delta, order.fill_price, &sc.fees).ok()?;
    price.mark.commit(order);
    // The part of the order that closes: all of the old position when it turns, else what
    // it shrinks by.
    let after = before + delta;
    let reduced = if before * after < 0.0 {
        before.abs()
    } else {
        (before.abs() - after.abs()).max(0.0)
    };
    Some(VoluntaryTrade {
        fill,
        signed_notional: side.sign() * notional,
        reduced_notional: reduced * book,
        reduced_slippage: reduced * (book - order.fill_price).abs(),
    })
}
