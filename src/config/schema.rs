//! The JSON Schema of experiment files (`backstop schema`), for editors: TOML language servers
//! (Taplo, Even Better TOML) read the `#:schema` line at the top of a file and complete and
//! check its fields against it.
//!
//! It is derived from the serde types of [`super::file`], so it names the same fields, types
//! and defaults the parser does. Each field's own rule (a range, a sign) is written beside the
//! field with the [`super::rule`] transforms; rules that tie fields together (`mmr < imr`, shares that
//! sum to 1, the horizon checks) a schema cannot say, and only `backstop validate` applies
//! them. `tests/schema.rs` holds the two together: every curated experiment and every mutated
//! file the validator accepts is accepted by the schema, and every rule the schema states is
//! one the validator enforces on that field.

use serde_json::json;

use super::file::ExperimentFile;

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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

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
