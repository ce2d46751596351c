//! The command line: `backstop run FILE` and `backstop validate FILE`.

mod drivers;
mod validate;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::config::target::TargetSpec;
use crate::config::{CALIBRATION_FUND, CalibrationMethod, Experiment, Overrides, Target};
use crate::fit;
use crate::market::data::{format_time, load_price_csv, parse_time};
use crate::montecarlo::calibration;
use crate::output::{self, store, store::Progress, store::Shard};
use crate::protocol::LEDGER_TOLERANCE;
use crate::simulation::RunOptions;

#[derive(Parser, Debug)]
#[command(
    name = "backstop",
    version,
    about = "Size liquidation insurance funds by agent-based Monte Carlo"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run an experiment and write its tables into the output folder.
    Run(RunArgs),
    /// Check an experiment file without running it, and say how big its run is and about
    /// how long it will take here (timed from a few runs of the headline cell).
    Validate(ExperimentArgs),
    /// Find, for every cell of the non-fund axes, the fund that keeps P(depletion) at or under
    /// a target, with its 95% upper confidence bound and the whole depletion curve.
    Calibrate(CalibrateArgs),
    /// Move each driving assumption of a finished run alone (the book's depth, the mark rule,
    /// how impact is priced, a lending market's oracle, the price model) on the run's own
    /// seeds, and add what each does to the fund to the run's report.
    Drivers(drivers::DriversArgs),
    /// Gather the units saved by shard runs into one folder and write its tables.
    Merge(MergeArgs),
    /// Fit a price model to a CSV of prices and write a `[market.model]` snippet for
    /// experiment files.
    Fit(FitArgs),
    /// Rebuild the charts and report.md of an earlier run from its tables, without simulating.
    Report {
        /// Output folder of `backstop run`.
        dir: PathBuf,
    },
    /// Print the JSON Schema of experiment files, for editors: a TOML file whose first line
    /// is `#:schema PATH` is completed and checked against it (the curated experiments point
    /// at experiments/backstop.schema.json, which is this output).
    Schema,
    /// List the venue presets an experiment can name with `preset = "..."`, or print one
    /// (its rules and their sources).
    Presets {
        /// The preset to print; all names when omitted.
        name: Option<String>,
    },
}

#[derive(Args, Debug)]
struct ExperimentArgs {
    /// Experiment file (TOML).
    file: PathBuf,
    /// Runs per grid cell (overrides `experiment.seeds`).
    #[arg(long)]
    seeds: Option<u64>,
    /// Master seed (overrides `experiment.master_seed`).
    #[arg(long)]
    master_seed: Option<u64>,
}

#[derive(Args, Debug)]
struct RunArgs {
    #[command(flatten)]
    experiment: ExperimentArgs,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long)]
    threads: Option<usize>,
    /// Output folder (default: notebooks-output/<file stem>).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Print nothing but errors; no progress bar.
    #[arg(long)]
    quiet: bool,
    /// Sum the ledger after every step of every run (slower; for audits).
    #[arg(long)]
    audit_ledger: bool,
    /// Write tables only: no charts, no report.md.
    #[arg(long)]
    no_charts: bool,
    /// Run only units of work i, i+N, i+2N, ... (0 <= i < N), for a batch scheduler's job
    /// array; gather the shards with `backstop merge`.
    #[arg(long, value_name = "i/N")]
    shard: Option<Shard>,
    /// Discard results saved in the output folder by an earlier, different experiment.
    #[arg(long)]
    restart: bool,
}

#[derive(Args, Debug)]
struct CalibrateArgs {
    #[command(flatten)]
    experiment: ExperimentArgs,
    /// Target depletion probability a day, as a number (0.001) or in words ("1 in 1000
    /// days", "0.5% a year"); repeat it for several targets from the same runs, each written
    /// to its own files. Default: the file's `experiment.target` (1% a day unless set).
    #[arg(long, value_parser = parse_target)]
    target: Vec<Target>,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long)]
    threads: Option<usize>,
    /// Output folder (default: notebooks-output/<file stem>-calibration).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Print nothing but errors; no progress bar.
    #[arg(long)]
    quiet: bool,
    /// Discard results saved in the output folder by an earlier, different experiment.
    #[arg(long)]
    restart: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum FitModel {
    /// GARCH(1,1) with Student-t shocks, by maximum likelihood.
    GarchT,
    /// Merton jump-diffusion, by the method of cumulants.
    Merton,
    /// The stationary block bootstrap of the data's bars: its mean block length by Politis
    /// and White's rule, on absolute returns.
    Bootstrap,
}

