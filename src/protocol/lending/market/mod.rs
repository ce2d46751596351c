//! A lending market in a run (MODEL.md section 14): its borrowers' loans, the oracle they are
//! judged on, the queue of loans by the price that makes them liquidatable, the liquidation
//! of one loan by a keeper, and the bad-debt waterfall.
//!
//! Money (USD) moves only by ledger transfers. A loan's debt is a holding of the market,
//! counted negative (the borrower owes it); the suppliers' claim is the ledger's
//! [`Account::Suppliers`], credited with every loan at t = 0 and with the interest it accrues.
//! Whoever pays a debt down (a keeper repaying, the treasury's first-loss offset, the fund,
//! the suppliers themselves when a loss is socialized, or nobody: the unbacked deficit) moves
//! money into the loan. The collateral is units of the volatile asset, outside the USD
//! ledger until it is sold: its sale is a transfer from the outside counterparty.

mod clipper;
mod store_front;

use super::aave::{AaveLiquidation, AaveRules};
use super::auction::{Auction, MakerAuctions};
use super::borrowers::{
    BorrowerBehavior, BorrowerPlan, DefendAction, DeriskOrders, LiquidationWindow,
};
use super::comet::CometRules;
use super::held::HeldCollateral;
use super::loan::Loan;
use super::oracle::{OracleFeed, PushOracle};
use crate::market::{ImpactLaw, MarkState, Side};
use crate::params::{ParamResult, non_negative};
use crate::protocol::liquidation_map::{ExposureSide, LiquidationMap};
use crate::protocol::trigger::{Falling, Reversed, Trigger, TriggerQueue};
use crate::protocol::{
    Account, BorrowerFlows, CloseContext, DeficitTaker, ForcedClose, KeeperOffer, KeeperReward,
    Ledger, Leftover, Liquidator, LossSocialization, Socialized,
};

/// Seconds in the year borrow rates are quoted over (Aave's `SECONDS_PER_YEAR`).
const SECONDS_PER_YEAR: f64 = 365.0 * 86_400.0;

/// How a lending market liquidates (MODEL.md section 14). A closed set: a new style is a new
/// variant with its rules in its own file.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LendingStyle {
    /// Aave v3.3+ `LiquidationLogic`.
    Aave(AaveRules),
    /// Maker/Sky Liquidations 2.0 (`dog.sol`, `clip.sol`): Dutch auctions of the collateral.
    Auction(MakerAuctions),
    /// Compound III (`Comet.sol`): `absorb` into the reserves (this market's fund), then
    /// `buyCollateral` at the store front; `liquidation_threshold` is the asset's
    /// `liquidateCollateralFactor`.
    Comet {
        rules: CometRules,
        liquidation_threshold: f64,
    },
}

impl LendingStyle {
    pub fn liquidation_threshold(&self) -> f64 {
        match self {
            LendingStyle::Aave(r) => r.liquidation_threshold(),
            LendingStyle::Auction(a) => a.liquidation_threshold(),
            LendingStyle::Comet {
                liquidation_threshold,
                ..
            } => *liquidation_threshold,
        }
    }
}

/// What a liquidator would do to a loan now, by its style's contract.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Action {
    /// Aave: repay debt, receive collateral.
    Repay(AaveLiquidation),
    /// Auction: start one (`bark`/`kick`), paid `incentive` from the fund.
    Kick { incentive: f64 },
    /// Auction: restart one that is too old or too cheap (`redo`), paid `incentive`.
    Redo { incentive: f64 },
    /// Auction: buy `units` of the lot for `paid` USD (`take`).
    Take { units: f64, paid: f64 },
    /// Comet: `absorb` the loan's `units` of collateral into the reserves. Anyone may call
    /// it for gas alone; buying what the reserves hold is a separate act (the store front,
    /// `store_front.rs`).
    Absorb { units: f64 },
}

impl Action {
    /// The capital the liquidator puts up (USD).
    fn capital(&self) -> f64 {
        match *self {
            Action::Repay(l) => l.debt_repaid,
            Action::Take { paid, .. } => paid,
            Action::Kick { .. } | Action::Redo { .. } | Action::Absorb { .. } => 0.0,
        }
    }

    /// Collateral units the liquidator receives (and sells into the book).
    fn units_received(&self) -> f64 {
        match *self {
            Action::Repay(l) => l.to_keeper,
            Action::Take { units, .. } => units,
            Action::Kick { .. } | Action::Redo { .. } | Action::Absorb { .. } => 0.0,
        }
    }

    /// What the fund pays the liquidator for acting (USD).
    fn incentive(&self) -> f64 {
        match *self {
            Action::Kick { incentive } | Action::Redo { incentive } => incentive,
            Action::Repay(_) | Action::Take { .. } | Action::Absorb { .. } => 0.0,
        }
    }
}

/// The price a lending market's feed reads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OracleSource {
    /// The market the collateral trades in (the mark), where keepers sell: their sales
    /// reach the oracle and the health factor of every other loan (the lending cascade).
    /// For thin collateral and collateral a venue prices off its own book.
    Market,
    /// The index: a feed aggregating venues this market's sales do not move (Chainlink's
    /// aggregation; the default, MODEL.md section 14).
    #[default]
    Index,
}

/// A lending market's protocol terms, checked once.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LendingTerms {
    style: LendingStyle,
    oracle: PushOracle,
    source: OracleSource,
    /// Borrow rate (APR), accrued each step through a borrow index, as Aave's
    /// `variableBorrowIndex` does: one multiplication per step, whatever the borrowers.
    borrow_apr: f64,
    /// First-loss cover the treasury pays before the fund (Aave's `deficitOffset`), USD.
    deficit_offset: f64,
    /// What defenders and loopers do (nothing without them).
    behavior: BorrowerBehavior,
}

impl LendingTerms {
    pub fn new(
        style: LendingStyle,
        oracle: PushOracle,
        borrow_apr: f64,
        deficit_offset: f64,
    ) -> ParamResult<Self> {
        Ok(Self {
            style,
            oracle,
            source: OracleSource::default(),
            borrow_apr: non_negative("borrow_apr", borrow_apr)?,
            deficit_offset: non_negative("deficit_offset_usd", deficit_offset)?,
            behavior: BorrowerBehavior::default(),
        })
    }

    /// Borrowers follow `behavior`'s rules by the plans the market is given.
    pub fn with_behavior(mut self, behavior: BorrowerBehavior) -> Self {
        self.behavior = behavior;
        self
    }

    pub fn behavior(&self) -> &BorrowerBehavior {
        &self.behavior
    }

    pub fn style(&self) -> &LendingStyle {
        &self.style
    }

    /// The feed reads `source`.
    pub fn reading(mut self, source: OracleSource) -> Self {
        self.source = source;
        self
    }

    /// What the feed reads.
    pub fn source(&self) -> OracleSource {
        self.source
    }
}

/// The borrowers' loans, as a struct of arrays by place in the market.
#[derive(Clone, Debug, Default)]
struct Loans {
    /// Collateral units.
    collateral: Vec<f64>,
    /// Debt over the borrow index (Aave's scaled balance): the debt is `scaled * index`.
    scaled_debt: Vec<f64>,
    /// Bumped at every change: queue entries of older versions are stale.
    version: Vec<u32>,
    /// Each borrower's plan (empty: all static).
    plan: Vec<BorrowerPlan>,
    /// Loopers: the LTV they opened at and return to (empty: all static).
    target_ltv: Vec<f64>,
}

