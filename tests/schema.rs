//! The editor schema (`backstop schema`) against the validator.
//!
//! * The committed `experiments/backstop.schema.json` is what `backstop schema` prints, and
//!   every curated experiment points at it with a `#:schema` line and validates against it.
//! * The schema never refuses a file the validator accepts: over the mutation corpus of
//!   `tests/mutations.rs` (2,400 files), whatever `backstop validate` takes, the schema takes.
//! * For the rules a schema can express, it refuses what the validator refuses: a number of
//!   the wrong type, and a field outside its own range (the validator's single-field rules,
//!   `must be > 0`, `must be in [0, 1]`, ...), blamed on the mutated field itself.

mod common;

use std::path::Path;
use std::process::Command;

use backstop::config::{Experiment, Overrides};
use common::mutate::{curated, mutations};
use serde_json::Value;

fn schema() -> Value {
    serde_json::from_str(&std::fs::read_to_string("experiments/backstop.schema.json").unwrap())
        .unwrap()
}

fn validator() -> jsonschema::Validator {
    jsonschema::draft202012::new(&schema()).expect("the schema is a valid draft 2020-12 schema")
}

/// An experiment file as the JSON a TOML language server checks (non-finite floats, which
/// JSON lacks, become null and fail every numeric field).
fn as_json(toml: &toml::Value) -> Value {
    serde_json::to_value(toml).unwrap()
}

fn schema_errors(v: &jsonschema::Validator, toml: &toml::Value) -> Vec<String> {
    v.iter_errors(&as_json(toml))
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

#[test]
fn the_committed_schema_is_what_backstop_schema_prints() {
    let out = Command::new(env!("CARGO_BIN_EXE_backstop"))
        .arg("schema")
        .output()
        .unwrap();
    assert!(out.status.success());
    let committed = std::fs::read_to_string("experiments/backstop.schema.json").unwrap();
    assert!(
        String::from_utf8(out.stdout).unwrap() == committed,
        "experiments/backstop.schema.json is stale: \
         `cargo run --release -- schema > experiments/backstop.schema.json`"
    );
}

#[test]
fn curated_experiments_point_at_the_schema_and_meet_it() {
    let v = validator();
    for file in curated() {
        let text = std::fs::read_to_string(&file).unwrap();
        assert_eq!(
            text.lines().next(),
            Some("#:schema ./backstop.schema.json"),
            "{}: the first line names the schema for editors",
            file.display()
        );
        let errors = schema_errors(&v, &toml::from_str(&text).unwrap());
        assert!(errors.is_empty(), "{}: {errors:?}", file.display());
    }
}

/// The validator's wording of a field's own rule (`crate::params` and the constructors).
fn is_single_field_rule(message: &str) -> bool {
    [
        "must be > 0",
        "must be >= 0",
        "must be >= 1",
        "must be in [0, 1]",
        "must be in [0, 1)",
        "must be in (0, 1]",
        "must be in [-1, 1]",
        "must be a finite number",
        "must be a number",
        "must be an integer",
        "must be between",
        "must be from",
    ]
    .iter()
    .any(|rule| message.contains(rule))
}

#[derive(Debug, Default)]
struct Tally {
    both_accept: usize,
    both_refuse: usize,
    /// Rules a schema cannot state (fields tied together, the horizon checks, grid cells).
    only_the_validator_refuses: usize,
}

#[test]
fn the_schema_agrees_with_the_validator_on_mutated_files() {
    let v = validator();
    let mut tally = Tally::default();
    let mut failures = Vec::new();
    for m in mutations() {
        let parsed = Experiment::parse(&m.text(), &m.file, Overrides::default());
        let errors = schema_errors(&v, &m.mutated);
        match (parsed, errors.is_empty()) {
            (Ok(_), true) => tally.both_accept += 1,
            (Ok(_), false) => failures.push(format!(
                "{}: the validator accepts it, the schema refuses: {errors:?}",
                m.case()
            )),
            (Err(_), false) => tally.both_refuse += 1,
            (Err(e), true) => {
                let own_field = e.field.as_deref() == Some(m.leaf.as_str());
                if own_field && !m.leaf.starts_with("grid") && is_single_field_rule(&e.message) {
                    failures.push(format!(
                        "{}: the validator refuses it by a rule a schema can state, the schema \
                         accepts it: {e}",
                        m.case()
                    ));
                } else {
                    tally.only_the_validator_refuses += 1;
                }
            }
        }
    }
    println!("{tally:?}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(tally.both_accept > 0 && tally.both_refuse > 0, "{tally:?}");
}

#[test]
fn a_file_the_validator_refuses_for_a_range_is_refused_by_the_schema() {
    let v = validator();
    for (field, text) in [
        ("market.s0", "[market]\ns0 = -5.0\n"),
        ("margin.mmr", "[margin]\nmmr = 0.0\n"),
        ("traders.long_share", "[traders]\nlong_share = 1.5\n"),
        ("experiment.seeds", "[experiment]\nseeds = 0\n"),
        (
            "market.book",
            "[market.book]\nkind = \"linear\"\ndepth_usd = \"deep\"\n",
        ),
        (
            "market.model",
            "[market.model]\nkind = \"gbm\"\nvol = 0.5\nvolatility = 1\n",
        ),
    ] {
        let refusal =
            Experiment::parse(text, Path::new("x.toml"), Overrides::default()).expect_err(text);
        assert!(
            refusal
                .field
                .as_deref()
                .is_some_and(|f| f.starts_with(field)),
            "{text}: {refusal}"
        );
        let errors = schema_errors(&v, &toml::from_str(text).unwrap());
        assert!(!errors.is_empty(), "{text}: the schema accepts it");
    }
}
