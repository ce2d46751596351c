//! The single-field rules of [`crate::params`], as schema keywords and a sentence appended
//! to the field's description (which editors show on hover). A leaf: the serde types of
//! `file` name them beside each field, and the schema is derived from those types.

use schemars::{Schema, SchemaGenerator, json_schema};
use serde_json::{Value, json};

fn state(schema: &mut Schema, keywords: &[(&str, f64)], sentence: &str) {
    for (key, bound) in keywords {
        schema.insert((*key).into(), json!(bound));
    }
    let described = match schema.get("description").and_then(|d| d.as_str()) {
        Some(d) => format!("{d}\n\nMust be {sentence}."),
        None => format!("Must be {sentence}."),
    };
    schema.insert("description".into(), json!(described));
}

/// `params::positive`: finite and > 0.
pub fn positive(schema: &mut Schema) {
    state(schema, &[("exclusiveMinimum", 0.0)], "> 0");
}

/// `params::non_negative`: finite and >= 0.
pub fn non_negative(schema: &mut Schema) {
    state(schema, &[("minimum", 0.0)], ">= 0");
}

/// `params::unit_interval`: a probability or share in [0, 1].
pub fn unit_interval(schema: &mut Schema) {
    state(schema, &[("minimum", 0.0), ("maximum", 1.0)], "in [0, 1]");
}

/// `params::rate_below_one`: a rate in [0, 1).
pub fn below_one(schema: &mut Schema) {
    state(
        schema,
        &[("minimum", 0.0), ("exclusiveMaximum", 1.0)],
        "in [0, 1)",
    );
}

/// A share that cannot be zero: (0, 1].
pub fn open_unit(schema: &mut Schema) {
    state(
        schema,
        &[("exclusiveMinimum", 0.0), ("maximum", 1.0)],
        "in (0, 1]",
    );
}

/// A correlation: [-1, 1].
pub fn correlation(schema: &mut Schema) {
    state(schema, &[("minimum", -1.0), ("maximum", 1.0)], "in [-1, 1]");
}

/// The `[grid]` table: dotted field paths to lists or ranges, and `[grid.zip.NAME]` groups
/// of the same.
pub fn grid(_: &mut SchemaGenerator) -> Schema {
    let axis = json!({
        "description": "The values a field takes across the grid's cells: a list, or a range \
                        with both ends included.",
        "oneOf": [
            {
                "type": "array",
                "minItems": 1,
                "items": { "type": ["number", "string", "boolean"] }
            },
            range_schema("linspace", "Evenly spaced: [start, stop, count]."),
            range_schema("logspace", "Geometric, both ends > 0: [start, stop, count]."),
        ]
    });
    json_schema!({
        "description": "Grid axes: the dotted path of any field (`\"liquidation.penalty_rate\"`) \
                        to its values; the cells are their Cartesian product. Axes in one \
                        `[grid.zip.NAME]` table move together and have equal lengths.",
        "type": "object",
        "properties": {
            "zip": {
                "type": "object",
                "additionalProperties": {
                    "type": "object",
                    "additionalProperties": axis.clone()
                }
            }
        },
        "additionalProperties": axis
    })
}

fn range_schema(kind: &str, description: &str) -> Value {
    json!({
        "type": "object",
        "description": description,
        "properties": {
            kind: {
                "type": "array",
                "prefixItems": [
                    { "type": "number" },
                    { "type": "number" },
                    { "type": "integer", "minimum": 1, "maximum": super::limits::MAX_CELLS }
                ],
                "minItems": 3,
                "maxItems": 3
            }
        },
        "required": [kind],
        "additionalProperties": false
    })
}