/// Whether the loss rule `rule` writes what the fund cannot pay off against the suppliers
/// (Morpho Blue, Euler: `socialize`); any other rule leaves it as an unbacked deficit
/// (Aave's `reserve.deficit`, Maker's system debt).
fn suppliers_cover(rule: LossSocialization) -> bool {
    rule == LossSocialization::ProRata
}

/// A loan whose collateral is gone, as the ledger's waterfall pays its debt down; under a
/// rule that socializes, the suppliers write off the residual.
struct WrittenOff<'m> {
    market: &'m mut LendingMarket,
    /// The loan's place in the market.
    at: usize,
    rule: LossSocialization,
}

impl DeficitTaker for WrittenOff<'_> {
    fn receive(&mut self, ledger: &mut Ledger, from: Account, amount: f64) {
        self.market.pay_down(ledger, from, self.at, amount);
    }

    fn socialize(&mut self, ledger: &mut Ledger, residual: f64) -> Socialized {
        if !suppliers_cover(self.rule) {
            return Socialized::default();
        }
        self.market
            .pay_down(ledger, Account::Suppliers, self.at, residual);
        Socialized {
            covered: residual,
            ..Socialized::default()
        }
    }
}

/// One lending market's protocol state in a run.
#[derive(Clone, Debug)]
pub struct LendingMarket {
    terms: LendingTerms,
    loans: Loans,
    /// Loans by the oracle price, over the borrow index, below which each is liquidatable
    /// (`d / (c LT)` in scaled debt), as the bits of a positive float (whose integer order
    /// is their numeric order): highest first, the first a falling price reaches.
    queue: TriggerQueue<Falling>,
    feed: OracleFeed,
    borrow_index: f64,
    /// Borrow index growth per step.
    growth_per_step: f64,
    /// Sum of scaled debts, kept as they change (interest is credited on it).
    total_scaled: f64,
    /// The fund that pays this market's deficits.
    fund: u16,
    /// Run-wide id of the first borrower.
    first: u32,
    /// What is left of the treasury's first-loss offset.
    offset_left: f64,
    /// `ln(oracle / index)` furthest from 0 so far.
    worst_log_gap: f64,
    /// The time of the current step (seconds).
    now: f64,
    /// Auction style: each loan's running auction, if any (empty otherwise).
    auctions: Vec<Option<Auction>>,
    /// Loans with a running auction, in the order they were kicked.
    active: Vec<u32>,
    /// Tab in running auctions (`dog.sol`'s `Dirt`).
    dirt: f64,
    /// Defenders by the price under which they repay (highest first).
    defend_queue: TriggerQueue<Falling>,
    /// Loopers by the price over which they borrow (lowest first).
    loop_queue: TriggerQueue<Reversed<Falling>>,
    /// De-riskers: the market's recent liquidations and who has not yet sold.
    derisk: Option<DeriskWatch>,
    /// Comet: the collateral the reserves absorbed and have not sold, in the fund at the
    /// oracle (empty in the other styles).
    held: HeldCollateral,
    /// Comet: who buys at the store front.
    buyers: StoreFrontBuyers,
    /// Seconds per step (a holding's marks are dated by step).
    dt_seconds: f64,
}

/// The keepers who buy absorbed collateral at Comet's store front: how many, the gas each
/// purchase costs, and whose turn it is to be first. None until the run gives them.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct StoreFrontBuyers {
    count: u16,
    gas_usd: f64,
    next: u16,
}

impl StoreFrontBuyers {
    /// `count` keepers, each purchase costing `gas_usd`.
    pub fn new(count: u16, gas_usd: f64) -> Self {
        Self {
            count,
            gas_usd,
            next: 0,
        }
    }
}

/// What de-riskers watch, and which of them are still to act.
#[derive(Clone, Debug)]
struct DeriskWatch {
    window: LiquidationWindow,
    pending: Vec<u32>,
}

impl LendingMarket {
    /// A market of `loans` (borrowers known by the ids `first..`), its oracle writing the
    /// index `s0` at t = 0, its deficits paid by fund `fund`, stepping `dt_seconds`.
    pub fn open(
        loans: &[Loan],
        terms: LendingTerms,
        s0: f64,
        fund: u16,
        first: u32,
        dt_seconds: f64,
    ) -> Self {
        let mut book = Loans::default();
        for l in loans {
            book.collateral.push(l.collateral);
            book.scaled_debt.push(l.debt);
            book.version.push(0);
        }
        let mut market = Self {
            terms,
            total_scaled: book.scaled_debt.iter().sum(),
            loans: book,
            queue: TriggerQueue::default(),
            feed: terms.oracle.start(s0, 0.0),
            borrow_index: 1.0,
            growth_per_step: 1.0 + terms.borrow_apr * dt_seconds / SECONDS_PER_YEAR,
            fund,
            first,
            offset_left: terms.deficit_offset,
            worst_log_gap: 0.0,
            now: 0.0,
            auctions: match terms.style {
                LendingStyle::Auction(_) => vec![None; loans.len()],
                LendingStyle::Aave(_) | LendingStyle::Comet { .. } => Vec::new(),
            },
            active: Vec::new(),
            dirt: 0.0,
            defend_queue: TriggerQueue::default(),
            loop_queue: TriggerQueue::default(),
            derisk: None,
            held: HeldCollateral::default(),
            buyers: StoreFrontBuyers::default(),
            dt_seconds,
        };
        let triggers: Vec<Trigger> = (0..loans.len()).filter_map(|k| market.trigger(k)).collect();
        market.queue = TriggerQueue::from_triggers(triggers);
        market
    }

    /// The market's borrowers follow `plans` (one per loan, in order), loopers back to the
    /// LTV they open at, de-riskers watching a window of steps of `dt_seconds`.
    pub fn with_plans(mut self, plans: Vec<BorrowerPlan>, dt_seconds: f64) -> Self {
        debug_assert_eq!(plans.len(), self.loans.collateral.len());
        self.loans.target_ltv = (0..plans.len())
            .map(|k| {
                let l = self.loan(k);
                l.debt / l.collateral_usd(self.feed.price())
            })
            .collect();
        if let Some(rule) = self.terms.behavior.derisk {
            let pending: Vec<u32> = (0..plans.len() as u32)
                .filter(|&k| plans[k as usize] == BorrowerPlan::DeRisker)
                .collect();
            if !pending.is_empty() {
                self.derisk = Some(DeriskWatch {
                    window: LiquidationWindow::new(rule.window_steps(dt_seconds)),
                    pending,
                });
            }
        }
        self.loans.plan = plans;
        for k in 0..self.loans.plan.len() {
            self.push_plan_trigger(k);
        }
        self
    }

