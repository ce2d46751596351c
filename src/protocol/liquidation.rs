//! Liquidation (MODEL.md section 4): who closes (mode), how much (close rule) and the penalty,
//! whatever the kind of market.

use super::perp::EngineOrders;
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
    count: u16,
    capital: f64,
    latency_steps: u64,
    cost: f64,
    /// Lending markets: keepers borrow what a liquidation pays within its transaction (a
    /// flash loan), so their capital does not bound it.
    flash: bool,
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
            flash: false,
        })
    }

    /// Keepers fund lending liquidations with flash loans (`true`) or with their capital.
    /// A flash loan pays the repayment and is repaid from the sale of the collateral in the
    /// same transaction: Aave's and Morpho's `flashLoan`, a DEX flash swap around Comet's
    /// `buyCollateral` (Compound's `OnChainLiquidator`), the `clipperCall` hook of Maker's
    /// `Clipper.take`, which hands the keeper the collateral before it pays. Perp keepers
    /// take the position over and post its margin: their capital binds whatever this says.
    pub fn flash_funded(mut self, flash: bool) -> Self {
        self.flash = flash;
        self
    }

    /// Whether lending liquidations are flash-funded.
    pub fn flash(&self) -> bool {
        self.flash
    }

    pub fn count(&self) -> u16 {
        self.count
    }

    /// Each keeper's capital at the start (USD).
    pub fn capital(&self) -> f64 {
        self.capital
    }

    /// Steps a position waits before keepers see it.
    pub fn latency_steps(&self) -> u64 {
        self.latency_steps
    }

    /// A keeper's cost per liquidation (USD: gas, infrastructure).
    pub fn cost(&self) -> f64 {
        self.cost
    }
}

/// Who carries out one forced close.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Liquidator {
    Engine,
    /// Keeper `k`, paying `cost` for the liquidation and at most `budget` USD for what it
    /// takes (its free capital; infinite when it funds a lending liquidation with a flash
    /// loan).
    Keeper {
        k: u16,
        cost: f64,
        budget: f64,
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

/// What a forced close takes from the equity the position has left after its fill.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum Settlement {
    /// `penalty_rate` times the closed notional, never more than the equity left (MODEL.md
    /// section 4; Binance's clearance fee, Deribit's liquidation fee).
    #[default]
    Penalty,
    /// The engine takes the position over at its bankruptcy price: the trader keeps
    /// nothing, and whatever the close fetches above the bankruptcy price (the equity left)
    /// is the fund's share of a surplus (BitMEX, 2020: "the remaining margin is added to the
    /// Insurance Fund"). Only for full closes by the engine.
    BankruptcyPrice,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LiquidationParams {
    penalty_rate: f64,
    fund_share: f64,
    mode: LiquidationMode,
    close: CloseRule,
    settlement: Settlement,
    /// Steps between a position becoming liquidatable and the engine acting on it.
    latency_steps: u64,
    /// The engine's liquidation orders (perp markets; R1's market orders by default).
    orders: EngineOrders,
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
            settlement: Settlement::Penalty,
            latency_steps: 0,
            orders: EngineOrders::default(),
        })
    }

    /// Settles at the bankruptcy price: needs the engine and full closes, and a penalty
    /// rate of 0 (the whole equity left is taken, so a rate would mean nothing).
    pub fn at_bankruptcy_price(mut self) -> ParamResult<Self> {
        let refuse = |field: &str, rule: &str| Err(crate::params::ParamError::new(field, rule));
        if !matches!(self.mode, LiquidationMode::Engine) {
            return refuse(
                "settle",
                "bankruptcy_price needs mode = \"engine\" (a keeper is paid from a penalty)",
            );
        }
        if !matches!(self.close, CloseRule::Full) {
            return refuse(
                "settle",
                "bankruptcy_price needs close = \"full\" (the engine takes the whole position over)",
            );
        }
        if self.penalty_rate != 0.0 {
            return refuse(
                "penalty_rate",
                "must be 0 with settle = \"bankruptcy_price\": the whole equity left goes to the fund",
            );
        }
        self.settlement = Settlement::BankruptcyPrice;
        Ok(self)
    }

    pub fn settlement(&self) -> Settlement {
        self.settlement
    }

    /// The engine acts `steps` after a position becomes liquidatable, if it still is then.
    pub fn with_latency(mut self, steps: u64) -> Self {
        self.latency_steps = steps;
        self
    }

    /// The engine sends its liquidation orders by `orders` (MODEL.md section 4): refused
    /// with keepers, who take positions over themselves.
    pub fn with_orders(mut self, orders: EngineOrders) -> ParamResult<Self> {
        if !orders.is_market() && !matches!(self.mode, LiquidationMode::Engine) {
            return Err(crate::params::ParamError::new(
                "order_limit",
                "limits, size caps and takeover are the engine's; with mode = \"keeper\" keepers take positions over themselves (leave them at \"none\")",
            ));
        }
        self.orders = orders;
        Ok(self)
    }

    pub fn orders(&self) -> &EngineOrders {
        &self.orders
    }

    /// The same rules with `mode` as who liquidates.
    pub fn with_mode(mut self, mode: LiquidationMode) -> Self {
        self.mode = mode;
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
