//! Regime switching: a Markov chain over K regimes (per-step transition matrix), each regime
//! with a price model of its own, for calm and stressed markets (MODEL.md section 1;
//! Hamilton 1989). The chain moves first, then the current regime's model draws the step.
//! Every regime's model keeps its own state and advances only while its regime is current.

use rand::RngExt;

use super::{PriceModel, PriceModelParams};
use crate::params::{ParamError, ParamResult};
use rand::Rng;

#[derive(Clone, Debug, PartialEq)]
pub struct RegimeParams {
    regimes: Vec<PriceModelParams>,
    /// Row-wise cumulative transition probabilities.
    cumulative: Vec<Vec<f64>>,
    initial: usize,
}

impl RegimeParams {
    /// `transition[i][j]`: probability of moving from regime `i` to `j` in one step; rows must
    /// sum to 1. The chain starts in regime `initial`.
    pub fn new(
        regimes: Vec<PriceModelParams>,
        transition: &[Vec<f64>],
        initial: usize,
    ) -> ParamResult<Self> {
        let k = regimes.len();
        if k == 0 {
            return Err(ParamError::new("regimes", "must list at least one regime"));
        }
        if transition.len() != k || transition.iter().any(|row| row.len() != k) {
            return Err(ParamError::new(
                "transition",
                format!("must be a {k} x {k} matrix (one row and one column per regime)"),
            ));
        }
        let mut cumulative = Vec::with_capacity(k);
        for (i, row) in transition.iter().enumerate() {
            if let Some(p) = row
                .iter()
                .find(|p| !(p.is_finite() && (0.0..=1.0).contains(*p)))
            {
                return Err(ParamError::new(
                    "transition",
                    format!("row {i}: probabilities must be in [0, 1], got {p}"),
                ));
            }
            let sum: f64 = row.iter().sum();
            if (sum - 1.0).abs() > 1e-9 {
                return Err(ParamError::new(
                    "transition",
                    format!("row {i} must sum to 1, sums to {sum}"),
                ));
            }
            let mut acc = 0.0;
            cumulative.push(
                row.iter()
                    .map(|p| {
                        acc += p;
                        acc
                    })
                    .collect(),
            );
        }
        if initial >= k {
            return Err(ParamError::new(
                "initial",
                format!("must be a regime index below {k}, got {initial}"),
            ));
        }
        Ok(Self {
            regimes,
            cumulative,
            initial,
        })
    }
}

impl RegimeParams {
    /// The regimes' common shock law; regimes driven by different laws cannot take one
    /// correlated shock.
    pub fn shock_law(&self) -> Result<super::ShockLaw, &'static str> {
        let mut law = None;
        for r in &self.regimes {
            let l = r.shock_law()?;
            if law.is_some_and(|x| x != l) {
                return Err("its regimes are driven by different shock laws");
            }
            law = Some(l);
        }
        law.ok_or("it has no regimes")
    }
}

/// The chain's current regime and every regime's model.
#[derive(Clone, Debug)]
pub struct RegimeSwitching {
    cumulative: Vec<Vec<f64>>,
    models: Vec<super::PriceModelState>,
    current: usize,
}

impl RegimeSwitching {
    pub fn new(p: &RegimeParams) -> Self {
        Self {
            cumulative: p.cumulative.clone(),
            models: p.regimes.iter().map(PriceModelParams::start).collect(),
            current: p.initial,
        }
    }

    /// The regime the last step was drawn in (before the first step: the initial one).
    pub fn regime(&self) -> usize {
        self.current
    }
}

impl PriceModel for RegimeSwitching {
    fn next_log_return<R: Rng + ?Sized>(&mut self, rng: &mut R) -> f64 {
        let u: f64 = rng.random();
        let row = &self.cumulative[self.current];
        self.current = row.iter().position(|&c| u < c).unwrap_or(row.len() - 1);
        self.models[self.current].next_log_return(rng)
    }

    fn next_log_return_driven<R: Rng + ?Sized>(&mut self, shock: f64, rng: &mut R) -> f64 {
        let u: f64 = rng.random();
        let row = &self.cumulative[self.current];
        self.current = row.iter().position(|&c| u < c).unwrap_or(row.len() - 1);
        self.models[self.current].next_log_return_driven(shock, rng)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::market::GbmParams;
    use crate::rng::{Stream, stream_rng};

    fn gbm(vol: f64) -> PriceModelParams {
        PriceModelParams::Gbm(GbmParams::new(vol, 0.0, 60.0).unwrap())
    }

    /// Long-run share of steps in each regime equals the chain's stationary distribution, and
    /// the mean sojourn in regime i is `1 / (1 - p_ii)` steps. Tolerances: 4 standard errors,
    /// from batch means over independent chains. (Each chain's last, unfinished sojourn is
    /// left out; with about 70 sojourns per chain that shifts the mean by well under 1 SE.)
    #[test]
    fn occupancy_and_sojourns_match_the_chain() {
        let transition = vec![
            vec![0.98, 0.015, 0.005],
            vec![0.05, 0.90, 0.05],
            vec![0.10, 0.10, 0.80],
        ];
        let p = RegimeParams::new(vec![gbm(0.5), gbm(1.0), gbm(2.0)], &transition, 0).unwrap();
        // Stationary distribution by power iteration.
        let mut pi = vec![1.0 / 3.0; 3];
        for _ in 0..10_000 {
            pi = (0..3)
                .map(|j| (0..3).map(|i| pi[i] * transition[i][j]).sum())
                .collect();
        }
        let mut rng = stream_rng(31, 0, Stream::Market);
        // Occupancy is counted after a burn-in, so the start in regime 0 does not bias it.
        let (chains, burn_in, steps) = (200, 500, 5_000);
        let mut share = [crate::stats::Moments::default(); 3];
        let mut sojourns = [crate::stats::Moments::default(); 3];
        for _ in 0..chains {
            let mut m = RegimeSwitching::new(&p);
            let mut counts = [0u64; 3];
            let (mut run_regime, mut run_len) = (usize::MAX, 0u64);
            for _ in 0..burn_in {
                m.next_log_return(&mut rng);
            }
            for _ in 0..steps {
                m.next_log_return(&mut rng);
                let r = m.regime();
                counts[r] += 1;
                if r == run_regime {
                    run_len += 1;
                } else {
                    if run_regime != usize::MAX {
                        sojourns[run_regime].push(run_len as f64);
                    }
                    (run_regime, run_len) = (r, 1);
                }
            }
            for (s, c) in share.iter_mut().zip(counts) {
                s.push(c as f64 / steps as f64);
            }
        }
        for i in 0..3 {
            let got = share[i].mean().unwrap();
            assert!(
                (got - pi[i]).abs() < 4.0 * share[i].std_error().unwrap(),
                "share {i}: {got} vs {}",
                pi[i]
            );
            let expected = 1.0 / (1.0 - transition[i][i]);
            let s = sojourns[i].mean().unwrap();
            assert!(
                (s - expected).abs() < 4.0 * sojourns[i].std_error().unwrap(),
                "sojourn {i}: {s} vs {expected}"
            );
        }
    }

    #[test]
    fn rejects_rows_that_do_not_sum_to_one() {
        let e = RegimeParams::new(
            vec![gbm(0.5), gbm(1.0)],
            &[vec![0.9, 0.2], vec![0.5, 0.5]],
            0,
        )
        .unwrap_err();
        assert_eq!(e.field, "transition");
        assert!(e.rule.contains("row 0 must sum to 1"));
        assert!(RegimeParams::new(vec![gbm(0.5)], &[vec![1.0]], 1).is_err());
    }
}
