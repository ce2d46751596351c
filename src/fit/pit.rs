//! Checks of a fitted model on data it was not fitted to (issue 15): the probability
//! integral transform (Diebold, Gunther and Tay 1998). If the model is right, each held-back
//! return's predictive CDF value `u_t = F_t(r_t)` is uniform on (0, 1) and independent;
//! a Kolmogorov-Smirnov test says how far the `u_t` are from uniform, and the counts in the
//! 1% tails say whether the model's tails are the data's.

use statrs::distribution::{ContinuousCDF, StudentsT};

use super::{FitError, GarchTFit};
use crate::stats::{Z95, wilson};

/// The PIT of a GARCH(1,1)-t on held-back returns.
#[derive(Clone, Debug, PartialEq)]
pub struct PitTest {
    /// Held-back returns tested.
    pub observations: usize,
    /// Kolmogorov-Smirnov distance of the PIT values from uniform.
    pub ks_distance: f64,
    /// Its asymptotic p-value (Stephens' small-sample correction).
    pub p_value: f64,
    /// PIT values under 1% and over 99%: counts, against 1% of `observations` each.
    pub below_1pct: u64,
    pub above_99pct: u64,
}

impl PitTest {
    /// The 95% interval of the share in a 1% tail.
    pub fn tail_interval(&self, count: u64) -> (f64, f64) {
        wilson(count, self.observations as u64, Z95).unwrap_or((0.0, 1.0))
    }
}

/// The PIT values of `held_back` under `fit`: the variance recursion runs from the sample
/// variance through `fitted` (the returns the fit saw) and on through `held_back`, each
/// return standardized by the variance forecast before it and sent through the unit-
/// variance Student-t CDF.
pub fn garch_pit_values(
    fit: &GarchTFit,
    fitted: &[f64],
    held_back: &[f64],
) -> Result<Vec<f64>, FitError> {
    let (mu, omega, alpha, beta, nu) = (
        fit.mu.value,
        fit.omega.value,
        fit.alpha.value,
        fit.beta.value,
        fit.nu.value,
    );
    let t = StudentsT::new(0.0, 1.0, nu)
        .map_err(|e| FitError::new("nu", format!("no Student-t with nu = {nu}: {e}")))?;
    // A unit-variance t is a standard t scaled by sqrt((nu - 2) / nu).
    let to_standard = (nu / (nu - 2.0)).sqrt();
    let mut h = fit.sample_variance;
    for &r in fitted {
        let e = r - mu;
        h = omega + alpha * e * e + beta * h;
    }
    let mut u = Vec::with_capacity(held_back.len());
    for &r in held_back {
        let e = r - mu;
        u.push(t.cdf(e / h.sqrt() * to_standard));
        h = omega + alpha * e * e + beta * h;
    }
    Ok(u)
}

/// The Kolmogorov-Smirnov and tail test of PIT values `u`.
pub fn pit_test(u: &[f64]) -> PitTest {
    let mut sorted = u.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let d = sorted
        .iter()
        .enumerate()
        .map(|(i, &x)| {
            let (lo, hi) = (i as f64 / n as f64, (i + 1) as f64 / n as f64);
            (x - lo).max(hi - x)
        })
        .fold(0.0, f64::max);
    let root = (n as f64).sqrt();
    PitTest {
        observations: n,
        ks_distance: d,
        p_value: kolmogorov_q((root + 0.12 + 0.11 / root) * d),
        below_1pct: u.iter().filter(|&&x| x < 0.01).count() as u64,
        above_99pct: u.iter().filter(|&&x| x > 0.99).count() as u64,
    }
}

/// `P(K > lambda)` for Kolmogorov's distribution: `2 sum (-1)^(j-1) exp(-2 j^2 lambda^2)`.
pub fn kolmogorov_q(lambda: f64) -> f64 {
    if lambda < 0.2 {
        return 1.0;
    }
    let mut sum = 0.0;
    for j in 1..=100 {
        let term = (-2.0 * (j * j) as f64 * lambda * lambda).exp();
        sum += if j % 2 == 1 { term } else { -term };
        if term < 1e-16 {
            break;
        }
    }
    (2.0 * sum).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fit::{LongRunVariance, fit_garch_t};
    use rand::SeedableRng;
    use rand_distr::{Distribution, StudentT};

    /// Kolmogorov's distribution at its tabulated points: P(K > 1.36) = 0.0494, P(K > 1.63)
    /// = 0.0098.
    #[test]
    fn kolmogorov_tail_matches_its_table() {
        assert!((kolmogorov_q(1.358) - 0.05).abs() < 5e-4);
        assert!((kolmogorov_q(1.628) - 0.01).abs() < 2e-4);
        assert_eq!(kolmogorov_q(0.1), 1.0);
    }

    /// Returns simulated from a GARCH-t pass the PIT on the part held back from the fit; the
    /// same held-back returns with a drift fail it.
    #[test]
    fn the_pit_passes_the_model_and_refuses_a_break() {
        let (omega, alpha, beta, nu): (f64, f64, f64, f64) = (2e-6, 0.08, 0.9, 4.0);
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(11);
        let t = StudentT::new(nu).unwrap();
        let scale = ((nu - 2.0) / nu).sqrt();
        let mut h = omega / (1.0 - alpha - beta);
        let r: Vec<f64> = (0..6000)
            .map(|_| {
                let x = h.sqrt() * scale * t.sample(&mut rng);
                h = omega + alpha * x * x + beta * h;
                x
            })
            .collect();
        let (fitted, held) = r.split_at(4500);
        let fit = fit_garch_t(fitted, 3600.0, LongRunVariance::Free).unwrap();
        let good = pit_test(&garch_pit_values(&fit, fitted, held).unwrap());
        assert!(good.p_value > 0.01, "{good:?}");
        // The held-back part with a drift of half a standard deviation a step (which the
        // variance recursion cannot absorb, unlike a change of scale): far from uniform.
        let sd = fit.sample_variance.sqrt();
        let broken: Vec<f64> = held.iter().map(|x| x + 0.5 * sd).collect();
        let bad = pit_test(&garch_pit_values(&fit, fitted, &broken).unwrap());
        assert!(bad.p_value < 1e-6, "{bad:?}");
        assert!(
            bad.ks_distance > 10.0 * good.ks_distance,
            "{bad:?} {good:?}"
        );
    }
}
