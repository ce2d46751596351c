//! Traders: the initial population (MODEL.md section 3) and the strategies that decide at
//! Poisson decision times.
//!
//! A [`Strategy`] is asked only at its trader's decision times, drawn from an exponential
//! clock whose rate each trader draws from its group's distribution, so cost grows with
//! decisions, not with traders x steps. Static traders have rate 0 and are never asked.

mod distribution;
mod population;
mod strategies;
mod threshold;

pub use distribution::PositiveDistribution;
pub use population::{
    DrawnAccount, InitialPosition, PopulationParams, Reentry, StrategyGroup, collateral_scale,
    side_scale,
};
pub use strategies::{Herding, MarginDefender, Noise, Panic, Trend};
pub use threshold::ThresholdLaw;

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
    /// Its private threshold ([`Strategy::threshold_law`]; 0 for strategies without one).
    pub threshold: f64,
    /// The position it is de-risking to, once it has decided to ([`Order::DeRisk`]).
    pub derisk_target: Option<f64>,
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
    /// The herding signal of MODEL.md section 3: all de-risking notional over the last
    /// `minutes` (liquidations of both sides, ADL, voluntary closes and reductions), over the
    /// market's open interest at t = 0.
    DeRiskingShare { minutes: f64 },
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
    /// De-risk: trade to this signed position, now and at later decisions until it is held
    /// (the simulation keeps it as [`TraderView::derisk_target`] and counts the trader as
    /// de-risked once).
    DeRisk(f64),
}

/// A behavioral rule. Implementations hold parameters only; per-trader state lives in the
/// simulation's arrays so that a population stays a struct of arrays.
pub trait Strategy: Send + Sync {
    /// The market signals it reads, handed over in this order as [`MarketView::signals`].
    fn indicators(&self) -> Vec<Indicator> {
        Vec::new()
    }

    /// The law each trader of this strategy draws a private threshold from at t = 0, if it
    /// has one (herding).
    fn threshold_law(&self) -> Option<ThresholdLaw> {
        None
    }

    /// Whether its orders, over a whole run, are bounded by the position it held at t = 0
    /// (it only closes, or closes and turns once), so that they cannot feed on themselves
    /// through permanent impact the way a strategy that keeps re-opening can.
    fn bounded_by_position(&self) -> bool {
        false
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
