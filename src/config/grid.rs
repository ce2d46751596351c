//! The `[grid]` table: axes named by the dotted path of any field, swept as a Cartesian
//! product. Each cell is the resolved base file with the axis values written in, then parsed
//! and validated like a file of its own, so a grid can reach every field and every rule holds.
//!
//! An axis is a list (`[0.005, 0.01]`), an evenly spaced range (`{ linspace = [0.0, 0.02, 5] }`,
//! both ends included) or a geometric one (`{ logspace = [1e5, 1e7, 5] }`). Axes that must move
//! together form a zip group, `[grid.zip.NAME]`, whose lists have equal lengths; a group counts
//! as one factor of the product.

use std::fmt;

use super::limits::MAX_CELLS;

/// One value of a grid axis.
#[derive(Clone, Debug, PartialEq)]
pub enum AxisValue {
    Integer(i64),
    Float(f64),
    Bool(bool),
    Text(String),
}

impl AxisValue {
    pub fn to_toml(&self) -> toml::Value {
        match self {
            AxisValue::Integer(v) => toml::Value::Integer(*v),
            AxisValue::Float(v) => toml::Value::Float(*v),
            AxisValue::Bool(v) => toml::Value::Boolean(*v),
            AxisValue::Text(v) => toml::Value::String(v.clone()),
        }
    }

    /// The value as a number, for numeric columns.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            AxisValue::Integer(v) => Some(*v as f64),
            AxisValue::Float(v) => Some(*v),
            _ => None,
        }
    }
}

impl fmt::Display for AxisValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AxisValue::Integer(v) => write!(f, "{v}"),
            AxisValue::Float(v) => write!(f, "{v}"),
            AxisValue::Bool(v) => write!(f, "{v}"),
            AxisValue::Text(v) => write!(f, "{v}"),
        }
    }
}

/// One axis: the dotted path of the field it sets and its values, in file order.
#[derive(Clone, Debug, PartialEq)]
pub struct GridAxis {
    pub path: String,
    pub values: Vec<AxisValue>,
    /// Axes with the same group move together (a zip group); each group is one factor of the
    /// Cartesian product. Groups are numbered in file order from 0.
    pub group: usize,
    /// Name of the zip group, for axes declared in `[grid.zip.NAME]`.
    pub zip: Option<String>,
}

impl GridAxis {
    /// True when every value is a number (the axis becomes a Float64 column).
    pub fn is_numeric(&self) -> bool {
        self.values.iter().all(|v| v.as_f64().is_some())
    }
}

/// Fields that hold for the whole experiment and cannot vary by cell.
const NOT_SWEEPABLE: &[&str] = &[
    "experiment.seeds",
    "experiment.master_seed",
    "experiment.name",
    "experiment.contrast",
    "experiment.record",
    // One target per study; `calibrate --target` takes several.
    "experiment.target",
];

type AxisError = (Option<String>, String);

/// The values of one axis: a list, or a `linspace` / `logspace` range. `table` is where
/// the axis is written (`grid`, or `grid.zip.NAME`), for errors.
fn axis_values(table: &str, path: &str, values: &toml::Value) -> Result<Vec<AxisValue>, AxisError> {
    let field = Some(format!("{table}.\"{path}\""));
    if NOT_SWEEPABLE.contains(&path) {
        return Err((
            field,
            format!("`{path}` is the same for every cell and cannot be a grid axis"),
        ));
    }
    let items: Vec<toml::Value> = match values {
        toml::Value::Array(items) => items.clone(),
        toml::Value::Table(t)
            if t.len() == 1 && (t.contains_key("linspace") || t.contains_key("logspace")) =>
        {
            let Some((kind, spec)) = t.iter().next() else {
                return Err((field, "must list at least one value".into()));
            };
            range_values(kind, spec).map_err(|m| (field.clone(), m))?
        }
        _ => {
            return Err((
                field,
                "must be a list of values, e.g. [0.005, 0.01], or a range, e.g. { linspace = [0.0, 0.02, 5] } or { logspace = [1e5, 1e7, 5] }".into(),
            ));
        }
    };
    if items.is_empty() {
        return Err((field, "must list at least one value".into()));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            axis_value(item).ok_or_else(|| {
                (
                    Some(format!("{table}.\"{path}\"[{i}]")),
                    format!("values must be numbers, booleans or strings, got {item}"),
                )
            })
        })
        .collect()
}

