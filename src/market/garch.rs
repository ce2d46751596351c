//! GARCH(1,1) (Bollerslev 1986): `h_t = omega + alpha e_{t-1}^2 + beta h_{t-1}`,
//! `e_t = sqrt(h_t) z_t`, parameterized by the annualized long-run vol as in MODEL.md section 1:
//! `omega = sigma_inf^2 dt (1 - alpha - beta)`.

use super::{Horizon, PriceModel, SECONDS_PER_YEAR, Shocks};
use crate::params::{ParamError, ParamResult, finite, non_negative, positive};
use rand::Rng;

#[derive(Clone, Debug, PartialEq)]
pub struct GarchParams {
    omega: f64,
    alpha: f64,
    beta: f64,
    h0: f64,
    drift_per_step: f64,
    shocks: Shocks,
}

impl GarchParams {
    /// The horizon's rules, checked before [`Self::new`]: both vols at four standard
    /// deviations, and the drift as it is (GARCH's returns are `drift dt + e`, without a
    /// variance correction).
    pub fn check_horizon(
        initial_vol: f64,
        long_run_vol: f64,
        drift: f64,
        horizon: &Horizon,
    ) -> Result<(), ParamError> {
        horizon.check_vol("initial_vol", initial_vol)?;
        horizon.check_vol("long_run_vol", long_run_vol)?;
        horizon.check_drift("drift", drift)
    }

    /// `long_run_vol`, `initial_vol` (0 = long-run) and `drift` annualized; `dt_seconds` the step.
    pub fn new(
        long_run_vol: f64,
        alpha: f64,
        beta: f64,
        shocks: Shocks,
        initial_vol: f64,
        drift: f64,
        dt_seconds: f64,
    ) -> ParamResult<Self> {
        positive("long_run_vol", long_run_vol)?;
        non_negative("alpha", alpha)?;
        non_negative("beta", beta)?;
        if alpha + beta >= 1.0 {
            return Err(ParamError::new(
                "alpha",
                format!(
                    "alpha + beta must be < 1 for a stationary variance, got {alpha} + {beta} = {}",
                    alpha + beta
                ),
            ));
        }
        non_negative("initial_vol", initial_vol)?;
        finite("drift", drift)?;
        let dt = positive("dt_seconds", dt_seconds)? / SECONDS_PER_YEAR;
        let h_inf = long_run_vol * long_run_vol * dt;
        let h0 = if initial_vol > 0.0 {
            initial_vol * initial_vol * dt
        } else {
            h_inf
        };
        Ok(Self {
            omega: h_inf * (1.0 - alpha - beta),
            alpha,
            beta,
            h0,
            drift_per_step: drift * dt,
            shocks,
        })
    }

    pub fn shock_law(&self) -> super::ShockLaw {
        match self.shocks {
            Shocks::Normal => super::ShockLaw::Normal,
            Shocks::StudentT { nu, .. } => super::ShockLaw::StudentT(nu),
        }
    }

    /// `omega / (1 - alpha - beta)`: the unconditional variance of a step's return.
    pub fn long_run_step_variance(&self) -> f64 {
        self.omega / (1.0 - self.alpha - self.beta)
    }
}

/// GARCH(1,1) state: the conditional variance of the next step.
#[derive(Clone, Debug)]
pub struct Garch {
    p: GarchParams,
    h: f64,
}

impl Garch {
    pub fn new(p: &GarchParams) -> Self {
        Self {
            h: p.h0,
            p: p.clone(),
        }
    }
}

impl PriceModel for Garch {
    #[inline]
    fn next_log_return<R: Rng + ?Sized>(&mut self, rng: &mut R) -> f64 {
        let e = self.h.sqrt() * self.p.shocks.draw(rng);
        self.h = self.p.omega + self.p.alpha * e * e + self.p.beta * self.h;
        self.p.drift_per_step + e
    }

    #[inline]
    fn next_log_return_driven<R: Rng + ?Sized>(&mut self, shock: f64, _rng: &mut R) -> f64 {
        let e = self.h.sqrt() * shock;
        self.h = self.p.omega + self.p.alpha * e * e + self.p.beta * self.h;
        self.p.drift_per_step + e
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Stream, stream_rng};

