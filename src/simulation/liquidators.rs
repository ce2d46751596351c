//! Who closes the positions the venue says are due (MODEL.md section 4): the venue's own
//! engine, at once or after a fixed delay, or a pool of keepers with capital, latency and a
//! cost per liquidation, which act only when it pays and otherwise leave positions waiting.

use std::collections::VecDeque;

use rand::RngExt;

use super::prices::MarketPrices;
use crate::protocol::{
    Account, ForcedClose, KeeperParams, LiquidationMode, LiquidationParams, Liquidator, Market,
    Venue,
};
use crate::rng::SimRng;

/// The liquidators of a run: one of two kinds, each with its own state.
pub(super) enum Liquidators {
    Engine(Engine),
    Keepers(KeeperPool),
}

/// The venue's liquidation engine (BitMEX, Binance): it closes every due position into the
/// book, optionally a fixed number of steps after it became due.
pub(super) struct Engine {
    delay: Option<DelayLine>,
}

/// The engine's delay: positions seen due wait `latency` steps, and are closed then only if
/// they are still due.
struct DelayLine {
    latency: u64,
    /// Per market: (step at which to act, trader), in the order they were seen.
    pending: Vec<VecDeque<(u64, u32)>>,
    /// Per trader: already in the line.
    waiting: Vec<bool>,
}

/// Keeper agents (DeFi): they take positions over when their reward beats the slippage they
/// expect plus their cost, after their latency, while they have capital free.
pub(super) struct KeeperPool {
    params: KeeperParams,
    /// The penalty and its split, which make a keeper's reward.
    rules: Box<LiquidationParams>,
    /// Per trader: the step since which it has waited for a keeper.
    waiting_since: Vec<Option<u64>>,
    /// Per market: positions waiting for a keeper.
    waitlist: Vec<Vec<u32>>,
    /// Per keeper: capital not yet committed this step.
    free_capital: Vec<f64>,
    /// Which of several willing keepers takes a position.
    rng: SimRng,
}

impl Liquidators {
    /// The liquidators `rules` ask for, over `traders` traders in `markets` markets.
    pub fn open(rules: &LiquidationParams, traders: usize, markets: usize, rng: SimRng) -> Self {
        let latency = rules.latency_steps();
        match rules.mode() {
            LiquidationMode::Engine => Liquidators::Engine(Engine {
                delay: (latency > 0).then(|| DelayLine {
                    latency,
                    pending: vec![VecDeque::new(); markets],
                    waiting: vec![false; traders],
                }),
            }),
            LiquidationMode::Keeper(params) => Liquidators::Keepers(KeeperPool {
                params,
                rules: Box::new(*rules),
                waiting_since: vec![None; traders],
                waitlist: vec![Vec::new(); markets],
                free_capital: vec![0.0; params.count() as usize],
                rng,
            }),
        }
    }

    /// Start of a step's liquidation phase: keepers' capital comes back once they have sold
    /// what they took last step.
    pub fn begin_step(&mut self, venue: &Venue) {
        if let Liquidators::Keepers(pool) = self {
            for (k, free) in pool.free_capital.iter_mut().enumerate() {
                *free = venue.ledger().balance(Account::Keeper(k as u16)).max(0.0);
            }
        }
    }

    /// Turns `due`, the positions of market `m` the venue found due at `mark` this step, into
    /// those to consider closing now. Returns whether that list alone makes the step part of
    /// a cascade (the engine commits to what it takes; keepers count only what they close).
    pub fn admit(
        &mut self,
        m: usize,
        step: u64,
        venue: &mut Venue,
        mark: f64,
        due: &mut Vec<u32>,
    ) -> bool {
        match self {
            Liquidators::Engine(Engine { delay: None }) => {}
            Liquidators::Engine(Engine { delay: Some(line) }) => {
                line.admit(m, step, venue, mark, due)
            }
            Liquidators::Keepers(pool) => pool.admit(m, step, due),
        }
        matches!(self, Liquidators::Engine(_)) && !due.is_empty()
    }

    /// Who closes trader `i` of market `m` now, or `None` when nobody does this step (closed
    /// already, recovered, or waiting for a keeper).
    pub fn assign(
        &mut self,
        m: usize,
        step: u64,
        i: u32,
        venue: &mut Venue,
        price: &MarketPrices,
    ) -> Option<Liquidator> {
        match self {
            Liquidators::Engine(_) => venue.market(m).is_open(i).then_some(Liquidator::Engine),
            Liquidators::Keepers(pool) => pool.assign(m, step, i, venue, price),
        }
    }

