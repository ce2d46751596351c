//! A perpetual-swap market: its traders' accounts, their liquidation queue, and the rules of
//! MODEL.md sections 3, 4 and 6 (margin, voluntary trades, forced closes, what happens when the
//! fund is gone).
//!
//! Traders sit in a struct-of-arrays [`PositionBook`] indexed by their place in this market;
//! outside, a trader is known by its run-wide id, and the market's traders hold the contiguous
//! ids from `first`. Money moves only by ledger transfers ([`Holder`]): collateral on this
//! side, the run's shared accounts on the [`Ledger`].

mod book;
mod close;
mod inventory;
mod margin;
mod order;
mod queue;
mod recognised;
pub(super) mod socialization;

pub use book::PositionBook;
pub use inventory::{Inventory, Unwound};
pub use margin::{MarginParams, MarginTier};
pub use order::{AdlPrice, EngineOrders, OrderLimit, SizeCap, Takeover, bankruptcy_price};
pub use queue::LiquidationQueue;
use recognised::RecognisedLosses;

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::ops::Range;

use super::liquidation_map::{ExposureSide, LiquidationMap};
use super::{Account, Holder, Ledger};
use crate::params::{ParamResult, unit_interval};

/// Fees on voluntary trades.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FeeParams {
    rate: f64,
    fund_share: f64,
}

impl FeeParams {
    pub fn new(rate: f64, fund_share: f64) -> ParamResult<Self> {
        Ok(Self {
            rate: crate::params::rate_below_one("fee_rate", rate)?,
            fund_share: unit_interval("fee_fund_share", fund_share)?,
        })
    }
}

/// A voluntary trade that went through.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TradeFill {
    pub notional: f64,
    pub fee: f64,
    /// Part of the fee paid into the fund.
    pub fee_to_fund: f64,
    pub realized_pnl: f64,
}

/// Why a voluntary trade was refused.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TradeError {
    /// After the trade, equity would be below `imr * notional`.
    InsufficientMargin,
    /// The market is not one traders trade in (a lending market).
    NotTradable,
}

/// A trader's account as the trader sees it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Position {
    pub collateral: f64,
    /// Signed size in base units.
    pub size: f64,
    pub entry: f64,
}

/// One perpetual-swap market's protocol state.
#[derive(Clone, Debug)]
pub struct PerpMarket {
    book: PositionBook,
    queue: LiquidationQueue,
    margin: MarginParams,
    /// The fund that pays this market's deficits.
    fund: u16,
    /// Run-wide id of the book's first trader.
    first: u32,
    /// The engine's liquidation desk: its order rules, positions resting between slices,
    /// and what its fund or vault took over (boxed: R1's market orders never read it).
    desk: Box<Desk>,
}

/// What the engine keeps to send limited, sliced liquidation orders and hand over what they
/// leave (MODEL.md section 4).
#[derive(Clone, Debug, Default)]
struct Desk {
    /// The engine's liquidation orders: limit, size cap, takeover.
    orders: EngineOrders,
    /// What the fund or vault took over here (none before the first takeover).
    inventory: Option<Inventory>,
    /// How far the holder's limit moves each step: `unwind_step` per minute, over a step.
    unwind_per_step: f64,
    /// Positions resting between slices of their liquidation.
    cooldown: Cooldown,
    /// Losses of liquidated positions counted before they closed (a deficit covered on a
    /// rest that stays).
    recognised: RecognisedLosses,
}

/// Positions that were sent a slice of their liquidation and wait out the cool-down before
/// the next (Hyperliquid: 30 s); empty without slices.
#[derive(Clone, Debug, Default)]
struct Cooldown {
    /// Per trader (by place): the time (s) before which no next slice goes (empty when the
    /// size cap has no cool-down).
    until: Vec<f64>,
    /// Traders taken off the queue while cooling, soonest end first (the end's bits order
    /// like the times: they are finite and not negative).
    resting: BinaryHeap<Reverse<(u64, u32)>>,
    /// The time of the current step (s).
    now: f64,
}

impl PerpMarket {
    /// A market whose traders hold the positions of `book` (opened at t = 0 without fees),
    /// known outside by the ids `first..`, paying deficits from fund `fund`.
    pub fn open(book: PositionBook, margin: MarginParams, fund: u16, first: u32) -> Self {
        let queue = LiquidationQueue::build(&book, &margin);
        Self {
            book,
            queue,
            margin,
            fund,
            first,
            desk: Box::default(),
        }
    }