#[derive(Args, Debug)]
struct FitArgs {
    /// CSV file of prices (a banner line before the header and newest-first rows are fine).
    file: PathBuf,
    /// The model to fit.
    #[arg(long, value_enum)]
    model: FitModel,
    /// Column holding the price.
    #[arg(long, default_value = "close")]
    price_column: String,
    /// Column holding the time (Unix seconds or a date).
    #[arg(long, default_value = "unix")]
    time_column: String,
    /// First time to use (date or Unix seconds, UTC; default: the file's first row).
    #[arg(long)]
    start: Option<String>,
    /// Last time to use (date or Unix seconds, UTC; default: the file's last row).
    #[arg(long)]
    end: Option<String>,
    /// Step of the experiment the snippet is for, in seconds (default: the data's spacing).
    #[arg(long)]
    dt: Option<f64>,
    /// Where to write the snippet (default: notebooks-output/fit/<file stem>-<model>.toml).
    #[arg(long)]
    out: Option<PathBuf>,
    /// GARCH: pin the long-run variance to the sample's (Engle and Mezrich 1996) instead of
    /// estimating it. Without this flag it is done only when the free fit is integrated.
    #[arg(long)]
    variance_targeting: bool,
    /// Bootstrap resamples for the Merton standard errors.
    #[arg(long, default_value_t = 200)]
    replicates: usize,
    /// GARCH: share of the window, at its end, held back from a second fit and used to
    /// check it (probability integral transform); 0 skips the check.
    #[arg(long, default_value_t = 0.2)]
    holdout: f64,
}

#[derive(Args, Debug)]
struct MergeArgs {
    /// Output folders of the shards (`backstop run --shard i/N --out DIR`).
    #[arg(required = true)]
    dirs: Vec<PathBuf>,
    /// Folder for the merged tables (may be one of the shard folders).
    #[arg(long)]
    out: PathBuf,
    /// Worker threads for the final assembly.
    #[arg(long)]
    threads: Option<usize>,
    /// Print nothing but errors.
    #[arg(long)]
    quiet: bool,
    /// Write tables only: no charts, no report.md.
    #[arg(long)]
    no_charts: bool,
}

fn load(args: &ExperimentArgs) -> Result<Experiment, String> {
    let overrides = Overrides {
        seeds: args.seeds,
        master_seed: args.master_seed,
    };
    let exp = Experiment::load(&args.file, overrides).map_err(|e| e.to_string())?;
    for w in exp.warnings() {
        eprintln!("warning: {}: {w}", args.file.display());
    }
    Ok(exp)
}

fn default_out(file: &Path) -> PathBuf {
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "experiment".into());
    PathBuf::from("notebooks-output").join(stem)
}

fn progress_bar(total: u64, quiet: bool) -> Result<ProgressBar, String> {
    let bar = ProgressBar::new(total);
    if quiet || !std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    } else {
        bar.set_style(
            ProgressStyle::with_template(
                "{elapsed_precise} [{bar:40}] {pos}/{len} runs, ETA {eta}",
            )
            .map_err(|e| e.to_string())?
            .progress_chars("=> "),
        );
    }
    Ok(bar)
}

fn pool(threads: Option<usize>) -> Result<rayon::ThreadPool, String> {
    if threads == Some(0) {
        return Err("--threads must be at least 1".into());
    }
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads.unwrap_or(0))
        .build()
        .map_err(|e| format!("cannot start worker threads: {e}"))
}

