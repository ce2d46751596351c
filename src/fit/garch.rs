//! GARCH(1,1) with standardized Student-t shocks, fitted by maximum likelihood (Bollerslev
//! 1987), and its conversion between sampling frequencies (Drost and Nijman 1993).
//!
//! Model at the data's step: `r_t = mu + e_t`, `e_t = sqrt(h_t) z_t`,
//! `h_t = omega + alpha e_{t-1}^2 + beta h_{t-1}`, `z` Student-t(nu) scaled to unit variance.
//! The recursion starts at the sample variance (the usual choice, e.g. the `arch` package).

use statrs::function::gamma::ln_gamma;

use super::optimize::{Minimum, covariance, hessian, nelder_mead};
use super::{Estimate, FitError};
use crate::market::SECONDS_PER_YEAR;

/// A fitted GARCH(1,1)-t at the data's step.
#[derive(Clone, Debug, PartialEq)]
pub struct GarchTFit {
    /// Mean log return per step.
    pub mu: Estimate,
    pub omega: Estimate,
    pub alpha: Estimate,
    pub beta: Estimate,
    pub nu: Estimate,
    pub log_likelihood: f64,
    pub observations: usize,
    pub step_seconds: f64,
    /// Nelder-Mead met its tolerances (and did not stop on the evaluation budget).
    pub converged: bool,
    /// Sample variance of the returns, per step.
    pub sample_variance: f64,
    pub long_run: LongRunVariance,
}

/// GARCH parameters in the experiment's terms (`[market.model] kind = "garch"`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GarchAtStep {
    pub dt_seconds: f64,
    pub long_run_vol: f64,
    pub alpha: f64,
    pub beta: f64,
    pub nu: f64,
    /// Annualized drift of the log price.
    pub drift: f64,
    pub conversion: Conversion,
}

/// How GARCH parameters went from the data's step to the experiment's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Conversion {
    /// Same step: the fitted parameters.
    None,
    /// The weak GARCH that aggregates exactly into the other (Drost and Nijman 1993).
    DrostNijman,
    /// No finer-step GARCH aggregates into the fit (the fitted `alpha` is above what any
    /// can reach), so the diffusion limit's scaling is used (Nelson 1990): mean reversion
    /// `(1 - alpha - beta) / dt` and vol of variance `alpha / sqrt(dt)` kept per unit time.
    NelsonDiffusion,
}

impl Conversion {
    pub fn describe(self) -> &'static str {
        match self {
            Conversion::None => "none (same step)",
            Conversion::DrostNijman => {
                "Drost and Nijman (1993): the weak GARCH that aggregates exactly into the fit"
            }
            Conversion::NelsonDiffusion => {
                "Nelson (1990) diffusion scaling: no finer-step GARCH aggregates into the fit, so \
                 mean reversion and vol of variance are kept per unit of time"
            }
        }
    }
}

impl GarchTFit {
    pub fn persistence(&self) -> f64 {
        self.alpha.value + self.beta.value
    }

    /// The fit ran to `alpha + beta = 1`: the variance has no long-run level, and the model
    /// cannot go into an experiment (refit with [`LongRunVariance::Targeted`]).
    pub fn is_integrated(&self) -> bool {
        self.persistence() >= INTEGRATED
    }

    /// `omega / (1 - alpha - beta)`, per step.
    pub fn long_run_step_variance(&self) -> f64 {
        self.omega.value / (1.0 - self.persistence())
    }

    /// Long-run volatility, annualized over a 365-day year.
    pub fn long_run_annual_vol(&self) -> f64 {
        (self.long_run_step_variance() * SECONDS_PER_YEAR / self.step_seconds).sqrt()
    }

    pub fn sample_annual_vol(&self) -> f64 {
        (self.sample_variance * SECONDS_PER_YEAR / self.step_seconds).sqrt()
    }

    /// Time for a shock to the conditional variance to decay by half, in seconds.
    pub fn variance_half_life_seconds(&self) -> f64 {
        self.step_seconds * 0.5_f64.ln() / self.persistence().ln()
    }

