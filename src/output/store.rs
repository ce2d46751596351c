//! Runs that survive a kill and spread over machines.
//!
//! Every unit of work (a block of seeds of one cell, see [`crate::montecarlo::units`]) is saved
//! to `DIR/parts/` as soon as it finishes, atomically: its rows and its markets' rows as
//! Parquet, and its fund-path histogram, then a seal with the experiment's fingerprint and each
//! file's CRC-32 (a part whose seal does not match is re-run, or refused by name by `merge`
//! and assembly). A manifest records a hash of the resolved experiment. Running the same command
//! again skips the units already saved; a changed experiment is refused unless the caller asks
//! to start over. `--shard i/N` runs every N-th unit, and [`merge_dirs`] gathers the shards'
//! parts. Once every unit is saved, the tables are assembled from the parts in unit order, so
//! an interrupted, resumed, sharded or merged run ends with the same bytes as one straight run.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use polars::prelude::*;

use super::atomic::write_atomic;
use super::error::OutputError;
use super::lock::FolderLock;
pub use super::paths::PARTS_DIR;
use super::paths::{RUNS_BY_MARKET_FILE, RUNS_FILE};
use super::read::read_parquet_file;
use super::tables::{
    market_rows_frame, market_rows_from_frame, rows_frame, rows_from_frame, write_parquet_bytes,
};
use super::write::{write_aggregates, write_runs_parquet};
use crate::config::toml_leaves;
use crate::config::{Experiment, Overrides};
use crate::montecarlo::{
    Aggregates, CellRows, EmptyCell, FanAggregate, Unit, UnitResult, aggregate, cell_checkpoints,
    run_unit, units,
};
use crate::simulation::{MarketRow, RunOptions, RunRow};

const MANIFEST: &str = "manifest.toml";

/// A slice of the work: units whose index is `index` modulo `count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl FromStr for Shard {
    type Err = String;

    /// `i/N` with `0 <= i < N` (Slurm's `SLURM_ARRAY_TASK_ID` and Kubernetes'
    /// `JOB_COMPLETION_INDEX` count from 0).
    fn from_str(s: &str) -> Result<Self, String> {
        let err = || format!("--shard takes i/N with 0 <= i < N, e.g. 0/4; got `{s}`");
        let (i, n) = s.split_once('/').ok_or_else(err)?;
        let index: usize = i.trim().parse().map_err(|_| err())?;
        let count: usize = n.trim().parse().map_err(|_| err())?;
        if count == 0 || index >= count {
            return Err(err());
        }
        Ok(Self { index, count })
    }
}

impl Shard {
    pub fn owns(&self, unit: &Unit) -> bool {
        unit.index % self.count == self.index
    }
}