    /// Puts loan `k` on its plan's queue, at the price that makes its plan act.
    fn push_plan_trigger(&mut self, k: usize) {
        let (c, s) = (self.loans.collateral[k], self.loans.scaled_debt[k]);
        if self.loans.plan.is_empty() || c <= 0.0 || s <= 0.0 {
            return;
        }
        let version = self.loans.version[k];
        let behavior = self.terms.behavior;
        match (self.loans.plan[k], behavior.defend, behavior.looping) {
            (BorrowerPlan::Defender, Some(rule), _) => self.defend_queue.push(Trigger {
                key: rule.trigger_level(c, s, self.lt()).to_bits(),
                id: k as u32,
                version,
            }),
            (BorrowerPlan::Looper, _, Some(rule)) => self.loop_queue.push(Trigger {
                key: rule.trigger_level(c, s, self.loans.target_ltv[k]).to_bits(),
                id: k as u32,
                version,
            }),
            _ => {}
        }
    }

    /// The run-wide ids of the market's borrowers.
    pub fn traders(&self) -> std::ops::Range<u32> {
        self.first..self.first + self.loans.collateral.len() as u32
    }

    pub fn fund(&self) -> u16 {
        self.fund
    }

    #[inline]
    fn at(&self, i: u32) -> usize {
        (i - self.first) as usize
    }

    fn lt(&self) -> f64 {
        self.terms.style.liquidation_threshold()
    }

    /// Loan `k` now, its debt with interest.
    #[inline]
    fn loan(&self, k: usize) -> Loan {
        Loan {
            collateral: self.loans.collateral[k],
            debt: self.loans.scaled_debt[k] * self.borrow_index,
        }
    }

    /// The loan of borrower `i`.
    pub fn loan_of(&self, i: u32) -> Loan {
        self.loan(self.at(i))
    }

    /// The price the protocol sees.
    pub fn oracle(&self) -> f64 {
        self.feed.price()
    }

    fn trigger(&self, k: usize) -> Option<Trigger> {
        let (c, s) = (self.loans.collateral[k], self.loans.scaled_debt[k]);
        (c > 0.0 && s > 0.0).then(|| Trigger {
            key: (s / (c * self.lt())).to_bits(),
            id: k as u32,
            version: self.loans.version[k],
        })
    }

    fn reindex(&mut self, k: usize) {
        self.loans.version[k] = self.loans.version[k].wrapping_add(1);
        if let Some(t) = self.trigger(k) {
            self.queue.push(t);
        }
        self.push_plan_trigger(k);
    }

    /// Phase 5 of a step: borrowers act by their plans on the oracle. Defenders whose health
    /// factor fell under their band spend their reserve; loopers whose LTV fell far
    /// enough under the one they opened at borrow back to it and buy collateral at the
    /// market's price `mark`. Only loans the queues name are looked at.
    ///
    /// The loopers' purchases do not move the book: with the oracle reading the market, each
    /// purchase's impact would trigger the next looper's, and on R3 with 30% loopers the mark
    /// ran to the 1.5x cap of the index within the day while the index rose 5% (the sum of
    /// many small square-root impacts is far larger than one order's). Flow of borrowers
    /// that reaches the price is the contagion issue's (#14), with a propagator of impact.
    pub fn borrowers_act(
        &mut self,
        ledger: &mut Ledger,
        price: &mut MarkState,
        law: &ImpactLaw,
        liquidated: f64,
    ) -> BorrowerFlows {
        let mut flows = BorrowerFlows::default();
        self.sell_held(ledger, price, law, &mut flows);
        if !self.loans.plan.is_empty() {
            let mark = price.book();
            self.defend(ledger, mark, &mut flows);
            self.re_lever(ledger, mark, &mut flows);
            self.de_risk(ledger, price, law, liquidated, &mut flows);
        }
        flows
    }

    /// De-riskers, once the debt liquidated over their window (this step's `liquidated`
    /// included) passes their threshold, all sell their share into the book and repay with
    /// the proceeds; each acts once. Their sales reach the oracle at its next read: the
    /// fire-sale channel. They meet the book as the rule says: one order each, as keepers'
    /// sales do, or pooled into one (the square-root law prices a sweep, not each of its
    /// parts: on R3, 400 de-riskers as 400 orders move the price about 20 times as far as
    /// their one pooled order would).
    fn de_risk(
        &mut self,
        ledger: &mut Ledger,
        price: &mut MarkState,
        law: &ImpactLaw,
        liquidated: f64,
        flows: &mut BorrowerFlows,
    ) {
        let (Some(rule), Some(watch)) = (self.terms.behavior.derisk, self.derisk.as_mut()) else {
            return;
        };
        let recent = watch.window.push(liquidated);
        if watch.pending.is_empty() || !rule.alarmed(recent) {
            return;
        }
        let start = price.book();
        let sales: Vec<(usize, f64)> = std::mem::take(&mut watch.pending)
            .into_iter()
            .map(|k| k as usize)
            .filter_map(|k| {
                let loan = self.loan(k);
                (loan.collateral > 0.0 && loan.debt > 0.0).then(|| (k, rule.sale(&loan, start)))
            })
            .collect();
        let pooled = match rule.orders {
            DeriskOrders::Pooled => {
                let units: f64 = sales.iter().map(|&(_, u)| u).sum();
                Some(price.execute(Side::Sell, units * start, law))
            }
            DeriskOrders::Separate => None,
        };
        for (k, u) in sales {
            let fill = pooled.unwrap_or_else(|| {
                let mark = price.book();
                price.execute(Side::Sell, u * mark, law)
            });
            // A sale fills at or under the mark, so its proceeds stay under the debt.
            let proceeds = (u * fill).min(self.loan(k).debt);
            self.loans.collateral[k] -= u;
            self.pay_down(ledger, Account::Counterparty, k, proceeds);
            flows.derisked += proceeds;
            self.reindex(k);
        }
    }

    /// Defenders in their band repay towards their target health factor, or buy collateral
    /// at `mark` to add to their loan, as far as their reserve goes; one with nothing left
    /// leaves the queue until its loan changes.
    fn defend(&mut self, ledger: &mut Ledger, mark: f64, flows: &mut BorrowerFlows) {
        let Some(rule) = self.terms.behavior.defend else {
            return;
        };
        let (o, lt) = (self.feed.price(), self.lt());
        let level = o / self.borrow_index;
        while let Some(&top) = self.defend_queue.peek() {
            if f64::from_bits(top.key) <= level {
                break;
            }
            self.defend_queue.pop();
            let k = top.id as usize;
            if self.loans.version[k] != top.version {
                continue;
            }
            let reserve = Account::Reserve(self.first + top.id);
            let left = ledger.balance(reserve);
            let spent = match rule.action {
                DefendAction::Repay => {
                    let repay = rule.repayment(&self.loan(k), o, lt).min(left);
                    self.pay_down(ledger, reserve, k, repay);
                    repay
                }
                DefendAction::TopUp => {
                    let units = rule.top_up(&self.loan(k), o, lt).min(left / mark);
                    ledger.transfer(reserve, Account::Counterparty, units * mark);
                    self.loans.collateral[k] += units;
                    units * mark
                }
            };
            if spent > 0.0 {
                flows.defended += spent;
                self.reindex(k);
            }
        }
    }

