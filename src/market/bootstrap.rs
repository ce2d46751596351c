//! Stationary block bootstrap (Politis and Romano 1994) of historical log returns: each step
//! either continues the current block with the next historical return (wrapping around) or,
//! with probability `1 / mean_block`, starts a new block at a uniformly drawn position. Block
//! lengths are geometric with mean `mean_block`, so paths keep fat tails and, for long
//! blocks, volatility clustering (MODEL.md section 1).

use std::sync::Arc;

use rand::RngExt;

use super::data::PriceSeries;
use super::intrabar::{self, Bar, BarWalk};
use super::{Horizon, PriceModel};
use crate::params::{ParamError, ParamResult};
use rand::Rng;

#[derive(Clone, Debug, PartialEq)]
pub struct BootstrapParams {
    returns: Arc<Vec<f64>>,
    restart_probability: f64,
    /// With intrabar paths: the bars resampled (log prices relative to the close before
    /// each) and the steps each spans; blocks then count bars.
    bars: Option<(Arc<Vec<Bar>>, usize)>,
}

impl BootstrapParams {
    /// The horizon's rule for returns resampled from `series`, each scaled by
    /// `vol_multiplier`: four standard deviations of their sum over the horizon.
    pub fn check_horizon(
        series: &PriceSeries,
        vol_multiplier: f64,
        horizon: &Horizon,
    ) -> Result<(), ParamError> {
        let var = variance(&series.log_returns());
        horizon.check_resampled("vol_multiplier", var.sqrt() * vol_multiplier)
    }

    /// [`Self::check_horizon`] for bars walked intrabar: per step, a bar's variance spread
    /// over its steps (the closes are `close`, a step `dt_seconds`).
    pub fn check_horizon_bars(
        close: &PriceSeries,
        dt_seconds: f64,
        horizon: &Horizon,
    ) -> Result<(), ParamError> {
        let var = variance(&close.log_returns());
        let per_bar = close.spacing as f64 / dt_seconds;
        horizon.check_resampled("mean_block", (var / per_bar).sqrt())
    }

    /// Resamples the returns of `series` in blocks of mean length `mean_block` steps; the
    /// file's spacing must equal the step.
    pub fn new(
        series: &PriceSeries,
        mean_block: f64,
        vol_multiplier: f64,
        dt_seconds: f64,
    ) -> ParamResult<Self> {
        let returns = series.step_returns(vol_multiplier, dt_seconds)?;
        Self::from_returns(returns, mean_block)
    }

    /// Resamples `returns` (one per step) in blocks of mean length `mean_block` steps.
    pub fn from_returns(returns: Vec<f64>, mean_block: f64) -> ParamResult<Self> {
        if !(mean_block.is_finite() && mean_block >= 1.0) {
            return Err(ParamError::new(
                "mean_block",
                format!("must be >= 1 step, got {mean_block}"),
            ));
        }
        if returns.is_empty() {
            return Err(ParamError::new("path", "the window holds no returns"));
        }
        Ok(Self {
            returns: Arc::new(returns),
            restart_probability: 1.0 / mean_block,
            bars: None,
        })
    }

    /// Resamples the bars of `ohlc` (open, high, low, close) in blocks of mean length
    /// `mean_block` bars, with an intrabar path inside each drawn bar (see
    /// [`crate::market::intrabar`]) at `dt_seconds` per step.
    pub fn with_bars(
        ohlc: [&PriceSeries; 4],
        mean_block: f64,
        dt_seconds: f64,
    ) -> ParamResult<Self> {
        let (bars, per_bar) = intrabar::bars_of(ohlc, dt_seconds)?;
        let closes = bars.iter().map(|b| b.close).collect();
        let mut p = Self::from_returns(closes, mean_block)?;
        p.bars = Some((Arc::new(bars), per_bar));
        Ok(p)
    }
}

/// Position in the historical returns; `None` before the first draw.
#[derive(Clone, Debug)]
pub struct Bootstrap {
    p: BootstrapParams,
    at: Option<usize>,
    /// With intrabar paths: the walk through the current bar.
    walk: BarWalk,
}

/// The population variance of `returns` (mean first, then the mean square deviation).
fn variance(returns: &[f64]) -> f64 {
    let n = returns.len() as f64;
    let mean = returns.iter().sum::<f64>() / n;
    returns.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / n
}

impl Bootstrap {
    pub fn new(p: &BootstrapParams) -> Self {
        Self {
            p: p.clone(),
            at: None,
            walk: BarWalk::default(),
        }
    }

    /// The next historical row of the resampled sequence: the next in its block, or with
    /// probability `1 / mean_block` (and at the start) the first of a new block.
    #[inline]
    fn next_row<R: Rng + ?Sized>(&mut self, rng: &mut R) -> usize {
        let n = self.p.returns.len();
        let next = match self.at {
            Some(i) if rng.random::<f64>() >= self.p.restart_probability => (i + 1) % n,
            _ => rng.random_range(0..n),
        };
        self.at = Some(next);
        next
    }
}

impl PriceModel for Bootstrap {
    #[inline]
    fn next_log_return<R: Rng + ?Sized>(&mut self, rng: &mut R) -> f64 {
        if let Some((bars, per_bar)) = &self.p.bars {
            if self.walk.needs_bar() {
                let (bars, per_bar) = (Arc::clone(bars), *per_bar);
                let row = self.next_row(rng);
                self.walk.start_bar(rng, &bars[row], per_bar);
            }
            return self.walk.next_return();
        }
        let next = self.next_row(rng);
        self.p.returns[next]
    }

