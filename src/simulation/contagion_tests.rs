//! The contagion channels of MODEL.md sections 2 and 3 against what their mechanism implies
//! for any parameters: the transient envelope of impact, the exact permanent path, the
//! Borel law of a price-mediated cascade, Granovetter's fixed point of herding, and a book
//! that treats a panic close and a liquidation alike. Positions are placed where a closed
//! form needs them ([`World::open_with`]); the run is the engine's own.

use std::path::Path;

use rand::SeedableRng;
use rand_distr::{Distribution, Exp};

use super::super::opening::OpenInterest;
use super::super::traders::TraderStates;
use super::*;
use crate::agents::ThresholdLaw;
use crate::config::{Experiment, Overrides};
use crate::market::Side;
use crate::protocol::{LEDGER_TOLERANCE, Market, PerpMarket, PositionBook};
use crate::simulation::traders::trade_through_book;

fn scenario(text: &str) -> Scenario {
    let exp = Experiment::parse(text, Path::new("contagion.toml"), Overrides::default())
        .unwrap_or_else(|e| panic!("{e}"));
    exp.cells[0].scenario.clone()
}

/// A placed trader: collateral, signed size (opened at the index at t = 0), its group in the
/// scenario's mix and its decisions per hour.
#[derive(Clone, Copy)]
struct Placed {
    collateral: f64,
    size: f64,
    group: u8,
    rate: f64,
}

/// A long of `notional` (USD at `s0`) that becomes liquidatable exactly when the mark falls
/// below `liquidation_price`: `E = C + q (P - s0) < mmr q P` iff `P < L` for
/// `C = q (s0 - L (1 - mmr))`.
fn long_liquidated_below(
    liquidation_price: f64,
    notional: f64,
    s0: f64,
    mmr: f64,
    group: u8,
) -> Placed {
    let size = notional / s0;
    Placed {
        collateral: size * (s0 - liquidation_price * (1.0 - mmr)),
        size,
        group,
        rate: 0.0,
    }
}

/// The books of a one-market scenario holding `placed`, as [`super::super::opening::open_population`] returns them.
fn placed(sc: &Scenario, placed: &[Placed]) -> (Vec<Market>, TraderStates, OpenInterest) {
    let s0 = sc.markets[0].mark.index();
    let mut book = PositionBook::with_capacity(placed.len());
    let mut states = TraderStates::with_capacity(placed.len());
    let mut oi = 0.0;
    for p in placed {
        book.push(p.collateral, p.size, s0);
        let leverage = p.size.abs() * s0 / p.collateral;
        states.push(p.group, p.rate, 0.0, p.collateral, leverage);
        oi += p.size.abs() * s0;
    }
    let market: Market = PerpMarket::open(book, sc.margin.clone(), 0, 0).into();
    let oi = OpenInterest {
        run: oi,
        markets: vec![oi],
    };
    (vec![market], states, oi)
}

/// A flat index at 100 (GBM without volatility), a linear book of `depth` per 1%, the given
/// permanent share, no penalty; static traders and closers (herders whose threshold is 0, so
/// they close at their first decision).
fn flat_market(depth: f64, permanent: f64, steps: u64) -> Scenario {
    scenario(&format!(
        r#"
[experiment]
seeds = 1
steps = {steps}
[market]
mark = {{ rule = "book" }}
s0 = 100.0
permanent_impact = {permanent}
price_band = 10.0
impact_half_life_minutes = 10.0
model = {{ kind = "gbm", vol = 0.0 }}
book = {{ kind = "linear", depth_usd = {depth:e} }}
[traders]
count = 1
max_order_impact = 0.05
[[traders.mix]]
share = 0.5
strategy = {{ kind = "static" }}
[[traders.mix]]
share = 0.5
strategy = {{ kind = "herding", decisions_per_hour = 120.0, window_minutes = 15.0, threshold = {{ kind = "fixed", value = 0.0 }} }}
[liquidation]
penalty_rate = 0.0
"#
    ))
}

/// 200 static longs of 10k USD, liquidatable below 99.9, 99.8, ..., 80.1, and ten closers of
/// 1M USD each: one wave of closes, each moving the price by 0.1% on a 10M book.
fn wave(sc: &Scenario) -> (Vec<Placed>, Vec<f64>) {
    let mmr = sc.margin.mmr();
    let stops: Vec<f64> = (1..=200).map(|j| 100.0 - 0.1 * j as f64).collect();
    let mut people: Vec<Placed> = stops
        .iter()
        .map(|&l| long_liquidated_below(l, 1e4, 100.0, mmr, 0))
        .collect();
    for _ in 0..10 {
        people.push(Placed {
            collateral: 2e5,
            size: 1e4,
            group: 1,
            rate: 120.0,
        });
    }
    (people, stops)
}