/// A value of an axis, if it is one a field can take from a grid.
fn axis_value(item: &toml::Value) -> Option<AxisValue> {
    match item {
        toml::Value::Integer(v) => Some(AxisValue::Integer(*v)),
        toml::Value::Float(v) => Some(AxisValue::Float(*v)),
        toml::Value::Boolean(v) => Some(AxisValue::Bool(*v)),
        toml::Value::String(v) => Some(AxisValue::Text(v.clone())),
        _ => None,
    }
}

/// The points of `{ kind = [start, stop, count] }` (`kind` is `linspace` or `logspace`).
fn range_values(kind: &str, spec: &toml::Value) -> Result<Vec<toml::Value>, String> {
    let nums: Option<Vec<f64>> = spec.as_array().map(|a| {
        a.iter()
            .filter_map(|v| v.as_float().or_else(|| v.as_integer().map(|i| i as f64)))
            .collect()
    });
    let Some([start, stop, count]) = nums.as_deref().and_then(|n| <[f64; 3]>::try_from(n).ok())
    else {
        return Err(format!(
            "`{kind}` takes [start, stop, count], e.g. {{ {kind} = [1.0, 100.0, 5] }}"
        ));
    };
    // A range cannot have more points than a grid may have cells.
    if !(count >= 1.0 && count.fract() == 0.0 && count <= MAX_CELLS as f64) {
        return Err(format!(
            "`{kind}` count must be a whole number from 1 to {MAX_CELLS}, got {count}"
        ));
    }
    if !(start.is_finite() && stop.is_finite()) {
        return Err(format!(
            "`{kind}` ends must be finite, got {start} and {stop}"
        ));
    }
    let n = count as usize;
    if kind == "logspace" {
        if !(start > 0.0 && stop > 0.0) {
            return Err(format!(
                "`logspace` ends must be > 0, got {start} and {stop}"
            ));
        }
        return Ok(logspace(start, stop, n));
    }
    Ok(linspace(start, stop, n))
}

/// Where point `i` of `n` falls between the ends, as a fraction.
fn at(i: usize, n: usize) -> f64 {
    if n == 1 {
        0.0
    } else {
        i as f64 / (n - 1) as f64
    }
}

/// `n` points from `start` to `stop`, evenly spaced; the last is `stop` exactly.
fn linspace(start: f64, stop: f64, n: usize) -> Vec<toml::Value> {
    (0..n)
        .map(|i| {
            toml::Value::Float(if i + 1 == n && n > 1 {
                stop
            } else {
                start + (stop - start) * at(i, n)
            })
        })
        .collect()
}

/// `n` points from `start` to `stop` (both > 0): ends exact, interior points geometric.
fn logspace(start: f64, stop: f64, n: usize) -> Vec<toml::Value> {
    let (a, b) = (start.ln(), stop.ln());
    (0..n)
        .map(|i| {
            toml::Value::Float(if i == 0 {
                start
            } else if i + 1 == n {
                stop
            } else {
                (a + (b - a) * at(i, n)).exp()
            })
        })
        .collect()
}

