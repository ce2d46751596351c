//! Experiment files: parsed with serde, validated once at the edge into types that cannot be
//! invalid.
//!
//! * [`file`] holds the serde types users write, with R1 as the defaults.
//! * [`Scenario`] is one fully validated grid cell; the simulator accepts nothing else.
//! * [`Experiment`] is the whole file: master seed, seeds per cell, the grid axes and one
//!   scenario per cell. Loading either yields all of it or an error naming the file, the field
//!   and the rule, before anything is run or written.

pub mod file;
mod grid;
mod lending;
pub mod mark;
pub mod presets;
mod scenario;
pub mod schema;

pub use file::ExperimentFile;
pub use grid::{AxisValue, GridAxis, cell_label};
pub use lending::LendingScenario;
pub use scenario::{MarketKind, Scenario};

use std::fmt;
use std::path::{Path, PathBuf};

/// A rejected experiment file: where, which field, and what was expected.
#[derive(Clone, Debug, PartialEq)]
pub struct ConfigError {
    pub file: PathBuf,
    /// Dotted path of the offending field, when one field is to blame.
    pub field: Option<String>,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.field {
            Some(field) => write!(f, "{}: `{field}` {}", self.file.display(), self.message),
            None => write!(f, "{}: {}", self.file.display(), self.message),
        }
    }
}

impl std::error::Error for ConfigError {}

/// Reads an experiment file's TOML into its sections. A value of the wrong type or an
/// unknown key is blamed on its dotted path (array indices included), with the line and
/// column; a file that is not TOML at all keeps the parser's own message with its excerpt.
fn deserialize_toml(text: &str) -> Result<ExperimentFile, (Option<String>, String)> {
    let de =
        toml::Deserializer::parse(text).map_err(|e| (None, e.to_string().trim_end().into()))?;
    serde_path_to_error::deserialize(de).map_err(|e| {
        let field = dotted(e.path());
        let inner = e.inner();
        let at = inner.span().map(|s| line_and_column(text, s.start));
        match (field, at) {
            (Some(field), Some((line, column))) => (
                Some(field),
                format!("{} (line {line}, column {column})", plain(inner.message())),
            ),
            (Some(field), None) => (Some(field), plain(inner.message())),
            (None, _) => (None, inner.to_string().trim_end().into()),
        }
    })
}

/// The experiment `text` laid over the venue preset `name`: the preset's tables first, every
/// key of the file over them. The merged file names the venue (`experiment.venue`) and no
/// longer the preset, so that its resolved form reads the same without it.
fn with_preset(text: &str, name: &str) -> Result<ExperimentFile, (Option<String>, String)> {
    let preset = presets::text(name).ok_or_else(|| {
        (
            Some("preset".to_string()),
            format!(
                "`{name}` is not a venue preset; the presets are {}",
                presets::names().join(", ")
            ),
        )
    })?;
    let table = |t: &str| -> Result<toml::Table, (Option<String>, String)> {
        toml::from_str(t).map_err(|e: toml::de::Error| (None, e.to_string()))
    };
    let mut merged = table(preset)?;
    let mut own = table(text)?;
    own.remove("preset");
    presets::merge(&mut merged, own);
    let mut file: ExperimentFile = deserialize_value(toml::Value::Table(merged), "")
        .map_err(|e| (Some(e.field.trim_start_matches('.').to_string()), e.rule))?;
    if file.experiment.venue.is_empty() {
        file.experiment.venue = name.to_string();
    }
    Ok(file)
}

/// Deserializes a value (a `[markets.NAME]` table kept raw) into `T`, blaming an error on
/// its dotted path below `prefix`.
pub(crate) fn deserialize_value<T: serde::de::DeserializeOwned>(
    value: toml::Value,
    prefix: &str,
) -> Result<T, crate::params::ParamError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let field = match dotted(e.path()) {
            Some(f) => format!("{prefix}.{f}"),
            None => prefix.to_string(),
        };
        crate::params::ParamError::new(field, plain(e.inner().message()))
    })
}

/// The dotted path serde_path_to_error tracked (`traders.mix[2].strategy`), or `None` at the
/// top of the file.
fn dotted(path: &serde_path_to_error::Path) -> Option<String> {
    path.iter().next()?;
    Some(path.to_string())
}

