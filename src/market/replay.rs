//! Historical replay: the exact path of a price column, rescaled to the scenario's `S0`, one
//! file row per step, optionally with its returns scaled by a volatility multiplier
//! (MODEL.md section 1). Every seed sees the same path; only the agents differ.

use std::sync::Arc;

use super::PriceModel;
use super::data::PriceSeries;
use super::intrabar::{self, Bar, MIN_STEPS_PER_BAR};
use crate::params::{ParamError, ParamResult};
use rand::Rng;

#[derive(Clone, Debug, PartialEq)]
pub struct ReplayParams {
    returns: Arc<Vec<f64>>,
    /// With intrabar paths: the bars in log prices relative to the first close, and the steps
    /// each spans.
    bars: Option<(Arc<Vec<Bar>>, usize)>,
}

impl ReplayParams {
    /// Replays `series` at `dt_seconds` per step for `steps` steps; the file's spacing must
    /// equal the step and the file must be long enough.
    pub fn new(
        series: &PriceSeries,
        vol_multiplier: f64,
        dt_seconds: f64,
        steps: u64,
    ) -> ParamResult<Self> {
        let returns = series.step_returns(vol_multiplier, dt_seconds)?;
        if (returns.len() as u64) < steps {
            return Err(ParamError::new(
                "end",
                format!(
                    "the replayed window has {} steps of returns but the experiment runs {steps}; widen the window or lower experiment.steps",
                    returns.len()
                ),
            ));
        }
        Ok(Self {
            returns: Arc::new(returns),
            bars: None,
        })
    }

    /// Replays the bars of `open`, `high`, `low` and `close` (the same rows) with an intrabar
    /// path inside each (see [`crate::market::intrabar`]), at `dt_seconds` per step: the
    /// bars' spacing must be a whole number, at least [`MIN_STEPS_PER_BAR`], of steps. The
    /// path starts at the first row's close and replays the bars after it, so at every bar's
    /// end it is where the bar-by-bar replay is.
    pub fn with_bars(ohlc: [&PriceSeries; 4], dt_seconds: f64, steps: u64) -> ParamResult<Self> {
        let [open, high, low, close] = ohlc;
        let ratio = close.spacing as f64 / dt_seconds;
        let per_bar = ratio.round();
        if (ratio - per_bar).abs() > 1e-9 || per_bar < MIN_STEPS_PER_BAR as f64 {
            return Err(ParamError::new(
                "intrabar",
                format!(
                    "needs bars a whole number of steps long, at least {MIN_STEPS_PER_BAR}: the \
                     rows are {} s apart and a step is {dt_seconds} s (try dt_seconds = {})",
                    close.spacing,
                    close.spacing as f64 / 60.0
                ),
            ));
        }
        let per_bar = per_bar as usize;
        let n = close.prices.len();
        if [open, high, low]
            .iter()
            .any(|s| s.prices.len() != n || s.times != close.times)
        {
            return Err(ParamError::new(
                "intrabar",
                "the open, high, low and close columns must cover the same rows",
            ));
        }
        let base = close.prices.first().copied().unwrap_or(1.0).ln();
        let mut bars = Vec::with_capacity(n.saturating_sub(1));
        for i in 1..n {
            let (o, h, l, c) = (
                open.prices[i],
                high.prices[i],
                low.prices[i],
                close.prices[i],
            );
            if !(l <= o.min(c) && h >= o.max(c)) {
                return Err(ParamError::new(
                    "intrabar",
                    format!(
                        "the bar at {} is not a bar: low {l}, high {h}, open {o}, close {c} \
                         (low must be at most open and close, high at least)",
                        super::data::format_time(close.times[i])
                    ),
                ));
            }
            bars.push(Bar {
                open: o.ln() - base,
                high: h.ln() - base,
                low: l.ln() - base,
                close: c.ln() - base,
            });
        }
        if ((bars.len() * per_bar) as u64) < steps {
            return Err(ParamError::new(
                "end",
                format!(
                    "the replayed window has {} bars of {per_bar} steps but the experiment runs \
                     {steps} steps; widen the window or lower experiment.steps",
                    bars.len()
                ),
            ));
        }
        Ok(Self {
            returns: Arc::new(Vec::new()),
            bars: Some((Arc::new(bars), per_bar)),
        })
    }
}

/// Position in the replayed returns (or bars).
#[derive(Clone, Debug)]
pub struct Replay {
    p: ReplayParams,
    next: usize,
    /// With intrabar paths: the current bar's points (log prices) and the last one used.
    points: Vec<f64>,
    at: usize,
    level: f64,
}

impl Replay {
    pub fn new(p: &ReplayParams) -> Self {
        Self {
            p: p.clone(),
            next: 0,
            points: Vec::new(),
            at: 0,
            level: 0.0,
        }
    }
}

impl PriceModel for Replay {
    #[inline]
    fn next_log_return<R: Rng + ?Sized>(&mut self, rng: &mut R) -> f64 {
        if let Some((bars, per_bar)) = &self.p.bars {
            if self.at == self.points.len() {
                // Past the last bar (no run goes there) the path stays where it is.
                let Some(bar) = bars.get(self.next) else {
                    return 0.0;
                };
                self.points.clear();
                intrabar::bar_path(rng, bar, *per_bar, &mut self.points);
                self.next += 1;
                self.at = 0;
            }
            let x = self.points[self.at];
            self.at += 1;
            let r = x - self.level;
            self.level = x;
            return r;
        }
        // Validation guarantees enough returns for every step of a run.
        let r = self.p.returns.get(self.next).copied().unwrap_or(0.0);
        self.next += 1;
        r
    }

    /// A historical path has no shock to drive (validation keeps it out of correlations).
    fn next_log_return_driven<R: Rng + ?Sized>(&mut self, _shock: f64, rng: &mut R) -> f64 {
        self.next_log_return(rng)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Stream, stream_rng};

    #[test]
    fn the_replayed_path_is_the_file_rescaled() {
        let series = PriceSeries {
            times: vec![0, 60, 120, 180],
            prices: vec![100.0, 110.0, 99.0, 120.0],
            spacing: 60,
            notes: vec![],
        };
        let p = ReplayParams::new(&series, 1.0, 60.0, 3).unwrap();
        let mut m = Replay::new(&p);
        let mut rng = stream_rng(1, 0, Stream::Market);
        let s0 = 30_000.0;
        let mut s = s0;
        for price in &series.prices[1..] {
            s *= m.next_log_return(&mut rng).exp();
            assert!((s / s0 - price / 100.0).abs() < 1e-12);
        }
        assert_eq!(
            ReplayParams::new(&series, 1.0, 3_600.0, 3)
                .unwrap_err()
                .field,
            "path"
        );
        assert_eq!(
            ReplayParams::new(&series, 1.0, 60.0, 4).unwrap_err().field,
            "end"
        );
    }
}