pub(super) fn parse_axes(grid: &toml::Table) -> Result<Vec<GridAxis>, AxisError> {
    let mut axes: Vec<GridAxis> = Vec::new();
    let mut group = 0;
    // Plain axes first, then the zip groups, whatever the order in the file: TOML writes a
    // table's plain keys before its sub-tables, so the resolved experiment.toml (which
    // `backstop report` and resumed runs read back) must give the same cells in the same order.
    let ordered = grid
        .iter()
        .filter(|(k, _)| *k != "zip")
        .chain(grid.iter().filter(|(k, _)| *k == "zip"));
    for (key, value) in ordered {
        if key == "zip" {
            let Some(groups) = value.as_table() else {
                return Err((
                    Some("grid.zip".into()),
                    "must hold named groups, e.g. [grid.zip.margins]".into(),
                ));
            };
            for (name, members) in groups {
                let field = Some(format!("grid.zip.{name}"));
                let Some(members) = members.as_table().filter(|m| !m.is_empty()) else {
                    return Err((field, "must be a table of axes that move together, e.g. \"margin.imr\" = [0.02, 0.04]".into()));
                };
                let mut len = None;
                for (path, values) in members {
                    let values = axis_values(&format!("grid.zip.{name}"), path, values)?;
                    match len {
                        Some(l) if l != values.len() => {
                            return Err((
                                field,
                                format!(
                                    "axes of a zip group need lists of equal length; `{path}` has {} values, the group's first axis {l}",
                                    values.len()
                                ),
                            ));
                        }
                        _ => len = Some(values.len()),
                    }
                    axes.push(GridAxis {
                        path: path.clone(),
                        values,
                        group,
                        zip: Some(name.clone()),
                    });
                }
                group += 1;
            }
        } else {
            axes.push(GridAxis {
                path: key.clone(),
                values: axis_values("grid", key, value)?,
                group,
                zip: None,
            });
            group += 1;
        }
    }
    for (i, a) in axes.iter().enumerate() {
        if axes[..i].iter().any(|b| b.path == a.path) {
            return Err((
                Some(format!("grid.\"{}\"", a.path)),
                "appears twice in the grid".into(),
            ));
        }
    }
    Ok(axes)
}

/// How many cells [`cartesian`] makes, worked out without making them (saturating).
pub(super) fn cell_count(axes: &[GridAxis]) -> u64 {
    let groups = axes.iter().map(|a| a.group + 1).max().unwrap_or(0);
    (0..groups)
        .map(|g| {
            axes.iter()
                .find(|a| a.group == g)
                .map_or(1, |a| a.values.len() as u64)
        })
        .fold(1u64, u64::saturating_mul)
}

/// Every combination of the groups' values, the last group varying fastest; within a zip
/// group the axes advance together. No axes: one empty cell.
pub(super) fn cartesian(axes: &[GridAxis]) -> Vec<Vec<AxisValue>> {
    let groups = axes.iter().map(|a| a.group + 1).max().unwrap_or(0);
    let len = |g: usize| {
        axes.iter()
            .find(|a| a.group == g)
            .map_or(1, |a| a.values.len())
    };
    let mut picks: Vec<Vec<usize>> = vec![Vec::new()];
    for g in 0..groups {
        picks = picks
            .into_iter()
            .flat_map(|p| {
                (0..len(g)).map(move |i| {
                    let mut q = p.clone();
                    q.push(i);
                    q
                })
            })
            .collect();
    }
    picks
        .into_iter()
        .map(|p| axes.iter().map(|a| a.values[p[a.group]].clone()).collect())
        .collect()
}

/// Writes the defaults of a `[markets.NAME]` table along `path` where the file leaves them
/// out (issue 34, item 7). The resolved file fills in every default but those: a further
/// market's table holds only what the file wrote, and is checked field by field when the
/// scenario is built, so without this a grid path into one of its defaults would not exist.
/// A table whose `kind` differs from the default's (a square-root book) gets nothing of the
/// default kind's fields.
pub(super) fn fill_market_defaults(table: &mut toml::Table, path: &str) {
    let parts: Vec<&str> = path.split('.').collect();
    let ["markets", name, rest @ ..] = parts.as_slice() else {
        return;
    };
    let Some(toml::Value::Table(market)) = table
        .get_mut("markets")
        .and_then(|m| m.as_table_mut())
        .and_then(|m| m.get_mut(*name))
    else {
        return;
    };
    let Ok(defaults) = toml::Table::try_from(super::file::MarketSection::default()) else {
        return;
    };
    let (mut here, mut default) = (market, &defaults);
    for part in rest {
        let Some(d) = default.get(*part) else {
            return;
        };
        if !here.contains_key(*part) {
            here.insert((*part).to_string(), d.clone());
            return;
        }
        match (here.get_mut(*part), d) {
            (Some(toml::Value::Table(h)), toml::Value::Table(dt)) => {
                if h.get("kind").is_some_and(|k| Some(k) != dt.get("kind")) {
                    return;
                }
                here = h;
                default = dt;
            }
            _ => return,
        }
    }
}

