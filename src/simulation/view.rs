//! The leaf types of a run's step, which the world, the traders, the recorder and the run's
//! driver all read and none of them owns: what an observer sees after a step
//! ([`StepView`], [`RunObserver`], the [`ThinnedPath`] of a sample path), why a run stopped
//! ([`PriceFault`]) and a voluntary trade that filled ([`VoluntaryTrade`]). They sit here, below
//! every other file of the run, so that imports run one way.

use crate::protocol::{LiquidationMap, TradeFill};

/// The state of a run after one step, handed to a [`RunObserver`].
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct StepView {
    /// 0 is the state before the first step.
    pub step: u64,
    pub index: f64,
    pub mark: f64,
    pub fund_balance: f64,
    /// Forced closes during this step.
    pub liquidations: u32,
    /// Their notional at the mark.
    pub liquidated_notional: f64,
    /// Bankruptcy deficits during this step.
    pub bad_debt: f64,
    /// The first market's oracle when it is a lending market (0 otherwise).
    pub oracle: f64,
}

/// Watches a run step by step from outside (as argmin's observers do): the run computes, the
/// observer records. Observing never changes what the run computes.
pub trait RunObserver {
    fn on_step(&mut self, view: &StepView);

    /// Whether the observer wants the liquidation map of the state `view` describes (handed
    /// over by [`RunObserver::on_map`]). Never, unless it says so: a batch pays nothing.
    #[inline]
    fn wants_map(&self, _view: &StepView) -> bool {
        false
    }

    /// Each market's open positions by distance to liquidation after the step of `view`
    /// (market order), when [`RunObserver::wants_map`] asked for them.
    fn on_map(&mut self, _view: &StepView, _maps: Vec<LiquidationMap>) {}
}

/// Two observers of one run, each seeing what it asks for.
impl<A: RunObserver, B: RunObserver> RunObserver for (A, B) {
    fn on_step(&mut self, view: &StepView) {
        self.0.on_step(view);
        self.1.on_step(view);
    }

    #[inline]
    fn wants_map(&self, view: &StepView) -> bool {
        self.0.wants_map(view) || self.1.wants_map(view)
    }

    fn on_map(&mut self, view: &StepView, maps: Vec<LiquidationMap>) {
        match (self.0.wants_map(view), self.1.wants_map(view)) {
            (true, true) => {
                self.0.on_map(view, maps.clone());
                self.1.on_map(view, maps);
            }
            (true, false) => self.0.on_map(view, maps),
            (false, true) => self.1.on_map(view, maps),
            (false, false) => {}
        }
    }
}

/// No observer: compiles to nothing.
impl RunObserver for () {
    #[inline]
    fn on_step(&mut self, _: &StepView) {}
}

/// Records every step: for one sample path, not for batches.
impl RunObserver for Vec<StepView> {
    fn on_step(&mut self, view: &StepView) {
        self.push(*view);
    }
}

/// Records a run for its sample path in at most [`SAMPLE_POINTS`] points, so that memory
/// does not grow with the horizon: every `stride`-th step (and the last) is kept, carrying
/// the forced closes and bad debt of the steps since the point before, so that the path's
/// totals are the run's. A run of up to `SAMPLE_POINTS - 1` steps keeps every step.
#[derive(Clone, Debug)]
pub struct ThinnedPath {
    stride: u64,
    last_step: u64,
    pending: StepView,
    pub points: Vec<StepView>,
}

/// The most points a sample path keeps (20,001 points of 64 bytes: about 1.3 MB).
pub const SAMPLE_POINTS: u64 = 20_001;

impl ThinnedPath {
    /// For a run of `steps` steps (plus the state at t = 0).
    pub fn new(steps: u64) -> Self {
        let stride = steps.div_ceil(SAMPLE_POINTS - 1).max(1);
        let capacity = (steps / stride + 2) as usize;
        Self {
            stride,
            last_step: steps,
            pending: StepView::default(),
            points: Vec::with_capacity(capacity),
        }
    }
}