    /// Loopers past their band borrow back to their LTV and buy collateral with it at `mark`.
    /// The suppliers' claim grows by the loan (their idle cash, outside the ledger, pays the
    /// collateral's seller).
    fn re_lever(&mut self, ledger: &mut Ledger, mark: f64, flows: &mut BorrowerFlows) {
        let Some(rule) = self.terms.behavior.looping else {
            return;
        };
        let o = self.feed.price();
        let level = o / self.borrow_index;
        while let Some(&top) = self.loop_queue.peek() {
            if f64::from_bits(top.key) > level {
                break;
            }
            self.loop_queue.pop();
            let k = top.id as usize;
            if self.loans.version[k] != top.version {
                continue;
            }
            let borrow = rule.borrowing(&self.loan(k), o, self.loans.target_ltv[k]);
            if borrow <= 0.0 {
                continue;
            }
            let scaled = borrow / self.borrow_index;
            self.loans.scaled_debt[k] += scaled;
            self.total_scaled += scaled;
            ledger.credit(Account::Suppliers, borrow);
            self.loans.collateral[k] += borrow / mark;
            flows.looped += borrow;
            self.reindex(k);
        }
    }

    /// Phase 1 of a step, at time `now`: the feed reads its source (by default the index;
    /// reading the book the collateral trades in, keepers' sales reach the oracle: the
    /// lending cascade),
    /// and the debts accrue their interest, which the suppliers are owed.
    pub fn advance(&mut self, ledger: &mut Ledger, price: &MarkState, now: f64) {
        let read = match self.terms.source {
            OracleSource::Market => price.book(),
            OracleSource::Index => price.index(),
        };
        self.now = now;
        let o = self.feed.observe(read, now);
        let gap = (o / price.index()).ln();
        if gap.abs() > self.worst_log_gap.abs() {
            self.worst_log_gap = gap;
        }
        self.mark_held(ledger, (now / self.dt_seconds).round() as u64);
        if self.growth_per_step > 1.0 {
            let before = self.borrow_index;
            self.borrow_index *= self.growth_per_step;
            ledger.credit(
                Account::Suppliers,
                (self.borrow_index - before) * self.total_scaled,
            );
        }
    }

    /// The oracle/index ratio furthest from 1 so far.
    pub fn worst_oracle_gap(&self) -> f64 {
        self.worst_log_gap.exp()
    }

    /// Whether borrower `i` still owes anything.
    #[inline]
    pub fn is_open(&self, i: u32) -> bool {
        let k = self.at(i);
        self.loans.scaled_debt[k] > 0.0 || self.in_auction(k)
    }

    /// Whether borrower `i`'s loan is liquidatable on the oracle (`HF < 1`).
    #[inline]
    pub fn is_due(&self, i: u32) -> bool {
        let k = self.at(i);
        self.in_auction(k)
            || (self.loans.scaled_debt[k] > 0.0
                && self.loan(k).health_factor(self.feed.price(), self.lt()) < 1.0)
    }

    /// Appends to `out` every loan liquidatable on the oracle, taking it off the queue, and
    /// every running auction (keepers may take from it). The health factor is the authority;
    /// the queue only says where to look.
    pub fn due(&mut self, out: &mut Vec<u32>) {
        out.extend(self.active.iter().map(|&k| self.first + k));
        let level = self.feed.price() / self.borrow_index;
        let versions = &self.loans.version;
        let live = |t: &Trigger| versions[t.id as usize] == t.version;
        // A loan waits while its trigger is at or under the oracle.
        let waits = |key: u64| f64::from_bits(key) <= level;
        while let Some(top) = self.queue.pop_due(waits, live) {
            let i = self.first + top.id;
            if self.is_due(i) {
                out.push(i);
            } else {
                // Rounding at the boundary: not yet.
                self.queue.push(top);
                break;
            }
        }
    }

    /// Puts a loan taken off the queue that recovered back on it.
    pub fn requeue(&mut self, i: u32) {
        self.reindex(self.at(i));
    }

    /// Orders `ids` lowest health factor first, ties by borrower id.
    pub fn order_worst_first(&self, ids: &mut [u32], keys: &mut Vec<(f64, u32)>) {
        let (o, lt) = (self.feed.price(), self.lt());
        keys.clear();
        keys.extend(
            ids.iter()
                .map(|&i| (self.loan(self.at(i)).health_factor(o, lt), i)),
        );
        keys.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        for (slot, &(_, i)) in ids.iter_mut().zip(keys.iter()) {
            *slot = i;
        }
    }

    /// What a liquidator would do to borrower `i`'s loan now, by the style's contract, if it
    /// can pay any amount.
    fn action(&self, i: u32) -> Option<Action> {
        let k = self.at(i);
        match &self.terms.style {
            LendingStyle::Aave(r) => r
                .liquidate(&self.loan(k), self.feed.price(), f64::INFINITY)
                .map(Action::Repay),
            LendingStyle::Auction(a) => self.auction_action(a, k),
            LendingStyle::Comet { .. } => {
                let units = self.loans.collateral[k];
                (units > 0.0).then_some(Action::Absorb { units })
            }
        }
    }

    /// The action a keeper that brings at most `budget` USD (infinite when it funds the
    /// repayment with a flash loan) takes on borrower `i`'s loan now, with the profit it
    /// expects: what it receives, sold into the book now, less what it pays and `cost` (its
    /// gas), plus any incentive. Aave: the repayment that maximizes that profit within the
    /// close factor, the dust rule and the budget (`AaveRules::most_profitable`); the other
    /// styles' actions have one size (a whole lot, a whole absorption, a kick), taken when
    /// the budget pays for it.
    fn sized_action(
        &self,
        i: u32,
        price: &MarkState,
        law: &ImpactLaw,
        budget: f64,
        cost: f64,
    ) -> Option<(Action, f64)> {
        let mark = price.book();
        let proceeds = |units: f64| {
            if units <= 0.0 {
                return 0.0;
            }
            let slippage = units * (mark - price.quote_fill(Side::Sell, units * mark, law));
            units * mark - slippage
        };
        match &self.terms.style {
            LendingStyle::Aave(r) => {
                let profit = |l: &AaveLiquidation| proceeds(l.to_keeper) - l.debt_repaid - cost;
                r.most_profitable(&self.loan(self.at(i)), self.feed.price(), budget, profit)
                    .map(|(l, p)| (Action::Repay(l), p))
            }
            // Comet's absorb needs no capital and is run by whoever watches for it, for its
            // gas alone (see `keeper_reward`): every keeper's rule accepts it.
            LendingStyle::Comet { .. } => self.action(i).map(|a| (a, f64::MAX)),
            LendingStyle::Auction(_) => {
                let a = self.action(i).filter(|a| a.capital() <= budget)?;
                let profit = proceeds(a.units_received()) - a.capital() + a.incentive() - cost;
                Some((a, profit))
            }
        }
    }

    /// What a keeper with at most `budget` USD to pay (infinite when flash-funded) and gas
    /// `cost` would do to borrower `i`'s loan now, when it expects a profit: the capital the
    /// action needs and that profit. `None`: nothing it can do pays.
    pub fn keeper_offer(
        &self,
        i: u32,
        price: &MarkState,
        law: &ImpactLaw,
        budget: f64,
        cost: f64,
    ) -> Option<KeeperOffer> {
        let (action, profit) = self.sized_action(i, price, law, budget, cost)?;
        (profit > 0.0).then_some(KeeperOffer {
            capital: action.capital(),
            profit,
        })
    }

