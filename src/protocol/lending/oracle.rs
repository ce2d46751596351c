//! The push oracle a lending protocol reads (MODEL.md section 14): the feed writes the index
//! when it has moved more than `deviation` since the last write or when `heartbeat` seconds
//! have passed (Chainlink ETH/USD: 0.5%, 3,600 s); the protocol sees each write `lag` seconds
//! late (Maker's OSM: one hour; 0 for Aave and Compound).

use std::collections::VecDeque;

use crate::params::{ParamResult, non_negative, positive};

/// A feed's rules, checked once.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PushOracle {
    deviation: f64,
    heartbeat_seconds: f64,
    lag_seconds: f64,
}

impl PushOracle {
    /// `deviation` a relative move, non-negative (0 writes every change); `heartbeat_seconds`
    /// positive; `lag_seconds` non-negative.
    pub fn new(deviation: f64, heartbeat_seconds: f64, lag_seconds: f64) -> ParamResult<Self> {
        Ok(Self {
            deviation: non_negative("deviation", deviation)?,
            heartbeat_seconds: positive("heartbeat_seconds", heartbeat_seconds)?,
            lag_seconds: non_negative("lag_seconds", lag_seconds)?,
        })
    }

    /// A feed that wrote `index` at time `now` (the start of a run): the protocol sees it at
    /// once, whatever the lag.
    pub fn start(&self, index: f64, now: f64) -> OracleFeed {
        OracleFeed {
            rules: *self,
            last_write: (now, index),
            seen: index,
            pending: VecDeque::new(),
        }
    }
}

/// A feed's state in one run: its last write, the writes the protocol does not see yet, and
/// the price it sees.
#[derive(Clone, Debug, PartialEq)]
pub struct OracleFeed {
    rules: PushOracle,
    last_write: (f64, f64),
    seen: f64,
    /// Writes not yet visible (lag > 0), oldest first, as (time, price).
    pending: VecDeque<(f64, f64)>,
}

impl OracleFeed {
    /// The index at `now` reaches the feed: it writes if the deviation or the heartbeat says
    /// so. Returns the price the protocol sees at `now`.
    pub fn observe(&mut self, index: f64, now: f64) -> f64 {
        let (written_at, written) = self.last_write;
        let moved = (index / written - 1.0).abs() > self.rules.deviation;
        let stale = now - written_at >= self.rules.heartbeat_seconds;
        if moved || stale {
            self.last_write = (now, index);
            self.pending.push_back((now, index));
        }
        while let Some(&(t, price)) = self.pending.front() {
            if t + self.rules.lag_seconds > now {
                break;
            }
            self.seen = price;
            self.pending.pop_front();
        }
        self.seen
    }

