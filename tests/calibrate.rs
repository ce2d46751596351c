//! `backstop calibrate` agrees exactly, run by run, with a brute-force sweep over the fund on
//! the same seeds (MODEL.md sections 5 and 10).

mod common;

use backstop::output::format_money;

use common::{backstop, temp_dir};

use std::path::Path;

/// The curve CSV as (cell, fund, p) triples.
fn curve(path: &Path) -> Vec<(usize, f64, f64)> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let at = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (c, f, p) = (at("cell"), at("fund"), at("depletion_probability"));
    lines
        .map(|l| {
            let v: Vec<&str> = l.split(',').collect();
            (
                v[c].parse().unwrap(),
                v[f].parse().unwrap(),
                v[p].parse().unwrap(),
            )
        })
        .collect()
}

#[test]
fn calibration_agrees_with_a_brute_force_fund_sweep() {
    let dir = temp_dir("agree");
    let seeds = 400;
    let file = dir.join("stressed.toml");
    let grid =
        "[grid]\n\"fund.initial\" = [1e5, 2e5]\n\"liquidation.penalty_rate\" = [0.0, 0.01]\n";
    std::fs::write(&file, common::stressed(seeds, 1e5, grid)).unwrap();
    let cal = dir.join("cal");
    let o = backstop(&[
        "calibrate",
        file.to_str().unwrap(),
        "--target",
        "0.05",
        "--out",
        cal.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("Smallest fund meeting the target"),
        "{stdout}"
    );

    // The fund axis is gone: one calibration per penalty.
    let table = common::read_parquet(&cal.join("calibration_p0.05.parquet"));
    assert_eq!(table.height(), 2);
    // The line under the table posts the smallest bound of the table (in whole dollars),
    // and names each cell that needs it with that cell's own point estimate.
    let bounds = common::f64_column(&table, "fund_required_ub95");
    let points = common::f64_column(&table, "fund_required");
    let best = bounds
        .iter()
        .map(|b| b.round())
        .fold(f64::INFINITY, f64::min);
    let line = stdout
        .lines()
        .find(|l| l.starts_with("Smallest fund meeting the target"))
        .unwrap();
    assert!(
        line.contains(&format!("with 95% confidence: {}, in ", format_money(best))),
        "{line}"
    );
    for (b, p) in bounds.iter().zip(&points) {
        let named = line.contains(&format!("(point estimate {})", format_money(*p)));
        assert!(b.round() != best || named, "{line}");
    }
    let penalties = common::f64_column(&table, "liquidation.penalty_rate");
    let funds = common::f64_column(&table, "fund_required");
    let at_fund = common::f64_column(&table, "depletion_at_fund");
    let points = curve(&cal.join("calibration_curve_p0.05.csv"));

    for (c, &penalty) in penalties.iter().enumerate() {
        assert!(at_fund[c] <= 0.05);
        // Brute force: the original experiment with this penalty, swept over the recommended
        // fund and a spread of the curve's fund sizes, on the same seeds.
        let sampled: Vec<(f64, f64)> = points
            .iter()
            .filter(|p| p.0 == c)
            .step_by(10)
            .map(|p| (p.1, p.2))
            .chain([(funds[c], at_fund[c])])
            .collect();
        assert!(
            sampled.iter().any(|s| s.1 > 0.0 && s.1 < 1.0),
            "the curve has something to check"
        );
        let values: Vec<String> = sampled.iter().map(|s| format!("{:?}", s.0)).collect();
        let sweep_grid = format!("[grid]\n\"fund.initial\" = [{}]\n", values.join(", "));
        let sweep_file = dir.join(format!("sweep{c}.toml"));
        std::fs::write(
            &sweep_file,
            common::stressed(seeds, 1.0, &sweep_grid).replace(
                "[liquidation]\npenalty_rate = 0.0",
                &format!("[liquidation]\npenalty_rate = {penalty:?}"),
            ),
        )
        .unwrap();
        let brute = common::depletion_by_cell(&sweep_file, &dir.join(format!("sweep{c}")));
        for ((fund, p), b) in sampled.iter().zip(&brute) {
            assert_eq!(
                p, b,
                "penalty {penalty}, fund {fund}: calibration {p} vs brute force {b}"
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn calibrate_rejects_bad_targets_and_zipped_funds() {
    let o = backstop(&["calibrate", "experiments/baseline.toml", "--target", "1.5"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("--target") && err.contains("(0, 1)"), "{err}");
    let o = backstop(&[
        "calibrate",
        "experiments/baseline.toml",
        "--target",
        "1 in 1000 weeks",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("\"1 in 1000 days\""));
    let dir = temp_dir("zip");
    let file = dir.join("zip.toml");
    std::fs::write(
        &file,
        "[grid.zip.z]\n\"fund.initial\" = [1.0, 2.0]\n\"liquidation.penalty_rate\" = [0.0, 0.01]\n",
    )
    .unwrap();
    let o = backstop(&[
        "calibrate",
        file.to_str().unwrap(),
        "--out",
        dir.join("out").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("zip group"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// With a fund cap, how much is swept to treasury depends on where the fund started, so the
/// required-capital shortcut is wrong; calibration says so, falls back to bisection over the
/// fund seed by seed, and still agrees exactly with a brute-force sweep.
#[test]
fn a_fund_cap_makes_calibration_fall_back_to_bisection() {
    let dir = temp_dir("cap");
    let seeds = 150;
    let capped = |fund: f64, grid: &str| {
        common::stressed(seeds, fund, grid)
            .replace(
                "[liquidation]\npenalty_rate = 0.0",
                "[liquidation]\npenalty_rate = 0.01",
            )
            .replace("[fund]\n", "[fund]\ncap = 2e7\nrevenue_per_step = 2e4\n")
    };
    let file = dir.join("capped.toml");
    std::fs::write(&file, capped(1e5, "")).unwrap();
    let cal = dir.join("cal");
    let o = backstop(&[
        "calibrate",
        file.to_str().unwrap(),
        "--target",
        "0.1",
        "--out",
        cal.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("Falling back to bisection"), "{stdout}");

    let points: Vec<(f64, f64)> = curve(&cal.join("calibration_curve_p0.1.csv"))
        .into_iter()
        .filter(|p| p.1 <= 2e7)
        .map(|p| (p.1, p.2))
        .collect();
    assert!(points.iter().any(|p| p.1 > 0.0 && p.1 < 1.0), "{points:?}");
    let values: Vec<String> = points.iter().map(|p| format!("{:?}", p.0)).collect();
    let sweep = dir.join("sweep.toml");
    std::fs::write(
        &sweep,
        capped(
            1.0,
            &format!("[grid]\n\"fund.initial\" = [{}]\n", values.join(", ")),
        ),
    )
    .unwrap();
    let brute = common::depletion_by_cell(&sweep, &dir.join("sweep"));
    for ((fund, p), b) in points.iter().zip(&brute) {
        assert_eq!(
            p, b,
            "fund {fund}: bisection calibration {p} vs brute force {b}"
        );
    }
    // The fallback was needed: without the cap the same funds deplete less often somewhere,
    // so required capital would have understated the fund.
    let uncapped = dir.join("uncapped.toml");
    std::fs::write(
        &uncapped,
        std::fs::read_to_string(&sweep)
            .unwrap()
            .replace("cap = 2e7\n", ""),
    )
    .unwrap();
    let free = common::depletion_by_cell(&uncapped, &dir.join("uncapped"));
    assert!(brute.iter().zip(&free).all(|(c, f)| c >= f));
    assert!(
        brute.iter().zip(&free).any(|(c, f)| c > f),
        "{points:?} {brute:?} vs {free:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The target is the user's (issue 34, item 2): the file's `experiment.target` is
/// calibrate's default, each `--target` writes its own files (a second no longer overwrites
/// the first), a yearly target is read as the daily one that compounds to it, and where the
/// runs are too few for a bound calibrate says how many it takes.
#[test]
fn each_target_gets_its_own_files_and_the_files_target_is_the_default() {
    let dir = temp_dir("targets");
    let file = dir.join("stressed.toml");
    let text = common::stressed(400, 1e5, "").replacen(
        "[experiment]\n",
        "[experiment]\ntarget = \"1 in 20 days\"\n",
        1,
    );
    std::fs::write(&file, text).unwrap();
    let cal = dir.join("cal");
    let calibrate = |extra: &[&str]| {
        let mut args = vec![
            "calibrate",
            file.to_str().unwrap(),
            "--out",
            cal.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let o = backstop(&args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let first = calibrate(&[]);
    assert!(first.contains("P(depletion) <= 5% a day"), "{first}");
    let fund_at = |tag: &str| {
        let t = common::read_parquet(&cal.join(format!("calibration_{tag}.parquet")));
        common::f64_column(&t, "fund_required")[0]
    };
    let at_5pct = fund_at("p0.05");
    let second = calibrate(&["--target", "0.01", "--target", "10% a year"]);
    assert_eq!(
        fund_at("p0.05"),
        at_5pct,
        "the first target's file is untouched"
    );
    let yearly = (1.0 - 0.9f64.powf(1.0 / 365.0)) * 1.0;
    let tag = format!("p{yearly:.2e}");
    for t in ["p0.05", "p0.01", tag.as_str()] {
        for f in [
            format!("calibration_{t}.csv"),
            format!("calibration_curve_{t}.csv"),
            format!("calibration_{t}.md"),
            format!("calibration_{t}.png"),
        ] {
            assert!(cal.join(&f).is_file(), "{f} missing");
        }
    }
    // A rarer target needs a larger fund.
    assert!(fund_at("p0.01") >= at_5pct);
    assert!(fund_at(&tag) >= fund_at("p0.01"));
    // 400 runs bound a 5% and a 1% quantile, not a 1-in-3,500-day one: say what it takes.
    let needed = (0.05f64.ln() / (-yearly).ln_1p()).ceil() as u64;
    assert!(
        second.contains(&format!(
            "too few runs for a bound, which takes at least {needed}"
        )),
        "{second}"
    );
    let report = std::fs::read_to_string(cal.join(format!("calibration_{tag}.md"))).unwrap();
    assert!(
        report.contains("10% over a year of independent days"),
        "{report}"
    );
    assert!(
        report.contains(&format!("it takes at least {needed}")),
        "{report}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
