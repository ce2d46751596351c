//! The command line: `backstop run FILE` and `backstop validate FILE`.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::config::{Experiment, Overrides};
use crate::montecarlo::run_experiment;
use crate::output;
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
    /// Check an experiment file without running it.
    Validate(ExperimentArgs),
    /// Rebuild the charts and report.md of an earlier run from its tables, without simulating.
    Report {
        /// Output folder of `backstop run`.
        dir: PathBuf,
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
}

fn load(args: &ExperimentArgs) -> Result<Experiment, String> {
    let overrides = Overrides {
        seeds: args.seeds,
        master_seed: args.master_seed,
    };
    Experiment::load(&args.file, overrides).map_err(|e| e.to_string())
}

fn default_out(file: &Path) -> PathBuf {
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "experiment".into());
    PathBuf::from("notebooks-output").join(stem)
}

fn run(args: &RunArgs) -> Result<(), String> {
    let exp = load(&args.experiment)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| default_out(&args.experiment.file));
    if args.threads == Some(0) {
        return Err("--threads must be at least 1".into());
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads.unwrap_or(0))
        .build()
        .map_err(|e| format!("cannot start worker threads: {e}"))?;

    let bar = ProgressBar::new(exp.total_runs());
    if args.quiet || !std::io::stderr().is_terminal() {
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
    let started = Instant::now();
    let opts = RunOptions {
        audit_ledger: args.audit_ledger,
    };
    let result = pool.install(|| run_experiment(&exp, opts, &|| bar.inc(1)));
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();

    // Money is conserved: a broken ledger is a bug, not a result.
    if let Some((c, s)) = exp
        .cells
        .iter()
        .zip(&result.summaries)
        .find(|(_, s)| s.ledger_imbalance_max > LEDGER_TOLERANCE)
    {
        return Err(format!(
            "relative ledger imbalance {:e} in cell {}: money was not conserved (a bug; please report it)",
            s.ledger_imbalance_max, c.index
        ));
    }

    output::write_all(&out, &exp, &result).map_err(|e| e.to_string())?;
    let report = if args.no_charts {
        None
    } else {
        Some(output::build_report(&out).map_err(|e| e.to_string())?)
    };
    if !args.quiet {
        print!("{}", output::summary_text(&exp, &result, seconds));
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

fn report(dir: &Path) -> Result<(), String> {
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

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Run(args) => run(args),
        Command::Report { dir } => report(dir),
        Command::Validate(args) => load(args).map(|exp| {
            println!(
                "{}: valid; {} cell{} x {} seeds = {} runs",
                args.file.display(),
                exp.cells.len(),
                if exp.cells.len() == 1 { "" } else { "s" },
                exp.seeds,
                exp.total_runs()
            );
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}