/// FNV-1a, 64 bits: a stable fingerprint of the resolved experiment (not for security).
fn fingerprint(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// Where one unit's parts are saved. The seal is written last: it marks the unit done.
struct PartPaths {
    rows: PathBuf,
    markets: PathBuf,
    fan: PathBuf,
    seal: PathBuf,
}

fn part_paths(parts: &Path, unit: &Unit) -> PartPaths {
    PartPaths {
        rows: parts.join(format!("unit-{:06}.parquet", unit.index)),
        markets: parts.join(format!("unit-{:06}.markets.parquet", unit.index)),
        fan: parts.join(format!("unit-{:06}.fan", unit.index)),
        seal: parts.join(format!("unit-{:06}.seal", unit.index)),
    }
}

impl PartPaths {
    /// The three files of the unit, each with the seal's name for it.
    fn files(&self) -> [(&'static str, &Path); 3] {
        [
            ("fan", &self.fan),
            ("markets", &self.markets),
            ("rows", &self.rows),
        ]
    }
}

/// What a unit's parts are: not saved (or not finished), saved and whole, or damaged.
#[derive(Debug, PartialEq)]
enum PartState {
    Missing,
    Sound,
    Damaged { file: PathBuf, why: String },
}

/// Writes the seal of a saved unit: the experiment's fingerprint and the CRC-32 of each of
/// its files, so that a part changed on disk (a flipped bit, a file from another run) is
/// never resumed from, merged or assembled.
fn write_seal(paths: &PartPaths, experiment: &str, bytes: [&[u8]; 3]) -> Result<(), OutputError> {
    let mut text = format!("experiment = \"{experiment}\"\n");
    for ((name, _), b) in paths.files().iter().zip(bytes) {
        text.push_str(&format!("{name} = {}\n", crc32fast::hash(b)));
    }
    write_atomic(&paths.seal, text.as_bytes()).map_err(|e| OutputError::at(&paths.seal, e))
}

/// Checks a unit's seal against the experiment and its files.
fn part_state(paths: &PartPaths, experiment: &str) -> PartState {
    let Ok(text) = std::fs::read_to_string(&paths.seal) else {
        return PartState::Missing;
    };
    let damaged = |file: &Path, why: String| PartState::Damaged {
        file: file.to_path_buf(),
        why,
    };
    let Ok(seal) = toml::from_str::<toml::Table>(&text) else {
        return damaged(&paths.seal, "the seal is not readable".into());
    };
    if seal.get("experiment").and_then(|v| v.as_str()) != Some(experiment) {
        return damaged(&paths.seal, "it belongs to another experiment".into());
    }
    for (name, file) in paths.files() {
        let want = seal.get(name).and_then(|v| v.as_integer());
        let got = std::fs::read(file).map(|b| crc32fast::hash(&b) as i64);
        match (want, got) {
            (Some(w), Ok(g)) if w == g => {}
            (_, Err(e)) => return damaged(file, format!("cannot be read: {e}")),
            _ => return damaged(file, "its checksum does not match its seal".into()),
        }
    }
    PartState::Sound
}

/// Prepares `dir/parts` for `exp`: a new manifest, or a check that the existing one belongs to
/// the same experiment (or, with `restart`, a clean start).
fn open_parts(
    dir: &Path,
    exp: &Experiment,
    restart: bool,
    shard: Option<Shard>,
) -> Result<PathBuf, OutputError> {
    let parts = dir.join(PARTS_DIR);
    let manifest = parts.join(MANIFEST);
    let text = exp.to_resolved_toml();
    let hash = fingerprint(&text);
    if restart && parts.exists() {
        std::fs::remove_dir_all(&parts).map_err(|e| OutputError::at(&parts, e))?;
    }
    if manifest.exists() {
        let old = std::fs::read_to_string(&manifest).map_err(|e| OutputError::at(&manifest, e))?;
        let old_hash = old
            .lines()
            .find_map(|l| l.strip_prefix("hash = \""))
            .and_then(|l| l.strip_suffix('"'))
            .ok_or_else(|| OutputError::at(&manifest, "lacks the experiment's fingerprint"))?;
        if old_hash != hash {
            return Err(OutputError::at(
                &manifest,
                format!(
                    "holds results of a different experiment (fingerprint {old_hash}, this one {hash}{}); \
                     run with --restart to discard them, or choose another --out",
                    what_differs(&old, &text)
                ),
            ));
        }
        return Ok(parts);
    }
    refuse_another_report(dir, &text, restart)?;
    clear_earlier_tables(dir)?;
    std::fs::create_dir_all(&parts).map_err(|e| OutputError::at(&parts, e))?;
    // A shard's folder says which share it holds, so that a merge missing it can name the
    // task to resubmit.
    let share = shard.map_or(String::new(), |s| {
        format!("shard = \"{}/{}\"\n", s.index, s.count)
    });
    let body = format!(
        "# Units of work of one backstop experiment; see src/output/store.rs.\nhash = \"{hash}\"\nunits = {}\n{share}\n[experiment]\ntext = {}\n",
        units(exp).len(),
        toml::Value::String(text)
    );
    write_atomic(&manifest, body.as_bytes()).map_err(|e| OutputError::at(&manifest, e))?;
    Ok(parts)
}

/// A folder without saved units may still hold another experiment's report: the committed
/// example (`notebooks-output/baseline`, whose tables are not committed), or a folder whose
/// parts were removed. A run with another experiment would silently replace it, so it is
/// refused unless restarted; the same experiment writes the same bytes again.
fn refuse_another_report(dir: &Path, text: &str, restart: bool) -> Result<(), OutputError> {
    let path = dir.join(super::paths::EXPERIMENT_FILE);
    let Ok(old) = std::fs::read_to_string(&path) else {
        return Ok(());
    };
    if restart || old == text {
        return Ok(());
    }
    Err(OutputError::at(
        &path,
        format!(
            "this folder holds the report of a different experiment{}; choose another --out, \
             or run with --restart to replace it",
            differences(&old, text)
        ),
    ))
}

/// `: experiment.seeds 10000 -> 2000, ...`: the resolved fields that differ between the
/// experiment a manifest holds and this one (at most five named), or nothing when the
/// manifest's experiment cannot be read.
fn what_differs(manifest: &str, text: &str) -> String {
    toml::from_str::<toml::Table>(manifest)
        .ok()
        .and_then(|m| {
            Some(differences(
                m.get("experiment")?.get("text")?.as_str()?,
                text,
            ))
        })
        .unwrap_or_default()
}

/// The resolved fields that differ between two experiments' texts (at most five named), or
/// nothing when either cannot be read.
fn differences(old: &str, text: &str) -> String {
    const NAMED: usize = 5;
    let resolved = |t: &str| t.parse::<toml::Table>().ok();
    let (Some(old), Some(new)) = (resolved(old), resolved(text)) else {
        return String::new();
    };
    let (mut before, mut after) = (Vec::new(), Vec::new());
    toml_leaves("", &toml::Value::Table(old), &mut before);
    toml_leaves("", &toml::Value::Table(new), &mut after);
    let find = |list: &[(String, String)], k: &str| {
        list.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
    };
    let mut keys: Vec<&String> = before.iter().chain(&after).map(|(k, _)| k).collect();
    keys.sort();
    keys.dedup();
    let changes: Vec<String> = keys
        .into_iter()
        .filter_map(|k| {
            let (a, b) = (find(&before, k), find(&after, k));
            (a != b).then(|| {
                let show = |v: Option<String>| v.unwrap_or_else(|| "(absent)".into());
                format!("{k} {} -> {}", show(a), show(b))
            })
        })
        .collect();
    match changes.len() {
        0 => String::new(),
        n if n > NAMED => format!(": {} and {} more", changes[..NAMED].join(", "), n - NAMED),
        _ => format!(": {}", changes.join(", ")),
    }
}

/// A folder starting a new experiment (a first run, or `--restart`) loses every table,
/// chart and report an earlier experiment left there before anything new is written, so that
/// a run killed midway never leaves new parts beside old tables. Only backstop's own file
/// names are touched. `drivers.*` stay: they are a function of `experiment.toml` alone, whose
/// CRC-32 they carry, so the report uses them when the new experiment is the same one (a
/// rerun gives the same bits) and calls them stale otherwise.
fn clear_earlier_tables(dir: &Path) -> Result<(), OutputError> {
    let tables = super::seal::RUN_TABLES
        .into_iter()
        .chain([super::report::REPORT_FILE, super::seal::TABLES_SEAL])
        .map(String::from);
    let charts = super::charts::CHART_NAMES
        .iter()
        .flat_map(|c| [format!("{c}.png"), format!("{c}.svg")]);
    for name in tables.into_iter().chain(charts) {
        let path = dir.join(&name);
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(OutputError::at(
                    &path,
                    format!("cannot remove an earlier table: {e}"),
                ));
            }
        }
    }
    Ok(())
}

