//! Heston (1993) stochastic volatility: `dv = kappa (theta - v) dt + xi sqrt(v) dW_v`,
//! `d ln S = (mu - v/2) dt + sqrt(v) dW_S`, `corr(dW_S, dW_v) = rho` (MODEL.md section 1).
//!
//! Discretized by full-truncation Euler (Lord, Koekkoek and van Dijk 2010) with sub-steps:
//! the variance process may dip below zero between sub-steps, but only its positive part
//! `v+` ever enters the drift, the diffusion or the returns, so the variance used is never
//! negative and the scheme converges.

use rand_distr::{Distribution, StandardNormal};

use super::{Horizon, PriceModel, SECONDS_PER_YEAR};
use crate::params::{ParamError, ParamResult, finite, non_negative, positive};
use rand::Rng;

#[derive(Clone, Debug, PartialEq)]
pub struct HestonParams {
    v0: f64,
    theta: f64,
    kappa: f64,
    xi: f64,
    rho: f64,
    rho_bar: f64,
    drift: f64,
    h: f64,
    substeps: u32,
}

impl HestonParams {
    /// The horizon's rules, checked before [`Self::new`]: both vols at four standard
    /// deviations, and the drift of the long run (the variance reverts to the long run's: its
    /// drift is the long run's drift).
    pub fn check_horizon(
        initial_vol: f64,
        long_run_vol: f64,
        drift: f64,
        horizon: &Horizon,
    ) -> Result<(), ParamError> {
        horizon.check_vol("initial_vol", initial_vol)?;
        horizon.check_vol("long_run_vol", long_run_vol)?;
        horizon.check_drift("drift", drift - 0.5 * long_run_vol * long_run_vol)
    }

    /// Vols annualized (`initial_vol`, `long_run_vol`, so `v0 = initial_vol^2` and
    /// `theta = long_run_vol^2`), `kappa` the mean reversion per year, `xi` the vol of variance,
    /// `rho` the correlation of price and variance shocks, `substeps` Euler steps per step.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        initial_vol: f64,
        long_run_vol: f64,
        kappa: f64,
        xi: f64,
        rho: f64,
        drift: f64,
        substeps: u32,
        dt_seconds: f64,
    ) -> ParamResult<Self> {
        non_negative("initial_vol", initial_vol)?;
        positive("long_run_vol", long_run_vol)?;
        positive("kappa", kappa)?;
        non_negative("xi", xi)?;
        finite("rho", rho)?;
        if !(-1.0..=1.0).contains(&rho) {
            return Err(ParamError::new(
                "rho",
                format!("must be in [-1, 1], got {rho}"),
            ));
        }
        finite("drift", drift)?;
        if substeps == 0 {
            return Err(ParamError::new("substeps", "must be >= 1, got 0"));
        }
        let dt = positive("dt_seconds", dt_seconds)? / SECONDS_PER_YEAR;
        Ok(Self {
            v0: initial_vol * initial_vol,
            theta: long_run_vol * long_run_vol,
            kappa,
            xi,
            rho,
            rho_bar: (1.0 - rho * rho).sqrt(),
            drift,
            h: dt / substeps as f64,
            substeps,
        })
    }

    /// `E[v_t] = theta + (v0 - theta) exp(-kappa t)`, t in years.
    pub fn expected_variance(&self, t: f64) -> f64 {
        self.theta + (self.v0 - self.theta) * (-self.kappa * t).exp()
    }
}

/// Heston state: the (possibly negative, never used as such) variance.
#[derive(Clone, Debug)]
pub struct Heston {
    p: HestonParams,
    v: f64,
}

impl Heston {
    pub fn new(p: &HestonParams) -> Self {
        Self {
            v: p.v0,
            p: p.clone(),
        }
    }

    /// The variance the model uses now: the positive part of the state, annualized.
    pub fn variance(&self) -> f64 {
        self.v.max(0.0)
    }
}

impl PriceModel for Heston {
    #[inline]
    fn next_log_return<R: Rng + ?Sized>(&mut self, rng: &mut R) -> f64 {
        let p = &self.p;
        let sqrt_h = p.h.sqrt();
        let mut r = 0.0;
        for _ in 0..p.substeps {
            let z1: f64 = StandardNormal.sample(rng);
            let z2: f64 = StandardNormal.sample(rng);
            let vp = self.v.max(0.0);
            let sv = vp.sqrt() * sqrt_h;
            r += (p.drift - 0.5 * vp) * p.h + sv * (p.rho * z1 + p.rho_bar * z2);
            self.v += p.kappa * (p.theta - vp) * p.h + p.xi * sv * z1;
        }
        r
    }

