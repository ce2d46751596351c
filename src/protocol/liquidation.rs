//! Liquidation (MODEL.md section 4): who closes (mode), how much (close rule), the penalty, and
//! the bankruptcy deficit that the fund and then loss socialization absorb.

use super::{Account, LossSocialization, Socialized, Venue};
use crate::market::{ImpactModel, MarkState, Side};
use crate::params::{ParamResult, rate_below_one, unit_interval};

/// Who closes a liquidatable position.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LiquidationMode {
    /// The venue's liquidation engine closes it into the book at once (BitMEX, Binance); the
    /// part of the penalty that does not go to the fund goes to the venue (treasury).
    Engine,
    /// Keeper agents (DeFi: Aave, dYdX v4, GMX keepers) take liquidatable positions over at
    /// the mark and sell them into the book, paying the slippage and a cost per liquidation
    /// and earning the part of the penalty that does not go to the fund. A keeper acts only
    /// when that reward beats the expected slippage plus its cost, after its latency, and
    /// while it has capital free for the notional; the capital comes back the next step, once
    /// it has sold. With no willing keeper a position waits, and may sink further.
    Keeper(KeeperParams),
}

/// The keepers of keeper mode, all alike.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct KeeperParams {
    pub(crate) count: u16,
    pub(crate) capital: f64,
    pub(crate) latency_steps: u64,
    pub(crate) cost: f64,
}

impl KeeperParams {
    pub fn new(count: u64, capital: f64, latency_steps: u64, cost: f64) -> ParamResult<Self> {
        if count == 0 || count > u16::MAX as u64 {
            return Err(crate::params::ParamError::new(
                "count",
                format!("must be between 1 and {}, got {count}", u16::MAX),
            ));
        }
        Ok(Self {
            count: count as u16,
            capital: crate::params::non_negative("capital_usd", capital)?,
            latency_steps,
            cost: crate::params::non_negative("cost_usd", cost)?,
        })
    }
}

/// Who carries out one forced close.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Liquidator {
    Engine,
    /// Keeper `k`, paying `cost` for the liquidation.
    Keeper {
        k: u16,
        cost: f64,
    },
}

/// How much of a liquidatable position is closed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum CloseRule {
    Full,
    /// The smallest fraction that leaves `E >= mmr N (1 + buffer)` after the fill, its
    /// impact and the penalty (BitMEX and Binance liquidate in steps like this); all of it
    /// when the position, or what would remain, is below `min_notional` USD.
    Partial {
        buffer: f64,
        min_notional: f64,
    },
}