/// The experiment saved in a parts manifest.
fn manifest_experiment(parts: &Path) -> Result<(Experiment, String), OutputError> {
    let manifest = parts.join(MANIFEST);
    let text = std::fs::read_to_string(&manifest)
        .map_err(|e| OutputError::at(&manifest, format!("{e} (not a backstop output folder?)")))?;
    let table: toml::Table = toml::from_str(&text).map_err(|e| OutputError::at(&manifest, e))?;
    let hash = table
        .get("hash")
        .and_then(|v| v.as_str())
        .ok_or_else(|| OutputError::at(&manifest, "lacks the experiment's fingerprint"))?
        .to_string();
    let exp_text = table
        .get("experiment")
        .and_then(|t| t.get("text"))
        .and_then(|t| t.as_str())
        .ok_or_else(|| OutputError::at(&manifest, "lacks the experiment"))?;
    let exp = Experiment::parse(exp_text, &manifest, Overrides::default())
        .map_err(|e| OutputError::at(&manifest, e))?;
    Ok((exp, hash))
}

/// Where a run to a folder stands.
#[derive(Debug)]
pub enum Progress {
    /// Every unit is saved and the tables are written.
    Complete(Aggregates),
    /// Some units are still missing (a shard's share is done, or others are): `missing`
    /// holds their indices, in order.
    Partial {
        done: usize,
        total: usize,
        missing: Vec<usize>,
    },
}

