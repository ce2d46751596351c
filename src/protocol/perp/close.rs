//! Forced closes of perp positions (MODEL.md section 4): how much is closed, at what fill, the
//! penalty, and the bankruptcy deficit that the fund and then loss socialization absorb.

use super::{AdlPrice, PerpMarket, Position, Takeover, bankruptcy_price};
use crate::market::{ImpactLaw, MarkState, Side};
use crate::protocol::{
    Account, CloseContext, CloseRule, DeficitTaker, ForcedClose, Holder, KeeperReward, Ledger,
    LiquidationParams, Liquidator, LossSocialization, Settlement, Socialized,
};

/// What becomes of the rest of a position the engine's limited order left unfilled.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Handover {
    /// It stays with the trader; the engine tries again next step.
    Stays,
    /// The fund or vault takes it over at its bankruptcy price.
    TakenOver(Account),
    /// It is closed against profitable opposite positions at its bankruptcy price.
    Deleveraged,
    /// Nobody can take it over: it goes to the book as a market order now, and any deficit
    /// down the waterfall (R1's rule once the fund is gone).
    Market,
}

/// A bankrupt trader of a perp market, as the ledger's waterfall pays its deficit: into its
/// collateral, the residual covered by the market's profitable traders under `rule`.
struct Bankrupt<'m> {
    market: &'m mut PerpMarket,
    /// Its place in the book.
    at: usize,
    /// Its position was long (its counterparties are the shorts).
    long: bool,
    rule: LossSocialization,
    mark: f64,
}

impl DeficitTaker for Bankrupt<'_> {
    fn receive(&mut self, ledger: &mut Ledger, from: Account, amount: f64) {
        self.market.transfer(
            ledger,
            Holder::Ledger(from),
            Holder::Trader(self.at),
            amount,
        );
    }

    fn socialize(&mut self, ledger: &mut Ledger, residual: f64) -> Socialized {
        self.rule
            .cover(self.market, ledger, self.at, self.long, residual, self.mark)
    }
}

impl PerpMarket {
    /// Whether the position at `k` is due only because of the venue's own prices: at the
    /// index it would not be liquidatable (MODEL.md section 3, the induced share).
    fn induced(&self, k: usize, index: f64) -> bool {
        let (c, q, e) = (
            self.book.collateral[k],
            self.book.size[k],
            self.book.entry[k],
        );
        !self
            .margin
            .is_liquidatable(c + q * (index - e), q.abs() * index)
    }

    /// Takes `closed` (same sign as the position) off the position at `k`; a position closed
    /// whole keeps no entry price.
    pub(super) fn shrink(&mut self, k: usize, closed: f64) {
        let q = self.book.size[k];
        if closed == q {
            self.book.size[k] = 0.0;
            self.book.entry[k] = 0.0;
        } else {
            self.book.size[k] = q - closed;
        }
        self.reindex(k);
    }

    /// Closes trader `i` by `by` according to the rules in `ctx`, moving the mark for whatever
    /// follows, charging the penalty, and covering any deficit from the fund and then by loss
    /// socialization. A keeper takes the closed part over at the mark (the trader realizes
    /// there) and sells it into the book itself, so the slippage is the keeper's; the part of
    /// the penalty that is not the fund's goes to the keeper, or to the treasury when the
    /// engine closes.
    pub fn force_close(
        &mut self,
        ledger: &mut Ledger,
        i: u32,
        by: Liquidator,
        ctx: &mut CloseContext,
    ) -> ForcedClose {
        let k = self.at(i);
        if by == Liquidator::Engine
            && let Some(vault) = self.vault_takes(ledger, k, ctx.price.mark())
        {
            return self.backstop(ledger, k, vault, ctx);
        }
        let before = self.position(i);
        let (mut out, unfilled) = self.close_into_book(ledger, k, by, ctx);
        let to_liquidator = match by {
            Liquidator::Engine => Account::Treasury,
            Liquidator::Keeper {
                k: keeper, cost, ..
            } => {
                // The keeper bought at the mark and sold at the fill; it also pays its cost.
                let loss = out.slippage_loss + cost;
                ledger.transfer(Account::Keeper(keeper), Account::Counterparty, loss);
                out.keeper_profit -= loss;
                Account::Keeper(keeper)
            }
        };
        let handover = if unfilled {
            self.handover(ledger, k, ctx, &mut out)
        } else {
            Handover::Stays
        };
        // Equity left after the close: collateral plus what the rest of the position is worth
        // at the mark the fill left (nothing when fully closed).
        let equity = self.book.equity(k, ctx.price.mark());
        if equity > 0.0 {
            self.take_penalty(ledger, k, equity, to_liquidator, ctx.params, &mut out);
        } else if equity < 0.0 && matches!(handover, Handover::Stays | Handover::Market) {
            self.cover_deficit(ledger, k, -equity, before, ctx, &mut out);
            // The deficit covered the rest's loss at the mark too: count it now.
            let rest = self.book.size[k];
            if rest != 0.0 {
                let pnl = rest * (ctx.price.mark() - self.book.entry[k]);
                out.position_loss += self.desk.recognised.recognise(k, pnl);
            }
        }
        self.hand_over(ledger, k, handover, ctx, &mut out);
        out.flat = self.book.size[k] == 0.0;
        out.waits = out.notional == 0.0 && out.deficit == 0.0 && out.penalty == 0.0;
        if !out.flat && by == Liquidator::Engine && !unfilled {
            self.start_cooldown(k);
        }
        out
    }

