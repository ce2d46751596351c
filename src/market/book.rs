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

/// A liquidity model: the cost of a market order of `notional` USD.
pub trait ImpactModel: Send + Sync {
    fn fill(&self, notional: f64) -> Fill;
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
            depth_usd: positive("depth_usd", depth_usd)?,
        })
    }
}

impl ImpactModel for LinearBook {
    #[inline]
    fn fill(&self, notional: f64) -> Fill {
        let k = 0.01 * notional / self.depth_usd;
        Fill {
            impact: k,
            slippage: 0.5 * k,
        }
    }
}

/// Infinite depth: every order fills at the mark and leaves no impact.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NoImpact;

impl ImpactModel for NoImpact {
    #[inline]
    fn fill(&self, _notional: f64) -> Fill {
        Fill {
            impact: 0.0,
            slippage: 0.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_book_moves_one_percent_per_depth() {
        let b = LinearBook::new(20e6).unwrap();
        let f = b.fill(20e6);
        assert!((f.impact - 0.01).abs() < 1e-15);
        assert!((f.slippage - 0.005).abs() < 1e-15);
        assert!(LinearBook::new(0.0).is_err());
    }
}