/// Runs `world` for all its steps, returning each step's log impact (the state after it).
fn run_impacts(world: &mut World, steps: u64) -> Vec<f64> {
    let mut impacts = vec![world.prices.get(0).mark.log_impact()];
    for step in 1..=steps {
        world.step(step, true).expect("sane prices");
        impacts.push(world.prices.get(0).mark.log_impact());
    }
    impacts
}

/// With phi = 0 the index stays flat; no static long whose liquidation price is below the
/// lowest mark `S exp(min_t I_t)` is liquidated, and after the wave `|I|` halves every
/// half-life (ten steps of a minute).
#[test]
fn transient_impact_stays_inside_its_envelope_and_halves_each_half_life() {
    let steps = 400;
    let sc = flat_market(1e7, 0.0, steps);
    let (people, stops) = wave(&sc);
    let mut world = World::open_with(&sc, 1, 0, placed(&sc, &people));
    let impacts = run_impacts(&mut world, steps);
    assert_eq!(world.prices.get(0).mark.index(), 100.0);
    let lowest = 100.0 * impacts.iter().copied().fold(0.0, f64::min).exp();
    let liquidated: Vec<bool> = (0..stops.len())
        .map(|i| world.venue.position(0, i as u32).size == 0.0)
        .collect();
    for (l, &gone) in stops.iter().zip(&liquidated) {
        assert!(!gone || *l >= lowest, "liquidated at {l} below {lowest}");
    }
    assert!(liquidated.iter().any(|&g| g) && !liquidated.iter().all(|&g| g));
    // After the last fill the impact only decays: find it, then check the halving.
    let keep = (-std::f64::consts::LN_2 / 10.0).exp();
    let last_fill = (1..impacts.len())
        .rev()
        .find(|&t| impacts[t] != impacts[t - 1] * keep)
        .unwrap_or(0);
    assert!(
        last_fill > 0 && last_fill + 100 < impacts.len(),
        "{last_fill}"
    );
    for t in last_fill..impacts.len() - 10 {
        let ratio = impacts[t + 10] / impacts[t];
        assert!((ratio - 0.5).abs() < 1e-12, "step {t}: {ratio}");
    }
    let (row, _) = world.finish();
    assert!(row.ledger_imbalance <= LEDGER_TOLERANCE);
}

/// With phi = 1 every fill moves the index for good: the final index is
/// `S0 exp(-sum k_i)`, `k_i = 0.01 X_i / D` over every fill (the closers' and the
/// liquidations'), and the static longs liquidated are exactly those whose liquidation price
/// is at or above it.
#[test]
fn permanent_impact_ends_at_the_product_of_all_fills() {
    let steps = 400;
    let depth = 1e7;
    let sc = flat_market(depth, 1.0, steps);
    let (people, stops) = wave(&sc);
    let mut world = World::open_with(&sc, 1, 0, placed(&sc, &people));
    let mut last_liquidation = 0;
    for step in 1..=steps {
        if world.step(step, true).expect("sane prices").liquidations > 0 {
            last_liquidation = step;
        }
    }
    assert!(
        last_liquidation + 100 < steps,
        "the cascade has not settled"
    );
    let end = world.prices.get(0).mark.index();
    assert_eq!(world.prices.get(0).mark.mark(), end);
    let liquidated: Vec<bool> = (0..stops.len())
        .map(|i| world.venue.position(0, i as u32).size == 0.0)
        .collect();
    let (row, _) = world.finish();
    let fills = row.voluntary_close_notional + row.liquidation_notional;
    let want = 100.0 * (-0.01 * fills / depth).exp();
    assert!((end / want - 1.0).abs() < 1e-12, "{end} vs {want}");
    for (l, gone) in stops.iter().zip(liquidated) {
        assert_eq!(gone, *l >= end, "stop {l}, final index {end}");
    }
    assert!(row.liquidation_count > 0 && row.liquidation_count < 200);
    assert!((row.voluntary_close_notional / 1e7 - 1.0).abs() < 0.05);
    assert!(row.ledger_imbalance <= LEDGER_TOLERANCE);
}

/// Borel probabilities `P(N = n) = e^{-mn} (mn)^{n-1} / n!`.
fn borel(m: f64, n: u32) -> f64 {
    let n = n as f64;
    let log =
        -m * n + (n - 1.0) * (m * n).ln() - (1..=n as u32).map(|k| (k as f64).ln()).sum::<f64>();
    log.exp()
}