    /// The model for an experiment whose step is `dt_seconds`. The long-run variance per
    /// unit of time and the drift are kept exactly. When the step differs from the data's,
    /// `alpha` and `beta` are those of the weak GARCH that aggregates into the fitted one
    /// (Drost and Nijman 1993, Theorem 1): aggregating `m` steps, persistence becomes
    /// `(alpha + beta)^m`, so a variance shock decays at the same rate per second; `alpha`
    /// then solves their equation for the aggregated `beta`, with the shocks' kurtosis of the
    /// fitted t(nu). `nu` itself is kept: the weak-GARCH result fixes second moments, not the
    /// law of the shocks. When no finer GARCH aggregates into the fit, see
    /// [`Conversion::NelsonDiffusion`]. The two steps must be whole multiples of each other.
    pub fn at_step(&self, dt_seconds: f64) -> Result<GarchAtStep, FitError> {
        if self.is_integrated() {
            return Err(FitError::new(
                "fit",
                format!(
                    "alpha + beta = {:.7}: the fitted variance is integrated and has no long-run vol",
                    self.persistence()
                ),
            ));
        }
        let (alpha, beta) = (self.alpha.value, self.beta.value);
        let kurtosis = t_kurtosis(self.nu.value);
        let ratio = dt_seconds / self.step_seconds;
        let whole = |x: f64| (x - x.round()).abs() < 1e-9 && x.round() >= 1.0;
        let (alpha, beta, conversion) = if (ratio - 1.0).abs() < 1e-12 {
            (alpha, beta, Conversion::None)
        } else if ratio > 1.0 && whole(ratio) {
            let a = aggregate(alpha, beta, kurtosis, ratio.round() as u32);
            (a.alpha, a.beta, Conversion::DrostNijman)
        } else if ratio < 1.0 && whole(1.0 / ratio) {
            match disaggregate(alpha, beta, kurtosis, (1.0 / ratio).round() as u32) {
                Some((a, b)) => (a, b, Conversion::DrostNijman),
                None => {
                    let (a, b) = nelson_scaling(alpha, beta, ratio);
                    (a, b, Conversion::NelsonDiffusion)
                }
            }
        } else {
            return Err(FitError::new(
                "--dt",
                format!(
                    "{dt_seconds} s and the data's {} s steps must be whole multiples of each other",
                    self.step_seconds
                ),
            ));
        };
        Ok(GarchAtStep {
            dt_seconds,
            long_run_vol: self.long_run_annual_vol(),
            alpha,
            beta,
            nu: self.nu.value,
            drift: self.mu.value * SECONDS_PER_YEAR / self.step_seconds,
            conversion,
        })
    }
}

/// GARCH parameters for a step `ratio` times the fitted one under the diffusion-limit
/// scaling of Nelson (1990): `1 - alpha - beta` grows like the step, `alpha` like its root.
pub fn nelson_scaling(alpha: f64, beta: f64, ratio: f64) -> (f64, f64) {
    let a = alpha * ratio.sqrt();
    (a, 1.0 - (1.0 - alpha - beta) * ratio - a)
}

/// Kurtosis of a unit-variance Student-t(nu): `3 + 6 / (nu - 4)`, infinite for `nu <= 4`.
pub fn t_kurtosis(nu: f64) -> f64 {
    if nu > 4.0 {
        3.0 + 6.0 / (nu - 4.0)
    } else {
        f64::INFINITY
    }
}

/// Weak GARCH(1,1) parameters of the sum of `m` consecutive returns.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Aggregated {
    pub alpha: f64,
    pub beta: f64,
    /// Kurtosis of the aggregated standardized shocks (infinite if the step's is).
    pub kurtosis: f64,
}

/// Drost and Nijman (1993), Theorem 1 (flow variables, symmetric shocks), in the notation of
/// Dacorogna et al., *An Introduction to High-Frequency Finance* (2001), eqs. 8.7 to 8.12:
/// with `p = alpha + beta` and `kappa` the kurtosis of the standardized shocks,
/// `alpha_m + beta_m = p^m`, and `|beta_m| < 1` solves
/// `beta_m / (1 + beta_m^2) = (a p^m - b) / (a (1 + p^{2m}) - 2 b)`.
pub fn aggregate(alpha: f64, beta: f64, kappa: f64, m: u32) -> Aggregated {
    let p = alpha + beta;
    let mf = m as f64;
    let pm = p.powi(m as i32);
    let c = alpha - beta * alpha * p;
    let tail = mf - 1.0 - mf * p + pm;
    // 1 / (kappa - 1) vanishes for infinitely fat shocks.
    let inv_k1 = if kappa.is_finite() {
        1.0 / (kappa - 1.0)
    } else {
        0.0
    };
    let a = mf * (1.0 - beta).powi(2)
        + 2.0
            * mf
            * (mf - 1.0)
            * (1.0 - p).powi(2)
            * (1.0 - beta * beta - 2.0 * alpha * beta)
            * inv_k1
            / (1.0 - p * p)
        + 4.0 * tail * c / (1.0 - p * p);
    let b = c * (1.0 - pm * pm) / (1.0 - p * p);
    let ratio = (a * pm - b) / (a * (1.0 + pm * pm) - 2.0 * b);
    let beta_m = if ratio.abs() < 1e-15 {
        0.0
    } else {
        (1.0 - (1.0 - 4.0 * ratio * ratio).max(0.0).sqrt()) / (2.0 * ratio)
    };
    let kurtosis = if kappa.is_finite() {
        3.0 + (kappa - 3.0) / mf
            + 6.0 * (kappa - 1.0) * tail * c
                / (mf * mf * (1.0 - p).powi(2) * (1.0 - beta * beta - 2.0 * alpha * beta))
    } else {
        f64::INFINITY
    };
    Aggregated {
        alpha: pm - beta_m,
        beta: beta_m,
        kurtosis,
    }
}

