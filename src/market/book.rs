//! Liquidity: what a market order of notional `X` costs and how far it pushes the price.

use crate::params::{ParamResult, positive};

/// Price move `k` and average slippage `s` of a market order, both as fractions of the mark.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Fill {
    /// How far the order moves the mark (fraction, against the order).
    pub impact: f64,
    /// How much worse than the mark the order fills on average (fraction).
    pub slippage: f64,
}

/// A liquidity model: the cost of a market order of `notional` USD when the book holds
/// `depth` (in (0, 1]) of its full depth (MODEL.md section 2: market makers withdraw when
/// volatility rises).
pub trait ImpactModel: Send + Sync {
    fn fill(&self, notional: f64, depth: f64) -> Fill;

    /// The fill of an order of `notional` that follows `prior` USD of flow on the same side
    /// in the same step, priced as one metaorder with it: the impact of the whole flow less
    /// what the prior flow already made, and the average walk from the one to the other
    /// (relative to the mark the prior flow left). A linear book's impact is additive, so
    /// its default is [`ImpactModel::fill`].
    #[inline]
    fn fill_after(&self, prior: f64, notional: f64, depth: f64) -> Fill {
        let _ = prior;
        self.fill(notional, depth)
    }

    /// The largest notional whose order moves the price by at most `impact` (infinite for a
    /// book without impact).
    fn notional_for_impact(&self, impact: f64, depth: f64) -> f64;
}

/// Linear order book: `depth_usd` of notional moves the price by 1%, so `k = 0.01 X / D`;
/// the average fill walks half of that, `s = k / 2` (MODEL.md section 2).
#[derive(Clone, Debug, PartialEq)]
pub struct LinearBook {
    depth_usd: f64,
}

impl LinearBook {
    pub fn new(depth_usd: f64) -> ParamResult<Self> {
        Ok(Self {
            depth_usd: usd_in_range("depth_usd", depth_usd)?,
        })
    }
}

impl ImpactModel for LinearBook {
    #[inline]
    fn fill(&self, notional: f64, depth: f64) -> Fill {
        let k = 0.01 * notional / (self.depth_usd * depth);
        Fill {
            impact: k,
            slippage: 0.5 * k,
        }
    }

    fn notional_for_impact(&self, impact: f64, depth: f64) -> f64 {
        impact / 0.01 * self.depth_usd * depth
    }
}

/// Infinite depth: every order fills at the mark and leaves no impact.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NoImpact;

impl ImpactModel for NoImpact {
    #[inline]
    fn fill(&self, _notional: f64, _depth: f64) -> Fill {
        Fill {
            impact: 0.0,
            slippage: 0.0,
        }
    }

    fn notional_for_impact(&self, _impact: f64, _depth: f64) -> f64 {
        f64::INFINITY
    }
}

/// The square-root law of market impact (Almgren et al. 2005; Bouchaud et al. 2018):
/// `k = Y sigma_day sqrt(X / V_day)`, average slippage `s = 2k/3` (MODEL.md section 2).
/// Thinner depth scales the daily volume: `V_day * depth`.
#[derive(Clone, Debug, PartialEq)]
pub struct SqrtImpact {
    y_sigma_day: f64,
    daily_volume_usd: f64,
}

impl SqrtImpact {
    /// `vol` annualized (365-day year); `sigma_day = vol / sqrt(365)`.
    pub fn new(y: f64, vol: f64, daily_volume_usd: f64) -> ParamResult<Self> {
        positive("y", y)?;
        positive("vol", vol)?;
        Ok(Self {
            y_sigma_day: y * vol / 365f64.sqrt(),
            daily_volume_usd: usd_in_range("daily_volume_usd", daily_volume_usd)?,
        })
    }
}

impl ImpactModel for SqrtImpact {
    #[inline]
    fn fill(&self, notional: f64, depth: f64) -> Fill {
        let k = self.y_sigma_day * (notional / (self.daily_volume_usd * depth)).sqrt();
        Fill {
            impact: k,
            slippage: 2.0 * k / 3.0,
        }
    }

