//! Historical replay: the exact path of a price column, rescaled to the scenario's `S0`, one
//! file row per step, optionally with its returns scaled by a volatility multiplier
//! (MODEL.md section 1). Every seed sees the same path; only the agents differ.

use std::sync::Arc;

use super::data::PriceSeries;
use super::intrabar::{self, Bar, BarWalk};
use super::{Horizon, PriceModel, SANE_PRICE_FACTOR};
use crate::params::{ParamError, ParamResult};
use rand::Rng;

#[derive(Clone, Debug, PartialEq)]
pub struct ReplayParams {
    returns: Arc<Vec<f64>>,
    /// With intrabar paths: the bars (log prices relative to the close before each) and the
    /// steps each spans.
    bars: Option<(Arc<Vec<Bar>>, usize)>,
}

impl ReplayParams {
    /// The horizon's rule: the replayed path, each return scaled by `vol_multiplier`, may
    /// not leave the range within the horizon.
    pub fn check_horizon(
        series: &PriceSeries,
        vol_multiplier: f64,
        horizon: &Horizon,
    ) -> Result<(), ParamError> {
        let scaled: Vec<f64> = series
            .log_returns()
            .iter()
            .map(|r| r * vol_multiplier)
            .collect();
        horizon.check_replayed("vol_multiplier", &scaled)
    }

