//! Geometric Brownian motion: `r = (mu - sigma^2 / 2) dt + sigma sqrt(dt) z`.

use rand_distr::{Distribution, StandardNormal};

use super::{Horizon, PriceModel, SECONDS_PER_YEAR};
use crate::params::{ParamError, ParamResult, finite, non_negative, positive};
use rand::Rng;

#[derive(Clone, Debug, PartialEq)]
pub struct GbmParams {
    drift_per_step: f64,
    vol_per_step: f64,
}

impl GbmParams {
    /// The horizon's rules for `vol` and `drift`, checked before [`Self::new`]: four
    /// standard deviations of the diffusion, and the drift net of its variance correction.
    pub fn check_horizon(vol: f64, drift: f64, horizon: &Horizon) -> Result<(), ParamError> {
        horizon.check_vol("vol", vol)?;
        horizon.check_drift("drift", drift - 0.5 * vol * vol)
    }

    /// `vol` and `drift` annualized, `dt_seconds` the step.
    pub fn new(vol: f64, drift: f64, dt_seconds: f64) -> ParamResult<Self> {
        non_negative("vol", vol)?;
        finite("drift", drift)?;
        let dt = positive("dt_seconds", dt_seconds)? / SECONDS_PER_YEAR;
        Ok(Self {
            drift_per_step: (drift - 0.5 * vol * vol) * dt,
            vol_per_step: vol * dt.sqrt(),
        })
    }

    pub fn step_vol(&self) -> f64 {
        self.vol_per_step
    }

    pub fn step_drift(&self) -> f64 {
        self.drift_per_step
    }
}

/// GBM holds no state beyond its parameters.
#[derive(Clone, Debug)]
pub struct Gbm {
    p: GbmParams,
}

impl Gbm {
    pub fn new(p: &GbmParams) -> Self {
        Self { p: p.clone() }
    }
}

impl PriceModel for Gbm {
    #[inline]
    fn next_log_return<R: Rng + ?Sized>(&mut self, rng: &mut R) -> f64 {
        let z: f64 = StandardNormal.sample(rng);
        self.p.drift_per_step + self.p.vol_per_step * z
    }

    #[inline]
    fn next_log_return_driven<R: Rng + ?Sized>(&mut self, z: f64, _rng: &mut R) -> f64 {
        self.p.drift_per_step + self.p.vol_per_step * z
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Stream, stream_rng};

    #[test]
    fn log_returns_have_the_configured_mean_and_variance() {
        let p = GbmParams::new(0.8, 0.1, 60.0).unwrap();
        let mut m = Gbm::new(&p);
        let mut rng = stream_rng(3, 0, Stream::Market);
        let n = 400_000;
        let xs: Vec<f64> = (0..n).map(|_| m.next_log_return(&mut rng)).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        let s2 = p.step_vol().powi(2);
        // SE of the mean is sigma / sqrt(n); of the variance, sigma^2 sqrt(2 / (n - 1)).
        assert!((mean - p.step_drift()).abs() < 4.0 * p.step_vol() / (n as f64).sqrt());
        assert!((var - s2).abs() < 4.0 * s2 * (2.0 / (n - 1) as f64).sqrt());
    }

    #[test]
    fn rejects_negative_vol() {
        assert_eq!(GbmParams::new(-0.1, 0.0, 60.0).unwrap_err().field, "vol");
    }

    /// A year of hours, for the horizon's rules.
    const YEAR: Horizon<'static> = Horizon {
        dt: 3_600.0,
        steps: 8_760,
        path: "market.model",
    };

    #[test]
    fn the_horizon_refuses_a_vol_then_a_drift_out_of_range() {
        assert!(GbmParams::check_horizon(0.8, 0.05, &YEAR).is_ok());
        let e = GbmParams::check_horizon(80.0, 0.0, &YEAR).unwrap_err();
        assert_eq!(e.field, "market.model.vol");
        let e = GbmParams::check_horizon(0.8, 65.0, &YEAR).unwrap_err();
        assert_eq!(e.field, "market.model.drift");
    }
}
