//! Quantiles of the fund balance over time across seeds (the fan chart), aggregated as runs
//! stream: each run hands over its balance at a few checkpoints, which land in per-checkpoint
//! histograms and are then dropped. Counts are integers, so the aggregate does not depend on
//! the order in which runs finish.

use crate::simulation::{RunObserver, StepView};

/// Bins per decade of the log-spaced histogram: adjacent edges differ by 10^(1/60), about
/// 3.9%, so a quantile read at the bin's geometric centre is within 2% of the exact one.
const PER_DECADE: f64 = 60.0;
/// The histogram spans 1 USD to 1e13 USD; balances of 0 (or less) have their own bin.
const DECADES: f64 = 13.0;
const BINS: usize = (PER_DECADE * DECADES) as usize + 2;

/// At most `max_points` steps from 0 to `steps`, evenly spread, both ends included.
pub fn checkpoints(steps: u64, max_points: usize) -> Vec<u64> {
    let n = (max_points.max(2) as u64 - 1).min(steps);
    let mut v: Vec<u64> = (0..=n).map(|i| i * steps / n.max(1)).collect();
    v.dedup();
    v
}

/// Observer that records the fund balance at the checkpoints of one run.
pub struct FundSampler<'a> {
    checkpoints: &'a [u64],
    pub values: Vec<f64>,
}

impl<'a> FundSampler<'a> {
    pub fn new(checkpoints: &'a [u64]) -> Self {
        Self {
            checkpoints,
            values: Vec::with_capacity(checkpoints.len()),
        }
    }
}

impl RunObserver for FundSampler<'_> {
    #[inline]
    fn on_step(&mut self, view: &StepView) {
        if self.checkpoints.get(self.values.len()) == Some(&view.step) {
            self.values.push(view.fund_balance);
        }
    }
}

fn bin(v: f64) -> usize {
    if v.is_nan() || v < 1.0 {
        return 0; // zero (or dust below 1 USD): the depleted bin
    }
    ((v.log10() * PER_DECADE).floor() as usize + 1).min(BINS - 1)
}

fn bin_centre(b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        10f64.powf((b as f64 - 0.5) / PER_DECADE)
    }
}

/// The fan's five quantiles of the fund balance at one time, by name.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FanBand {
    pub p5: f64,
    pub p25: f64,
    pub p50: f64,
    pub p75: f64,
    pub p95: f64,
}

/// Fund balance quantiles at one checkpoint.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FanPoint {
    pub step: u64,
    pub band: FanBand,
}

/// Per-checkpoint histograms of the fund balance of one cell. Each bin also keeps its least
/// and its most balance and how many runs hold each (exact, and independent of the order
/// runs arrive in), so that a quantile whose rank falls on them reads the balance itself
/// and any other is read inside the bin's own range: a balance most runs share (every fund
/// at its start, or untouched so far) is given exactly, where the bin's centre would be up
/// to 2% off (issue 34, item 11: the fan's median started 2% under the initial fund).
#[derive(Clone, Debug)]
pub struct FanAggregate {
    checkpoints: Vec<u64>,
    counts: Vec<u32>,
    least: Vec<Extreme>,
    most: Vec<Extreme>,
    runs: u64,
}

/// A bin's least (or most) balance and the runs that hold it.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Extreme {
    value: f64,
    runs: u32,
}

impl Extreme {
    const NONE_LEAST: Self = Self {
        value: f64::INFINITY,
        runs: 0,
    };
    const NONE_MOST: Self = Self {
        value: f64::NEG_INFINITY,
        runs: 0,
    };

    /// Takes in `other` (a balance, or another aggregate's extreme): `further` says
    /// whether a value lies beyond this one in the extreme's direction.
    fn take(&mut self, other: Self, further: fn(f64, f64) -> bool) {
        if further(other.value, self.value) {
            *self = other;
        } else if other.value == self.value {
            self.runs += other.runs;
        }
    }
}

impl FanAggregate {
    pub fn new(checkpoints: Vec<u64>) -> Self {
        let n = checkpoints.len() * BINS;
        Self {
            checkpoints,
            counts: vec![0; n],
            least: vec![Extreme::NONE_LEAST; n],
            most: vec![Extreme::NONE_MOST; n],
            runs: 0,
        }
    }

