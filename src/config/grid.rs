//! The `[grid]` table: axes named by the dotted path of any field, swept as a Cartesian
//! product. Each cell is the resolved base file with the axis values written in, then parsed
//! and validated like a file of its own, so a grid can reach every field and every rule holds.

use std::fmt;

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
];

pub(super) fn parse_axes(grid: &toml::Table) -> Result<Vec<GridAxis>, (Option<String>, String)> {
    let mut axes = Vec::new();
    for (path, values) in grid {
        let field = Some(format!("grid.\"{path}\""));
        if NOT_SWEEPABLE.contains(&path.as_str()) {
            return Err((
                field,
                format!("`{path}` is the same for every cell and cannot be a grid axis"),
            ));
        }
        let toml::Value::Array(items) = values else {
            return Err((field, "must be a list of values, e.g. [0.005, 0.01]".into()));
        };
        if items.is_empty() {
            return Err((field, "must list at least one value".into()));
        }
        let mut parsed = Vec::with_capacity(items.len());
        for item in items {
            parsed.push(match item {
                toml::Value::Integer(v) => AxisValue::Integer(*v),
                toml::Value::Float(v) => AxisValue::Float(*v),
                toml::Value::Boolean(v) => AxisValue::Bool(*v),
                toml::Value::String(v) => AxisValue::Text(v.clone()),
                other => {
                    return Err((
                        field,
                        format!("values must be numbers, booleans or strings, got {other}"),
                    ));
                }
            });
        }
        axes.push(GridAxis {
            path: path.clone(),
            values: parsed,
        });
    }
    Ok(axes)
}

/// Every combination of axis values, the last axis varying fastest. No axes: one empty cell.
pub(super) fn cartesian(axes: &[GridAxis]) -> Vec<Vec<AxisValue>> {
    let mut cells: Vec<Vec<AxisValue>> = vec![Vec::new()];
    for axis in axes {
        let mut next = Vec::with_capacity(cells.len() * axis.values.len());
        for prefix in &cells {
            for v in &axis.values {
                let mut c = prefix.clone();
                c.push(v.clone());
                next.push(c);
            }
        }
        cells = next;
    }
    cells
}

/// Writes `value` at the dotted `path` of `table`. The field must exist in the resolved file
/// (every default is filled in there), so a typo in a path is an error, not a new key.
pub(super) fn set_path(
    table: &mut toml::Table,
    path: &str,
    value: toml::Value,
) -> Result<(), String> {
    let parts: Vec<&str> = path.split('.').collect();
    let mut t = table;
    for (depth, part) in parts.iter().enumerate() {
        let last = depth + 1 == parts.len();
        let here = parts[..=depth].join(".");
        match t.get_mut(*part) {
            None => {
                return Err(format!(
                    "is not a field of the experiment: `{here}` does not exist"
                ));
            }
            Some(slot) if last => {
                if slot.is_table() {
                    return Err(format!("`{here}` is a section, not a field"));
                }
                *slot = value;
                return Ok(());
            }
            Some(toml::Value::Table(inner)) => t = inner,
            Some(_) => return Err(format!("`{here}` is a field, not a section")),
        }
    }
    Err("is empty".into())
}

/// The value at the dotted `path` of `table`, if there is one.
pub(super) fn get_path<'a>(table: &'a toml::Table, path: &str) -> Option<&'a toml::Value> {
    let mut parts = path.split('.');
    let mut v = table.get(parts.next()?)?;
    for part in parts {
        v = v.as_table()?.get(part)?;
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
            },
            GridAxis {
                path: "b".into(),
                values: vec![
                    AxisValue::Bool(true),
                    AxisValue::Bool(false),
                    AxisValue::Bool(true),
                ],
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
}
