//! Standardized shocks: unit-variance innovations for the volatility models.

use rand_distr::{Distribution, StandardNormal};

use super::StudentT;
use crate::params::{ParamError, ParamResult};
use rand::Rng;

/// Unit-variance shock distribution.
#[derive(Clone, Debug, PartialEq)]
pub enum Shocks {
    Normal,
    /// Student-t(nu) scaled by `sqrt((nu - 2) / nu)` so that its variance is 1, drawn by
    /// Bailey's polar method ([`StudentT`]).
    StudentT {
        nu: f64,
        dist: StudentT,
        scale: f64,
    },
}

impl Shocks {
    /// Student-t shocks; `nu > 2` so that the variance exists.
    pub fn student_t(nu: f64) -> ParamResult<Self> {
        if !(nu.is_finite() && nu > 2.0) {
            return Err(ParamError::new(
                "nu",
                format!("must be > 2 (finite variance), got {nu}"),
            ));
        }
        let dist = StudentT::new(nu)?;
        Ok(Shocks::StudentT {
            nu,
            dist,
            scale: ((nu - 2.0) / nu).sqrt(),
        })
    }

    #[inline]
    pub fn draw<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match self {
            Shocks::Normal => StandardNormal.sample(rng),
            Shocks::StudentT { dist, scale, .. } => dist.sample(rng) * scale,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Stream, stream_rng};

    /// Sample variance of 200k shocks is 1 within 4 standard errors; the SE of a sample
    /// variance is `sqrt((m4 - 1) / n)` with the fourth moment estimated from the same sample.
    fn check_unit_variance(shocks: &Shocks) {
        let mut rng = stream_rng(7, 0, Stream::Market);
        let n = 200_000;
        let xs: Vec<f64> = (0..n).map(|_| shocks.draw(&mut rng)).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let m2 = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        let m4 = xs.iter().map(|x| (x - mean).powi(4)).sum::<f64>() / n as f64;
        let se = ((m4 - m2 * m2) / n as f64).sqrt();
        assert!((m2 - 1.0).abs() < 4.0 * se, "variance {m2}, se {se}");
    }

    #[test]
    fn normal_has_unit_variance() {
        check_unit_variance(&Shocks::Normal);
    }

    #[test]
    fn student_t_has_unit_variance() {
        // nu = 6 keeps the fourth moment finite so the SE above is meaningful.
        check_unit_variance(&Shocks::student_t(6.0).unwrap());
    }

    #[test]
    fn student_t_needs_nu_above_two() {
        assert_eq!(Shocks::student_t(2.0).unwrap_err().field, "nu");
    }
}