fn run(args: &RunArgs) -> Result<(), String> {
    let exp = load(&args.experiment)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| default_out(&args.experiment.file));
    let pool = pool(args.threads)?;
    let _lock = output::lock::FolderLock::acquire(&out).map_err(|e| e.to_string())?;
    let bar = progress_bar(exp.total_runs(), args.quiet)?;
    let started = Instant::now();
    let opts = RunOptions {
        audit_ledger: args.audit_ledger,
    };
    say_how_to_resume_on_interrupt(&out)?;
    let (reused, simulated) = (AtomicU64::new(0), AtomicU64::new(0));
    let progress = pool.install(|| {
        store::run_to_dir(
            &exp,
            &out,
            opts,
            args.shard,
            args.restart,
            &|n| {
                reused.fetch_add(n, Ordering::Relaxed);
                bar.inc(n)
            },
            &|| {
                simulated.fetch_add(1, Ordering::Relaxed);
                bar.inc(1)
            },
        )
    });
    bar.finish_and_clear();
    let progress = progress.map_err(|e| e.to_string())?;
    if !args.quiet {
        print!(
            "{}",
            what_was_run(reused.into_inner(), simulated.into_inner(), &out)
        );
    }
    let seconds = started.elapsed().as_secs_f64();
    finish(&exp, &out, progress, seconds, args.quiet, args.no_charts)
}

/// What a rerun did: nothing simulated when every unit was saved, or how many runs a resume
/// took from the folder. Empty for a first run.
fn what_was_run(reused: u64, simulated: u64, out: &Path) -> String {
    let parts = out.join(store::PARTS_DIR);
    match (reused, simulated) {
        (0, _) => String::new(),
        (r, 0) => format!(
            "all {r} runs were already saved in {}: nothing simulated, the tables are written again from them\n",
            parts.display()
        ),
        (r, s) => format!(
            "resumed: {r} runs were already saved in {}, {s} simulated now\n",
            parts.display()
        ),
    }
}

/// Ctrl-C (or a SIGTERM from a scheduler) stops the run where it is; every unit finished so
/// far is already saved (parts are written whole or not at all), so the message says how to
/// pick up from there. The folder's lock is a `flock`, released as the process exits.
fn say_how_to_resume_on_interrupt(out: &Path) -> Result<(), String> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])
        .map_err(|e| format!("cannot listen for Ctrl-C: {e}"))?;
    let parts = out.join(store::PARTS_DIR);
    std::thread::spawn(move || {
        if let Some(signal) = signals.forever().next() {
            eprintln!(
                "\ninterrupted: the units finished so far are saved in {}; run the same command again to resume (--restart starts over)",
                parts.display()
            );
            std::process::exit(128 + signal);
        }
    });
    Ok(())
}

/// After a run or a merge: check the ledger, draw the report, print the summary.
fn finish(
    exp: &Experiment,
    out: &Path,
    progress: Progress,
    seconds: f64,
    quiet: bool,
    no_charts: bool,
) -> Result<(), String> {
    let agg = match progress {
        Progress::Partial { done, total, .. } => {
            if !quiet {
                println!(
                    "{done} of {total} units of work saved in {}/{}; gather the other shards with `backstop merge`",
                    out.display(),
                    store::PARTS_DIR
                );
            }
            return Ok(());
        }
        Progress::Complete(agg) => agg,
    };
    // Money is conserved: a broken ledger is a bug, not a result.
    if let Some((c, s)) = exp
        .cells
        .iter()
        .zip(&agg.summaries)
        .find(|(_, s)| s.ledger_imbalance_max > LEDGER_TOLERANCE)
    {
        return Err(format!(
            "relative ledger imbalance {:e} in cell {}: money was not conserved (a bug; please report it)",
            s.ledger_imbalance_max, c.index
        ));
    }
    if let Some((c, column)) = agg.non_finite {
        return Err(format!(
            "a run of cell {} produced a non-finite `{column}` (a bug; please report it)",
            exp.cells[c].index
        ));
    }
    let report = if no_charts {
        None
    } else {
        Some(output::build_report(out).map_err(|e| e.to_string())?)
    };
    if !quiet {
        print!("{}", output::summary_text(exp, &agg, seconds));
        println!();
        print!(
            "{}",
            output::target_answer(exp, out).map_err(|e| e.to_string())?
        );
        println!();
        match &report {
            Some(r) => {
                for note in &r.notes {
                    println!("not drawn: {note}");
                }
                println!(
                    "Tables, charts and report written to {}/ (open {}/{})",
                    out.display(),
                    out.display(),
                    output::REPORT_FILE
                );
            }
            None => println!("Tables written to {}/", out.display()),
        }
    }
    Ok(())
}

