//! Several markets moving together (MODEL.md section 1): correlated Gaussian shocks through the
//! Cholesky factor of a correlation matrix, and an optional common crash jump that hits every
//! market at once with per-market betas.
//!
//! Markets driven by Student-t shocks share one chi-square mixing draw per step (a
//! multivariate t, as in Demarta and McNeil 2005), so their shocks keep unit variance and the
//! configured correlation exactly, and crash together in the tails. This needs one `nu` for
//! all of them. Between a normal and a t market, the correlation of the shocks is the
//! configured one times `E[sqrt((nu - 2) / W)] < 1`.

use ndarray::Array2;
use rand_distr::{ChiSquared, Distribution, Poisson, StandardNormal};

use super::ShockLaw;
use crate::params::{ParamError, ParamResult, finite, non_negative, positive};
use crate::rng::SimRng;
use crate::stats::cholesky;

/// A crash that hits all markets in the same step: `Poisson(intensity dt)` events per step,
/// each of log size `beta_m * Y` in market `m`, `Y ~ N(jump_mean, jump_sd^2)`, compensated as
/// Merton's jumps are, so that it adds no drift: `E[exp(crash return)] = 1` per step.
#[derive(Clone, Debug, PartialEq)]
pub struct CommonCrash {
    per_step: Poisson<f64>,
    jump_mean: f64,
    jump_sd: f64,
    betas: Vec<f64>,
    compensation: Vec<f64>,
}

impl CommonCrash {
    /// `intensity` in crashes per year; `betas` one per market.
    pub fn new(
        intensity: f64,
        jump_mean: f64,
        jump_sd: f64,
        betas: Vec<f64>,
        dt_seconds: f64,
    ) -> ParamResult<Self> {
        positive("intensity", intensity)?;
        finite("jump_mean", jump_mean)?;
        non_negative("jump_sd", jump_sd)?;
        for (m, b) in betas.iter().enumerate() {
            finite(&format!("betas[{m}]"), *b)?;
        }
        let lambda_dt = intensity * positive("dt_seconds", dt_seconds)? / super::SECONDS_PER_YEAR;
        let per_step =
            Poisson::new(lambda_dt).map_err(|e| ParamError::new("intensity", e.to_string()))?;
        let compensation = betas
            .iter()
            .map(|b| -lambda_dt * ((b * jump_mean + 0.5 * b * b * jump_sd * jump_sd).exp() - 1.0))
            .collect();
        Ok(Self {
            per_step,
            jump_mean,
            jump_sd,
            betas,
            compensation,
        })
    }

    pub fn markets(&self) -> usize {
        self.betas.len()
    }
}

/// The random streams of the joint shocks of one run.
pub struct CommonStreams {
    pub shocks: SimRng,
    pub mixing: SimRng,
    pub crash: SimRng,
}

impl CommonStreams {
    pub fn new(master_seed: u64, seed_index: u64) -> Self {
        use crate::rng::{Stream, stream_rng};
        Self {
            shocks: stream_rng(master_seed, seed_index, Stream::CommonShocks),
            mixing: stream_rng(master_seed, seed_index, Stream::CommonMixing),
            crash: stream_rng(master_seed, seed_index, Stream::CommonCrash),
        }
    }
}

/// The Cholesky factor of the markets' correlation `matrix` (`n x n`, symmetric, unit
/// diagonal, entries in [-1, 1], positive definite); errors name the entry at fault.
fn cholesky_of_correlation(matrix: &[Vec<f64>], n: usize) -> ParamResult<Array2<f64>> {
    if matrix.len() != n || matrix.iter().any(|r| r.len() != n) {
        return Err(ParamError::new(
            "matrix",
            format!("must be {n} x {n}: one row and one column per market"),
        ));
    }
    for (i, row) in matrix.iter().enumerate() {
        for (j, &v) in row.iter().enumerate() {
            if !(v.is_finite() && (-1.0..=1.0).contains(&v)) {
                return Err(ParamError::new(
                    "matrix",
                    format!("entry [{i}][{j}] must be in [-1, 1], got {v}"),
                ));
            }
            if (v - matrix[j][i]).abs() > 1e-12 {
                return Err(ParamError::new(
                    "matrix",
                    format!(
                        "must be symmetric: [{i}][{j}] = {v} but [{j}][{i}] = {}",
                        matrix[j][i]
                    ),
                ));
            }
        }
        if row[i] != 1.0 {
            return Err(ParamError::new(
                "matrix",
                format!("diagonal entry [{i}][{i}] must be 1, got {}", row[i]),
            ));
        }
    }
    let correlation = Array2::from_shape_fn((n, n), |(i, j)| matrix[i][j]);
    cholesky(correlation.view()).ok_or_else(|| {
        ParamError::new(
            "matrix",
            "must be positive definite (no market's shock may be a combination of the others')",
        )
    })
}