    /// [`Self::check_horizon`] for bars walked intrabar: the closes, unscaled.
    pub fn check_horizon_bars(close: &PriceSeries, horizon: &Horizon) -> Result<(), ParamError> {
        horizon.check_replayed("vol_multiplier", &close.log_returns())
    }

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
    /// path inside each (see [`crate::market::intrabar`]), at `dt_seconds` per step. The path
    /// starts at the first row's close and replays the bars after it, so at every bar's end
    /// it is where the bar-by-bar replay is.
    pub fn with_bars(ohlc: [&PriceSeries; 4], dt_seconds: f64, steps: u64) -> ParamResult<Self> {
        let (bars, per_bar) = intrabar::bars_of(ohlc, dt_seconds)?;
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

/// The rows of a replayed file before the replay's first (MODEL.md section 3: a warm book on
/// a replay opens over the data that preceded it), relative to the first row's close and
/// counted from t = 0 back: `close[j]` is the close `j` rows before t = 0 (`close[0] = 1`).
/// With bars, `low[i]` and `high[i]` bound the bar that ends at `close[i]` (empty without
/// bars: a book replayed close to close saw only the closes).
#[derive(Clone, Debug, PartialEq)]
pub struct ReplayHistory {
    close: Vec<f64>,
    low: Vec<f64>,
    high: Vec<f64>,
}

impl ReplayHistory {
    /// From `close`, the file's rows oldest first ending at the replay's first row, each log
    /// move from that row scaled by `vol_multiplier` as the replay scales its returns; with
    /// `bars`, the same rows' lows and highs (each row's bar ends at its close).
    pub fn new(
        close: &PriceSeries,
        bars: Option<(&PriceSeries, &PriceSeries)>,
        vol_multiplier: f64,
    ) -> ParamResult<Self> {
        let Some(&last) = close.prices.last() else {
            return Err(ParamError::new("path", "no row before the replay's start"));
        };
        // Unscaled rows divide exactly (a row at the start's price is 1, bit for bit).
        let relative = |p: f64| {
            if vol_multiplier == 1.0 {
                p / last
            } else {
                f64::exp(vol_multiplier * (p / last).ln())
            }
        };
        let back =
            |s: &PriceSeries| -> Vec<f64> { s.prices.iter().rev().map(|&p| relative(p)).collect() };
        let (low, high) = match bars {
            None => (Vec::new(), Vec::new()),
            Some((low, high)) => {
                if low.prices.len() != close.prices.len() || high.prices.len() != close.prices.len()
                {
                    return Err(ParamError::new(
                        "path",
                        "the low and high columns before the replay's start do not have a row for every close",
                    ));
                }
                (back(low), back(high))
            }
        };
        let close = back(close);
        let sane = |x: &f64| (1.0 / SANE_PRICE_FACTOR..=SANE_PRICE_FACTOR).contains(x);
        if !close.iter().chain(&low).chain(&high).all(sane) {
            return Err(ParamError::new(
                "vol_multiplier",
                format!(
                    "takes the rows before the replay's start beyond the factor \
                     {SANE_PRICE_FACTOR:e} from its first price that any market reaches"
                ),
            ));
        }
        Ok(Self { close, low, high })
    }

    /// Rows before t = 0.
    pub fn rows(&self) -> usize {
        self.close.len() - 1
    }

    /// The close `j` rows before t = 0, relative to t = 0's.
    pub fn close(&self, j: usize) -> f64 {
        self.close[j]
    }

    /// The lowest and highest price of the bar that ends `j` rows before t = 0, relative
    /// (its close alone without bars).
    pub fn bar_range(&self, j: usize) -> (f64, f64) {
        match (self.low.get(j), self.high.get(j)) {
            (Some(&low), Some(&high)) => (low.min(self.close[j]), high.max(self.close[j])),
            _ => (self.close[j], self.close[j]),
        }
    }
}

/// Position in the replayed returns (or bars).
#[derive(Clone, Debug)]
pub struct Replay {
    p: ReplayParams,
    next: usize,
    /// With intrabar paths: the walk through the current bar.
    walk: BarWalk,
}

impl Replay {
    pub fn new(p: &ReplayParams) -> Self {
        Self {
            p: p.clone(),
            next: 0,
            walk: BarWalk::default(),
        }
    }
}

impl PriceModel for Replay {
    #[inline]
    fn next_log_return<R: Rng + ?Sized>(&mut self, rng: &mut R) -> f64 {
        if let Some((bars, per_bar)) = &self.p.bars {
            if self.walk.needs_bar() {
                // Past the last bar (no run goes there) the path stays where it is.
                let Some(bar) = bars.get(self.next) else {
                    return 0.0;
                };
                self.walk.start_bar(rng, bar, *per_bar);
                self.next += 1;
            }
            return self.walk.next_return();
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

    #[test]
    fn the_horizon_bounds_the_replayed_path() {
        let series = PriceSeries {
            times: vec![0, 60, 120],
            prices: vec![1.0, 1e3, 1e6],
            spacing: 60,
            notes: Vec::new(),
        };
        let h = Horizon {
            dt: 60.0,
            steps: 2,
            path: "market.model",
        };
        // ln 1e6 = 13.8 is within ln 1e8; scaled by 2 it is not.
        assert!(ReplayParams::check_horizon(&series, 1.0, &h).is_ok());
        assert!(ReplayParams::check_horizon_bars(&series, &h).is_ok());
        let e = ReplayParams::check_horizon(&series, 2.0, &h).unwrap_err();
        assert_eq!(e.field, "market.model.vol_multiplier");
    }

    /// The rows before the start are relative to its first price, scaled as the replay
    /// scales its returns, and refused where the scaling takes them out of any market's range.
    #[test]
    fn the_rows_before_the_start_are_relative_and_sane() {
        let series = PriceSeries {
            times: vec![0, 60, 120],
            prices: vec![50.0, 200.0, 100.0],
            spacing: 60,
            notes: vec![],
        };
        let h = ReplayHistory::new(&series, None, 1.0).unwrap();
        assert_eq!(h.rows(), 2);
        assert_eq!((h.close(0), h.close(1), h.close(2)), (1.0, 2.0, 0.5));
        assert_eq!(h.bar_range(1), (2.0, 2.0));
        let e = ReplayHistory::new(&series, None, 40.0).unwrap_err();
        assert_eq!(e.field, "vol_multiplier");
    }
}
