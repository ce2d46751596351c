//! The protocol: markets of each kind behind one seam, the insurance funds, and the ledger.
//!
//! * [`Ledger`] holds every account no market owns (funds, treasury, the outside
//!   counterparty, uncovered bad debt, reserves, deposits, keepers) and is shared by all the
//!   markets of a run; each market holds its traders' collateral. Every movement of money is a
//!   transfer between named accounts, so MODEL.md section 7 can be audited at any moment.
//! * [`Market`] is the market-kind seam (an enum, dispatched statically): what a kind does
//!   over a whole run (its phase-1 advance, its holders' plans in the act phase, what is left
//!   of it at the end), which positions are due, worst first, what a keeper would earn, and
//!   the forced close, which returns one [`ForcedClose`] record. The vocabulary every kind
//!   speaks (the close context, the keeper reward, the loss rules, the forced-close record,
//!   the trigger heap) sits at this root, so that kind folders never import each other. Perpetual swaps live in [`perp`]; the rules of lending
//!   markets (Aave, Compound III, Maker auctions, Morpho, the push oracle) in [`lending`],
//!   whose market kind is the next variant.
//! * [`Venue`] is the run's markets and their ledger: the only way the simulation touches
//!   them.

mod close;
mod figures;
mod fund;
mod ledger;
pub mod lending;
mod liquidation;
mod liquidation_map;
mod loss;
mod market;
pub mod perp;
mod trigger;
mod venue;

pub use close::{CloseContext, ForcedClose, KeeperOffer, KeeperReward};
pub use figures::{BorrowerFlows, Leftover};
pub use fund::{EarlyAdl, InsuranceFund};
pub(crate) use ledger::DeficitTaker;
pub use ledger::{Account, Holder, LEDGER_TOLERANCE, Ledger};
pub use liquidation::{
    CloseRule, KeeperParams, LiquidationMode, LiquidationParams, Liquidator, Settlement,
};
pub use liquidation_map::{DistanceBucket, ExposureSide, LiquidationMap, Tally};
pub use loss::{LossSocialization, Socialized};
pub use market::Market;
pub use perp::socialization::{adl_rank, water_filling};
pub use perp::{
    AdlPrice, EngineOrders, FeeParams, Inventory, LiquidationQueue, MarginParams, MarginTier,
    OrderLimit, PerpMarket, Position, PositionBook, SizeCap, Takeover, TradeError, TradeFill,
    Unwound,
};
pub use venue::Venue;