    pub fn checkpoints(&self) -> &[u64] {
        &self.checkpoints
    }

    /// Adds one run's balances at the checkpoints.
    pub fn push(&mut self, values: &[f64]) {
        for (j, &v) in values.iter().enumerate().take(self.checkpoints.len()) {
            let b = bin(v);
            let at = j * BINS + b;
            self.counts[at] += 1;
            // The depleted bin reads 0 whatever dust it holds.
            let value = if b == 0 { 0.0 } else { v };
            let one = Extreme { value, runs: 1 };
            self.least[at].take(one, |a, b| a < b);
            self.most[at].take(one, |a, b| a > b);
        }
        self.runs += 1;
    }

    pub fn merge(&mut self, other: &FanAggregate) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        for (a, b) in self.least.iter_mut().zip(&other.least) {
            a.take(*b, |x, y| x < y);
        }
        for (a, b) in self.most.iter_mut().zip(&other.most) {
            a.take(*b, |x, y| x > y);
        }
        self.runs += other.runs;
    }

    fn quantile(&self, j: usize, p: f64) -> f64 {
        let h = &self.counts[j * BINS..(j + 1) * BINS];
        let rank = ((p * self.runs as f64).ceil() as u64).max(1);
        let mut seen = 0u64;
        for (b, &c) in h.iter().enumerate() {
            seen += c as u64;
            if seen >= rank {
                // The rank's place in this bin, 1-based from its least balance.
                let within = rank - (seen - c as u64);
                let (least, most) = (self.least[j * BINS + b], self.most[j * BINS + b]);
                return if within <= u64::from(least.runs) {
                    least.value
                } else if within > c as u64 - u64::from(most.runs) {
                    most.value
                } else {
                    bin_centre(b).max(least.value).min(most.value)
                };
            }
        }
        // Only a run that stopped before checkpoint `j` leaves fewer balances there than runs
        // (such a run is refused before any table is written): the ranks it would have filled
        // read as the depleted bin.
        bin_centre(0)
    }

    /// The p5, p25, p50, p75 and p95 bands at every checkpoint.
    pub fn bands(&self) -> Vec<FanPoint> {
        if self.runs == 0 {
            return Vec::new();
        }
        (0..self.checkpoints.len())
            .map(|j| FanPoint {
                step: self.checkpoints[j],
                band: FanBand {
                    p5: self.quantile(j, 0.05),
                    p25: self.quantile(j, 0.25),
                    p50: self.quantile(j, 0.5),
                    p75: self.quantile(j, 0.75),
                    p95: self.quantile(j, 0.95),
                },
            })
            .collect()
    }
}