/// Runs the units of `exp` that `shard` owns (all without a shard) into `dir`, skipping those
/// already saved. `on_skip(runs)` reports runs found done; `on_run_done` each finished run.
pub fn run_to_dir(
    exp: &Experiment,
    dir: &Path,
    opts: RunOptions,
    shard: Option<Shard>,
    restart: bool,
    on_skip: &dyn Fn(u64),
    on_run_done: &(dyn Fn() + Sync),
) -> Result<Progress, OutputError> {
    let parts = open_parts(dir, exp, restart, shard)?;
    let experiment = fingerprint(&exp.to_resolved_toml());
    // A writer thread saves each finished unit while the cores run the next one, so the
    // cores never wait for Parquet and the disk. It is a plain thread, not a rayon worker:
    // polars runs its own pool.
    std::thread::scope(|scope| {
        let (finished, saved) = std::sync::mpsc::sync_channel::<(Unit, UnitResult)>(1);
        let parts = &parts;
        let experiment = experiment.as_str();
        let writer = scope.spawn(move || {
            for (unit, r) in saved {
                save_unit(exp, parts, &unit, &r, experiment)?;
            }
            Ok::<(), OutputError>(())
        });
        for unit in units(exp) {
            if shard.is_some_and(|s| !s.owns(&unit)) {
                continue;
            }
            // A sound part is resumed from; a damaged one is run again and overwritten.
            if part_state(&part_paths(parts, &unit), experiment) == PartState::Sound {
                on_skip(unit.end - unit.start);
                continue;
            }
            let r = run_unit(exp, &unit, opts, on_run_done);
            if let Some(f) = &r.failure {
                // Nothing of this unit is saved and no table is assembled.
                drop(finished);
                saved_by(writer.join(), parts)?;
                return Err(OutputError::at(
                    &part_paths(parts, &unit).rows,
                    format!(
                        "seed {} of cell {} stopped, and no table is written: {}",
                        f.seed, exp.cells[unit.cell].index, f.what
                    ),
                ));
            }
            if finished.send((unit, r)).is_err() {
                break; // the writer failed: its error is returned below
            }
        }
        drop(finished);
        saved_by(writer.join(), parts)
    })?;
    finish_if_complete(exp, dir, &parts, opts)
}

/// What the part writer thread ended with: its own error, or, should it have panicked (it
/// has no code that does), an error naming the parts folder instead of a second panic here.
fn saved_by(
    joined: std::thread::Result<Result<(), OutputError>>,
    parts: &Path,
) -> Result<(), OutputError> {
    joined.map_err(|_| OutputError::at(parts, "the thread saving finished units stopped"))?
}

