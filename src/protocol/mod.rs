//! The protocol: markets of each kind behind one seam, the insurance funds, and the ledger.
//!
//! * [`Ledger`] holds every account no market owns (funds, treasury, the outside
//!   counterparty, uncovered bad debt, reserves, deposits, keepers) and is shared by all the
//!   markets of a run; each market holds its traders' collateral. Every movement of money is a
//!   transfer between named accounts, so MODEL.md section 7 can be audited at any moment.
//! * [`Market`] is the market-kind seam (an enum, dispatched statically): which positions are
//!   due, worst first, what a keeper would earn, and the forced close, which returns one
//!   [`ForcedClose`] record. Perpetual swaps live in [`perp`]; the rules of lending
//!   markets (Aave, Compound III, Maker auctions, Morpho, the push oracle) in [`lending`],
//!   whose market kind is the next variant.
//! * [`Venue`] is the run's markets and their ledger: the only way the simulation touches
//!   them.

mod fund;
mod ledger;
pub mod lending;
mod liquidation;
mod market;
pub mod perp;
mod venue;

pub use fund::InsuranceFund;
pub use ledger::{Account, Holder, LEDGER_TOLERANCE, Ledger};
pub use liquidation::{
    CloseRule, ForcedClose, KeeperParams, LiquidationMode, LiquidationParams, Liquidator,
    Settlement,
};
pub use market::Market;
pub use perp::{
    CloseContext, FeeParams, KeeperReward, LiquidationQueue, LossSocialization, MarginParams,
    MarginTier, PerpMarket, Position, PositionBook, Socialized, TradeError, TradeFill, adl_rank,
    water_filling,
};
pub use venue::Venue;
