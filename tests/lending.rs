//! Lending markets in the engine (MODEL.md sections 14 and 15): the ledger with loans, alone
//! and beside perps; the first-passage closed form of one loan; the oracle that writes every
//! change; the calibration identity run by run; and R3 run from the CLI like a user.

mod common;

use std::path::Path;

use backstop::config::Experiment;
use backstop::protocol::lending::Loan;
use backstop::simulation::{RunOptions, StepView, simulate_observed};
use backstop::stats::{normal_cdf, quantile_sorted};

const SECONDS_PER_YEAR: f64 = 365.0 * 86_400.0;
/// -zeta(1/2) / sqrt(2 pi): Broadie, Glasserman, Kou (1997).
const BGK: f64 = 0.5826;

/// A stressed WETH-like market where keepers fall behind and bad debt is common: fat-tailed
/// GARCH at 150% vol, a thin square-root book that the oracle reads, keepers with little
/// capital (no flash loans) and a lag.
fn stressed(seeds: u32, fund: f64, extra: &str) -> String {
    format!(
        r#"
[experiment]
seeds = {seeds}
master_seed = 77
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
daily_volume_usd = 2e7

[market.lending]
style = "aave"
borrowers = 300
collateral_usd = {{ kind = "lognormal", median = 50000.0, log_sd = 1.0 }}
initial_ltv = {{ kind = "uniform", min = 0.70, max = 0.805 }}
ltv = 0.805
liquidation_threshold = 0.83
bonus = 0.05
protocol_fee = 0.10
deficit_offset_usd = 2000.0

[market.lending.oracle]
deviation = 0.01
heartbeat_seconds = 3600.0
reads = "market"

[liquidation]
mode = "keeper"

[liquidation.keepers]
count = 2
capital_usd = 3e5
latency_steps = 2
cost_usd = 20.0
flash = false

[fund]
initial = {fund:?}
on_depletion = "none"
{extra}
"#
    )
}

/// Every run of a lending market balances its ledger after every step (the helper audits
/// each step and checks the largest imbalance), with the rule after depletion either way,
/// and beside a perp market sharing the fund. The stressed market does liquidate, leave
/// bad debt, pay the offset and drain the fund, so the audit sees every transfer.
#[test]
fn the_ledger_balances_with_lending_markets_alone_and_beside_perps() {
    for rule in ["none", "socialize"] {
        let text = stressed(60, 2e5, "").replace(
            "on_depletion = \"none\"",
            &format!("on_depletion = \"{rule}\""),
        );
        let result = common::run(&common::parse(&text), 2);
        let rows = &result.rows;
        assert!(rows.iter().any(|r| r.liquidation_count > 0));
        assert!(rows.iter().any(|r| r.bad_debt > 0.0));
        assert!(rows.iter().any(|r| r.depleted));
        assert!(rows.iter().any(|r| r.deficit_offset > 0.0));
        assert!(
            rows.iter()
                .all(|r| r.protocol_fees >= 0.0 && r.keeper_profit.is_finite())
        );
        let socialized: f64 = rows.iter().map(|r| r.socialized_loss).sum();
        let uncovered: f64 = rows.iter().map(|r| r.bad_debt_uncovered).sum();
        if rule == "socialize" {
            assert!(socialized > 0.0 && uncovered == 0.0);
        } else {
            assert!(uncovered > 0.0 && socialized == 0.0);
        }
        for r in &result.market_rows {
            // The waterfall adds up: every dollar of bad debt was paid by someone or is left.
            let paid = r.deficit_offset + r.fund_paid + r.socialized_loss + r.bad_debt_uncovered;
            assert!(
                (paid - r.bad_debt).abs() <= 1e-9 * r.bad_debt.max(1.0),
                "seed {}",
                r.seed
            );
        }
    }
    let mixed = stressed(40, 2e5, "").replace(
        "[liquidation]",
        "[markets.BTC]\ntraders = 200\n[markets.BTC.book]\nkind = \"linear\"\ndepth_usd = 5e6\n\n[liquidation]",
    );
    let mixed = mixed.replace("on_depletion = \"none\"", "on_depletion = \"socialize\"");
    let result = common::run(&common::parse(&mixed), 2);
    let by_market = |m: u32| {
        result
            .market_rows
            .iter()
            .filter(|r| r.market == m)
            .map(|r| r.liquidation_count)
            .sum::<u32>()
    };
    assert!(
        by_market(0) > 0 && by_market(1) > 0,
        "both markets liquidate"
    );
    assert!(
        result
            .market_rows
            .iter()
            .all(|r| (r.market == 0) == r.worst_oracle_gap.is_some())
    );
}

