//! `backstop drivers DIR`: each driving assumption of a finished run moved alone, on the
//! run's own seeds, and the report rebuilt with what it does to the fund.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use clap::Args;

use super::{pool, progress_bar, refuse_broken_figures};
use crate::config::drivers::Drivers;
use crate::config::{Experiment, Overrides};
use crate::montecarlo::run_experiment;
use crate::output::drivers::{AS_WRITTEN, DRIVERS_CSV, DriverRow, DriversTable, write_drivers};
use crate::output::{self, EXPERIMENT_FILE, format_money, format_pct, signed_money};
use crate::simulation::RunOptions;

#[derive(Args, Debug)]
pub(super) struct DriversArgs {
    /// Output folder of `backstop run`: its experiment is the one moved, and its report
    /// gains the section.
    dir: PathBuf,
    /// Runs per variant (default: the run's own seeds).
    #[arg(long)]
    seeds: Option<u64>,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long)]
    threads: Option<usize>,
    /// Print nothing but errors; no progress bar.
    #[arg(long)]
    quiet: bool,
}

pub(super) fn drivers(args: &DriversArgs) -> Result<(), String> {
    let dir = &args.dir;
    let exp_path = dir.join(EXPERIMENT_FILE);
    if !exp_path.is_file() {
        return Err(format!(
            "{}: no experiment.toml here; run the experiment first (`backstop run FILE --out {}`)",
            dir.display(),
            dir.display()
        ));
    }
    let exp = Experiment::load(&exp_path, Overrides::default()).map_err(|e| e.to_string())?;
    let set = Drivers::of(&exp, &exp_path, args.seeds).map_err(|e| e.to_string())?;
    let pool = pool(args.threads)?;
    let _lock = output::lock::FolderLock::acquire(dir).map_err(|e| e.to_string())?;
    let total = set.variants.iter().map(|v| v.experiment.total_runs()).sum();
    let bar = progress_bar(total, args.quiet)?;
    let fund = exp.cells[exp.headline_cell()].scenario.fund_initial();
    let mut rows = Vec::with_capacity(set.variants.len());
    for v in &set.variants {
        let name = if v.driver.is_empty() {
            "the scenario as written".to_string()
        } else {
            format!("`{}: {}`", v.driver, v.variant)
        };
        let result =
            pool.install(|| run_experiment(&v.experiment, RunOptions::default(), &|| bar.inc(1)));
        if let Some((_, failure)) = &result.failure {
            return Err(format!("{name}: seed {}: {}", failure.seed, failure.what));
        }
        refuse_broken_figures(&result.summaries, result.non_finite)
            .map_err(|e| format!("{name}: {e}"))?;
        let (driver, variant) = if v.driver.is_empty() {
            (AS_WRITTEN, "")
        } else {
            (v.driver, v.variant.as_str())
        };
        let row = DriverRow::of(driver, variant, &result.rows, &exp.target, fund)
            .ok_or_else(|| format!("{name}: no runs"))?;
        rows.push(row);
    }
    bar.finish_and_clear();
    let table = DriversTable {
        rows,
        left_out: set
            .left_out
            .into_iter()
            .map(|(d, why)| (d.to_string(), why))
            .collect(),
    };
    write_drivers(dir, &table).map_err(|e| e.to_string())?;
    let report = dir.join(output::REPORT_FILE).is_file();
    if report {
        output::build_report(dir).map_err(|e| e.to_string())?;
    }
    if !args.quiet {
        print!("{}", drivers_text(&exp, &table));
        println!(
            "\nWritten to {}/{DRIVERS_CSV}{}",
            dir.display(),
            if report {
                format!(" and the report's section (open {})", report_path(dir))
            } else {
                String::new()
            }
        );
    }
    Ok(())
}

fn report_path(dir: &Path) -> String {
    dir.join(output::REPORT_FILE).display().to_string()
}

/// The console table: each variant's need and its change from the scenario as written.
fn drivers_text(exp: &Experiment, table: &DriversTable) -> String {
    let mut s = String::new();
    let Some(base) = table.base() else {
        return s;
    };
    let _ = writeln!(
        s,
        "Fund that keeps P(depletion) under {} ({} runs per variant, common seeds)\n",
        exp.target, base.runs
    );
    let _ = writeln!(
        s,
        "{:<18}  {:<12}  {:>12}  {:>12}  {:>12}  P(depletion) at {}",
        "assumption",
        "set to",
        "fund needed",
        "95% bound",
        "change",
        format_money(exp.cells[exp.headline_cell()].scenario.fund_initial())
    );
    for r in &table.rows {
        let driver = r.driver.as_str();
        let change = if r.is_base() {
            String::new()
        } else {
            signed_money(r.fund_needed - base.fund_needed)
        };
        let _ = writeln!(
            s,
            "{driver:<18}  {:<12}  {:>12}  {:>12}  {change:>12}  {}",
            r.variant,
            format_money(r.fund_needed),
            r.fund_needed_ub95.map_or("n/a".into(), format_money),
            format_pct(r.depletion_at_fund)
        );
    }
    for (driver, why) in &table.left_out {
        let _ = writeln!(s, "left out: {driver}: {why}");
    }
    s
}
