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
//!   liquidation factor, the store-front price and its target reserves.
//! * [`held`]: collateral a fund holds after absorbing it, marked at the oracle.
//! * [`auction`]: Maker/Sky Liquidations 2.0 `Clipper`: the stair-step Dutch auction, its
//!   resets and the keeper's incentive.
//! * [`borrowers`]: what defenders and loopers do besides waiting.
//! * [`morpho`]: Morpho Blue's liquidation incentive factor.
//! * [`oracle`]: a push feed with a deviation threshold, a heartbeat and an optional lag.

pub mod aave;
pub mod auction;
pub mod borrowers;
pub mod comet;
pub mod held;
mod loan;
mod market;
pub mod morpho;
pub mod oracle;

pub use auction::MakerAuctions;
pub use loan::Loan;
pub use market::{LendingMarket, LendingStyle, LendingTerms, OracleSource, StoreFrontBuyers};