    /// The fill of a forced close: the fraction the close rule takes, within the engine's
    /// size cap and price limit, executed into the book (moving the mark), the trader's PnL
    /// realized at its fill, the position reduced. Also says whether the book left part of
    /// the order unfilled at its limit.
    fn close_into_book(
        &mut self,
        ledger: &mut Ledger,
        k: usize,
        by: Liquidator,
        ctx: &mut CloseContext,
    ) -> (ForcedClose, bool) {
        let (q, e) = (self.book.size[k], self.book.entry[k]);
        let induced = self.induced(k, ctx.price.index());
        // Margin and the penalty read the venue's mark; the order goes into the book.
        let (mark, book) = (ctx.price.mark(), ctx.price.book());
        let side = if q > 0.0 { Side::Sell } else { Side::Buy };
        // The trader's own fill: through the book by the engine, at the mark to a keeper.
        let trader_law = match by {
            Liquidator::Engine => ctx.law,
            Liquidator::Keeper { .. } => &ImpactLaw::None,
        };
        let fraction = match ctx.params.close() {
            CloseRule::Full => 1.0,
            CloseRule::Partial {
                buffer,
                min_notional,
            } => self.fraction_to_close(
                k,
                ctx.price,
                trader_law,
                ctx.params.penalty_rate(),
                1.0 + buffer,
                min_notional,
            ),
        };
        let wanted = if fraction >= 1.0 { q } else { q * fraction };
        let (closed, unfilled) = match by {
            Liquidator::Engine if !self.desk.orders.is_market() => {
                self.engine_order(k, wanted, ctx)
            }
            _ => (wanted, false),
        };
        let notional = closed.abs() * mark;
        let fill = if closed == 0.0 {
            book
        } else {
            ctx.price.execute(side, closed.abs() * book, ctx.law)
        };
        // Slippage is against the book the order met; a keeper's, against the mark it took
        // the position over at.
        let (trader_fill, reference) = match by {
            Liquidator::Engine => (fill, book),
            Liquidator::Keeper { .. } => (mark, mark),
        };
        let realized = closed * (trader_fill - e);
        self.transfer(
            ledger,
            Holder::Ledger(Account::Counterparty),
            Holder::Trader(k),
            realized,
        );
        let position_loss = self.desk.recognised.loss_on_close(k, closed, q, realized);
        self.shrink(k, closed);
        let close = ForcedClose {
            trader: self.first + k as u32,
            long: q > 0.0,
            notional,
            slippage_loss: closed.abs() * (reference - fill).abs(),
            position_loss,
            induced,
            ..ForcedClose::default()
        };
        (close, unfilled)
    }

    /// The engine's order for `wanted` of trader `k`'s position: within the size cap, then
    /// as much as the book fills before the order's limit (MODEL.md section 4). Returns what
    /// fills and whether the limit left part of the order unfilled.
    fn engine_order(&self, k: usize, wanted: f64, ctx: &CloseContext) -> (f64, bool) {
        let (c, q, e) = (
            self.book.collateral[k],
            self.book.size[k],
            self.book.entry[k],
        );
        let mark = ctx.price.mark();
        let order = self.desk.orders.cap.order_size(q, wanted, mark);
        let maintenance = self.margin.maintenance(q.abs() * mark);
        let Some(limit) = self.desk.orders.limit.price(q, c, e, mark, maintenance) else {
            return (order, false);
        };
        let side = if q > 0.0 { Side::Sell } else { Side::Buy };
        let within = ctx.price.notional_within(side, limit, ctx.law) / ctx.price.book();
        if order.abs() > within {
            (within.copysign(q), true)
        } else {
            (order, false)
        }
    }

