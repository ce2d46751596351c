//! Intrabar paths (MODEL.md section 1): inside each published bar, a path drawn per seed from
//! the market stream that starts at the bar's open, ends at its close and touches its high
//! and its low, in random order at random times, so that every seed's path is consistent with
//! the published OHLC bar. Real engines liquidate within seconds; a replay stepped at the
//! bar turns every fast move into a gap through every bankruptcy price. Gauntlet's
//! methodology uses Brownian bridges for the same reason.
//!
//! Each piece between two fixed points (open, first extreme, second extreme, close) is a
//! Brownian bridge at the bar's own volatility, the Parkinson (1980) estimate from its range,
//! `sigma_bar^2 = ln(H / L)^2 / (4 ln 2)`, held inside `[L, H]` (a point that would leave the
//! range is set on its edge, so the extremes stay the bar's).

use rand::{Rng, RngExt};
use rand_distr::{Distribution, StandardNormal};

use super::data::{PriceSeries, format_time};
use crate::params::{ParamError, ParamResult};

/// One bar in log prices.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bar {
    pub open: f64,
    pub high: f64,
    pub low: f64,
    pub close: f64,
}

impl Bar {
    /// The bar's variance of log price implied by its range (Parkinson 1980).
    pub fn parkinson_variance(&self) -> f64 {
        let range = self.high - self.low;
        range * range / (4.0 * std::f64::consts::LN_2)
    }
}

/// The least steps a bar may span: one for each extreme inside it and one for the close.
pub const MIN_STEPS_PER_BAR: usize = 3;

/// Appends to `out` the `n` points after `from` of a Brownian bridge that reaches `to` at the
/// `n`-th, with variance `step_variance` per step, drawn point by point from its exact
/// conditional law: `X_k | X_{k-1} ~ N(X_{k-1} + (to - X_{k-1}) / m, v (m - 1) / m)`, `m` the
/// steps left. At step `k` of `n` its variance is `v k (n - k) / n`, `v` the per-step
/// variance (`sigma^2 t (T - t) / T` in time units). The last point is `to` exactly.
pub fn brownian_bridge<R: Rng + ?Sized>(
    rng: &mut R,
    from: f64,
    to: f64,
    n: usize,
    step_variance: f64,
    out: &mut Vec<f64>,
) {
    let mut x = from;
    for k in 1..=n {
        let left = (n - k + 1) as f64;
        if k == n {
            x = to;
        } else {
            let z: f64 = StandardNormal.sample(rng);
            x += (to - x) / left + (step_variance * (left - 1.0) / left).sqrt() * z;
        }
        out.push(x);
    }
}

/// Appends to `out` the `n` points (log prices) of one bar's path after its open: it
/// touches the high and the low at two distinct times before the last point (which comes
/// first is a coin toss) and ends at the close. `n` is at least [`MIN_STEPS_PER_BAR`].
pub fn bar_path<R: Rng + ?Sized>(rng: &mut R, bar: &Bar, n: usize, out: &mut Vec<f64>) {
    debug_assert!(n >= MIN_STEPS_PER_BAR);
    let start = out.len();
    let high_first = rng.random::<f64>() < 0.5;
    // Two distinct times in 1..n: the first uniform on n - 1 slots, the second on the rest.
    let a = rng.random_range(1..n);
    let mut b = rng.random_range(1..n - 1);
    if b >= a {
        b += 1;
    }
    let (t1, t2) = (a.min(b), a.max(b));
    let (first, second) = if high_first {
        (bar.high, bar.low)
    } else {
        (bar.low, bar.high)
    };
    let v = bar.parkinson_variance() / n as f64;
    brownian_bridge(rng, bar.open, first, t1, v, out);
    brownian_bridge(rng, first, second, t2 - t1, v, out);
    brownian_bridge(rng, second, bar.close, n - t2, v, out);
    for x in &mut out[start..] {
        *x = x.clamp(bar.low, bar.high);
    }
    // Clamping leaves the fixed points as they are: they are inside [low, high] already.
    out[start + t1 - 1] = first;
    out[start + t2 - 1] = second;
    out[start + n - 1] = bar.close;
}

