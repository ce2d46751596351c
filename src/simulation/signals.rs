//! The market signals ([`Indicator`]s) each market maintains for the strategies that read
//! them.

use crate::agents::{Indicator, Side, StrategyGroup};

/// Most signals one strategy may read.
pub(super) const MAX_SIGNALS: usize = 4;

#[derive(Clone, Debug)]
enum Slot {
    /// `value += alpha (mark - value)` each step, `alpha = 1 - exp(-dt / tau)`.
    Ema { alpha: f64, value: f64 },
    /// Sum of the last `ring.len()` steps' liquidated notional of `side` positions.
    Window {
        side: Side,
        ring: Vec<f64>,
        at: usize,
        sum: f64,
    },
    /// Sum of the last `ring.len()` steps' de-risking notional, read over `open_interest`.
    DeRisking {
        ring: Vec<f64>,
        at: usize,
        sum: f64,
        open_interest: f64,
    },
}

/// What one step's flow brings the signals: the notional liquidated of long and of short
/// positions, and all de-risking notional (those liquidations, ADL, and the voluntary closes
/// and reductions of the act phase before).
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct SignalFlow {
    pub longs_liquidated: f64,
    pub shorts_liquidated: f64,
    pub derisking: f64,
}

/// Adds `x` as the newest of a ring's steps, dropping the oldest.
#[inline]
fn push_ring(ring: &mut [f64], at: &mut usize, sum: &mut f64, x: f64) {
    *sum += x - ring[*at];
    ring[*at] = x;
    *at += 1;
    if *at == ring.len() {
        // Once a window, re-add from scratch so rounding cannot pile up.
        *at = 0;
        *sum = ring.iter().sum();
    }
}

/// One market's signals.
#[derive(Clone, Debug)]
pub(super) struct Indicators {
    slots: Vec<Slot>,
}

impl Indicators {
    /// The distinct indicators the groups read, and for each group the ids of its own, in
    /// the order its strategy lists them.
    pub fn plan(groups: &[StrategyGroup]) -> (Vec<Indicator>, Vec<Vec<usize>>) {
        let mut all: Vec<Indicator> = Vec::new();
        let reads = groups
            .iter()
            .map(|g| {
                g.strategy
                    .indicators()
                    .into_iter()
                    .take(MAX_SIGNALS)
                    .map(|ind| match all.iter().position(|x| *x == ind) {
                        Some(id) => id,
                        None => {
                            all.push(ind);
                            all.len() - 1
                        }
                    })
                    .collect()
            })
            .collect();
        (all, reads)
    }

    /// The signals at t = 0 of a run of `steps` steps. A window longer than the run sees the
    /// whole run, so its ring never needs more than `steps + 1` slots (a window of 1e30
    /// minutes allocates no more than the run's own length).
    /// `open_interest` is the market's at t = 0, which the de-risking share is read over.
    pub fn start(
        indicators: &[Indicator],
        mark: f64,
        open_interest: f64,
        dt_seconds: f64,
        steps: u64,
    ) -> Self {
        let slots = indicators
            .iter()
            .map(|ind| match *ind {
                Indicator::MarkEma { minutes } => Slot::Ema {
                    alpha: 1.0 - (-dt_seconds / (60.0 * minutes)).exp(),
                    value: mark,
                },
                Indicator::LiquidatedNotional { minutes, side } => Slot::Window {
                    side,
                    ring: vec![0.0; window_slots(minutes, dt_seconds, steps)],
                    at: 0,
                    sum: 0.0,
                },
                Indicator::DeRiskingShare { minutes } => Slot::DeRisking {
                    ring: vec![0.0; window_slots(minutes, dt_seconds, steps)],
                    at: 0,
                    sum: 0.0,
                    open_interest,
                },
            })
            .collect();
        Self { slots }
    }

    /// Takes in the end of a step: the mark after its liquidations and the step's flow.
    #[inline]
    pub fn after_step(&mut self, mark: f64, flow: &SignalFlow) {
        for slot in &mut self.slots {
            match slot {
                Slot::Ema { alpha, value } => *value += *alpha * (mark - *value),
                Slot::Window {
                    side,
                    ring,
                    at,
                    sum,
                } => {
                    let liquidated = match side {
                        Side::Long => flow.longs_liquidated,
                        Side::Short => flow.shorts_liquidated,
                    };
                    push_ring(ring, at, sum, liquidated);
                }
                Slot::DeRisking { ring, at, sum, .. } => push_ring(ring, at, sum, flow.derisking),
            }
        }
    }