/// Saves one finished unit: the histogram, the market rows and the rows, then the seal that
/// marks the unit done.
fn save_unit(
    exp: &Experiment,
    parts: &Path,
    unit: &Unit,
    r: &UnitResult,
    experiment: &str,
) -> Result<(), OutputError> {
    let paths = part_paths(parts, unit);
    let _ = std::fs::remove_file(&paths.seal); // a part being rewritten is not done
    let fan = r.fan.to_bytes();
    write_atomic(&paths.fan, &fan).map_err(|e| OutputError::at(&paths.fan, e))?;
    let mut markets = market_rows_frame(exp, unit.cell, &r.markets)
        .map_err(|e| OutputError::at(&paths.markets, e))?;
    let markets =
        write_parquet_bytes(&mut markets).map_err(|e| OutputError::at(&paths.markets, e))?;
    write_atomic(&paths.markets, &markets).map_err(|e| OutputError::at(&paths.markets, e))?;
    let mut df =
        rows_frame(exp, unit.cell, &r.rows).map_err(|e| OutputError::at(&paths.rows, e))?;
    let rows = write_parquet_bytes(&mut df).map_err(|e| OutputError::at(&paths.rows, e))?;
    write_atomic(&paths.rows, &rows).map_err(|e| OutputError::at(&paths.rows, e))?;
    write_seal(&paths, experiment, [&fan, &markets, &rows])
}

fn finish_if_complete(
    exp: &Experiment,
    dir: &Path,
    parts: &Path,
    opts: RunOptions,
) -> Result<Progress, OutputError> {
    let all = units(exp);
    let experiment = fingerprint(&exp.to_resolved_toml());
    let mut missing = Vec::new();
    for u in &all {
        match part_state(&part_paths(parts, u), &experiment) {
            PartState::Sound => {}
            PartState::Missing => missing.push(u.index),
            PartState::Damaged { file, why } => {
                return Err(OutputError::at(
                    &file,
                    format!("is damaged ({why}); run the experiment again to redo its unit"),
                ));
            }
        }
    }
    if !missing.is_empty() {
        return Ok(Progress::Partial {
            done: all.len() - missing.len(),
            total: all.len(),
            missing,
        });
    }
    assemble(exp, dir, parts, opts).map(Progress::Complete)
}

fn read_frame(path: &Path) -> Result<DataFrame, OutputError> {
    read_parquet_file(path, None)
}

fn read_rows(path: &Path) -> Result<Vec<RunRow>, OutputError> {
    rows_from_frame(&read_frame(path)?).map_err(|e| OutputError::at(path, e))
}

fn read_market_rows(exp: &Experiment, path: &Path) -> Result<Vec<MarketRow>, OutputError> {
    market_rows_from_frame(exp, &read_frame(path)?).map_err(|e| OutputError::at(path, e))
}

/// The rows of cell `c` from its units' parts, in seed order.
/// Why a cell's rows could not be summarized: a part could not be read, or the parts hold no
/// run of it.
enum ReadCell {
    Output(OutputError),
    Empty(EmptyCell),
}

impl From<EmptyCell> for ReadCell {
    fn from(e: EmptyCell) -> Self {
        Self::Empty(e)
    }
}

fn read_cell(exp: &Experiment, parts: &Path, c: usize) -> Result<CellRows, OutputError> {
    let mut rows = CellRows {
        runs: Vec::with_capacity(exp.seeds as usize),
        markets: Vec::new(),
    };
    for u in units(exp).iter().filter(|u| u.cell == c) {
        let paths = part_paths(parts, u);
        rows.runs.extend(read_rows(&paths.rows)?);
        rows.markets.extend(read_market_rows(exp, &paths.markets)?);
    }
    Ok(rows)
}

