//! Property test of MODEL.md section 7: over random valid experiments with every feature
//! switched on in some of them (one to three markets, correlated shocks and common crashes,
//! each price model, linear and square-root books, depth withdrawal, a permanent share of
//! impact, every strategy in a mix, re-entry, engine and keeper liquidation, full and partial
//! closes, fees, a capped fund with revenue, shared and isolated funds, every loss rule), the
//! ledger balances after every step of every run, and every figure is finite.
//!
//! The experiments come from a fixed seed (`SEED`), so every CI run tries the same
//! `CASES` of them.

mod common;

use backstop::config::{Experiment, Overrides};
use backstop::montecarlo::run_experiment;
use common::Mix;
use std::path::Path;

const CASES: u64 = 60;
const SEED: u64 = 20261202;

/// The test's own choices, on top of the shared generator.
trait Choose {
    fn between(&mut self, lo: f64, hi: f64) -> f64;
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str;
    fn coin(&mut self) -> bool;
}

impl Choose for Mix {
    /// Uniform on `[lo, hi)`.
    fn between(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }

    fn coin(&mut self) -> bool {
        self.next() & 1 == 1
    }
}

/// A price model table body. Correlated markets need one shock law: GARCH with Student-t(4)
/// shocks, then.
fn model(rng: &mut Mix, correlated: bool) -> String {
    if correlated {
        return format!(
            "kind = \"garch\"\nlong_run_vol = {}\nalpha = 0.08\nbeta = 0.9\nshocks = {{ kind = \"student_t\", nu = 4.0 }}\n",
            rng.between(0.5, 1.5)
        );
    }
    match rng.pick(&["gbm", "merton", "garch", "heston"]) {
        "gbm" => format!("kind = \"gbm\"\nvol = {}\n", rng.between(0.3, 2.0)),
        "merton" => format!(
            "kind = \"merton\"\nvol = {}\njump_intensity = {}\njump_mean = {}\njump_sd = {}\n",
            rng.between(0.3, 1.0),
            rng.between(1.0, 200.0),
            rng.between(-0.1, 0.02),
            rng.between(0.01, 0.1)
        ),
        "garch" => format!(
            "kind = \"garch\"\nlong_run_vol = {}\nalpha = 0.1\nbeta = 0.85\nshocks = {{ kind = \"student_t\", nu = {} }}\n",
            rng.between(0.5, 2.0),
            rng.between(2.5, 8.0)
        ),
        _ => format!(
            "kind = \"heston\"\ninitial_vol = {}\nlong_run_vol = 0.8\nkappa = 2.0\nxi = {}\nrho = -0.5\n",
            rng.between(0.4, 1.5),
            rng.between(0.5, 3.0)
        ),
    }
}

/// A book table body.
fn book(rng: &mut Mix) -> String {
    if rng.coin() {
        format!("kind = \"linear\"\ndepth_usd = {}\n", rng.between(2e6, 5e7))
    } else {
        format!(
            "kind = \"sqrt\"\ny = 1.0\nvol = 0.8\ndaily_volume_usd = {}\n",
            rng.between(2e8, 5e9)
        )
    }
}

/// What one market adds besides model and book: withdrawal and a little permanent impact.
fn market_extras(rng: &mut Mix, prefix: &str) -> String {
    let mut s = String::new();
    if rng.coin() {
        s.push_str(&format!(
            "[{prefix}.liquidity]\nkappa = {}\nreference_vol = 0.8\newma_half_life_minutes = 30.0\nfloor = 0.1\n",
            rng.between(0.5, 2.0)
        ));
    }
    s
}