    /// `k(F) = c sqrt(F)`: the order moves the price by `c (sqrt(F + X) - sqrt(F))` and
    /// walks, on average, `c [2/3 ((F + X)^1.5 - F^1.5) / X - sqrt(F)]` past the mark the prior
    /// flow `F` left (with `F = 0`, the law's own `k` and `2k/3`). Many small orders of one
    /// step then cost what one order of their sum costs (Bouchaud et al. 2018: the square-root
    /// law holds for the metaorder, not for each child order).
    #[inline]
    fn fill_after(&self, prior: f64, notional: f64, depth: f64) -> Fill {
        if prior <= 0.0 {
            return self.fill(notional, depth);
        }
        let c = self.y_sigma_day / (self.daily_volume_usd * depth).sqrt();
        let (f, g) = (prior.sqrt(), (prior + notional).sqrt());
        let impact = c * (g - f);
        // (g^3 - f^3) / X = (g - f)(g^2 + g f + f^2) / (g^2 - f^2) = (g^2 + g f + f^2) / (g + f):
        // no cancellation when the order is small next to the prior flow.
        let mean_walk = 2.0 / 3.0 * (g * g + g * f + f * f) / (g + f);
        let slippage = (c * (mean_walk - f)).max(0.0);
        Fill { impact, slippage }
    }

    fn notional_for_impact(&self, impact: f64, depth: f64) -> f64 {
        (impact / self.y_sigma_day).powi(2) * self.daily_volume_usd * depth
    }
}

/// The range of [`usd_in_range`].
pub const MIN_BOOK_USD: f64 = 1.0;
pub const MAX_BOOK_USD: f64 = 1e15;

/// A book size in USD from 1 dollar to 1e15: a thinner book turns every fill into an
/// infinite move (a depth of 1e-308 made slippage infinite), a deeper one is no market.
fn usd_in_range(field: &str, usd: f64) -> ParamResult<f64> {
    positive(field, usd)?;
    if (MIN_BOOK_USD..=MAX_BOOK_USD).contains(&usd) {
        Ok(usd)
    } else {
        Err(crate::params::ParamError::new(
            field,
            format!("must be from {MIN_BOOK_USD} to {MAX_BOOK_USD:e} USD, got {usd:e}"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn square_root_impact_quadruples_volume_to_double_impact() {
        let b = SqrtImpact::new(1.0, 0.8, 2e9).unwrap();
        let f = b.fill(2e7, 1.0);
        let k = 0.8 / 365f64.sqrt() * 0.1;
        assert!((f.impact - k).abs() < 1e-15 && (f.slippage - 2.0 * k / 3.0).abs() < 1e-15);
        assert!((b.fill(8e7, 1.0).impact - 2.0 * k).abs() < 1e-15);
        // Half the depth is a quarter of... half the volume: impact times sqrt(2).
        assert!((b.fill(2e7, 0.5).impact - k * 2f64.sqrt()).abs() < 1e-15);
        let x = b.notional_for_impact(0.005, 0.5);
        assert!((b.fill(x, 0.5).impact - 0.005).abs() < 1e-15);
        let l = LinearBook::new(20e6).unwrap();
        assert!((l.fill(l.notional_for_impact(0.003, 0.2), 0.2).impact - 0.003).abs() < 1e-15);
    }

    /// Priced on the step's flow, ten orders cost what their sum costs in one: the impacts
    /// add up to the sum's, and the slippage paid on them to the sum's.
    #[test]
    fn child_orders_of_one_step_cost_what_their_sum_costs() {
        let b = SqrtImpact::new(1.0, 0.8, 2e9).unwrap();
        let one = b.fill(1e7, 0.7);
        let (mut impact, mut paid) = (0.0, 0.0);
        for k in 0..10 {
            let f = b.fill_after(1e6 * k as f64, 1e6, 0.7);
            // Paid relative to the mark the earlier orders left: impact so far plus the walk.
            paid += 1e6 * (impact + f.slippage);
            impact += f.impact;
        }
        assert!((impact / one.impact - 1.0).abs() < 1e-12);
        assert!((paid / (1e7 * one.slippage) - 1.0).abs() < 1e-12);
        let l = LinearBook::new(20e6).unwrap();
        assert_eq!(l.fill_after(5e6, 1e6, 1.0), l.fill(1e6, 1.0));
    }

    #[test]
    fn linear_book_moves_one_percent_per_depth() {
        let b = LinearBook::new(20e6).unwrap();
        let f = b.fill(20e6, 1.0);
        assert!((b.fill(10e6, 0.5).impact - 0.01).abs() < 1e-15);
        assert!((f.impact - 0.01).abs() < 1e-15);
        assert!((f.slippage - 0.005).abs() < 1e-15);
        assert!(LinearBook::new(0.0).is_err());
    }
}