/// serde's wording for a value that fits no variant of an untagged enum names a Rust type;
/// a user reads what the field takes instead.
fn plain(message: &str) -> String {
    if message.contains("untagged enum NumberOrDistribution") {
        "must be a number or a distribution table ({ kind = \"lognormal\", median = 2.0, \
         log_sd = 0.5 }, say)"
            .into()
    } else if let Some((got, expected)) = message
        .strip_prefix("invalid type: ")
        .or_else(|| message.strip_prefix("invalid value: "))
        .and_then(|m| m.split_once(", expected "))
    {
        let expected = match expected.trim_end() {
            "f64" => "a number",
            "u64" | "usize" => "a whole number from 0 up",
            "u32" | "u16" | "u8" => "a small whole number from 0 up",
            other => other,
        };
        format!("must be {expected}, got {got}")
    } else {
        message.trim_end().to_string()
    }
}

/// 1-based line and column of byte `offset` in `text`.
fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// How `backstop calibrate` finds the fund.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CalibrationMethod {
    /// Quantiles of required capital from one batch with an inexhaustible fund.
    RequiredCapital,
    /// Each seed's critical fund by bisection over `[0, cap]`.
    Bisection,
}

/// The fund of calibration runs: larger than any deficit a run can produce, so that no run
/// depletes and required capital is measured in full.
pub const CALIBRATION_FUND: f64 = 1e15;

/// The most grid cells an experiment may have.
pub const MAX_CELLS: u64 = 100_000;
/// The most simulated steps (cells x seeds x steps) an experiment may ask for.
pub const MAX_STEP_RUNS: f64 = 1e13;
/// The most trader-steps (cells x seeds x steps x traders) an experiment may ask for: R1
/// (1.44e10 of them) takes about a second on 2 cores, so this is about eight days.
pub const MAX_TRADER_STEPS: f64 = 1e16;
/// What one run holds per trader (measured: 1e6 traders peak at 130 MB, 1e5 at 37 MB).
pub const BYTES_PER_TRADER: f64 = 110.0;
/// The most memory one run may need; each thread holds one run at a time.
pub const MAX_RUN_BYTES: f64 = 8e9;

/// Command-line settings that take precedence over the file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Overrides {
    pub seeds: Option<u64>,
    pub master_seed: Option<u64>,
}

fn absolutize_data_paths(spec: &mut file::PriceModelSpec, base: &Path) {
    match spec {
        file::PriceModelSpec::Replay { path, .. }
        | file::PriceModelSpec::Bootstrap { path, .. }
            if !path.is_empty() && Path::new(path).is_relative() =>
        {
            let joined = base.join(&*path);
            let resolved = std::fs::canonicalize(&joined).unwrap_or(joined);
            *path = resolved.to_string_lossy().into_owned();
        }
        file::PriceModelSpec::RegimeSwitching { regimes, .. } => {
            for r in regimes {
                absolutize_data_paths(r, base);
            }
        }
        _ => {}
    }
}

/// [`absolutize_data_paths`] on a model still in raw TOML (`[markets.NAME.model]`).
fn absolutize_raw_data_paths(model: &mut toml::Value, base: &Path) {
    let Some(t) = model.as_table_mut() else {
        return;
    };
    let kind = t.get("kind").and_then(toml::Value::as_str).unwrap_or("");
    if kind == "replay" || kind == "bootstrap" {
        if let Some(toml::Value::String(path)) = t.get_mut("path")
            && !path.is_empty()
            && Path::new(path.as_str()).is_relative()
        {
            let joined = base.join(&*path);
            let resolved = std::fs::canonicalize(&joined).unwrap_or(joined);
            *path = resolved.to_string_lossy().into_owned();
        }
    } else if let Some(toml::Value::Array(regimes)) = t.get_mut("regimes") {
        for r in regimes {
            absolutize_raw_data_paths(r, base);
        }
    }
}

/// One cell of the grid: its coordinates (one value per axis) and its scenario.
#[derive(Clone, Debug)]
pub struct Cell {
    pub index: u32,
    pub coords: Vec<AxisValue>,
    pub scenario: Scenario,
}