    /// The same market whose engine sends liquidation orders by `orders`, in steps of
    /// `dt_seconds` (the holder's limit moves `unwind_step` a minute).
    pub fn with_orders(mut self, orders: EngineOrders, dt_seconds: f64) -> Self {
        self.desk.unwind_per_step = orders.unwind_step * dt_seconds / 60.0;
        if orders.cap.cooldown_seconds() > 0.0 {
            self.desk.cooldown.until = vec![0.0; self.book.len()];
        }
        self.desk.orders = orders;
        self
    }

    pub fn orders(&self) -> &EngineOrders {
        &self.desk.orders
    }

    /// How far the holder's limit on its inventory moves each step.
    pub fn unwind_per_step(&self) -> f64 {
        self.desk.unwind_per_step
    }

    /// Phase 1 at time `now` (s): positions whose cool-down has ended go back on the queue.
    pub fn advance(&mut self, now: f64) {
        if self.desk.cooldown.until.is_empty() {
            return;
        }
        self.desk.cooldown.now = now;
        while let Some(&Reverse((t, k))) = self.desk.cooldown.resting.peek() {
            if f64::from_bits(t) > now {
                break;
            }
            self.desk.cooldown.resting.pop();
            self.reindex(k as usize);
        }
    }

    /// Takes the positions of `out[from..]` (places in the book) that are cooling between
    /// slices off the list, to rest until their cool-down ends.
    fn hold_cooling(&mut self, out: &mut Vec<u32>, from: usize) {
        if self.desk.cooldown.until.is_empty() {
            return;
        }
        let (until, resting, now) = (
            &self.desk.cooldown.until,
            &mut self.desk.cooldown.resting,
            self.desk.cooldown.now,
        );
        let mut kept = from;
        for n in from..out.len() {
            let k = out[n];
            let t = until[k as usize];
            if t > now {
                resting.push(Reverse((t.to_bits(), k)));
            } else {
                out[kept] = k;
                kept += 1;
            }
        }
        out.truncate(kept);
    }

    /// A slice of trader `k`'s liquidation went out: the next waits out the cool-down.
    fn start_cooldown(&mut self, k: usize) {
        let wait = self.desk.orders.cap.cooldown_seconds();
        if wait > 0.0 {
            self.desk.cooldown.until[k] = self.desk.cooldown.now + wait;
        }
    }

    /// The run-wide ids of this market's traders.
    pub fn traders(&self) -> Range<u32> {
        self.first..self.first + self.book.len() as u32
    }

    /// Place in the book of trader `i` (a run-wide id of this market).
    #[inline]
    fn at(&self, i: u32) -> usize {
        (i - self.first) as usize
    }

    pub fn book(&self) -> &PositionBook {
        &self.book
    }

    pub fn margin(&self) -> &MarginParams {
        &self.margin
    }

    pub fn fund(&self) -> u16 {
        self.fund
    }

    /// Trader `i`'s account.
    #[inline]
    pub fn position(&self, i: u32) -> Position {
        let k = self.at(i);
        Position {
            collateral: self.book.collateral[k],
            size: self.book.size[k],
            entry: self.book.entry[k],
        }
    }

    #[inline]
    pub fn equity(&self, i: u32, price: f64) -> f64 {
        self.book.equity(self.at(i), price)
    }

    /// Adds every open position to `map` by its distance to liquidation at `mark` (O(traders)).
    pub fn map_liquidations(&self, mark: f64, map: &mut LiquidationMap) {
        let b = &self.book;
        for k in 0..b.len() {
            let (c, q, e) = (b.collateral[k], b.size[k], b.entry[k]);
            if let Some(d) = self.margin.distance_to_liquidation(c, q, e, mark) {
                let side = if q > 0.0 {
                    ExposureSide::Long
                } else {
                    ExposureSide::Short
                };
                map.add(side, d, b.notional(k, mark));
            }
        }
    }

    /// Whether trader `i` holds a position.
    #[inline]
    pub fn is_open(&self, i: u32) -> bool {
        self.book.size[self.at(i)] != 0.0
    }

    /// Whether trader `i`'s position is liquidatable at `price` (MODEL.md section 3).
    #[inline]
    pub fn is_due(&self, i: u32, price: f64) -> bool {
        let k = self.at(i);
        self.margin
            .is_liquidatable(self.book.equity(k, price), self.book.notional(k, price))
    }

