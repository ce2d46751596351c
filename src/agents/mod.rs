//! Traders: the initial population (MODEL.md section 3) and the strategies that decide at
//! Poisson decision times.
//!
//! A [`Strategy`] is asked only at its trader's decision times, drawn from an exponential
//! clock whose rate each trader draws from its group's distribution, so cost grows with
//! decisions, not with traders x steps. Static traders have rate 0 and are never asked.

mod distribution;
mod population;
mod strategies;

pub use distribution::PositiveDistribution;
pub use population::{InitialPosition, PopulationParams, Reentry, StrategyGroup};
pub use strategies::{MarginDefender, Noise, Panic, Trend};

use crate::rng::SimRng;

/// What a trader sees when it decides.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TraderView {
    pub collateral: f64,
    pub size: f64,
    pub entry: f64,
    /// Money it holds outside the venue and can add as collateral.
    pub reserve: f64,
    /// Highest equity seen at its decision times (and at t = 0).
    pub peak_equity: f64,
    /// The leverage it opened with at t = 0, which it uses again when it opens.
    pub target_leverage: f64,
}

impl TraderView {
    /// `E = C + q (P - e)`.
    pub fn equity(&self, mark: f64) -> f64 {
        self.collateral + self.size * (mark - self.entry)
    }
}

/// What the market looks like when a trader decides.
#[derive(Clone, Copy, Debug)]
pub struct MarketView<'a> {
    pub step: u64,
    pub mark: f64,
    pub index: f64,
    pub imr: f64,
    pub mmr: f64,
    /// The values of the strategy's [`Strategy::indicators`], in its order.
    pub signals: &'a [f64],
}

/// A market signal a strategy reads; the simulation keeps one per market and asks nothing of
/// strategies that read none.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Indicator {
    /// Exponential moving average of the mark with time constant `minutes`.
    MarkEma { minutes: f64 },
    /// Notional of `side` positions liquidated in the market over the last `minutes` (this
    /// step included). Kept per side because a long squeeze and a short squeeze frighten
    /// different traders.
    LiquidatedNotional { minutes: f64, side: Side },
}

/// The side of a position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Long,
    Short,
}

/// A trader's decision.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Order {
    Hold,
    /// Trade to this signed position (base units); the venue checks margin and charges fees.
    TargetSize(f64),
    /// Move this much from the trader's reserve into its collateral.
    TopUp(f64),
}

/// A behavioral rule. Implementations hold parameters only; per-trader state lives in the
/// simulation's arrays so that a population stays a struct of arrays.
pub trait Strategy: Send + Sync {
    /// The market signals it reads, handed over in this order as [`MarketView::signals`].
    fn indicators(&self) -> Vec<Indicator> {
        Vec::new()
    }

    /// The trader's order at one of its decision times.
    fn decide(&self, me: &TraderView, market: &MarketView, rng: &mut SimRng) -> Order;
}

/// Opens once at t = 0 and never trades again (MODEL.md section 3).
#[derive(Clone, Copy, Debug, Default)]
pub struct Static;

impl Strategy for Static {
    fn decide(&self, _: &TraderView, _: &MarketView, _: &mut SimRng) -> Order {
        Order::Hold
    }
}