/// Writes every table of `dir` from its parts, in unit order.
fn assemble(
    exp: &Experiment,
    dir: &Path,
    parts: &Path,
    opts: RunOptions,
) -> Result<Aggregates, OutputError> {
    super::seal::break_seal(dir);
    let all = units(exp);
    write_runs_parquet(
        &dir.join(RUNS_FILE),
        all.iter().map(|u| read_frame(&part_paths(parts, u).rows)),
    )?;
    write_runs_parquet(
        &dir.join(RUNS_BY_MARKET_FILE),
        all.iter()
            .map(|u| read_frame(&part_paths(parts, u).markets)),
    )?;
    let mut fans: Vec<FanAggregate> = (0..exp.cells.len())
        .map(|c| FanAggregate::new(cell_checkpoints(exp, c)))
        .collect();
    for u in &all {
        let fan_path = part_paths(parts, u).fan;
        let bytes = std::fs::read(&fan_path).map_err(|e| OutputError::at(&fan_path, e))?;
        let fan = FanAggregate::from_bytes(&bytes).ok_or_else(|| {
            OutputError::at(
                &fan_path,
                "is not a fan histogram this build reads (one saved before the fan kept \
                     each bin's least and most balance?); run again with --restart",
            )
        })?;
        fans[u.cell].merge(&fan);
    }
    let agg = aggregate(exp, &fans, opts, |c| {
        read_cell(exp, parts, c).map_err(ReadCell::Output)
    })
    .map_err(|e| match e {
        ReadCell::Output(e) => e,
        ReadCell::Empty(e) => OutputError::at(parts, e),
    })?;
    write_aggregates(dir, exp, &agg)?;
    super::seal::seal_tables(dir)?;
    Ok(agg)
}

/// Gathers the parts of shard folders `from` into `out` and, when every unit is there, writes
/// the tables into `out`. All folders must hold the same experiment. `on_gathered(done,
/// total)` follows the parts as they are copied (a progress bar; it never changes the result).
pub fn merge_dirs(
    from: &[PathBuf],
    out: &Path,
    opts: RunOptions,
    on_gathered: &dyn Fn(u64, u64),
) -> Result<(Experiment, Progress, FolderLock), OutputError> {
    let first = from
        .first()
        .ok_or_else(|| OutputError::at(out, "merge needs at least one folder"))?;
    let (exp, hash) = manifest_experiment(&first.join(PARTS_DIR))?;
    let target = out.join(PARTS_DIR);
    // Every source is checked before anything is written: a refused merge writes nothing.
    let mut sound = Vec::new();
    let mut shard_counts = Vec::new();
    for dir in from {
        let src = dir.join(PARTS_DIR);
        let (_, other) = manifest_experiment(&src)?;
        shard_counts.extend(manifest_shard(&src).map(|s| s.count));
        if other != hash {
            return Err(OutputError::at(
                &src.join(MANIFEST),
                format!("belongs to a different experiment (fingerprint {other}, expected {hash})"),
            ));
        }
        if src == target {
            continue;
        }
        for u in units(&exp) {
            let from = part_paths(&src, &u);
            match part_state(&from, &hash) {
                PartState::Missing => {}
                PartState::Damaged { file, why } => {
                    return Err(OutputError::at(
                        &file,
                        format!("is damaged ({why}); nothing was merged"),
                    ));
                }
                PartState::Sound => sound.push((u, from)),
            }
        }
    }
    let lock = FolderLock::acquire(out)?;
    let parts = open_parts(out, &exp, false, None)?;
    let total = sound.len() as u64;
    for (done, (u, from)) in sound.into_iter().enumerate() {
        on_gathered(done as u64, total);
        let to = part_paths(&parts, &u);
        if part_state(&to, &hash) == PartState::Sound {
            continue;
        }
        // The seal last: it marks the unit done.
        for (a, b) in [
            (&from.fan, &to.fan),
            (&from.markets, &to.markets),
            (&from.rows, &to.rows),
            (&from.seal, &to.seal),
        ] {
            let bytes = std::fs::read(a).map_err(|e| OutputError::at(a, e))?;
            write_atomic(b, &bytes).map_err(|e| OutputError::at(b, e))?;
        }
    }
    on_gathered(total, total);
    match finish_if_complete(&exp, out, &parts, opts)? {
        Progress::Partial {
            done,
            total,
            missing,
        } => Err(OutputError::at(
            &parts,
            missing_units(done, total, &missing, &shard_counts),
        )),
        complete => Ok((exp, complete, lock)),
    }
}