    /// Who takes the rest of trader `k`'s position that the engine's limited order left
    /// unfilled (MODEL.md section 4): nobody (`takeover = "none"`, or a vault whose threshold
    /// the account is not below yet), the fund or vault while it has not run dry, the
    /// opposite positions (dYdX v4). When the holder is gone, auto-deleveraging at
    /// `adl_price`: at the bankruptcy price, or (at the mark) the rest goes to the book as a
    /// market order now and its deficit down the waterfall, which this sale adds to `out`.
    fn handover(
        &mut self,
        ledger: &mut Ledger,
        k: usize,
        ctx: &mut CloseContext,
        out: &mut ForcedClose,
    ) -> Handover {
        let holder = match self.desk.orders.takeover {
            Takeover::None => return Handover::Stays,
            Takeover::Deleverage => return Handover::Deleveraged,
            Takeover::Fund => Account::Fund(self.fund),
            // The vault acts before any order (Self::vault_takes); what the book leaves
            // unfilled above its threshold stays with the trader.
            Takeover::Vault { .. } => return Handover::Stays,
        };
        if self.holder_can_take(ledger, holder) {
            return Handover::TakenOver(holder);
        }
        match self.desk.orders.adl_price {
            AdlPrice::Bankruptcy => Handover::Deleveraged,
            AdlPrice::Mark => {
                self.sell_the_rest(ledger, k, ctx, out);
                Handover::Market
            }
        }
    }

    /// Hyperliquid's backstop liquidation: below `vault_below` of its maintenance margin at
    /// `mark`, the vault takes the account over before any order goes to the book (while it
    /// has not run dry). The account the vault would take, if any.
    fn vault_takes(&self, ledger: &Ledger, k: usize, mark: f64) -> Option<Account> {
        let Takeover::Vault { below, .. } = self.desk.orders.takeover else {
            return None;
        };
        let maintenance = self.margin.maintenance(self.book.notional(k, mark));
        (self.book.equity(k, mark) < below * maintenance
            && self.holder_can_take(ledger, Account::Vault))
        .then_some(Account::Vault)
    }

    /// The vault's takeover of trader `k`'s whole account at its bankruptcy price: no order,
    /// no penalty (the vault inherits the remaining margin).
    fn backstop(
        &mut self,
        ledger: &mut Ledger,
        k: usize,
        vault: Account,
        ctx: &mut CloseContext,
    ) -> ForcedClose {
        let mut out = ForcedClose {
            trader: self.first + k as u32,
            long: self.book.size[k] > 0.0,
            flat: true,
            induced: self.induced(k, ctx.price.index()),
            ..ForcedClose::default()
        };
        self.take_over(ledger, k, vault, ctx.price, ctx.step, &mut out);
        out
    }

    /// The rest of trader `k`'s position as a market order now.
    fn sell_the_rest(
        &mut self,
        ledger: &mut Ledger,
        k: usize,
        ctx: &mut CloseContext,
        out: &mut ForcedClose,
    ) {
        let (q, e) = (self.book.size[k], self.book.entry[k]);
        let (mark, book) = (ctx.price.mark(), ctx.price.book());
        let side = if q > 0.0 { Side::Sell } else { Side::Buy };
        let fill = ctx.price.execute(side, q.abs() * book, ctx.law);
        let realized = q * (fill - e);
        let counterparty = Holder::Ledger(Account::Counterparty);
        self.transfer(ledger, counterparty, Holder::Trader(k), realized);
        out.position_loss += self.desk.recognised.loss_on_close(k, q, q, realized);
        self.book.size[k] = 0.0;
        self.book.entry[k] = 0.0;
        self.reindex(k);
        out.notional += q.abs() * mark;
        out.slippage_loss += q.abs() * (book - fill).abs();
    }