impl CloseRule {
    pub fn partial(buffer: f64, min_notional: f64) -> ParamResult<Self> {
        Ok(CloseRule::Partial {
            buffer: crate::params::non_negative("buffer", buffer)?,
            min_notional: crate::params::non_negative("min_notional_usd", min_notional)?,
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LiquidationParams {
    penalty_rate: f64,
    fund_share: f64,
    mode: LiquidationMode,
    close: CloseRule,
    /// Steps between a position becoming liquidatable and the engine acting on it.
    latency_steps: u64,
}

impl LiquidationParams {
    pub fn new(
        penalty_rate: f64,
        fund_share: f64,
        mode: LiquidationMode,
        close: CloseRule,
    ) -> ParamResult<Self> {
        Ok(Self {
            penalty_rate: rate_below_one("penalty_rate", penalty_rate)?,
            fund_share: unit_interval("fund_share", fund_share)?,
            mode,
            close,
            latency_steps: 0,
        })
    }

    /// The engine acts `steps` after a position becomes liquidatable, if it still is then.
    pub fn with_latency(mut self, steps: u64) -> Self {
        self.latency_steps = steps;
        self
    }

    pub fn penalty_rate(&self) -> f64 {
        self.penalty_rate
    }

    pub fn latency_steps(&self) -> u64 {
        self.latency_steps
    }

    pub fn mode(&self) -> LiquidationMode {
        self.mode
    }

    pub fn fund_share(&self) -> f64 {
        self.fund_share
    }

    pub fn close(&self) -> CloseRule {
        self.close
    }
}

/// What one forced close did.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Liquidation {
    pub trader: u32,
    /// Closed notional at the mark before the fill (USD).
    pub notional: f64,
    /// `|q| |P - x|`: what the fill lost against the mark.
    pub slippage_loss: f64,
    /// Penalty actually taken (never more than the equity left).
    pub penalty: f64,
    /// Part of the penalty paid into the fund.
    pub penalty_to_fund: f64,
    /// The position's realized trading loss, `max(0, -q (x - e))`.
    pub position_loss: f64,
    /// Bankruptcy deficit `max(0, -E')` (bad debt).
    pub deficit: f64,
    /// Part of the deficit the fund paid.
    pub fund_paid: f64,
    /// Part of the deficit taken from other traders.
    pub socialized: Socialized,
    /// Part of the deficit nobody covered.
    pub uncovered: f64,
    /// Not liquidatable at the index price: caused by this venue's own impact.
    pub induced: bool,
    /// What the keeper made: its share of the penalty, less slippage and cost (0 in engine
    /// mode).
    pub keeper_profit: f64,
}

impl Venue {
    /// Closes trader `i` into the book according to `params`, moving the mark for whatever
    /// follows, charging the penalty, and covering any deficit from the fund and then by
    /// `socialization`. Every movement of money is a ledger transfer.
    pub fn liquidate(
        &mut self,
        i: u32,
        params: &LiquidationParams,
        market: &mut MarkState,
        book: &dyn ImpactModel,
        socialization: &dyn LossSocialization,
        step: u64,
    ) -> Liquidation {
        self.liquidate_by(
            i,
            params,
            market,
            book,
            socialization,
            step,
            Liquidator::Engine,
        )
    }

    /// [`Venue::liquidate`] by `by`. A keeper takes the closed part over at the mark (the
    /// trader realizes there) and sells it into the book itself, so the slippage is the
    /// keeper's; the part of the penalty that is not the fund's goes to the keeper.
    #[allow(clippy::too_many_arguments)]
    pub fn liquidate_by(
        &mut self,
        i: u32,
        params: &LiquidationParams,
        market: &mut MarkState,
        book: &dyn ImpactModel,
        socialization: &dyn LossSocialization,
        step: u64,
        by: Liquidator,
    ) -> Liquidation {
        let k = i as usize;
        let (c, q, e) = (
            self.book.collateral[k],
            self.book.size[k],
            self.book.entry[k],
        );
        let index = market.index();
        let induced = !self
            .margin
            .is_liquidatable(c + q * (index - e), q.abs() * index);
        let mark = market.mark();
        let side = if q > 0.0 { Side::Sell } else { Side::Buy };
        // The trader's own fill: through the book by the engine, at the mark to a keeper.
        let trader_book: &dyn ImpactModel = match by {
            Liquidator::Engine => book,
            Liquidator::Keeper { .. } => &crate::market::NoImpact,
        };
        let fraction = match params.close {
            CloseRule::Full => 1.0,
            CloseRule::Partial {
                buffer,
                min_notional,
            } => self.fraction_to_close(
                k,
                market,
                trader_book,
                params.penalty_rate,
                self.margin.mmr() * (1.0 + buffer),
                min_notional,
            ),
        };
        let closed = if fraction >= 1.0 { q } else { q * fraction };
        let notional = closed.abs() * mark;
        let fill = market.execute(side, notional, book);
        let trader_fill = match by {
            Liquidator::Engine => fill,
            Liquidator::Keeper { .. } => mark,
        };
        let realized = closed * (trader_fill - e);
        self.transfer(Account::Counterparty, Account::Trader(i), realized);
        if fraction >= 1.0 {
            self.book.size[k] = 0.0;
            self.book.entry[k] = 0.0;
        } else {
            self.book.size[k] = q - closed;
        }
        self.reindex(i);

        let mut out = Liquidation {
            trader: i,
            notional,
            slippage_loss: closed.abs() * (mark - fill).abs(),
            position_loss: (-realized).max(0.0),
            induced,
            ..Liquidation::default()
        };
        let to_liquidator = match by {
            Liquidator::Engine => Account::Treasury,
            Liquidator::Keeper { k: keeper, cost } => {
                // The keeper bought at the mark and sold at `fill`; it also pays its cost.
                let loss = out.slippage_loss + cost;
                self.transfer(Account::Keeper(keeper), Account::Counterparty, loss);
                out.keeper_profit -= loss;
                Account::Keeper(keeper)
            }
        };
        // Equity left after the close: collateral plus what the rest of the position is worth
        // at the mark the fill left (nothing when fully closed).
        let equity = self.book.equity(k, market.mark());
        if equity > 0.0 {
            out.penalty = (params.penalty_rate * notional).min(equity);
            out.penalty_to_fund = out.penalty * params.fund_share;
            let fund = self.fund_of_market(self.market_of(i));
            self.pay_into_fund(Account::Trader(i), fund, out.penalty_to_fund);
            let reward = out.penalty - out.penalty_to_fund;
            self.transfer(Account::Trader(i), to_liquidator, reward);
            if to_liquidator != Account::Treasury {
                out.keeper_profit += reward;
            }
        } else if equity < 0.0 {
            let d = -equity;
            out.deficit = d;
            let fund = self.fund_of_market(self.market_of(i));
            out.fund_paid = self.funds[fund as usize].record_deficit(d, step);
            self.transfer(Account::Fund(fund), Account::Trader(i), out.fund_paid);
            let residual = d - out.fund_paid;
            if residual > 0.0 {
                out.socialized = socialization.cover(self, i, q > 0.0, residual, market.mark());
                out.uncovered = (residual - out.socialized.covered).max(0.0);
                self.transfer(Account::Uncovered, Account::Trader(i), out.uncovered);
            }
        }
        out
    }

    /// The fraction of trader `k`'s position that partial liquidation closes: the smallest
    /// `f` in (0, 1] with `E'(f) >= target N'(f)` after the fill, its impact and the penalty,
    /// found by bisection (60 halvings leave `f` within 1e-18, so the position ends at the
    /// target up to rounding). 1 when the position or its remainder is under `min_notional`,
    /// or when no partial close restores the target.
    fn fraction_to_close(
        &self,
        k: usize,
        market: &MarkState,
        book: &dyn ImpactModel,
        penalty_rate: f64,
        target: f64,
        min_notional: f64,
    ) -> f64 {
        let (c, q, e) = (
            self.book.collateral[k],
            self.book.size[k],
            self.book.entry[k],
        );
        let mark = market.mark();
        if q.abs() * mark <= min_notional {
            return 1.0;
        }
        let side = if q > 0.0 { Side::Sell } else { Side::Buy };
        // E' - target N' after closing fraction f (penalty on the closed notional, never more
        // than the equity left).
        let surplus = |f: f64| {
            let closed = q * f;
            let (fill, after) = market.quote(side, closed.abs() * mark, book);
            let rest = q - closed;
            let equity = c + closed * (fill - e) + rest * (after - e);
            let penalty = (penalty_rate * closed.abs() * mark).min(equity.max(0.0));
            equity - penalty - target * rest.abs() * after
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::market::LinearBook;
    use crate::protocol::{InsuranceFund, MarginParams, NoSocialization, PositionBook};

    /// A long of 10 units entered at 100 with 60 USD collateral, marked at 95 (equity 10 on
    /// 950 notional: 1.05%, under mmr 2%), liquidated once under `close` into a linear book
    /// of `depth`. Returns the venue, the liquidation and the mark after it.
    fn liquidate_the_long(
        penalty: f64,
        close: CloseRule,
        depth: f64,
    ) -> (Venue, Liquidation, MarkState) {
        let mut book = PositionBook::default();
        book.push(60.0, 10.0, 100.0);
        let margin = MarginParams::new(0.04, 0.02).unwrap();
        let mut v = Venue::open(book, margin, InsuranceFund::new(1e3).unwrap());
        let mut mark = MarkState::new(95.0, 10.0, 0.0, 60.0).unwrap();
        assert!(margin.is_liquidatable(v.book.equity(0, 95.0), v.book.notional(0, 95.0)));
        let params = LiquidationParams::new(penalty, 1.0, LiquidationMode::Engine, close).unwrap();
        let impact = LinearBook::new(depth).unwrap();
        let l = v.liquidate(0, &params, &mut mark, &impact, &NoSocialization, 1);
        (v, l, mark)
    }

    /// Partial liquidation with buffer 0.5 closes just enough that equity / notional is
    /// exactly mmr x 1.5 afterwards, at the mark the fill left, penalty paid.
    #[test]
    fn partial_liquidation_leaves_the_position_at_the_target_margin() {
        for (depth, penalty) in [(1e6, 0.01), (1e5, 0.0), (2e4, 0.005)] {
            let (v, l, mark) =
                liquidate_the_long(penalty, CloseRule::partial(0.5, 0.0).unwrap(), depth);
            let p = mark.mark();
            let ratio = v.book.equity(0, p) / v.book.notional(0, p);
            assert!(v.book.size[0] > 0.0 && v.book.size[0] < 10.0, "{depth}");
            assert!(
                (ratio / (0.02 * 1.5) - 1.0).abs() < 1e-9,
                "depth {depth}: margin ratio {ratio}"
            );
            assert!(l.penalty > 0.0 || penalty == 0.0);
            assert_eq!(l.deficit, 0.0);
            assert!(v.ledger_imbalance().abs() <= v.ledger_tolerance());
        }
    }

    /// Below the minimum size, or when no partial close restores the target, the whole
    /// position goes. (With a 2% penalty no partial close could get there: 10 - 19 f >=
    /// 28.5 (1 - f) needs f > 1.)
    #[test]
    fn small_or_hopeless_positions_are_closed_in_full() {
        let (v, ..) = liquidate_the_long(0.01, CloseRule::partial(0.5, 1_000.0).unwrap(), 1e6);
        assert_eq!(v.book.size[0], 0.0);
        let (v, ..) = liquidate_the_long(0.02, CloseRule::partial(0.5, 0.0).unwrap(), 1e6);
        assert_eq!(v.book.size[0], 0.0);
    }
}
