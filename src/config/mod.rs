//! Experiment files: parsed with serde, validated once at the edge into types that cannot be
//! invalid.
//!
//! * [`file`] holds the serde types users write, with R1 as the defaults.
//! * [`Scenario`] is one fully validated grid cell; the simulator accepts nothing else. It
//!   is composed in `scenario.rs` from one checker per section (`check/`); each price model
//!   checks its own horizon beside its `new` in `market/`.
//! * `limits` holds the bounds a file is held to, `read` turns text into the serde types,
//!   `rule` the schema's per-field rules: leaves, so that no import runs in a circle.
//! * [`Experiment`] is the whole file: master seed, seeds per cell, the grid axes and one
//!   scenario per cell. Loading either yields all of it or an error naming the file, the field
//!   and the rule, before anything is run or written.

mod check;
pub mod drivers;
pub mod file;
mod grid;
mod lending;
mod limits;
pub mod mark;
pub mod presets;
mod read;
mod rule;
mod scenario;
pub mod schema;
pub mod target;
mod warnings;

pub use file::ExperimentFile;
pub use grid::{AxisValue, GridAxis, cell_label};
pub use lending::LendingScenario;
pub use limits::{
    BYTES_PER_TRADER, CALIBRATION_FUND, MAX_CELLS, MAX_RUN_BYTES, MAX_STEP_RUNS, MAX_TRADER_STEPS,
};
pub use read::toml_leaves;
pub use scenario::{MarketKind, Scenario};
pub use target::Target;
pub use warnings::Warning;

use std::fmt;
use std::path::{Path, PathBuf};

use crate::market::data::DataFiles;

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

/// How `backstop calibrate` finds the fund.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CalibrationMethod {
    /// Quantiles of required capital from one batch with an inexhaustible fund.
    RequiredCapital,
    /// Each seed's critical fund by bisection over `[0, cap]`.
    Bisection,
}

/// Command-line settings that take precedence over the file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Overrides {
    pub seeds: Option<u64>,
    pub master_seed: Option<u64>,
}

/// An error's field (if one is to blame) and message, before the file is named.
type Blame = (Option<String>, String);

/// The file's text read into its sections: over its venue preset, with the command line's
/// overrides, data files named absolutely, and a name.
fn read_file(text: &str, path: &Path, overrides: Overrides) -> Result<ExperimentFile, Blame> {
    let mut file: ExperimentFile = read::deserialize_toml(text)?;
    if !file.preset.is_empty() {
        file = read::with_preset(text, &file.preset)?;
    }
    if let Some(s) = overrides.seeds {
        file.experiment.seeds = s;
    }
    if let Some(s) = overrides.master_seed {
        file.experiment.master_seed = s;
    }
    read::absolutize_all_data_paths(&mut file, path.parent().unwrap_or(Path::new(".")));
    if file.experiment.name.is_empty() {
        file.experiment.name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "experiment".into());
    }
    Ok(file)
}

/// Seeds per cell fit a `u32`, and the master seed a TOML integer.
fn check_seeds(x: &file::ExperimentSection) -> Result<(), Blame> {
    if x.seeds == 0 || x.seeds > u32::MAX as u64 {
        return Err((
            Some("experiment.seeds".into()),
            format!("must be between 1 and {}, got {}", u32::MAX, x.seeds),
        ));
    }
    if x.master_seed > i64::MAX as u64 {
        return Err((
            Some("experiment.master_seed".into()),
            format!(
                "must be at most {} (a TOML integer), got {}",
                i64::MAX,
                x.master_seed
            ),
        ));
    }
    Ok(())
}

/// `experiment.contrast`, when set, names a grid axis.
fn check_contrast(contrast: &str, axes: &[GridAxis]) -> Result<(), Blame> {
    if contrast.is_empty() || axes.iter().any(|a| a.path == contrast) {
        return Ok(());
    }
    let known: Vec<&str> = axes.iter().map(|a| a.path.as_str()).collect();
    Err((
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
    ))
}

