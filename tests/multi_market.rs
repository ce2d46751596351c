//! Several markets on one venue (MODEL.md sections 1, 5 and 8): isolation, shared funds, the
//! calibration identity, and thread-count independence with correlated shocks and crashes.

mod common;

use backstop::simulation::{MarketRow, RunRow};
use common::{parse, run};

/// Market 1 of `stressed()`, plus `ETH`: a thinner, more volatile second market.
fn two_markets(seeds: u32, fund: f64, extra: &str) -> String {
    common::stressed(
        seeds,
        fund,
        &format!(
            r#"
{extra}

[markets.ETH]
s0 = 2000.0
traders = 100
[markets.ETH.model]
kind = "garch"
long_run_vol = 1.2
alpha = 0.1
beta = 0.85
shocks = {{ kind = "student_t", nu = 3.0 }}
[markets.ETH.book]
kind = "linear"
depth_usd = 2e7
"#
        ),
    )
}

const CORRELATED: &str = r#"
[correlation]
matrix = [[1.0, 0.8], [0.8, 1.0]]
[correlation.crash]
intensity = 50.0
jump_mean = -0.05
jump_sd = 0.03
betas = [1.0, 1.5]
"#;

/// With isolated funds and no correlation, the first market of a two-market venue runs
/// exactly as it would alone with its share of the fund: same index stream, same traders,
/// its own fund. Its figures match the one-market run's, seed by seed, bit for bit.
#[test]
fn an_isolated_market_runs_as_if_alone() {
    let alone = run(&parse(&common::stressed(60, 4e5, "")), 1);
    let pair = run(&parse(&two_markets(60, 8e5, "scope = \"isolated\"")), 2);
    let mut deficits = 0.0;
    assert_eq!(pair.market_rows.len(), 2 * pair.rows.len());
    for ((a, p), markets) in alone
        .rows
        .iter()
        .zip(&pair.rows)
        .zip(pair.market_rows.chunks(2))
    {
        let first = &markets[0];
        assert_eq!(
            (first.seed, first.market, markets[1].market),
            (a.seed, 0, 1)
        );
        assert_eq!(a.bad_debt, first.bad_debt, "seed {}", a.seed);
        assert_eq!(a.liquidation_notional, first.liquidation_notional);
        assert_eq!(a.open_interest, first.open_interest);
        // The fund paid the same for market 1's deficits (nothing of market 2's reached it).
        let alone_paid = a.bad_debt - a.bad_debt_uncovered - a.socialized_loss;
        assert!(
            (alone_paid - first.fund_paid).abs() <= 1e-9 * a.bad_debt.max(1.0),
            "seed {}",
            a.seed
        );
        assert_eq!(p.spillover, 0.0);
        deficits += a.bad_debt;
    }
    assert!(deficits > 0.0, "the test needs deficits to mean anything");
}

/// Each run's figures against its markets' rows: sums over markets are the run's totals (up
/// to rounding), maxima its maxima, and the spill-over is the markets' spill-over.
fn check_run_identities(rows: &[RunRow], markets: &[MarketRow], f0: f64) {
    let per_run = markets.len() / rows.len();
    for (r, ms) in rows.iter().zip(markets.chunks(per_run)) {
        // The calibration identity (MODEL.md section 5) holds run by run, whatever the scope.
        assert_eq!(r.depleted, r.required_capital > f0, "seed {}", r.seed);
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0);
        let sum = |f: fn(&MarketRow) -> f64| ms.iter().map(f).sum::<f64>();
        assert!(ms.iter().all(|m| m.seed == r.seed));
        assert!(close(sum(|m| m.bad_debt), r.bad_debt), "seed {}", r.seed);
        assert!(close(
            sum(|m| m.liquidation_notional),
            r.liquidation_notional
        ));
        assert!(close(sum(|m| m.slippage_loss), r.slippage_loss));
        assert!(close(sum(|m| m.open_interest), r.open_interest));
        assert!(close(sum(|m| m.socialized_loss), r.socialized_loss));
        assert_eq!(sum(|m| m.spillover), r.spillover);
        assert_eq!(
            ms.iter().map(|m| m.liquidation_count).sum::<u32>(),
            r.liquidation_count
        );
        let deepest = ms.iter().map(|m| m.index_max_drawdown).fold(0.0, f64::max);
        assert_eq!(deepest, r.index_max_drawdown);
        assert!(r.spillover <= sum(|m| m.fund_paid) + 1e-9);
    }
}

