//! A perpetual-swap venue: its markets' traders' accounts, the insurance fund (one shared by
//! all markets, or one per market), and the ledger.
//!
//! Traders sit in one struct-of-arrays book, each market's traders in a contiguous range;
//! every market has its own liquidation queue (its own mark) and pays deficits from its fund.

use std::ops::Range;

use super::{InsuranceFund, LiquidationQueue, MarginParams, PositionBook};
use crate::params::{ParamResult, unit_interval};

/// Largest relative ledger imbalance MODEL.md section 7 allows.
pub const LEDGER_TOLERANCE: f64 = 1e-9;

/// A named account of the ledger (MODEL.md section 7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Account {
    /// A trader's collateral.
    Trader(u32),
    /// An insurance fund (index 0 when one fund serves every market).
    Fund(u16),
    /// The venue's treasury: fees and penalties not paid into the fund.
    Treasury,
    /// The outside world, which takes the other side of every fill: realized PnL moves between
    /// it and the traders.
    Counterparty,
    /// Bad debt that nobody covered: a hole in the venue's balance sheet (negative balance).
    Uncovered,
    /// A trader's reserve outside the venue, which it may add as collateral.
    Reserve(u32),
    /// Traders' wallets outside the venue, from which re-entering traders deposit fresh
    /// collateral (negative balance: money brought in).
    Deposits,
    /// A keeper's capital (keeper mode).
    Keeper(u16),
}

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
}

/// One market's share of the venue: its traders, their liquidation queue, and its fund.
#[derive(Clone, Debug)]
pub(crate) struct VenueMarket {
    pub(crate) traders: Range<u32>,
    pub(crate) queue: LiquidationQueue,
    pub(crate) fund: u16,
}

#[derive(Clone, Debug)]
pub struct Venue {
    pub book: PositionBook,
    pub margin: MarginParams,
    pub funds: Vec<InsuranceFund>,
    pub(crate) markets: Vec<VenueMarket>,
    /// The market of every trader.
    market_of: Vec<u16>,
    /// Per trader: reserve outside the venue (empty until [`Venue::with_reserves`]).
    reserve: Vec<f64>,
    deposits: f64,
    keepers: Vec<f64>,
    treasury: f64,
    counterparty: f64,
    uncovered: f64,
    /// Sum of all accounts at the start; every transfer keeps it.
    initial_total: f64,
}

impl Venue {
    /// A venue whose traders hold the positions of `book` (opened at t = 0 without fees).
    pub fn open(book: PositionBook, margin: MarginParams, fund: InsuranceFund) -> Self {
        let n = book.len() as u32;
        let everyone = 0..n;
        Self::open_markets(
            book,
            std::slice::from_ref(&everyone),
            margin,
            vec![fund],
            &[0],
        )
    }

    /// A venue of several markets: `ranges[m]` are market `m`'s traders in `book` (contiguous,
    /// in order, covering the book), paying deficits from `funds[fund_of_market[m]]`.
    pub fn open_markets(
        book: PositionBook,
        ranges: &[Range<u32>],
        margin: MarginParams,
        funds: Vec<InsuranceFund>,
        fund_of_market: &[u16],
    ) -> Self {
        let mut market_of = vec![0u16; book.len()];
        let markets = ranges
            .iter()
            .zip(fund_of_market)
            .enumerate()
            .map(|(m, (r, &fund))| {
                for i in r.clone() {
                    market_of[i as usize] = m as u16;
                }
                VenueMarket {
                    traders: r.clone(),
                    queue: LiquidationQueue::build_range(&book, &margin, r.clone()),
                    fund,
                }
            })
            .collect();
        let initial_total =
            book.total_collateral() + funds.iter().map(InsuranceFund::balance).sum::<f64>();
        Self {
            book,
            margin,
            funds,
            markets,
            market_of,
            reserve: Vec::new(),
            deposits: 0.0,
            keepers: Vec::new(),
            treasury: 0.0,
            counterparty: 0.0,
            uncovered: 0.0,
            initial_total,
        }
    }

    fn balance_mut(&mut self, a: Account) -> &mut f64 {
        match a {
            Account::Trader(i) => &mut self.book.collateral[i as usize],
            Account::Fund(f) => &mut self.funds[f as usize].balance,
            Account::Treasury => &mut self.treasury,
            Account::Counterparty => &mut self.counterparty,
            Account::Uncovered => &mut self.uncovered,
            Account::Reserve(i) => &mut self.reserve[i as usize],
            Account::Deposits => &mut self.deposits,
            Account::Keeper(k) => &mut self.keepers[k as usize],
        }
    }

