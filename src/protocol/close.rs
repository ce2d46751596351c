//! A forced close, whatever the kind of market: what it works with ([`CloseContext`]), what
//! a keeper weighs before taking one ([`KeeperReward`]) and the record it leaves
//! ([`ForcedClose`]). Every kind speaks this vocabulary, so it sits above the kinds' folders.

use super::{LiquidationParams, LossSocialization, Socialized};
use crate::market::{ImpactLaw, MarkState};

/// What a forced close works with besides the position: the rules, the market's price and
/// book, and the step.
pub struct CloseContext<'a> {
    pub params: &'a LiquidationParams,
    pub price: &'a mut MarkState,
    pub law: &'a ImpactLaw,
    pub socialization: LossSocialization,
    pub step: u64,
}

/// What a keeper could earn by taking a position over now, before slippage and its cost.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct KeeperReward {
    /// The position's notional at the mark: the capital the keeper needs.
    pub notional: f64,
    /// The liquidator's share of the penalty the position can still pay.
    pub reward: f64,
}

/// What a keeper expects from acting on a position now, sized as it would act (MODEL.md
/// section 14: a lending keeper sizes each liquidation for profit).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct KeeperOffer {
    /// What it pays for the action (USD): the capital it needs unless flash-funded.
    pub capital: f64,
    /// Its reward less the slippage of selling what it receives and its cost (USD).
    pub profit: f64,
}

/// What one forced close did: the record a market returns for every position it closes by
/// force, read by the run's recorder. Nothing in it depends on the kind of market.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ForcedClose {
    /// Run-wide id of the trader closed.
    pub trader: u32,
    /// The position was long (its close sold).
    pub long: bool,
    /// Nothing of the position is left: its trader may come back later with fresh collateral.
    pub flat: bool,
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
    /// What the keeper made: its share of the penalty, less slippage and cost (0 when the
    /// engine closes).
    pub keeper_profit: f64,
    /// Lending: the collateral seized, at the oracle (USD).
    pub seized_value: f64,
    /// Lending: the protocol's fee, the treasury's share of the bonus, at the market (USD).
    pub protocol_fee: f64,
    /// Lending: the part of the deficit the treasury's first-loss offset paid.
    pub offset_paid: f64,
    /// Lending auctions: the keeper's incentive for a kick or a redo, paid by the fund.
    pub incentive: f64,
    /// Perps: notional (at the mark) the fund or a vault took over, unfilled by the engine's
    /// limited order (part of `notional`).
    pub taken_over: f64,
    /// Perps: the engine's limited order filled nothing and nobody took the position over,
    /// so nothing happened and the position waits for the next step. Never set by a lending
    /// action (a kick closes no notional but is an action).
    pub waits: bool,
}
