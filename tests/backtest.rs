//! Backtests on the shared BTC data (MODEL.md sections 1 and 16): intrabar paths that every
//! seed draws inside each published hourly bar.

mod common;

use backstop::simulation::{StepView, simulate_observed};
use common::{AUDIT, parse};

const DATA: &str = "../shared/data/btcusd_bitstamp_1h.csv";

/// The hourly bars (open, high, low, close) from `start` (Unix seconds), the first row being
/// the one whose close the replay starts at.
fn bars(start: i64, count: usize) -> Vec<[f64; 4]> {
    let text = std::fs::read_to_string(DATA).unwrap();
    let mut rows: Vec<(i64, [f64; 4])> = text
        .lines()
        .skip(2)
        .filter_map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            let t: i64 = f[0].parse().ok()?;
            let p = |i: usize| f[i].parse::<f64>().ok();
            Some((t, [p(3)?, p(4)?, p(5)?, p(6)?]))
        })
        .filter(|(t, _)| *t >= start)
        .collect();
    rows.sort_by_key(|(t, _)| *t);
    rows.into_iter().take(count + 1).map(|(_, b)| b).collect()
}

/// Whether the shared data sits beside the repository (it does in CI and on developers'
/// machines); the tests that read it say so when it does not.
fn data_here() -> bool {
    let here = std::path::Path::new(DATA).exists();
    if !here {
        eprintln!("skipped: {DATA} is not here");
    }
    here
}

/// Hour `h` (from 0) of a minute path: the index before it, and its highest, lowest and last
/// index.
fn hour_of(path: &[StepView], h: usize) -> [f64; 4] {
    let inside = &path[h * 60 + 1..=(h + 1) * 60];
    [
        path[h * 60].index,
        inside.iter().map(|v| v.index).fold(0.0, f64::max),
        inside.iter().map(|v| v.index).fold(f64::MAX, f64::min),
        inside[59].index,
    ]
}

/// On 12-13 March 2020, every seed's minute path passes through each hourly bar's close at
/// the bar's end and reaches exactly its high and its low inside it (within float rounding
/// of the rescaling), never beyond: every path is consistent with the published bars.
#[test]
fn every_intrabar_path_touches_each_bars_high_low_and_close() {
    if !data_here() {
        return;
    }
    let hours = 48;
    let exp = parse(&format!(
        r#"
[experiment]
seeds = 12
steps = {steps}
[market]
s0 = 7900.0
[market.model]
kind = "replay"
path = "{path}"
start = "2020-03-12 00:00:00"
end = "2020-03-14 00:00:00"
intrabar = "bridge"
[traders]
count = 200
"#,
        steps = hours * 60,
        path = std::fs::canonicalize(DATA).unwrap().display()
    ));
    let published = bars(1_583_971_200, hours);
    let scale = 7900.0 / published[0][3];
    let sc = &exp.cells[0].scenario;
    for seed in 0..u64::from(exp.seeds) {
        let mut path: Vec<StepView> = Vec::new();
        let rows = simulate_observed(sc, exp.master_seed, seed, AUDIT, &mut path);
        assert!(rows.fault.is_none());
        for (h, bar) in published.iter().enumerate().skip(1) {
            let [_, high, low, close] = bar.map(|p| p * scale);
            let [_, top, bottom, close_at] = hour_of(&path, h - 1);
            assert!(
                (close_at / close - 1.0).abs() < 1e-12,
                "seed {seed} hour {h}"
            );
            assert!(
                (top / high - 1.0).abs() < 1e-12,
                "seed {seed} hour {h}: {top} vs {high}"
            );
            assert!(
                (bottom / low - 1.0).abs() < 1e-12,
                "seed {seed} hour {h}: {bottom} vs {low}"
            );
        }
    }
}

/// The block bootstrap of bars with intrabar paths: every hour of every seed's path is one of
/// the published bars of the window, redrawn inside (its high, low and close relative to
/// the close before it, exactly, within rounding).
#[test]
fn every_resampled_hour_is_a_published_bar() {
    if !data_here() {
        return;
    }
    let hours = 48;
    let exp = parse(&format!(
        r#"
[experiment]
seeds = 8
steps = 600
[market.model]
kind = "bootstrap"
path = "{path}"
start = "2020-03-12 00:00:00"
end = "2020-03-14 00:00:00"
mean_block = 4.0
intrabar = "bridge"
[traders]
count = 100
"#,
        path = std::fs::canonicalize(DATA).unwrap().display()
    ));
    let published = bars(1_583_971_200, hours);
    let shapes: Vec<[f64; 3]> = published
        .windows(2)
        .map(|w| {
            let before = w[0][3];
            [w[1][1] / before, w[1][2] / before, w[1][3] / before]
        })
        .collect();
    let sc = &exp.cells[0].scenario;
    for seed in 0..u64::from(exp.seeds) {
        let mut path: Vec<StepView> = Vec::new();
        simulate_observed(sc, exp.master_seed, seed, AUDIT, &mut path);
        for h in 0..10 {
            let [before, top, bottom, end] = hour_of(&path, h);
            let (top, bottom, end) = (top / before, bottom / before, end / before);
            let close = |a: f64, b: f64| (a / b - 1.0).abs() < 1e-9;
            assert!(
                shapes
                    .iter()
                    .any(|s| close(top, s[0]) && close(bottom, s[1]) && close(end, s[2])),
                "seed {seed} hour {h}: {top} {bottom} {end}"
            );
        }
    }
}

/// The March 2020 backtest runs from the CLI with intrabar paths, its report sets the
/// record beside the simulation, and every file the report names exists.
#[test]
fn the_backtest_report_names_only_files_that_exist() {
    if !data_here() {
        return;
    }
    let dir = common::temp_dir("backtest-report");
    let out = dir.join("out");
    let o = common::backstop(&[
        "run",
        "experiments/replay-2020-03-bridge.toml",
        "--out",
        out.to_str().unwrap(),
        "--seeds",
        "20",
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains("## Record"));
    assert!(report.contains("| ADL or socialized losses | no |"));
    let mut named = 0;
    for piece in report.split("](").skip(1) {
        let target = piece.split(')').next().unwrap();
        if target.starts_with("http") {
            continue;
        }
        assert!(
            out.join(target).exists(),
            "report.md names {target}, not there"
        );
        named += 1;
    }
    assert!(named >= 3, "{named}");
    let _ = std::fs::remove_dir_all(&dir);
}
