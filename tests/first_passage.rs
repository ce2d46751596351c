//! A single static position under GBM with impact switched off is liquidated exactly when the
//! index first crosses its liquidation price. Its liquidation probability over the horizon
//! must match the reflection-principle first-passage probability of Brownian motion with
//! drift, with the Broadie-Glasserman-Kou continuity correction for discrete monitoring
//! (barrier shifted away from the start by 0.5826 sigma sqrt(dt)), within 4 standard errors.

mod common;

use backstop::stats::normal_cdf;

const SECONDS_PER_YEAR: f64 = 365.0 * 86_400.0;
/// -zeta(1/2) / sqrt(2 pi): Broadie, Glasserman, Kou (1997).
const BGK: f64 = 0.5826;

/// P(the log price `X_t = mu t + sigma W_t` reaches barrier `b` before `t`), `b` either side.
fn first_passage(b: f64, mu: f64, sigma: f64, t: f64) -> f64 {
    let s = sigma * t.sqrt();
    if b < 0.0 {
        normal_cdf((b - mu * t) / s)
            + (2.0 * mu * b / (sigma * sigma)).exp() * normal_cdf((b + mu * t) / s)
    } else {
        normal_cdf((-b + mu * t) / s)
            + (2.0 * mu * b / (sigma * sigma)).exp() * normal_cdf((-b - mu * t) / s)
    }
}

/// Returns simulated minus continuous-monitoring probability.
fn check(leverage: f64, vol: f64, long: bool) -> f64 {
    let mmr = 0.01;
    let seeds = 20_000u32;
    let steps = 288u64;
    let dt = 300.0;
    let toml = format!(
        r#"
[experiment]
seeds = {seeds}
master_seed = 4242
steps = {steps}
dt_seconds = {dt:?}

[market.model]
kind = "gbm"
vol = {vol:?}

[market.book]
kind = "none"

[traders]
count = 1
collateral = {{ kind = "fixed", value = 10000.0 }}
leverage = {{ kind = "fixed", value = {leverage:?} }}
long_share = {long_share:?}

[margin]
imr = 0.02
mmr = {mmr:?}

[liquidation]
penalty_rate = 0.0

[fund]
initial = 1e9
"#,
        long_share = if long { 1.0 } else { 0.0 },
    );
    let exp = common::parse(&toml);
    let result = common::run(&exp, 2);
    let hits = result
        .rows
        .iter()
        .filter(|r| r.liquidation_count > 0)
        .count();
    let p_hat = hits as f64 / seeds as f64;

    // Liquidation price relative to entry: long (1 - 1/L) / (1 - mmr), short (1 + 1/L) / (1 + mmr).
    let ratio = if long {
        (1.0 - 1.0 / leverage) / (1.0 - mmr)
    } else {
        (1.0 + 1.0 / leverage) / (1.0 + mmr)
    };
    let dt_years = dt / SECONDS_PER_YEAR;
    let shift = BGK * vol * dt_years.sqrt();
    let b = ratio.ln() + if long { -shift } else { shift };
    let p = first_passage(b, -0.5 * vol * vol, vol, steps as f64 * dt_years);
    let se = (p * (1.0 - p) / seeds as f64).sqrt();
    assert!(
        (p_hat - p).abs() < 4.0 * se,
        "L={leverage} vol={vol} long={long}: simulated {p_hat:.4}, theory {p:.4} (se {se:.4})"
    );
    let p_cont = first_passage(ratio.ln(), -0.5 * vol * vol, vol, steps as f64 * dt_years);
    eprintln!(
        "L={leverage} vol={vol} long={long}: sim {p_hat:.4} bgk {p:.4} continuous {p_cont:.4} se {se:.4}"
    );
    p_hat - p_cont
}

#[test]
fn long_20x_at_80_percent_vol() {
    // The test has the power to tell discrete from continuous monitoring: without the
    // correction the simulated probability would be rejected (it is lower by > 4 SE).
    let gap = check(20.0, 0.8, true);
    let se = (0.31f64 * 0.69 / 20_000.0).sqrt();
    assert!(gap < -4.0 * se, "gap {gap}");
}

#[test]
fn long_10x_at_120_percent_vol() {
    check(10.0, 1.2, true);
}

#[test]
fn short_25x_at_60_percent_vol() {
    check(25.0, 0.6, false);
}

#[test]
fn short_5x_at_200_percent_vol() {
    check(5.0, 2.0, false);
}
