//! Contagion channels (MODEL.md sections 2, 3 and 8) through the public API, as a user runs
//! them: with the channels off no strategy mix changes the index path, bit for bit; with
//! them on, whether herders add to bad debt or take from it depends on the book. The closed
//! forms of each mechanism (transient envelope, permanent path, Borel cascade, Granovetter's
//! fixed point, the book alike for forced and voluntary flow) are unit tests beside the
//! engine, in src/simulation/contagion_tests.rs and src/market/mark.rs.

mod common;

use backstop::simulation::{RunRow, StepView, simulate_observed};
use common::{AUDIT, paired, parse, run};

/// Every strategy, herders with and without `flip`, re-entry, keepers' absence (engine),
/// depth that thins with volatility and with one-way flow; `extra` adds or overrides.
fn mixed(extra: &str, market: &str) -> String {
    format!(
        r#"
[experiment]
seeds = 12
master_seed = 41
steps = 480
[market]
{market}
[market.liquidity]
kappa = 1.0
reference_vol = 0.8
ewma_half_life_minutes = 30.0
floor = 0.1
[market.flow_liquidity]
gamma = 2.0
half_life_minutes = 20.0
floor = 0.05
[market.book]
kind = "linear"
depth_usd = 5e6
[traders]
count = 300
leverage = {{ kind = "log_uniform", min = 5.0, max = 50.0 }}
{extra}
[traders.reentry]
cooldown_minutes = 30.0
probability = 0.5
"#
    )
}

const MIXES: [&str; 3] = [
    r#"
[[traders.mix]]
share = 0.3
strategy = { kind = "static" }
[[traders.mix]]
share = 0.2
strategy = { kind = "noise", decisions_per_hour = 2.0 }
[[traders.mix]]
share = 0.1
strategy = { kind = "momentum", decisions_per_hour = 2.0, ema_minutes = 60.0 }
[[traders.mix]]
share = 0.1
strategy = { kind = "contrarian", decisions_per_hour = 2.0, ema_minutes = 60.0 }
[[traders.mix]]
share = 0.1
strategy = { kind = "panic", decisions_per_hour = 2.0, window_minutes = 15.0, liquidation_threshold_usd = 1e5, drawdown = 0.3 }
[[traders.mix]]
share = 0.2
strategy = { kind = "herding", decisions_per_hour = 4.0, window_minutes = 30.0, threshold = { kind = "normal", mean = 0.01, sd = 0.01 }, flip = true }
"#,
    r#"
long_share = 0.85
[[traders.mix]]
share = 0.5
strategy = { kind = "static" }
[[traders.mix]]
share = 0.5
strategy = { kind = "herding", decisions_per_hour = 6.0, window_minutes = 10.0, threshold = { kind = "uniform", min = 0.0, max = 0.02 }, keep = 0.3 }
"#,
    r#"
[[traders.mix]]
share = 1.0
strategy = { kind = "noise", decisions_per_hour = 6.0 }
"#,
];

/// The index of every step of every seed of `text`'s one cell, and the runs' rows.
fn index_paths(text: &str) -> (Vec<Vec<u64>>, Vec<RunRow>) {
    let exp = parse(text);
    let sc = &exp.cells[0].scenario;
    (0..u64::from(exp.seeds))
        .map(|seed| {
            let mut path: Vec<StepView> = Vec::new();
            let rows = simulate_observed(sc, exp.master_seed, seed, AUDIT, &mut path);
            assert!(rows.fault.is_none());
            let bits = path.iter().map(|v| v.index.to_bits()).collect();
            (bits, rows.run)
        })
        .unzip()
}

/// With phi = 0 and no other venues, nothing an agent does reaches the index: for every
/// seed and every strategy mix the index path is the agent-free run's, bit for bit (one
/// static trader at 1x, never liquidated), however much the agents trade and however thin
/// the book gets. Turning on either channel moves it.
#[test]
fn with_the_channels_off_the_index_path_is_the_agent_free_one() {
    let agent_free = mixed(
        "count = 1\nleverage = { kind = \"fixed\", value = 1.0 }\n",
        "",
    )
    .replace(
        "count = 300\nleverage = { kind = \"log_uniform\", min = 5.0, max = 50.0 }\n",
        "",
    );
    let (reference, _) = index_paths(&agent_free);
    for mix in MIXES {
        let (paths, rows) = index_paths(&mixed(mix, ""));
        assert_eq!(paths, reference);
        common::assert_ledger_balanced(&rows);
        assert!(rows.iter().any(|r| r.voluntary_close_notional > 0.0));
        assert!(rows.iter().any(|r| r.liquidation_count > 0));
    }
    let herders = mixed(MIXES[1], "");
    assert!(
        index_paths(&herders)
            .1
            .iter()
            .any(|r| r.herders_derisked > 0)
    );
    for channel in [
        "permanent_impact = 0.2",
        "other_venues = { share = 0.25, book = { kind = \"linear\", depth_usd = 5e7 } }",
    ] {
        let (paths, rows) = index_paths(&mixed(MIXES[1], channel));
        assert_ne!(paths, reference, "{channel}");
        common::assert_ledger_balanced(&rows);
        if channel.starts_with("other") {
            assert!(rows.iter().any(|r| r.other_venue_notional > 0.0));
        }
    }
}

