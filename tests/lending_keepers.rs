//! Lending keepers and oracles as the contracts and the record run them (MODEL.md section 14,
//! issue 33): a feed on the index that keepers' sales never move, flash-funded keepers that
//! need no capital where capital-bound ones are held to theirs, and Maker's `chop` given as
//! the penalty.

mod common;

use std::path::Path;

use backstop::config::Experiment;
use backstop::simulation::{RunOptions, StepView, simulate_observed};

/// A WETH-like market on a fat-tailed path over a thin book, where keepers liquidate a lot:
/// `borrowers` loans at `ltv`, the feed reading `reads`, keepers funded as `keepers` says.
fn market(
    seeds: u32,
    borrowers: u32,
    collateral: &str,
    ltv: f64,
    reads: &str,
    keepers: &str,
) -> String {
    format!(
        r#"
[experiment]
seeds = {seeds}
master_seed = 33
steps = 720

[market]
name = "WETH"
s0 = 3000.0

[market.model]
kind = "garch"
long_run_vol = 1.5
alpha = 0.1
beta = 0.85
shocks = {{ kind = "student_t", nu = 3.0 }}

[market.book]
kind = "sqrt"
y = 1.0
vol = 1.5
daily_volume_usd = 5e7

[market.lending]
style = "aave"
borrowers = {borrowers}
collateral_usd = {collateral}
initial_ltv = {{ kind = "uniform", min = {lo}, max = {ltv} }}
ltv = 0.805
liquidation_threshold = 0.83
bonus = 0.05
protocol_fee = 0.10

[market.lending.oracle]
deviation = 0.005
heartbeat_seconds = 3600.0
reads = "{reads}"

[liquidation]
mode = "keeper"

[liquidation.keepers]
count = 1
latency_steps = 0
cost_usd = 20.0
{keepers}

[fund]
initial = 1e6
on_depletion = "none"
"#,
        lo = ltv - 0.05,
    )
}

/// Every step of seed `seed` of `exp`'s first cell, the ledger audited.
fn path(exp: &Experiment, seed: u64) -> Vec<StepView> {
    let mut steps: Vec<StepView> = Vec::new();
    simulate_observed(
        &exp.cells[0].scenario,
        exp.master_seed,
        seed,
        RunOptions { audit_ledger: true },
        &mut steps,
    );
    steps
}

const LOGNORMAL: &str = r#"{ kind = "lognormal", median = 50000.0, log_sd = 1.5 }"#;

/// With the feed on the index and no permanent impact, keepers' sales never reach the
/// oracle: its path, step by step, is bit for bit the path of the same seed where no loan
/// is ever liquidated (the same index, loans at 1% LTV). Reading the market instead, the
/// same sales move it on some seed: the comparison has power.
#[test]
fn keepers_sales_never_move_an_oracle_on_the_index() {
    let keepers = "capital_usd = 1e7";
    let busy = common::parse(&market(12, 300, LOGNORMAL, 0.80, "index", keepers));
    let quiet = common::parse(&market(12, 300, LOGNORMAL, 0.06, "index", keepers));
    let on_market = common::parse(&market(12, 300, LOGNORMAL, 0.80, "market", keepers));
    let (mut liquidations, mut moved) = (0, 0);
    for seed in 0..12 {
        let (b, q, m) = (
            path(&busy, seed),
            path(&quiet, seed),
            path(&on_market, seed),
        );
        assert_eq!(b.len(), q.len());
        for (x, y) in b.iter().zip(&q) {
            assert_eq!(y.liquidations, 0, "seed {seed}");
            assert_eq!(
                x.index.to_bits(),
                y.index.to_bits(),
                "seed {seed} step {}",
                x.step
            );
            assert_eq!(
                x.oracle.to_bits(),
                y.oracle.to_bits(),
                "seed {seed} step {}",
                x.step
            );
            assert!(x.oracle > 0.0);
        }
        liquidations += b.iter().map(|v| v.liquidations).sum::<u32>();
        moved += b.iter().zip(&m).any(|(x, y)| x.oracle != y.oracle) as u32;
    }
    assert!(liquidations > 100, "only {liquidations} liquidations");
    assert!(moved > 0, "the market's oracle never moved");
}

/// One whale loan of 50M USD of collateral, one keeper with 100k USD: funded by flash loans
/// it liquidates the whale in repayments far above its capital; held to its capital it never
/// repays more in a step than its capital and the profit it has made; with no capital at all
/// it liquidates nothing, where the flash-funded keeper with none liquidates as before.
#[test]
fn flash_funded_keepers_liquidate_loans_larger_than_their_capital() {
    let whale = r#"{ kind = "fixed", value = 5e7 }"#;
    let run = |keepers: &str| {
        let exp = common::parse(&market(30, 1, whale, 0.80, "index", keepers));
        let result = common::run(&exp, 2);
        let rows = result.cell_rows(0).to_vec();
        let paths: Vec<Vec<StepView>> = (0..30).map(|s| path(&exp, s)).collect();
        (rows, paths)
    };
    let capital = 1e5;
    let (flash_rows, flash) = run("capital_usd = 1e5\nflash = true");
    let (bound_rows, bound) = run("capital_usd = 1e5\nflash = false");
    let (_, broke_flash) = run("capital_usd = 0.0");
    let (broke_rows, _) = run("capital_usd = 0.0\nflash = false");
    let largest = |paths: &[Vec<StepView>]| {
        paths
            .iter()
            .flatten()
            .map(|v| v.liquidated_notional)
            .fold(0.0, f64::max)
    };
    assert!(largest(&flash) > 20.0 * capital, "{}", largest(&flash));
    assert!(largest(&broke_flash) > 20.0 * capital);
    for (row, steps) in bound_rows.iter().zip(&bound) {
        let most = capital + row.keeper_profit.max(0.0) + 1e-6;
        for v in steps {
            assert!(
                v.liquidated_notional <= most,
                "{} > {most}",
                v.liquidated_notional
            );
        }
    }
    let repaid = |rows: &[backstop::simulation::RunRow]| {
        rows.iter().map(|r| r.liquidation_notional).sum::<f64>()
    };
    assert!(
        repaid(&bound_rows) > 0.0,
        "capital-bound keepers still liquidate in part"
    );
    assert!(repaid(&flash_rows) > 5.0 * repaid(&bound_rows));
    assert_eq!(repaid(&broke_rows), 0.0);
}

/// `chop` is the penalty (0.13); the contract's multiplier 1.13 is refused, naming the file,
/// the field and the convention. `flash = true` without a lending market is refused too.
#[test]
fn chop_as_the_multiplier_and_flash_without_lending_are_refused() {
    let text = std::fs::read_to_string("experiments/lending-auction.toml").unwrap();
    assert!(text.contains("chop = 0.13"));
    let wrong = text.replace("chop = 0.13", "chop = 1.13");
    let err = Experiment::parse(&wrong, Path::new("auction.toml"), Default::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("auction.toml")
            && err.contains("market.lending.auction.chop")
            && err.contains("0.13"),
        "{err}"
    );
    let perps = std::fs::read_to_string("experiments/keepers.toml").unwrap();
    let keeper = perps.replace(
        "[liquidation.keepers]\n",
        "[liquidation.keepers]\nflash = true\n",
    );
    assert_ne!(keeper, perps);
    let err = Experiment::parse(&keeper, Path::new("perp.toml"), Default::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("perp.toml") && err.contains("liquidation.keepers.flash"),
        "{err}"
    );
}
