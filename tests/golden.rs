//! Performance work must not change a single result: every column of every run of a few
//! reference scenarios is compared, bit for bit, with a file written by the simulator before
//! the optimization (`tests/golden/*.txt`).
//!
//! When a change is meant to alter results (a model change, not a speed-up), rewrite the files
//! with `BACKSTOP_BLESS=1 cargo test --release --test golden` and say why in the commit.

mod common;

use std::fmt::Write;
use std::path::Path;

use backstop::config::{Experiment, Overrides};
use backstop::simulation::{ColumnSink, MarketRow, RunRow};
use common::run;

/// Writes each column as `name: v1 v2 ...`, floats in their exact round-trip form.
#[derive(Default)]
struct Text(String);

impl Text {
    fn line<T: std::fmt::Debug>(&mut self, name: &str, values: &[T]) {
        let _ = write!(self.0, "{name}:");
        for v in values {
            let _ = write!(self.0, " {v:?}");
        }
        self.0.push('\n');
    }
}

impl ColumnSink for Text {
    fn f64(&mut self, name: &'static str, values: Vec<f64>) {
        self.line(name, &values);
    }
    fn opt_f64(&mut self, name: &'static str, values: Vec<Option<f64>>) {
        self.line(name, &values);
    }
    fn u32(&mut self, name: &'static str, values: Vec<u32>) {
        self.line(name, &values);
    }
    fn opt_u32(&mut self, name: &'static str, values: Vec<Option<u32>>) {
        self.line(name, &values);
    }
    fn bool(&mut self, name: &'static str, values: Vec<bool>) {
        self.line(name, &values);
    }
}

/// Runs `experiment_file` with `seeds` seeds and compares every column of its runs with
/// `tests/golden/{name}.txt`, and every column of its markets' rows with
/// `tests/golden/{name}.markets.txt`.
fn check(name: &str, experiment_file: &str, seeds: u32) {
    let exp = Experiment::load(
        Path::new(experiment_file),
        Overrides {
            seeds: Some(seeds.into()),
            master_seed: None,
        },
    )
    .unwrap();
    let result = run(&exp, 2);
    let mut runs = Text::default();
    RunRow::emit_columns(&result.rows, &mut runs);
    compare(&format!("{name}.txt"), &runs.0);
    let mut markets = Text::default();
    MarketRow::emit_columns(&result.market_rows, &mut markets);
    compare(&format!("{name}.markets.txt"), &markets.0);
}

fn compare(file: &str, got: &str) {
    let path = Path::new("tests/golden").join(file);
    if std::env::var_os("BACKSTOP_BLESS").is_some() {
        std::fs::write(&path, got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap();
    for (got, want) in got.lines().zip(want.lines()) {
        assert_eq!(got, want, "{file}: a result changed");
    }
    assert_eq!(got.lines().count(), want.lines().count(), "{file}: columns");
}

#[test]
fn r1_is_unchanged() {
    check("r1", "experiments/r1.toml", 40);
}

#[test]
fn r2_is_unchanged() {
    check("r2", "experiments/r2-agents.toml", 24);
}

#[test]
fn several_markets_are_unchanged() {
    check("multi-market", "experiments/multi-market.toml", 12);
}

#[test]
fn keepers_and_panic_are_unchanged() {
    check("keepers", "experiments/keepers.toml", 6);
    check("contagion", "experiments/contagion.toml", 6);
}

/// Engine-mode paths the curated experiments leave out: the engine's delay line, partial
/// closes, revenue into a capped fund, isolated funds of two markets, and every rule for a
/// deficit the fund cannot cover.
#[test]
fn engine_variants_are_unchanged() {
    check("engine-variants", "tests/golden/engine-variants.toml", 8);
}

/// Keepers across two markets sharing a fund, with re-entries and margin defenders.
#[test]
fn keepers_across_markets_are_unchanged() {
    check("keepers-markets", "tests/golden/keepers-markets.toml", 6);
}
