//! Merton jump-diffusion fitted by the method of cumulants (Press 1967 used the same idea).
//!
//! Per step of length `dt`, with `L = lambda dt` jumps expected and jump log sizes
//! `N(a, s)`, the cumulants of the log return are
//! `k1 = (mu - sigma^2 / 2 - lambda k) dt + L a`, `k2 = sigma^2 dt + L (a^2 + s)`,
//! `k3 = L (a^3 + 3 a s)`, `k4 = L (a^4 + 6 a^2 s + 3 s^2)`,
//! `k6 = L (a^6 + 15 a^4 s + 45 a^2 s^2 + 15 s^3)`.
//! The fifth cumulant is skipped on purpose: on real returns it is the noisiest and often has
//! the opposite sign to `k3` (so on the BTC hourly file), which no Merton law allows. With
//! `a = u sqrt(s)`, the scale-free ratio `k3^2 k6 / k4^3 = psi(u)` rises from 0 to about 1.26
//! and settles back to 1, so it fixes `u` uniquely below 1; then `k6 / k4` gives `s`, `k4` gives
//! `L`, `k2` gives `sigma`, and `k1` the drift. Standard errors come from the stationary
//! bootstrap (Politis and Romano 1994), which respects volatility clustering in the data.

use super::{Estimate, FitError};
use crate::market::{Bootstrap, BootstrapParams, PriceModel, SECONDS_PER_YEAR};
use crate::rng::{Stream, stream_rng};

/// Merton parameters in the experiment's units (annualized vol and drift, jumps per year).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MertonPoint {
    pub vol: f64,
    pub jump_intensity: f64,
    pub jump_mean: f64,
    pub jump_sd: f64,
    pub drift: f64,
}

/// A fitted Merton model with bootstrap standard errors.
#[derive(Clone, Debug, PartialEq)]
pub struct MertonFit {
    pub vol: Estimate,
    pub jump_intensity: Estimate,
    pub jump_mean: Estimate,
    pub jump_sd: Estimate,
    pub drift: Estimate,
    pub observations: usize,
    pub step_seconds: f64,
    /// Bootstrap replicates used for the standard errors, and those whose cumulants admitted
    /// no Merton law (left out).
    pub replicates: usize,
    pub failed_replicates: usize,
    /// Mean block length of the bootstrap, in steps.
    pub mean_block: f64,
    /// Sample skewness and excess kurtosis of the returns per step.
    pub skewness: f64,
    pub excess_kurtosis: f64,
}

fn psi(u: f64) -> f64 {
    let v = u * u;
    let k3 = u * u * u + 3.0 * u;
    let k4 = v * v + 6.0 * v + 3.0;
    let k6 = v * v * v + 15.0 * v * v + 45.0 * v + 15.0;
    k3 * k3 * k6 / (k4 * k4 * k4)
}

/// Sample cumulants 1 to 4 and 6 (central moments, no small-sample correction: n is large).
fn cumulants(r: &[f64]) -> [f64; 5] {
    let n = r.len() as f64;
    let mean = r.iter().sum::<f64>() / n;
    let mut m = [0.0; 7];
    for &x in r {
        let d = x - mean;
        let d2 = d * d;
        m[2] += d2;
        m[3] += d2 * d;
        m[4] += d2 * d2;
        m[6] += d2 * d2 * d2;
    }
    for v in m.iter_mut() {
        *v /= n;
    }
    let (m2, m3, m4, m6) = (m[2], m[3], m[4], m[6]);
    let k6 = m6 - 15.0 * m4 * m2 - 10.0 * m3 * m3 + 30.0 * m2 * m2 * m2;
    [mean, m2, m3, m4 - 3.0 * m2 * m2, k6]
}

/// Solves the cumulant equations; `Err` says which condition the data break.
pub fn solve_cumulants(r: &[f64], step_seconds: f64) -> Result<MertonPoint, String> {
    let [k1, k2, k3, k4, k6] = cumulants(r);
    if !(k4 > 0.0 && k6 > 0.0) {
        return Err(format!(
            "the returns have fourth cumulant {k4:.3e} and sixth {k6:.3e}; a Merton law needs both > 0 (fat tails)"
        ));
    }
    let target = k3 * k3 * k6 / (k4 * k4 * k4);
    // psi peaks near u = 1.3855; below the peak it is increasing, so bisect there.
    let u_peak = 1.385;
    if target > psi(u_peak) {
        return Err(format!(
            "skewness is too large for the tails: k3^2 k6 / k4^3 = {target:.3} exceeds the Merton maximum {:.3}",
            psi(u_peak)
        ));
    }
    let (mut lo, mut hi) = (0.0, u_peak);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if psi(mid) < target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let u = 0.5 * (lo + hi) * k3.signum();
    let v = u * u;
    let s = k6 / k4 * (v * v + 6.0 * v + 3.0) / (v * v * v + 15.0 * v * v + 45.0 * v + 15.0);
    let a = u * s.sqrt();
    let l = k4 / (s * s * (v * v + 6.0 * v + 3.0));
    let diffusion = k2 - l * (a * a + s);
    if diffusion < 0.0 {
        return Err(format!(
            "the jumps the tails imply carry more variance ({:.3e} per step) than the returns have ({k2:.3e})",
            l * (a * a + s)
        ));
    }
    let dt = step_seconds / SECONDS_PER_YEAR;
    let sigma2 = diffusion / dt;
    let lambda = l / dt;
    let k = (a + 0.5 * s).exp() - 1.0;
    // k1 = (mu - sigma^2/2 - lambda k) dt + L a  =>  mu.
    let drift = (k1 - l * a) / dt + 0.5 * sigma2 + lambda * k;
    Ok(MertonPoint {
        vol: sigma2.sqrt(),
        jump_intensity: lambda,
        jump_mean: a,
        jump_sd: s.sqrt(),
        drift,
    })
}