/// The keys of a table, for an error that lists what a path could have named.
fn keys_of(t: &toml::Table) -> String {
    let keys: Vec<&str> = t.keys().map(String::as_str).collect();
    keys.join(", ")
}

/// The fields a path could have named inside `inner`, the table at `parts[..=depth]`: its
/// keys, and within a `[markets.NAME]` table the defaults it does not write as well.
fn valid_keys(inner: &toml::Table, parts: &[&str], depth: usize) -> String {
    let mut keys: Vec<String> = inner.keys().cloned().collect();
    if parts.first() == Some(&"markets")
        && depth >= 1
        && let Ok(defaults) = toml::Table::try_from(super::file::MarketSection::default())
    {
        let mut at = Some(&defaults);
        for part in &parts[2..=depth] {
            at = at
                .and_then(|t| t.get(*part))
                .and_then(toml::Value::as_table);
        }
        // A table of another kind than the default's (a square-root book) has none of the
        // default kind's fields.
        let same_kind =
            |t: &&toml::Table| inner.get("kind").is_none_or(|k| t.get("kind") == Some(k));
        for k in at.filter(same_kind).into_iter().flat_map(|t| t.keys()) {
            if !keys.contains(k) {
                keys.push(k.clone());
            }
        }
    }
    keys.join(", ")
}

/// Writes `value` at the dotted `path` of `table`. The field must exist in the resolved file
/// (every default is filled in there, and a further market's defaults are filled in along
/// the path), so a typo in a path is an error listing the fields it could have named, not a
/// new key.
pub(super) fn set_path(
    table: &mut toml::Table,
    path: &str,
    value: toml::Value,
) -> Result<(), String> {
    fill_market_defaults(table, path);
    // A number after a dot indexes an array of tables: `traders.mix.1.share`.
    let parts: Vec<&str> = path.split('.').collect();
    let Some((first, rest)) = parts.split_first() else {
        return Err("is empty".into());
    };
    if !table.contains_key(*first) {
        return Err(format!(
            "is not a field of the experiment: `{first}` does not exist; the sections are {}",
            keys_of(table)
        ));
    }
    let mut slot = table
        .get_mut(*first)
        .ok_or_else(|| format!("is not a field of the experiment: `{first}` does not exist"))?;
    for (depth, part) in rest.iter().enumerate() {
        let here = parts[..=depth + 1].join(".");
        let next = match slot {
            toml::Value::Table(inner) if !inner.contains_key(*part) => {
                return Err(format!(
                    "is not a field of the experiment: `{here}` does not exist; `{}` has {}",
                    parts[..=depth].join("."),
                    valid_keys(inner, &parts, depth)
                ));
            }
            toml::Value::Table(inner) => inner.get_mut(*part),
            toml::Value::Array(items) => part.parse::<usize>().ok().and_then(|i| items.get_mut(i)),
            _ => {
                return Err(format!(
                    "`{}` is a field, not a section",
                    parts[..=depth].join(".")
                ));
            }
        };
        slot = next
            .ok_or_else(|| format!("is not a field of the experiment: `{here}` does not exist"))?;
    }
    if slot.is_table() || slot.is_array() {
        return Err(format!("`{path}` is a section, not a field"));
    }
    *slot = value;
    Ok(())
}

