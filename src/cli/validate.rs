//! `backstop validate FILE`: the file checked, then how big its run is and about how long it
//! will take on this machine (issue 34, item 16), timed from a few runs of the headline cell
//! rather than guessed from a constant, since machines this project runs on differ by a
//! factor of two.

use std::fmt::Write as _;
use std::time::Instant;

use super::{ExperimentArgs, load};
use crate::config::{BYTES_PER_TRADER, Experiment};
use crate::montecarlo::run_experiment;
use crate::output::rows_frame;
use crate::simulation::RunOptions;

/// The first batch of runs of the headline cell the estimate is timed from; batches grow
/// fourfold until one takes [`PILOT_SECONDS`] (or holds every seed), so that the pool's
/// start and a run's first allocations do not count as the run's cost.
const PILOT_RUNS: u32 = 16;
const PILOT_SECONDS: f64 = 0.25;

pub(super) fn validate(args: &ExperimentArgs) -> Result<(), String> {
    let exp = load(args)?;
    println!(
        "{}: valid; {} cell{} x {} seeds = {} runs",
        args.file.display(),
        exp.cells.len(),
        if exp.cells.len() == 1 { "" } else { "s" },
        exp.seeds,
        exp.total_runs()
    );
    print!("{}", size_text(&exp));
    println!("{}", time_text(&exp));
    Ok(())
}

/// Steps and accounts per run, the memory a run holds, and the tables' size.
fn size_text(exp: &Experiment) -> String {
    let steps = exp
        .cells
        .iter()
        .map(|c| c.scenario.steps())
        .max()
        .unwrap_or(0);
    let accounts = exp
        .cells
        .iter()
        .map(|c| {
            c.scenario
                .markets()
                .iter()
                .map(|m| u64::from(m.accounts()))
                .sum::<u64>()
        })
        .max()
        .unwrap_or(0);
    let markets = exp.cells.first().map_or(1, |c| c.scenario.markets().len()) as u64;
    // A row is a few dozen scalars of 8 bytes: `runs.parquet` holds one per run and
    // `runs_by_market.parquet` one per run and market, before Parquet's compression.
    let columns = rows_frame(exp, 0, &[]).map_or(64, |f| f.width()) as u64;
    let table_bytes = exp.total_runs() * (1 + markets) * columns * 8;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "size: up to {steps} steps and {accounts} accounts a run; a run holds about {} ({} bytes an account), one per thread at once; its tables take up to about {} before compression (a row of {columns} figures per run{})",
        bytes(accounts as f64 * BYTES_PER_TRADER),
        BYTES_PER_TRADER,
        bytes(table_bytes as f64),
        if markets > 1 {
            ", and one per run and market"
        } else {
            ""
        }
    );
    s
}

/// About how long the whole experiment takes here, from a few timed runs of the headline
/// cell on every thread.
fn time_text(exp: &Experiment) -> String {
    let mut pilot = exp.clone();
    let h = exp.headline_cell();
    pilot.cells = vec![exp.cells[h].clone()];
    pilot.cells[0].index = 0;
    pilot.seeds = exp.seeds.min(PILOT_RUNS);
    let threads = rayon::current_num_threads();
    let per_run = loop {
        let start = Instant::now();
        let result = run_experiment(&pilot, RunOptions::default(), &|| {});
        let seconds = start.elapsed().as_secs_f64();
        if let Some((_, f)) = result.failure {
            return format!(
                "time: not estimated: a trial run of the headline cell failed (seed {}: {})",
                f.seed, f.what
            );
        }
        if seconds >= PILOT_SECONDS || pilot.seeds >= exp.seeds {
            break seconds / f64::from(pilot.seeds);
        }
        pilot.seeds = exp.seeds.min(pilot.seeds.saturating_mul(4));
    };
    let total = per_run * exp.total_runs() as f64;
    format!(
        "time: about {} on this machine's {threads} thread{} ({} runs a second), timed from {} runs of the headline cell; cells with more steps or accounts take longer",
        duration(total),
        if threads == 1 { "" } else { "s" },
        rate(1.0 / per_run.max(1e-12)),
        pilot.seeds
    )
}

/// `812 B`, `45.6 kB`, `1.2 MB`, `3.4 GB`.
fn bytes(x: f64) -> String {
    match x {
        x if x >= 1e9 => format!("{:.1} GB", x / 1e9),
        x if x >= 1e6 => format!("{:.1} MB", x / 1e6),
        x if x >= 1e3 => format!("{:.1} kB", x / 1e3),
        x => format!("{x:.0} B"),
    }
}

/// `0.4 s`, `12 s`, `3.5 min`, `2.1 h`, `3.0 days`.
fn duration(s: f64) -> String {
    match s {
        s if s >= 2.0 * 86_400.0 => format!("{:.1} days", s / 86_400.0),
        s if s >= 2.0 * 3_600.0 => format!("{:.1} h", s / 3_600.0),
        s if s >= 120.0 => format!("{:.1} min", s / 60.0),
        s if s >= 10.0 => format!("{s:.0} s"),
        s => format!("{s:.1} s"),
    }
}

/// Runs a second, to two or three figures.
fn rate(r: f64) -> String {
    if r >= 100.0 {
        format!("{r:.0}")
    } else {
        format!("{r:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_durations_read_at_a_glance() {
        assert_eq!(bytes(812.0), "812 B");
        assert_eq!(bytes(45_600.0), "45.6 kB");
        assert_eq!(bytes(3.4e9), "3.4 GB");
        assert_eq!(duration(0.42), "0.4 s");
        assert_eq!(duration(12.3), "12 s");
        assert_eq!(duration(210.0), "3.5 min");
        assert_eq!(duration(7_560.0), "2.1 h");
        assert_eq!(duration(259_200.0), "3.0 days");
    }
}
