//! Margin rules (MODEL.md section 3): opening needs `E >= imr N` afterwards; a position is
//! liquidatable when `E < mmr N`.

use crate::params::{ParamError, ParamResult, positive};

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MarginParams {
    imr: f64,
    mmr: f64,
}

impl MarginParams {
    /// `0 < mmr < imr <= 1`.
    pub fn new(imr: f64, mmr: f64) -> ParamResult<Self> {
        positive("imr", imr)?;
        positive("mmr", mmr)?;
        if imr > 1.0 {
            return Err(ParamError::new("imr", format!("must be <= 1, got {imr}")));
        }
        if mmr >= imr {
            return Err(ParamError::new(
                "mmr",
                format!(
                    "must be < imr (maintenance below initial margin), got mmr {mmr} >= imr {imr}"
                ),
            ));
        }
        Ok(Self { imr, mmr })
    }

    pub fn imr(&self) -> f64 {
        self.imr
    }

    pub fn mmr(&self) -> f64 {
        self.mmr
    }

    /// Highest leverage an opening trade may take: `1 / imr`.
    pub fn max_leverage(&self) -> f64 {
        1.0 / self.imr
    }

    /// `E < mmr N`.
    #[inline]
    pub fn is_liquidatable(&self, equity: f64, notional: f64) -> bool {
        notional > 0.0 && equity < self.mmr * notional
    }

    /// The mark at which a position with collateral `c`, size `q` and entry `e` becomes
    /// liquidatable, solving `c + q (P - e) = mmr |q| P`:
    /// long `P = (q e - c) / (q (1 - mmr))` (liquidatable below), short
    /// `P = (c + |q| e) / (|q| (1 + mmr))` (liquidatable above). `None` when flat, or for a long
    /// so well collateralized that no positive price liquidates it.
    #[inline]
    pub fn liquidation_price(&self, c: f64, q: f64, e: f64) -> Option<f64> {
        if q > 0.0 {
            let p = (q * e - c) / (q * (1.0 - self.mmr));
            (p > 0.0).then_some(p)
        } else if q < 0.0 {
            let a = -q;
            Some((c + a * e) / (a * (1.0 + self.mmr)))
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn liquidation_price_solves_the_maintenance_equation() {
        let m = MarginParams::new(0.02, 0.01).unwrap();
        for &(c, q, e) in &[(1000.0, 1.0, 30_000.0), (1000.0, -1.0, 30_000.0)] {
            let p = m.liquidation_price(c, q, e).unwrap();
            let equity = c + q * (p - e);
            let notional: f64 = q.abs() * p;
            assert!((equity - m.mmr() * notional).abs() < 1e-9 * notional);
            // Just past the price it is liquidatable, just before it is not.
            let past = if q > 0.0 {
                p * (1.0 - 1e-9)
            } else {
                p * (1.0 + 1e-9)
            };
            let before = if q > 0.0 {
                p * (1.0 + 1e-9)
            } else {
                p * (1.0 - 1e-9)
            };
            assert!(m.is_liquidatable(c + q * (past - e), q.abs() * past));
            assert!(!m.is_liquidatable(c + q * (before - e), q.abs() * before));
        }
        // A 1x long cannot be liquidated at any positive price when mmr < 1.
        assert_eq!(m.liquidation_price(30_000.0, 1.0, 30_000.0), None);
    }

    #[test]
    fn mmr_must_be_below_imr() {
        let e = MarginParams::new(0.01, 0.01).unwrap_err();
        assert_eq!(e.field, "mmr");
        assert!(e.rule.contains("< imr"));
    }
}
