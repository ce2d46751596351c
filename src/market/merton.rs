//! Merton (1976) jump-diffusion: GBM plus Poisson jumps with normal log sizes, drift-
//! compensated so that `E[S(t + dt) / S(t)] = exp(mu dt)` (MODEL.md section 1).
//!
//! Per step: `r = (mu - sigma^2/2 - lambda k) dt + sigma sqrt(dt) z + sum_{i<=N} Y_i`, with
//! `N ~ Poisson(lambda dt)`, `Y ~ N(mu_J, sigma_J^2)` and `k = E[e^Y - 1] = exp(mu_J + sigma_J^2/2) - 1`.

use rand_distr::{Distribution, Poisson, StandardNormal};

use super::{Horizon, PriceModel, SECONDS_PER_YEAR};
use crate::params::{ParamError, ParamResult, finite, non_negative, positive};
use rand::Rng;

/// Merton's compensator `lambda (E[e^J] - 1)`, annualized: the drift that keeps the price's
/// mean a martingale when jumps `J ~ N(jump_mean, jump_sd^2)` arrive at `jump_intensity` a year.
pub fn compensator(jump_intensity: f64, jump_mean: f64, jump_sd: f64) -> f64 {
    jump_intensity * ((jump_mean + 0.5 * jump_sd * jump_sd).exp() - 1.0)
}

#[derive(Clone, Debug, PartialEq)]
pub struct MertonParams {
    drift_per_step: f64,
    vol_per_step: f64,
    jumps_per_step: Option<Poisson<f64>>,
    jump_mean: f64,
    jump_sd: f64,
}

impl MertonParams {
    /// The horizon's rules, checked before [`Self::new`]. The jumps add
    /// `intensity (mean^2 + sd^2)` to the variance of a year's returns. Merton's compensator
    /// keeps the mean of the price a martingale: with jump sizes typed in percent
    /// (jump_sd = 6.5 for 6.5%) it alone sends the index to 0. The rule names the field that
    /// is off: a size beyond a fraction, else the intensity when the jumps' terms dominate,
    /// else the drift.
    pub fn check_horizon(
        vol: f64,
        jump_intensity: f64,
        jump_mean: f64,
        jump_sd: f64,
        drift: f64,
        horizon: &Horizon,
    ) -> Result<(), ParamError> {
        horizon.check_vol("vol", vol)?;
        let jump_variance = jump_intensity * (jump_mean * jump_mean + jump_sd * jump_sd);
        if jump_sd <= 1.0 && jump_mean.abs() <= 1.0 {
            horizon.check_vol("jump_intensity", (vol * vol + jump_variance).sqrt())?;
        }
        let compensator = compensator(jump_intensity, jump_mean, jump_sd);
        let jump_terms = jump_intensity * jump_mean - compensator;
        let diffusion = drift - 0.5 * vol * vol;
        let field = if jump_sd > 1.0 {
            "jump_sd"
        } else if jump_mean.abs() > 1.0 {
            "jump_mean"
        } else if jump_terms.abs() > diffusion.abs() {
            "jump_intensity"
        } else {
            "drift"
        };
        horizon.check_drift(field, diffusion + jump_terms)
    }

    /// `vol` and `drift` annualized, `jump_intensity` in jumps per year, jump log sizes
    /// `N(jump_mean, jump_sd^2)`, `dt_seconds` the step.
    pub fn new(
        vol: f64,
        drift: f64,
        jump_intensity: f64,
        jump_mean: f64,
        jump_sd: f64,
        dt_seconds: f64,
    ) -> ParamResult<Self> {
        non_negative("vol", vol)?;
        finite("drift", drift)?;
        non_negative("jump_intensity", jump_intensity)?;
        finite("jump_mean", jump_mean)?;
        non_negative("jump_sd", jump_sd)?;
        let dt = positive("dt_seconds", dt_seconds)? / SECONDS_PER_YEAR;
        let compensator = compensator(jump_intensity, jump_mean, jump_sd);
        let lambda_dt = jump_intensity * dt;
        let jumps_per_step = if lambda_dt > 0.0 {
            Some(
                Poisson::new(lambda_dt)
                    .map_err(|e| ParamError::new("jump_intensity", e.to_string()))?,
            )
        } else {
            None
        };
        Ok(Self {
            drift_per_step: (drift - 0.5 * vol * vol - compensator) * dt,
            vol_per_step: vol * dt.sqrt(),
            jumps_per_step,
            jump_mean,
            jump_sd,
        })
    }
}

/// Merton holds no state beyond its parameters.
#[derive(Clone, Debug)]
pub struct Merton {
    p: MertonParams,
}

impl Merton {
    pub fn new(p: &MertonParams) -> Self {
        Self { p: p.clone() }
    }
}

impl PriceModel for Merton {
    #[inline]
    fn next_log_return<R: Rng + ?Sized>(&mut self, rng: &mut R) -> f64 {
        let z: f64 = StandardNormal.sample(rng);
        self.next_log_return_driven(z, rng)
    }