    #[test]
    fn rejects_non_stationary_parameters() {
        let e = GarchParams::new(0.8, 0.1, 0.9, Shocks::Normal, 0.0, 0.0, 60.0).unwrap_err();
        assert_eq!(e.field, "alpha");
        assert!(e.rule.contains("alpha + beta"));
    }

    /// The sample variance of many independent paths at a fixed horizon equals `h_inf`
    /// when started at `h_inf` (the variance is a martingale around its long-run level).
    #[test]
    fn variance_stays_at_long_run_level() {
        let p = GarchParams::new(0.8, 0.08, 0.90, Shocks::Normal, 0.0, 0.0, 60.0).unwrap();
        let h_inf = p.long_run_step_variance();
        let paths = 20_000;
        let mut rng = stream_rng(11, 0, Stream::Market);
        let mut xs = Vec::with_capacity(paths);
        for _ in 0..paths {
            let mut m = Garch::new(&p);
            let mut r = 0.0;
            for _ in 0..50 {
                r = m.next_log_return(&mut rng);
            }
            xs.push(r);
        }
        let n = xs.len() as f64;
        let m2 = xs.iter().map(|x| x * x).sum::<f64>() / n;
        let m4 = xs.iter().map(|x| x.powi(4)).sum::<f64>() / n;
        let se = ((m4 - m2 * m2) / n).sqrt();
        assert!((m2 - h_inf).abs() < 4.0 * se, "{m2} vs {h_inf} (se {se})");
    }

    /// With normal shocks the stationary kurtosis of returns is
    /// `3 (1 - (a+b)^2) / (1 - (a+b)^2 - 2 a^2)` (Bollerslev 1986). Parameters where the
    /// eighth moment exists (`E[(b + a z^2)^4] = 0.85 < 1`) so the sample kurtosis has a finite
    /// variance; 20 independent batches of long paths after a burn-in give the standard error.
    #[test]
    fn normal_shock_kurtosis_matches_bollerslev() {
        let (a, b) = (0.05, 0.9);
        let p = GarchParams::new(0.8, a, b, Shocks::Normal, 0.0, 0.0, 60.0).unwrap();
        let q = (a + b) * (a + b);
        let expected = 3.0 * (1.0 - q) / (1.0 - q - 2.0 * a * a);
        let mut rng = stream_rng(1986, 0, Stream::Market);
        let mut batches = crate::stats::Moments::default();
        for _ in 0..20 {
            let (mut m2, mut m4, mut n) = (0.0, 0.0, 0.0);
            for _ in 0..10 {
                let mut m = Garch::new(&p);
                for _ in 0..1_000 {
                    m.next_log_return(&mut rng);
                }
                for _ in 0..50_000 {
                    let r = m.next_log_return(&mut rng);
                    m2 += r * r;
                    m4 += r * r * r * r;
                    n += 1.0;
                }
            }
            let (m2, m4) = (m2 / n, m4 / n);
            batches.push(m4 / (m2 * m2));
        }
        let k = batches.mean().unwrap();
        let se = batches.std_error().unwrap();
        assert!(
            (k - expected).abs() < 4.0 * se,
            "kurtosis {k} vs {expected} (se {se})"
        );
        // The test can tell GARCH from iid normal returns (kurtosis 3).
        assert!((k - 3.0).abs() > 4.0 * se, "{k}, se {se}");
    }

    #[test]
    fn the_horizon_checks_both_vols_and_the_drift_as_it_is() {
        let year = Horizon {
            dt: 3_600.0,
            steps: 8_760,
            path: "market.model",
        };
        assert!(GarchParams::check_horizon(0.0, 0.8, 0.0, &year).is_ok());
        let e = GarchParams::check_horizon(80.0, 0.8, 0.0, &year).unwrap_err();
        assert_eq!(e.field, "market.model.initial_vol");
        let e = GarchParams::check_horizon(0.0, 0.8, -65.0, &year).unwrap_err();
        assert_eq!(e.field, "market.model.drift");
    }
}
