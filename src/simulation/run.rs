//! One run: open the world, drive it step by step, read its row.

use super::world::World;
use super::{MarketRow, RunRow};
use crate::config::Scenario;

/// Switches that change how much a run checks, never what it computes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunOptions {
    /// Sum every ledger account after every step (O(traders) per step; tests turn it on).
    /// Without it the ledger is summed once, at the end of the run.
    pub audit_ledger: bool,
}

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
}

/// Watches a run step by step from outside (as argmin's observers do): the run computes, the
/// observer records. Observing never changes what the run computes.
pub trait RunObserver {
    fn on_step(&mut self, view: &StepView);
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

/// The most points a sample path keeps (20,001 points of 56 bytes: about 1.1 MB).
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

/// What one run reports: its own row and one row per market, or why it stopped.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunRows {
    pub run: RunRow,
    pub markets: Vec<MarketRow>,
    /// Set when a price left the sane range: the run stopped there and its rows are empty.
    pub fault: Option<PriceFault>,
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

/// Runs `scenario` for seed index `seed_index` of `master_seed` and returns its figures.
///
/// Each step is a fixed sequence of phases (see [`World`]): the markets move, revenue comes
/// in, every position liquidatable at the mark is closed worst margin ratio first (ties by
/// trader id), each fill moving the mark for the next; positions pushed under by this step's
/// fills wait for the next step, so a cascade unfolds step by step (MODEL.md section 4). The
/// step's flow then reaches the market signals, and traders whose Poisson decision time has
/// come act.
pub fn simulate(
    scenario: &Scenario,
    master_seed: u64,
    seed_index: u64,
    opts: RunOptions,
) -> RunRow {
    simulate_observed(scenario, master_seed, seed_index, opts, &mut ()).run
}

/// [`simulate`] with an observer that sees the state after every step, returning the run's
/// row and its markets' rows.
pub fn simulate_observed<O: RunObserver>(
    scenario: &Scenario,
    master_seed: u64,
    seed_index: u64,
    opts: RunOptions,
    observer: &mut O,
) -> RunRows {
    let mut world = World::open(scenario, master_seed, seed_index);
    observer.on_step(&world.initial_view());
    for step in 1..=scenario.steps {
        match world.step(step, opts.audit_ledger) {
            Ok(view) => observer.on_step(&view),
            Err(fault) => {
                // Rows of the right shape, so that a caller's tables stay aligned; they are
                // empty, and the fault keeps them out of every table.
                let seed = seed_index as u32;
                let markets = (0..scenario.markets.len() as u32)
                    .map(|market| MarketRow {
                        seed,
                        market,
                        ..MarketRow::default()
                    })
                    .collect();
                return RunRows {
                    run: RunRow {
                        seed,
                        ..RunRow::default()
                    },
                    markets,
                    fault: Some(fault),
                };
            }
        }
    }
    let (run, markets) = world.finish();
    RunRows {
        run,
        markets,
        fault: None,
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use rand::RngExt;

    use super::*;
    use crate::agents::{MarketView, Order, Strategy, TraderView};
    use crate::config::{Experiment, Overrides};
    use crate::protocol::LEDGER_TOLERANCE;
    use crate::rng::SimRng;

    /// A test strategy: at each decision, flattens a position or reopens one at 5x, long or
    /// short at random, so that trades of both kinds and fees happen.
    struct Flipper;

    impl Strategy for Flipper {
        fn decide(&self, me: &TraderView, m: &MarketView, rng: &mut SimRng) -> Order {
            if me.size != 0.0 {
                Order::TargetSize(0.0)
            } else {
                let side = if rng.random::<f64>() < 0.5 { -1.0 } else { 1.0 };
                Order::TargetSize(side * 5.0 * me.collateral / m.mark)
            }
        }
    }

    fn scenario() -> Scenario {
        let text = "[experiment]\nseeds = 1\nsteps = 240\n[traders]\ncount = 50\n[margin]\nfee_fund_share = 0.5\n";
        let exp = Experiment::parse(text, Path::new("t.toml"), Overrides::default()).unwrap();
        exp.cells[0].scenario.with_strategy(Arc::new(Flipper), 4.0)
    }

    #[test]
    fn strategies_decide_at_poisson_times_pay_fees_and_keep_the_ledger() {
        let sc = scenario();
        let opts = RunOptions { audit_ledger: true };
        let a = simulate(&sc, 3, 0, opts);
        // 50 traders, 4 decisions an hour, 4 hours: about 800 decisions, each a trade with a fee.
        assert!(a.fee_revenue > 0.0);
        assert!(
            a.ledger_imbalance <= LEDGER_TOLERANCE,
            "{}",
            a.ledger_imbalance
        );
        // Same seed, same bits; the market does not depend on the agents' stream.
        assert_eq!(a, simulate(&sc, 3, 0, opts));
        let static_run = simulate(
            &scenario().with_strategy(Arc::new(crate::agents::Static), 0.0),
            3,
            0,
            opts,
        );
        assert_eq!(static_run.fee_revenue, 0.0);
        assert_eq!(static_run.index_max_drawdown, a.index_max_drawdown);
    }
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