fn experiment(rng: &mut Mix) -> String {
    let markets = 1 + (rng.next() % 3) as usize;
    let correlated = markets > 1 && rng.coin();
    let permanent = if rng.coin() { 0.01 } else { 0.0 };
    let mut s = format!(
        "[experiment]\nseeds = 2\nsteps = {}\nmaster_seed = {}\n\n[market]\nname = \"BTC\"\npermanent_impact = {permanent}\n",
        120 + rng.next() % 240,
        rng.next() >> 1,
    );
    s.push_str(&format!("[market.model]\n{}", model(rng, correlated)));
    s.push_str(&format!("[market.book]\n{}", book(rng)));
    s.push_str(&market_extras(rng, "market"));
    for m in 1..markets {
        let name = ["ETH", "SOL"][m - 1];
        s.push_str(&format!(
            "\n[markets.{name}]\ns0 = {}\ntraders = {}\nfund_weight = {}\n",
            rng.between(10.0, 5000.0),
            20 + rng.next() % 80,
            rng.between(0.5, 2.0)
        ));
        s.push_str(&format!(
            "[markets.{name}.model]\n{}",
            model(rng, correlated)
        ));
        s.push_str(&format!("[markets.{name}.book]\n{}", book(rng)));
        s.push_str(&market_extras(rng, &format!("markets.{name}")));
    }
    if correlated {
        let matrix = match markets {
            2 => "[[1.0, 0.7], [0.7, 1.0]]",
            _ => "[[1.0, 0.7, 0.6], [0.7, 1.0, 0.65], [0.6, 0.65, 1.0]]",
        };
        s.push_str(&format!("\n[correlation]\nmatrix = {matrix}\n"));
        if rng.coin() {
            let betas = vec!["1.0"; markets].join(", ");
            s.push_str(&format!(
                "[correlation.crash]\nintensity = {}\njump_mean = -0.05\njump_sd = 0.03\nbetas = [{betas}]\n",
                rng.between(1.0, 50.0)
            ));
        }
    }
    s.push_str(&format!(
        "\n[traders]\ncount = {}\nleverage = {{ kind = \"log_uniform\", min = 2.0, max = {} }}\n",
        50 + rng.next() % 150,
        rng.between(10.0, 50.0)
    ));
    if rng.coin() {
        s.push_str(&format!(
            "[traders.reentry]\ncooldown_minutes = {}\nprobability = {}\n",
            rng.between(5.0, 60.0),
            rng.unit()
        ));
    }
    // Every strategy, in shares that sum to 1 exactly (sixths).
    let rate = rng.between(1.0, 10.0);
    for strategy in [
        "{ kind = \"static\" }".to_string(),
        format!("{{ kind = \"noise\", decisions_per_hour = {rate} }}"),
        format!("{{ kind = \"momentum\", decisions_per_hour = {rate}, ema_minutes = 30.0 }}"),
        format!("{{ kind = \"contrarian\", decisions_per_hour = {rate}, ema_minutes = 30.0 }}"),
        format!(
            "{{ kind = \"panic\", decisions_per_hour = {rate}, window_minutes = 15.0, liquidation_threshold_usd = 1e5, drawdown = 0.3 }}"
        ),
        format!(
            "{{ kind = \"margin_defender\", decisions_per_hour = {rate}, reserve_ratio = 1.0 }}"
        ),
    ] {
        let share = if strategy.contains("static") {
            0.5
        } else {
            0.1
        };
        s.push_str(&format!(
            "[[traders.mix]]\nshare = {share}\nstrategy = {strategy}\n"
        ));
    }
    s.push_str(&format!(
        "\n[margin]\nfee_rate = {}\nfee_fund_share = {}\n",
        rng.between(0.0, 0.001),
        rng.unit()
    ));
    let keeper = rng.coin();
    s.push_str(&format!(
        "\n[liquidation]\nmode = \"{}\"\nclose = \"{}\"\npenalty_rate = {}\nfund_share = {}\n",
        if keeper { "keeper" } else { "engine" },
        rng.pick(&["full", "partial"]),
        rng.between(0.0, 0.02),
        if keeper {
            rng.between(0.2, 0.8)
        } else {
            rng.unit()
        }
    ));
    if keeper {
        s.push_str(&format!(
            "[liquidation.keepers]\ncount = {}\ncapital_usd = {}\nlatency_steps = {}\ncost_usd = {}\n",
            1 + rng.next() % 5,
            rng.between(1e5, 5e6),
            rng.next() % 3,
            rng.between(0.0, 50.0)
        ));
    }
    let initial = rng.between(0.0, 2e6);
    s.push_str(&format!(
        "\n[fund]\ninitial = {initial}\nrevenue_per_step = {}\ncap = {}\nscope = \"{}\"\non_depletion = \"{}\"\n",
        rng.between(0.0, 100.0),
        if rng.coin() { 0.0 } else { initial * rng.between(1.0, 2.0) + 1.0 },
        if markets > 1 { rng.pick(&["shared", "isolated"]) } else { "shared" },
        rng.pick(&["adl", "socialize", "risk_based", "none"]),
    ));
    s
}

#[test]
fn the_ledger_balances_after_every_step_of_random_experiments() {
    let mut rng = Mix(SEED);
    let mut failures = Vec::new();
    let mut runs = 0;
    for case in 0..CASES {
        let text = experiment(&mut rng);
        let exp = match Experiment::parse(&text, Path::new("random.toml"), Overrides::default()) {
            Ok(exp) => exp,
            Err(e) => {
                failures.push(format!("case {case} refused: {e}\n{text}"));
                continue;
            }
        };
        let result = run_experiment(&exp, common::AUDIT, &|| {});
        if let Some(f) = &result.failure {
            failures.push(format!("case {case} stopped: {f:?}\n{text}"));
            continue;
        }
        if let Some((cell, column)) = &result.non_finite {
            failures.push(format!(
                "case {case}: cell {cell} `{column}` not finite\n{text}"
            ));
            continue;
        }
        common::assert_ledger_balanced(&result.rows);
        runs += result.rows.len();
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert_eq!(runs as u64, 2 * CASES);
}