/// Correlated shocks with a common crash, both fund scopes: the ledger balances after every
/// step (`run` audits it), 1 and 3 threads give the same bits, the calibration identity holds
/// run by run, and only a shared fund shows spill-over.
#[test]
fn shared_and_isolated_funds_keep_the_ledger_and_the_calibration_identity() {
    let f0 = 1.5e7;
    for scope in ["shared", "isolated"] {
        let exp = parse(&two_markets(
            80,
            f0,
            &format!("scope = \"{scope}\"\n{CORRELATED}"),
        ));
        let a = run(&exp, 1);
        let b = run(&exp, 3);
        assert_eq!(a.rows, b.rows, "{scope}: thread count changed the results");
        assert_eq!(a.market_rows, b.market_rows);
        check_run_identities(&a.rows, &a.market_rows, f0);
        let depleted = a.rows.iter().filter(|r| r.depleted).count();
        assert!(
            depleted > 0 && depleted < a.rows.len(),
            "{scope}: {depleted} depletions"
        );
        let spills = a.rows.iter().filter(|r| r.spillover > 0.0).count();
        if scope == "shared" {
            assert!(spills > 0, "a shared fund under stress shows spill-over");
        } else {
            assert_eq!(spills, 0);
        }
    }
}

/// Six markets (no cap on their number): one row per run and market, in market order; the
/// markets' figures add up to the run's; the per-market summaries cover every (cell, market);
/// and the ledger balances (`run` audits it after every step).
#[test]
fn six_markets_report_one_row_each() {
    let mut extra = String::from("scope = \"shared\"\n");
    for (k, depth) in [4e6, 6e6, 8e6, 1e7, 1.2e7].iter().enumerate() {
        extra.push_str(&format!(
            "[markets.M{k}]\ns0 = {}\ntraders = {}\n[markets.M{k}.model]\nkind = \"gbm\"\nvol = {}\n[markets.M{k}.book]\nkind = \"linear\"\ndepth_usd = {depth:?}\n",
            100.0 * (k + 1) as f64,
            60 + 20 * k,
            0.9 + 0.2 * k as f64
        ));
    }
    let exp = parse(&common::stressed(24, 2e5, &extra));
    let result = run(&exp, 2);
    assert_eq!(exp.cells[0].scenario.markets().len(), 6);
    assert_eq!(result.market_rows.len(), 6 * result.rows.len());
    for (r, ms) in result.rows.iter().zip(result.market_rows.chunks(6)) {
        let order: Vec<u32> = ms.iter().map(|m| m.market).collect();
        assert_eq!(order, vec![0, 1, 2, 3, 4, 5], "seed {}", r.seed);
    }
    check_run_identities(&result.rows, &result.market_rows, 2e5);
    assert!(
        result
            .market_rows
            .iter()
            .filter(|m| m.bad_debt > 0.0)
            .count()
            > 6
    );
    assert_eq!(result.market_summaries.len(), 6);
    for (k, m) in result.market_summaries.iter().enumerate() {
        assert_eq!((m.market, m.runs), (k as u32, 24));
    }
}

/// With one market, its row repeats the run's own figures bit for bit: the same closes are
/// added up in the same order.
#[test]
fn one_market_row_is_the_run() {
    let result = run(&parse(&common::stressed(40, 4e5, "")), 2);
    assert_eq!(result.market_rows.len(), result.rows.len());
    for (r, m) in result.rows.iter().zip(&result.market_rows) {
        assert_eq!((m.seed, m.market), (r.seed, 0));
        assert_eq!(m.bad_debt, r.bad_debt);
        assert_eq!(m.bad_debt_uncovered, r.bad_debt_uncovered);
        assert_eq!(m.socialized_loss, r.socialized_loss);
        assert_eq!((m.adl_count, m.adl_notional), (r.adl_count, r.adl_notional));
        assert_eq!(m.liquidation_count, r.liquidation_count);
        assert_eq!(m.liquidation_notional, r.liquidation_notional);
        assert_eq!(m.slippage_loss, r.slippage_loss);
        assert_eq!(m.penalty_paid, r.penalty_paid);
        assert_eq!(m.open_interest, r.open_interest);
        assert_eq!(m.index_max_drawdown, r.index_max_drawdown);
        assert_eq!(m.worst_mark_index_ratio, r.worst_mark_index_ratio);
        assert_eq!(m.induced_share, r.induced_share);
        assert_eq!(m.spillover, 0.0);
    }
    assert!(result.rows.iter().any(|r| r.bad_debt > 0.0));
}

/// A grid axis may name any field of a further market, written or not (issue 34, item 7):
/// `markets.ETH.impact_half_life_minutes` is left to its default in the file, yet the axis
/// sets it, the cell at the default is the file as written, and a mistyped path lists the
/// fields it could have named.
#[test]
fn grid_axes_reach_a_further_markets_defaults() {
    let text = two_markets(
        4,
        4e5,
        "[grid]\n\"markets.ETH.impact_half_life_minutes\" = [10.0, 3.0]\n\"markets.ETH.mark.basis_cap\" = [0.00375, 0.01]\n",
    );
    let exp = parse(&text);
    assert_eq!(exp.cells.len(), 4);
    assert_eq!(
        exp.headline_on_grid(),
        Some(0),
        "the defaults are the file's own values"
    );
    let typo = text.replace("impact_half_life_minutes\"", "impact_half_life_minute\"");
    let e = backstop::config::Experiment::parse(
        &typo,
        std::path::Path::new("typo.toml"),
        Default::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("`markets.ETH.impact_half_life_minute` does not exist")
            && e.contains("impact_half_life_minutes"),
        "{e}"
    );
}