/// Price-mediated branching: stop prices a Poisson process of density `rho` per unit of log
/// price below the index, each close moving the log price by `delta` for good (phi = 1,
/// linear book, no decay). The cascade one exogenous close starts has the Borel(m) law,
/// `m = rho delta` (the busy period of a queue with Poisson arrivals: Borel 1942; Tanner
/// 1961), mean `1 / (1 - m)`. Each close moves the price by `delta` at its stop and a little
/// less below it (its notional is read at the mark); with `delta = 1e-5` that is a relative
/// difference of about 1e-4 on `m`, far inside the tolerance.
#[test]
fn a_price_mediated_cascade_has_the_borel_law() {
    let delta = 1e-5;
    let depth = 1e9;
    // A close of X moves the price by 0.01 X / D: X = 100 delta D.
    let notional = 100.0 * delta * depth;
    let sc = flat_market(depth, 1.0, 5_000);
    let mmr = sc.margin.mmr();
    let cascades = 4_000;
    for m in [0.3, 0.5, 0.8] {
        let gaps = Exp::new(m / delta).unwrap();
        let reach = 4_000.0 * delta;
        let mut sizes = Vec::with_capacity(cascades);
        for k in 0..cascades {
            let mut rng = crate::rng::SimRng::seed_from_u64(k as u64 ^ (m * 1e3) as u64);
            // The exogenous close: a long due at once.
            let mut people = vec![long_liquidated_below(
                100.0 * (1.0 + 1e-12),
                notional,
                100.0,
                mmr,
                0,
            )];
            let mut u: f64 = gaps.sample(&mut rng);
            while u < reach {
                people.push(long_liquidated_below(
                    100.0 * (-u).exp(),
                    notional,
                    100.0,
                    mmr,
                    0,
                ));
                u += gaps.sample(&mut rng);
            }
            let mut world = World::open_with(&sc, 1, k as u64, placed(&sc, &people));
            let mut closed = 0;
            for step in 1..=sc.steps {
                let view = world.step(step, false).expect("sane prices");
                if view.liquidations == 0 {
                    break;
                }
                closed += view.liquidations;
            }
            assert!(
                (closed as usize) < people.len(),
                "m = {m}: the cascade ran out of stops"
            );
            sizes.push(closed);
        }
        let n = cascades as f64;
        let mean = sizes.iter().map(|&s| s as f64).sum::<f64>() / n;
        let sd = (m / (1.0 - m).powi(3)).sqrt();
        let want = 1.0 / (1.0 - m);
        assert!(
            (mean - want).abs() < 4.0 * sd / n.sqrt(),
            "m = {m}: mean {mean}, Borel {want} (se {})",
            sd / n.sqrt()
        );
        for size in 1..=3 {
            let p = borel(m, size);
            let seen = sizes.iter().filter(|&&s| s == size).count() as f64 / n;
            let se = (p * (1.0 - p) / n).sqrt();
            assert!(
                (seen - p).abs() < 4.0 * se,
                "m = {m}: P(N = {size}) {seen}, Borel {p} (se {se})"
            );
        }
    }
}

/// The smallest fixed point of `x = F(g(x))`, by iteration from 0 (F g is nondecreasing,
/// so the iterates rise to it).
fn smallest_fixed_point(f: impl Fn(f64) -> f64) -> f64 {
    let mut x = 0.0;
    for _ in 0..100_000 {
        let next = f(x);
        if next <= x {
            return x;
        }
        x = next;
    }
    x
}

