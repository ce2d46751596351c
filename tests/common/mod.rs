//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod mutate;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use backstop::config::{Experiment, Overrides};
use backstop::montecarlo::{ExperimentResult, run_experiment};
use backstop::protocol::LEDGER_TOLERANCE;
use backstop::simulation::{RunOptions, RunRow};

/// Every test run audits the ledger after every step.
pub const AUDIT: RunOptions = RunOptions { audit_ledger: true };

pub fn parse(toml: &str) -> Experiment {
    Experiment::parse(toml, Path::new("test.toml"), Overrides::default())
        .unwrap_or_else(|e| panic!("test experiment is invalid: {e}"))
}

/// Runs `exp` on a pool of `threads` threads with the ledger audited, and checks that the
/// ledger balanced in every run.
pub fn run(exp: &Experiment, threads: usize) -> ExperimentResult {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    let result = pool.install(|| run_experiment(exp, AUDIT, &|| {}));
    assert_ledger_balanced(&result.rows);
    result
}

/// Paired differences `b - a` of `f` over the same seeds (common random numbers): mean and
/// standard error.
pub fn paired(a: &[RunRow], b: &[RunRow], f: fn(&RunRow) -> f64) -> (f64, f64) {
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| f(y) - f(x)).collect();
    let n = d.len() as f64;
    let mean = d.iter().sum::<f64>() / n;
    let var = d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, (var / n).sqrt())
}

pub fn assert_ledger_balanced(rows: &[RunRow]) {
    for r in rows {
        assert!(
            r.ledger_imbalance <= LEDGER_TOLERANCE,
            "seed {}: relative ledger imbalance {:e}",
            r.seed,
            r.ledger_imbalance
        );
    }
}

/// A fat-tailed, volatile index: GARCH(1,1) at 120% long-run vol with Student-t(3) shocks.
/// The stressed venues of the tests share it.
pub const STRESSED_MODEL: &str = r#"[market.model]
kind = "garch"
long_run_vol = 1.2
alpha = 0.1
beta = 0.85
shocks = { kind = "student_t", nu = 3.0 }
"#;

/// A stressed market where deficits, depletion and ADL happen often: high leverage, thin book,
/// fat tails, no penalty income.
pub fn stressed(seeds: u32, fund: f64, extra: &str) -> String {
    format!(
        r#"
[experiment]
seeds = {seeds}
master_seed = 99
steps = 720

{STRESSED_MODEL}
[market.mark]
rule = "book"

[market.book]
kind = "linear"
depth_usd = 2e6

[traders]
count = 300
leverage = {{ kind = "log_uniform", min = 5.0, max = 100.0 }}

[margin]
imr = 0.01
mmr = 0.005

[liquidation]
penalty_rate = 0.0

[fund]
initial = {fund:?}
{extra}
"#
    )
}

/// The `backstop` binary under test, as a user runs it.
pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_backstop"))
}

pub fn backstop(args: &[&str]) -> Output {
    bin().args(args).output().expect("the binary runs")
}

/// A fresh, empty folder under the system's temporary directory, unique to this process.
/// The first call of a process removes the folders that test processes which have ended left
/// behind (the harness has no teardown, and a failed test's files are worth keeping until
/// the next run).
pub fn temp_dir(name: &str) -> PathBuf {
    static SWEEP: std::sync::Once = std::sync::Once::new();
    SWEEP.call_once(sweep_ended_processes);
    let d = std::env::temp_dir().join(format!("backstop-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Removes `backstop-test-<pid>-*` folders whose process has ended (where `/proc` says which
/// processes live; elsewhere nothing is removed).
fn sweep_ended_processes() {
    let proc = Path::new("/proc");
    if !proc.join("self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix("backstop-test-"))
            .and_then(|rest| rest.split('-').next())
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if pid != std::process::id() && !proc.join(pid.to_string()).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

pub fn read_parquet(path: &Path) -> polars::prelude::DataFrame {
    use polars::prelude::*;
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    ParquetReader::new(file).finish().unwrap()
}

/// A numeric column as f64 values (nulls fail the test).
pub fn f64_column(df: &polars::prelude::DataFrame, name: &str) -> Vec<f64> {
    use polars::prelude::*;
    df.column(name)
        .unwrap()
        .cast(&DataType::Float64)
        .unwrap()
        .f64()
        .unwrap()
        .iter()
        .map(|v| v.expect("no nulls"))
        .collect()
}

/// Runs the experiment file `file` into `out` like a user, tables only (`--quiet
/// --no-charts` plus `extra`), and fails the test if the run fails.
pub fn run_tables(file: &Path, out: &Path, extra: &[&str]) {
    let mut args = vec![
        "run",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
        "--no-charts",
    ];
    args.extend_from_slice(extra);
    let o = backstop(&args);
    assert!(
        o.status.success(),
        "{}: {}",
        file.display(),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Runs the experiment file `file` into `out` (tables only) and returns each cell's depletion
/// probability from `summary.parquet`.
pub fn depletion_by_cell(file: &Path, out: &Path) -> Vec<f64> {
    run_tables(file, out, &[]);
    f64_column(
        &read_parquet(&out.join("summary.parquet")),
        "depletion_probability",
    )
}

/// SplitMix64 (Steele, Lea, Flood 2014): the property tests' own tiny generator, so that
/// the cases they try come from a fixed seed whatever the crate's samplers do.
pub struct Mix(pub u64);

impl Mix {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform on `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// Uniform on `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}