/// P(the log price `X_t = mu t + sigma W_t` reaches barrier `b < 0` before `t`).
fn first_passage_down(b: f64, mu: f64, sigma: f64, t: f64) -> f64 {
    let s = sigma * t.sqrt();
    normal_cdf((b - mu * t) / s)
        + (2.0 * mu * b / (sigma * sigma)).exp() * normal_cdf((b + mu * t) / s)
}

/// One loan under GBM, no impact, an oracle that writes every change and keepers that act
/// at once and can always pay: the loan is liquidated exactly when the index first falls
/// below `d / (c LT)`. Its liquidation probability over the horizon matches GBM's first
/// passage with the BGK correction within 4 SE; and since no step falls anywhere near the
/// gap `1 - LT (1 + bonus)` (12.85%), no run leaves bad debt.
#[test]
fn one_loan_is_liquidated_at_gbm_first_passage() {
    let (seeds, steps, dt, vol, ltv, lt) = (20_000u32, 1_440u64, 600.0, 1.2, 0.7f64, 0.83f64);
    let toml = format!(
        r#"
[experiment]
seeds = {seeds}
master_seed = 4243
steps = {steps}
dt_seconds = {dt:?}

[market.model]
kind = "gbm"
vol = {vol:?}

[market.book]
kind = "none"

[market.lending]
style = "aave"
borrowers = 1
collateral_usd = {{ kind = "fixed", value = 10000.0 }}
initial_ltv = {{ kind = "fixed", value = {ltv:?} }}
ltv = 0.805
liquidation_threshold = {lt:?}
bonus = 0.05
protocol_fee = 0.1

[market.lending.oracle]
deviation = 0.0
heartbeat_seconds = 3600.0

[liquidation]
mode = "keeper"

[liquidation.keepers]
count = 1
capital_usd = 1e12
latency_steps = 0
cost_usd = 0.0

[fund]
initial = 1e9
on_depletion = "none"
"#
    );
    let result = common::run(&common::parse(&toml), 2);
    let hits = result
        .rows
        .iter()
        .filter(|r| r.liquidation_count > 0)
        .count();
    let p_hat = hits as f64 / seeds as f64;
    let dt_years = dt / SECONDS_PER_YEAR;
    let b = (ltv / lt).ln() - BGK * vol * dt_years.sqrt();
    let p = first_passage_down(b, -0.5 * vol * vol, vol, steps as f64 * dt_years);
    let se = (p * (1.0 - p) / seeds as f64).sqrt();
    eprintln!("one loan: simulated {p_hat:.4}, BGK {p:.4}, se {se:.4}");
    assert!(
        (p_hat - p).abs() < 4.0 * se,
        "simulated {p_hat:.4}, theory {p:.4} (se {se:.4})"
    );
    assert!(
        result
            .rows
            .iter()
            .all(|r| r.bad_debt == 0.0 && r.underwater_debt == 0.0)
    );
}

/// With a deviation threshold of 0 (and no impact, so the market's price is the index) the
/// oracle is the index: the loan is liquidated at the first step whose index makes its
/// health factor fall below 1, on every seed.
#[test]
fn an_oracle_that_writes_every_change_liquidates_on_the_index() {
    let toml = r#"
[experiment]
seeds = 300
master_seed = 5
steps = 1440

[market]
s0 = 3000.0

[market.model]
kind = "gbm"
vol = 2.0

[market.book]
kind = "none"

[market.lending]
style = "aave"
borrowers = 1
collateral_usd = { kind = "fixed", value = 10000.0 }
initial_ltv = { kind = "fixed", value = 0.78 }
ltv = 0.805
liquidation_threshold = 0.83
bonus = 0.05
protocol_fee = 0.1

[market.lending.oracle]
deviation = 0.0
heartbeat_seconds = 3600.0

[liquidation]
mode = "keeper"

[liquidation.keepers]
count = 1
capital_usd = 1e12
latency_steps = 0
cost_usd = 0.0

[fund]
on_depletion = "none"
"#;
    let exp = common::parse(toml);
    let loan = Loan {
        collateral: 10_000.0 / 3_000.0,
        debt: 10_000.0 * 0.78,
    };
    let mut liquidated = 0;
    for seed in 0..300 {
        let mut path: Vec<StepView> = Vec::new();
        let opts = RunOptions { audit_ledger: true };
        simulate_observed(
            &exp.cells[0].scenario,
            exp.master_seed,
            seed,
            opts,
            &mut path,
        );
        let on_index = path
            .iter()
            .find(|v| loan.health_factor(v.index, 0.83) < 1.0)
            .map(|v| v.step);
        let on_oracle = path.iter().find(|v| v.liquidations > 0).map(|v| v.step);
        assert_eq!(on_oracle, on_index, "seed {seed}");
        liquidated += on_oracle.is_some() as u32;
    }
    assert!(liquidated > 30 && liquidated < 270, "{liquidated} of 300");
}