/// The grid's cells, and the steps they ask for with the seeds, within their limits.
fn check_size(x: &file::ExperimentSection, cells: u64) -> Result<(), Blame> {
    if cells > MAX_CELLS {
        return Err((
            Some("grid".into()),
            format!(
                "makes {cells:e} cells (the product of its axes), more than the {MAX_CELLS} a run \
                 takes (each cell is validated and summarized on its own): thin the axes or zip the \
                 ones that move together"
            ),
        ));
    }
    let step_runs = cells as f64 * x.seeds as f64 * x.steps as f64;
    if step_runs > MAX_STEP_RUNS {
        return Err((
            Some("experiment.seeds".into()),
            format!(
                "= {} in {cells} cell(s) of {} steps asks for {step_runs:.2e} simulated \
                 steps, more than {MAX_STEP_RUNS:e} (days of computing on a workstation; R1 runs \
                 about 2e7 steps a second on 2 cores): fewer seeds, steps or cells, or \
                 shards on a cluster",
                x.seeds, x.steps
            ),
        ));
    }
    Ok(())
}

/// Every cell of the grid, each validated on its own, and the trader-steps they ask for
/// together within their limit.
fn grid_cells(
    file: &ExperimentFile,
    axes: &[GridAxis],
    data: &DataFiles,
    scenario: Scenario,
) -> Result<Vec<Cell>, Blame> {
    if axes.is_empty() {
        // One cell, the file itself: its scenario is the one just checked (a file with
        // thousands of markets and their correlation is not read, encoded and factored twice).
        let traders = run_size(&scenario, &|_| None, &grid::cell_label(axes, &[]))?;
        let seeds = file.experiment.seeds;
        check_trader_steps(seeds, traders * seeds as f64 * scenario.steps() as f64, 1)?;
        return Ok(vec![Cell {
            index: 0,
            coords: Vec::new(),
            scenario,
        }]);
    }
    let base = toml::Table::try_from(file)
        .map_err(|e| (None, format!("cannot re-encode the experiment: {e}")))?;
    let seeds = file.experiment.seeds;
    let mut cells = Vec::new();
    let mut trader_steps = 0.0;
    for (index, coords) in grid::cartesian(axes).into_iter().enumerate() {
        let (scenario, traders) = cell_scenario(&base, axes, &coords, data)?;
        trader_steps += traders * seeds as f64 * scenario.steps() as f64;
        cells.push(Cell {
            index: index as u32,
            coords,
            scenario,
        });
    }
    check_trader_steps(seeds, trader_steps, cells.len())?;
    Ok(cells)
}

/// The whole experiment's trader-steps against [`MAX_TRADER_STEPS`].
fn check_trader_steps(seeds: u64, trader_steps: f64, cells: usize) -> Result<(), Blame> {
    if trader_steps > MAX_TRADER_STEPS {
        return Err((
            Some("experiment.seeds".into()),
            format!(
                "= {seeds} asks for {trader_steps:.2e} trader-steps over {cells} cell(s) (steps \
                 x traders x seeds), more than {MAX_TRADER_STEPS:e}: about {:.0} days on 2 \
                 cores at R1's pace of 1.4e10 a second; fewer seeds, steps, traders or cells, \
                 or shards on a cluster",
                trader_steps / 1.44e10 / 86_400.0
            ),
        ));
    }
    Ok(())
}

/// The scenario of the cell at `coords` (the base file with each axis's value set) and its
/// traders over all markets, whose memory a run must hold. A rule broken by a value the
/// grid sets is blamed on that value in the grid.
fn cell_scenario(
    base: &toml::Table,
    axes: &[GridAxis],
    coords: &[AxisValue],
    data: &DataFiles,
) -> Result<(Scenario, f64), Blame> {
    let mut table = base.clone();
    for (axis, value) in axes.iter().zip(coords) {
        grid::set_path(&mut table, &axis.path, value.to_toml())
            .map_err(|m| (Some(grid::value_field(axis, value)), m))?;
    }
    let label = grid::cell_label(axes, coords);
    let in_grid = |field: &str| {
        axes.iter()
            .zip(coords)
            .find(|(axis, _)| grid::same_field(&axis.path, field))
            .map(|(axis, value)| grid::value_field(axis, value))
    };
    let cell_file: ExperimentFile = read::deserialize_value(toml::Value::Table(table), "")
        .map_err(|e| {
            // The axis whose value does not fit its field: by type, or by the field the value
            // failed to become (a negative count, a fraction of a step).
            let field = e.field.trim_start_matches('.');
            (
                grid::mistyped_axis(base, axes, coords)
                    .and_then(&in_grid)
                    .or_else(|| in_grid(field)),
                format!("grid cell {label}: {}", e.rule),
            )
        })?;
    let scenario = Scenario::from_file_reading(&cell_file, data).map_err(|e| {
        let field = in_grid(&e.field).unwrap_or(e.field);
        (Some(field), format!("{} (in grid cell {label})", e.rule))
    })?;
    let traders = run_size(&scenario, &in_grid, &label)?;
    Ok((scenario, traders))
}