/// The `(alpha, beta)` at a step `m` times shorter whose aggregate over `m` steps is
/// `(alpha_m, beta_m)`, for shocks of kurtosis `kappa`: persistence `p = (alpha_m +
/// beta_m)^(1/m)`, then `alpha` by bisection on the aggregated `beta`. `None` when no such
/// process exists.
pub fn disaggregate(alpha_m: f64, beta_m: f64, kappa: f64, m: u32) -> Option<(f64, f64)> {
    let p = (alpha_m + beta_m).powf(1.0 / m as f64);
    let gap = |alpha: f64| aggregate(alpha, p - alpha, kappa, m).beta - beta_m;
    // Scan for a sign change, then bisect; the scan keeps us off spurious branches.
    let grid = 4_000;
    let at = |i: usize| p * i as f64 / grid as f64;
    let mut prev = (at(1), gap(at(1)));
    for i in 2..grid {
        let x = at(i);
        let g = gap(x);
        if !g.is_finite() {
            continue;
        }
        if prev.1.is_finite() && prev.1.signum() != g.signum() {
            let (mut lo, mut hi) = (prev.0, x);
            let lo_sign = prev.1.signum();
            for _ in 0..200 {
                let mid = 0.5 * (lo + hi);
                if gap(mid).signum() == lo_sign {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            let alpha = 0.5 * (lo + hi);
            return Some((alpha, p - alpha));
        }
        prev = (x, g);
    }
    None
}

/// Log-likelihood of returns `y` under GARCH(1,1)-t with parameters
/// `[mu, omega, alpha, beta, nu]`; `-inf` outside the admissible set.
pub fn log_likelihood(y: &[f64], theta: &[f64], h_start: f64) -> f64 {
    let (mu, omega, alpha, beta, nu) = (theta[0], theta[1], theta[2], theta[3], theta[4]);
    if !(omega > 0.0 && alpha >= 0.0 && beta >= 0.0 && alpha + beta < 1.0 && nu > 2.0) {
        return f64::NEG_INFINITY;
    }
    let constant = ln_gamma(0.5 * (nu + 1.0))
        - ln_gamma(0.5 * nu)
        - 0.5 * (std::f64::consts::PI * (nu - 2.0)).ln();
    let half_nu1 = 0.5 * (nu + 1.0);
    let inv_nu2 = 1.0 / (nu - 2.0);
    let mut h = h_start;
    let mut ll = 0.0;
    for &r in y {
        let e = r - mu;
        ll += -0.5 * h.ln() - half_nu1 * (e * e * inv_nu2 / h).ln_1p();
        h = omega + alpha * e * e + beta * h;
    }
    ll + y.len() as f64 * constant
}

/// How the long-run variance is estimated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LongRunVariance {
    /// `omega` is a free parameter of the likelihood.
    Free,
    /// Variance targeting (Engle and Mezrich 1996): `omega = s^2 (1 - alpha - beta)` with `s^2`
    /// the sample variance, so the model's long-run vol is the data's. Used when the free fit
    /// runs to the integrated boundary `alpha + beta = 1`, where no long-run vol exists; its
    /// standard errors ignore the sampling error of `s^2`.
    Targeted,
}

/// Persistence at or above which a fit counts as integrated (no long-run variance).
pub const INTEGRATED: f64 = 1.0 - 1e-6;

/// Fits GARCH(1,1)-t to log returns sampled every `step_seconds`.
pub fn fit_garch_t(
    returns: &[f64],
    step_seconds: f64,
    long_run: LongRunVariance,
) -> Result<GarchTFit, FitError> {
    let sample = Standardized::of(returns)?;
    let targeted = long_run == LongRunVariance::Targeted;
    let (theta, min) = maximize_likelihood(&sample, targeted)?;
    let var_of = parameter_variances(&sample.y, theta, targeted);
    let est = |i: usize, scale: f64| Estimate {
        value: theta[i] * scale,
        se: var_of[i].map(|v| v.sqrt() * scale),
    };
    let (n, sd, var) = (returns.len(), sample.sd, sample.var);
    Ok(GarchTFit {
        mu: est(0, sd),
        omega: est(1, var),
        alpha: est(2, 1.0),
        beta: est(3, 1.0),
        nu: est(4, 1.0),
        // The density of r is that of y divided by sd.
        log_likelihood: -min.value - n as f64 * sd.ln(),
        observations: n,
        step_seconds,
        converged: min.converged,
        sample_variance: var,
        long_run,
    })
}

/// The returns in units of their sample standard deviation, where every parameter is of
/// order one (and the targeted long-run variance is 1).
struct Standardized {
    y: Vec<f64>,
    mean: f64,
    var: f64,
    sd: f64,
}

impl Standardized {
    fn of(returns: &[f64]) -> Result<Self, FitError> {
        let n = returns.len();
        if n < 100 {
            return Err(FitError::new(
                "data",
                format!("GARCH needs at least 100 returns, the window holds {n}"),
            ));
        }
        let mean = returns.iter().sum::<f64>() / n as f64;
        let var = returns.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / n as f64;
        if !(var > 0.0 && var.is_finite()) {
            return Err(FitError::new("data", "the returns have no variance"));
        }
        let sd = var.sqrt();
        let y = returns.iter().map(|r| r / sd).collect();
        Ok(Self { y, mean, var, sd })
    }
}

/// Nelder-Mead on unconstrained coordinates; returns the maximizer in the natural parameters
/// `[mu, omega, alpha, beta, nu]` (the order `log_likelihood` reads) and the minimum found.
fn maximize_likelihood(
    sample: &Standardized,
    targeted: bool,
) -> Result<([f64; 5], Minimum), FitError> {
    let y = &sample.y;
    let logistic = |x: f64| 1.0 / (1.0 + (-x).exp());
    // Unconstrained coordinates -> [mu, omega, alpha, beta, nu].
    let natural = |u: &[f64]| {
        let p = logistic(u[1]);
        let alpha = p * logistic(u[2]);
        let omega = if targeted { 1.0 - p } else { u[4].exp() };
        [u[0], omega, alpha, p - alpha, 2.0 + u[3].exp()]
    };
    let objective = |u: &[f64]| -log_likelihood(y, &natural(u), 1.0);
    let logit = |x: f64| (x / (1.0 - x)).ln();
    // Start: persistence 0.95 with alpha 0.05, unit long-run variance, nu = 6.
    let mut start = vec![
        sample.mean / sample.sd,
        logit(0.95),
        logit(0.05 / 0.95),
        4.0_f64.ln(),
    ];
    let mut step = vec![0.05, 0.5, 0.5, 0.5];
    if !targeted {
        start.push(0.05_f64.ln());
        step.push(0.5);
    }
    let min = nelder_mead(objective, &start, &step, 20_000);
    let theta = natural(&min.x);
    if !min.value.is_finite() {
        return Err(FitError::new(
            "data",
            "the likelihood is not finite anywhere tried",
        ));
    }
    Ok((theta, min))
}

/// Each natural parameter's variance from the inverse Hessian of -log L at `theta` (without
/// omega when it is targeted: then it follows from alpha + beta); `None` where the Hessian
/// gives none.
fn parameter_variances(y: &[f64], theta: [f64; 5], targeted: bool) -> [Option<f64>; 5] {
    let free: Vec<usize> = if targeted {
        vec![0, 2, 3, 4]
    } else {
        vec![0, 1, 2, 3, 4]
    };
    let full = |t: &[f64]| -> [f64; 5] {
        let mut x = theta;
        for (k, &i) in free.iter().enumerate() {
            x[i] = t[k];
        }
        if targeted {
            x[1] = 1.0 - x[2] - x[3];
        }
        x
    };
    let at: Vec<f64> = free.iter().map(|&i| theta[i]).collect();
    let steps: Vec<f64> = at.iter().map(|v| 1e-4 * v.abs().max(1e-3)).collect();
    let h = hessian(|t| -log_likelihood(y, &full(t), 1.0), &at, &steps);
    let cov = covariance(&h);
    let var_of = |i: usize| -> Option<f64> {
        let c = cov.as_ref()?;
        let v = if targeted && i == 1 {
            // omega = 1 - alpha - beta: Var = Var(a) + Var(b) + 2 Cov(a, b).
            c[[1, 1]] + c[[2, 2]] + 2.0 * c[[1, 2]]
        } else {
            let k = free.iter().position(|&j| j == i)?;
            c[[k, k]]
        };
        (v > 0.0 && v.is_finite()).then_some(v)
    };
    std::array::from_fn(var_of)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::market::{Garch, GarchParams, PriceModel, Shocks};
    use crate::rng::{Stream, stream_rng};

    #[test]
    fn aggregation_over_one_step_is_the_identity() {
        let a = aggregate(0.08, 0.9, 9.0, 1);
        assert!(
            (a.alpha - 0.08).abs() < 1e-12 && (a.beta - 0.9).abs() < 1e-12,
            "{a:?}"
        );
        assert!((a.kurtosis - 9.0).abs() < 1e-9);
    }

    #[test]
    fn nelson_scaling_keeps_mean_reversion_and_vol_of_variance_per_unit_time() {
        let (a, b) = nelson_scaling(0.0468, 0.9513, 1.0 / 60.0);
        assert!((a - 0.0468 / 60f64.sqrt()).abs() < 1e-15);
        assert!(((1.0 - a - b) * 60.0 - (1.0 - 0.0468 - 0.9513)).abs() < 1e-12);
        // Above what aggregation can reach at m = 60 (about 0.041 for these values), no
        // minute GARCH exists and the conversion falls back to this scaling.
        assert!(disaggregate(0.0468, 0.9513, f64::INFINITY, 60).is_none());
    }

    #[test]
    fn disaggregation_inverts_aggregation() {
        for (alpha, beta, kappa, m) in [
            (0.05, 0.94, 3.0, 60),
            (0.02, 0.975, 9.0, 24),
            (0.01, 0.985, f64::INFINITY, 4),
        ] {
            let a = aggregate(alpha, beta, kappa, m);
            assert!((a.alpha + a.beta - (alpha + beta).powi(m as i32)).abs() < 1e-12);
            let (da, db) = disaggregate(a.alpha, a.beta, kappa, m).unwrap();
            assert!((da - alpha).abs() < 1e-7, "{da} vs {alpha} (m = {m})");
            assert!((db - beta).abs() < 1e-7);
        }
    }

    /// A long series simulated with known parameters: the fit recovers each within 4 of its
    /// standard errors.
    #[test]
    fn fit_recovers_known_parameters_from_a_long_simulated_series() {
        let (vol, alpha, beta, nu) = (0.8, 0.08, 0.9, 6.0);
        let dt = 3_600.0;
        let p = GarchParams::new(
            vol,
            alpha,
            beta,
            Shocks::student_t(nu).unwrap(),
            0.0,
            0.0,
            dt,
        )
        .unwrap();
        let mut model = Garch::new(&p);
        let mut rng = stream_rng(2018, 0, Stream::Market);
        let returns: Vec<f64> = (0..40_000)
            .map(|_| model.next_log_return(&mut rng))
            .collect();
        let fit = fit_garch_t(&returns, dt, LongRunVariance::Free).unwrap();
        assert!(fit.converged);
        let omega = p.long_run_step_variance() * (1.0 - alpha - beta);
        for (name, e, truth) in [
            ("mu", fit.mu, 0.0),
            ("omega", fit.omega, omega),
            ("alpha", fit.alpha, alpha),
            ("beta", fit.beta, beta),
            ("nu", fit.nu, nu),
        ] {
            let se = e.se.unwrap();
            assert!(
                (e.value - truth).abs() < 4.0 * se,
                "{name}: {} vs {truth} (se {se})",
                e.value
            );
        }
        // The annualized long-run vol of the fit is the configured one, within 10% (its SE
        // by the delta method is a few percent at 40,000 hours).
        assert!((fit.long_run_annual_vol() / vol - 1.0).abs() < 0.1);
        // Converting to the same step changes nothing; to four hours and back recovers the
        // fit; to minutes keeps the long-run vol.
        let same = fit.at_step(dt).unwrap();
        assert_eq!((same.alpha, same.beta), (fit.alpha.value, fit.beta.value));
        let four = fit.at_step(4.0 * dt).unwrap();
        assert_eq!(four.conversion, Conversion::DrostNijman);
        let (a, b) = disaggregate(four.alpha, four.beta, t_kurtosis(fit.nu.value), 4).unwrap();
        assert!((a - fit.alpha.value).abs() < 1e-7 && (b - fit.beta.value).abs() < 1e-7);
        let minutes = fit.at_step(60.0).unwrap();
        assert_eq!(minutes.long_run_vol, fit.long_run_annual_vol());
        assert!(minutes.alpha + minutes.beta > fit.persistence());
        assert!(fit.at_step(1_000.0).is_err());
    }
}