/// The stressed market under Compound III's rules: absorb at a liquidation factor of 0.93,
/// store-front factor 0.5, target reserves `target`.
fn stressed_comet(seeds: u32, fund: f64, target: f64, extra: &str) -> String {
    stressed(seeds, fund, extra)
        .replace("style = \"aave\"", "style = \"comet\"")
        .replace("bonus = 0.05\nprotocol_fee = 0.10\n", "")
        .replace(
            "[liquidation]",
            &format!(
                "[market.lending.comet]\nliquidation_factor = 0.93\nstore_front_factor = 0.5\n\
                 target_reserves_usd = {target:?}\n\n[liquidation]"
            ),
        )
}

/// Comet absorbs whatever the buyers do: with the store front shut all day (reserves of
/// 1e12 against a target of 0) loans are absorbed at HF < 1 all the same, nobody buys (no
/// sale, so no slippage), and the fund ends where the held collateral's price leaves it,
/// not where its cash flows would (its gains at absorb, less the deficits it paid). With
/// the target above the reserves, keepers buy. The ledger is audited after every step.
#[test]
fn comet_absorbs_without_a_buyer_and_sells_only_below_its_target() {
    let fund = 1e12;
    let closed = common::run(&common::parse(&stressed_comet(40, fund, 0.0, "")), 2);
    assert!(closed.rows.iter().any(|r| r.liquidation_count > 0));
    assert!(closed.rows.iter().all(|r| r.slippage_loss == 0.0));
    let marked = closed
        .rows
        .iter()
        .filter(|r| r.liquidation_count > 0)
        .map(|r| (r.fund_final - (fund + r.penalty_to_fund - r.bad_debt + r.deficit_offset)).abs())
        .fold(0.0, f64::max);
    assert!(
        marked > 1_000.0,
        "the held collateral moves the fund: {marked}"
    );
    let open = common::run(&common::parse(&stressed_comet(40, fund, 2.0 * fund, "")), 2);
    assert!(open.rows.iter().any(|r| r.slippage_loss > 0.0));
}

/// Comet in the engine, the ledger audited after every step: keepers absorb and buy at the
/// store front, the reserves (the fund) keep their share of the discount on sound loans,
/// hold the collateral at its price until it is bought, and the waterfall adds up. A bonus beside Comet's rules
/// is refused, naming the field.
#[test]
fn comet_absorbs_into_the_reserves_and_the_ledger_balances() {
    let result = common::run(&common::parse(&stressed_comet(60, 2e5, 5e6, "")), 2);
    let rows = &result.rows;
    assert!(rows.iter().any(|r| r.liquidation_count > 0));
    // Absorbed at once for gas, loans rarely sink under their credit here; keepers buy
    // what is absorbed (their sales' slippage) and the reserves keep their share.
    assert!(
        rows.iter()
            .any(|r| r.slippage_loss > 0.0 && r.fund_final > 2e5)
    );
    assert!(result.market_rows.iter().any(|r| r.fund_inflow > 0.0));
    assert!(rows.iter().all(|r| r.protocol_fees == 0.0));
    for r in &result.market_rows {
        let paid = r.deficit_offset + r.fund_paid + r.socialized_loss + r.bad_debt_uncovered;
        assert!(
            (paid - r.bad_debt).abs() <= 1e-9 * r.bad_debt.max(1.0),
            "seed {}",
            r.seed
        );
    }
    let with_bonus = stressed_comet(2, 2e5, 5e6, "")
        .replace("style = \"comet\"", "style = \"comet\"\nbonus = 0.05");
    let err = Experiment::parse(&with_bonus, Path::new("comet.toml"), Default::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("comet.toml") && err.contains("market.lending.bonus"),
        "{err}"
    );
}

