//! `backstop fit` as a user runs it: on the shared BTC file, the snippet it writes goes into an
//! experiment that validates and runs; bad input is refused with the option named.

mod common;

use std::path::Path;

use common::{backstop, temp_dir};

const HOURLY: &str = "../shared/data/btcusd_bitstamp_1h.csv";

/// Fits `model` to the hourly BTC file for steps of `dt` seconds, then pastes the snippet
/// under an `[experiment]` with that step and checks the experiment runs with a balanced ledger.
fn fit_then_run(model: &str, dt: &str, expect_in_snippet: &[&str]) {
    if !Path::new(HOURLY).exists() {
        return; // the shared data sits beside the repository in CI and on developers' machines
    }
    let dir = temp_dir(&format!("fit-{model}-{dt}"));
    let snippet = dir.join("model.toml");
    let o = backstop(&[
        "fit",
        HOURLY,
        "--model",
        model,
        "--dt",
        dt,
        "--start",
        "2018-06-01",
        "--end",
        "2022-08-20",
        "--out",
        snippet.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("std. error"), "{stdout}");
    let text = std::fs::read_to_string(&snippet).unwrap();
    for s in expect_in_snippet {
        assert!(text.contains(s), "`{s}` not in\n{text}");
    }
    let exp = dir.join("exp.toml");
    let at = |step: &str| {
        std::fs::write(
            &exp,
            format!(
                "[experiment]\nsteps = 60\ndt_seconds = {step}\n[traders]\ncount = 100\n\n{text}"
            ),
        )
        .unwrap();
        let o = backstop(&["validate", exp.to_str().unwrap()]);
        assert!(o.status.success());
        String::from_utf8_lossy(&o.stderr).to_string()
    };
    // GARCH's alpha and beta are per step: the snippet says its step, and another step is
    // warned about by name (issue 34, item 13).
    if model == "garch-t" {
        let other = if dt == "60" { "3600" } else { "60" };
        let warned = at(other);
        let expected =
            format!("`market.model.fit_dt_seconds` is {dt} but experiment.dt_seconds is {other}");
        assert!(warned.contains(&expected), "{warned}");
    }
    assert!(!at(dt).contains("fit_dt_seconds"));
    common::run_tables(&exp, &dir.join("out"), &["--seeds", "20", "--audit-ledger"]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn garch_fit_of_btc_hours_goes_into_an_hourly_experiment() {
    fit_then_run(
        "garch-t",
        "3600",
        &["kind = \"garch\"", "student_t", "variance targeting"],
    );
}

#[test]
fn garch_fit_of_btc_hours_converts_to_minute_steps() {
    fit_then_run(
        "garch-t",
        "60",
        &[
            "kind = \"garch\"",
            "valid for experiment.dt_seconds = 60",
            "Nelson",
        ],
    );
}

#[test]
fn merton_fit_of_btc_hours_goes_into_an_experiment() {
    fit_then_run("merton", "60", &["kind = \"merton\"", "jump_intensity"]);
}

#[test]
fn bad_fit_input_is_refused_naming_the_option_and_writing_nothing() {
    if !Path::new(HOURLY).exists() {
        return;
    }
    let dir = temp_dir("fit-bad");
    let out = dir.join("snippet.toml");
    for (args, expected) in [
        (vec!["--price-column", "nope"], "`nope`"),
        (vec!["--start", "yesterday"], "--start"),
        (vec!["--dt", "1000"], "--dt"),
        (vec!["--dt=-5"], "--dt"),
        (
            vec!["--start", "2020-03-12", "--end", "2020-03-12 01:00"],
            "at least 100 returns",
        ),
    ] {
        let mut all = vec!["fit", HOURLY, "--model", "garch-t", "--out"];
        all.push(out.to_str().unwrap());
        all.extend(args.iter().copied());
        let o = backstop(&all);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(expected), "{args:?}: {err}");
        assert!(!out.exists(), "{args:?} wrote a snippet");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
