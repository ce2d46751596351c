//! `backstop drivers DIR` and the report's realism panel (issue 34, item 3), run like a user:
//! `run`, then `drivers` on its folder.

mod common;

use common::{backstop, temp_dir};

use std::path::{Path, PathBuf};

const STUDY: &str = r#"
[experiment]
seeds = 300
master_seed = 11
steps = 720

[market.book]
kind = "linear"
depth_usd = 3e6

[traders]
count = 200

[fund]
initial = 2e5
"#;

fn ok(args: &[&str]) -> String {
    let o = backstop(args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn run(dir: &Path, name: &str, toml: &str) -> (PathBuf, PathBuf) {
    let file = dir.join(format!("{name}.toml"));
    std::fs::write(&file, toml).unwrap();
    let out = dir.join(name);
    ok(&[
        "run",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    (file, out)
}

/// `drivers.csv` as rows of (driver, variant) -> column values by name.
fn rows(out: &Path) -> Vec<std::collections::HashMap<String, String>> {
    let text = std::fs::read_to_string(out.join("drivers.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<String> = lines.next().unwrap().split(',').map(String::from).collect();
    lines
        .map(|l| {
            let fields = l.split(',').map(|f| f.trim_matches('"').to_string());
            header.iter().cloned().zip(fields).collect()
        })
        .collect()
}

fn calibrated_fund(dir: &Path, file: &Path, name: &str) -> f64 {
    let cal = dir.join(format!("{name}-cal"));
    ok(&[
        "calibrate",
        file.to_str().unwrap(),
        "--out",
        cal.to_str().unwrap(),
        "--quiet",
    ]);
    let t = common::read_parquet(&cal.join("calibration_p0.01.parquet"));
    common::f64_column(&t, "fund_required")[0]
}

/// Each variant moves one assumption on the run's own seeds: the scenario as written needs
/// exactly what `calibrate` finds, its P(depletion) at the configured fund is the run's own,
/// a variant needs exactly what `calibrate` finds for the file with that one field changed,
/// and the report shows the section; a table from another run is refused as stale.
#[test]
fn drivers_move_one_assumption_at_a_time_on_the_runs_seeds() {
    let dir = temp_dir("drivers");
    let (file, out) = run(&dir, "study", STUDY);
    let stdout = ok(&["drivers", out.to_str().unwrap()]);
    assert!(stdout.contains("book depth"), "{stdout}");
    let table = rows(&out);
    let find = |d: &str, v: &str| {
        table
            .iter()
            .find(|r| r["driver"] == d && r["variant"] == v)
            .unwrap_or_else(|| panic!("no row {d}: {v} in {table:?}"))
    };
    let num =
        |r: &std::collections::HashMap<String, String>, c: &str| -> f64 { r[c].parse().unwrap() };
    let base = find("as written", "");
    assert_eq!(num(base, "runs"), 300.0);
    // The scenario as written: calibrate's figure, bit for bit.
    assert_eq!(
        num(base, "fund_needed"),
        calibrated_fund(&dir, &file, "base")
    );
    // Its P(depletion) at the configured fund is the run's own (a fund F runs dry exactly on
    // the days whose required capital exceeds F).
    let summary = common::read_parquet(&out.join("summary.parquet"));
    assert_eq!(
        num(base, "depletion_at_fund"),
        common::f64_column(&summary, "depletion_probability")[0]
    );
    // The doubled book is the file with depth_usd = 6e6 and nothing else changed.
    let doubled = find("book depth", "doubled");
    let deeper = dir.join("deeper.toml");
    std::fs::write(&deeper, STUDY.replace("depth_usd = 3e6", "depth_usd = 6e6")).unwrap();
    assert_eq!(
        num(doubled, "fund_needed"),
        calibrated_fund(&dir, &deeper, "deeper")
    );
    let change = num(doubled, "change");
    assert_eq!(
        change,
        num(doubled, "fund_needed") - num(base, "fund_needed")
    );
    // The file's own mark rule (Binance's median) has both others as variants; its own
    // impact pricing (`order`) only the other; no lending market, so no oracle.
    for (d, v) in [
        ("mark rule", "book"),
        ("mark rule", "index"),
        ("impact priced on", "step_flow"),
        ("price model", "GBM"),
        ("book depth", "halved"),
    ] {
        find(d, v);
    }
    assert!(table.iter().all(|r| r["variant"] != "order"));
    let oracle = table
        .iter()
        .find(|r| r["driver"] == "oracle reads")
        .unwrap();
    assert_eq!(oracle["left_out_because"], "no lending market");

    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains("## What drives this number"), "{report}");
    assert!(report.contains("| book depth | doubled |"), "{report}");
    assert!(report.contains("![What drives the fund?](drivers.png)"));
    assert!(out.join("drivers.png").is_file() && out.join("drivers.svg").is_file());
    assert!(report.contains("- oracle reads: no lending market."));

    // Another run's table in this folder is not set beside this run's answer.
    let (_, other) = run(
        &dir,
        "other",
        &STUDY.replace("master_seed = 11", "master_seed = 12"),
    );
    std::fs::copy(out.join("drivers.parquet"), other.join("drivers.parquet")).unwrap();
    ok(&["report", other.to_str().unwrap()]);
    let report = std::fs::read_to_string(other.join("report.md")).unwrap();
    assert!(
        report.contains("was written for another experiment than this folder's"),
        "{report}"
    );
    // A new experiment in the folder: the drivers of the old one are called stale (they stay,
    // as a rerun of the same experiment gives them again bit for bit).
    ok(&[
        "run",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--seeds",
        "100",
        "--restart",
        "--quiet",
    ]);
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        report.contains("was written for another experiment than this folder's"),
        "{report}"
    );
    // A folder that never had drivers says how to get them.
    let (_, fresh) = run(&dir, "fresh", STUDY);
    let report = std::fs::read_to_string(fresh.join("report.md")).unwrap();
    assert!(
        report.contains("Run `backstop drivers` on this folder"),
        "{report}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A folder without a run, and a fund that shapes the run, are refused by name.
#[test]
fn drivers_refuse_what_they_cannot_read() {
    let dir = temp_dir("drivers-refuse");
    let o = backstop(&["drivers", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no experiment.toml here"));
    let capped = STUDY.replace("[fund]\n", "[fund]\ncap = 1e6\n");
    let (_, out) = run(&dir, "capped", &capped);
    let o = backstop(&["drivers", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("fund") && err.contains("backstop calibrate"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The realism panel flags what no real venue shows, and only that: a venue whose mark is its
/// own thin book liquidates mostly what its own impact caused; the same day on a deep book
/// with an index mark raises no flag. Each flag is checked against the market's summary.
#[test]
fn the_realism_panel_flags_days_no_venue_has() {
    let dir = temp_dir("realism");
    let thin = STUDY.replace(
        "[market.book]\nkind = \"linear\"\ndepth_usd = 3e6\n",
        "[market.mark]\nrule = \"book\"\n\n[market.book]\nkind = \"linear\"\ndepth_usd = 5e5\n",
    );
    let (_, out) = run(&dir, "thin", &thin);
    let markets = common::read_parquet(&out.join("summary_by_market.parquet"));
    let induced = common::f64_column(&markets, "induced_share_mean")[0];
    assert!(induced > 0.5, "a case with induced liquidations: {induced}");
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        report.contains("### Is this a day real venues have?"),
        "{report}"
    );
    assert!(
        report.contains("**Beyond what real venues show**"),
        "{report}"
    );
    assert!(
        report.contains("of liquidated notional is induced"),
        "{report}"
    );

    // R1's population (2x to 50x) liquidates half its book one day in 20 even on a deep book
    // with an index mark: a calm day needs accounts at low leverage.
    let calm = STUDY
        .replace("depth_usd = 3e6", "depth_usd = 2e9")
        .replace(
            "[market.book]",
            "[market.mark]\nrule = \"index\"\n\n[market.book]",
        )
        .replace(
            "count = 200\n",
            "count = 200\nleverage = { kind = \"fixed\", value = 3.0 }\n",
        );
    let (_, out) = run(&dir, "calm", &calm);
    let markets = common::read_parquet(&out.join("summary_by_market.parquet"));
    let oi = common::f64_column(&markets, "open_interest_mean")[0];
    let lar = common::f64_column(&markets, "liquidated_notional_lar95")[0];
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(lar / oi <= 0.2, "a calm case: {lar} of {oi}");
    assert!(
        report.contains("No figure is beyond what real venues show"),
        "{report}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
