//! One run: open the world, drive it step by step, read its row.

use super::row::{MarketRow, RunRow};
use super::view::{PriceFault, RunObserver, StepView};
use super::world::World;
use crate::config::Scenario;

/// Switches that change how much a run checks, never what it computes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunOptions {
    /// Sum every ledger account after every step (O(traders) per step; tests turn it on).
    /// Without it the ledger is summed once, at the end of the run.
    pub audit_ledger: bool,
}

/// What one run reports: its own row and one row per market, or why it stopped.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunRows {
    pub run: RunRow,
    pub markets: Vec<MarketRow>,
    /// Set when a price left the sane range: the run stopped there and its rows are empty.
    pub fault: Option<PriceFault>,
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
    observe(&world, &world.initial_view(), observer);
    for step in 1..=scenario.steps {
        match world.step(step, opts.audit_ledger) {
            Ok(view) => observe(&world, &view, observer),
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

/// Hands `view` to the observer, and the world's liquidation map when it asks for it.
#[inline]
fn observe<O: RunObserver>(world: &World, view: &StepView, observer: &mut O) {
    observer.on_step(view);
    if observer.wants_map(view) {
        observer.on_map(view, world.liquidation_maps());
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