    /// What a keeper makes by acting on borrower `i`'s loan now, before the slippage of
    /// selling the collateral it receives and its gas: that collateral at the market, less
    /// what it pays (the capital it needs), plus any incentive.
    ///
    /// Comet's `absorb` is worth its gas to any caller: it needs no capital, and the
    /// contract pays nothing for it (`absorb` only counts the caller's gas in
    /// `LiquidatorPoints`); it is run whenever an account is liquidatable, by the buyers who
    /// want what it puts up for sale and by the protocol's own keepers. Its reward is
    /// the largest finite number, so that every keeper's rule accepts it.
    pub fn keeper_reward(&self, i: u32, price: &MarkState) -> KeeperReward {
        match self.action(i) {
            None => KeeperReward {
                notional: 0.0,
                reward: 0.0,
            },
            Some(Action::Absorb { .. }) => KeeperReward {
                notional: 0.0,
                reward: f64::MAX,
            },
            Some(a) => KeeperReward {
                notional: a.capital(),
                reward: a.units_received() * price.book() - a.capital() + a.incentive(),
            },
        }
    }

    /// The slippage a keeper expects selling the collateral it would receive from borrower
    /// `i` into the book now.
    pub fn expected_slippage(&self, i: u32, price: &MarkState, law: &ImpactLaw) -> f64 {
        let units = self.action(i).map_or(0.0, |a| a.units_received());
        if units <= 0.0 {
            return 0.0;
        }
        let mark = price.book();
        units * (mark - price.quote_fill(Side::Sell, units * mark, law))
    }

    /// Acts on borrower `i`'s loan by `by`, as its style's contract does: an Aave
    /// liquidation, or an auction's kick, redo or take. Collateral the liquidator receives
    /// is sold into the book at once (moving the price for every other loan); a loan left
    /// without collateral and with debt is a deficit, covered by the waterfall.
    /// `Liquidator::Engine` is the protocol itself acting through its treasury (a lending
    /// market has no engine; validation asks for keepers).
    pub fn force_close(
        &mut self,
        ledger: &mut Ledger,
        i: u32,
        by: Liquidator,
        ctx: &mut CloseContext,
    ) -> ForcedClose {
        let mut out = ForcedClose {
            trader: i,
            long: true,
            ..ForcedClose::default()
        };
        let action = match by {
            Liquidator::Engine => self.action(i),
            // The keeper sizes as it did when it chose the loan (the state has not moved).
            Liquidator::Keeper { cost, budget, .. } => self
                .sized_action(i, ctx.price, ctx.law, budget, cost)
                .map(|(a, _)| a),
        };
        let Some(action) = action else {
            return out;
        };
        let k = self.at(i);
        out.induced = self.loan(k).health_factor(ctx.price.index(), self.lt()) >= 1.0;
        let (liquidator, cost) = match by {
            Liquidator::Engine => (Account::Treasury, 0.0),
            Liquidator::Keeper { k, cost, .. } => (Account::Keeper(k), cost),
        };
        let paid = match action {
            Action::Repay(l) => self.repay(ledger, k, l, liquidator, ctx.price.book(), &mut out),
            Action::Kick { incentive } => {
                self.kick(k);
                self.pay_incentive(ledger, liquidator, incentive, ctx, &mut out);
                0.0
            }
            Action::Redo { incentive } => {
                self.redo(k);
                self.pay_incentive(ledger, liquidator, incentive, ctx, &mut out);
                0.0
            }
            Action::Take { units, paid } => {
                let short = self.take(ledger, k, units, paid, liquidator, &mut out);
                // A partly barked vault keeps collateral: only the auction's debt is bad.
                if short > 0.0 && self.loans.collateral[k] > 0.0 {
                    self.write_off(ledger, k, short, ctx, &mut out);
                }
                paid
            }
            Action::Absorb { .. } => {
                self.absorb(ledger, k, ctx.step, &mut out);
                0.0
            }
        };
        let proceeds = self.sell(ledger, liquidator, action.units_received(), ctx, &mut out);
        ledger.transfer(liquidator, Account::Counterparty, cost);
        if matches!(by, Liquidator::Keeper { .. }) {
            out.keeper_profit = proceeds - paid + out.incentive - cost;
        }
        if self.loans.collateral[k] == 0.0 && self.loans.scaled_debt[k] > 0.0 && !self.in_auction(k)
        {
            self.recognise_deficit(ledger, k, ctx, &mut out);
        }
        out.position_loss = out.notional + out.deficit;
        out.flat = self.loans.scaled_debt[k] == 0.0 && !self.in_auction(k);
        self.reindex(k);
        out
    }

    /// Aave: `liquidator` repays, the borrower's collateral is seized, the treasury keeps
    /// the protocol fee (worth this much at `mark`). Returns what the liquidator paid.
    fn repay(
        &mut self,
        ledger: &mut Ledger,
        k: usize,
        l: AaveLiquidation,
        liquidator: Account,
        mark: f64,
        out: &mut ForcedClose,
    ) -> f64 {
        self.pay_down(ledger, liquidator, k, l.debt_repaid);
        let c = &mut self.loans.collateral[k];
        *c = if l.collateral_seized >= *c {
            0.0
        } else {
            *c - l.collateral_seized
        };
        out.protocol_fee = l.to_treasury * mark;
        ledger.transfer(Account::Counterparty, Account::Treasury, out.protocol_fee);
        out.notional = l.debt_repaid;
        out.seized_value = l.collateral_seized * self.feed.price();
        out.penalty = (out.seized_value - l.debt_repaid).max(0.0);
        l.debt_repaid
    }

    /// Comet (`absorbInternal`): the reserves (this market's fund) take all of loan `k`'s
    /// collateral into their holding at the oracle, and credit it at `c O LF` against the
    /// debt: the credit pays the debt down, what it holds above the debt goes to the borrower
    /// as a supply balance, and what the collateral is worth beyond the credit is the
    /// reserves' gain (at the oracle; the store front gives part of it to the buyer later).
    /// The credit is fixed here, at the absorb-time oracle, whatever the collateral later
    /// fetches. A credit short of the debt leaves a loan without collateral: its deficit runs
    /// down the waterfall, the reserves first. The reserves pay in cash they may not have:
    /// Comet's `getReserves` goes negative, the held collateral standing behind it.
    fn absorb(&mut self, ledger: &mut Ledger, k: usize, step: u64, out: &mut ForcedClose) {
        let LendingStyle::Comet { rules, .. } = self.terms.style else {
            return;
        };
        let (loan, o, fund) = (self.loan(k), self.feed.price(), self.fund);
        let absorption = rules.absorb(&loan, o);
        self.mark_held(ledger, step);
        let value = self.held.take(absorption.collateral_taken);
        self.loans.collateral[k] = 0.0;
        ledger.transfer(Account::Counterparty, Account::Fund(fund), value);
        let to_debt = absorption.credit_usd.min(loan.debt);
        self.pay_down(ledger, Account::Fund(fund), k, to_debt);
        ledger.transfer(
            Account::Fund(fund),
            Account::Suppliers,
            absorption.returned_to_borrower,
        );
        let gain = value - absorption.credit_usd;
        ledger.record_inflow(fund, gain);
        ledger.sweep_excess(fund);
        out.penalty_to_fund = gain;
        out.notional = to_debt;
        out.seized_value = value;
        out.penalty = (value - absorption.credit_usd.max(loan.debt)).max(0.0);
    }