    /// Carries out a handover decided by [`Self::handover`], after the penalty on what filled.
    fn hand_over(
        &mut self,
        ledger: &mut Ledger,
        k: usize,
        handover: Handover,
        ctx: &mut CloseContext,
        out: &mut ForcedClose,
    ) {
        match handover {
            Handover::Stays | Handover::Market => {}
            Handover::TakenOver(holder) => {
                self.take_over(ledger, k, holder, ctx.price, ctx.step, out);
            }
            Handover::Deleveraged => {
                let mark = ctx.price.mark();
                let (c, q, e) = (
                    self.book.collateral[k],
                    self.book.size[k],
                    self.book.entry[k],
                );
                let price = bankruptcy_price(q, c, e);
                let done = super::socialization::deleverage_at(
                    self,
                    ledger,
                    k,
                    price,
                    mark,
                    &mut out.position_loss,
                );
                out.notional += done.notional;
                out.socialized.positions += done.positions;
                out.socialized.notional += done.notional;
            }
        }
    }

    /// The penalty on the closed notional, from what equity remains: the fund's share into
    /// the fund, the rest to the liquidator.
    fn take_penalty(
        &mut self,
        ledger: &mut Ledger,
        k: usize,
        equity: f64,
        to_liquidator: Account,
        params: &LiquidationParams,
        out: &mut ForcedClose,
    ) {
        out.penalty = match params.settlement() {
            Settlement::Penalty => (params.penalty_rate() * out.notional).min(equity),
            Settlement::BankruptcyPrice => equity,
        };
        out.penalty_to_fund = out.penalty * params.fund_share();
        self.pay_into_fund(ledger, Holder::Trader(k), out.penalty_to_fund);
        let reward = out.penalty - out.penalty_to_fund;
        self.transfer(
            ledger,
            Holder::Trader(k),
            Holder::Ledger(to_liquidator),
            reward,
        );
        if to_liquidator != Account::Treasury {
            out.keeper_profit += reward;
        }
    }

    /// A bankruptcy deficit `d` (MODEL.md section 4): the fund pays what it can, then loss
    /// socialization (section 6); what nobody covers stays as uncovered bad debt.
    fn cover_deficit(
        &mut self,
        ledger: &mut Ledger,
        k: usize,
        d: f64,
        before: Position,
        ctx: &CloseContext,
        out: &mut ForcedClose,
    ) {
        out.deficit = d;
        let fund = self.fund;
        let mut bankrupt = Bankrupt {
            market: self,
            at: k,
            long: before.size > 0.0,
            rule: ctx.socialization,
            mark: ctx.price.mark(),
        };
        let absorbed = ledger.absorb_deficit(fund, d, ctx.step, &mut bankrupt);
        out.fund_paid = absorbed.fund_paid;
        out.socialized = absorbed.socialized;
        out.uncovered = absorbed.uncovered;
    }