/// The bars of `open`, `high`, `low` and `close` (the same rows), each in log prices relative
/// to the close before it (the first row gives only its close), and the steps of
/// `dt_seconds` each spans: a whole number, at least [`MIN_STEPS_PER_BAR`].
pub fn bars_of(ohlc: [&PriceSeries; 4], dt_seconds: f64) -> ParamResult<(Vec<Bar>, usize)> {
    let [open, high, low, close] = ohlc;
    let ratio = close.spacing as f64 / dt_seconds;
    let per_bar = ratio.round();
    if (ratio - per_bar).abs() > 1e-9 || per_bar < MIN_STEPS_PER_BAR as f64 {
        return Err(ParamError::new(
            "intrabar",
            format!(
                "needs bars a whole number of steps long, at least {MIN_STEPS_PER_BAR}: the rows \
                 are {} s apart and a step is {dt_seconds} s (try experiment.dt_seconds = 60)",
                close.spacing
            ),
        ));
    }
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
                    "the bar at {} is not a bar: low {l}, high {h}, open {o}, close {c} (the \
                     low must be at most the open and the close, the high at least)",
                    format_time(close.times[i])
                ),
            ));
        }
        let base = close.prices[i - 1].ln();
        bars.push(Bar {
            open: o.ln() - base,
            high: h.ln() - base,
            low: l.ln() - base,
            close: c.ln() - base,
        });
    }
    if bars.is_empty() {
        return Err(ParamError::new("path", "the window holds no bars"));
    }
    Ok((bars, per_bar as usize))
}

/// A path walked step by step through bars: the current bar's points and the last one
/// handed out, as log price from where the path began.
#[derive(Clone, Debug, Default)]
pub struct BarWalk {
    points: Vec<f64>,
    at: usize,
    level: f64,
}

impl BarWalk {
    /// Whether the current bar is spent (a new one must start before the next step).
    #[inline]
    pub fn needs_bar(&self) -> bool {
        self.at == self.points.len()
    }

    /// Draws the path through `bar` (relative to the close before it, which is where the
    /// walk stands) in `per_bar` steps.
    pub fn start_bar<R: Rng + ?Sized>(&mut self, rng: &mut R, bar: &Bar, per_bar: usize) {
        self.points.clear();
        bar_path(rng, bar, per_bar, &mut self.points);
        let base = self.level;
        for x in &mut self.points {
            *x += base;
        }
        self.at = 0;
    }

    /// The next step's log return.
    #[inline]
    pub fn next_return(&mut self) -> f64 {
        let x = self.points[self.at];
        self.at += 1;
        let r = x - self.level;
        self.level = x;
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SimRng;
    use rand::SeedableRng;

    /// An unconstrained bridge's variance at step k of n is `v k (n - k) / n`, `v` the
    /// per-step variance: `sigma^2 t (T - t) / T`, within 4 SE at every step checked.
    #[test]
    fn the_bridge_has_the_brownian_bridge_variance() {
        let mut rng = SimRng::seed_from_u64(11);
        let (n, v, paths) = (20, 0.5, 40_000);
        let mut sums = vec![(0.0, 0.0); n];
        let mut out = Vec::with_capacity(n);
        for _ in 0..paths {
            out.clear();
            brownian_bridge(&mut rng, 1.0, 3.0, n, v, &mut out);
            for (k, &x) in out.iter().enumerate() {
                // Deviation from the straight line from 1 to 3.
                let d = x - (1.0 + 2.0 * (k + 1) as f64 / n as f64);
                sums[k].0 += d;
                sums[k].1 += d * d;
            }
        }
        assert_eq!(out[n - 1], 3.0);
        for k in [1, 5, 10, 15, 19] {
            let t = k as f64;
            let want = v * t * (n as f64 - t) / n as f64;
            let mean = sums[k - 1].0 / paths as f64;
            let var = sums[k - 1].1 / paths as f64 - mean * mean;
            // The sample variance of a normal has standard error var sqrt(2 / (N - 1)).
            let se = want * (2.0 / (paths as f64 - 1.0)).sqrt();
            assert!((var - want).abs() < 4.0 * se, "step {k}: {var} vs {want}");
            assert!(
                mean.abs() < 4.0 * (want / paths as f64).sqrt(),
                "step {k}: {mean}"
            );
        }
    }

    /// Every path starts after the open, reaches the high and the low exactly, never leaves
    /// them, and ends at the close, whatever the seed and the bar's length.
    #[test]
    fn a_bar_path_touches_its_high_and_low_and_ends_at_its_close() {
        let bar = Bar {
            open: 0.0,
            high: 0.02,
            low: -0.05,
            close: -0.01,
        };
        for (seed, n) in (0..500).zip([3usize, 4, 7, 60].into_iter().cycle()) {
            let mut rng = SimRng::seed_from_u64(seed);
            let mut out = vec![9.0];
            bar_path(&mut rng, &bar, n, &mut out);
            let path = &out[1..];
            assert_eq!(path.len(), n);
            assert_eq!(path[n - 1], bar.close);
            assert!(path.contains(&bar.high) && path.contains(&bar.low));
            assert!(path.iter().all(|&x| (bar.low..=bar.high).contains(&x)));
        }
    }
}
