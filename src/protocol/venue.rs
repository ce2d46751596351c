//! The protocol side of a run: its markets, of any kind, and the ledger they share.
//!
//! The run asks the venue which positions are due and has it close them; it never reaches
//! into a market's book. Traders are known by run-wide ids, each market's traders holding a
//! contiguous range of them.

use super::perp::{FeeParams, PerpMarket, Position, TradeError, TradeFill, Unwound};
use crate::market::{ImpactLaw, MarkState};

use super::{
    Account, BorrowerFlows, CloseContext, ForcedClose, InsuranceFund, LEDGER_TOLERANCE, Ledger,
    Leftover, Liquidator, Market,
};

#[derive(Clone, Debug)]
pub struct Venue {
    ledger: Ledger,
    markets: Vec<Market>,
    /// The market of every trader, by run-wide id.
    market_of: Vec<u16>,
}

impl Venue {
    /// A venue of `markets` (whose traders hold the ids `0..` in market order) paying deficits
    /// from `funds`.
    pub fn open(markets: Vec<Market>, funds: Vec<InsuranceFund>) -> Self {
        let mut market_of = Vec::new();
        for (m, market) in markets.iter().enumerate() {
            debug_assert_eq!(market.traders().start as usize, market_of.len());
            market_of.extend(market.traders().map(|_| m as u16));
        }
        let collateral = markets
            .iter()
            .flat_map(|m| m.collateral().iter())
            .sum::<f64>();
        let lent: f64 = markets.iter().map(Market::debt_outstanding).sum();
        let mut ledger = Ledger::open(funds, collateral);
        if lent > 0.0 {
            ledger = ledger.with_suppliers(lent);
        }
        Self {
            ledger,
            markets,
            market_of,
        }
    }

    /// Gives every trader a reserve outside the venue (part of the ledger from the start).
    pub fn with_reserves(mut self, reserve: Vec<f64>) -> Self {
        self.ledger = self.ledger.with_reserves(reserve);
        self
    }

    /// Gives the venue `count` keepers with `capital` each (part of the ledger from the start).
    pub fn with_keepers(mut self, count: u16, capital: f64) -> Self {
        self.ledger = self.ledger.with_keepers(count, capital);
        self
    }

    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    pub fn markets(&self) -> &[Market] {
        &self.markets
    }

    pub fn market(&self, m: usize) -> &Market {
        &self.markets[m]
    }

    /// The market of trader `i`.
    #[inline]
    pub fn market_of(&self, i: u32) -> usize {
        self.market_of[i as usize] as usize
    }

    /// Appends to `out` the positions of market `m` liquidatable at `price`.
    #[inline]
    pub fn due(&mut self, m: usize, price: f64, out: &mut Vec<u32>) {
        self.markets[m].due(price, out);
    }

    /// Puts a position of market `m` that recovered back on its queue.
    #[inline]
    pub fn requeue(&mut self, m: usize, i: u32) {
        self.markets[m].requeue(i);
    }

    /// Closes trader `i` of market `m` by force, by `by`.
    #[inline]
    pub fn force_close(
        &mut self,
        m: usize,
        i: u32,
        by: Liquidator,
        ctx: &mut CloseContext,
    ) -> ForcedClose {
        self.markets[m].force_close(&mut self.ledger, i, by, ctx)
    }

    /// Phase 3 in market `m`, before its due list: the inventory a fund or vault holds there
    /// is offered back to the book (see [`Market::unwind`]).
    #[inline]
    pub fn unwind(
        &mut self,
        m: usize,
        price: &mut MarkState,
        law: &ImpactLaw,
        step: u64,
    ) -> Unwound {
        self.markets[m].unwind(&mut self.ledger, price, law, step)
    }

    /// The end of `step`, once every inventory is marked: the funds' early triggers read
    /// their marked balances.
    pub fn end_step(&mut self, step: u64) {
        self.ledger.end_step(step);
    }

    /// The end of a step: market `m`'s inventory marked at `mark` for its holder.
    #[inline]
    pub fn mark_inventory(&mut self, m: usize, mark: f64, step: u64) {
        self.markets[m].mark_inventory(&mut self.ledger, mark, step);
    }

    /// Gives the venue a liquidator vault (part of the ledger from the start).
    pub fn with_vault(mut self, vault: InsuranceFund) -> Self {
        self.ledger = self.ledger.with_vault(vault);
        self
    }

    /// Pays `amount` of outside revenue into fund `fund` (MODEL.md section 5).
    pub fn pay_revenue(&mut self, fund: u16, amount: f64) {
        self.ledger
            .pay_into_fund(Account::Counterparty, fund, amount);
    }

    /// Phase 1 for market `m`, at time `now` (see [`Market::advance`]).
    #[inline]
    pub fn advance_market(&mut self, m: usize, price: &MarkState, now: f64) {
        self.markets[m].advance(&mut self.ledger, price, now);
    }