    /// The liquidator sells `units` of collateral into the book; returns the proceeds.
    fn sell(
        &mut self,
        ledger: &mut Ledger,
        liquidator: Account,
        units: f64,
        ctx: &mut CloseContext,
        out: &mut ForcedClose,
    ) -> f64 {
        if units <= 0.0 {
            return 0.0;
        }
        let mark = ctx.price.book();
        let fill = ctx.price.execute(Side::Sell, units * mark, ctx.law);
        let proceeds = units * fill;
        ledger.transfer(Account::Counterparty, liquidator, proceeds);
        out.slippage_loss = units * (mark - fill);
        proceeds
    }

    /// Moves `amount` from `from` into loan `k`, paying its debt down.
    fn pay_down(&mut self, ledger: &mut Ledger, from: Account, k: usize, amount: f64) {
        if amount <= 0.0 {
            return;
        }
        ledger.debit(from, amount);
        let scaled = amount / self.borrow_index;
        let s = &mut self.loans.scaled_debt[k];
        // Repaying the whole debt clears it exactly, rounding aside.
        let paid = if scaled >= *s { *s } else { scaled };
        *s -= paid;
        self.total_scaled -= paid;
    }

    /// The waterfall of MODEL.md section 14 for loan `k`, whose collateral is gone: the
    /// treasury's first-loss offset, the fund, then the rule after depletion: `socialize`
    /// writes the rest off against the suppliers (Morpho Blue, Euler), `none` leaves it as
    /// an unbacked deficit (Aave's `reserve.deficit`).
    fn recognise_deficit(
        &mut self,
        ledger: &mut Ledger,
        k: usize,
        ctx: &CloseContext,
        out: &mut ForcedClose,
    ) {
        let d = self.loan(k).debt;
        self.write_off(ledger, k, d, ctx, out);
        // Whatever rounding left of the debt is written off with it.
        self.total_scaled -= self.loans.scaled_debt[k];
        self.loans.scaled_debt[k] = 0.0;
    }

    /// The waterfall for `d` USD of loan `k`'s debt that nothing will repay.
    fn write_off(
        &mut self,
        ledger: &mut Ledger,
        k: usize,
        d: f64,
        ctx: &CloseContext,
        out: &mut ForcedClose,
    ) {
        out.deficit = d;
        let offset = d.min(self.offset_left);
        self.offset_left -= offset;
        self.pay_down(ledger, Account::Treasury, k, offset);
        out.offset_paid = offset;
        let rest = d - offset;
        let fund = self.fund;
        let mut loan = WrittenOff {
            market: self,
            at: k,
            rule: ctx.socialization,
        };
        let absorbed = ledger.absorb_deficit(fund, rest, ctx.step, &mut loan);
        out.fund_paid = absorbed.fund_paid;
        out.socialized = absorbed.socialized;
        out.uncovered = absorbed.uncovered;
    }

    /// Adds every loan that owes debt to `map` by how far the oracle must fall before it is
    /// liquidatable, at its debt (O(borrowers)). Collateral in a running auction is already
    /// being sold and is not on the map.
    pub fn map_liquidations(&self, map: &mut LiquidationMap) {
        let (o, lt) = (self.feed.price(), self.lt());
        for k in 0..self.loans.collateral.len() {
            if self.loans.scaled_debt[k] > 0.0 {
                let loan = self.loan(k);
                map.add(
                    ExposureSide::Collateral,
                    loan.distance_to_liquidation(o, lt),
                    loan.debt,
                );
            }
        }
    }

    /// The debt outstanding (O(borrowers): for the ledger's audit).
    pub fn debt_outstanding(&self) -> f64 {
        self.borrow_index * self.loans.scaled_debt.iter().sum::<f64>()
    }

