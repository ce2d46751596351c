//! Traders: the initial population (MODEL.md section 3) and the strategies that decide at
//! Poisson decision times.
//!
//! A [`Strategy`] is asked only at its trader's decision times, drawn from an exponential
//! clock of rate [`Strategy::decisions_per_hour`], so cost grows with decisions, not with
//! traders x steps. Static traders have rate 0 and are never asked.

mod distribution;
mod population;

pub use distribution::PositiveDistribution;
pub use population::{InitialPosition, PopulationParams};

use crate::simulation::SimRng;

/// What a trader sees when it decides.
#[derive(Clone, Copy, Debug)]
pub struct TraderView {
    pub collateral: f64,
    pub size: f64,
    pub entry: f64,
}

/// What the market looks like when a trader decides.
#[derive(Clone, Copy, Debug)]
pub struct MarketView {
    pub step: u64,
    pub mark: f64,
    pub index: f64,
}

/// A trader's decision.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Order {
    Hold,
    /// Trade to this signed position (base units); the venue checks margin and charges fees.
    TargetSize(f64),
}

/// A behavioral rule. Implementations hold parameters only; per-trader state lives in the
/// simulation's arrays so that a population stays a struct of arrays.
pub trait Strategy: Send + Sync {
    /// Poisson rate of decisions per hour; 0 means the trader never decides after t = 0.
    fn decisions_per_hour(&self) -> f64;

    /// The trader's order at one of its decision times.
    fn decide(&self, me: &TraderView, market: &MarketView, rng: &mut SimRng) -> Order;
}

/// Opens once at t = 0 and never trades again (MODEL.md section 3).
#[derive(Clone, Copy, Debug, Default)]
pub struct Static;

impl Strategy for Static {
    fn decisions_per_hour(&self) -> f64 {
        0.0
    }

    fn decide(&self, _: &TraderView, _: &MarketView, _: &mut SimRng) -> Order {
        Order::Hold
    }
}