/// Fits Merton to log returns sampled every `step_seconds`, with standard errors from
/// `replicates` stationary-bootstrap resamples of mean block `n^(1/3)` steps (a fixed seed,
/// so the same data give the same errors).
pub fn fit_merton(
    returns: &[f64],
    step_seconds: f64,
    replicates: usize,
) -> Result<MertonFit, FitError> {
    let n = returns.len();
    if n < 100 {
        return Err(FitError::new(
            "data",
            format!("Merton needs at least 100 returns, the window holds {n}"),
        ));
    }
    let point = solve_cumulants(returns, step_seconds).map_err(|e| FitError::new("data", e))?;
    let mean_block = (n as f64).cbrt().round().max(1.0);
    let params = BootstrapParams::from_returns(returns.to_vec(), mean_block)
        .map_err(|e| FitError::new("data", e.to_string()))?;
    let mut estimates: Vec<MertonPoint> = Vec::with_capacity(replicates);
    let mut failed = 0;
    let mut sample = vec![0.0; n];
    for b in 0..replicates {
        let mut rng = stream_rng(0x4D45_5254_4F4E, b as u64, Stream::Market);
        let mut resampler = Bootstrap::new(&params);
        for x in sample.iter_mut() {
            *x = resampler.next_log_return(&mut rng);
        }
        match solve_cumulants(&sample, step_seconds) {
            Ok(p) => estimates.push(p),
            Err(_) => failed += 1,
        }
    }
    let se = |f: fn(&MertonPoint) -> f64| -> Option<f64> {
        let k = estimates.len();
        (k >= 2).then(|| {
            let m = estimates.iter().map(f).sum::<f64>() / k as f64;
            (estimates.iter().map(|p| (f(p) - m).powi(2)).sum::<f64>() / (k - 1) as f64).sqrt()
        })
    };
    let est = |f: fn(&MertonPoint) -> f64| Estimate {
        value: f(&point),
        se: se(f),
    };
    let [_, k2, k3, k4, _] = cumulants(returns);
    Ok(MertonFit {
        vol: est(|p| p.vol),
        jump_intensity: est(|p| p.jump_intensity),
        jump_mean: est(|p| p.jump_mean),
        jump_sd: est(|p| p.jump_sd),
        drift: est(|p| p.drift),
        observations: n,
        step_seconds,
        replicates,
        failed_replicates: failed,
        mean_block,
        skewness: k3 / k2.powf(1.5),
        excess_kurtosis: k4 / (k2 * k2),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::market::{Merton, MertonParams};

    #[test]
    fn psi_rises_to_its_peak_then_settles_at_one() {
        assert_eq!(psi(0.0), 0.0);
        let mut prev = 0.0;
        for i in 1..=1385 {
            let v = psi(i as f64 / 1000.0);
            assert!(v > prev);
            prev = v;
        }
        assert!(psi(1.5) < prev && (psi(1e4) - 1.0).abs() < 1e-3);
    }

    /// A long series simulated with known parameters: the fit recovers each within 4 of its
    /// bootstrap standard errors.
    #[test]
    fn fit_recovers_known_parameters_from_a_long_simulated_series() {
        let (vol, lambda, mu_j, sd_j) = (0.6, 100.0, -0.02, 0.03);
        let dt = 3_600.0;
        let p = MertonParams::new(vol, 0.0, lambda, mu_j, sd_j, dt).unwrap();
        let mut model = Merton::new(&p);
        let mut rng = stream_rng(1976, 0, Stream::Market);
        let returns: Vec<f64> = (0..200_000)
            .map(|_| model.next_log_return(&mut rng))
            .collect();
        let fit = fit_merton(&returns, dt, 100).unwrap();
        assert!(fit.failed_replicates < 10, "{fit:?}");
        for (name, e, truth) in [
            ("vol", fit.vol, vol),
            ("jump_intensity", fit.jump_intensity, lambda),
            ("jump_mean", fit.jump_mean, mu_j),
            ("jump_sd", fit.jump_sd, sd_j),
            ("drift", fit.drift, 0.0),
        ] {
            let se = e.se.unwrap();
            assert!(
                (e.value - truth).abs() < 4.0 * se,
                "{name}: {} vs {truth} (se {se})",
                e.value
            );
        }
    }

    #[test]
    fn thin_tailed_returns_are_refused_with_the_reason() {
        // Uniform returns have negative excess kurtosis: no Merton law fits them.
        let r: Vec<f64> = (0..1_000)
            .map(|i| ((i * 7919) % 1000) as f64 * 1e-5)
            .collect();
        let e = solve_cumulants(&r, 3_600.0).unwrap_err();
        assert!(e.contains("fourth cumulant"), "{e}");
    }
}
