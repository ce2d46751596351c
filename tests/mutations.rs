//! Property test: the curated experiments, each with one numeric field set to a hostile value
//! (zero, negatives, the ends of f64, subnormals, infinities, NaN, the ends of i64, strings,
//! booleans, arrays), never make backstop panic: each mutated file is refused with a message
//! that points at what is wrong, or it runs with finite figures and a balanced ledger (or
//! stops as an error that says why, writing nothing).
//!
//! The mutations come from a fixed seed, so every CI run tries the same files; see
//! `MUTATIONS_PER_FILE`. Runs use 2 seeds; an accepted file with more than `MAX_RUN_STEPS`
//! steps is validated but not run, to keep the test near a minute.

mod common;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use backstop::config::{Experiment, Overrides};
use backstop::montecarlo::run_experiment;
use backstop::simulation::RunOptions;
use common::Mix;

const MUTATIONS_PER_FILE: usize = 200;
const MAX_RUN_STEPS: u64 = 20_000;
const SEED: u64 = 20261202;

fn hostile_values() -> Vec<toml::Value> {
    use toml::Value::{Array, Boolean, Float, Integer, String};
    vec![
        Integer(0),
        Integer(-1),
        Float(1e308),
        Float(-1e308),
        Float(1e-308),
        Float(5e-324),
        Float(f64::INFINITY),
        Float(f64::NEG_INFINITY),
        Float(f64::NAN),
        Float(1e30),
        Float(-1e30),
        Integer(i64::MAX),
        Integer(i64::MIN),
        Float(0.5),
        Float(1e-12),
        String("x".into()),
        Boolean(true),
        Array(vec![]),
    ]
}

/// A path to a leaf: table keys and array indices.
#[derive(Clone, Debug)]
enum Step {
    Key(String),
    Index(usize),
}

fn numeric_leaves(v: &toml::Value, at: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    match v {
        toml::Value::Table(t) => {
            for (k, x) in t {
                at.push(Step::Key(k.clone()));
                numeric_leaves(x, at, out);
                at.pop();
            }
        }
        toml::Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                at.push(Step::Index(i));
                numeric_leaves(x, at, out);
                at.pop();
            }
        }
        toml::Value::Integer(_) | toml::Value::Float(_) => out.push(at.clone()),
        _ => {}
    }
}

/// `traders.mix[2].strategy.decisions_per_hour`: the path as refusals name it.
fn dotted(path: &[Step]) -> String {
    let mut out = String::new();
    for s in path {
        match s {
            Step::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                if k.contains('.') {
                    out.push_str(&format!("\"{k}\""));
                } else {
                    out.push_str(k);
                }
            }
            Step::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// Whether a refusal blaming `field` points at the mutated `leaf`: the leaf itself, a table
/// or array that holds it (a value that no variant of a tagged table accepts is blamed on
/// the table), or a field of the same table (rules that tie two fields, `min < max`).
///
/// A value in a grid axis may also be blamed on the field it sets (`traders.mix[0].share`
/// for `grid."traders.mix.0.share"[1]`) or on a table above that field (the shares of a
/// mix must sum to 1).
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
    near(leaf)
        || (leaf.starts_with("grid") && field.starts_with(&format!("{grid_table}.\"")))
        || set_by_grid
            .is_some_and(|axis| axis == field_dots || axis.starts_with(&format!("{field_dots}.")))
}

fn set(v: &mut toml::Value, path: &[Step], to: toml::Value) {
    let mut here = v;
    for s in path {
        here = match s {
            Step::Key(k) => here.get_mut(k.as_str()).unwrap(),
            Step::Index(i) => here.get_mut(*i).unwrap(),
        };
    }
    *here = to;
}

fn curated() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir("experiments")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
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
    let mut rng = Mix(SEED);
    let values = hostile_values();
    let mut tally = Tally::default();
    let mut failures = Vec::new();
    for file in curated() {
        let text = std::fs::read_to_string(&file).unwrap();
        let base: toml::Value = toml::from_str(&text).unwrap();
        let mut leaves = Vec::new();
        numeric_leaves(&base, &mut Vec::new(), &mut leaves);
        for _ in 0..MUTATIONS_PER_FILE {
            let path = &leaves[rng.below(leaves.len())];
            let value = values[rng.below(values.len())].clone();
            let mut mutated = base.clone();
            set(&mut mutated, path, value.clone());
            let mutated = toml::to_string(&mutated).unwrap();
            let case = format!("{}: {path:?} = {value}", file.display());
            match check(&mutated, &file, &dotted(path)) {
                Ok(outcome) => match outcome {
                    Outcome::Refused => tally.refused += 1,
                    Outcome::Ran => tally.ran += 1,
                    Outcome::Stopped => {
                        println!("stopped as an error: {case}");
                        tally.stopped += 1
                    }
                    Outcome::ValidatedOnly => tally.validated_only += 1,
                },
                Err(why) => failures.push(format!("{case}: {why}")),
            }
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
