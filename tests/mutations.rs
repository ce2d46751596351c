//! Property test: the curated experiments, each with one numeric field set to a hostile value
//! (zero, negatives, the ends of f64, subnormals, infinities, NaN, the ends of i64, strings,
//! booleans, arrays), never make backstop panic: each mutated file is refused with a message
//! that points at what is wrong, or it runs with finite figures and a balanced ledger (or
//! stops as an error that says why, writing nothing).
//!
//! The mutations come from a fixed seed (`tests/common/mutate.rs`, shared with
//! `tests/schema.rs`), so every CI run tries the same files; see `MUTATIONS_PER_FILE`.
//! Runs use 2 seeds; an accepted file with more than `MAX_RUN_STEPS` steps is validated but
//! not run, to keep the test near a minute.

mod common;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use backstop::config::{Experiment, Overrides};
use backstop::montecarlo::run_experiment;
use backstop::simulation::RunOptions;
use common::mutate::mutations;

const MAX_RUN_STEPS: u64 = 20_000;

/// Whether a refusal blaming `field` points at the mutated `leaf`: the leaf itself, a table
/// or array that holds it (a value that no variant of a tagged table accepts is blamed on
/// the table), or a field of the same table (rules that tie two fields, `min < max`).
///
/// A value in a grid axis may also be blamed on the field it sets (`traders.mix[0].share`
/// for `grid."traders.mix.0.share"[1]`), on a table above that field (the shares of a
/// mix must sum to 1) or on a field of the same table.
fn points_at(field: &str, leaf: &str) -> bool {
    let parent = |p: &str| {
        p.rfind(['.', '['])
            .map_or(String::new(), |k| p[..k].to_string())
    };
    let near = |leaf: &str| {
        leaf == field
            || leaf.starts_with(&format!("{field}."))
            || leaf.starts_with(&format!("{field}["))
            || parent(field) == parent(leaf)
    };
    let set_by_grid = leaf
        .starts_with("grid")
        .then(|| leaf.split('"').nth(1))
        .flatten()
        .map(|axis| axis.replace('[', ".").replace(']', ""));
    let field_dots = field.replace('[', ".").replace(']', "");
    // A range's ends are blamed on the values they make, and a rule that ties the axes of
    // one zip group on any of them.
    let grid_table = leaf.split(".\"").next().unwrap_or(leaf);
    // A value an axis sets may break a rule that ties it to another field of its table
    // (`ltv <= liquidation_threshold`), blamed on either, as for a leaf outside the grid.
    near(leaf)
        || (leaf.starts_with("grid") && field.starts_with(&format!("{grid_table}.\"")))
        || set_by_grid.is_some_and(|axis| {
            axis == field_dots
                || axis.starts_with(&format!("{field_dots}."))
                || parent(&axis) == parent(&field_dots)
        })
}

/// What one mutated file did.
#[derive(Debug, Default)]
struct Tally {
    refused: usize,
    ran: usize,
    stopped: usize,
    validated_only: usize,
}

#[test]
fn mutated_experiments_are_refused_or_run_finite() {
    let mut tally = Tally::default();
    let mut failures = Vec::new();
    for m in mutations() {
        match check(&m.text(), &m.file, &m.leaf) {
            Ok(outcome) => match outcome {
                Outcome::Refused => tally.refused += 1,
                Outcome::Ran => tally.ran += 1,
                Outcome::Stopped => {
                    println!("stopped as an error: {}", m.case());
                    tally.stopped += 1
                }
                Outcome::ValidatedOnly => tally.validated_only += 1,
            },
            Err(why) => failures.push(format!("{}: {why}", m.case())),
        }
    }
    println!("{tally:?}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The mutations reach both sides: some files are refused and some run.
    assert!(tally.refused > 0 && tally.ran > 0, "{tally:?}");
}

enum Outcome {
    Refused,
    Ran,
    Stopped,
    ValidatedOnly,
}

/// Validates `text` as if it were `file` (so its data paths resolve), and runs it on 2 seeds
/// when valid. `Err` for a panic, a refusal that says nothing of where, or a bad result.
fn check(text: &str, file: &Path, leaf: &str) -> Result<Outcome, String> {
    let overrides = Overrides {
        seeds: Some(2),
        master_seed: None,
    };
    let parsed = catch_unwind(AssertUnwindSafe(|| {
        Experiment::parse(text, file, overrides)
    }))
    .map_err(|_| "validation panicked".to_string())?;
    let exp = match parsed {
        Err(e) => {
            // A refusal names the dotted field that is wrong, whatever its kind of error.
            let message = e.to_string();
            return match &e.field {
                Some(field) if points_at(field, leaf) => Ok(Outcome::Refused),
                Some(field) => Err(format!("refused, blaming `{field}`: {message}")),
                None => Err(format!("refused without naming a field: {message}")),
            };
        }
        Ok(exp) => exp,
    };
    if exp.cells.iter().any(|c| c.scenario.steps() > MAX_RUN_STEPS) {
        return Ok(Outcome::ValidatedOnly);
    }
    let result = catch_unwind(AssertUnwindSafe(|| {
        run_experiment(&exp, RunOptions { audit_ledger: true }, &|| {})
    }))
    .map_err(|_| "the run panicked".to_string())?;
    if result.failure.is_some() {
        // Stopped as an error naming seed and cause: the CLI writes no table for it.
        return Ok(Outcome::Stopped);
    }
    if let Some((cell, column)) = result.non_finite {
        return Err(format!("cell {cell}: `{column}` is not finite"));
    }
    common::assert_ledger_balanced(&result.rows);
    Ok(Outcome::Ran)
}