    /// A historical path has no shock to drive (validation keeps it out of correlations).
    fn next_log_return_driven<R: Rng + ?Sized>(&mut self, _shock: f64, rng: &mut R) -> f64 {
        self.next_log_return(rng)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::market::data::load_price_csv;
    use crate::rng::{Stream, stream_rng};
    use crate::stats::Moments;

    fn autocorrelation_of_abs(xs: &[f64], lag: usize) -> f64 {
        let a: Vec<f64> = xs.iter().map(|x| x.abs()).collect();
        let m = a.iter().sum::<f64>() / a.len() as f64;
        let var: f64 = a.iter().map(|x| (x - m).powi(2)).sum();
        let cov: f64 = a.windows(lag + 1).map(|w| (w[0] - m) * (w[lag] - m)).sum();
        cov / var
    }

    /// On the real hourly BTC returns: resampled returns keep the sample mean and variance,
    /// and volatility clustering (autocorrelation of |r| at lag 1) survives long blocks but
    /// vanishes with blocks of one step. Tolerances are 4 standard errors from batch means
    /// over independent paths.
    #[test]
    fn keeps_moments_and_clustering_only_for_long_blocks() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/data/btcusd_bitstamp_1h.csv");
        if !path.exists() {
            return; // the shared data sits beside the repository in CI and on developers' machines
        }
        let series = load_price_csv(&path, "close", "unix").unwrap();
        let hist = series.log_returns();
        let hist_m: Moments = hist.iter().copied().collect();
        let hist_acf = autocorrelation_of_abs(&hist, 1);
        assert!(hist_acf > 0.1, "the data cluster: {hist_acf}");

        let run = |mean_block: f64, seed: u64| {
            let p = BootstrapParams::new(&series, mean_block, 1.0, 3_600.0).unwrap();
            let mut rng = stream_rng(seed, 0, Stream::Market);
            let (mut means, mut vars, mut acfs) =
                (Moments::default(), Moments::default(), Moments::default());
            for _ in 0..40 {
                let mut m = Bootstrap::new(&p);
                let xs: Vec<f64> = (0..5_000).map(|_| m.next_log_return(&mut rng)).collect();
                let s: Moments = xs.iter().copied().collect();
                means.push(s.mean().unwrap());
                vars.push(s.variance().unwrap());
                acfs.push(autocorrelation_of_abs(&xs, 1));
            }
            (means, vars, acfs)
        };
        for (mean_block, seed) in [(100.0, 41), (1.0, 43)] {
            let (means, vars, acfs) = run(mean_block, seed);
            let close = |m: &Moments, target: f64| {
                (m.mean().unwrap() - target).abs() < 4.0 * m.std_error().unwrap()
            };
            assert!(
                close(&means, hist_m.mean().unwrap()),
                "L={mean_block}: mean"
            );
            assert!(
                close(&vars, hist_m.variance().unwrap()),
                "L={mean_block}: variance"
            );
            if mean_block > 1.0 {
                // Clustering survives. Only a share 1/L of lag-1 pairs straddle a restart, so
                // about 99% of the data's autocorrelation is expected; half of it is a bound
                // that only lost clustering would fail (L = 1 sits at 0, checked below).
                assert!(
                    acfs.mean().unwrap() > 0.5 * hist_acf,
                    "L={mean_block}: {}",
                    acfs.mean().unwrap()
                );
            } else {
                // Independent draws: no clustering left.
                assert!(
                    close(&acfs, 0.0),
                    "L=1: {} +- {}",
                    acfs.mean().unwrap(),
                    acfs.std_error().unwrap()
                );
            }
        }
    }

    #[test]
    fn rejects_blocks_shorter_than_a_step() {
        let s = PriceSeries {
            times: vec![0, 60],
            prices: vec![1.0, 2.0],
            spacing: 60,
            notes: vec![],
        };
        assert_eq!(
            BootstrapParams::new(&s, 0.5, 1.0, 60.0).unwrap_err().field,
            "mean_block"
        );
    }

    #[test]
    fn the_horizon_bounds_the_resampled_spread() {
        // Alternating returns of +-0.1 (variance 0.01 a step).
        let prices: Vec<f64> = (0..101)
            .map(|i| {
                if i % 2 == 0 {
                    100.0
                } else {
                    100.0 * 0.1f64.exp()
                }
            })
            .collect();
        let s = PriceSeries {
            times: (0..101).map(|i| i * 60).collect(),
            prices,
            spacing: 60,
            notes: Vec::new(),
        };
        let day = Horizon {
            dt: 60.0,
            steps: 1_440,
            path: "market.model",
        };
        // 4 x 0.1 x sqrt(1440) = 15.2, within ln 1e8 = 18.4; doubled, it is not.
        assert!(BootstrapParams::check_horizon(&s, 1.0, &day).is_ok());
        let e = BootstrapParams::check_horizon(&s, 2.0, &day).unwrap_err();
        assert_eq!(e.field, "market.model.vol_multiplier");
        // Bars of 60 s walked at 15 s: a bar's variance over 4 steps.
        let quarter = Horizon { dt: 15.0, ..day };
        assert!(BootstrapParams::check_horizon_bars(&s, 15.0, &quarter).is_ok());
    }
}
