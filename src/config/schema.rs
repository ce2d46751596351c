//! The JSON Schema of experiment files (`backstop schema`), for editors: TOML language servers
//! (Taplo, Even Better TOML) read the `#:schema` line at the top of a file and complete and
//! check its fields against it.
//!
//! It is derived from the serde types of [`super::file`], so it names the same fields, types
//! and defaults the parser does. Each field's own rule (a range, a sign) is written beside the
//! field with the [`rule`] transforms; rules that tie fields together (`mmr < imr`, shares that
//! sum to 1, the horizon checks) a schema cannot say, and only `backstop validate` applies
//! them. `tests/schema.rs` holds the two together: every curated experiment and every mutated
//! file the validator accepts is accepted by the schema, and every rule the schema states is
//! one the validator enforces on that field.

use schemars::{Schema, SchemaGenerator, json_schema};
use serde_json::{Value, json};

use super::ExperimentFile;

/// Where the committed schema lives, relative to the repository (the `#:schema` lines of the
/// curated experiments point at it).
pub const SCHEMA_FILE: &str = "experiments/backstop.schema.json";

/// The schema of an experiment file, as pretty-printed JSON with a final newline.
pub fn experiment_schema() -> String {
    let mut schema = schemars::generate::SchemaSettings::draft2020_12()
        .for_deserialize()
        .into_generator()
        .into_root_schema_for::<ExperimentFile>();
    schema.insert("title".into(), json!("backstop experiment"));
    schema.insert(
        "description".into(),
        json!(
            "An experiment file of backstop (MODEL.md). Rules that tie fields together are \
             checked by `backstop validate`, not by this schema."
        ),
    );
    let mut text = serde_json::to_string_pretty(&schema).expect("a schema is plain JSON");
    text.push('\n');
    text
}

/// The `[grid]` table: dotted field paths to lists or ranges, and `[grid.zip.NAME]` groups
/// of the same.
pub(super) fn grid(_: &mut SchemaGenerator) -> Schema {
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
                    { "type": "integer", "minimum": 1, "maximum": super::MAX_CELLS }
                ],
                "minItems": 3,
                "maxItems": 3
            }
        },
        "required": [kind],
        "additionalProperties": false
    })
}

/// The single-field rules of [`crate::params`], as schema keywords and a sentence appended
/// to the field's description (which editors show on hover).
pub(super) mod rule {
    use schemars::Schema;
    use serde_json::json;

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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_names_rules_units_and_defaults() {
        let schema: Value = serde_json::from_str(&experiment_schema()).unwrap();
        let s0 = &schema["$defs"]["MarketSection"]["properties"]["s0"];
        assert_eq!(s0["minimum"], json!(crate::market::MIN_S0));
        assert_eq!(s0["maximum"], json!(crate::market::MAX_S0));
        assert_eq!(s0["x-unit"], json!("USD"));
        assert_eq!(s0["default"], json!(30_000.0));
        let fee_rate = &schema["$defs"]["MarginSection"]["properties"]["fee_rate"];
        assert_eq!(fee_rate["minimum"], json!(0.0));
        assert_eq!(fee_rate["exclusiveMaximum"], json!(1.0));
        assert!(
            fee_rate["description"]
                .as_str()
                .unwrap()
                .ends_with("Must be in [0, 1).")
        );
        let seeds = &schema["$defs"]["ExperimentSection"]["properties"]["seeds"];
        assert_eq!(seeds["minimum"], json!(1));
        assert_eq!(schema["additionalProperties"], json!(false));
    }
}