/// Herding with the price frozen (no impact, flat index): the share of herders who
/// de-risked is the smallest fixed point of `x = F(g(x))` (Granovetter 1978), `F` the
/// thresholds' distribution and `g(x) = (1 - keep) x` the signal that share makes. For each
/// seed the count equals the fixed point of the thresholds actually drawn (the empirical
/// `F`), exactly; over seeds the mean share is the fixed point of `F` within 4 standard
/// errors.
#[test]
fn herding_stops_at_granovetters_smallest_fixed_point() {
    let traders = 2_000;
    let seeds = 30;
    let laws = [
        (
            ThresholdLaw::normal(0.25, 0.1).unwrap(),
            "normal(0.25, 0.1)",
            0.0,
        ),
        (
            ThresholdLaw::normal(0.25, 0.2).unwrap(),
            "normal(0.25, 0.2)",
            0.0,
        ),
        (
            ThresholdLaw::normal(0.2, 0.12).unwrap(),
            "normal(0.2, 0.12)",
            0.5,
        ),
        (
            ThresholdLaw::uniform(0.0, 0.8).unwrap(),
            "uniform(0, 0.8)",
            0.0,
        ),
    ];
    for (law, text, keep) in laws {
        let threshold = match law {
            ThresholdLaw::Normal { mean, sd } => {
                format!("{{ kind = \"normal\", mean = {mean}, sd = {sd} }}")
            }
            ThresholdLaw::Uniform { min, max } => {
                format!("{{ kind = \"uniform\", min = {min}, max = {max} }}")
            }
            ThresholdLaw::Fixed(_) => unreachable!(),
        };
        let sc = scenario(&format!(
            r#"
[experiment]
seeds = 1
steps = 240
[market]
mark = {{ rule = "book" }}
model = {{ kind = "gbm", vol = 0.0 }}
book = {{ kind = "none" }}
[traders]
count = {traders}
collateral = {{ kind = "fixed", value = 1000.0 }}
leverage = {{ kind = "fixed", value = 3.0 }}
strategy = {{ kind = "herding", decisions_per_hour = 60.0, window_minutes = 1e30, threshold = {threshold}, keep = {keep} }}
"#
        ));
        let g = 1.0 - keep;
        let mut shares = Vec::with_capacity(seeds);
        for seed in 0..seeds as u64 {
            let mut rng = crate::rng::stream_rng(5, seed, crate::rng::Stream::Thresholds);
            let mut drawn: Vec<f64> = (0..traders).map(|_| law.sample(&mut rng)).collect();
            drawn.sort_by(f64::total_cmp);
            let empirical = |x: f64| drawn.partition_point(|&t| t <= g * x) as f64 / traders as f64;
            let want = smallest_fixed_point(empirical);
            let row = crate::simulation::simulate(&sc, 5, seed, Default::default());
            let share = row.herders_derisked as f64 / traders as f64;
            assert_eq!(share, want, "{text}, seed {seed}");
            shares.push(share);
        }
        let n = seeds as f64;
        let mean = shares.iter().sum::<f64>() / n;
        let sd = (shares.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
        let theory = smallest_fixed_point(|x| law.cdf(g * x));
        // One trader's share is the resolution of a finite population.
        let se = (sd / n.sqrt()).max(1.0 / traders as f64);
        assert!(
            (mean - theory).abs() < 4.0 * se,
            "{text}: mean share {mean}, fixed point {theory} (se {se})"
        );
    }
}

/// A scenario of one long of 1M USD on a 10M linear book whose depth thins with flow.
fn one_long_with_flow_depth() -> Scenario {
    scenario(
        r#"
[experiment]
seeds = 1
steps = 10
[market]
mark = { rule = "book" }
s0 = 100.0
model = { kind = "gbm", vol = 0.0 }
book = { kind = "linear", depth_usd = 1e7 }
flow_liquidity = { gamma = 2.0, half_life_minutes = 30.0, floor = 0.1 }
[traders]
count = 1
max_order_impact = 0.05
[liquidation]
penalty_rate = 0.0
"#,
    )
}

/// The book does not know why an order came: from the same state, a liquidation and a
/// voluntary close of the same size and side fill at the same price, leave the same mark,
/// the same depth and the same flow.
#[test]
fn a_panic_close_and_a_liquidation_meet_the_same_book() {
    let sc = one_long_with_flow_depth();
    let people = [Placed {
        collateral: 1e5,
        size: 1e4,
        group: 0,
        rate: 0.0,
    }];
    let mut forced = World::open_with(&sc, 1, 0, placed(&sc, &people));
    let mut voluntary = World::open_with(&sc, 1, 0, placed(&sc, &people));
    // Some earlier one-way flow, the same in both.
    for w in [&mut forced, &mut voluntary] {
        let p = w.prices.get_mut(0);
        p.mark.execute(Side::Sell, 3e6, p.law);
    }
    let close = forced.close(0, 0, Liquidator::Engine, 1);
    let price = voluntary.prices.get_mut(0);
    let trade = trade_through_book(&mut voluntary.venue, 0, 0, -1e4, price, &sc).unwrap();
    assert_eq!(close.slippage_loss, trade.reduced_slippage);
    assert_eq!(close.notional, trade.reduced_notional);
    let (a, b) = (&forced.prices.get(0).mark, &voluntary.prices.get(0).mark);
    assert_eq!(a.mark(), b.mark());
    assert_eq!(a.depth(), b.depth());
    assert_eq!(a.net_flow(), b.net_flow());
    assert!(a.depth() < 1.0);
}