/// The traders of a cell's run over all markets, refused when a run would need more than
/// [`MAX_RUN_BYTES`]; `in_grid` names the grid's value that set a field, `label` the cell.
fn run_size(
    scenario: &Scenario,
    in_grid: &dyn Fn(&str) -> Option<String>,
    label: &str,
) -> Result<f64, Blame> {
    let traders: f64 = scenario.markets().iter().map(|m| m.accounts() as f64).sum();
    let run_bytes = traders * BYTES_PER_TRADER;
    if run_bytes > MAX_RUN_BYTES {
        return Err((
            Some(in_grid("traders.count").unwrap_or_else(|| "traders.count".into())),
            format!(
                "= {traders} traders need about {:.1} GB per run ({BYTES_PER_TRADER} bytes \
                 each; a run per thread), more than {:.0} GB (in grid cell {label})",
                run_bytes / 1e9,
                MAX_RUN_BYTES / 1e9
            ),
        ));
    }
    Ok(traders)
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
    /// The depletion probability the study answers for (`experiment.target`).
    pub target: Target,
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
        Self::parse_blamed(text, path, overrides).map_err(|(field, message)| ConfigError {
            file: path.to_path_buf(),
            field,
            message,
        })
    }

    /// [`Self::parse`], its errors not yet naming the file. The checks run in this order, so
    /// that the first error a file reports stays the same.
    fn parse_blamed(text: &str, path: &Path, overrides: Overrides) -> Result<Self, Blame> {
        let mut file = read_file(text, path, overrides)?;
        let grid = std::mem::take(&mut file.grid);
        check_seeds(&file.experiment)?;
        let target = Target::from_spec(&file.experiment.target)
            .map_err(|e| (Some("experiment.target".into()), e))?;
        // The base scenario must be valid on its own, whatever the grid does.
        let data = DataFiles::default();
        let base = Scenario::from_file_reading(&file, &data).map_err(|e| {
            (
                Some(e.field.clone()),
                preset_tier_hint(&file, text, &e.field, e.rule),
            )
        })?;
        let axes = grid::parse_axes(&grid)?;
        check_contrast(&file.experiment.contrast, &axes)?;
        check_size(&file.experiment, grid::cell_count(&axes))?;
        let cells = grid_cells(&file, &axes, &data, base)?;
        Ok(Self {
            name: file.experiment.name.clone(),
            seeds: file.experiment.seeds as u32,
            master_seed: file.experiment.master_seed,
            target,
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
    /// own value), which reports lead with; cell 0 when the grid does not contain it (reports
    /// say so: [`Self::headline_on_grid`]).
    pub fn headline_cell(&self) -> usize {
        self.headline_on_grid().unwrap_or(0)
    }

    /// The cell that is the experiment as written, if the grid contains it.
    pub fn headline_on_grid(&self) -> Option<usize> {
        if self.axes.is_empty() {
            // Without a grid the one cell is the file (and the file is not encoded again:
            // with thousands of markets and their correlation that took a second).
            return (!self.cells.is_empty()).then_some(0);
        }
        let Ok(toml::Value::Table(mut base)) = toml::Value::try_from(&self.resolved) else {
            return None;
        };
        for a in &self.axes {
            grid::fill_market_defaults(&mut base, &a.path);
        }
        self.cells.iter().position(|c| {
            self.axes
                .iter()
                .zip(&c.coords)
                .all(|(a, v)| grid::get_path(&base, &a.path).is_some_and(|b| v.matches(b)))
        })
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

/// A margin tier the file never wrote comes from its venue preset, built on the preset's base
/// rates: when an override of those rates makes one invalid, the error says where the tier
/// comes from and how to drop or replace the preset's tiers.
fn preset_tier_hint(file: &ExperimentFile, text: &str, field: &str, rule: String) -> String {
    if field.starts_with("margin.tiers")
        && !file.experiment.venue.is_empty()
        && !text.contains("tiers")
    {
        format!(
            "{rule} (these tiers come from the preset `{}`, built on its own imr and mmr: write \
             `tiers = []` under [margin] for flat margins, or tiers of your own)",
            file.experiment.venue
        )
    } else {
        rule
    }
}
