//! Comet's holding and its store front in a run (`Comet.sol` `absorbInternal`,
//! `buyCollateral`, `quoteCollateral`, `getReserves`). Absorbed collateral stays with the
//! reserves (this market's fund), marked at the oracle every step, until keepers buy it at
//! `O (1 - SFPF (1 - LF))`; `buyCollateral` sells only while the reserves, the base asset
//! alone (`getReserves`, held collateral aside), are below `targetReserves`.
//!
//! Each keeper buys at most once a step, in turn from a rotating first buyer (no random draw:
//! who buys moves no price and no fund), the size that pays it best among the holding and its
//! halvings (what it pays less what the book gives it for the units, less gas), and only
//! for a profit. A purchase is flash-funded, as Compound's `OnChainLiquidator` buys with a
//! Uniswap flash swap, so the keeper's capital does not bind it. Buyers act in the market's
//! own phase, after the step's liquidations, with no latency: the holding is on chain, and
//! `OnChainLiquidator` absorbs and buys in one transaction.

use super::{LendingMarket, LendingStyle, StoreFrontBuyers};
use crate::market::{ImpactLaw, MarkState, Side};
use crate::protocol::lending::comet::CometRules;
use crate::protocol::{Account, BorrowerFlows, Ledger};

/// A keeper weighs the whole holding and this many successive halvings of it.
const HALVINGS: u32 = 20;

impl LendingMarket {
    /// Keepers `buyers` buy at this market's store front (Comet style; no effect otherwise).
    pub fn with_store_front_buyers(mut self, buyers: StoreFrontBuyers) -> Self {
        self.buyers = buyers;
        self
    }

    /// The collateral the reserves hold: units, and their value at the oracle (USD).
    pub fn held_collateral(&self) -> (f64, f64) {
        (self.held.units(), self.held.value())
    }

    /// The step of the market's current time.
    fn step_now(&self) -> u64 {
        (self.now / self.dt_seconds).round() as u64
    }

    /// Marks what the reserves hold at the oracle: the fund gains or loses the change.
    pub(super) fn mark_held(&mut self, ledger: &mut Ledger, step: u64) {
        let change = self.held.revalue(self.feed.price());
        ledger.revalue_holding(self.fund, change, step);
    }

    /// The store front: while the reserves are below target and a keeper profits, keepers
    /// buy what the reserves hold, each at most once, and sell it into `price`'s book.
    pub(super) fn sell_held(
        &mut self,
        ledger: &mut Ledger,
        price: &mut MarkState,
        law: &ImpactLaw,
        flows: &mut BorrowerFlows,
    ) {
        let LendingStyle::Comet { rules, .. } = self.terms.style else {
            return;
        };
        for _ in 0..self.buyers.count {
            if self.held.units() <= 0.0 {
                return;
            }
            let reserves = ledger.balance(Account::Fund(self.fund)) - self.held.value();
            if !rules.store_front_open(reserves) {
                return;
            }
            let Some(units) = self.purchase_size(&rules, price, law) else {
                return;
            };
            let keeper = self.buyers.next;
            self.buyers.next = (keeper + 1) % self.buyers.count;
            let unit_price = rules.store_front_price(self.feed.price());
            let sale = self.buy(ledger, keeper, units, unit_price, price, law);
            flows.store_front_paid += sale.paid;
            flows.store_front_slippage += sale.slippage;
            flows.store_front_keeper_profit += sale.keeper_profit;
        }
    }

    /// What a keeper buys now: the size, among the holding and its halvings, that pays it
    /// most (the book's fill less the store-front price, on every unit, less gas), if any
    /// pays at all.
    fn purchase_size(&self, rules: &CometRules, price: &MarkState, law: &ImpactLaw) -> Option<f64> {
        let (mark, cost) = (price.book(), rules.store_front_price(self.feed.price()));
        if mark - cost <= 0.0 {
            return None; // the book pays less than the store front asks, before slippage
        }
        let mut best: Option<(f64, f64)> = None;
        let mut units = self.held.units();
        for _ in 0..=HALVINGS {
            let fill = price.quote_fill(Side::Sell, units * mark, law);
            let profit = units * (fill - cost) - self.buyers.gas_usd;
            if profit > best.map_or(0.0, |(_, p)| p) {
                best = Some((units, profit));
            }
            units /= 2.0;
        }
        best.map(|(u, _)| u)
    }

    /// Keeper `keeper` buys `units` at `unit_price` and sells them into the book. The
    /// reserves let the units go under their mark (the discount is their loss) for cash.
    fn buy(
        &mut self,
        ledger: &mut Ledger,
        keeper: u16,
        units: f64,
        unit_price: f64,
        price: &mut MarkState,
        law: &ImpactLaw,
    ) -> StoreFrontSale {
        let (o, fund, step) = (self.feed.price(), self.fund, self.step_now());
        let units = self.held.release(units);
        let paid = units * unit_price;
        ledger.revalue_holding(fund, -units * (o - unit_price), step);
        let buyer = Account::Keeper(keeper);
        ledger.transfer(buyer, Account::Fund(fund), paid);
        ledger.transfer(Account::Fund(fund), Account::Counterparty, paid);
        let mark = price.book();
        let fill = price.execute(Side::Sell, units * mark, law);
        let proceeds = units * fill;
        ledger.transfer(Account::Counterparty, buyer, proceeds);
        ledger.transfer(buyer, Account::Counterparty, self.buyers.gas_usd);
        StoreFrontSale {
            paid,
            slippage: units * (mark - fill),
            keeper_profit: proceeds - paid - self.buyers.gas_usd,
        }
    }
}

/// What one store-front purchase did.
struct StoreFrontSale {
    paid: f64,
    slippage: f64,
    keeper_profit: f64,
}