    /// Loans under water at the oracle now (O(borrowers), once at the end of a run).
    pub fn leftover(&self) -> Leftover {
        let o = self.feed.price();
        let mut left = Leftover::default();
        for k in 0..self.loans.collateral.len() {
            let mut loan = self.loan(k);
            loan.collateral += self.lot(k);
            let hole = loan.debt - loan.collateral_usd(o);
            if loan.debt > 0.0 && hole > 0.0 {
                left.underwater += 1;
                left.shortfall += hole;
            }
        }
        left
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::market::{LinearBook, MarkState};
    use crate::protocol::{InsuranceFund, LEDGER_TOLERANCE, LiquidationMode, LiquidationParams};

    fn terms(offset: f64) -> LendingTerms {
        LendingTerms::new(
            LendingStyle::Aave(AaveRules::new(0.83, 0.05, 0.10).unwrap()),
            PushOracle::new(0.0, 3_600.0, 0.0).unwrap(),
            0.0,
            offset,
        )
        .unwrap()
    }

    fn balanced(m: &LendingMarket, l: &Ledger) {
        let imbalance = l.imbalance(-m.debt_outstanding());
        assert!(
            imbalance.abs() <= LEDGER_TOLERANCE * l.scale(),
            "imbalance {imbalance}"
        );
    }

    /// Two loans at 100: one healthy, one that the price falls through. After the fall to
    /// 60 the second is due; a keeper liquidates it; its collateral does not cover the
    /// debt, so the offset, the fund and the unbacked deficit take the rest in that order,
    /// and every account balances.
    #[test]
    fn a_gap_runs_down_the_waterfall_and_the_ledger_balances() {
        let loans = [
            Loan {
                collateral: 100.0,
                debt: 4_000.0,
            },
            Loan {
                collateral: 100.0,
                debt: 8_000.0,
            },
        ];
        let mut m = LendingMarket::open(&loans, terms(300.0), 100.0, 0, 10, 60.0);
        let mut ledger = Ledger::open(vec![InsuranceFund::new(1_000.0).unwrap()], 0.0)
            .with_suppliers(12_000.0)
            .with_keepers(1, 1e6);
        balanced(&m, &ledger);
        let mut out = Vec::new();
        m.due(&mut out);
        assert!(out.is_empty());
        let mut price = MarkState::new(60.0, 10.0, 0.0, 60.0).unwrap();
        m.advance(&mut ledger, &price, 60.0);
        m.due(&mut out);
        assert_eq!(out, vec![11]);
        assert!(!m.is_due(10));
        let params = LiquidationParams::new(
            0.0,
            0.0,
            LiquidationMode::Engine,
            crate::protocol::CloseRule::Full,
        )
        .unwrap();
        let law = ImpactLaw::Linear(LinearBook::new(1e6).unwrap());
        let mut ctx = CloseContext {
            params: &params,
            price: &mut price,
            law: &law,
            socialization: LossSocialization::None,
            step: 1,
        };
        let c = m.force_close(
            &mut ledger,
            11,
            Liquidator::Keeper {
                k: 0,
                cost: 20.0,
                budget: f64::INFINITY,
            },
            &mut ctx,
        );
        // HF 0.62: the whole collateral (6,000 USD) goes for 6,000 / 1.05 of debt.
        assert!((c.notional - 6_000.0 / 1.05).abs() < 1e-9);
        let deficit = 8_000.0 - 6_000.0 / 1.05;
        assert!((c.deficit - deficit).abs() < 1e-9);
        assert_eq!(c.offset_paid, 300.0);
        assert_eq!(c.fund_paid, 1_000.0);
        assert!((c.uncovered - (deficit - 1_300.0)).abs() < 1e-9);
        assert!(c.flat && !m.is_open(11) && m.is_open(10));
        assert!(c.slippage_loss > 0.0);
        // The treasury's fee: 10% of the bonus part of the collateral, at the market.
        let fee = 100.0 * (1.0 - 1.0 / 1.05) * 0.10 * 60.0;
        assert!((c.protocol_fee - fee).abs() < 1e-9);
        balanced(&m, &ledger);
        assert_eq!(ledger.balance(Account::Fund(0)), 0.0);
    }

    /// A Comet market of two loans of 10 units at an oracle of 300 (LF 0.95, SFPF 0.5,
    /// liquidate collateral factor 0.90), target reserves `target`, a fund of 10,000, and a
    /// ledger with one keeper; the price then falls to 260, where both are liquidatable.
    fn comet_at_260(target: f64, buyers: u16, fund: f64) -> (LendingMarket, Ledger, MarkState) {
        let rules = CometRules::new(0.95, 0.5)
            .unwrap()
            .with_target_reserves(target)
            .unwrap();
        let style = LendingStyle::Comet {
            rules,
            liquidation_threshold: 0.90,
        };
        let t = LendingTerms::new(style, PushOracle::new(0.0, 3_600.0, 0.0).unwrap(), 0.0, 0.0)
            .unwrap();
        let loans = [
            Loan {
                collateral: 10.0,
                debt: 2_400.0,
            },
            Loan {
                collateral: 10.0,
                debt: 3_000.0,
            },
        ];
        let m = LendingMarket::open(&loans, t, 300.0, 0, 0, 60.0)
            .with_store_front_buyers(StoreFrontBuyers::new(buyers, 0.0));
        let ledger = Ledger::open(vec![InsuranceFund::new(fund).unwrap()], 0.0)
            .with_suppliers(5_400.0)
            .with_keepers(1, 1e6);
        let price = MarkState::new(260.0, 10.0, 0.0, 60.0).unwrap();
        (m, ledger, price)
    }

    fn comet_params() -> LiquidationParams {
        LiquidationParams::new(
            0.0,
            0.0,
            LiquidationMode::Engine,
            crate::protocol::CloseRule::Full,
        )
        .unwrap()
    }

    /// Comet with nobody to buy (no buyers, and a target of 0 that the reserves' 4,530 of
    /// cash stay above): a keeper absorbs both loans for gas alone. The
    /// sound one's credit at the absorb-time oracle (10 x 260 x 0.95 = 2,470) pays its debt
    /// and 70 goes to the borrower; the unsound one's credit falls 530 short, paid by the
    /// reserves. The reserves hold the 20 units at the oracle: their balance moves with it
    /// (down 1,200 at 200, up at 320) while the borrowers' credits stay where they were, and
    /// the ledger balances throughout.
    #[test]
    fn comet_absorbs_without_a_buyer_and_holds_the_collateral_at_its_price() {
        let (mut m, mut ledger, mut price) = comet_at_260(0.0, 0, 10_000.0);
        m.advance(&mut ledger, &price, 60.0);
        let mut due = Vec::new();
        m.due(&mut due);
        assert_eq!(due, vec![1, 0]);
        let params = comet_params();
        let law = ImpactLaw::Linear(LinearBook::new(1e9).unwrap());
        let keeper = Liquidator::Keeper {
            k: 0,
            cost: 20.0,
            budget: f64::INFINITY,
        };
        assert_eq!(m.keeper_reward(0, &price).notional, 0.0);
        let mut ctx = CloseContext {
            params: &params,
            price: &mut price,
            law: &law,
            socialization: LossSocialization::None,
            step: 1,
        };
        let sound = m.force_close(&mut ledger, 0, keeper, &mut ctx);
        assert!(sound.flat && sound.deficit == 0.0 && sound.slippage_loss == 0.0);
        assert!((sound.notional - 2_400.0).abs() < 1e-9);
        assert!((sound.penalty_to_fund - 0.05 * 2_600.0).abs() < 1e-9);
        assert!((sound.keeper_profit + 20.0).abs() < 1e-12, "gas only");
        let unsound = m.force_close(&mut ledger, 1, keeper, &mut ctx);
        assert!((unsound.deficit - 530.0).abs() < 1e-9);
        assert!((unsound.fund_paid - 530.0).abs() < 1e-9);
        assert!(unsound.flat && !m.is_open(1));
        let suppliers = ledger.balance(Account::Suppliers);
        assert!(
            (suppliers - 5_470.0).abs() < 1e-9,
            "credit above the debt: 70"
        );
        // 10,000 + 2 x 130 at the oracle, less the 530 short.
        let fund = |l: &Ledger| l.balance(Account::Fund(0));
        assert!((fund(&ledger) - 9_730.0).abs() < 1e-9);
        assert_eq!(m.held_collateral(), (20.0, 5_200.0));
        balanced(&m, &ledger);
        let mut flows = BorrowerFlows::default();
        m.sell_held(&mut ledger, &mut price, &law, &mut flows);
        assert_eq!(flows, BorrowerFlows::default(), "no buyer");
        for (t, p, want) in [(120.0, 200.0, 8_530.0), (180.0, 320.0, 10_930.0)] {
            let price = MarkState::new(p, 10.0, 0.0, 60.0).unwrap();
            m.advance(&mut ledger, &price, t);
            assert!(
                (fund(&ledger) - want).abs() < 1e-9,
                "{p}: {}",
                fund(&ledger)
            );
            assert_eq!(ledger.balance(Account::Suppliers), suppliers);
            balanced(&m, &ledger);
        }
        let f = &ledger.funds()[0];
        assert!((f.min_balance() - 8_530.0).abs() < 1e-9);
        assert!(
            (f.required_capital() - 1_470.0).abs() < 1e-9,
            "{}",
            f.required_capital()
        );
        assert_eq!(f.depleted_at(), None);
    }

    /// The held collateral's fall past what the fund has left depletes it, at that step:
    /// a fund of 1,000 keeps 730 after the two absorbs (2 x 130 at the oracle, less 530);
    /// 20 units falling to 230 leave it 130, to 220 take it under 0.
    #[test]
    fn a_fall_of_the_held_collateral_depletes_the_reserves() {
        let (mut m, mut ledger, mut price) = comet_at_260(0.0, 0, 1_000.0);
        m.advance(&mut ledger, &price, 60.0);
        let params = comet_params();
        let law = ImpactLaw::Linear(LinearBook::new(1e9).unwrap());
        let mut ctx = CloseContext {
            params: &params,
            price: &mut price,
            law: &law,
            socialization: LossSocialization::None,
            step: 1,
        };
        for i in [0, 1] {
            m.force_close(
                &mut ledger,
                i,
                Liquidator::Keeper {
                    k: 0,
                    cost: 0.0,
                    budget: f64::INFINITY,
                },
                &mut ctx,
            );
        }
        assert!((ledger.balance(Account::Fund(0)) - 730.0).abs() < 1e-9);
        let at = |p: f64| MarkState::new(p, 10.0, 0.0, 60.0).unwrap();
        m.advance(&mut ledger, &at(230.0), 120.0);
        assert!((ledger.balance(Account::Fund(0)) - 130.0).abs() < 1e-9);
        assert_eq!(ledger.funds()[0].depleted_at(), None);
        m.advance(&mut ledger, &at(220.0), 180.0);
        assert_eq!(ledger.funds()[0].depleted_at(), Some(3));
        assert!((ledger.funds()[0].required_capital() - 1_070.0).abs() < 1e-9);
        balanced(&m, &ledger);
    }

    /// The store front: at or above the target nobody buys; below it a keeper buys the
    /// holding at 97.5% of the oracle and sells it into the book, the reserves giving up
    /// the 2.5% discount, and the ledger balances.
    #[test]
    fn keepers_buy_at_the_store_front_only_below_the_target() {
        let law = ImpactLaw::Linear(LinearBook::new(1e9).unwrap());
        let params = comet_params();
        for (target, sells) in [(4_530.0, false), (4_530.01, true)] {
            let (mut m, mut ledger, mut price) = comet_at_260(target, 1, 10_000.0);
            m.advance(&mut ledger, &price, 60.0);
            let mut ctx = CloseContext {
                params: &params,
                price: &mut price,
                law: &law,
                socialization: LossSocialization::None,
                step: 1,
            };
            for i in [0, 1] {
                m.force_close(
                    &mut ledger,
                    i,
                    Liquidator::Keeper {
                        k: 0,
                        cost: 0.0,
                        budget: f64::INFINITY,
                    },
                    &mut ctx,
                );
            }
            // Cash reserves: 9,730 - 5,200 held = 4,530.
            let mut flows = BorrowerFlows::default();
            m.sell_held(&mut ledger, &mut price, &law, &mut flows);
            balanced(&m, &ledger);
            if !sells {
                assert_eq!(flows, BorrowerFlows::default(), "at the target");
                assert_eq!(m.held_collateral().0, 20.0);
                continue;
            }
            assert_eq!(m.held_collateral(), (0.0, 0.0));
            assert!((flows.store_front_paid - 20.0 * 253.5).abs() < 1e-9);
            assert!(flows.store_front_slippage > 0.0);
            let fund = ledger.balance(Account::Fund(0));
            assert!((fund - (9_730.0 - 20.0 * 6.5)).abs() < 1e-9, "{fund}");
            assert!(flows.store_front_keeper_profit > 0.0);
        }
    }

    /// A keeper that sizes for profit: on a loan of 6M USD of collateral at HF 0.97 (close
    /// factor 50%) and a thin square-root book, the repayment it chooses earns, to the grid,
    /// the most bonus less slippage less gas of 200,000 repayments spread over every amount
    /// the contract accepts; the best is well inside the close factor, so all-or-nothing
    /// would earn less. A budget under the best caps the repayment at the budget.
    #[test]
    fn the_keeper_repays_what_maximizes_bonus_less_slippage_and_gas() {
        use crate::market::SqrtImpact;
        let rules = AaveRules::new(0.83, 0.05, 0.10).unwrap();
        let collateral = 2_000.0;
        let loans = [Loan {
            collateral,
            debt: collateral * 3_000.0 * 0.83 / 0.97,
        }];
        let m = LendingMarket::open(&loans, terms(0.0), 3_000.0, 0, 0, 60.0);
        let price = MarkState::new(3_000.0, 10.0, 0.0, 60.0).unwrap();
        let law = ImpactLaw::SquareRoot(SqrtImpact::new(1.0, 0.75, 5e5).unwrap());
        let gas = 20.0;
        let offer = m.keeper_offer(0, &price, &law, f64::INFINITY, gas).unwrap();
        let loan = m.loan_of(0);
        let profit = |x: f64| {
            let l = rules.liquidate(&loan, 3_000.0, x).unwrap();
            assert!((l.debt_repaid - x).abs() <= 1e-9 * x, "{x} {l:?}");
            let units = l.to_keeper;
            units * price.quote_fill(Side::Sell, units * 3_000.0, &law) - x - gas
        };
        let most = 0.5 * loan.debt;
        let n = 200_000;
        let (mut best_x, mut best) = (0.0, f64::NEG_INFINITY);
        for j in 1..=n {
            let x = most * j as f64 / n as f64;
            let p = profit(x);
            if p > best {
                (best_x, best) = (x, p);
            }
        }
        let step = most / n as f64;
        assert!(offer.profit >= best - 1e-9 * best.abs(), "{offer:?} {best}");
        assert!((offer.capital - best_x).abs() <= step, "{offer:?} {best_x}");
        assert!((profit(offer.capital) - offer.profit).abs() <= 1e-6 * best.abs());
        // The sizing matters: the best is inside the close factor, and the close factor's
        // whole amount earns clearly less.
        assert!(best_x < 0.8 * most, "{best_x} of {most}");
        assert!(profit(most) < 0.9 * best, "{} {best}", profit(most));
        // A keeper with a third of the best in capital repays exactly its capital.
        let budget = best_x / 3.0;
        let capped = m.keeper_offer(0, &price, &law, budget, gas).unwrap();
        assert!(
            (capped.capital - budget).abs() <= 1e-9 * budget,
            "{capped:?}"
        );
    }

    /// Interest accrues through the index: debts grow, suppliers are owed it, and a loan
    /// drifts to liquidation without the price moving.
    #[test]
    fn interest_accrues_to_the_suppliers_and_can_liquidate() {
        let loans = [Loan {
            collateral: 1.0,
            debt: 82.0,
        }];
        let t = LendingTerms::new(
            LendingStyle::Aave(AaveRules::new(0.83, 0.05, 0.10).unwrap()),
            PushOracle::new(0.0, 3_600.0, 0.0).unwrap(),
            0.5,
            0.0,
        )
        .unwrap();
        let mut m = LendingMarket::open(&loans, t, 100.0, 0, 0, 86_400.0);
        let mut ledger =
            Ledger::open(vec![InsuranceFund::new(0.0).unwrap()], 0.0).with_suppliers(82.0);
        let price = MarkState::new(100.0, 10.0, 0.0, 86_400.0).unwrap();
        let mut out = Vec::new();
        let mut day = 0;
        while out.is_empty() && day < 30 {
            day += 1;
            m.advance(&mut ledger, &price, 86_400.0 * day as f64);
            m.due(&mut out);
            balanced(&m, &ledger);
        }
        // 82 (1 + 0.5/365)^n >= 83: n = 9 days.
        assert_eq!(day, 9);
        assert!(m.loan_of(0).debt > 83.0);
    }
}