    /// The price the protocol sees.
    pub fn price(&self) -> f64 {
        self.seen
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A path that falls 0.3% a minute for an hour, then rises.
    fn path() -> Vec<f64> {
        (0..120)
            .map(|k| {
                let k = k as f64;
                if k < 60.0 {
                    3_000.0 * 0.997f64.powf(k)
                } else {
                    3_000.0 * 0.997f64.powi(60) * 1.002f64.powf(k - 60.0)
                }
            })
            .collect()
    }

    #[test]
    fn a_zero_threshold_without_lag_is_the_index() {
        let oracle = PushOracle::new(0.0, 3_600.0, 0.0).unwrap();
        let p = path();
        let mut feed = oracle.start(p[0], 0.0);
        for (k, &x) in p.iter().enumerate() {
            assert_eq!(feed.observe(x, 60.0 * k as f64), x, "step {k}");
        }
    }

    #[test]
    fn the_feed_writes_on_deviation_or_heartbeat() {
        let oracle = PushOracle::new(0.005, 3_600.0, 0.0).unwrap();
        let mut feed = oracle.start(3_000.0, 0.0);
        // 0.4% off: no write; 0.6% off: a write.
        assert_eq!(feed.observe(2_988.0, 60.0), 3_000.0);
        assert_eq!(feed.observe(2_982.0, 120.0), 2_982.0);
        // Flat for an hour: the heartbeat writes at 120 + 3,600 s.
        assert_eq!(feed.observe(2_983.0, 3_660.0), 2_982.0);
        assert_eq!(feed.observe(2_983.0, 3_720.0), 2_983.0);
    }

    #[test]
    fn a_lag_shows_each_write_late() {
        let oracle = PushOracle::new(0.0, 3_600.0, 3_600.0).unwrap();
        let p = path();
        let mut feed = oracle.start(p[0], 0.0);
        for (k, &x) in p.iter().enumerate() {
            let seen = feed.observe(x, 60.0 * k as f64);
            let expect = if k >= 60 { p[k - 60] } else { p[0] };
            assert_eq!(seen, expect, "step {k}");
        }
    }

    /// A wider threshold can see a lower price first: from 3,000 the index falls to 2,982
    /// (-0.6%: the 0.5% feed writes, the 1% feed does not), then to 2,969 (-0.44% from
    /// 2,982: the 0.5% feed keeps 2,982; -1.03% from 3,000: the 1% feed writes 2,969). A
    /// loan liquidatable below 2,975 is liquidated on the 1% feed and not on the 0.5% one,
    /// so "a wider threshold never liquidates earlier" holds only on average, not path by
    /// path.
    #[test]
    fn a_wider_threshold_can_liquidate_first() {
        let narrow = PushOracle::new(0.005, 3_600.0, 0.0).unwrap();
        let wide = PushOracle::new(0.01, 3_600.0, 0.0).unwrap();
        let (mut n, mut w) = (narrow.start(3_000.0, 0.0), wide.start(3_000.0, 0.0));
        for (t, x) in [(60.0, 2_982.0), (120.0, 2_969.0)] {
            n.observe(x, t);
            w.observe(x, t);
        }
        assert_eq!((n.price(), w.price()), (2_982.0, 2_969.0));
        assert!(w.price() < 2_975.0 && n.price() > 2_975.0);
    }

    /// How often, on GBM paths like R3's (75% vol, one-minute steps, a day), the 1% feed
    /// liquidates a loan before the 0.5% feed, against the other way round: loans with
    /// liquidation prices from 95% to 99.5% of the start, 2,000 seeds.
    fn earlier_counts() -> (u64, u64, u64) {
        use crate::rng::{Stream, stream_rng};
        use rand_distr::{Distribution, StandardNormal};
        let sigma = 0.75 * (60.0f64 / (365.0 * 86_400.0)).sqrt();
        let narrow = PushOracle::new(0.005, 3_600.0, 0.0).unwrap();
        let wide = PushOracle::new(0.01, 3_600.0, 0.0).unwrap();
        let barriers: Vec<f64> = (0..10)
            .map(|k| 3_000.0 * (0.95 + 0.005 * k as f64))
            .collect();
        let (mut wide_first, mut narrow_first, mut same) = (0, 0, 0);
        for seed in 0..2_000 {
            let mut rng = stream_rng(7, seed, Stream::Market);
            let mut index = 3_000.0;
            let (mut n, mut w) = (narrow.start(index, 0.0), wide.start(index, 0.0));
            let mut first = vec![(None, None); barriers.len()];
            for step in 1..=1_440 {
                let z: f64 = StandardNormal.sample(&mut rng);
                index *= (sigma * z - 0.5 * sigma * sigma).exp();
                let t = 60.0 * step as f64;
                let (on_n, on_w) = (n.observe(index, t), w.observe(index, t));
                for (b, f) in barriers.iter().zip(first.iter_mut()) {
                    if f.0.is_none() && on_n < *b {
                        f.0 = Some(step);
                    }
                    if f.1.is_none() && on_w < *b {
                        f.1 = Some(step);
                    }
                }
            }
            for f in first {
                match f {
                    (Some(a), Some(b)) if b < a => wide_first += 1,
                    (None, Some(_)) => wide_first += 1,
                    (Some(a), Some(b)) if a < b => narrow_first += 1,
                    (Some(_), None) => narrow_first += 1,
                    _ => same += 1,
                }
            }
        }
        (wide_first, narrow_first, same)
    }

    /// The counterexample above is not rare on real-looking paths. Of the 20,000 (seed,
    /// loan) pairs, measured: the 1% feed liquidates first in 1,849 (9.2%), the 0.5% feed in
    /// 6,585 (32.9%), both at the same step (or neither) in 11,566. So "a wider threshold never
    /// liquidates earlier on any seed" is false; it is the narrow feed that is first more often.
    #[test]
    fn on_gbm_paths_the_wider_feed_is_sometimes_first() {
        let (wide_first, narrow_first, same) = earlier_counts();
        assert_eq!(wide_first + narrow_first + same, 20_000);
        assert!(wide_first > 0, "the wide feed is never first");
        assert!(narrow_first > wide_first, "{narrow_first} <= {wide_first}");
    }

    #[test]
    fn rules_out_of_range_are_refused() {
        assert!(PushOracle::new(-0.01, 3_600.0, 0.0).is_err());
        assert!(PushOracle::new(0.005, 0.0, 0.0).is_err());
        assert!(PushOracle::new(0.005, 3_600.0, f64::NAN).is_err());
    }
}
