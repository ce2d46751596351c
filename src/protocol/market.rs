//! The market-kind seam: what the run asks of any market, whatever its kind.
//!
//! A run holds markets of several kinds side by side (perpetual swaps and lending markets),
//! sharing one [`Ledger`]. The liquidation phase asks each the same few things: which
//! positions are due at this price, worst first; what a keeper would earn by taking one; and
//! to close one by force, which returns a [`ForcedClose`] record. The set of kinds is closed
//! and known to the crate, so the seam is an enum dispatched by `match` and the hot loop pays
//! no virtual call. A new kind adds a variant here and its own folder beside `perp/`.
//!
//! A perp market judges positions on the mark it is given; a lending market judges loans on
//! its oracle, which read the market's price at the start of the step (MODEL.md section 14),
//! and ignores the mark where the seam passes one.

use super::lending::LendingMarket;
use super::perp::{CloseContext, KeeperReward, PerpMarket};
use super::{ForcedClose, Ledger, LiquidationParams, Liquidator};
use crate::market::{ImpactLaw, MarkState};

/// One market of a run, of any kind.
#[derive(Clone, Debug)]
pub enum Market {
    Perp(PerpMarket),
    /// Boxed: a lending market carries its oracle and auction state, twice a perp's size.
    Lending(Box<LendingMarket>),
}

impl Market {
    /// Appends to `out` every position liquidatable at `price`, taking each off the market's
    /// queue (it returns with [`Market::requeue`] if it recovers before it is closed).
    #[inline]
    pub fn due(&mut self, price: f64, out: &mut Vec<u32>) {
        match self {
            Market::Perp(p) => p.due(price, out),
            Market::Lending(l) => l.due(out),
        }
    }

    /// Whether trader `i` still holds a position.
    #[inline]
    pub fn is_open(&self, i: u32) -> bool {
        match self {
            Market::Perp(p) => p.is_open(i),
            Market::Lending(l) => l.is_open(i),
        }
    }

    /// Whether trader `i`'s position is liquidatable at `price`.
    #[inline]
    pub fn is_due(&self, i: u32, price: f64) -> bool {
        match self {
            Market::Perp(p) => p.is_due(i, price),
            Market::Lending(l) => l.is_due(i),
        }
    }

    /// Puts a position taken off the queue by [`Market::due`] back on it.
    #[inline]
    pub fn requeue(&mut self, i: u32) {
        match self {
            Market::Perp(p) => p.requeue(i),
            Market::Lending(l) => l.requeue(i),
        }
    }

    /// Orders `ids` worst first at `price` (MODEL.md section 4), ties by trader id.
    #[inline]
    pub fn order_worst_first(&self, ids: &mut [u32], price: f64, keys: &mut Vec<(f64, u32)>) {
        match self {
            Market::Perp(p) => p.order_worst_first(ids, price, keys),
            Market::Lending(l) => l.order_worst_first(ids, keys),
        }
    }

    /// What a keeper could earn by taking trader `i`'s position over now.
    #[inline]
    pub fn keeper_reward(
        &self,
        i: u32,
        price: &MarkState,
        params: &LiquidationParams,
    ) -> KeeperReward {
        match self {
            Market::Perp(p) => p.keeper_reward(i, price, params),
            Market::Lending(l) => l.keeper_reward(i, price),
        }
    }

    /// The slippage a keeper expects to pay selling what it would take from trader `i`.
    #[inline]
    pub fn expected_slippage(&self, i: u32, price: &MarkState, law: &ImpactLaw) -> f64 {
        match self {
            Market::Perp(p) => p.expected_slippage(i, price, law),
            Market::Lending(l) => l.expected_slippage(i, price, law),
        }
    }

    /// Closes trader `i` by force, by `by`.
    #[inline]
    pub fn force_close(
        &mut self,
        ledger: &mut Ledger,
        i: u32,
        by: Liquidator,
        ctx: &mut CloseContext,
    ) -> ForcedClose {
        match self {
            Market::Perp(p) => p.force_close(ledger, i, by, ctx),
            Market::Lending(l) => l.force_close(ledger, i, by, ctx),
        }
    }

    /// The collateral the market's book holds, for the ledger (a lending market's collateral
    /// is units of the asset, outside the USD ledger: none).
    pub fn collateral(&self) -> &[f64] {
        match self {
            Market::Perp(p) => &p.book().collateral,
            Market::Lending(_) => &[],
        }
    }

    /// The debt the market's loans owe, for the ledger (O(borrowers); 0 for a perp market).
    pub fn debt_outstanding(&self) -> f64 {
        match self {
            Market::Perp(_) => 0.0,
            Market::Lending(l) => l.debt_outstanding(),
        }
    }

    /// The run-wide ids of the market's traders.
    pub fn traders(&self) -> std::ops::Range<u32> {
        match self {
            Market::Perp(p) => p.traders(),
            Market::Lending(l) => l.traders(),
        }
    }

    /// The lending market, if this is one.
    pub fn as_lending(&self) -> Option<&LendingMarket> {
        match self {
            Market::Lending(l) => Some(l),
            Market::Perp(_) => None,
        }
    }
}
