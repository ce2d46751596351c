//! The population at t = 0: collateral, leverage (capped at `1 / imr`) and side per trader.

use rand::RngExt;

use super::{PositiveDistribution, Static, Strategy};
use crate::params::{ParamError, ParamResult, unit_interval};
use crate::simulation::SimRng;

#[derive(Clone, Debug)]
pub struct PopulationParams {
    count: u32,
    collateral: PositiveDistribution,
    leverage: PositiveDistribution,
    long_share: f64,
    strategy: std::sync::Arc<dyn Strategy>,
}

impl std::fmt::Debug for dyn Strategy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Strategy({} decisions/h)", self.decisions_per_hour())
    }
}

/// One trader's account at t = 0.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct InitialPosition {
    pub collateral: f64,
    /// Signed size in base units.
    pub size: f64,
}

impl PopulationParams {
    pub fn new(
        count: u64,
        collateral: PositiveDistribution,
        leverage: PositiveDistribution,
        long_share: f64,
    ) -> ParamResult<Self> {
        if count == 0 || count > u32::MAX as u64 {
            return Err(ParamError::new(
                "count",
                format!("must be between 1 and {}, got {count}", u32::MAX),
            ));
        }
        Ok(Self {
            count: count as u32,
            collateral,
            leverage,
            long_share: unit_interval("long_share", long_share)?,
            strategy: std::sync::Arc::new(Static),
        })
    }

    pub fn count(&self) -> u32 {
        self.count
    }

    pub fn strategy(&self) -> &dyn Strategy {
        &*self.strategy
    }

    /// The same population following another strategy (the experiment file offers only
    /// `static` so far; this is the seam the other strategies plug into).
    pub fn with_strategy(mut self, strategy: std::sync::Arc<dyn Strategy>) -> Self {
        self.strategy = strategy;
        self
    }

    /// Draws trader `i`'s account; leverage is capped at `max_leverage`, positions open at
    /// `price`. Draw order is fixed (collateral, leverage, side) so populations repeat exactly.
    pub fn draw(&self, rng: &mut SimRng, price: f64, max_leverage: f64) -> InitialPosition {
        let collateral = self.collateral.sample(rng);
        let leverage = self.leverage.sample(rng).min(max_leverage);
        let long = rng.random::<f64>() < self.long_share;
        let size = leverage * collateral / price;
        InitialPosition {
            collateral,
            size: if long { size } else { -size },
        }
    }
}