    pub fn balance(&self, a: Account) -> f64 {
        match a {
            Account::Trader(i) => self.book.collateral[i as usize],
            Account::Fund(f) => self.funds[f as usize].balance,
            Account::Treasury => self.treasury,
            Account::Counterparty => self.counterparty,
            Account::Uncovered => self.uncovered,
            Account::Reserve(i) => self.reserve.get(i as usize).copied().unwrap_or(0.0),
            Account::Deposits => self.deposits,
            Account::Keeper(k) => self.keepers.get(k as usize).copied().unwrap_or(0.0),
        }
    }

    /// Gives the venue `count` keepers with `capital` each (part of the ledger from the start).
    pub fn with_keepers(mut self, count: u16, capital: f64) -> Self {
        self.keepers = vec![capital; count as usize];
        self.initial_total += capital * count as f64;
        self
    }

    /// Gives every trader a reserve outside the venue (part of the ledger from the start).
    pub fn with_reserves(mut self, reserve: Vec<f64>) -> Self {
        self.initial_total += reserve.iter().sum::<f64>();
        self.reserve = reserve;
        self
    }

    /// Moves `amount` from trader `i`'s reserve into its collateral (at most what is left).
    /// Returns what was moved.
    pub fn top_up(&mut self, i: u32, amount: f64) -> f64 {
        let moved = amount.min(self.balance(Account::Reserve(i))).max(0.0);
        if moved > 0.0 {
            self.transfer(Account::Reserve(i), Account::Trader(i), moved);
            self.reindex(i);
        }
        moved
    }

    /// Trader `i` deposits `amount` of fresh collateral from outside.
    pub fn deposit(&mut self, i: u32, amount: f64) {
        self.transfer(Account::Deposits, Account::Trader(i), amount);
        self.reindex(i);
    }

    /// Moves `amount` from one account to another: the only way money moves.
    #[inline]
    pub fn transfer(&mut self, from: Account, to: Account, amount: f64) {
        *self.balance_mut(from) -= amount;
        *self.balance_mut(to) += amount;
        for a in [from, to] {
            if let Account::Fund(f) = a {
                self.funds[f as usize].observe_balance();
            }
        }
    }

    /// The market of trader `i`.
    #[inline]
    pub fn market_of(&self, i: u32) -> usize {
        self.market_of[i as usize] as usize
    }

    /// The fund that pays market `m`'s deficits.
    #[inline]
    pub fn fund_of_market(&self, m: usize) -> u16 {
        self.markets[m].fund
    }

    /// Market `m`'s traders.
    pub fn market_traders(&self, m: usize) -> Range<u32> {
        self.markets[m].traders.clone()
    }

    /// The fund of the only market, or fund 0.
    pub fn fund(&self) -> &InsuranceFund {
        &self.funds[0]
    }

    /// Sum of the funds' balances.
    pub fn fund_balance(&self) -> f64 {
        self.funds.iter().map(InsuranceFund::balance).sum()
    }

    /// Pays `amount` from `from` into fund `fund` and records it as an inflow. With a cap,
    /// whatever the balance then holds above it is swept to treasury.
    pub fn pay_into_fund(&mut self, from: Account, fund: u16, amount: f64) {
        if amount > 0.0 {
            let f = fund as usize;
            self.funds[f].record_inflow(amount);
            self.transfer(from, Account::Fund(fund), amount);
            let excess = self.funds[f].take_excess();
            if excess > 0.0 {
                self.transfer(Account::Fund(fund), Account::Treasury, excess);
            }
        }
    }

    /// Sum of all accounts minus the sum at the start: zero up to rounding.
    pub fn ledger_imbalance(&self) -> f64 {
        self.book.total_collateral()
            + self.fund_balance()
            + self.reserve.iter().sum::<f64>()
            + self.deposits
            + self.keepers.iter().sum::<f64>()
            + self.treasury
            + self.counterparty
            + self.uncovered
            - self.initial_total
    }

    /// The tolerance of section 7: `1e-9 * (total collateral + F0)`.
    pub fn ledger_tolerance(&self) -> f64 {
        LEDGER_TOLERANCE * self.initial_total.abs().max(1.0)
    }

    /// `|imbalance| / (total collateral + F0)`: at most [`LEDGER_TOLERANCE`] in a sound run.
    pub fn ledger_imbalance_relative(&self) -> f64 {
        self.ledger_imbalance().abs() / self.initial_total.abs().max(1.0)
    }

    /// Bad debt nobody covered so far (positive number).
    pub fn uncovered_bad_debt(&self) -> f64 {
        -self.uncovered
    }

