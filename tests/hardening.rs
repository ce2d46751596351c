//! Parameters that would give silently wrong answers are refused or stop the run as an error,
//! and a run that stops writes no table (issue "Hardening").

mod common;

use std::path::Path;

use common::{backstop, temp_dir};

fn write(dir: &Path, name: &str, text: &str) -> String {
    let f = dir.join(name);
    std::fs::write(&f, text).unwrap();
    f.to_str().unwrap().to_string()
}

/// Runs backstop and expects success.
fn ok(args: &[&str]) {
    let o = backstop(args);
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Runs backstop and expects a refusal (exit 2); returns what it said.
fn refused(args: &[&str]) -> String {
    let o = backstop(args);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
    assert!(!err.contains("panicked"), "{args:?}: {err}");
    err
}

/// What `run` left in `out`: file names, `parts/` and the lock file excluded.
fn tables(out: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(out) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "parts" && !n.starts_with('.'))
        .collect();
    names.sort();
    names
}

/// A drift or jump size in the wrong unit is refused by `validate` and `run`, naming the
/// field: the README's Merton fit typed in percent (it would drive the index to 0 at step 1,
/// where nothing is liquidatable and any fund looks safe) and a GBM drift of 1e6 (the index
/// overflows).
#[test]
fn drifts_and_jump_sizes_in_the_wrong_unit_are_refused_by_field() {
    let dir = temp_dir("units");
    let cases = [
        (
            "merton-percent.toml",
            "[market.model]\nkind = \"merton\"\nvol = 0.67\njump_intensity = 29.0\njump_mean = -0.27\njump_sd = 6.5\n",
            "`market.model.jump_sd`",
        ),
        (
            "gbm-drift.toml",
            "[market.model]\nkind = \"gbm\"\nvol = 0.8\ndrift = 1e6\n",
            "`market.model.drift`",
        ),
        (
            "merton-jumps.toml",
            "[market.model]\nkind = \"merton\"\nvol = 0.5\njump_intensity = 1e5\njump_mean = -0.9\njump_sd = 0.0\n",
            "`market.model.jump_intensity`",
        ),
    ];
    for (name, model, field) in cases {
        let file = write(&dir, name, &format!("[experiment]\nseeds = 10\n{model}"));
        for cmd in ["validate", "run"] {
            let out = dir.join(format!("out-{name}"));
            let err = match cmd {
                "run" => refused(&[cmd, &file, "--out", out.to_str().unwrap(), "--quiet"]),
                _ => refused(&[cmd, &file]),
            };
            assert!(err.contains(field), "{name} {cmd}: {err}");
            assert!(
                !out.exists(),
                "{name}: a refused run created {}",
                out.display()
            );
        }
    }
    // The same model with its sizes as fractions runs.
    let fit = write(
        &dir,
        "merton-fraction.toml",
        "[experiment]\nseeds = 10\n[market.model]\nkind = \"merton\"\nvol = 0.67\njump_intensity = 29.0\njump_mean = -0.0027\njump_sd = 0.065\n",
    );
    ok(&["validate", &fit]);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A path that validation lets through but that leaves the range any market reaches stops
/// the run as an error naming the seed, the step and the market, and no table is written
/// under a final name. Here a bootstrap of a price file with one bad row (the price times
/// 1e9 in one hour, among a thousand calm hours): the returns' spread passes the horizon
/// rule, but the seeds that draw that hour leave the range.
#[test]
fn a_price_out_of_range_stops_the_run_and_writes_no_table() {
    let dir = temp_dir("range");
    let mut csv = String::from("unix,close\n");
    let mut price = 100.0f64;
    for i in 0..=1000 {
        if i == 500 {
            price *= 1e9;
        } else if i > 0 {
            price *= if i % 2 == 1 { 1.005 } else { 1.0 / 1.005 };
        }
        csv.push_str(&format!("{},{price:?}\n", 1_600_000_000 + 3_600 * i));
    }
    write(&dir, "jump.csv", &csv);
    let file = write(
        &dir,
        "wild.toml",
        "[experiment]\nseeds = 1000\nsteps = 24\ndt_seconds = 3600.0\n[market.model]\nkind = \"bootstrap\"\npath = \"jump.csv\"\nmean_block = 1.0\n",
    );
    ok(&["validate", &file]);
    let out = dir.join("out");
    let err = refused(&["run", &file, "--out", out.to_str().unwrap(), "--quiet"]);
    assert!(err.contains(" of cell 0 stopped"), "{err}");
    assert!(
        err.contains("the price of market `main` left the range"),
        "{err}"
    );
    assert!(err.contains("at step "), "{err}");
    assert_eq!(tables(&out), Vec::<String>::new(), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Models whose own parameters spread the index beyond the range within the horizon are
/// refused by field: a GARCH vol of 20,000% a year, a Merton process with a jump a minute,
/// a bootstrap whose returns are multiplied a thousandfold, a replay of March 2020 at ten
/// times its moves, and R2's traders with half of every impact permanent (their
/// constant-leverage orders chase their own rise: the index went from 3e4 to 1.3e9 in a day,
/// and the run ended on a ledger error). Each at a tame value is accepted.
#[test]
fn models_and_feedbacks_that_leave_the_range_are_refused_by_field() {
    let dir = temp_dir("spread");
    // The shared data sits beside the repository in CI and on developers' machines; without
    // it, the bootstrap and replay cases are left out.
    let data = std::fs::canonicalize("../shared/data/btcusd_bitstamp_1h.csv")
        .map(|p| p.to_str().unwrap().to_string())
        .ok();
    let r2 = std::fs::read_to_string("experiments/r2-agents.toml").unwrap();
    let with_permanent = |p: f64| {
        r2.replacen(
            "[market.book]",
            &format!("[market]\npermanent_impact = {p}\n\n[market.book]"),
            1,
        )
    };
    let mut cases = vec![
        (
            "garch.toml",
            "[experiment]\nseeds = 10\n[market.model]\nkind = \"garch\"\nlong_run_vol = 200.0\nalpha = 0.05\nbeta = 0.9\n".to_string(),
            "`market.model.long_run_vol`",
            "long_run_vol = 200.0",
            "long_run_vol = 2.0",
        ),
        (
            "jumps.toml",
            "[experiment]\nseeds = 10\n[market.model]\nkind = \"merton\"\nvol = 0.5\njump_intensity = 525600.0\njump_mean = 0.0\njump_sd = 0.2\n".to_string(),
            "`market.model.jump_intensity`",
            "jump_intensity = 525600.0",
            "jump_intensity = 50.0",
        ),
        (
            "r2.toml",
            with_permanent(0.5),
            "`market.permanent_impact`",
            "permanent_impact = 0.5",
            "permanent_impact = 0.05",
        ),
    ];
    if let Some(data) = &data {
        cases.extend([
            (
                "bootstrap.toml",
                format!("[experiment]\nseeds = 10\nsteps = 24\ndt_seconds = 3600.0\n[market.model]\nkind = \"bootstrap\"\npath = \"{data}\"\nmean_block = 24.0\nvol_multiplier = 1000.0\n"),
                "`market.model.vol_multiplier`",
                "vol_multiplier = 1000.0",
                "vol_multiplier = 2.0",
            ),
            (
                "replay.toml",
                format!("[experiment]\nseeds = 10\nsteps = 48\ndt_seconds = 3600.0\n[market.model]\nkind = \"replay\"\npath = \"{data}\"\nstart = \"2020-03-11 00:00:00\"\nvol_multiplier = 100.0\n"),
                "`market.model.vol_multiplier`",
                "vol_multiplier = 100.0",
                "vol_multiplier = 2.0",
            ),
        ]);
    }
    for (name, text, field, wild, tame) in cases {
        let file = write(&dir, name, &text);
        let err = refused(&["validate", &file]);
        assert!(err.contains(field), "{name}: {err}");
        assert!(
            err.contains("e^"),
            "{name}: the estimate is in the message: {err}"
        );
        let file = write(&dir, name, &text.replace(wild, tame));
        ok(&["validate", &file]);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Refusals name the dotted field, array indices included, whatever the kind of error: a
/// value of the wrong type, an unknown key, a market table's key, a strategy's field in a
/// mix, a count given in the traders' section, a value in a grid, and a date that does
/// not exist.
#[test]
fn refusals_name_the_dotted_field() {
    let dir = temp_dir("fields");
    let cases = [
        (
            "[market.liquidity]\nkappa = \"a\"\n",
            "`market.liquidity.kappa` must be a number",
        ),
        (
            "[traders.reentry]\ncooldown = 60.0\nprobability = 0.5\n",
            "`traders.reentry.cooldown` unknown field",
        ),
        (
            "[markets.ETH]\ns0 = \"x\"\n",
            "`markets.ETH.s0` must be a number",
        ),
        (
            "[[traders.mix]]\nshare = 1.0\nstrategy = { kind = \"noise\", decisions_per_hour = 0.0 }\n",
            "`traders.mix[0].strategy.decisions_per_hour` must be > 0",
        ),
        ("[traders]\ncount = 0\n", "`traders.count`"),
        (
            "[markets.ETH]\nfund_weight = 1e-300\n",
            "`markets.ETH.fund_weight` = 1e-300 leaves a market",
        ),
        (
            "[markets.ETH]\n[correlation]\nmatrix = [[1.0, 0.5], [0.5, 1.0]]\n[correlation.crash]\nintensity = 2.0\njump_mean = -0.05\njump_sd = 5.0\nbetas = [1.0, 1.0]\n",
            "`correlation.crash.jump_sd` = 5e0 is a log jump of more than 100%",
        ),
        (
            "[grid]\n\"fund.initial\" = [1e6, -1.0]\n",
            "`grid.\"fund.initial\"[1]` must be >= 0",
        ),
        (
            "[market.model]\nkind = \"replay\"\npath = \"x.csv\"\nstart = \"2021-02-29\"\n",
            "`market.model.start` must be a date",
        ),
    ];
    for (i, (text, expected)) in cases.iter().enumerate() {
        let file = write(
            &dir,
            &format!("case{i}.toml"),
            &format!("[experiment]\nseeds = 10\n{text}"),
        );
        let err = refused(&["validate", &file]);
        assert!(
            err.contains(expected),
            "case {i}: expected {expected}, got {err}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `fit` writes only a snippet that `validate` accepts: a GARCH fit for a step of a year
/// (where the per-step beta turns negative) is refused naming the rule, and no file is
/// written; a date that does not exist is refused.
#[test]
fn fit_writes_only_snippets_that_validate_accepts() {
    let dir = temp_dir("fit-snippet");
    let out = dir.join("snippet.toml");
    let data = "../shared/data/btcusd_bitstamp_1d.csv";
    if !Path::new(data).exists() {
        return; // the shared data sits beside the repository in CI and on developers' machines
    }
    let o = out.to_str().unwrap();
    let err = refused(&[
        "fit", "--model", "garch-t", data, "--dt", "31536000", "--out", o,
    ]);
    assert!(
        err.contains("would be refused by `backstop validate`"),
        "{err}"
    );
    assert!(err.contains("`market.model."), "{err}");
    assert!(!out.exists(), "a refused snippet was written");
    let err = refused(&[
        "fit",
        "--model",
        "merton",
        data,
        "--start",
        "2021-02-29",
        "--out",
        o,
    ]);
    assert!(err.contains("--start"), "{err}");
    assert!(!out.exists());
    ok(&[
        "fit", "--model", "garch-t", data, "--dt", "86400", "--out", o,
    ]);
    ok(&["validate", o]);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Sizes and ranges far from any market or any machine are refused by `validate` in well under
/// a second, naming the field and the rule: a subnormal price, a step of 5e-324 s, 2^63 - 1
/// steps, a grid of 1e10 cells (never built), a decision rate of 1e308 an hour (a run that
/// never ends), 1e22 USD of fund revenue (a ledger that cannot balance), a book of 1e-308 USD
/// (infinite slippage), 1e8 traders (11 GB a run), 2e16 trader-steps (a month of
/// computing) and a run of 1e14 simulated steps. The decision rate, the revenue, the book
/// and the 1e14 steps were found by mutating the curated experiments.
#[test]
fn sizes_beyond_any_machine_are_refused_before_anything_is_built() {
    let dir = temp_dir("sizes");
    let cases = [
        (
            "[market]\ns0 = 1e-310\n",
            "`market.s0` must be from 1e-9 to 1e12 USD",
        ),
        (
            "[experiment]\ndt_seconds = 5e-324\n",
            "`experiment.dt_seconds` must be from 0.001 s",
        ),
        (
            "[experiment]\nsteps = 9223372036854775807\n",
            "`experiment.steps` must be from 1 to 10000000",
        ),
        (
            "[grid]\n\"fund.initial\" = { linspace = [1e5, 1e7, 100000] }\n\"liquidation.penalty_rate\" = { linspace = [0.0, 0.02, 100000] }\n",
            "`grid` makes 1e10 cells",
        ),
        (
            "[traders]\ncount = 10\n[[traders.mix]]\nshare = 1.0\nstrategy = { kind = \"noise\", decisions_per_hour = 1e308 }\n",
            "`traders.mix[0].strategy.decisions_per_hour` reaches 1e308 decisions an hour",
        ),
        (
            "[fund]\nrevenue_per_step = 9223372036854775807\n",
            "`fund.revenue_per_step` comes to 1.3281655733070877e22 USD over the run",
        ),
        (
            "[market.book]\nkind = \"linear\"\ndepth_usd = 1e-308\n",
            "`market.book.depth_usd` must be from 1 to 1e15 USD",
        ),
        (
            "[traders]\ncount = 100000000\n",
            "`traders.count` = 100000000 traders need about 11.0 GB per run",
        ),
        (
            "[experiment]\nseeds = 1000000\nsteps = 100000\n[traders]\ncount = 200000\n",
            "`experiment.seeds` = 1000000 asks for 2.00e16 trader-steps",
        ),
        (
            "[experiment]\nseeds = 10000000\nsteps = 10000000\n",
            "`experiment.seeds` = 10000000 in 1 cell(s) of 10000000 steps asks for 1.00e14",
        ),
    ];
    for (i, (text, want)) in cases.into_iter().enumerate() {
        let file = write(&dir, &format!("case{i}.toml"), text);
        let start = std::time::Instant::now();
        let err = refused(&["validate", &file]);
        assert!(err.contains(want), "{text}: {err}");
        assert!(
            start.elapsed().as_secs() < 10,
            "{text}: validate took {:?}",
            start.elapsed()
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A panic trader whose window is 1e30 minutes (longer than any run) runs, with finite
/// figures, in the memory of a window as long as the run.
#[test]
fn a_window_longer_than_the_run_runs() {
    let dir = temp_dir("window");
    let file = write(
        &dir,
        "panic.toml",
        "[experiment]\nseeds = 4\nsteps = 240\n[traders]\ncount = 50\n[[traders.mix]]\nshare = 1.0\nstrategy = { kind = \"panic\", decisions_per_hour = 2.0, window_minutes = 1e30, liquidation_threshold_usd = 2e6, drawdown = 0.3 }\n",
    );
    let out = dir.join("out");
    ok(&[
        "run",
        &file,
        "--out",
        out.to_str().unwrap(),
        "--quiet",
        "--no-charts",
    ]);
    assert!(out.join("summary.csv").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

/// A folder has one writer at a time: while another process holds the folder's lock, `run`
/// and `report` into it are refused at once and write nothing; once it lets go, they work.
#[test]
fn a_second_writer_into_one_folder_is_refused() {
    let dir = temp_dir("lock");
    let file = write(&dir, "small.toml", "[experiment]\nseeds = 20\nsteps = 60\n");
    let out = dir.join("out");
    std::fs::create_dir_all(&out).unwrap();
    let holder = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(out.join(".lock"))
        .unwrap();
    holder.try_lock().unwrap();
    let args = [
        "run",
        &file,
        "--out",
        out.to_str().unwrap(),
        "--quiet",
        "--no-charts",
    ];
    let err = refused(&args);
    assert!(err.contains("another backstop process is writing"), "{err}");
    assert_eq!(tables(&out), Vec::<String>::new());
    assert!(!out.join("parts").exists());
    refused(&["report", out.to_str().unwrap()]);
    drop(holder);
    ok(&args);
    assert!(out.join("summary.csv").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

/// `report` on a folder whose table is damaged refuses it, naming the file, and rewrites
/// nothing: every table is read before any chart is drawn.
#[test]
fn report_refuses_a_damaged_table_by_name() {
    let dir = temp_dir("damaged");
    let file = write(
        &dir,
        "small.toml",
        "[experiment]\nseeds = 50\nsteps = 120\n",
    );
    let out = dir.join("out");
    ok(&["run", &file, "--out", out.to_str().unwrap(), "--quiet"]);
    // Written files keep their modification times when nothing rewrites them.
    let written = || {
        let mut times: Vec<_> = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap())
            .filter(|e| !e.file_name().to_string_lossy().ends_with(".parquet"))
            .map(|e| (e.file_name(), e.metadata().unwrap().modified().unwrap()))
            .collect();
        times.sort();
        times
    };
    let before = written();
    for table in ["summary.parquet", "runs.parquet", "fund_fan.parquet"] {
        let path = out.join(table);
        let good = std::fs::read(&path).unwrap();
        let mut bad = good.clone();
        // Overwrite the footer's metadata (the end of the file, before the length and magic).
        let n = bad.len();
        for b in &mut bad[n - 60..n - 8] {
            *b ^= 0x5a;
        }
        std::fs::write(&path, &bad).unwrap();
        let err = refused(&["report", out.to_str().unwrap()]);
        assert!(
            err.contains(table) && err.contains("is damaged"),
            "{table}: {err}"
        );
        assert_eq!(written(), before, "{table}: a refused report wrote files");
        std::fs::write(&path, &good).unwrap();
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--restart` into a folder of another experiment removes that experiment's tables, charts
/// and report before it writes anything, so a restart stopped midway (here: one shard of two,
/// which assembles nothing) leaves no old table beside the new parts. Every chart a run
/// draws is one of the names it knows to remove.
#[test]
fn a_restart_clears_the_earlier_experiments_tables_first() {
    let dir = temp_dir("restart");
    let old = write(&dir, "old.toml", "[experiment]\nseeds = 20\nsteps = 60\n");
    let out = dir.join("out");
    ok(&["run", &old, "--out", out.to_str().unwrap(), "--quiet"]);
    let drawn: Vec<String> = tables(&out)
        .into_iter()
        .filter_map(|n| n.strip_suffix(".png").map(String::from))
        .collect();
    assert!(!drawn.is_empty());
    for stem in &drawn {
        assert!(
            backstop::output::charts::CHART_NAMES.contains(&stem.as_str()),
            "{stem}"
        );
    }
    let new = write(
        &dir,
        "new.toml",
        "[experiment]\nseeds = 20\nsteps = 60\n[grid]\n\"fund.initial\" = [1e5, 1e6]\n",
    );
    ok(&[
        "run",
        &new,
        "--out",
        out.to_str().unwrap(),
        "--quiet",
        "--restart",
        "--shard",
        "0/2",
    ]);
    assert_eq!(tables(&out), Vec::<String>::new());
    assert!(out.join("parts").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

/// A saved part whose bytes change on disk is never used: resuming runs its unit again (the
/// tables come out byte for byte as a straight run's), and `merge` refuses it by name and
/// writes nothing.
#[test]
fn a_damaged_part_is_run_again_or_refused_by_name() {
    let dir = temp_dir("parts");
    // Two units of work: seeds 0-999 and 1000-1499.
    let file = write(
        &dir,
        "two-units.toml",
        "[experiment]\nseeds = 1500\nsteps = 30\n[traders]\ncount = 20\n",
    );
    let (straight, resumed) = (dir.join("straight"), dir.join("resumed"));
    for out in [&straight, &resumed] {
        ok(&[
            "run",
            &file,
            "--out",
            out.to_str().unwrap(),
            "--quiet",
            "--no-charts",
        ]);
    }
    let part = resumed.join("parts/unit-000001.parquet");
    let mut bytes = std::fs::read(&part).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(&part, &bytes).unwrap();
    std::fs::remove_file(resumed.join("summary.csv")).unwrap();
    ok(&[
        "run",
        &file,
        "--out",
        resumed.to_str().unwrap(),
        "--quiet",
        "--no-charts",
    ]);
    for table in ["runs.parquet", "summary.csv", "summary.parquet"] {
        assert_eq!(
            std::fs::read(straight.join(table)).unwrap(),
            std::fs::read(resumed.join(table)).unwrap(),
            "{table}"
        );
    }
    // Shards, one of them damaged: the merge names the file and leaves --out unmade.
    let (s0, s1, merged) = (dir.join("s0"), dir.join("s1"), dir.join("merged"));
    for (i, s) in [&s0, &s1].into_iter().enumerate() {
        let shard = format!("{i}/2");
        ok(&[
            "run",
            &file,
            "--out",
            s.to_str().unwrap(),
            "--quiet",
            "--shard",
            &shard,
        ]);
    }
    let part = s1.join("parts/unit-000001.markets.parquet");
    let mut bytes = std::fs::read(&part).unwrap();
    bytes[10] ^= 0x80;
    std::fs::write(&part, &bytes).unwrap();
    let err = refused(&[
        "merge",
        s0.to_str().unwrap(),
        s1.to_str().unwrap(),
        "--out",
        merged.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(
        err.contains("unit-000001.markets.parquet") && err.contains("checksum"),
        "{err}"
    );
    assert!(
        !merged.exists(),
        "a refused merge wrote {}",
        merged.display()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Tables that each read well but come from two runs are refused by `report`, naming the one
/// that does not belong: the folder's seal holds every table's checksum.
#[test]
fn report_refuses_tables_of_two_runs() {
    let dir = temp_dir("mixed");
    let (a, b) = (dir.join("a"), dir.join("b"));
    for (out, fund) in [(&a, "1e6"), (&b, "2e6")] {
        let file = write(
            &dir,
            &format!("fund-{fund}.toml"),
            &format!("[experiment]\nseeds = 30\nsteps = 60\n[fund]\ninitial = {fund}\n"),
        );
        ok(&[
            "run",
            &file,
            "--out",
            out.to_str().unwrap(),
            "--quiet",
            "--no-charts",
        ]);
    }
    ok(&["report", a.to_str().unwrap()]);
    std::fs::copy(b.join("summary.parquet"), a.join("summary.parquet")).unwrap();
    let err = refused(&["report", a.to_str().unwrap()]);
    assert!(
        err.contains("summary.parquet") && err.contains("does not belong"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