/// A validated experiment.
#[derive(Clone, Debug)]
pub struct Experiment {
    pub name: String,
    pub seeds: u32,
    pub master_seed: u64,
    /// The file with every default filled in and the overrides applied, without the grid.
    pub resolved: ExperimentFile,
    pub axes: Vec<GridAxis>,
    pub cells: Vec<Cell>,
}

impl Experiment {
    /// Reads and validates `path`.
    pub fn load(path: &Path, overrides: Overrides) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            file: path.to_path_buf(),
            field: None,
            message: format!("cannot read the experiment file: {e}"),
        })?;
        Self::parse(&text, path, overrides)
    }

    /// Validates the text of an experiment file; `path` names it in errors and gives the
    /// default name.
    pub fn parse(text: &str, path: &Path, overrides: Overrides) -> Result<Self, ConfigError> {
        let err = |field: Option<String>, message: String| ConfigError {
            file: path.to_path_buf(),
            field,
            message,
        };
        let mut file: ExperimentFile = deserialize_toml(text).map_err(|(f, m)| err(f, m))?;
        if !file.preset.is_empty() {
            file = with_preset(text, &file.preset).map_err(|(f, m)| err(f, m))?;
        }
        if let Some(s) = overrides.seeds {
            file.experiment.seeds = s;
        }
        if let Some(s) = overrides.master_seed {
            file.experiment.master_seed = s;
        }
        // Data files are named relative to the experiment file; the resolved experiment names
        // them absolutely, so it can be run from anywhere.
        let base = path.parent().unwrap_or(Path::new("."));
        absolutize_data_paths(&mut file.market.model, base);
        for (_, market) in file.markets.iter_mut() {
            if let Some(model) = market.as_table_mut().and_then(|t| t.get_mut("model")) {
                absolutize_raw_data_paths(model, base);
            }
        }
        if file.experiment.name.is_empty() {
            file.experiment.name = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "experiment".into());
        }
        let grid = std::mem::take(&mut file.grid);
        let x = &file.experiment;
        if x.seeds == 0 || x.seeds > u32::MAX as u64 {
            return Err(err(
                Some("experiment.seeds".into()),
                format!("must be between 1 and {}, got {}", u32::MAX, x.seeds),
            ));
        }
        if x.master_seed > i64::MAX as u64 {
            return Err(err(
                Some("experiment.master_seed".into()),
                format!(
                    "must be at most {} (a TOML integer), got {}",
                    i64::MAX,
                    x.master_seed
                ),
            ));
        }
        // The base scenario must be valid on its own, whatever the grid does.
        let data = scenario::DataFiles::default();
        Scenario::from_file_reading(&file, &data).map_err(|e| err(Some(e.field), e.rule))?;

        let axes = grid::parse_axes(&grid).map_err(|(f, m)| err(f, m))?;
        let contrast = &file.experiment.contrast;
        if !contrast.is_empty() && !axes.iter().any(|a| a.path == *contrast) {
            let known: Vec<&str> = axes.iter().map(|a| a.path.as_str()).collect();
            return Err(err(
                Some("experiment.contrast".into()),
                format!(
                    "`{contrast}` is not a grid axis of this file (its axes: {}); name the axis \
                     whose first value is the baseline",
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                ),
            ));
        }
        let cells = grid::cell_count(&axes);
        if cells > MAX_CELLS {
            return Err(err(
                Some("grid".into()),
                format!(
                    "makes {cells:e} cells (the product of its axes), more than the {MAX_CELLS} a run \
                     takes (each cell is validated and summarized on its own): thin the axes or zip the \
                     ones that move together"
                ),
            ));
        }
        let step_runs = cells as f64 * file.experiment.seeds as f64 * file.experiment.steps as f64;
        if step_runs > MAX_STEP_RUNS {
            return Err(err(
                Some("experiment.seeds".into()),
                format!(
                    "= {} in {cells} cell(s) of {} steps asks for {step_runs:.2e} simulated \
                     steps, more than {MAX_STEP_RUNS:e} (days of computing on a workstation; R1 runs \
                     about 2e7 steps a second on 2 cores): fewer seeds, steps or cells, or \
                     shards on a cluster",
                    file.experiment.seeds, file.experiment.steps
                ),
            ));
        }
        let base = toml::Table::try_from(&file)
            .map_err(|e| err(None, format!("cannot re-encode the experiment: {e}")))?;
        let mut cells = Vec::new();
        let mut trader_steps = 0.0;
        for (index, coords) in grid::cartesian(&axes).into_iter().enumerate() {
            let mut table = base.clone();
            for (axis, value) in axes.iter().zip(&coords) {
                grid::set_path(&mut table, &axis.path, value.to_toml())
                    .map_err(|m| err(Some(grid::value_field(axis, value)), m))?;
            }
            let label = grid::cell_label(&axes, &coords);
            // A rule broken by a value the grid sets is blamed on that value in the grid.
            let in_grid = |field: &str| {
                axes.iter()
                    .zip(&coords)
                    .find(|(axis, _)| grid::same_field(&axis.path, field))
                    .map(|(axis, value)| grid::value_field(axis, value))
            };
            let cell_file: ExperimentFile = deserialize_value(toml::Value::Table(table), "")
                .map_err(|e| {
                    // The axis whose value does not fit its field: by type, or by the field
                    // the value failed to become (a negative count, a fraction of a step).
                    let field = e.field.trim_start_matches('.');
                    err(
                        grid::mistyped_axis(&base, &axes, &coords)
                            .and_then(&in_grid)
                            .or_else(|| in_grid(field)),
                        format!("grid cell {label}: {}", e.rule),
                    )
                })?;
            let scenario = Scenario::from_file_reading(&cell_file, &data).map_err(|e| {
                let field = in_grid(&e.field).unwrap_or(e.field);
                err(Some(field), format!("{} (in grid cell {label})", e.rule))
            })?;
            let traders: f64 = scenario.markets().iter().map(|m| m.accounts() as f64).sum();
            let run_bytes = traders * BYTES_PER_TRADER;
            if run_bytes > MAX_RUN_BYTES {
                return Err(err(
                    Some(in_grid("traders.count").unwrap_or_else(|| "traders.count".into())),
                    format!(
                        "= {traders} traders need about {:.1} GB per run ({BYTES_PER_TRADER} bytes \
                         each; a run per thread), more than {:.0} GB (in grid cell {label})",
                        run_bytes / 1e9,
                        MAX_RUN_BYTES / 1e9
                    ),
                ));
            }
            trader_steps += traders * file.experiment.seeds as f64 * scenario.steps() as f64;
            cells.push(Cell {
                index: index as u32,
                coords,
                scenario,
            });
        }
        if trader_steps > MAX_TRADER_STEPS {
            return Err(err(
                Some("experiment.seeds".into()),
                format!(
                    "= {} asks for {trader_steps:.2e} trader-steps over {} cell(s) (steps x \
                     traders x seeds), more than {MAX_TRADER_STEPS:e}: about {:.0} days on 2 \
                     cores at R1's pace of 1.4e10 a second; fewer seeds, steps, traders or cells, \
                     or shards on a cluster",
                    file.experiment.seeds,
                    cells.len(),
                    trader_steps / 1.44e10 / 86_400.0
                ),
            ));
        }
        Ok(Self {
            name: file.experiment.name.clone(),
            seeds: file.experiment.seeds as u32,
            master_seed: file.experiment.master_seed,
            resolved: file,
            axes,
            cells,
        })
    }

    /// The contrast axis (`experiment.contrast`), by place, if the file names one.
    pub fn contrast_axis(&self) -> Option<usize> {
        let c = &self.resolved.experiment.contrast;
        self.axes.iter().position(|a| !c.is_empty() && a.path == *c)
    }

    /// For each cell, the baseline cell it is set against: the one whose coordinates in the
    /// contrast axis's group (zipped axes move together) are their first values and whose
    /// other coordinates are its own. `None` for the baseline cells themselves, and for
    /// every cell without a contrast.
    pub fn contrast_baselines(&self) -> Vec<Option<usize>> {
        let Some(a) = self.contrast_axis() else {
            return vec![None; self.cells.len()];
        };
        let group = self.axes[a].group;
        let wanted = |c: &Cell| -> Vec<AxisValue> {
            self.axes
                .iter()
                .zip(&c.coords)
                .map(|(axis, v)| {
                    if axis.group == group {
                        axis.values[0].clone()
                    } else {
                        v.clone()
                    }
                })
                .collect()
        };
        self.cells
            .iter()
            .map(|c| {
                if c.coords[a] == self.axes[a].values[0] {
                    return None;
                }
                let want = wanted(c);
                self.cells.iter().position(|b| b.coords == want)
            })
            .collect()
    }

    /// The resolved experiment as a TOML file that repeats this run bit for bit.
    pub fn to_resolved_toml(&self) -> String {
        let mut file = self.resolved.clone();
        let mut grid = toml::Table::new();
        let mut zips = toml::Table::new();
        for a in &self.axes {
            let values = toml::Value::Array(a.values.iter().map(AxisValue::to_toml).collect());
            match &a.zip {
                None => {
                    grid.insert(a.path.clone(), values);
                }
                Some(name) => {
                    let group = zips
                        .entry(name.clone())
                        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
                    if let toml::Value::Table(t) = group {
                        t.insert(a.path.clone(), values);
                    }
                }
            }
        }
        if !zips.is_empty() {
            grid.insert("zip".into(), toml::Value::Table(zips));
        }
        file.grid = grid;
        let body =
            toml::to_string_pretty(&file).unwrap_or_else(|e| format!("# cannot encode: {e}\n"));
        format!(
            "# Resolved experiment written by backstop {}: every default filled in.\n\
             # Run it again with `backstop run <this file>` for the same results, bit for bit.\n\n{body}",
            env!("CARGO_PKG_VERSION")
        )
    }

    /// The cell that is the experiment as written outside its grid (every axis at the file's
    /// own value), which reports lead with; cell 0 when the grid does not contain it.
    pub fn headline_cell(&self) -> usize {
        let Ok(toml::Value::Table(base)) = toml::Value::try_from(&self.resolved) else {
            return 0;
        };
        self.cells
            .iter()
            .position(|c| {
                self.axes
                    .iter()
                    .zip(&c.coords)
                    .all(|(a, v)| grid::get_path(&base, &a.path).is_some_and(|b| v.matches(b)))
            })
            .unwrap_or(0)
    }

    /// The experiment that calibrates this one's fund (MODEL.md section 10): the same grid
    /// without its `fund.initial` axis. When nothing before depletion depends on the fund, it
    /// runs with a fund no deficit can exhaust, so every run's required capital answers for
    /// every fund size at once ([`CalibrationMethod::RequiredCapital`]). When the fund shapes
    /// the run (a cap), that shortcut is wrong and calibration falls back to a bisection over
    /// the fund, seed by seed ([`CalibrationMethod::Bisection`]).
    pub fn for_calibration(
        &self,
        path: &Path,
    ) -> Result<(Experiment, CalibrationMethod), ConfigError> {
        let err = |field: Option<String>, message: String| ConfigError {
            file: path.to_path_buf(),
            field,
            message,
        };
        if let Some(a) = self
            .axes
            .iter()
            .find(|a| a.path == "fund.initial" && a.zip.is_some())
        {
            return Err(err(
                Some(format!("grid.zip.{}", a.zip.as_deref().unwrap_or_default())),
                "`fund.initial` moves with other axes in a zip group; calibration needs it alone"
                    .into(),
            ));
        }
        let method = if self
            .cells
            .iter()
            .any(|c| c.scenario.fund_shapes_the_run_before_depletion())
        {
            CalibrationMethod::Bisection
        } else {
            CalibrationMethod::RequiredCapital
        };
        let mut table: toml::Table = toml::from_str(&self.to_resolved_toml())
            .map_err(|e| err(None, format!("cannot re-read the resolved experiment: {e}")))?;
        if let Some(toml::Value::Table(grid)) = table.get_mut("grid") {
            grid.remove("fund.initial");
        }
        if method == CalibrationMethod::RequiredCapital
            && let Some(toml::Value::Table(fund)) = table.get_mut("fund")
        {
            fund.insert("initial".into(), toml::Value::Float(CALIBRATION_FUND));
        }
        let text = toml::to_string(&table).map_err(|e| err(None, e.to_string()))?;
        Ok((
            Experiment::parse(&text, path, Overrides::default())?,
            method,
        ))
    }

    /// Total number of runs: cells x seeds.
    pub fn total_runs(&self) -> u64 {
        self.cells.len() as u64 * self.seeds as u64
    }
}
