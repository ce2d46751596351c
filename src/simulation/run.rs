//! The step loop of one run.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rand_distr::{Distribution, Exp1};

use super::{RunRow, Stream, stream_rng};
use crate::agents::{MarketView, Order, TraderView};
use crate::config::Scenario;
use crate::protocol::{Account, PositionBook, Venue};

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

/// Runs `scenario` for seed index `seed_index` of `master_seed` and returns its figures.
///
/// Per step: the index moves (market stream), the impact decays, every position liquidatable
/// at the mark is closed worst margin ratio first (ties by trader id), each fill moving the
/// mark for the next; positions pushed under by this step's fills wait for the next step, so a
/// cascade unfolds step by step (MODEL.md section 4). Then traders whose Poisson decision time
/// has come act (agent stream).
pub fn simulate(
    scenario: &Scenario,
    master_seed: u64,
    seed_index: u64,
    opts: RunOptions,
) -> RunRow {
    simulate_observed(scenario, master_seed, seed_index, opts, &mut ())
}

/// [`simulate`] with an observer that sees the state after every step.
pub fn simulate_observed<O: RunObserver>(
    scenario: &Scenario,
    master_seed: u64,
    seed_index: u64,
    opts: RunOptions,
    observer: &mut O,
) -> RunRow {
    let sc = scenario;
    let mut market_rng = stream_rng(master_seed, seed_index, Stream::Market);
    let mut population_rng = stream_rng(master_seed, seed_index, Stream::Population);
    let mut decision_rng = stream_rng(master_seed, seed_index, Stream::Decisions);

    let mut model = sc.price_model.start();
    let mut market = sc.mark.clone();
    let s0 = market.index();
    let n = sc.population.count() as usize;
    let mut book = PositionBook::with_capacity(n);
    let mut open_interest = 0.0;
    for _ in 0..n {
        let p = sc
            .population
            .draw(&mut population_rng, s0, sc.margin.max_leverage());
        book.push(p.collateral, p.size, s0);
        open_interest += p.size.abs() * s0;
    }
    let mut venue = Venue::open(book, sc.margin, sc.fund.clone());
    let impact = sc.book.model();
    let socialization = &*sc.socialization;

    // Poisson decision clock: (time in steps as ordered bits, trader). Positive f64s order
    // like their bit patterns, so no float wrapper is needed.
    let strategy = sc.population.strategy();
    let decisions_per_step = strategy.decisions_per_hour() * sc.dt_seconds / 3_600.0;
    let mut clock: BinaryHeap<Reverse<(u64, u32)>> = BinaryHeap::new();
    if decisions_per_step > 0.0 {
        for i in 0..n as u32 {
            let t: f64 = Exp1.sample(&mut decision_rng);
            clock.push(Reverse(((t / decisions_per_step).to_bits(), i)));
        }
    }

    let mut row = RunRow {
        seed: seed_index as u32,
        open_interest,
        ..RunRow::default()
    };
    let mut losses_of_liquidated = 0.0;
    let mut induced_notional = 0.0;
    let mut peak = s0;
    let mut worst_log_ratio: f64 = 0.0;
    let mut cascade_steps = 0u32;
    let mut cascade_notional = 0.0;
    let mut ledger_max: f64 = 0.0;
    let mut due = Vec::new();
    observer.on_step(&StepView {
        step: 0,
        index: s0,
        mark: market.mark(),
        fund_balance: venue.fund.balance(),
        ..StepView::default()
    });

    for step in 1..=sc.steps {
        let mut this_step = StepView {
            step,
            ..StepView::default()
        };
        market.advance(model.next_log_return(&mut market_rng));
        let index = market.index();
        peak = peak.max(index);
        row.index_max_drawdown = row.index_max_drawdown.max(1.0 - index / peak);
        if sc.fund_revenue_per_step > 0.0 {
            venue.pay_into_fund(Account::Counterparty, sc.fund_revenue_per_step);
        }

        // Liquidations: the set is fixed at this moment's mark.
        due.clear();
        let mark = market.mark();
        venue
            .queue
            .pop_liquidatable(&venue.book, &venue.margin, mark, &mut due);
        if due.is_empty() {
            cascade_steps = 0;
            cascade_notional = 0.0;
        } else {
            due.sort_by(|&a, &b| {
                let ra = venue.book.margin_ratio(a as usize, mark);
                let rb = venue.book.margin_ratio(b as usize, mark);
                ra.total_cmp(&rb).then(a.cmp(&b))
            });
            if cascade_steps == 0 {
                row.cascade_count += 1;
            }
            cascade_steps += 1;
            for &i in &due {
                if venue.book.size[i as usize] == 0.0 {
                    continue; // closed earlier this step (ADL)
                }
                let l =
                    venue.liquidate(i, &sc.liquidation, &mut market, impact, socialization, step);
                row.liquidation_count += 1;
                row.liquidation_notional += l.notional;
                row.slippage_loss += l.slippage_loss;
                row.penalty_paid += l.penalty;
                row.penalty_to_fund += l.penalty_to_fund;
                row.bad_debt += l.deficit;
                row.bad_debt_uncovered += l.uncovered;
                row.adl_count += l.socialized.positions;
                row.adl_notional += l.socialized.notional;
                row.socialized_loss += l.socialized.covered;
                losses_of_liquidated += l.position_loss;
                if l.induced {
                    induced_notional += l.notional;
                }
                cascade_notional += l.notional;
                this_step.liquidations += 1;
                this_step.liquidated_notional += l.notional;
                this_step.bad_debt += l.deficit;
            }
            row.cascade_longest_steps = row.cascade_longest_steps.max(cascade_steps);
            row.cascade_largest_notional = row.cascade_largest_notional.max(cascade_notional);
        }
        let log_ratio = (market.mark() / market.index()).ln();
        if log_ratio.abs() > worst_log_ratio.abs() {
            worst_log_ratio = log_ratio;
        }

        // Decisions due by the end of this step, in time order.
        while let Some(&Reverse((bits, i))) = clock.peek() {
            let t = f64::from_bits(bits);
            if t > step as f64 {
                break;
            }
            clock.pop();
            let k = i as usize;
            let me = TraderView {
                collateral: venue.book.collateral[k],
                size: venue.book.size[k],
                entry: venue.book.entry[k],
            };
            let view = MarketView {
                step,
                mark: market.mark(),
                index: market.index(),
            };
            if let Order::TargetSize(target) = strategy.decide(&me, &view, &mut decision_rng) {
                let delta = target - me.size;
                if delta != 0.0
                    && let Ok(fill) = venue.trade(i, delta, view.mark, &sc.fees)
                {
                    row.fee_revenue += fill.fee;
                }
            }
            let gap: f64 = Exp1.sample(&mut decision_rng);
            clock.push(Reverse(((t + gap / decisions_per_step).to_bits(), i)));
        }

        if opts.audit_ledger {
            ledger_max = ledger_max.max(venue.ledger_imbalance_relative());
        }
        this_step.index = market.index();
        this_step.mark = market.mark();
        this_step.fund_balance = venue.fund.balance();
        observer.on_step(&this_step);
    }

    ledger_max = ledger_max.max(venue.ledger_imbalance_relative());
    let fund = &venue.fund;
    row.fund_final = fund.balance();
    row.fund_min = fund.min_balance();
    row.depletion_step = fund.depleted_at().map(|s| s as u32);
    row.depleted = row.depletion_step.is_some();
    row.required_capital = fund.required_capital();
    row.worst_mark_index_ratio = worst_log_ratio.exp();
    row.recovery_rate =
        (losses_of_liquidated > 0.0).then(|| 1.0 - row.bad_debt / losses_of_liquidated);
    row.induced_share =
        (row.liquidation_notional > 0.0).then(|| induced_notional / row.liquidation_notional);
    row.ledger_imbalance = ledger_max;
    row
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
    use crate::simulation::SimRng;

    /// A test strategy: at each decision, flattens a position or reopens one at 5x, long or
    /// short at random, so that trades of both kinds and fees happen.
    struct Flipper;

    impl Strategy for Flipper {
        fn decisions_per_hour(&self) -> f64 {
            4.0
        }
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
        exp.cells[0].scenario.with_strategy(Arc::new(Flipper))
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
            &scenario().with_strategy(Arc::new(crate::agents::Static)),
            3,
            0,
            opts,
        );
        assert_eq!(static_run.fee_revenue, 0.0);
        assert_eq!(static_run.index_max_drawdown, a.index_max_drawdown);
    }
}