    /// Appends to `out` every position liquidatable at `price`, taking it off the queue.
    #[inline]
    pub fn due(&mut self, price: f64, out: &mut Vec<u32>) {
        if !self.queue.may_be_crossed(price) {
            return;
        }
        let from = out.len();
        self.queue
            .pop_liquidatable(&self.book, &self.margin, price, out);
        self.hold_cooling(out, from);
        for i in &mut out[from..] {
            *i += self.first;
        }
    }

    /// Puts a position that was taken off the queue but recovered back on it.
    pub fn requeue(&mut self, i: u32) {
        self.reindex(self.at(i));
    }

    /// Orders `ids` worst margin ratio at `price` first, ties by trader id (the processing
    /// order of MODEL.md section 4). `keys` is scratch space.
    pub fn order_worst_first(&self, ids: &mut [u32], price: f64, keys: &mut Vec<(f64, u32)>) {
        keys.clear();
        keys.extend(
            ids.iter()
                .map(|&i| (self.book.margin_ratio(self.at(i), price), i)),
        );
        keys.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        for (slot, &(_, i)) in ids.iter_mut().zip(keys.iter()) {
            *slot = i;
        }
    }

    /// Marks the trader at `k` as changed: its stale queue entries are skipped and it is
    /// indexed again.
    fn reindex(&mut self, k: usize) {
        self.book.version[k] = self.book.version[k].wrapping_add(1);
        self.queue.update(&self.book, &self.margin, k as u32);
    }

    /// Moves `amount` from one holder to another: the only way this market moves money.
    #[inline]
    fn transfer(&mut self, ledger: &mut Ledger, from: Holder, to: Holder, amount: f64) {
        match from {
            Holder::Trader(k) => self.book.collateral[k] -= amount,
            Holder::Ledger(a) => ledger.debit(a, amount),
        }
        match to {
            Holder::Trader(k) => self.book.collateral[k] += amount,
            Holder::Ledger(a) => ledger.credit(a, amount),
        }
    }

    /// Pays `amount` from `from` into this market's fund, as [`Ledger::pay_into_fund`].
    fn pay_into_fund(&mut self, ledger: &mut Ledger, from: Holder, amount: f64) {
        if amount > 0.0 {
            ledger.record_inflow(self.fund, amount);
            self.transfer(
                ledger,
                from,
                Holder::Ledger(Account::Fund(self.fund)),
                amount,
            );
            ledger.sweep_excess(self.fund);
        }
    }

    /// Moves `amount` from trader `i`'s reserve into its collateral (at most what is left).
    /// Returns what was moved.
    pub fn top_up(&mut self, ledger: &mut Ledger, i: u32, amount: f64) -> f64 {
        let moved = amount.min(ledger.balance(Account::Reserve(i))).max(0.0);
        if moved > 0.0 {
            let k = self.at(i);
            self.transfer(
                ledger,
                Holder::Ledger(Account::Reserve(i)),
                Holder::Trader(k),
                moved,
            );
            self.reindex(k);
        }
        moved
    }

    /// Trader `i` deposits `amount` of fresh collateral from outside.
    pub fn deposit(&mut self, ledger: &mut Ledger, i: u32, amount: f64) {
        let k = self.at(i);
        self.transfer(
            ledger,
            Holder::Ledger(Account::Deposits),
            Holder::Trader(k),
            amount,
        );
        self.reindex(k);
    }

    /// A voluntary trade of `delta` base units by trader `i` at `price` against the outside
    /// counterparty, paying `fee_rate * notional` (MODEL.md section 3). Increasing exposure
    /// needs `E >= imr N` afterwards; reductions always go through.
    pub fn trade(
        &mut self,
        ledger: &mut Ledger,
        i: u32,
        delta: f64,
        price: f64,
        fees: &FeeParams,
    ) -> Result<TradeFill, TradeError> {
        let k = self.at(i);
        let (q, e) = (self.book.size[k], self.book.entry[k]);
        let new_q = q + delta;
        let notional = delta.abs() * price;
        let fee = fees.rate * notional;
        // Realized PnL on the part that reduces the position.
        let closed = if q * delta < 0.0 {
            delta.abs().min(q.abs())
        } else {
            0.0
        };
        let realized = closed * q.signum() * (price - e);
        let new_entry = new_entry(q, e, delta, price);
        let increases = new_q.abs() > q.abs() || q * new_q < 0.0;
        if increases {
            let collateral_after = self.book.collateral[k] + realized - fee;
            let equity_after = collateral_after + new_q * (price - new_entry);
            if equity_after < self.margin.initial(new_q.abs() * price) {
                return Err(TradeError::InsufficientMargin);
            }
        }
        let me = Holder::Trader(k);
        if realized != 0.0 {
            self.transfer(ledger, Holder::Ledger(Account::Counterparty), me, realized);
        }
        let to_fund = fee * fees.fund_share;
        self.pay_into_fund(ledger, me, to_fund);
        self.transfer(ledger, me, Holder::Ledger(Account::Treasury), fee - to_fund);
        self.book.size[k] = new_q;
        self.book.entry[k] = new_entry;
        self.desk.recognised.resized(k, q, new_q);
        self.reindex(k);
        Ok(TradeFill {
            notional,
            fee,
            fee_to_fund: to_fund,
            realized_pnl: realized,
        })
    }
}