/// The first axis whose value in a cell (`coords`) is of another kind than the field it
/// replaces in `base` (a string or a boolean where the file has a number, say): the one to
/// blame when a cell does not parse.
pub(super) fn mistyped_axis<'a>(
    base: &toml::Table,
    axes: &'a [GridAxis],
    coords: &[AxisValue],
) -> Option<&'a str> {
    let kind = |v: &toml::Value| match v {
        toml::Value::Integer(_) | toml::Value::Float(_) => "number",
        other => other.type_str(),
    };
    axes.iter()
        .zip(coords)
        .find(|(axis, value)| {
            get_path(base, &axis.path).is_some_and(|old| kind(old) != kind(&value.to_toml()))
        })
        .map(|(axis, _)| axis.path.as_str())
}

/// Whether a grid axis path (`traders.mix.0.share`) and a validation field
/// (`traders.mix[0].share`) name the same field.
pub(super) fn same_field(axis_path: &str, field: &str) -> bool {
    axis_path == field || axis_path == field.replace('[', ".").replace(']', "")
}

/// Where in the file `value` of `axis` is written: `grid."fund.initial"[2]`, or
/// `grid.zip.NAME."fund.initial"[2]` in a zip group (the first place that holds it).
pub(super) fn value_field(axis: &GridAxis, value: &AxisValue) -> String {
    let same = |v: &AxisValue| match (v, value) {
        // Bit for bit, so that a NaN is found where it is written.
        (AxisValue::Float(a), AxisValue::Float(b)) => a.to_bits() == b.to_bits(),
        (a, b) => a == b,
    };
    let table = match &axis.zip {
        Some(name) => format!("grid.zip.{name}"),
        None => "grid".to_string(),
    };
    match axis.values.iter().position(same) {
        Some(i) => format!("{table}.\"{}\"[{i}]", axis.path),
        None => format!("{table}.\"{}\"", axis.path),
    }
}