    /// `close` was carried out by `by`.
    pub fn closed(&mut self, by: Liquidator, close: &ForcedClose) {
        if let (Liquidators::Keepers(pool), Liquidator::Keeper { k, .. }) = (self, by) {
            pool.waiting_since[close.trader as usize] = None;
            pool.free_capital[k as usize] -= close.notional;
        }
    }

    /// The positions of market `m` still waiting for a keeper (none for the engine).
    pub fn take_waiting(&mut self, m: usize) -> Vec<u32> {
        match self {
            Liquidators::Engine(_) => Vec::new(),
            Liquidators::Keepers(pool) => std::mem::take(&mut pool.waitlist[m]),
        }
    }
}

impl DelayLine {
    /// The engine sees `due` now and acts `latency` steps later, if they are still due then;
    /// those that recovered go back on the queue.
    fn admit(&mut self, m: usize, step: u64, venue: &mut Venue, mark: f64, due: &mut Vec<u32>) {
        for &i in due.iter() {
            if !self.waiting[i as usize] {
                self.waiting[i as usize] = true;
                self.pending[m].push_back((step + self.latency, i));
            }
        }
        due.clear();
        while let Some(&(t, i)) = self.pending[m].front() {
            if t > step {
                break;
            }
            self.pending[m].pop_front();
            self.waiting[i as usize] = false;
            let market = venue.market(m);
            if !market.is_open(i) {
                continue;
            }
            if market.is_due(i, mark) {
                due.push(i);
            } else {
                venue.requeue(m, i);
            }
        }
    }
}

impl KeeperPool {
    /// Newly due positions join those already waiting; all of them are considered.
    fn admit(&mut self, m: usize, step: u64, due: &mut Vec<u32>) {
        for &i in due.iter() {
            let since = &mut self.waiting_since[i as usize];
            if since.is_none() {
                *since = Some(step);
                self.waitlist[m].push(i);
            }
        }
        due.clear();
        due.append(&mut self.waitlist[m]);
    }

    fn assign(
        &mut self,
        m: usize,
        step: u64,
        i: u32,
        venue: &mut Venue,
        price: &MarketPrices,
    ) -> Option<Liquidator> {
        if !venue.market(m).is_open(i) {
            self.waiting_since[i as usize] = None;
            return None; // closed earlier this step (ADL)
        }
        if !venue.market(m).is_due(i, price.mark.mark()) {
            // Recovered while waiting: back on the queue.
            self.waiting_since[i as usize] = None;
            venue.requeue(m, i);
            return None;
        }
        let since = self.waiting_since[i as usize].unwrap_or(step);
        let chosen = (step - since >= self.params.latency_steps())
            .then(|| self.choose(venue.market(m), i, price))
            .flatten();
        match chosen {
            Some((k, budget)) => Some(Liquidator::Keeper {
                k,
                cost: self.params.cost(),
                budget,
            }),
            None => {
                self.waitlist[m].push(i);
                None
            }
        }
    }

    /// The keeper that takes trader `i`'s position, and what it may pay: the first, from a
    /// random start (so equal keepers win equally often), whose offer (sized for its budget)
    /// promises a profit, its reward less the slippage the book quotes and its cost. A
    /// flash-funded keeper of a lending market has no budget to respect; otherwise the
    /// budget is the keeper's capital free this step. `None`: nobody is willing.
    fn choose(&mut self, market: &Market, i: u32, price: &MarketPrices) -> Option<(u16, f64)> {
        let cost = self.params.cost();
        let quote =
            |budget: f64| market.keeper_offer(i, &price.mark, price.law, &self.rules, budget, cost);
        // Any keeper at all: the offer with no budget to respect.
        let unbounded = quote(f64::INFINITY)?;
        let count = self.free_capital.len();
        let start = self.rng.random_range(0..count);
        if self.params.flash() && market.flash_fundable() {
            return Some((start as u16, f64::INFINITY));
        }
        (0..count)
            .map(|j| (start + j) % count)
            .map(|k| (k as u16, self.free_capital[k]))
            .find(|&(_, budget)| budget >= unbounded.capital || quote(budget).is_some())
    }
}