    /// Phase 1, after market `m`'s index moved to `index`: its fund, if held in the market's
    /// coin, is valued at it (MODEL.md section 5).
    #[inline]
    pub fn value_fund_in_coin(&mut self, m: usize, index: f64, step: u64) {
        if self.ledger.holds_coin() {
            let fund = self.markets[m].fund();
            self.ledger.revalue_coin(fund, index, step);
        }
    }

    /// Phase 5 for market `m`'s holders with plans (see [`Market::holders_act`]).
    #[inline]
    pub fn holders_act(
        &mut self,
        m: usize,
        price: &mut MarkState,
        law: &ImpactLaw,
        liquidated: f64,
    ) -> Option<BorrowerFlows> {
        self.markets[m].holders_act(&mut self.ledger, price, law, liquidated)
    }

    /// Whether trader `i` of market `m`, closed out by force, may come back.
    #[inline]
    pub fn takes_back(&self, m: usize, i: u32) -> bool {
        self.markets[m].takes_back(i)
    }

    /// What is left of market `m` at the end of the run, given the positions no keeper took
    /// (see [`Market::end_of_run`]).
    pub fn end_of_run(&self, m: usize, waiting: &mut Vec<u32>) -> Leftover {
        self.markets[m].end_of_run(waiting)
    }

    /// Perp market `m`: traders act on perp markets only (borrowers never decide, and never
    /// come back: [`Venue::takes_back`]).
    #[inline]
    fn perp(&self, m: usize) -> Option<&PerpMarket> {
        match &self.markets[m] {
            Market::Perp(p) => Some(p),
            Market::Lending(_) => None,
        }
    }

    #[inline]
    fn perp_mut(&mut self, m: usize) -> Option<(&mut PerpMarket, &mut Ledger)> {
        match &mut self.markets[m] {
            Market::Perp(p) => Some((p, &mut self.ledger)),
            Market::Lending(_) => None,
        }
    }

    /// The account of trader `i` of market `m` (flat in a lending market).
    #[inline]
    pub fn position(&self, m: usize, i: u32) -> Position {
        self.perp(m).map_or(
            Position {
                collateral: 0.0,
                size: 0.0,
                entry: 0.0,
            },
            |p| p.position(i),
        )
    }

    #[inline]
    pub fn equity(&self, m: usize, i: u32, price: f64) -> f64 {
        self.perp(m).map_or(0.0, |p| p.equity(i, price))
    }

    /// What trader `i` holds outside the venue and may add as collateral.
    pub fn reserve(&self, i: u32) -> f64 {
        self.ledger.balance(Account::Reserve(i))
    }

    /// A voluntary trade of `delta` base units by trader `i` of market `m` at `price` (see
    /// [`PerpMarket::trade`]).
    pub fn trade(
        &mut self,
        m: usize,
        i: u32,
        delta: f64,
        price: f64,
        fees: &FeeParams,
    ) -> Result<TradeFill, TradeError> {
        let (market, ledger) = self.perp_mut(m).ok_or(TradeError::NotTradable)?;
        market.trade(ledger, i, delta, price, fees)
    }

    /// Moves up to `amount` from the reserve of trader `i` of market `m` into its collateral;
    /// returns what moved.
    pub fn top_up(&mut self, m: usize, i: u32, amount: f64) -> f64 {
        self.perp_mut(m)
            .map_or(0.0, |(market, ledger)| market.top_up(ledger, i, amount))
    }

    /// Trader `i` of market `m` deposits `amount` of fresh collateral from outside.
    pub fn deposit(&mut self, m: usize, i: u32, amount: f64) {
        if let Some((market, ledger)) = self.perp_mut(m) {
            market.deposit(ledger, i, amount);
        }
    }

    pub fn funds(&self) -> &[InsuranceFund] {
        self.ledger.funds()
    }

    /// Sum of the funds' balances: cash plus what their inventory is worth at the mark
    /// (MODEL.md section 5; the cash alone without takeovers).
    pub fn fund_balance(&self) -> f64 {
        self.ledger.fund_marked_balance()
    }

    /// Sum of all accounts minus the sum at the start: zero up to rounding.
    pub fn ledger_imbalance(&self) -> f64 {
        let collateral = self
            .markets
            .iter()
            .flat_map(|m| m.collateral().iter())
            .sum::<f64>();
        let debt: f64 = self.markets.iter().map(Market::debt_outstanding).sum();
        self.ledger.imbalance(collateral - debt)
    }

    /// The tolerance of section 7: `1e-9 * (total collateral + F0)`.
    pub fn ledger_tolerance(&self) -> f64 {
        LEDGER_TOLERANCE * self.ledger.scale()
    }

    /// `|imbalance| / (total collateral + F0)`: at most [`LEDGER_TOLERANCE`] in a sound run.
    pub fn ledger_imbalance_relative(&self) -> f64 {
        self.ledger_imbalance().abs() / self.ledger.scale()
    }
}
