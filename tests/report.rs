//! Charts and the governance report, made like a user makes them: `backstop run` on a small
//! experiment, then `backstop report DIR`.

mod common;

use common::{backstop, temp_dir};

use std::path::{Path, PathBuf};

use backstop::config::Target;
use backstop::output::{format_money, format_pct, headline};
use polars::prelude::*;

fn run(name: &str, toml: &str, extra: &[&str]) -> PathBuf {
    let dir = temp_dir(name);
    let file = dir.join(format!("{name}.toml"));
    std::fs::write(&file, toml).unwrap();
    let out = dir.join("out");
    let mut args = vec![
        "run",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ];
    args.extend_from_slice(extra);
    let o = backstop(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    out
}

const GRID: &str = r#"
[experiment]
seeds = 300
master_seed = 11
steps = 720
question = "Does the report work?"

[market.book]
kind = "linear"
depth_usd = 3e6

[traders]
count = 200

[fund]
initial = 2e5

[grid]
"fund.initial" = [0.0, 2e5, 4e5]
"liquidation.penalty_rate" = [0.005, 0.01]
"#;

/// Width and height from a PNG's IHDR chunk, after checking the signature.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "PNG signature");
    assert_eq!(&bytes[12..16], b"IHDR");
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    (be(&bytes[16..20]), be(&bytes[20..24]))
}

/// (file stem, title, axis labels) of every chart.
const CHARTS: &[(&str, &str, &[&str])] = &[
    (
        "depletion_heatmap",
        "Chance the fund runs dry in a day",
        &["fund.initial", "liquidation.penalty_rate"],
    ),
    (
        "depletion_curve",
        "How big must the fund be?",
        &[
            "Insurance fund at the start of the day (USD)",
            "P(fund runs dry) (log scale)",
        ],
    ),
    (
        "fund_fan",
        "Insurance fund balance through the day",
        &["Hours into the day", "Insurance fund balance (USD)"],
    ),
    (
        "bad_debt_exceedance",
        "How much bad debt can a day bring?",
        &[
            "Bad debt in the day (USD)",
            "Share of days exceeding it (log scale)",
        ],
    ),
    (
        "slippage_histogram",
        "What traders lose to slippage in forced closes",
        &["Slippage loss in the day (USD)", "Share of simulated days"],
    ),
    (
        "cascade_ccdf",
        "How large do liquidation cascades get?",
        &["Share of days with a larger one (log)"],
    ),
    (
        "sample_path",
        "A 1-in-100 day",
        &["Price (USD)", "Fund (USD)", "Hours into the day"],
    ),
    (
        "liquidation_map",
        "How far is open interest from liquidation?",
        &["Move of the price to liquidation"],
    ),
];