/// `--target`: a daily probability or words, checked as `experiment.target` is.
fn parse_target(s: &str) -> Result<Target, String> {
    let spec = match s.trim().parse::<f64>() {
        Ok(p) => TargetSpec::Daily(p),
        Err(_) => TargetSpec::Words(s.to_string()),
    };
    Target::from_spec(&spec)
}

fn calibrate(args: &CalibrateArgs) -> Result<(), String> {
    let (exp, method) = load(&args.experiment)?
        .for_calibration(&args.experiment.file)
        .map_err(|e| e.to_string())?;
    let out = args.out.clone().unwrap_or_else(|| {
        let mut d = default_out(&args.experiment.file).into_os_string();
        d.push("-calibration");
        PathBuf::from(d)
    });
    let pool = pool(args.threads)?;
    let _lock = output::lock::FolderLock::acquire(&out).map_err(|e| e.to_string())?;
    let per_cell = match method {
        CalibrationMethod::RequiredCapital => by_required_capital(&exp, &out, args, &pool)?,
        CalibrationMethod::Bisection => by_bisection(&exp, &out, args, &pool)?,
    };
    let targets = if args.target.is_empty() {
        vec![exp.target.clone()]
    } else {
        args.target.clone()
    };
    for target in &targets {
        let cells = output::calibration::calibrate_cells(&exp, &per_cell, target.per_day())?;
        output::calibration::write_calibration(&out, &exp, &cells, target)
            .map_err(|e| e.to_string())?;
        if !args.quiet {
            print!("{}", output::calibration::calibration_text(&exp, &cells));
            let names = output::calibration::CalibrationFiles::of(target);
            println!(
                "\nWritten to {}/: {} ({}, {}, {})\n",
                out.display(),
                names.report,
                names.table_csv,
                names.curve_csv,
                names.chart
            );
        }
    }
    Ok(())
}

/// Calibration from one batch of runs with an inexhaustible fund: each run's required
/// capital is its own depletion threshold (MODEL.md section 5).
fn by_required_capital(
    exp: &Experiment,
    out: &Path,
    args: &CalibrateArgs,
    pool: &rayon::ThreadPool,
) -> Result<Vec<calibration::CellSamples>, String> {
    let bar = progress_bar(exp.total_runs(), args.quiet)?;
    let progress = pool.install(|| {
        store::run_to_dir(
            exp,
            out,
            RunOptions::default(),
            None,
            args.restart,
            &|n| bar.inc(n),
            &|| bar.inc(1),
        )
    });
    bar.finish_and_clear();
    let Progress::Complete(agg) = progress.map_err(|e| e.to_string())? else {
        return Err("the calibration runs did not complete".into());
    };
    refuse_broken_figures(&agg.summaries, agg.non_finite)?;
    output::calibration::samples_from_runs(exp, out).map_err(|e| e.to_string())
}

