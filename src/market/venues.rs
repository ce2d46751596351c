//! Other venues' forced flow (MODEL.md section 2): this venue holds a share `s` of the
//! market's open interest, and the liquidations elsewhere that its own forced flow stands for
//! arrive as `beta (1 - s) / s` times its net forced notional in the same step. That flow
//! meets the world's book (its own depth and impact law) and moves the index, fully
//! permanently. Makarov and Schoar (2020): common order flow explains most of BTC's returns,
//! so a venue's liquidations are a sample of the world's.

use super::{Fill, ImpactLaw, ImpactModel};
use crate::params::{ParamError, ParamResult};

/// The most other venues may stand for: 100 times this venue's forced flow (a venue of 1%
/// of open interest, beta 1).
pub const MAX_OTHER_VENUES_MULTIPLIER: f64 = 100.0;

#[derive(Clone, Debug, PartialEq)]
pub struct OtherVenues {
    /// `beta (1 - s) / s`.
    multiplier: f64,
    world: ImpactLaw,
}

impl OtherVenues {
    /// `share` of open interest on this venue, in (0, 1]; `beta` the others' forced flow per
    /// unit of this venue's, scaled by open interest (non-negative); `world` the book the
    /// others' flow meets.
    pub fn new(share: f64, beta: f64, world: ImpactLaw) -> ParamResult<Self> {
        if !(share > 0.0 && share <= 1.0) {
            return Err(ParamError::new(
                "share",
                format!("must be in (0, 1] (this venue's share of open interest), got {share}"),
            ));
        }
        if !(beta.is_finite() && beta >= 0.0) {
            return Err(ParamError::new(
                "beta",
                format!("must be finite and at least 0, got {beta}"),
            ));
        }
        let multiplier = beta * (1.0 - share) / share;
        if multiplier > MAX_OTHER_VENUES_MULTIPLIER {
            return Err(ParamError::new(
                "share",
                format!(
                    "= {share} with beta = {beta} makes the other venues' forced flow \
                     {multiplier:.1} times this venue's, beyond {MAX_OTHER_VENUES_MULTIPLIER}: \
                     model a venue of at least 1% of the market"
                ),
            ));
        }
        Ok(Self { multiplier, world })
    }

    pub fn multiplier(&self) -> f64 {
        self.multiplier
    }

    pub fn world(&self) -> &ImpactLaw {
        &self.world
    }

    /// The others' flow that this venue's net forced flow (buys positive, USD) stands for,
    /// and the log move of the index it makes through the world's book.
    #[inline]
    pub fn index_move(&self, net_forced: f64) -> (f64, f64) {
        if net_forced == 0.0 || self.multiplier == 0.0 {
            return (0.0, 0.0);
        }
        let notional = self.multiplier * net_forced.abs();
        let Fill { impact, .. } = self.world.fill(notional, 1.0);
        (notional, net_forced.signum() * impact)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::market::LinearBook;

    #[test]
    fn the_others_stand_for_beta_times_the_rest_of_the_market() {
        let world = ImpactLaw::Linear(LinearBook::new(1e8).unwrap());
        let v = OtherVenues::new(0.25, 1.0, world.clone()).unwrap();
        // 1M of long liquidations (sells) here stand for 3M elsewhere: 0.03% down.
        let (notional, log_move) = v.index_move(-1e6);
        assert_eq!(notional, 3e6);
        assert!((log_move + 0.0003).abs() < 1e-15);
        assert_eq!(v.index_move(0.0), (0.0, 0.0));
        assert!(OtherVenues::new(0.0, 1.0, world.clone()).is_err());
        assert!(OtherVenues::new(0.001, 1.0, world).is_err());
    }
}