fn check_chart_files(dir: &Path, stem: &str, title: &str, labels: &[&str]) {
    let png = std::fs::read(dir.join(format!("{stem}.png")))
        .unwrap_or_else(|e| panic!("{stem}.png: {e}"));
    assert_eq!(png_size(&png), (1200, 700), "{stem}.png size");
    let svg = std::fs::read_to_string(dir.join(format!("{stem}.svg"))).unwrap();
    assert!(
        svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"),
        "{stem}.svg is an SVG document"
    );
    assert!(
        svg.contains(r#"width="1200""#) && svg.contains(r#"height="700""#),
        "{stem}.svg size"
    );
    assert!(
        svg.contains(title),
        "{stem}.svg carries its title `{title}`"
    );
    for l in labels {
        assert!(svg.contains(l), "{stem}.svg carries the axis label `{l}`");
    }
}

fn summary_value(df: &DataFrame, col: &str, row: usize) -> Option<f64> {
    df.column(col)
        .unwrap()
        .cast(&DataType::Float64)
        .unwrap()
        .f64()
        .unwrap()
        .get(row)
}

#[test]
fn run_writes_every_chart_and_a_report_that_matches_the_tables() {
    let out = run("grid", GRID, &[]);
    for (stem, title, labels) in CHARTS {
        check_chart_files(&out, stem, title, labels);
    }
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains("**Question.** Does the report work?"));

    // Every file the report links to exists.
    let mut links = 0;
    for part in report.split("](").skip(1) {
        let target = &part[..part.find(')').unwrap()];
        assert!(
            out.join(target).exists(),
            "report.md links to missing {target}"
        );
        links += 1;
    }
    assert!(links >= 2 * CHARTS.len());

    // The headline's figures are those of summary.parquet for the cell as written
    // (fund.initial = 2e5, penalty 0.01: cell 3 of the 3 x 2 grid).
    let summary = common::read_parquet(&out.join("summary.parquet"));
    let h = 3;
    assert_eq!(summary_value(&summary, "fund.initial", h), Some(2e5));
    assert_eq!(
        summary_value(&summary, "liquidation.penalty_rate", h),
        Some(0.01)
    );
    // Every fund of this grid runs dry on more than 1% of days, so no cell can read the
    // fund a 1% target needs: the report says so rather than quote a cut-short quantile.
    let q99 = summary_value(&summary, "required_capital_q99", h).unwrap();
    assert!(
        q99 >= 4e5,
        "the grid's largest fund holds the quantile ({q99}): pick another case"
    );
    assert!(
        report.contains(&format!(
            "It is more than the configured $200.0k, and their 99th percentile ({}) is not the answer.",
            format_money(q99)
        )),
        "{report}"
    );
    let p = summary_value(&summary, "depletion_probability", h).unwrap();
    assert!(report.contains(&format!("the chance is **{}**", format_pct(p))));
    let var95 = summary_value(&summary, "bad_debt_var95", h).unwrap();
    assert!(report.contains(&format!("**{}** one time in 20", format_money(var95))));

    // `backstop report DIR` rebuilds the same report and charts from the tables alone.
    let before = std::fs::read(out.join("report.md")).unwrap();
    let png_before = std::fs::read(out.join("depletion_curve.png")).unwrap();
    for (stem, _, _) in CHARTS {
        std::fs::remove_file(out.join(format!("{stem}.png"))).unwrap();
        std::fs::remove_file(out.join(format!("{stem}.svg"))).unwrap();
    }
    std::fs::remove_file(out.join("report.md")).unwrap();
    let o = backstop(&["report", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(std::fs::read(out.join("report.md")).unwrap(), before);
    assert_eq!(
        std::fs::read(out.join("depletion_curve.png")).unwrap(),
        png_before
    );
    let _ = std::fs::remove_dir_all(out.parent().unwrap());
}

/// One cell, a fund no deficit reaches and no impact: nothing to show on several charts, which
/// must say so instead of failing.
#[test]
fn degenerate_runs_give_readable_charts_and_a_report() {
    let calm = r#"
[experiment]
seeds = 50
steps = 120

[market.model]
kind = "gbm"
vol = 0.05

[market.book]
kind = "none"

[traders]
count = 20
leverage = { kind = "fixed", value = 2.0 }

[fund]
initial = 1e6
"#;
    let out = run("calm", calm, &[]);
    for (stem, title, _) in CHARTS.iter().skip(1) {
        check_chart_files(&out, stem, title, &[]);
    }
    assert!(
        !out.join("depletion_heatmap.png").exists(),
        "a single cell has no heatmap"
    );
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        report.contains("no deficit ever reached the fund"),
        "{report}"
    );
    assert!(report.contains("needs a grid with two axes"));
    let svg = std::fs::read_to_string(out.join("bad_debt_exceedance.svg")).unwrap();
    assert!(svg.contains("No run out of 50 had any bad debt."));
    let _ = std::fs::remove_dir_all(out.parent().unwrap());
}

#[test]
fn no_charts_writes_tables_only_and_report_needs_tables() {
    let out = run(
        "nocharts",
        GRID.replace("seeds = 300", "seeds = 20").as_str(),
        &["--no-charts"],
    );
    assert!(out.join("summary.parquet").exists());
    assert!(!out.join("report.md").exists());
    assert!(!out.join("fund_fan.png").exists());
    // The liquidation map is a table: it stays; its chart goes with the others.
    assert!(
        out.join("liquidation_map.parquet").exists() && out.join("liquidation_map.csv").exists()
    );
    assert!(!out.join("liquidation_map.png").exists());
    let empty = temp_dir("empty");
    let o = backstop(&["report", empty.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("experiment.toml"));
    let _ = std::fs::remove_dir_all(out.parent().unwrap());
    let _ = std::fs::remove_dir_all(empty);
}

/// With a fund cap, required capital does not give the depletion curve: the report says so
/// instead of drawing a wrong curve or stating a wrong fund.
#[test]
fn a_capped_fund_gets_no_required_capital_headline() {
    let capped = GRID
        .replace(
            "[fund]\ninitial = 2e5\n",
            "[fund]\ninitial = 2e5\ncap = 5e5\n",
        )
        .replace("seeds = 300", "seeds = 60");
    let out = run("capped", &capped, &[]);
    assert!(!out.join("depletion_curve.png").exists());
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        report.contains("does not read a fund size off required capital"),
        "{report}"
    );
    assert!(report.contains("backstop calibrate"));
    let _ = std::fs::remove_dir_all(out.parent().unwrap());
}

/// The report reads the summaries back through their one declaration: a summary table that
/// lacks a column, or holds an empty value where one must be, is refused with the file and the
/// column named, and no report is written; it is never read as 0.
#[test]
fn a_summary_missing_a_column_is_refused_by_name() {
    let out = run(
        "missing-column",
        GRID.replace("seeds = 300", "seeds = 20").as_str(),
        &["--no-charts"],
    );
    let path = out.join("summary.parquet");
    let read = |p: &Path| {
        ParquetReader::new(std::fs::File::open(p).unwrap())
            .finish()
            .unwrap()
    };
    let full = read(&path);
    let write = |mut df: DataFrame| {
        ParquetWriter::new(std::fs::File::create(&path).unwrap())
            .finish(&mut df)
            .unwrap();
    };
    write(full.drop("bad_debt_var95").unwrap());
    let o = backstop(&["report", out.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("summary.parquet") && stderr.contains("bad_debt_var95"),
        "{stderr}"
    );
    assert!(!out.join("report.md").exists());
    let mut emptied = full.clone();
    let nulls = Column::full_null("bad_debt_mean".into(), full.height(), &DataType::Float64);
    emptied.replace("bad_debt_mean", nulls).unwrap();
    write(emptied);
    let o = backstop(&["report", out.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("bad_debt_mean"), "{stderr}");
    let _ = std::fs::remove_dir_all(out.parent().unwrap());
}

/// The liquidation map of the run the sample path follows: every open position once at
/// t = 0, so its notional at the start is that run's open interest; every number finite; a
/// section of the report that says which run it maps and when; the same rows in the CSV.
#[test]
fn the_liquidation_map_holds_the_sample_runs_open_interest() {
    let toml = GRID.replace("seeds = 300", "seeds = 40").replace(
        "[traders]\ncount = 200\n",
        "[traders]\ncount = 200\nlong_share = 0.7\n",
    );
    let out = run("liqmap", &toml, &[]);
    let map = common::read_parquet(&out.join("liquidation_map.parquet"));
    let text = |name: &str| -> Vec<String> {
        map.column(name)
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .map(|v| v.unwrap().to_string())
            .collect()
    };
    let (moment, side, market) = (text("moment"), text("side"), text("market"));
    let notional = common::f64_column(&map, "notional_usd");
    let positions = common::f64_column(&map, "positions");
    let steps = common::f64_column(&map, "step");
    assert!(notional.iter().all(|x| x.is_finite() && *x >= 0.0));
    assert!(market.iter().all(|m| m == "main"));
    assert!(side.iter().all(|s| s == "long" || s == "short"));
    // Twelve buckets a side and moment; every bucket's edges finite or empty, never NaN.
    assert_eq!(moment.iter().filter(|m| *m == "start").count(), 24);
    for edge in ["bucket_lo_pct", "bucket_hi_pct"] {
        let c = map.column(edge).unwrap().f64().unwrap().clone();
        let pairs = moment.len() / 12;
        assert_eq!(
            c.null_count(),
            pairs,
            "{edge}: one open edge a side and moment"
        );
        assert!(c.iter().flatten().all(f64::is_finite));
    }

    // The run is the sample path's: its seed and cell, and its open interest at t = 0.
    let sample = common::read_parquet(&out.join("sample_path.parquet"));
    let seed = common::f64_column(&sample, "seed")[0];
    let cell = common::f64_column(&sample, "cell")[0];
    assert_eq!(common::f64_column(&map, "seed")[0], seed);
    assert_eq!(common::f64_column(&map, "cell")[0], cell);
    let runs = common::read_parquet(&out.join("runs.parquet"));
    let (run_seeds, run_cells) = (
        common::f64_column(&runs, "seed"),
        common::f64_column(&runs, "cell"),
    );
    let row = (0..run_seeds.len())
        .find(|&r| run_seeds[r] == seed && run_cells[r] == cell)
        .expect("the sample path's run is in runs.parquet");
    let open_interest = common::f64_column(&runs, "open_interest")[row];
    let at_start: f64 = (0..moment.len())
        .filter(|&r| moment[r] == "start")
        .map(|r| notional[r])
        .sum();
    assert!(
        (at_start - open_interest).abs() <= 1e-9 * open_interest,
        "{at_start} mapped at t = 0, open interest {open_interest}"
    );
    let longs: f64 = (0..moment.len())
        .filter(|&r| moment[r] == "start" && side[r] == "long")
        .map(|r| notional[r])
        .sum();
    assert!(longs > 0.5 * open_interest, "a long-heavy book: {longs}");
    let counted: f64 = (0..moment.len())
        .filter(|&r| moment[r] == "start")
        .map(|r| positions[r])
        .sum();
    assert_eq!(counted, 200.0, "every trader holds one position at t = 0");
    // The worst step, when the run had one, is a step of the run.
    for r in 0..moment.len() {
        match moment[r].as_str() {
            "start" => assert_eq!(steps[r], 0.0),
            "worst_step" => assert!(steps[r] >= 1.0 && steps[r] <= 720.0),
            other => panic!("unknown moment {other}"),
        }
    }
    let csv = std::fs::read_to_string(out.join("liquidation_map.csv")).unwrap();
    assert!(csv.starts_with(
        "cell,seed,market,moment,step,side,bucket_lo_pct,bucket_hi_pct,notional_usd,positions\n"
    ));
    assert_eq!(csv.lines().count(), moment.len() + 1);
    assert!(!csv.contains("NaN") && !csv.contains("inf"));

    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains("## Liquidation map"), "{report}");
    assert!(report.contains(&format!("seed {seed}")));
    assert!(report.contains("| distance to liquidation | longs at t = 0 | shorts at t = 0 |"));
    assert!(report.contains("![How far is open interest from liquidation?"));
    let _ = std::fs::remove_dir_all(out.parent().unwrap());
}

/// A run's required capital stops counting once its fund is gone, so a cell whose fund runs
/// dry on more than 1% of days cannot read its own 99th percentile (issue 34, item 1): the
/// headline comes from the cell with the same values and a fund that lasted, the table marks
/// the cut-short quantile, and a file whose own values are off the grid is told so.
#[test]
fn the_headline_is_read_from_runs_whose_fund_lasted() {
    let small = GRID
        .replace("[fund]\ninitial = 2e5", "[fund]\ninitial = 2e4")
        .replace(
            r#""fund.initial" = [0.0, 2e5, 4e5]"#,
            r#""fund.initial" = [2e4, 5e6]"#,
        )
        .replace(
            r#""liquidation.penalty_rate" = [0.005, 0.01]"#,
            r#""liquidation.penalty_rate" = [0.0]"#,
        );
    let out = run("headline-dry", &small, &[]);
    let summary = common::read_parquet(&out.join("summary.parquet"));
    let value = |col: &str, row: usize| summary_value(&summary, col, row).unwrap();
    // The case itself: the small fund runs dry on more than 1% of days, the large one holds
    // its quantile and bound.
    assert!(value("depletion_probability", 0) > 0.01);
    assert!(value("required_capital_q99", 0) >= 2e4);
    let (q99, ub) = (
        value("required_capital_q99", 1),
        summary_value(&summary, "required_capital_q99_ub95", 1),
    );
    assert!(ub.unwrap_or(q99) < 5e6);
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    let sentence = headline(
        q99,
        ub,
        300,
        value("required_capital_max", 1),
        &Target::default(),
    );
    assert!(report.contains(&sentence), "lacks `{sentence}`:\n{report}");
    assert!(
        report.contains("This is read from the cell whose fund is $5.00M"),
        "{report}"
    );
    assert!(report.contains(" †") && report.contains("not the need of a fund that lasts"));
    // The curve is the headline cell's: it says where its runs' fund ran out, and its
    // quantile line is the one the headline reads, from the larger fund's cell.
    assert!(
        report.contains("Their fund ($20.0k) ran dry too often for the target"),
        "{report}"
    );
    let svg = std::fs::read_to_string(out.join("depletion_curve.svg")).unwrap();
    assert!(svg.contains("past it, a lower bound"), "{svg}");
    assert!(svg.contains("(cell with $5.00M)"), "{svg}");

    // The file's own fund is not on the grid: the report says which cell it reads.
    let off = small.replace("[fund]\ninitial = 2e4", "[fund]\ninitial = 3e4");
    let out = run("headline-off-grid", &off, &[]);
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        report.contains("The file's own values are not a cell of the grid")
            && report.contains("No row is the scenario as written"),
        "{report}"
    );
}

/// The target is the user's (issue 34, item 2): `experiment.target` in words drives the
/// headline, the table's quantile, the curve's target line and the console, each daily
/// figure is read over a year beside it, and a target the seeds cannot bound says how many
/// it takes. A target out of range is refused naming the field.
#[test]
fn the_files_target_drives_the_headline_the_table_and_the_console() {
    // A fund no day exhausts, so the headline reads the cell's own quantile.
    let one_in_50 = GRID
        .replace(
            "[experiment]\n",
            "[experiment]\ntarget = \"1 in 50 days\"\n",
        )
        .replace("initial = 2e5", "initial = 1e9")
        .replace(
            r#""fund.initial" = [0.0, 2e5, 4e5]"#,
            r#""fund.initial" = [1e9]"#,
        );
    let out = run("target-50", &one_in_50, &[]);
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        report.contains("**Target.** The fund may run dry on at most 2% a day (1 in 50 days; 99.9% over a year of independent days)"),
        "{report}"
    );
    assert!(
        report.contains("required capital at 2% a day [95% CI]"),
        "{report}"
    );
    // The headline cell (penalty 1%, the file's own) reads the 98th percentile of its runs'
    // need and its one-sided 95% bound: recomputed here from runs.parquet.
    let summary = common::read_parquet(&out.join("summary.parquet"));
    let runs = common::read_parquet(&out.join("runs.parquet"));
    let cells = common::f64_column(&runs, "cell");
    let need = common::f64_column(&runs, "required_capital");
    let penalties = common::f64_column(&summary, "liquidation.penalty_rate");
    let headline_cell = penalties.iter().position(|&p| p == 0.01).unwrap() as f64;
    let mut mine: Vec<f64> = (0..need.len())
        .filter(|&i| cells[i] == headline_cell)
        .map(|i| need[i])
        .collect();
    mine.sort_by(f64::total_cmp);
    let q98 = mine[(0.98 * mine.len() as f64).ceil() as usize - 1];
    let u = backstop::stats::upper_bound_rank(300, 0.98, 0.95).unwrap();
    let sentence = headline(
        q98,
        Some(mine[u as usize - 1]),
        300,
        mine[299],
        &Target::daily(0.02).unwrap(),
    );
    assert!(
        sentence.contains("under 2%, with 95% confidence"),
        "{sentence}"
    );
    assert!(report.contains(&sentence), "lacks `{sentence}`:\n{report}");

    // The console says the target and the same answer.
    let dir = out.parent().unwrap();
    let o = backstop(&[
        "run",
        dir.join("target-50.toml").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--no-charts",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains(
            "Target: at most 2% a day (1 in 50 days; 99.9% over a year of independent days)."
        ),
        "{stdout}"
    );
    assert!(stdout.contains(&sentence.replace("**", "")), "{stdout}");

    // 300 runs bound a 1-in-50-day quantile but not a 1-in-1,000-day one.
    let rare = GRID
        .replace("[experiment]\n", "[experiment]\ntarget = 0.001\n")
        .replace("initial = 2e5", "initial = 1e9")
        .replace(
            r#""fund.initial" = [0.0, 2e5, 4e5]"#,
            r#""fund.initial" = [1e9]"#,
        );
    let out = run("target-rare", &rare, &[]);
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        report.contains(
            "300 runs are too few for a 95% upper bound at this target, which takes at least 2995"
        ),
        "{report}"
    );

    let bad = GRID.replace("[experiment]\n", "[experiment]\ntarget = \"5% a week\"\n");
    let dir = temp_dir("target-bad");
    let file = dir.join("bad.toml");
    std::fs::write(&file, bad).unwrap();
    let o = backstop(&["validate", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("experiment.target") && err.contains("\"1 in 1000 days\""),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(out.parent().unwrap());
}

/// Each report speaks of what its run has (issue 34, item 6): a lending report's method
/// names no auto-deleveraging and its caveats no traders; a run that is not 24 hours long is
/// not called a day in the caveats; a replay is called history, not a fitted model.
#[test]
fn each_report_speaks_of_what_its_run_has() {
    let dir = temp_dir("wording");
    let section = |report: &str, title: &str| -> String {
        let start = report.find(title).unwrap_or_else(|| panic!("no {title}"));
        let rest = &report[start + title.len()..];
        rest[..rest.find("\n## ").unwrap_or(rest.len())].to_string()
    };
    let lending = dir.join("r3");
    let o = backstop(&[
        "run",
        "experiments/r3-lending.toml",
        "--seeds",
        "40",
        "--out",
        lending.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let report = std::fs::read_to_string(lending.join("report.md")).unwrap();
    let method = section(&report, "## Method");
    assert!(!method.contains("auto-deleveraging"), "{method}");
    assert!(method.contains("health factor"), "{method}");
    let caveats = section(&report, "## Caveats");
    assert!(!caveats.contains("Traders"), "{caveats}");
    assert!(caveats.contains("Borrowers hold their loans"), "{caveats}");
    assert!(caveats.contains("A simulated day"), "{caveats}");
    // Its sample path draws the oracle the loans are valued at, from the table's column.
    let svg = std::fs::read_to_string(lending.join("sample_path.svg")).unwrap();
    assert!(svg.contains("Oracle (what loans are valued at)"), "{svg}");
    let sample = common::read_parquet(&lending.join("sample_path.parquet"));
    let oracle = common::f64_column(&sample, "oracle");
    assert!(!oracle.is_empty() && oracle.iter().all(|&p| p > 0.0));
    // The scenario table shows what a lending run reads: its keepers, not perp margins.
    let table = section(&report, "## Scenario");
    assert!(table.contains("`liquidation.keepers.count`"), "{table}");
    assert!(table.contains("`market.lending.bonus`"), "{table}");
    for perp in [
        "`margin.imr`",
        "`traders.count`",
        "`liquidation.penalty_rate`",
    ] {
        assert!(!table.contains(perp), "{perp} in\n{table}");
    }
    assert!(
        table.contains("Left out, as this run has no perp market"),
        "{table}"
    );

    // GRID runs 720 steps of 60 s: 12 hours, not a day.
    let out = run("wording-12h", GRID, &[]);
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    let caveats = section(&report, "## Caveats");
    assert!(caveats.contains("A simulated run of 12 hours"), "{caveats}");
    assert!(
        caveats.contains("sized for one run of 12 hours"),
        "{caveats}"
    );
    assert!(
        caveats.contains("Volatility is a fitted model"),
        "{caveats}"
    );
    assert!(section(&report, "## Method").contains("auto-deleveraging"));
    let svg = std::fs::read_to_string(out.join("sample_path.svg")).unwrap();
    assert!(
        svg.contains("Mark (this venue)") && !svg.contains("Oracle"),
        "{svg}"
    );

    // Several markets: the sample path says whose prices it draws.
    let multi = dir.join("multi");
    let o = backstop(&[
        "run",
        "experiments/multi-market.toml",
        "--seeds",
        "20",
        "--out",
        multi.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let svg = std::fs::read_to_string(multi.join("sample_path.svg")).unwrap();
    assert!(svg.contains("Mark of BTC (this venue)"), "{svg}");
    let report = std::fs::read_to_string(multi.join("report.md")).unwrap();
    assert!(report.contains("index and mark of `BTC` (the first of its 3 markets"));
    let table = section(&report, "## Scenario");
    assert!(
        table.contains("`margin.imr`") && !table.contains("Left out"),
        "{table}"
    );

    let replay = dir.join("replay");
    let o = backstop(&[
        "run",
        "experiments/replay-2020-03.toml",
        "--seeds",
        "4",
        "--out",
        replay.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let report = std::fs::read_to_string(replay.join("report.md")).unwrap();
    let caveats = section(&report, "## Caveats");
    assert!(caveats.contains("The price path is history"), "{caveats}");
    assert!(!caveats.contains("fitted model"), "{caveats}");
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(out.parent().unwrap());
}