/// MODEL.md section 5 for lending: a run exhausts a stake of F0 exactly when its required
/// capital exceeds F0, run by run on the same seeds, for stakes across the distribution.
#[test]
fn required_capital_predicts_depletion_run_by_run_for_lending() {
    let seeds = 300;
    let reference = common::run(&common::parse(&stressed(seeds, 1e12, "")), 2);
    assert!(reference.rows.iter().all(|r| !r.depleted));
    let mut r: Vec<f64> = reference.rows.iter().map(|r| r.required_capital).collect();
    r.sort_by(f64::total_cmp);
    let positive = r.iter().filter(|&&x| x > 0.0).count();
    assert!(
        positive > seeds as usize / 10,
        "too few runs with deficits: {positive}"
    );
    let funds: Vec<f64> = [0.5, 0.8, 0.95]
        .iter()
        .map(|&p| quantile_sorted(&r, p).unwrap())
        .chain([0.0])
        .collect();
    let grid = format!(
        "[grid]\n\"fund.initial\" = [{}]\n",
        funds
            .iter()
            .map(|f| format!("{f:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let result = common::run(&common::parse(&stressed(seeds, 1.0, &grid)), 2);
    let mut depleted = 0;
    for (c, &f0) in funds.iter().enumerate() {
        for (row, reference) in result.cell_rows(c).iter().zip(&reference.rows) {
            assert_eq!(
                row.depleted,
                reference.required_capital > f0,
                "seed {}",
                row.seed
            );
            assert_eq!(row.depleted, row.required_capital > f0);
            depleted += row.depleted as usize;
        }
    }
    assert!(depleted > 0);
}

/// R3 from the CLI, as a user runs it (fewer seeds): the run and summary tables carry the
/// lending columns, and they hold together.
#[test]
fn r3_runs_from_the_cli_and_writes_the_lending_columns() {
    let out = common::temp_dir("r3");
    common::run_tables(
        Path::new("experiments/r3-lending.toml"),
        &out,
        &["--seeds", "40"],
    );
    let runs = common::read_parquet(&out.join("runs.parquet"));
    let bad = common::f64_column(&runs, "bad_debt");
    let under = common::f64_column(&runs, "underwater_debt");
    let insolvent = common::f64_column(&runs, "insolvent_debt");
    for ((b, u), i) in bad.iter().zip(&under).zip(&insolvent) {
        assert_eq!(b + u, *i);
    }
    let fees = common::f64_column(&runs, "protocol_fees");
    let liquidated = common::f64_column(&runs, "liquidation_notional");
    assert!(
        liquidated.iter().sum::<f64>() > 0.0,
        "R3 liquidates in a day"
    );
    assert!(fees.iter().sum::<f64>() > 0.0);
    let summary = common::read_parquet(&out.join("summary.parquet"));
    for column in [
        "insolvent_debt_var95",
        "liquidated_notional_lar95",
        "depletion_probability",
    ] {
        assert!(
            common::f64_column(&summary, column)[0].is_finite(),
            "{column}"
        );
    }
    let markets = common::read_parquet(&out.join("runs_by_market.parquet"));
    let gaps = common::f64_column(&markets, "worst_oracle_gap");
    let impact = common::f64_column(&markets, "worst_mark_index_ratio");
    // R3's feed reads the index: a 0.5% feed stays within about 0.5% of it (plus one step's
    // move). The bound also admits the impact's gap, which a feed on the market follows.
    for (g, i) in gaps.iter().zip(&impact) {
        assert!(g.is_finite() && *g > 0.0);
        let bound = 0.02 + i.ln().abs();
        assert!(g.ln().abs() < bound, "oracle gap {g}, mark/index {i}");
    }
    let exp = Experiment::load(
        Path::new("experiments/r3-lending.toml"),
        backstop::config::Overrides::default(),
    )
    .unwrap();
    assert_eq!(exp.seeds, 10_000);
    let _ = std::fs::remove_dir_all(&out);
}

/// Maker-style auctions on a crash day (experiments/lending-auction.toml, fewer vaults and
/// seeds), with the ledger audited after every step: keepers with capital and cheap gas kick,
/// take and leave some bad debt; keepers whose gas is dearer than any incentive never kick,
/// nothing is bought, and the loss stays in the vaults as underwater debt instead.
#[test]
fn auctions_balance_and_keepers_that_cannot_act_leave_underwater_debt() {
    let text = std::fs::read_to_string("experiments/lending-auction.toml").unwrap();
    assert!(text.contains("flash = false"));
    let text = text
        .replace("borrowers = 2000", "borrowers = 300")
        .replace("seeds = 2000", "seeds = 40");
    let grid_at = text.find("[grid]").unwrap();
    let text = format!(
        "{}[grid.zip.keepers]\n\"liquidation.keepers.capital_usd\" = [5e6, 0.0]\n\"liquidation.keepers.cost_usd\" = [20.0, 5000.0]\n",
        // The study's keepers pay from their capital: without it they cannot take.
        &text[..grid_at]
    );
    let exp = Experiment::parse(
        &text,
        Path::new("experiments/lending-auction.toml"),
        Default::default(),
    )
    .unwrap();
    let result = common::run(&exp, 2);
    let able = result.cell_rows(0);
    let unable = result.cell_rows(1);
    let sum = |rows: &[backstop::simulation::RunRow],
               f: fn(&backstop::simulation::RunRow) -> f64| {
        rows.iter().map(f).sum::<f64>()
    };
    assert!(sum(able, |r| r.liquidation_notional) > 0.0);
    assert!(sum(able, |r| r.keeper_incentives) > 0.0);
    assert!(sum(unable, |r| r.liquidation_notional) == 0.0);
    assert!(sum(unable, |r| r.bad_debt) == 0.0);
    assert!(sum(unable, |r| r.underwater_debt) > sum(able, |r| r.underwater_debt));
}

/// Two hundred loans under GBM on a thin book, keepers that act at once, an oracle that
/// writes every change; `extra` adds a `[market.lending.*]` behavior table.
fn behaving(drift: f64, extra: &str) -> String {
    format!(
        r#"
[experiment]
seeds = 200
master_seed = 91
steps = 1440
dt_seconds = 600.0

[market]
s0 = 3000.0

[market.model]
kind = "gbm"
vol = 1.0
drift = {drift:?}

[market.book]
kind = "sqrt"
y = 1.0
vol = 1.0
daily_volume_usd = 5e7

[market.lending]
style = "aave"
borrowers = 200
collateral_usd = {{ kind = "lognormal", median = 50000.0, log_sd = 1.0 }}
initial_ltv = {{ kind = "uniform", min = 0.60, max = 0.805 }}
ltv = 0.805
liquidation_threshold = 0.83
bonus = 0.05
protocol_fee = 0.1

[market.lending.oracle]
deviation = 0.0
heartbeat_seconds = 3600.0
{extra}
[liquidation]
mode = "keeper"

[liquidation.keepers]
count = 1
capital_usd = 1e12
latency_steps = 0
cost_usd = 0.0

[fund]
initial = 1e7
on_depletion = "none"
"#
    )
}

/// Defenders with a reserve worth their collateral repay (or top up) at HF 1.15 back to 1.5: no ten-
/// minute step of a 100%-vol GBM crosses from 1.15 to 1, and the reserve covers any debt
/// (LTV at most 0.805), so none is ever liquidated, while the same seeds' static borrowers
/// are. With an empty reserve the same defenders can do nothing: the liquidations are the
/// static ones, seed by seed (the plans have their own stream). The ledger is audited every
/// step by the helper.
#[test]
fn defenders_with_a_reserve_are_never_liquidated_and_without_one_change_nothing() {
    let static_run = common::run(&common::parse(&behaving(0.0, "")), 2);
    let liquidations = |r: &backstop::montecarlo::ExperimentResult| {
        r.market_rows
            .iter()
            .map(|m| m.liquidation_count)
            .collect::<Vec<_>>()
    };
    let defended = |reserve: f64, action: &str| {
        let table = format!(
            "\n[market.lending.defenders]\nshare = 1.0\nbelow_hf = 1.15\nto_hf = 1.5\nreserve = {reserve:?}\naction = \"{action}\"\n"
        );
        common::run(&common::parse(&behaving(0.0, &table)), 2)
    };
    let full = defended(1.0, "repay");
    let empty = defended(0.0, "repay");
    // Topping up to HF 1.5 costs more than the reserve only after a fall to under 45% of
    // the start, some 5 standard deviations of ten days at 100% vol.
    let topped = defended(1.0, "top_up");
    assert!(liquidations(&topped).iter().all(|&n| n == 0));
    assert!(topped.market_rows.iter().any(|m| m.defender_spend > 0.0));
    assert!(liquidations(&static_run).iter().sum::<u32>() > 0);
    assert!(liquidations(&full).iter().all(|&n| n == 0));
    assert!(full.market_rows.iter().any(|m| m.defender_spend > 0.0));
    assert!(full.market_rows.iter().all(|m| m.underwater_debt == 0.0));
    assert_eq!(liquidations(&empty), liquidations(&static_run));
    assert!(empty.market_rows.iter().all(|m| m.defender_spend == 0.0));
    assert!(
        static_run
            .market_rows
            .iter()
            .all(|m| m.defender_spend == 0.0)
    );
}

/// Loopers on a rising market borrow back to their opening LTV and buy collateral with it:
/// the ledger balances every step with the suppliers' claim growing by what they borrow,
/// and over the same seeds more loans are liquidated than when everyone is static (the
/// leverage cycle: re-levered on the way up, exposed on the way down). The excess is
/// judged against 4 standard errors of the paired difference.
#[test]
fn loopers_re_lever_on_the_way_up_and_are_liquidated_more() {
    let table = "\n[market.lending.loopers]\nshare = 1.0\nrebalance = 0.05\n";
    let static_run = common::run(&common::parse(&behaving(0.5, "")), 2);
    let looped = common::run(&common::parse(&behaving(0.5, table)), 2);
    assert!(looped.market_rows.iter().any(|m| m.looped_debt > 0.0));
    assert!(static_run.market_rows.iter().all(|m| m.looped_debt == 0.0));
    let diff: Vec<f64> = looped
        .market_rows
        .iter()
        .zip(&static_run.market_rows)
        .map(|(a, b)| a.liquidation_notional - b.liquidation_notional)
        .collect();
    let n = diff.len() as f64;
    let mean = diff.iter().sum::<f64>() / n;
    let var = diff.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let se = (var / n).sqrt();
    eprintln!("loopers: extra debt liquidated {mean:.0} USD per run (se {se:.0})");
    assert!(mean > 4.0 * se, "mean {mean}, se {se}");
}

/// Behavior tables that would overlap or run away are refused before any run, naming the
/// field.
#[test]
fn behavior_tables_out_of_range_are_refused_naming_the_field() {
    for (table, field) in [
        (
            "\n[market.lending.defenders]\nshare = 0.5\nbelow_hf = 0.9\nto_hf = 1.5\nreserve = 0.2\n",
            "market.lending.defenders.below_hf",
        ),
        (
            "\n[market.lending.defenders]\nshare = 0.5\nbelow_hf = 1.2\nto_hf = 1.1\nreserve = 0.2\n",
            "market.lending.defenders.to_hf",
        ),
        (
            "\n[market.lending.loopers]\nshare = 0.5\nrebalance = 0.0\n",
            "market.lending.loopers.rebalance",
        ),
        (
            "\n[market.lending.derisk]\nshare = 0.5\nwindow_minutes = 60.0\nthreshold_usd = 1e6\nsell_share = 0.0\n",
            "market.lending.derisk.sell_share",
        ),
        (
            "\n[market.lending.loopers]\nshare = 0.5\nrebalance = 0.1\n\n[market.lending.derisk]\nshare = 0.6\nwindow_minutes = 60.0\nthreshold_usd = 1e6\nsell_share = 0.5\n",
            "market.lending.derisk.share",
        ),
        (
            "\n[market.lending.defenders]\nshare = 0.6\nbelow_hf = 1.1\nto_hf = 1.5\nreserve = 0.2\n\n[market.lending.loopers]\nshare = 0.6\nrebalance = 0.1\n",
            "market.lending.loopers.share",
        ),
    ] {
        let err = Experiment::parse(
            &behaving(0.0, table),
            Path::new("x.toml"),
            Default::default(),
        )
        .err()
        .unwrap_or_else(|| panic!("{field}: accepted"))
        .to_string();
        assert!(err.contains(field), "{field}: {err}");
    }
}

/// `[market.lending.derisk]` with `threshold` and the rest fixed.
fn derisk_table(threshold: f64) -> String {
    format!(
        "\n[market.lending.derisk]\nshare = 0.5\nwindow_minutes = 60.0\nthreshold_usd = {threshold:?}\nsell_share = 0.5\n"
    )
}

/// De-riskers against a price they cannot move (no book): each sale repays debt at the
/// mark, which raises the health factor of any loan whose collateral covers its debt, so
/// over the same seeds less debt is liquidated than when everyone waits (judged against 4
/// SE of the paired difference). A threshold never reached leaves every run as the static
/// one, seed by seed (the plans have their own stream). Beside a thin book, with the sales
/// as separate orders or pooled, the ledger still balances after every step.
#[test]
fn de_riskers_sell_on_alarm_and_without_impact_they_are_liquidated_less() {
    let unmoved = |t: &str| {
        behaving(0.0, t).replace(
            "kind = \"sqrt\"\ny = 1.0\nvol = 1.0\ndaily_volume_usd = 5e7",
            "kind = \"none\"",
        )
    };
    let static_run = common::run(&common::parse(&unmoved("")), 2);
    let alarmed = common::run(&common::parse(&unmoved(&derisk_table(0.0))), 2);
    let never = common::run(&common::parse(&unmoved(&derisk_table(1e15))), 2);
    assert!(alarmed.market_rows.iter().any(|m| m.derisked_debt > 0.0));
    assert!(never.market_rows.iter().all(|m| m.derisked_debt == 0.0));
    for (a, b) in never.market_rows.iter().zip(&static_run.market_rows) {
        assert_eq!(
            a.liquidation_notional.to_bits(),
            b.liquidation_notional.to_bits()
        );
        assert_eq!(a.bad_debt.to_bits(), b.bad_debt.to_bits());
    }
    let diff: Vec<f64> = static_run
        .market_rows
        .iter()
        .zip(&alarmed.market_rows)
        .map(|(s, a)| s.liquidation_notional - a.liquidation_notional)
        .collect();
    let n = diff.len() as f64;
    let mean = diff.iter().sum::<f64>() / n;
    let var = diff.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let se = (var / n).sqrt();
    eprintln!("de-riskers, no impact: {mean:.0} USD less debt liquidated per run (se {se:.0})");
    assert!(mean > 4.0 * se, "mean {mean}, se {se}");

    for orders in ["separate", "pooled"] {
        let table = format!("{}orders = \"{orders}\"\n", derisk_table(1e5));
        let thin = common::run(&common::parse(&stressed(40, 2e5, &table)), 2);
        assert!(
            thin.market_rows.iter().any(|m| m.derisked_debt > 0.0),
            "{orders}"
        );
    }
}

/// A lending study's printed summary and report state P(depletion) as a chance a day and
/// what it would be over a year of independent days, `1 - (1 - p)^365`.
#[test]
fn lending_reports_give_the_daily_chance_and_its_year() {
    let out = common::temp_dir("r3-year");
    let file = out.join("r3.toml");
    std::fs::write(&file, stressed(30, 2e5, "")).unwrap();
    let o = common::backstop(&[
        "run",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let printed = String::from_utf8_lossy(&o.stdout);
    assert!(
        printed.contains("over a year if days were independent, 1 - (1 - p)^365"),
        "{printed}"
    );
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        report.contains("Over a year of 365 such days, were days independent"),
        "{report}"
    );
    let _ = std::fs::remove_dir_all(&out);
}

/// The USDC stake of experiments/umbrella-usdc.toml (fewer borrowers and seeds, books fifty
/// times thinner and the feeds on the market, so that deficits arrive): three lending markets with correlated indices share
/// one fund, the ledger balances after every step (the helper audits it), what the stake
/// paid is the sum of what it paid for each market, and the report names the USDC stake and
/// each collateral's share of its draws.
#[test]
fn a_usdc_stake_shared_by_three_collaterals_balances_and_is_named() {
    let text = std::fs::read_to_string("experiments/umbrella-usdc.toml")
        .unwrap()
        .replace("reads = \"index\"", "reads = \"market\"")
        .replace("borrowers = 2000", "borrowers = 400")
        .replace("borrowers = 1000", "borrowers = 200")
        .replace("borrowers = 500", "borrowers = 100")
        .replace("seeds = 10000", "seeds = 200")
        .replace("daily_volume_usd = 1e9", "daily_volume_usd = 2e7")
        .replace("daily_volume_usd = 5e8", "daily_volume_usd = 1e7")
        .replace("daily_volume_usd = 1e8", "daily_volume_usd = 2e6");
    let result = common::run(&common::parse(&text), 2);
    assert_eq!(result.market_rows.len(), 3 * result.rows.len());
    let mut drawn = 0;
    for (r, markets) in result.rows.iter().zip(result.market_rows.chunks(3)) {
        let paid: f64 = markets.iter().map(|m| m.fund_paid).sum();
        let fund_paid = r.bad_debt - r.deficit_offset - r.bad_debt_uncovered;
        assert!(
            (paid - fund_paid).abs() <= 1e-6 * (1.0 + paid),
            "seed {}",
            r.seed
        );
        drawn += (paid > 0.0) as u32;
    }
    assert!(drawn > 0, "the stake is drawn on some day");
    // Correlated indices: WETH and WBTC fall 5% in the same day far more often than
    // independent days would (their expected count plus 3 of its Poisson SDs).
    let falls = |m: usize| -> Vec<bool> {
        result
            .market_rows
            .chunks(3)
            .map(|c| c[m].index_max_drawdown > 0.05)
            .collect()
    };
    let (weth, wbtc) = (falls(0), falls(1));
    let n = weth.len() as f64;
    let count = |v: &[bool]| v.iter().filter(|&&x| x).count() as f64;
    let independent = count(&weth) * count(&wbtc) / n;
    let both = weth.iter().zip(&wbtc).filter(|(a, b)| **a && **b).count() as f64;
    assert!(
        both > independent + 3.0 * independent.sqrt(),
        "both {both}, independent {independent}"
    );

    let out = common::temp_dir("usdc-stake");
    let file = out.join("usdc.toml");
    std::fs::write(&file, text.replace("seeds = 200", "seeds = 100")).unwrap();
    let o = common::backstop(&[
        "run",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains("The fund is the USDC stake"), "{report}");
    assert!(
        report.contains("`WETH` ") && report.contains("`LINK` "),
        "{report}"
    );
    let _ = std::fs::remove_dir_all(&out);
}

/// experiments/r3-crash.toml (20 seeds): the shape of 10 October 2025 reaches every style's
/// market (its index falls 21.1% from 4,354 to 3,435), each style liquidates, Comet's
/// reserves absorb without a deficit, no fund runs dry, and the ledger balances after every
/// step.
#[test]
fn the_crash_day_reaches_all_three_styles() {
    let exp = Experiment::load(
        Path::new("experiments/r3-crash.toml"),
        backstop::config::Overrides {
            seeds: Some(20),
            master_seed: None,
        },
    )
    .unwrap();
    let result = common::run(&exp, 2);
    for markets in result.market_rows.chunks(3) {
        for m in markets {
            assert!((m.index_max_drawdown - (1.0 - 3_435.0 / 4_354.0)).abs() < 1e-3);
            assert!(m.liquidation_count > 0, "market {}", m.market);
        }
        assert_eq!(markets[1].bad_debt, 0.0, "comet");
    }
    assert!(result.rows.iter().all(|r| !r.depleted));
}

/// Comet's store front opens only below its target reserves, so the fund's size shapes the
/// run before depletion and calibration must bisect; Aave's does not.
#[test]
fn comet_target_reserves_make_calibration_bisect() {
    let load =
        |f: &str| Experiment::load(Path::new(f), backstop::config::Overrides::default()).unwrap();
    let comet = load("experiments/lending-comet.toml");
    assert!(
        comet.cells[0]
            .scenario
            .fund_shapes_the_run_before_depletion()
    );
    let aave = load("experiments/r3-lending.toml");
    assert!(
        !aave.cells[0]
            .scenario
            .fund_shapes_the_run_before_depletion()
    );
}