/// Money not conserved, or a figure that is not finite, in runs a command is about to read:
/// a bug, which it refuses to show.
fn refuse_broken_figures(
    summaries: &[crate::montecarlo::CellSummary],
    non_finite: Option<(usize, &'static str)>,
) -> Result<(), String> {
    if let Some(s) = summaries
        .iter()
        .find(|s| s.ledger_imbalance_max > LEDGER_TOLERANCE)
    {
        return Err(format!(
            "relative ledger imbalance {:e}: money was not conserved (a bug; please report it)",
            s.ledger_imbalance_max
        ));
    }
    if let Some((_, column)) = non_finite {
        return Err(format!(
            "a run produced a non-finite `{column}` (a bug; please report it)"
        ));
    }
    Ok(())
}

/// Calibration by bisection over the fund, seed by seed: for a capped fund, or Comet's target
/// reserves, where the run before depletion depends on the fund's size.
fn by_bisection(
    exp: &Experiment,
    out: &Path,
    args: &CalibrateArgs,
    pool: &rayon::ThreadPool,
) -> Result<Vec<calibration::CellSamples>, String> {
    if !args.quiet {
        println!(
            "The fund's size shapes the run before depletion (a fund cap, or Comet's target \
             reserves), so required capital cannot stand in for a sweep. Falling back to bisection over the fund, seed by seed \
             ({} simulations per seed).",
            calibration::BISECTION_STEPS + 3
        );
    }
    let bar = progress_bar(exp.total_runs(), args.quiet)?;
    let mut per_cell = Vec::with_capacity(exp.cells.len());
    for cell in &exp.cells {
        let cap = cell.scenario.fund_cap().unwrap_or(CALIBRATION_FUND);
        let samples = pool
            .install(|| {
                calibration::bisect_cell(
                    &cell.scenario,
                    exp.master_seed,
                    exp.seeds as u64,
                    cap,
                    &|| bar.inc(1),
                )
            })
            .map_err(|e| format!("{}: {e}", args.experiment.file.display()))?;
        per_cell.push(samples);
    }
    bar.finish_and_clear();
    std::fs::create_dir_all(out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    output::write_atomic(
        &out.join(output::EXPERIMENT_FILE),
        exp.to_resolved_toml().as_bytes(),
    )
    .map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    Ok(per_cell)
}

fn merge(args: &MergeArgs) -> Result<(), String> {
    let pool = pool(args.threads)?;
    let started = Instant::now();
    // merge_dirs takes the folder's lock once its sources are checked (a refused merge
    // writes nothing) and hands it over, held until the report is drawn.
    let bar = progress_bar(0, args.quiet)?;
    if !bar.is_hidden() {
        bar.set_style(
            ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {pos}/{len} parts gathered")
                .map_err(|e| e.to_string())?
                .progress_chars("=> "),
        );
    }
    let gathered = |done: u64, total: u64| {
        bar.set_length(total);
        bar.set_position(done);
    };
    let merged =
        pool.install(|| store::merge_dirs(&args.dirs, &args.out, RunOptions::default(), &gathered));
    bar.finish_and_clear();
    let (exp, progress, _lock) = merged.map_err(|e| e.to_string())?;
    finish(
        &exp,
        &args.out,
        progress,
        started.elapsed().as_secs_f64(),
        args.quiet,
        args.no_charts,
    )
}

fn report(dir: &Path) -> Result<(), String> {
    if !dir.is_dir() {
        return Err(format!("{}: no such output folder", dir.display()));
    }
    let _lock = output::lock::FolderLock::acquire(dir).map_err(|e| e.to_string())?;
    let r = output::build_report(dir).map_err(|e| e.to_string())?;
    for note in &r.notes {
        println!("not drawn: {note}");
    }
    println!(
        "{} files written; open {}",
        r.files.len(),
        dir.join(output::REPORT_FILE).display()
    );
    Ok(())
}

fn fit(args: &FitArgs) -> Result<(), String> {
    let file = args.file.display().to_string();
    let in_file = |e: String| format!("{file}: {e}");
    let time = |flag: &str, v: &Option<String>| -> Result<Option<i64>, String> {
        v.as_deref()
            .map(|s| {
                parse_time(s).ok_or_else(|| {
                    format!(
                        "{flag}: expected a date (YYYY-MM-DD[ HH:MM:SS]) or Unix seconds, got `{s}`"
                    )
                })
            })
            .transpose()
    };
    let (start, end) = (time("--start", &args.start)?, time("--end", &args.end)?);
    if let Some(dt) = args.dt
        && !(dt.is_finite() && dt > 0.0)
    {
        return Err(format!("--dt: expected seconds > 0, got {dt}"));
    }
    let series = load_price_csv(&args.file, &args.price_column, &args.time_column)
        .map_err(|e| e.rule.clone())?
        .window(start, end);
    if series.prices.len() < 2 {
        return Err(in_file("the window holds fewer than two prices".into()));
    }
    let returns = series.log_returns();
    let step = series.spacing as f64;
    let stamp = format_time;
    let data = fit::DataDescription {
        file: file.clone(),
        column: args.price_column.clone(),
        first: stamp(series.times[0]),
        last: stamp(series.times[series.times.len() - 1]),
    };
    let dt = args.dt.unwrap_or(step);
    // A GARCH fit on years of hourly data takes seconds: a spinner says it is at work.
    let spinner = ProgressBar::new_spinner();
    if std::io::stderr().is_terminal() {
        spinner.set_message(format!("fitting {} returns", returns.len()));
        spinner.enable_steady_tick(std::time::Duration::from_millis(120));
    } else {
        spinner.set_draw_target(ProgressDrawTarget::hidden());
    }
    let fitted = fit_model(args, &returns, step, dt, &data, &in_file);
    spinner.finish_and_clear();
    let (report, snippet, model_name) = fitted?;
    let out = args.out.clone().unwrap_or_else(|| {
        let stem = args
            .file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "data".into());
        PathBuf::from("notebooks-output/fit").join(format!("{stem}-{model_name}.toml"))
    });
    check_snippet(&snippet, dt, &out)?;
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    output::write_atomic(&out, snippet.as_bytes())
        .map_err(|e| format!("{}: {e}", out.display()))?;
    for note in &series.notes {
        println!("note: {note}");
    }
    print!("{report}");
    println!(
        "\nSnippet for experiments with dt_seconds = {dt} written to {}:\n",
        out.display()
    );
    print!("{snippet}");
    Ok(())
}

/// Fits the model `args` names: its report, its snippet and the model's short name.
fn fit_model(
    args: &FitArgs,
    returns: &[f64],
    step: f64,
    dt: f64,
    data: &fit::DataDescription,
    in_file: &dyn Fn(String) -> String,
) -> Result<(String, String, &'static str), String> {
    Ok(match args.model {
        FitModel::GarchT => {
            let fit_with = |long_run| {
                fit::fit_garch_t(returns, step, long_run).map_err(|e| in_file(e.to_string()))
            };
            let mut report = String::new();
            let mut f = fit_with(if args.variance_targeting {
                fit::LongRunVariance::Targeted
            } else {
                fit::LongRunVariance::Free
            })?;
            if f.is_integrated() && !args.variance_targeting {
                // No long-run vol to put in an experiment: keep the answer, then refit with
                // the long-run variance pinned to the sample's.
                report.push_str(&fit::garch_report(&f, data));
                report.push_str(
                    "\nThe free fit is integrated; refitting with variance targeting (the long-run\n\
                     vol set to the sample's) for the snippet:\n\n",
                );
                f = fit_with(fit::LongRunVariance::Targeted)?;
            }
            let at = f.at_step(dt).map_err(|e| e.to_string())?;
            report.push_str(&fit::garch_report(&f, data));
            report.push_str(&holdout_check(args, returns, step, f.long_run, in_file)?);
            (report, fit::garch_snippet(&f, &at, data), "garch-t")
        }
        FitModel::Bootstrap => {
            let b = fit::mean_block_length(returns).map_err(|e| in_file(e.to_string()))?;
            let path = std::fs::canonicalize(&args.file)
                .map_err(|e| format!("{}: {e}", args.file.display()))?;
            let source = fit::BarSource {
                path: path.display().to_string(),
                price_column: args.price_column.clone(),
                time_column: args.time_column.clone(),
                step_seconds: step,
            };
            (
                fit::bootstrap_report(&b, data, step),
                fit::bootstrap_snippet(&b, data, &source, dt),
                "bootstrap",
            )
        }
        FitModel::Merton => {
            let f = fit::fit_merton(returns, step, args.replicates)
                .map_err(|e| in_file(e.to_string()))?;
            (
                fit::merton_report(&f, data),
                fit::merton_snippet(&f, data),
                "merton",
            )
        }
    })
}

/// The GARCH fit checked on data it did not see: refitted on the window without its last
/// `--holdout` share, and the held-back returns sent through that fit's predictive CDFs.
fn holdout_check(
    args: &FitArgs,
    returns: &[f64],
    step: f64,
    long_run: fit::LongRunVariance,
    in_file: &dyn Fn(String) -> String,
) -> Result<String, String> {
    let share = args.holdout;
    if !(0.0..1.0).contains(&share) {
        return Err(format!(
            "--holdout: expected a share in [0, 1), got {share}"
        ));
    }
    if share == 0.0 {
        return Ok(String::new());
    }
    let cut = ((1.0 - share) * returns.len() as f64).round() as usize;
    let (seen, held) = returns.split_at(cut);
    if held.len() < 50 {
        return Ok(format!(
            "\nNo check on held-back data: the last {share} of the window holds {} returns (50 needed).\n",
            held.len()
        ));
    }
    let f = fit::fit_garch_t(seen, step, long_run).map_err(|e| in_file(e.to_string()))?;
    let u = fit::garch_pit_values(&f, seen, held).map_err(|e| in_file(e.to_string()))?;
    Ok(fit::pit_report(&fit::pit_test(&u), seen.len(), &f))
}

/// `fit` writes only what `validate` accepts: the snippet, in an experiment of one step of
/// `dt` seconds, goes through the same validation as any experiment file. A refused
/// snippet is an error naming the rule, and nothing is written.
fn check_snippet(snippet: &str, dt: f64, out: &Path) -> Result<(), String> {
    let text = format!("[experiment]\ndt_seconds = {dt:?}\nsteps = 1\nseeds = 1\n\n{snippet}");
    Experiment::parse(&text, out, Overrides::default())
        .map(|_| ())
        .map_err(|e| {
            let rule = match &e.field {
                Some(field) => format!("`{field}` {}", e.message),
                None => e.message.clone(),
            };
            format!(
                "the fitted snippet for --dt {dt} would be refused by `backstop validate`, so \
                 none is written: {rule}"
            )
        })
}

fn presets(name: Option<&str>) -> Result<(), String> {
    use crate::config::presets;
    match name {
        None => {
            let width = presets::names().iter().map(|n| n.len()).max().unwrap_or(0);
            for n in presets::names() {
                println!("{n:width$}  {}", presets::summary(n).unwrap_or_default());
            }
            println!(
                "\n`backstop presets NAME` prints one with its sources. An experiment names one with \
                 `preset = \"NAME\"`; each key it sets replaces the preset's, table by table; \
                 an array (margin tiers) is replaced whole."
            );
            Ok(())
        }
        Some(n) => match presets::text(n) {
            Some(text) => {
                print!("{text}");
                Ok(())
            }
            None => Err(format!(
                "`{n}` is not a venue preset; the presets are {}",
                presets::names().join(", ")
            )),
        },
    }
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    // Rust ignores SIGPIPE, so println! into a closed pipe panics; restore the default so
    // that `backstop validate x.toml | head -1` ends quietly, as Unix tools do.
    #[cfg(unix)]
    // SAFETY: set once, before any thread starts, to the default disposition.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Run(args) => run(args),
        Command::Report { dir } => report(dir),
        Command::Merge(args) => merge(args),
        Command::Calibrate(args) => calibrate(args),
        Command::Drivers(args) => drivers::drivers(args),
        Command::Fit(args) => fit(args),
        Command::Schema => {
            print!("{}", crate::config::schema::experiment_schema());
            Ok(())
        }
        Command::Presets { name } => presets(name.as_deref()),
        Command::Validate(args) => validate::validate(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reruns_say_what_they_did() {
        let out = Path::new("out");
        assert_eq!(what_was_run(0, 40, out), "");
        assert!(what_was_run(40, 0, out).starts_with("all 40 runs were already saved"));
        assert!(what_was_run(30, 10, out).starts_with("resumed: 30 runs"));
    }
}
