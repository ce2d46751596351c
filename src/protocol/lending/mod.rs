//! Lending markets' protocol rules (MODEL.md section 14): what each style's contract does to
//! one loan when it is liquidated, and the push oracle the health factor is read on.
//!
//! Each rule is a pure function of the loan and the prices, checked against hand-built
//! fixtures; [`LendingMarket`] holds a run's borrowers, their oracle, their queue and the
//! bad-debt waterfall on these rules, and sits beside `perp/` behind the market-kind seam.
//!
//! * [`aave`]: Aave v3.3+ `LiquidationLogic`: close factor, small-position and dust rules,
//!   bonus and protocol fee.
//! * [`comet`]: Compound III `absorb` and `buyCollateral`: the absorb credit at the
//!   liquidation factor and the store-front price.
//! * [`auction`]: Maker/Sky Liquidations 2.0 `Clipper`: the stair-step Dutch auction, its
//!   resets and the keeper's incentive.
//! * [`borrowers`]: what defenders and loopers do besides waiting.
//! * [`morpho`]: Morpho Blue's liquidation incentive factor.
//! * [`oracle`]: a push feed with a deviation threshold, a heartbeat and an optional lag.

pub mod aave;
pub mod auction;
pub mod borrowers;
pub mod comet;
mod market;
pub mod morpho;
pub mod oracle;

pub use market::{
    BorrowerFlows, Leftover, LendingMarket, LendingStyle, LendingTerms, MakerAuctions, OracleSource,
};

/// One borrower's loan: `collateral` units of the volatile asset against `debt` USD of a
/// stable asset (price 1).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Loan {
    pub collateral: f64,
    pub debt: f64,
}

impl Loan {
    /// Aave's and Compound's health factor `c O LT / d` (infinite without debt); the loan is
    /// liquidatable below 1.
    pub fn health_factor(&self, oracle: f64, liquidation_threshold: f64) -> f64 {
        if self.debt <= 0.0 {
            return f64::INFINITY;
        }
        self.collateral * oracle * liquidation_threshold / self.debt
    }

    /// The collateral's value at `price`, in USD.
    pub fn collateral_usd(&self, price: f64) -> f64 {
        self.collateral * price
    }
}