    /// Marks trader `i` as changed: stale queue entries are skipped and it is re-indexed.
    pub(crate) fn reindex(&mut self, i: u32) {
        self.book.version[i as usize] = self.book.version[i as usize].wrapping_add(1);
        let m = self.market_of(i);
        self.markets[m].queue.update(&self.book, &self.margin, i);
    }

    /// A voluntary trade of `delta` base units by trader `i` at `price` against the outside
    /// counterparty, paying `fee_rate * notional` (MODEL.md section 3). Increasing exposure
    /// needs `E >= imr N` afterwards; reductions always go through.
    pub fn trade(
        &mut self,
        i: u32,
        delta: f64,
        price: f64,
        fees: &FeeParams,
    ) -> Result<TradeFill, TradeError> {
        let k = i as usize;
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
        let increases = new_q.abs() > q.abs() || q * new_q < 0.0;
        if increases {
            let collateral_after = self.book.collateral[k] + realized - fee;
            let equity_after =
                collateral_after + new_q * (price - self.new_entry(q, e, delta, price));
            if equity_after < self.margin.imr() * new_q.abs() * price {
                return Err(TradeError::InsufficientMargin);
            }
        }
        let new_entry = self.new_entry(q, e, delta, price);
        if realized != 0.0 {
            self.transfer(Account::Counterparty, Account::Trader(i), realized);
        }
        let to_fund = fee * fees.fund_share;
        let fund = self.fund_of_market(self.market_of(i));
        self.pay_into_fund(Account::Trader(i), fund, to_fund);
        self.transfer(Account::Trader(i), Account::Treasury, fee - to_fund);
        self.book.size[k] = new_q;
        self.book.entry[k] = new_entry;
        self.reindex(i);
        Ok(TradeFill {
            notional,
            fee,
            fee_to_fund: to_fund,
            realized_pnl: realized,
        })
    }

    /// Average entry after adding `delta` at `price` to `q` entered at `e`.
    fn new_entry(&self, q: f64, e: f64, delta: f64, price: f64) -> f64 {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    fn venue() -> Venue {
        let mut book = PositionBook::default();
        book.push(1_000.0, 0.0, 0.0);
        Venue::open(
            book,
            MarginParams::new(0.1, 0.05).unwrap(),
            InsuranceFund::new(500.0).unwrap(),
        )
    }

    #[test]
    fn a_capped_fund_sweeps_its_excess_to_treasury() {
        let mut book = PositionBook::default();
        book.push(1_000.0, 0.0, 0.0);
        let mut v = Venue::open(
            book,
            MarginParams::new(0.1, 0.05).unwrap(),
            InsuranceFund::with_cap(500.0, Some(520.0)).unwrap(),
        );
        v.pay_into_fund(Account::Trader(0), 0, 50.0);
        assert_eq!(v.balance(Account::Fund(0)), 520.0);
        assert_eq!(v.balance(Account::Treasury), 30.0);
        assert_eq!(v.fund().swept(), 30.0);
        assert!(v.ledger_imbalance().abs() <= v.ledger_tolerance());
        assert_eq!(
            InsuranceFund::with_cap(500.0, Some(400.0))
                .unwrap_err()
                .field,
            "cap"
        );
    }

    #[test]
    fn trades_pay_fees_realize_pnl_and_keep_the_ledger() {
        let mut v = venue();
        let fees = FeeParams::new(0.001, 0.25).unwrap();
        let f = v.trade(0, 0.5, 10_000.0, &fees).unwrap();
        assert!((f.fee - 5.0).abs() < 1e-12);
        assert_eq!(v.book.entry[0], 10_000.0);
        // Too much leverage is refused and changes nothing.
        assert_eq!(
            v.trade(0, 10.0, 10_000.0, &fees),
            Err(TradeError::InsufficientMargin)
        );
        // Close half at a profit.
        let f = v.trade(0, -0.25, 10_400.0, &fees).unwrap();
        assert!((f.realized_pnl - 100.0).abs() < 1e-9);
        assert_eq!(v.book.entry[0], 10_000.0);
        assert!((v.balance(Account::Fund(0)) - (500.0 + 0.25 * (5.0 + 2.6))).abs() < 1e-9);
        assert!((v.balance(Account::Treasury) - 0.75 * (5.0 + 2.6)).abs() < 1e-9);
        assert!(v.ledger_imbalance().abs() <= v.ledger_tolerance());
        // Flip to short: the new entry is the trade price.
        v.trade(0, -0.5, 10_200.0, &fees).unwrap();
        assert!(v.book.size[0] < 0.0);
        assert_eq!(v.book.entry[0], 10_200.0);
        assert!(v.ledger_imbalance().abs() <= v.ledger_tolerance());
    }
}