/// The one `nu` that correlated Student-t markets share (a common chi-square mixing factor
/// makes their joint law a multivariate t), or `None` when no market draws t shocks.
fn common_nu(laws: &[ShockLaw]) -> ParamResult<Option<f64>> {
    let mut nu = None;
    for law in laws {
        if let ShockLaw::StudentT(v) = *law {
            if nu.is_some_and(|x| x != v) {
                return Err(ParamError::new(
                    "matrix",
                    format!(
                        "markets with Student-t shocks must share one nu to be correlated; found {} and {v}",
                        nu.unwrap_or(v)
                    ),
                ));
            }
            nu = Some(v);
        }
    }
    Ok(nu)
}

/// The joint shock generator of several markets: one step's driving shocks and crash returns.
#[derive(Clone, Debug, PartialEq)]
pub struct CorrelatedShocks {
    /// Lower-triangular Cholesky factor of the correlation, `n x n`.
    cholesky: Array2<f64>,
    n: usize,
    /// Per market: scale its Gaussian by the common t mixing factor.
    student: Vec<bool>,
    mixing: Option<(ChiSquared<f64>, f64)>,
    crash: Option<CommonCrash>,
}

impl CorrelatedShocks {
    /// `matrix` the correlation of the markets' shocks (symmetric, unit diagonal, positive
    /// definite); `laws` each market's shock law; `crash` optional, with one beta per market.
    /// Errors name the entry at fault, with fields relative to `[correlation]`.
    pub fn new(
        matrix: &[Vec<f64>],
        laws: &[ShockLaw],
        crash: Option<CommonCrash>,
    ) -> ParamResult<Self> {
        let n = laws.len();
        let cholesky = cholesky_of_correlation(matrix, n)?;
        let nu = common_nu(laws)?;
        let mixing = nu
            .map(|v| {
                ChiSquared::new(v)
                    .map(|d| (d, v - 2.0))
                    .map_err(|e| ParamError::new("matrix", e.to_string()))
            })
            .transpose()?;
        if let Some(c) = &crash
            && c.markets() != n
        {
            return Err(ParamError::new(
                "crash.betas",
                format!("must give one beta per market ({n}), got {}", c.markets()),
            ));
        }
        Ok(Self {
            cholesky,
            n,
            student: laws
                .iter()
                .map(|l| matches!(l, ShockLaw::StudentT(_)))
                .collect(),
            mixing,
            crash,
        })
    }

    pub fn markets(&self) -> usize {
        self.n
    }

