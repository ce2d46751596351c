//! The curated experiments with one numeric field set to a hostile value, from a fixed seed:
//! the corpus of `tests/mutations.rs` (which runs them) and `tests/schema.rs` (which holds the
//! editor schema to the validator on them).

use std::path::PathBuf;

use super::Mix;

/// Mutations drawn per curated file.
pub const MUTATIONS_PER_FILE: usize = 200;
/// The seed of the draw: every CI run tries the same files.
pub const SEED: u64 = 20261202;

/// One mutated file.
pub struct Mutation {
    /// The curated file it came from (its data paths resolve beside it).
    pub file: PathBuf,
    /// The mutated leaf, as refusals name it (`traders.mix[2].strategy.decisions_per_hour`).
    pub leaf: String,
    pub value: toml::Value,
    /// The whole mutated file.
    pub mutated: toml::Value,
}

impl Mutation {
    pub fn text(&self) -> String {
        toml::to_string(&self.mutated).unwrap()
    }

    pub fn case(&self) -> String {
        format!("{}: {} = {}", self.file.display(), self.leaf, self.value)
    }
}

/// Every mutation of every curated experiment, in a fixed order.
pub fn mutations() -> Vec<Mutation> {
    let mut rng = Mix(SEED);
    let values = hostile_values();
    let mut out = Vec::new();
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
            out.push(Mutation {
                file: file.clone(),
                leaf: dotted(path),
                value,
                mutated,
            });
        }
    }
    out
}

/// The curated experiments, `experiments/*.toml`, sorted.
pub fn curated() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir("experiments")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
}

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
