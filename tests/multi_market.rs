//! Several markets on one venue (MODEL.md sections 1, 5 and 8): isolation, shared funds, the
//! calibration identity, and thread-count independence with correlated shocks and crashes.

mod common;

use backstop::simulation::RunRow;
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
    for (a, p) in alone.rows.iter().zip(&pair.rows) {
        assert_eq!(Some(a.bad_debt), p.m1_bad_debt, "seed {}", a.seed);
        assert_eq!(Some(a.liquidation_notional), p.m1_liquidation_notional);
        // The fund paid the same for market 1's deficits (nothing of market 2's reached it).
        let alone_paid = a.bad_debt - a.bad_debt_uncovered - a.socialized_loss;
        let paid = p.m1_fund_paid.unwrap();
        assert!(
            (alone_paid - paid).abs() <= 1e-9 * a.bad_debt.max(1.0),
            "seed {}",
            a.seed
        );
        assert_eq!(p.m3_bad_debt, None);
        assert_eq!(p.spillover, 0.0);
        deficits += a.bad_debt;
    }
    assert!(deficits > 0.0, "the test needs deficits to mean anything");
}

fn check_run_identities(rows: &[RunRow], f0: f64) {
    for r in rows {
        // The calibration identity (MODEL.md section 5) holds run by run, whatever the scope.
        assert_eq!(r.depleted, r.required_capital > f0, "seed {}", r.seed);
        let by_market = r.m1_bad_debt.unwrap() + r.m2_bad_debt.unwrap();
        assert!((by_market - r.bad_debt).abs() <= 1e-9 * r.bad_debt.max(1.0));
        let paid = r.m1_fund_paid.unwrap() + r.m2_fund_paid.unwrap();
        assert!(r.spillover <= paid + 1e-9);
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
        check_run_identities(&a.rows, f0);
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