    /// Draws one step: `shocks[m]` drives market `m`'s model, `crash[m]` is added to its log
    /// return. `scratch` holds the independent normals. All slices have one entry per market;
    /// nothing is allocated. The Gaussian shocks, the t mixing and the crashes each have
    /// their own stream, so that changing one (a crash intensity on a grid axis) leaves the
    /// others as they were (common random numbers, MODEL.md section 11).
    #[inline]
    pub fn draw(
        &self,
        rngs: &mut CommonStreams,
        scratch: &mut [f64],
        shocks: &mut [f64],
        crash: &mut [f64],
    ) {
        let n = self.n;
        for z in scratch.iter_mut() {
            *z = StandardNormal.sample(&mut rngs.shocks);
        }
        let t_scale = self
            .mixing
            .as_ref()
            .map(|(chi, nu2)| (nu2 / chi.sample(&mut rngs.mixing)).sqrt());
        for i in 0..n {
            let row = self.cholesky.row(i);
            let mut x: f64 = row.iter().zip(&scratch[..=i]).map(|(l, z)| l * z).sum();
            if self.student[i]
                && let Some(s) = t_scale
            {
                x *= s;
            }
            shocks[i] = x;
        }
        match &self.crash {
            None => crash.iter_mut().for_each(|c| *c = 0.0),
            Some(c) => {
                let events: f64 = c.per_step.sample(&mut rngs.crash);
                let size = if events > 0.0 {
                    let z: f64 = StandardNormal.sample(&mut rngs.crash);
                    events * c.jump_mean + events.sqrt() * c.jump_sd * z
                } else {
                    0.0
                };
                for (m, out) in crash.iter_mut().enumerate() {
                    *out = c.compensation[m] + c.betas[m] * size;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::Moments;

    fn matrix() -> Vec<Vec<f64>> {
        vec![
            vec![1.0, 0.8, -0.3],
            vec![0.8, 1.0, -0.2],
            vec![-0.3, -0.2, 1.0],
        ]
    }

    /// The sample correlation matrix of the shocks recovers the configured one, entry by
    /// entry within 4 standard errors (batch means over 20 batches), with normal shocks and
    /// with common-mixing Student-t shocks; the variances stay 1.
    #[test]
    #[allow(clippy::needless_range_loop)] // i, j index a matrix on both sides
    fn sample_correlations_recover_the_configured_matrix() {
        for laws in [vec![ShockLaw::Normal; 3], vec![ShockLaw::StudentT(6.0); 3]] {
            let c = CorrelatedShocks::new(&matrix(), &laws, None).unwrap();
            let mut rng = CommonStreams::new(5, 0);
            let (mut scratch, mut x, mut crash) = ([0.0; 3], [0.0; 3], [0.0; 3]);
            let mut corr: Vec<Vec<Moments>> = vec![vec![Moments::default(); 3]; 3];
            for _ in 0..20 {
                let mut sums = [[0.0; 3]; 3];
                let n = 20_000;
                for _ in 0..n {
                    c.draw(&mut rng, &mut scratch, &mut x, &mut crash);
                    for i in 0..3 {
                        for j in 0..3 {
                            sums[i][j] += x[i] * x[j];
                        }
                    }
                }
                for i in 0..3 {
                    for j in 0..3 {
                        let r = sums[i][j] / (sums[i][i] * sums[j][j]).sqrt();
                        let v = if i == j { sums[i][i] / n as f64 } else { r };
                        corr[i][j].push(v);
                    }
                }
            }
            for i in 0..3 {
                for j in 0..3 {
                    let m = &corr[i][j];
                    let (got, se) = (m.mean().unwrap(), m.std_error().unwrap());
                    let want = matrix()[i][j];
                    assert!(
                        (got - want).abs() < 4.0 * se,
                        "{laws:?} [{i}][{j}]: {got} vs {want} (se {se})"
                    );
                }
            }
            assert_eq!(crash, [0.0; 3]);
        }
    }

    /// Crashes arrive at `intensity dt` per step, hit every market in the same step in the
    /// ratio of their betas, and add no drift: `E[exp(crash return)] = 1` within 4 SE.
    #[test]
    fn common_crash_hits_all_markets_at_once_without_drift() {
        let dt = 3_600.0;
        let crash = CommonCrash::new(200.0, -0.1, 0.05, vec![1.0, 2.0], dt).unwrap();
        let lambda_dt = 200.0 * dt / super::super::SECONDS_PER_YEAR;
        let c = CorrelatedShocks::new(
            &[vec![1.0, 0.0], vec![0.0, 1.0]],
            &[ShockLaw::Normal; 2],
            Some(crash),
        )
        .unwrap();
        let mut rng = CommonStreams::new(6, 0);
        let (mut scratch, mut x, mut j) = ([0.0; 2], [0.0; 2], [0.0; 2]);
        let n = 400_000;
        let (mut hits, mut growth) = (0u64, Moments::default());
        for _ in 0..n {
            c.draw(&mut rng, &mut scratch, &mut x, &mut j);
            let comp = [j[0], j[1]];
            growth.push(comp[1].exp());
            let base = -lambda_dt * ((-0.1f64 + 0.5 * 0.0025).exp() - 1.0);
            if (comp[0] - base).abs() > 1e-15 {
                hits += 1;
                let base2 = -lambda_dt * ((-0.2f64 + 2.0 * 0.0025).exp() - 1.0);
                assert!(((comp[1] - base2) / (comp[0] - base) - 2.0).abs() < 1e-9);
            }
        }
        let p = 1.0 - (-lambda_dt).exp();
        let se = (p * (1.0 - p) / n as f64).sqrt();
        assert!(
            (hits as f64 / n as f64 - p).abs() < 4.0 * se,
            "{hits} crashes"
        );
        let (g, gse) = (growth.mean().unwrap(), growth.std_error().unwrap());
        assert!((g - 1.0).abs() < 4.0 * gse, "E[exp] = {g} (se {gse})");
    }

    #[test]
    fn bad_matrices_are_refused_naming_the_entry() {
        let laws = [ShockLaw::Normal; 2];
        let e = |m: Vec<Vec<f64>>| CorrelatedShocks::new(&m, &laws, None).unwrap_err().rule;
        assert!(e(vec![vec![1.0, 0.5], vec![0.4, 1.0]]).contains("symmetric"));
        assert!(e(vec![vec![1.0, 1.0], vec![1.0, 1.0]]).contains("positive definite"));
        assert!(e(vec![vec![0.9, 0.0], vec![0.0, 1.0]]).contains("diagonal"));
        assert!(e(vec![vec![1.0]]).contains("2 x 2"));
        let t = [ShockLaw::StudentT(4.0), ShockLaw::StudentT(5.0)];
        let id = vec![vec![1.0, 0.0], vec![0.0, 1.0]];
        assert!(
            CorrelatedShocks::new(&id, &t, None)
                .unwrap_err()
                .rule
                .contains("share one nu")
        );
    }
}