    #[inline]
    fn next_log_return_driven<R: Rng + ?Sized>(&mut self, z: f64, rng: &mut R) -> f64 {
        let mut r = self.p.drift_per_step + self.p.vol_per_step * z;
        if let Some(jumps) = &self.p.jumps_per_step {
            let n: f64 = jumps.sample(rng);
            if n > 0.0 {
                // The sum of n normal log sizes is N(n mu_J, n sigma_J^2).
                let zj: f64 = StandardNormal.sample(rng);
                r += n * self.p.jump_mean + n.sqrt() * self.p.jump_sd * zj;
            }
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Stream, stream_rng};
    use crate::stats::Moments;

    /// Over a horizon T, the log return has variance `T (sigma^2 + lambda (mu_J^2 + sigma_J^2))`
    /// and fourth cumulant `lambda T (mu_J^4 + 6 mu_J^2 sigma_J^2 + 3 sigma_J^4)`; the price
    /// ratio has mean `exp(mu T)`. Each is checked within 4 standard errors, the kurtosis's by
    /// batch means over 20 independent batches.
    #[test]
    fn horizon_moments_match_the_closed_forms() {
        let (vol, drift, lambda, mu_j, sd_j) = (0.5, 0.2, 50.0, -0.05, 0.05);
        let dt = 3_600.0;
        let steps = 24;
        let p = MertonParams::new(vol, drift, lambda, mu_j, sd_j, dt).unwrap();
        let t = steps as f64 * dt / SECONDS_PER_YEAR;
        let var = t * (vol * vol + lambda * (mu_j * mu_j + sd_j * sd_j));
        let k4 = lambda * t * (mu_j.powi(4) + 6.0 * mu_j * mu_j * sd_j * sd_j + 3.0 * sd_j.powi(4));
        let excess_kurtosis = k4 / (var * var);

        let mut rng = stream_rng(17, 0, Stream::Market);
        let (batches, per_batch) = (20, 10_000);
        let mut all = Moments::default();
        let mut growth = Moments::default();
        let mut kurt = Moments::default();
        let mut samples = Vec::with_capacity(per_batch);
        for _ in 0..batches {
            samples.clear();
            for _ in 0..per_batch {
                let mut m = Merton::new(&p);
                let r: f64 = (0..steps).map(|_| m.next_log_return(&mut rng)).sum();
                samples.push(r);
                all.push(r);
                growth.push(r.exp());
            }
            let b: Moments = samples.iter().copied().collect();
            let (mean, v) = (b.mean().unwrap(), b.variance().unwrap());
            let m4 = samples.iter().map(|x| (x - mean).powi(4)).sum::<f64>() / per_batch as f64;
            kurt.push(m4 / (v * v) - 3.0);
        }
        // SE of a sample variance: sqrt((m4 - s^4) / n), with m4 = (kurtosis + 3) var^2.
        let n = (batches * per_batch) as f64;
        let se_var = ((excess_kurtosis + 2.0) * var * var / n).sqrt();
        assert!(
            (all.variance().unwrap() - var).abs() < 4.0 * se_var,
            "variance {} vs {var}",
            all.variance().unwrap()
        );
        let ek = kurt.mean().unwrap();
        assert!(
            (ek - excess_kurtosis).abs() < 4.0 * kurt.std_error().unwrap(),
            "kurtosis {ek} vs {excess_kurtosis}"
        );
        let g = growth.mean().unwrap();
        assert!(
            (g - (drift * t).exp()).abs() < 4.0 * growth.std_error().unwrap(),
            "E[S_T/S_0] {g}"
        );
    }

    #[test]
    fn rejects_negative_intensity() {
        let e = MertonParams::new(0.5, 0.0, -1.0, 0.0, 0.1, 60.0).unwrap_err();
        assert_eq!(e.field, "jump_intensity");
    }

    /// Jump sizes typed in percent are blamed on the size, not on the drift the compensator
    /// throws off.
    #[test]
    fn the_horizon_names_the_jump_field_that_is_off() {
        let year = Horizon {
            dt: 3_600.0,
            steps: 8_760,
            path: "market.model",
        };
        assert!(MertonParams::check_horizon(0.6, 2.0, -0.05, 0.1, 0.0, &year).is_ok());
        let field = |mean: f64, sd: f64| {
            MertonParams::check_horizon(0.6, 20.0, mean, sd, 0.0, &year)
                .unwrap_err()
                .field
        };
        assert_eq!(field(-0.05, 6.5), "market.model.jump_sd");
        assert_eq!(field(-6.5, 0.1), "market.model.jump_mean");
        let e = MertonParams::check_horizon(0.6, 2.0, -0.05, 0.1, 65.0, &year).unwrap_err();
        assert_eq!(e.field, "market.model.drift");
    }
}
