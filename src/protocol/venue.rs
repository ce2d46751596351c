//! One perpetual-swap market: its traders' accounts, the insurance fund and the ledger.

use super::{InsuranceFund, LiquidationQueue, MarginParams, PositionBook};
use crate::params::{ParamResult, unit_interval};

/// Largest relative ledger imbalance MODEL.md section 7 allows.
pub const LEDGER_TOLERANCE: f64 = 1e-9;

/// A named account of the ledger (MODEL.md section 7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Account {
    /// A trader's collateral.
    Trader(u32),
    /// The insurance fund.
    Fund,
    /// The venue's treasury: fees and penalties not paid into the fund.
    Treasury,
    /// The outside world, which takes the other side of every fill: realized PnL moves between
    /// it and the traders.
    Counterparty,
    /// Bad debt that nobody covered: a hole in the venue's balance sheet (negative balance).
    Uncovered,
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
    pub realized_pnl: f64,
}

/// Why a voluntary trade was refused.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TradeError {
    /// After the trade, equity would be below `imr * notional`.
    InsufficientMargin,
}

#[derive(Clone, Debug)]
pub struct Venue {
    pub book: PositionBook,
    pub margin: MarginParams,
    pub fund: InsuranceFund,
    pub(crate) queue: LiquidationQueue,
    treasury: f64,
    counterparty: f64,
    uncovered: f64,
    /// Sum of all accounts at the start; every transfer keeps it.
    initial_total: f64,
}

impl Venue {
    /// A venue whose traders hold the positions of `book` (opened at t = 0 without fees).
    pub fn open(book: PositionBook, margin: MarginParams, fund: InsuranceFund) -> Self {
        let queue = LiquidationQueue::build(&book, &margin);
        let initial_total = book.total_collateral() + fund.balance();
        Self {
            book,
            margin,
            fund,
            queue,
            treasury: 0.0,
            counterparty: 0.0,
            uncovered: 0.0,
            initial_total,
        }
    }

    fn balance_mut(&mut self, a: Account) -> &mut f64 {
        match a {
            Account::Trader(i) => &mut self.book.collateral[i as usize],
            Account::Fund => &mut self.fund.balance,
            Account::Treasury => &mut self.treasury,
            Account::Counterparty => &mut self.counterparty,
            Account::Uncovered => &mut self.uncovered,
        }
    }

    pub fn balance(&self, a: Account) -> f64 {
        match a {
            Account::Trader(i) => self.book.collateral[i as usize],
            Account::Fund => self.fund.balance,
            Account::Treasury => self.treasury,
            Account::Counterparty => self.counterparty,
            Account::Uncovered => self.uncovered,
        }
    }

    /// Moves `amount` from one account to another: the only way money moves.
    #[inline]
    pub fn transfer(&mut self, from: Account, to: Account, amount: f64) {
        *self.balance_mut(from) -= amount;
        *self.balance_mut(to) += amount;
        if from == Account::Fund || to == Account::Fund {
            self.fund.observe_balance();
        }
    }

    /// Pays `amount` from `from` into the insurance fund and records it as an inflow.
    /// With a cap, whatever the balance then holds above it is swept to treasury.
    pub fn pay_into_fund(&mut self, from: Account, amount: f64) {
        if amount > 0.0 {
            self.fund.record_inflow(amount);
            self.transfer(from, Account::Fund, amount);
            let excess = self.fund.take_excess();
            if excess > 0.0 {
                self.transfer(Account::Fund, Account::Treasury, excess);
            }
        }
    }

    /// Sum of all accounts minus the sum at the start: zero up to rounding.
    pub fn ledger_imbalance(&self) -> f64 {
        self.book.total_collateral()
            + self.fund.balance
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
        self.queue.update(&self.book, &self.margin, i);
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
        self.pay_into_fund(Account::Trader(i), to_fund);
        self.transfer(Account::Trader(i), Account::Treasury, fee - to_fund);
        self.book.size[k] = new_q;
        self.book.entry[k] = new_entry;
        self.reindex(i);
        Ok(TradeFill {
            notional,
            fee,
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
        v.pay_into_fund(Account::Trader(0), 50.0);
        assert_eq!(v.balance(Account::Fund), 520.0);
        assert_eq!(v.balance(Account::Treasury), 30.0);
        assert_eq!(v.fund.swept(), 30.0);
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
        assert!((v.balance(Account::Fund) - (500.0 + 0.25 * (5.0 + 2.6))).abs() < 1e-9);
        assert!((v.balance(Account::Treasury) - 0.75 * (5.0 + 2.6)).abs() < 1e-9);
        assert!(v.ledger_imbalance().abs() <= v.ledger_tolerance());
        // Flip to short: the new entry is the trade price.
        v.trade(0, -0.5, 10_200.0, &fees).unwrap();
        assert!(v.book.size[0] < 0.0);
        assert_eq!(v.book.entry[0], 10_200.0);
        assert!(v.ledger_imbalance().abs() <= v.ledger_tolerance());
    }
}