impl FanAggregate {
    /// A compact little-endian encoding for part files: checkpoint count, runs, checkpoints,
    /// then per checkpoint the number of non-empty bins and for each its bin, count, and
    /// least and most balance with their runs. Most bins are empty, so this is far smaller than the dense histogram.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&(self.checkpoints.len() as u64).to_le_bytes());
        b.extend_from_slice(&self.runs.to_le_bytes());
        for c in &self.checkpoints {
            b.extend_from_slice(&c.to_le_bytes());
        }
        for (j, h) in self.counts.chunks_exact(BINS).enumerate() {
            let nonzero: Vec<(usize, u32)> = h
                .iter()
                .copied()
                .enumerate()
                .filter(|&(_, c)| c > 0)
                .collect();
            b.extend_from_slice(&(nonzero.len() as u32).to_le_bytes());
            for (bin, count) in nonzero {
                b.extend_from_slice(&(bin as u32).to_le_bytes());
                b.extend_from_slice(&count.to_le_bytes());
                for e in [self.least[j * BINS + bin], self.most[j * BINS + bin]] {
                    b.extend_from_slice(&e.value.to_le_bytes());
                    b.extend_from_slice(&e.runs.to_le_bytes());
                }
            }
        }
        b
    }

    /// Decodes [`FanAggregate::to_bytes`]; `None` if the bytes are not such an encoding.
    pub fn from_bytes(b: &[u8]) -> Option<Self> {
        let u64_at = |i: usize| Some(u64::from_le_bytes(b.get(i..i + 8)?.try_into().ok()?));
        let u32_at = |i: usize| Some(u32::from_le_bytes(b.get(i..i + 4)?.try_into().ok()?));
        let k = u64_at(0)? as usize;
        let runs = u64_at(8)?;
        let checkpoints: Vec<u64> = (0..k).map(|j| u64_at(16 + 8 * j)).collect::<Option<_>>()?;
        let f64_at = |i: usize| Some(f64::from_le_bytes(b.get(i..i + 8)?.try_into().ok()?));
        let mut at = 16 + 8 * k;
        let mut fan = Self::new(checkpoints);
        fan.runs = runs;
        for j in 0..k {
            let n = u32_at(at)? as usize;
            at += 4;
            for _ in 0..n {
                let bin = j * BINS + u32_at(at)? as usize;
                *fan.counts.get_mut(bin)? = u32_at(at + 4)?;
                let extreme = |i: usize| {
                    Some(Extreme {
                        value: f64_at(i)?,
                        runs: u32_at(i + 8)?,
                    })
                };
                fan.least[bin] = extreme(at + 8)?;
                fan.most[bin] = extreme(at + 20)?;
                at += 32;
            }
        }
        (at == b.len()).then_some(fan)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoints_cover_both_ends() {
        assert_eq!(checkpoints(1440, 5), vec![0, 360, 720, 1080, 1440]);
        assert_eq!(checkpoints(3, 100), vec![0, 1, 2, 3]);
    }

    #[test]
    fn histogram_quantiles_are_within_two_percent() {
        let mut f = FanAggregate::new(vec![0]);
        // 1000 runs with balances 1000, 2000, ..., 1e6 and 50 depleted runs.
        for i in 1..=1000 {
            f.push(&[1000.0 * i as f64]);
        }
        for _ in 0..50 {
            f.push(&[0.0]);
        }
        let b = f.bands()[0].band;
        // Exact: p5 is rank 53 of 1050 -> the 3rd positive value, 3000; p50 rank 525 -> 475,000.
        assert!((b.p5 / 3000.0 - 1.0).abs() < 0.02, "{}", b.p5);
        assert!((b.p50 / 475_000.0 - 1.0).abs() < 0.02, "{}", b.p50);
        let mut g = FanAggregate::new(vec![0]);
        for _ in 0..100 {
            g.push(&[0.0]);
        }
        assert_eq!(g.bands()[0].band.p95, 0.0);
        // Merging is adding counts.
        let mut m = f.clone();
        m.merge(&g);
        assert_eq!(m.runs, 1150);
        // A bin whose runs all hold one balance gives it exactly: every fund at its start.
        let mut start = FanAggregate::new(vec![0]);
        for _ in 0..10 {
            start.push(&[1e6]);
        }
        start.push(&[0.99e6]);
        let band = start.bands()[0].band;
        assert_eq!((band.p5, band.p50, band.p95), (0.99e6, 1e6, 1e6));
        // Most funds untouched, one run in the same bin a little under: the median is the
        // untouched fund, not the bin's centre (4.93M for a 5M fund).
        let mut untouched = FanAggregate::new(vec![0]);
        for _ in 0..98 {
            untouched.push(&[5e6]);
        }
        untouched.push(&[4.9e6]);
        untouched.push(&[1e6]);
        let band = untouched.bands()[0].band;
        assert_eq!((band.p5, band.p50, band.p95), (5e6, 5e6, 5e6));
        let mut low = FanAggregate::new(vec![0]);
        for _ in 0..10 {
            low.push(&[4.9e6]);
        }
        low.merge(&untouched);
        assert_eq!(low.bands()[0].band.p5, 4.9e6);
        // The part-file encoding round-trips.
        let back = FanAggregate::from_bytes(&m.to_bytes()).unwrap();
        assert_eq!((back.runs, back.bands()), (m.runs, m.bands()));
        assert!(FanAggregate::from_bytes(&m.to_bytes()[..20]).is_none());
    }
}