impl RunObserver for ThinnedPath {
    fn on_step(&mut self, view: &StepView) {
        self.pending.liquidations += view.liquidations;
        self.pending.liquidated_notional += view.liquidated_notional;
        self.pending.bad_debt += view.bad_debt;
        if view.step.is_multiple_of(self.stride) || view.step == self.last_step {
            let mut point = *view;
            if self.stride > 1 {
                point.liquidations = self.pending.liquidations;
                point.liquidated_notional = self.pending.liquidated_notional;
                point.bad_debt = self.pending.bad_debt;
            }
            self.points.push(point);
            self.pending = StepView::default();
        }
    }
}

/// A run stopped because an index or mark moved beyond a factor of
/// [`super::prices::SANE_FACTOR`] from where it started (or stopped being a number).
#[derive(Clone, Debug, PartialEq)]
pub struct PriceFault {
    pub market: String,
    pub step: u64,
    /// The index at t = 0.
    pub start: f64,
    pub index: f64,
    pub mark: f64,
}

impl std::fmt::Display for PriceFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "at step {} the price of market `{}` left the range a market can reach (index {:e}, \
             mark {:e}, from {}; the bound is a factor of {:e} either way): the model's \
             parameters drive it there (check [market.model]: a drift, or a jump size given in \
             percent instead of as a fraction?) or a feedback runs away (permanent impact)",
            self.step,
            self.market,
            self.index,
            self.mark,
            self.start,
            super::prices::SANE_FACTOR
        )
    }
}

/// A voluntary market order that filled: the venue's fill, its side, how much of it closed
/// or reduced a position (USD at the mark before the order) and what that part lost to the
/// book's slippage.
#[derive(Clone, Copy, Debug)]
pub(super) struct VoluntaryTrade {
    pub fill: TradeFill,
    /// Signed notional at the mark: positive for a buy.
    pub signed_notional: f64,
    pub reduced_notional: f64,
    pub reduced_slippage: f64,
}

#[cfg(test)]
mod thinning_tests {
    use super::*;

    fn views(steps: u64) -> Vec<StepView> {
        (0..=steps)
            .map(|step| StepView {
                step,
                index: 100.0 + step as f64,
                mark: 100.0 + step as f64,
                fund_balance: 1e6 - step as f64,
                liquidations: (step % 3) as u32,
                liquidated_notional: (step % 7) as f64,
                bad_debt: (step % 5) as f64 * 0.5,
                oracle: 0.0,
            })
            .collect()
    }

    /// A short run keeps every step, unchanged; a long one keeps at most `SAMPLE_POINTS`,
    /// ends at the last step and carries every forced close and every dollar of bad debt.
    #[test]
    fn a_long_path_is_thinned_and_keeps_its_totals() {
        for steps in [
            1,
            1_440,
            SAMPLE_POINTS - 1,
            SAMPLE_POINTS,
            123_457,
            10_000_000,
        ] {
            let all = views(steps);
            let mut path = ThinnedPath::new(steps);
            for v in &all {
                path.on_step(v);
            }
            let p = &path.points;
            if steps < SAMPLE_POINTS {
                assert_eq!(p, &all, "{steps}");
                continue;
            }
            assert!(
                p.len() as u64 <= SAMPLE_POINTS,
                "{steps}: {} points",
                p.len()
            );
            assert_eq!(p.last().unwrap().step, steps);
            assert_eq!(p[0].step, 0);
            let sum = |f: fn(&StepView) -> f64, vs: &[StepView]| vs.iter().map(f).sum::<f64>();
            for f in [
                (|v: &StepView| v.liquidations as f64) as fn(&StepView) -> f64,
                |v| v.liquidated_notional,
                |v| v.bad_debt,
            ] {
                assert_eq!(sum(f, p), sum(f, &all), "{steps}");
            }
        }
    }
}
