//! The protocol: margin, liquidation, insurance fund, loss socialization and the ledger.
//!
//! [`Venue`] is one perpetual-swap market's protocol state. Everything that moves money goes
//! through [`Venue::transfer`] between named [`Account`]s, so the ledger of MODEL.md section 7
//! can be audited at any moment. Liquidation is split into the mode (who closes: the engine
//! now, keepers later) and the close rule (full now, partial later); loss socialization is a
//! trait. A lending market can sit beside `Venue` with its own book and share the fund, the
//! ledger and the socialization seam.

mod book;
mod fund;
mod liquidation;
mod margin;
mod queue;
mod socialization;
mod venue;

pub use book::PositionBook;
pub use fund::InsuranceFund;
pub use liquidation::{
    CloseRule, KeeperParams, Liquidation, LiquidationMode, LiquidationParams, Liquidator,
};
pub use margin::MarginParams;
pub use queue::LiquidationQueue;
pub use socialization::{
    Adl, LossSocialization, NoSocialization, ProRata, RiskBased, Socialized, adl_rank,
    water_filling,
};
pub use venue::{Account, FeeParams, LEDGER_TOLERANCE, TradeError, TradeFill, Venue};