fn bad_debt_per_oi(r: &RunRow) -> f64 {
    r.bad_debt / r.open_interest
}

/// R1 at up to 50x, flow reaching the index (phi = 1) and depth thinning with one-way flow,
/// with half the static traders replaced by herders (the accounts stay the same: common
/// random numbers). On a balanced book the herders leave less bad debt per dollar of open
/// interest, on an 80%-long book more: behavior can dampen or amplify, and which one is a
/// matter of the book, not a law (4 SE of the paired differences; the study
/// experiments/contagion.toml maps the sign over the grid).
#[test]
fn herders_dampen_a_balanced_book_and_amplify_a_long_heavy_one() {
    let cell = |long_share: f64, herders: f64| {
        parse(&format!(
            r#"
[experiment]
seeds = 400
master_seed = 20261203
[market]
permanent_impact = 1.0
flow_liquidity = {{ gamma = 1.0, half_life_minutes = 30.0, floor = 0.1 }}
[traders]
long_share = {long_share}
[[traders.mix]]
share = {statics}
strategy = {{ kind = "static" }}
[[traders.mix]]
share = {herders}
strategy = {{ kind = "herding", decisions_per_hour = 4.0, window_minutes = 30.0, threshold = {{ kind = "uniform", min = 0.005, max = 0.05 }} }}
"#,
            statics = 1.0 - herders
        ))
    };
    let balanced = (run(&cell(0.5, 0.0), 2), run(&cell(0.5, 0.5), 2));
    let (d, se) = paired(&balanced.0.rows, &balanced.1.rows, bad_debt_per_oi);
    assert!(d < -4.0 * se, "balanced: {d} (se {se})");
    let long_heavy = (run(&cell(0.8, 0.0), 2), run(&cell(0.8, 0.5), 2));
    let (d, se) = paired(&long_heavy.0.rows, &long_heavy.1.rows, bad_debt_per_oi);
    assert!(d > 4.0 * se, "long-heavy: {d} (se {se})");
    // The herders sold into the cascades of the long-heavy book.
    let flow: f64 = long_heavy
        .1
        .rows
        .iter()
        .map(|r| r.cascade_voluntary_flow)
        .sum();
    assert!(flow < 0.0);
}

/// With every channel on, a run is still a pure function of (experiment, seed): the same
/// rows, bit for bit, on one thread or three.
#[test]
fn with_the_channels_on_the_runs_do_not_depend_on_the_thread_count() {
    let text = mixed(
        MIXES[0],
        "permanent_impact = 0.05\nimpact_on = \"step_flow\"\nother_venues = { share = 0.4, book = { kind = \"linear\", depth_usd = 5e7 } }",
    );
    let exp = parse(&text);
    let (one, three) = (run(&exp, 1), run(&exp, 3));
    assert_eq!(one.rows, three.rows);
    assert!(one.rows.iter().any(|r| r.other_venue_notional > 0.0));
}

/// A contagion study runs from the CLI and its report sets each cell against its baseline.
#[test]
fn the_contagion_study_reports_its_contrast() {
    let dir = common::temp_dir("exp-contagion-contrast");
    let out = dir.join("out");
    common::run_tables(
        std::path::Path::new("experiments/contagion.toml"),
        &out,
        &["--seeds", "20"],
    );
    let o = common::backstop(&["report", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains("## Against the baseline (`traders.mix.1.share` = 0%)"));
    // 72 cells, 24 of them baselines: 48 rows set against one.
    let rows = report
        .lines()
        .skip_while(|l| !l.starts_with("## Against"))
        .take_while(|l| !l.starts_with("Of "))
        .filter(|l| l.starts_with("| ") && !l.starts_with("| market") && !l.starts_with("| ---"))
        .count();
    assert_eq!(rows, 48);
    assert!(report.contains("Of 48 cells set against their baseline"));
    let _ = std::fs::remove_dir_all(&dir);
}