    /// The fraction of the position at `k` that partial liquidation closes: the smallest `f`
    /// in (0, 1] with `E'(f) >= cushion MM(N'(f))` after the fill, its impact and the penalty,
    /// found by bisection (60 halvings leave `f` within 1e-18, so the position ends at the
    /// target up to rounding). 1 when the position or its remainder is under `min_notional`,
    /// or when no partial close restores the target.
    fn fraction_to_close(
        &self,
        k: usize,
        market: &MarkState,
        law: &ImpactLaw,
        penalty_rate: f64,
        cushion: f64,
        min_notional: f64,
    ) -> f64 {
        let (c, q, e) = (
            self.book.collateral[k],
            self.book.size[k],
            self.book.entry[k],
        );
        let (mark, book) = (market.mark(), market.book());
        if q.abs() * mark <= min_notional {
            return 1.0;
        }
        let side = if q > 0.0 { Side::Sell } else { Side::Buy };
        // E' - cushion MM(N') after closing fraction f (penalty on the closed notional, never more
        // than the equity left).
        let surplus = |f: f64| {
            let closed = q * f;
            let (fill, after) = market.quote(side, closed.abs() * book, law);
            let rest = q - closed;
            let equity = c + closed * (fill - e) + rest * (after - e);
            let penalty = (penalty_rate * closed.abs() * mark).min(equity.max(0.0));
            let required = if self.margin.tiers().is_empty() {
                // The untiered product in its historical order (golden files hold its bits).
                self.margin.mmr() * cushion * rest.abs() * after
            } else {
                cushion * self.margin.maintenance(rest.abs() * after)
            };
            equity - penalty - required
        };
        let mut hi = 1.0 - 1e-9;
        if surplus(hi) < 0.0 {
            return 1.0;
        }
        let mut lo = 0.0;
        for _ in 0..60 {
            let mid = 0.5 * (lo + hi);
            if surplus(mid) >= 0.0 {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        if (1.0 - hi) * q.abs() * mark < min_notional {
            1.0
        } else {
            hi
        }
    }

    /// What the liquidator's share of the penalty of trader `i`'s position is worth at the
    /// mark: what a keeper weighs against the slippage and its cost (MODEL.md section 4).
    pub fn keeper_reward(
        &self,
        i: u32,
        price: &MarkState,
        params: &LiquidationParams,
    ) -> KeeperReward {
        let k = self.at(i);
        let p = price.mark();
        let notional = self.book.size[k].abs() * p;
        let equity = self.book.equity(k, p);
        KeeperReward {
            notional,
            reward: (1.0 - params.fund_share())
                * (params.penalty_rate() * notional).min(equity.max(0.0)),
        }
    }

    /// The slippage a keeper expects to pay selling trader `i`'s whole position into the book
    /// now: `|q| |P - x|` at the quoted fill.
    pub fn expected_slippage(&self, i: u32, price: &MarkState, law: &ImpactLaw) -> f64 {
        let size = self.book.size[self.at(i)];
        let p = price.mark();
        let side = if size > 0.0 { Side::Sell } else { Side::Buy };
        let fill = price.quote_fill(side, size.abs() * price.book(), law);
        size.abs() * (p - fill).abs()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::market::LinearBook;
    use crate::protocol::perp::tests::{assert_balanced, market};
    use crate::protocol::{LiquidationMode, MarginParams, PositionBook};

    /// A long of 10 units entered at 100 with 60 USD collateral, marked at 95 (equity 10 on
    /// 950 notional: 1.05%, under mmr 2%), liquidated once under `close` into a linear book
    /// of `depth`. Returns the market, its ledger, the close and the mark after it.
    fn liquidate_the_long(
        penalty: f64,
        close: CloseRule,
        depth: f64,
    ) -> (PerpMarket, Ledger, ForcedClose, MarkState) {
        let mut book = PositionBook::default();
        book.push(60.0, 10.0, 100.0);
        let margin = MarginParams::new(0.04, 0.02).unwrap();
        let (mut v, mut ledger) = market(book, margin, 1e3);
        let mut mark = MarkState::new(95.0, 10.0, 0.0, 60.0).unwrap();
        assert!(v.is_due(0, 95.0));
        let params = LiquidationParams::new(penalty, 1.0, LiquidationMode::Engine, close).unwrap();
        let law = ImpactLaw::Linear(LinearBook::new(depth).unwrap());
        let mut ctx = CloseContext {
            params: &params,
            price: &mut mark,
            law: &law,
            socialization: LossSocialization::None,
            step: 1,
        };
        let l = v.force_close(&mut ledger, 0, Liquidator::Engine, &mut ctx);
        (v, ledger, l, mark)
    }

    /// Partial liquidation with buffer 0.5 closes just enough that equity / notional is
    /// exactly mmr x 1.5 afterwards, at the mark the fill left, penalty paid.
    #[test]
    fn partial_liquidation_leaves_the_position_at_the_target_margin() {
        for (depth, penalty) in [(1e6, 0.01), (1e5, 0.0), (2e4, 0.005)] {
            let (v, ledger, l, mark) =
                liquidate_the_long(penalty, CloseRule::partial(0.5, 0.0).unwrap(), depth);
            let p = mark.mark();
            let ratio = v.book().equity(0, p) / v.book().notional(0, p);
            let size = v.position(0).size;
            assert!(size > 0.0 && size < 10.0, "{depth}");
            assert!(
                (ratio / (0.02 * 1.5) - 1.0).abs() < 1e-9,
                "depth {depth}: margin ratio {ratio}"
            );
            assert!(l.penalty > 0.0 || penalty == 0.0);
            assert_eq!(l.deficit, 0.0);
            assert!(!l.flat);
            assert_balanced(&v, &ledger);
        }
    }

    /// Below the minimum size, or when no partial close restores the target, the whole
    /// position goes. (With a 2% penalty no partial close could get there: 10 - 19 f >=
    /// 28.5 (1 - f) needs f > 1.)
    #[test]
    fn small_or_hopeless_positions_are_closed_in_full() {
        let (v, ..) = liquidate_the_long(0.01, CloseRule::partial(0.5, 1_000.0).unwrap(), 1e6);
        assert_eq!(v.position(0).size, 0.0);
        let (v, _, l, _) = liquidate_the_long(0.02, CloseRule::partial(0.5, 0.0).unwrap(), 1e6);
        assert_eq!(v.position(0).size, 0.0);
        assert!(l.flat && l.long);
    }

    /// At the bankruptcy price (BitMEX) the trader keeps nothing of a full close: the equity
    /// the fill left, `60 + 10 (x - 100)`, all goes to the fund, whatever the penalty rate
    /// would have taken; and the money balances.
    #[test]
    fn the_bankruptcy_price_gives_the_whole_surplus_to_the_fund() {
        let mut book = PositionBook::default();
        book.push(60.0, 10.0, 100.0);
        let margin = MarginParams::new(0.04, 0.02).unwrap();
        let (mut v, mut ledger) = market(book, margin, 1e3);
        let mut mark = MarkState::new(95.0, 10.0, 0.0, 60.0).unwrap();
        let params = LiquidationParams::new(0.0, 1.0, LiquidationMode::Engine, CloseRule::Full)
            .unwrap()
            .at_bankruptcy_price()
            .unwrap();
        let law = ImpactLaw::Linear(LinearBook::new(1e5).unwrap());
        let fund_before = ledger.balance(Account::Fund(0));
        let mut ctx = CloseContext {
            params: &params,
            price: &mut mark,
            law: &law,
            socialization: LossSocialization::None,
            step: 1,
        };
        let l = v.force_close(&mut ledger, 0, Liquidator::Engine, &mut ctx);
        let fill = 95.0 - l.slippage_loss / 10.0;
        let surplus = 60.0 + 10.0 * (fill - 100.0);
        assert!(surplus > 0.0 && l.flat && l.deficit == 0.0);
        assert!(
            (l.penalty_to_fund - surplus).abs() < 1e-9,
            "{} vs {surplus}",
            l.penalty_to_fund
        );
        assert!((ledger.balance(Account::Fund(0)) - fund_before - surplus).abs() < 1e-9);
        assert!(v.position(0).collateral.abs() < 1e-9);
        assert_balanced(&v, &ledger);
    }

    #[test]
    fn the_bankruptcy_price_needs_the_engine_full_closes_and_no_rate() {
        let full =
            |rate| LiquidationParams::new(rate, 1.0, LiquidationMode::Engine, CloseRule::Full);
        assert_eq!(
            full(0.01).unwrap().at_bankruptcy_price().unwrap_err().field,
            "penalty_rate"
        );
        let partial = LiquidationParams::new(
            0.0,
            1.0,
            LiquidationMode::Engine,
            CloseRule::partial(0.5, 0.0).unwrap(),
        )
        .unwrap();
        assert_eq!(partial.at_bankruptcy_price().unwrap_err().field, "settle");
    }
}

#[cfg(test)]
mod order_tests {
    use super::*;
    use crate::market::LinearBook;
    use crate::protocol::perp::tests::{assert_balanced, market};
    use crate::protocol::perp::{EngineOrders, OrderLimit, SizeCap};
    use crate::protocol::{LiquidationMode, MarginParams, PositionBook};

    /// A long of 10 entered at 100 with 60 of collateral (bankrupt at 94), beside a profitable
    /// short of 10 entered at 110, marked at 95 (liquidatable under mmr 2%), into a linear
    /// book of 200 USD per 1%: selling the whole long at market would take the book about
    /// 4.75% down, past the bankruptcy price.
    fn venue(orders: EngineOrders) -> (PerpMarket, Ledger, MarkState) {
        let mut book = PositionBook::default();
        book.push(60.0, 10.0, 100.0);
        book.push(500.0, -10.0, 110.0);
        let margin = MarginParams::new(0.04, 0.02).unwrap();
        let (v, mut ledger) = market(book, margin, 1e3);
        let v = v.with_orders(orders, 60.0);
        let mark = MarkState::new(95.0, 10.0, 0.0, 60.0).unwrap();
        if let Takeover::Vault { capital, .. } = orders.takeover {
            ledger = ledger.with_vault(crate::protocol::InsuranceFund::vault(capital));
        }
        (v, ledger, mark)
    }

    fn close(v: &mut PerpMarket, ledger: &mut Ledger, mark: &mut MarkState) -> ForcedClose {
        let params =
            LiquidationParams::new(0.01, 1.0, LiquidationMode::Engine, CloseRule::Full).unwrap();
        let law = ImpactLaw::Linear(LinearBook::new(200.0).unwrap());
        let mut ctx = CloseContext {
            params: &params,
            price: mark,
            law: &law,
            socialization: LossSocialization::Adl,
            step: 1,
        };
        v.force_close(ledger, 0, Liquidator::Engine, &mut ctx)
    }

    fn orders(limit: OrderLimit, takeover: Takeover) -> EngineOrders {
        EngineOrders {
            limit,
            takeover,
            unwind_step: 0.01,
            ..EngineOrders::default()
        }
    }

    /// At the bankruptcy price the book takes only what it fills down to 94, and the trader
    /// never fills below it: no deficit, the rest stays, and the book stops at the limit.
    #[test]
    fn a_bankruptcy_limit_never_fills_below_the_bankruptcy_price() {
        let (mut v, mut ledger, mut mark) = venue(orders(OrderLimit::Bankruptcy, Takeover::None));
        let c = close(&mut v, &mut ledger, &mut mark);
        let rest = v.position(0).size;
        assert!(rest > 0.0 && rest < 10.0, "{rest}");
        let fill = 95.0 - c.slippage_loss / (10.0 - rest);
        assert!(fill >= 94.0 - 1e-9, "{fill}");
        assert!((mark.book() - 94.0).abs() < 1e-9, "{}", mark.book());
        assert_eq!(c.deficit, 0.0);
        assert!(v.position(0).collateral + rest * (94.0 - 100.0) > -1e-9);
        assert_balanced(&v, &ledger);
        // A market order for the same position goes past it and leaves a deficit.
        let (mut v, mut ledger, mut mark) = venue(EngineOrders::default());
        let c = close(&mut v, &mut ledger, &mut mark);
        assert!(c.deficit > 0.0 && c.flat);
    }

    /// With the fund taking over, the trader is closed out at its bankruptcy price: it keeps
    /// nothing, and the fund's marked balance is its cash plus the inherited rest at the mark.
    #[test]
    fn the_fund_inherits_the_rest_at_its_bankruptcy_price() {
        let (mut v, mut ledger, mut mark) = venue(orders(OrderLimit::Bankruptcy, Takeover::Fund));
        let c = close(&mut v, &mut ledger, &mut mark);
        assert!(c.flat && c.taken_over > 0.0 && c.deficit == 0.0);
        assert!(v.position(0).collateral.abs() < 1e-9);
        let inv = *v.inventory().unwrap();
        assert!(inv.size > 0.0 && inv.size < 10.0);
        let fund = &ledger.funds()[0];
        let marked = fund.balance() + inv.size * (mark.mark() - inv.entry);
        assert!((fund.marked_balance() - marked).abs() < 1e-9);
        assert_balanced(&v, &ledger);
    }

    /// The holder offers its inventory back each step at a limit moving toward the book; the
    /// book recovers toward the index meanwhile, and the inventory is sold, the ledger
    /// balanced at every step and the realized profit in the fund's cash.
    #[test]
    fn inventory_is_unwound_step_by_step() {
        let (mut v, mut ledger, mut mark) = venue(orders(OrderLimit::Bankruptcy, Takeover::Fund));
        close(&mut v, &mut ledger, &mut mark);
        let law = ImpactLaw::Linear(LinearBook::new(200.0).unwrap());
        let cash_before = ledger.funds()[0].balance();
        let mut sold = 0.0;
        for step in 2..400 {
            mark.advance(0.0);
            let u = v.unwind(&mut ledger, &mut mark, &law, 0.01, step);
            sold += u.notional;
            v.mark_inventory(&mut ledger, mark.mark(), 0.0, step);
            assert_balanced(&v, &ledger);
            if v.inventory().unwrap().size == 0.0 {
                break;
            }
        }
        assert_eq!(v.inventory().unwrap().size, 0.0);
        assert!(sold > 0.0);
        let fund = &ledger.funds()[0];
        assert!((fund.balance() - cash_before - fund.inventory_pnl()).abs() < 1e-9);
        assert!(fund.unrealized().abs() < 1e-9);
    }

    /// dYdX's deleveraging: the rest is matched against the profitable short at the long's
    /// bankruptcy price; both realize there, the long leaves with nothing, the money balances.
    #[test]
    fn deleveraging_matches_the_rest_at_the_bankruptcy_price() {
        let (mut v, mut ledger, mut mark) =
            venue(orders(OrderLimit::Bankruptcy, Takeover::Deleverage));
        let c = close(&mut v, &mut ledger, &mut mark);
        assert!(c.flat && c.socialized.positions == 1);
        assert!(v.position(0).collateral.abs() < 1e-9);
        let short = v.position(1);
        assert!(short.size < 0.0 && short.size > -10.0);
        assert_balanced(&v, &ledger);
    }

    /// A vault takes the whole account over, before any order, once its equity is below its
    /// share of maintenance margin (Hyperliquid's backstop liquidation); above it, the
    /// engine's order goes to the book and the vault takes nothing.
    #[test]
    fn a_vault_waits_for_its_threshold() {
        // Equity 10 on a maintenance margin of 19: above 10% of it.
        let vault = Takeover::vault(0.1, 1e4).unwrap();
        let (mut v, mut ledger, mut mark) = venue(orders(OrderLimit::None, vault));
        let c = close(&mut v, &mut ledger, &mut mark);
        assert_eq!(c.taken_over, 0.0);
        assert!(c.flat && c.slippage_loss > 0.0);
        let vault = Takeover::vault(0.9, 1e4).unwrap();
        let (mut v, mut ledger, mut mark) = venue(orders(OrderLimit::None, vault));
        let book = mark.book();
        let c = close(&mut v, &mut ledger, &mut mark);
        assert!(c.taken_over > 0.0 && c.flat && c.slippage_loss == 0.0);
        assert_eq!(mark.book(), book);
        assert_eq!(v.inventory().unwrap().holder, Account::Vault);
        assert_balanced(&v, &ledger);
    }

    /// Slices of 20% above 100 USD with a 30 s cool-down: the long of 10 marked at 93 (under
    /// water, so every remainder stays due) goes 2, then 1.6, 1.28, ... one slice per 30 s,
    /// until what is left is 100 USD or less, which goes at once; every position due between
    /// slices rests.
    #[test]
    fn slices_and_cooldowns_close_a_position_on_schedule() {
        let cap = SizeCap::slices(0.2, 100.0, 30.0).unwrap();
        let orders = EngineOrders {
            cap,
            ..EngineOrders::default()
        };
        let mut book = PositionBook::default();
        book.push(60.0, 10.0, 100.0);
        let margin = MarginParams::new(0.04, 0.02).unwrap();
        let (v, mut ledger) = market(book, margin, 1e3);
        let mut v = v.with_orders(orders, 10.0);
        let mut mark = MarkState::new(93.0, 10.0, 0.0, 10.0).unwrap();
        let params =
            LiquidationParams::new(0.0, 1.0, LiquidationMode::Engine, CloseRule::Full).unwrap();
        let mut closed_at = Vec::new();
        let mut due = Vec::new();
        for step in 0..200u64 {
            v.advance(step as f64 * 10.0);
            due.clear();
            v.due(93.0, &mut due);
            for &i in &due {
                let mut ctx = CloseContext {
                    params: &params,
                    price: &mut mark,
                    law: &ImpactLaw::None,
                    socialization: LossSocialization::None,
                    step,
                };
                let before = v.position(i).size;
                v.force_close(&mut ledger, i, Liquidator::Engine, &mut ctx);
                closed_at.push((step, before - v.position(i).size));
            }
            if !v.is_open(0) {
                break;
            }
        }
        let mut size = 10.0;
        let mut want = Vec::new();
        let mut step = 0;
        while size * 93.0 > 100.0 {
            want.push((step, 0.2 * size));
            size *= 0.8;
            step += 3;
        }
        want.push((step, size));
        assert_eq!(closed_at.len(), want.len(), "{closed_at:?}");
        for ((s, q), (ws, wq)) in closed_at.iter().zip(&want) {
            assert_eq!(s, ws);
            assert!((q - wq).abs() < 1e-9, "{q} vs {wq}");
        }
        assert_balanced(&v, &ledger);
    }
}
