//! Liquidation (MODEL.md section 4): who closes (mode), how much (close rule), the penalty, and
//! the bankruptcy deficit that the fund and then loss socialization absorb.

use super::{Account, LossSocialization, Socialized, Venue};
use crate::market::{ImpactModel, MarkState, Side};
use crate::params::{ParamResult, rate_below_one, unit_interval};

/// Who closes a liquidatable position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LiquidationMode {
    /// The venue's liquidation engine closes it into the book at once (BitMEX, Binance); the
    /// part of the penalty that does not go to the fund goes to the venue (treasury).
    Engine,
}

/// How much of a liquidatable position is closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CloseRule {
    Full,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LiquidationParams {
    penalty_rate: f64,
    fund_share: f64,
    mode: LiquidationMode,
    close: CloseRule,
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
        })
    }

    pub fn penalty_rate(&self) -> f64 {
        self.penalty_rate
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
        let notional = q.abs() * mark;
        let side = if q > 0.0 { Side::Sell } else { Side::Buy };
        // Full close; a partial close rule would choose a smaller quantity here.
        let CloseRule::Full = params.close;
        let LiquidationMode::Engine = params.mode;
        let fill = market.execute(side, notional, book);
        let realized = q * (fill - e);
        self.transfer(Account::Counterparty, Account::Trader(i), realized);
        self.book.size[k] = 0.0;
        self.book.entry[k] = 0.0;
        self.reindex(i);

        let mut out = Liquidation {
            trader: i,
            notional,
            slippage_loss: q.abs() * (mark - fill).abs(),
            position_loss: (-realized).max(0.0),
            induced,
            ..Liquidation::default()
        };
        let equity = self.book.collateral[k];
        if equity > 0.0 {
            out.penalty = (params.penalty_rate * notional).min(equity);
            out.penalty_to_fund = out.penalty * params.fund_share;
            let fund = self.fund_of_market(self.market_of(i));
            self.pay_into_fund(Account::Trader(i), fund, out.penalty_to_fund);
            self.transfer(
                Account::Trader(i),
                Account::Treasury,
                out.penalty - out.penalty_to_fund,
            );
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
}