/// What a merge lacks, and which tasks to resubmit: the shards that own the missing units
/// when the sources' manifests agree on how many shards there are.
fn missing_units(done: usize, total: usize, missing: &[usize], shard_counts: &[usize]) -> String {
    const LISTED: usize = 20;
    let mut units: Vec<String> = missing.iter().take(LISTED).map(usize::to_string).collect();
    if missing.len() > LISTED {
        units.push(format!("and {} more", missing.len() - LISTED));
    }
    let head = format!(
        "holds {done} of {total} units of work; missing: unit{} {}, so no table is written (the units gathered are kept)",
        if missing.len() == 1 { "" } else { "s" },
        units.join(", ")
    );
    let count = shard_counts.first().copied();
    match count.filter(|&n| shard_counts.iter().all(|&c| c == n)) {
        Some(n) => {
            let mut owners: Vec<usize> = missing.iter().map(|u| u % n).collect();
            owners.sort_unstable();
            owners.dedup();
            let tasks: Vec<String> = owners.iter().map(|i| format!("--shard {i}/{n}")).collect();
            format!(
                "{head}; resubmit {} (each into its own folder, where it skips what it saved), then merge again",
                tasks.join(", ")
            )
        }
        None => format!("{head}; rerun the shards that own them, then merge again"),
    }
}

/// The share a shard's folder holds, from its manifest (`None` for a whole run, or a folder
/// written before manifests said so).
fn manifest_shard(parts: &Path) -> Option<Shard> {
    let text = std::fs::read_to_string(parts.join(MANIFEST)).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("shard = \""))
        .and_then(|l| l.strip_suffix('"'))
        .and_then(|l| l.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse_and_partition_the_units() {
        assert_eq!("1/4".parse::<Shard>(), Ok(Shard { index: 1, count: 4 }));
        for bad in ["4/4", "1/0", "x/2", "3", "-1/2"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
        let unit = |index| Unit {
            index,
            cell: 0,
            start: 0,
            end: 1,
        };
        for i in 0..10 {
            let owners = (0..3)
                .filter(|&s| Shard { index: s, count: 3 }.owns(&unit(i)))
                .count();
            assert_eq!(owners, 1);
        }
    }

    #[test]
    fn a_stopped_writer_is_an_error_naming_the_parts() {
        let parts = Path::new("out/parts");
        assert!(saved_by(Ok(Ok(())), parts).is_ok());
        let own = saved_by(Ok(Err(OutputError::at(parts, "disk full"))), parts).unwrap_err();
        assert_eq!(own.message, "disk full");
        let stopped = saved_by(Err(Box::new("boom")), parts).unwrap_err();
        assert_eq!(stopped.path, parts);
    }

    #[test]
    fn a_partial_merge_names_the_units_and_the_shards_to_resubmit() {
        let msg = missing_units(10, 12, &[3, 7], &[4, 4]);
        assert!(
            msg.contains("10 of 12") && msg.contains("units 3, 7"),
            "{msg}"
        );
        assert!(
            msg.contains("--shard 3/4") && !msg.contains("--shard 0/4"),
            "{msg}"
        );
        let msg = missing_units(11, 12, &[5], &[4, 3]);
        assert!(msg.contains("unit 5") && !msg.contains("--shard"), "{msg}");
        let many: Vec<usize> = (0..30).collect();
        assert!(missing_units(0, 30, &many, &[]).contains("and 10 more"));
    }

    #[test]
    fn a_changed_experiment_is_told_what_changed() {
        let manifest = |text: &str| {
            format!(
                "hash = \"x\"\n[experiment]\ntext = {}\n",
                toml::Value::String(text.into())
            )
        };
        let old = "[experiment]\nseeds = 100\n[fund]\ninitial = 1.0\n";
        let new = "[experiment]\nseeds = 200\n[fund]\ninitial = 1.0\ncap = 2.0\n";
        assert_eq!(
            what_differs(&manifest(old), new),
            ": experiment.seeds 100 -> 200, fund.cap (absent) -> 2.0"
        );
        assert_eq!(what_differs("not toml [", new), "");
    }

    #[test]
    fn fingerprint_is_stable_and_sensitive() {
        assert_eq!(fingerprint("a"), fingerprint("a"));
        assert_ne!(fingerprint("a"), fingerprint("b"));
        assert_eq!(fingerprint(""), "cbf29ce484222325");
    }
}
