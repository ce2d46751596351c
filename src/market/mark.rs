//! The venue's mark: `P = S exp(I)`, where `I` is the impact of the venue's own forced flow.
//!
//! `I` decays toward 0 with a half-life (arbitrageurs pull the mark back to the index); a share
//! `permanent` of each impact moves the index itself instead (MODEL.md section 2).
//!
//! Departure from the letter of MODEL.md: impacts and slippage are applied multiplicatively,
//! `P' = P exp(-k)` and fill `x = P exp(-s)` for a sell, instead of `P (1 - k)` and `P (1 - s)`.
//! The two agree to first order for the small `k` of real books, and the exponential form keeps
//! prices positive when a huge order meets a thin book.

use super::{Fill, ImpactModel};
use crate::params::{ParamResult, positive, unit_interval};

/// Direction of a market order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Buy,
    Sell,
}

impl Side {
    /// +1 for a buy (pushes the price up), -1 for a sell.
    #[inline]
    pub fn sign(self) -> f64 {
        match self {
            Side::Buy => 1.0,
            Side::Sell => -1.0,
        }
    }
}

/// Index and impact of one market.
#[derive(Clone, Debug)]
pub struct MarkState {
    index: f64,
    log_impact: f64,
    decay_per_step: f64,
    permanent: f64,
}

impl MarkState {
    pub fn new(
        s0: f64,
        impact_half_life_minutes: f64,
        permanent: f64,
        dt_seconds: f64,
    ) -> ParamResult<Self> {
        positive("s0", s0)?;
        let hl = 60.0 * positive("impact_half_life_minutes", impact_half_life_minutes)?;
        unit_interval("permanent_impact", permanent)?;
        Ok(Self {
            index: s0,
            log_impact: 0.0,
            decay_per_step: (-std::f64::consts::LN_2 * dt_seconds / hl).exp(),
            permanent,
        })
    }

    #[inline]
    pub fn index(&self) -> f64 {
        self.index
    }

    #[inline]
    pub fn mark(&self) -> f64 {
        self.index * self.log_impact.exp()
    }

    /// Moves the index by one step's log return and lets the impact decay.
    #[inline]
    pub fn advance(&mut self, log_return: f64) {
        self.index *= log_return.exp();
        self.log_impact *= self.decay_per_step;
    }

    /// Executes a market order of `notional` (USD at the mark) against the book: returns the
    /// average fill price and moves the mark for whatever comes next.
    #[inline]
    pub fn execute(&mut self, side: Side, notional: f64, book: &dyn ImpactModel) -> f64 {
        let mark = self.mark();
        let Fill { impact, slippage } = book.fill(notional);
        let sign = side.sign();
        let fill_price = mark * (sign * slippage).exp();
        let temporary = impact * (1.0 - self.permanent);
        self.log_impact += sign * temporary;
        self.index *= (sign * impact * self.permanent).exp();
        fill_price
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::market::LinearBook;

    #[test]
    fn impact_decays_with_half_life() {
        let book = LinearBook::new(1e6).unwrap();
        let mut m = MarkState::new(100.0, 10.0, 0.0, 60.0).unwrap();
        let x = m.execute(Side::Sell, 1e6, &book);
        assert!((x - 100.0 * (-0.005f64).exp()).abs() < 1e-12);
        assert!((m.mark() - 100.0 * (-0.01f64).exp()).abs() < 1e-12);
        for _ in 0..10 {
            m.advance(0.0);
        }
        // Ten steps of 60 s is one half-life.
        assert!((m.mark().ln() - 100f64.ln() + 0.005).abs() < 1e-12);
        assert_eq!(m.index(), 100.0);
    }

    #[test]
    fn permanent_share_moves_the_index() {
        let book = LinearBook::new(1e6).unwrap();
        let mut m = MarkState::new(100.0, 10.0, 0.25, 60.0).unwrap();
        m.execute(Side::Buy, 1e6, &book);
        assert!((m.index() - 100.0 * 0.0025f64.exp()).abs() < 1e-12);
        assert!((m.mark() - 100.0 * 0.01f64.exp()).abs() < 1e-12);
    }
}