/// Average entry after adding `delta` at `price` to `q` entered at `e`.
pub(super) fn new_entry(q: f64, e: f64, delta: f64, price: f64) -> f64 {
    let new_q = q + delta;
    if new_q == 0.0 {
        0.0
    } else if q == 0.0 || q * new_q < 0.0 {
        price
    } else if new_q.abs() > q.abs() {
        (q * e + delta * price) / new_q
    } else {
        e
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::protocol::{InsuranceFund, LEDGER_TOLERANCE};

    /// A one-market ledger around `book`, with fund `fund`.
    pub(crate) fn market(
        book: PositionBook,
        margin: MarginParams,
        fund: f64,
    ) -> (PerpMarket, Ledger) {
        let ledger = Ledger::open(
            vec![InsuranceFund::new(fund).unwrap()],
            book.total_collateral(),
        );
        (PerpMarket::open(book, margin, 0, 0), ledger)
    }

    /// The ledger balances: every account, this market's collateral included.
    pub(crate) fn assert_balanced(m: &PerpMarket, l: &Ledger) {
        let imbalance = l.imbalance(m.book().total_collateral());
        assert!(
            imbalance.abs() <= LEDGER_TOLERANCE * l.scale(),
            "{imbalance}"
        );
    }

    #[test]
    fn trades_pay_fees_realize_pnl_and_keep_the_ledger() {
        let mut book = PositionBook::default();
        book.push(1_000.0, 0.0, 0.0);
        let (mut v, mut l) = market(book, MarginParams::new(0.1, 0.05).unwrap(), 500.0);
        let fees = FeeParams::new(0.001, 0.25).unwrap();
        let f = v.trade(&mut l, 0, 0.5, 10_000.0, &fees).unwrap();
        assert!((f.fee - 5.0).abs() < 1e-12);
        assert_eq!(v.position(0).entry, 10_000.0);
        // Too much leverage is refused and changes nothing.
        assert_eq!(
            v.trade(&mut l, 0, 10.0, 10_000.0, &fees),
            Err(TradeError::InsufficientMargin)
        );
        // Close half at a profit.
        let f = v.trade(&mut l, 0, -0.25, 10_400.0, &fees).unwrap();
        assert!((f.realized_pnl - 100.0).abs() < 1e-9);
        assert_eq!(v.position(0).entry, 10_000.0);
        assert!((l.balance(Account::Fund(0)) - (500.0 + 0.25 * (5.0 + 2.6))).abs() < 1e-9);
        assert!((l.balance(Account::Treasury) - 0.75 * (5.0 + 2.6)).abs() < 1e-9);
        assert_balanced(&v, &l);
        // Flip to short: the new entry is the trade price.
        v.trade(&mut l, 0, -0.5, 10_200.0, &fees).unwrap();
        assert!(v.position(0).size < 0.0);
        assert_eq!(v.position(0).entry, 10_200.0);
        assert_balanced(&v, &l);
    }

    /// Outside, traders are known by run-wide ids: a market whose traders start at id 10 finds
    /// the liquidatable ones under those ids.
    #[test]
    fn a_market_speaks_in_run_wide_ids() {
        let mut book = PositionBook::default();
        book.push(100.0, 10.0, 100.0); // liquidated below about 90.9
        book.push(100.0, 1.0, 100.0);
        let mut v = PerpMarket::open(book, MarginParams::new(0.02, 0.01).unwrap(), 0, 10);
        assert_eq!(v.traders(), 10..12);
        let mut due = vec![3];
        v.due(90.0, &mut due);
        assert_eq!(due, vec![3, 10]);
        assert!(v.is_due(10, 90.0) && !v.is_due(11, 90.0));
        assert_eq!(v.position(11).size, 1.0);
    }
}