    #[inline]
    pub fn value(&self, id: usize) -> f64 {
        match &self.slots[id] {
            Slot::Ema { value, .. } => *value,
            Slot::Window { sum, .. } => sum.max(0.0),
            Slot::DeRisking {
                sum, open_interest, ..
            } => {
                if *open_interest > 0.0 {
                    sum.max(0.0) / *open_interest
                } else {
                    0.0
                }
            }
        }
    }
}

/// Slots of a window of `minutes` at steps of `dt_seconds`, at least one and at most one
/// more than the run's `steps`.
fn window_slots(minutes: f64, dt_seconds: f64, steps: u64) -> usize {
    let wanted = (60.0 * minutes / dt_seconds).ceil();
    let most = steps.saturating_add(1) as f64;
    wanted.clamp(1.0, most) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flow(longs: f64, shorts: f64) -> SignalFlow {
        SignalFlow {
            longs_liquidated: longs,
            shorts_liquidated: shorts,
            derisking: longs + shorts,
        }
    }

    /// The de-risking share sums the window's de-risking notional over the open interest.
    #[test]
    fn the_derisking_share_reads_the_window_over_open_interest() {
        let mut ind = Indicators::start(
            &[Indicator::DeRiskingShare { minutes: 2.0 }],
            100.0,
            1_000.0,
            60.0,
            100,
        );
        for (x, want) in [(100.0, 0.1), (50.0, 0.15), (0.0, 0.05), (0.0, 0.0)] {
            ind.after_step(100.0, &flow(x, 0.0));
            assert!((ind.value(0) - want).abs() < 1e-15, "{}", ind.value(0));
        }
    }

    /// A window far longer than the run (1e30 minutes) takes the run's length in memory and
    /// sums every step, as an endless window would.
    #[test]
    fn a_window_longer_than_the_run_sums_the_whole_run() {
        assert_eq!(window_slots(1e30, 60.0, 1_440), 1_441);
        assert_eq!(window_slots(3.0, 60.0, 1_440), 3);
        assert_eq!(window_slots(1e-9, 60.0, 1_440), 1);
        let window = Indicator::LiquidatedNotional {
            minutes: 1e30,
            side: Side::Long,
        };
        let mut ind = Indicators::start(&[window], 100.0, 1.0, 60.0, 50);
        for _ in 0..50 {
            ind.after_step(100.0, &flow(2.0, 0.0));
        }
        assert_eq!(ind.value(0), 100.0);
    }

    #[test]
    fn the_window_sums_exactly_the_last_steps() {
        let mut ind = Indicators::start(
            &[
                Indicator::LiquidatedNotional {
                    minutes: 3.0,
                    side: Side::Long,
                },
                Indicator::LiquidatedNotional {
                    minutes: 3.0,
                    side: Side::Short,
                },
            ],
            100.0,
            1.0,
            60.0,
            100,
        );
        let flows = [5.0, 0.0, 7.0, 1.0, 0.0, 0.0, 0.0, 2.0];
        for (t, &x) in flows.iter().enumerate() {
            // Shorts liquidated: ten times the longs, so a mix-up shows.
            ind.after_step(100.0, &flow(x, 10.0 * x));
            let want: f64 = flows[t.saturating_sub(2)..=t].iter().sum();
            assert_eq!(ind.value(0), want, "step {t}");
            assert_eq!(ind.value(1), 10.0 * want, "step {t}");
        }
    }

    #[test]
    fn the_ema_moves_toward_the_mark_with_its_time_constant() {
        let mut ind = Indicators::start(
            &[Indicator::MarkEma { minutes: 60.0 }],
            100.0,
            1.0,
            60.0,
            1_000,
        );
        for _ in 0..60 {
            ind.after_step(200.0, &flow(0.0, 0.0));
        }
        // After one time constant, 1 - 1/e of the gap is closed.
        let closed = (ind.value(0) - 100.0) / 100.0;
        assert!((closed - (1.0 - (-1.0f64).exp())).abs() < 1e-12, "{closed}");
    }
}