    /// The step's price shocks are the sub-step normals `w_k` conditioned on
    /// `sum w_k = sqrt(n) shock` (drawn one after another from the conditional law, so nothing
    /// is allocated): they are iid N(0, 1) again, and their sum is the given shock. Each
    /// variance shock is `rho w_k + sqrt(1 - rho^2) z_k`.
    fn next_log_return_driven<R: Rng + ?Sized>(&mut self, shock: f64, rng: &mut R) -> f64 {
        let p = &self.p;
        let sqrt_h = p.h.sqrt();
        let n = p.substeps;
        let mut left = shock * (n as f64).sqrt();
        let mut r = 0.0;
        for k in 0..n {
            let m = (n - k) as f64;
            let w = if k + 1 == n {
                left
            } else {
                let u: f64 = StandardNormal.sample(rng);
                left / m + ((m - 1.0) / m).sqrt() * u
            };
            left -= w;
            let z: f64 = StandardNormal.sample(rng);
            let vp = self.v.max(0.0);
            let sv = vp.sqrt() * sqrt_h;
            r += (p.drift - 0.5 * vp) * p.h + sv * w;
            self.v += p.kappa * (p.theta - vp) * p.h + p.xi * sv * (p.rho * w + p.rho_bar * z);
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Stream, stream_rng};
    use crate::stats::Moments;

    /// Driven by an outside shock, the sub-step price shocks add up to it: with constant
    /// variance (`xi = 0`, `v0 = theta`) the step's log return is exactly
    /// `-v dt / 2 + sqrt(v dt) shock`, whatever the sub-steps drew.
    #[test]
    fn a_driven_step_returns_the_given_shock() {
        let p = HestonParams::new(0.6, 0.6, 2.0, 0.0, -0.5, 0.0, 8, 3_600.0).unwrap();
        let dt = 3_600.0 / SECONDS_PER_YEAR;
        let mut m = Heston::new(&p);
        let mut rng = stream_rng(8, 0, Stream::Market);
        for shock in [-2.5, 0.0, 0.7] {
            let r = m.next_log_return_driven(shock, &mut rng);
            let want = -0.5 * 0.36 * dt + (0.36 * dt).sqrt() * shock;
            assert!((r - want).abs() < 1e-12, "{r} vs {want}");
        }
    }

    #[test]
    fn mean_variance_reverts_as_the_closed_form_says() {
        let dt = 3_600.0;
        let steps = 24 * 30;
        let p = HestonParams::new(0.5, 0.8, 3.0, 1.0, -0.6, 0.0, 4, dt).unwrap();
        let t = steps as f64 * dt / SECONDS_PER_YEAR;
        let mut rng = stream_rng(23, 0, Stream::Market);
        let v: Moments = (0..4_000)
            .map(|_| {
                let mut m = Heston::new(&p);
                for _ in 0..steps {
                    m.next_log_return(&mut rng);
                }
                m.variance()
            })
            .collect();
        let expected = p.expected_variance(t);
        let got = v.mean().unwrap();
        assert!(
            (got - expected).abs() < 4.0 * v.std_error().unwrap(),
            "E[v_t] {got} vs {expected}"
        );
        // And it did move: the start is far from the answer.
        assert!((0.25 - expected).abs() > 10.0 * v.std_error().unwrap());
    }

    /// With a vol of variance far beyond the Feller condition (2 kappa theta < xi^2), the
    /// state dips below zero, but the variance the model uses never does and returns stay
    /// finite.
    #[test]
    fn variance_in_use_is_never_negative() {
        let p = HestonParams::new(0.2, 0.3, 1.0, 3.0, 0.0, 0.0, 2, 3_600.0).unwrap();
        let mut rng = stream_rng(29, 0, Stream::Market);
        let mut dipped = false;
        for _ in 0..200 {
            let mut m = Heston::new(&p);
            for _ in 0..500 {
                let r = m.next_log_return(&mut rng);
                assert!(r.is_finite());
                assert!(m.variance() >= 0.0);
                dipped |= m.v < 0.0;
            }
        }
        assert!(dipped, "the test should push the state below zero");
    }

    #[test]
    fn rejects_correlation_outside_unit_interval() {
        let e = HestonParams::new(0.5, 0.8, 3.0, 1.0, 1.5, 0.0, 4, 60.0).unwrap_err();
        assert_eq!(e.field, "rho");
    }

    #[test]
    fn the_horizon_checks_both_vols_and_the_long_run_drift() {
        let year = Horizon {
            dt: 3_600.0,
            steps: 8_760,
            path: "market.model",
        };
        assert!(HestonParams::check_horizon(0.8, 0.6, 0.0, &year).is_ok());
        let e = HestonParams::check_horizon(80.0, 0.6, 0.0, &year).unwrap_err();
        assert_eq!(e.field, "market.model.initial_vol");
        let e = HestonParams::check_horizon(0.8, 60.0, 0.0, &year).unwrap_err();
        assert_eq!(e.field, "market.model.long_run_vol");
        let e = HestonParams::check_horizon(0.8, 0.6, 65.0, &year).unwrap_err();
        assert_eq!(e.field, "market.model.drift");
    }
}