/// The value at the dotted `path` of `table`, if there is one.
pub(super) fn get_path<'a>(table: &'a toml::Table, path: &str) -> Option<&'a toml::Value> {
    let mut parts = path.split('.');
    let mut v = table.get(parts.next()?)?;
    for part in parts {
        v = match v {
            toml::Value::Table(t) => t.get(part)?,
            toml::Value::Array(items) => items.get(part.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(v)
}

impl AxisValue {
    /// Equal to a TOML value (numbers compared as numbers: 1000000 equals 1e6).
    pub fn matches(&self, v: &toml::Value) -> bool {
        match (self, v) {
            (AxisValue::Bool(a), toml::Value::Boolean(b)) => a == b,
            (AxisValue::Text(a), toml::Value::String(b)) => a == b,
            (a, toml::Value::Integer(b)) => a.as_f64() == Some(*b as f64),
            (a, toml::Value::Float(b)) => a.as_f64() == Some(*b),
            _ => false,
        }
    }
}

/// `fund.initial=1000000 liquidation.penalty_rate=0.01`, or `base` for a grid without axes.
pub fn cell_label(axes: &[GridAxis], coords: &[AxisValue]) -> String {
    if axes.is_empty() {
        return "base".into();
    }
    axes.iter()
        .zip(coords)
        .map(|(a, v)| format!("{}={v}", a.path))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cartesian_product_has_last_axis_fastest() {
        let axes = vec![
            GridAxis {
                path: "a".into(),
                values: vec![AxisValue::Integer(1), AxisValue::Integer(2)],
                group: 0,
                zip: None,
            },
            GridAxis {
                path: "b".into(),
                values: vec![
                    AxisValue::Bool(true),
                    AxisValue::Bool(false),
                    AxisValue::Bool(true),
                ],
                group: 1,
                zip: None,
            },
        ];
        let cells = cartesian(&axes);
        assert_eq!(cells.len(), 6);
        assert_eq!(
            cells[1],
            vec![AxisValue::Integer(1), AxisValue::Bool(false)]
        );
        assert_eq!(cells[3], vec![AxisValue::Integer(2), AxisValue::Bool(true)]);
        assert_eq!(cartesian(&[]), vec![Vec::<AxisValue>::new()]);
    }

    fn parse(text: &str) -> Result<Vec<GridAxis>, AxisError> {
        let t: toml::Table = toml::from_str(text).unwrap();
        parse_axes(&t)
    }

    #[test]
    fn ranges_expand_with_exact_ends() {
        let axes = parse("a = { linspace = [0.0, 0.02, 5] }\nb = { logspace = [1e5, 1e7, 3] }\nc = { linspace = [7, 7, 1] }\n").unwrap();
        let v = |i: usize| {
            axes[i]
                .values
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect::<Vec<_>>()
        };
        assert_eq!(v(0), vec![0.0, 0.005, 0.01, 0.015, 0.02]);
        let b = v(1);
        assert_eq!((b[0], b[2]), (1e5, 1e7));
        assert!((b[1] / 1e6 - 1.0).abs() < 1e-12);
        assert_eq!(v(2), vec![7.0]);
        assert_eq!(cartesian(&axes).len(), 15);
    }

    #[test]
    fn zip_groups_come_after_plain_axes_whatever_the_file_order() {
        let a = parse("[zip.m]\nimr = [0.02, 0.04]\nmmr = [0.01, 0.02]\n").unwrap();
        let mut t: toml::Table =
            toml::from_str("[zip.m]\nimr = [0.02, 0.04]\nmmr = [0.01, 0.02]\n").unwrap();
        t.insert("p".into(), toml::Value::Array(vec![1.into(), 2.into()]));
        let axes = parse_axes(&t).unwrap();
        assert_eq!(axes[0].path, "p");
        assert_eq!(axes[1].path, "imr");
        // Written out and read back, the order is the same.
        let back: toml::Table = toml::from_str(&toml::to_string(&t).unwrap()).unwrap();
        let again = parse_axes(&back).unwrap();
        assert_eq!(
            axes.iter().map(|x| &x.path).collect::<Vec<_>>(),
            again.iter().map(|x| &x.path).collect::<Vec<_>>()
        );
        assert_eq!(a.len(), 2);
    }

    #[test]
    fn zip_groups_move_together() {
        let axes =
            parse("p = [1, 2, 3]\n[zip.m]\nimr = [0.02, 0.04]\nmmr = [0.01, 0.02]\n").unwrap();
        assert_eq!(
            axes.iter().map(|a| a.group).collect::<Vec<_>>(),
            vec![0, 1, 1]
        );
        let cells = cartesian(&axes);
        assert_eq!(cells.len(), 6);
        for c in &cells {
            // imr is always twice mmr: they moved together.
            assert_eq!(c[1].as_f64().unwrap(), 2.0 * c[2].as_f64().unwrap());
        }
    }

    #[test]
    fn grid_errors_name_the_axis_and_rule() {
        let e = parse("a = { linspace = [0.0, 1.0] }\n").unwrap_err();
        assert!(e.0.unwrap().contains('a') && e.1.contains("[start, stop, count]"));
        let e = parse("a = { logspace = [0.0, 1.0, 3] }\n").unwrap_err();
        assert!(e.1.contains("> 0"));
        let e = parse("a = { linspace = [0.0, 1.0, 2.5] }\n").unwrap_err();
        assert!(e.1.contains("whole number"));
        let e = parse("[zip.m]\nimr = [0.02, 0.04]\nmmr = [0.01]\n").unwrap_err();
        assert_eq!(e.0.as_deref(), Some("grid.zip.m"));
        assert!(e.1.contains("equal length"));
        let e = parse("a = 3\n").unwrap_err();
        assert!(e.1.contains("list of values"));
        let e = parse("a = []\n").unwrap_err();
        assert!(e.1.contains("at least one"));
        let e = parse("a = [1]\n[zip.m]\na = [2]\n").unwrap_err();
        assert!(e.1.contains("twice"));
    }

    #[test]
    fn set_path_refuses_unknown_fields_and_sections() {
        let mut t: toml::Table =
            toml::from_str("[fund]\ninitial = 1.0\n[market.model]\nkind = 'gbm'\n").unwrap();
        set_path(&mut t, "fund.initial", toml::Value::Float(2.0)).unwrap();
        assert_eq!(t["fund"]["initial"].as_float(), Some(2.0));
        assert!(
            set_path(&mut t, "fund.inital", toml::Value::Float(2.0))
                .unwrap_err()
                .contains("fund.inital")
        );
        assert!(
            set_path(&mut t, "market", toml::Value::Float(2.0))
                .unwrap_err()
                .contains("section")
        );
        assert!(
            set_path(&mut t, "fund.initial.x", toml::Value::Float(2.0))
                .unwrap_err()
                .contains("not a section")
        );
    }

    #[test]
    fn a_further_markets_defaults_are_grid_fields_and_a_typo_lists_the_valid_ones() {
        let mut t: toml::Table = toml::from_str(
            "[fund]\ninitial = 1.0\n[markets.ETH]\ns0 = 3000.0\n[markets.SOL.book]\nkind = 'sqrt'\ny = 1.0\nvol = 0.8\ndaily_volume_usd = 1e9\n",
        )
        .unwrap();
        // ETH writes no book: its default (a linear book) is filled in and then set.
        set_path(
            &mut t,
            "markets.ETH.book.depth_usd",
            toml::Value::Float(5e6),
        )
        .unwrap();
        assert_eq!(
            t["markets"]["ETH"]["book"]["depth_usd"].as_float(),
            Some(5e6)
        );
        assert_eq!(t["markets"]["ETH"]["book"]["kind"].as_str(), Some("linear"));
        set_path(
            &mut t,
            "markets.ETH.permanent_impact",
            toml::Value::Float(0.1),
        )
        .unwrap();
        // SOL's book is of another kind: the linear default's field is not made up for it.
        let e = set_path(
            &mut t,
            "markets.SOL.book.depth_usd",
            toml::Value::Float(5e6),
        )
        .unwrap_err();
        assert!(
            e.ends_with("`markets.SOL.book` has kind, y, vol, daily_volume_usd"),
            "{e}"
        );
        let e = set_path(&mut t, "fund.inital", toml::Value::Float(2.0)).unwrap_err();
        assert!(e.contains("`fund` has initial"), "{e}");
        let e = set_path(&mut t, "markets.BTC.s0", toml::Value::Float(2.0)).unwrap_err();
        assert!(e.contains("`markets` has ETH, SOL"), "{e}");
    }

    #[test]
    fn numbers_in_paths_index_arrays_of_tables() {
        let mut t: toml::Table =
            toml::from_str("[[traders.mix]]\nshare = 1.0\n[[traders.mix]]\nshare = 0.0\n").unwrap();
        set_path(&mut t, "traders.mix.1.share", toml::Value::Float(0.5)).unwrap();
        assert_eq!(
            get_path(&t, "traders.mix.1.share").and_then(toml::Value::as_float),
            Some(0.5)
        );
        assert!(
            set_path(&mut t, "traders.mix.2.share", toml::Value::Float(0.5))
                .unwrap_err()
                .contains("`traders.mix.2` does not exist")
        );
        assert!(
            set_path(&mut t, "traders.mix", toml::Value::Float(0.5))
                .unwrap_err()
                .contains("section")
        );
    }

    #[test]
    fn range_points_are_even_or_geometric_with_exact_ends() {
        let floats =
            |v: Vec<toml::Value>| -> Vec<f64> { v.iter().map(|x| x.as_float().unwrap()).collect() };
        assert_eq!(floats(linspace(0.0, 1.0, 3)), [0.0, 0.5, 1.0]);
        assert_eq!(floats(linspace(2.0, 9.0, 1)), [2.0]);
        let l = floats(logspace(1.0, 100.0, 3));
        assert_eq!((l[0], l[2]), (1.0, 100.0));
        assert!((l[1] - 10.0).abs() < 1e-12);
        let spec = toml::Value::Array(vec![1.into(), 2.into()]);
        assert!(
            range_values("linspace", &spec)
                .unwrap_err()
                .contains("[start, stop, count]")
        );
    }

    #[test]
    fn axis_values_are_scalars() {
        assert_eq!(
            axis_value(&toml::Value::Integer(3)),
            Some(AxisValue::Integer(3))
        );
        assert_eq!(axis_value(&toml::Value::Array(Vec::new())), None);
    }
}
