//! An experiment file's text read into its serde types: the TOML parsed (over a venue preset
//! if it names one), errors blamed on dotted paths, data files named absolutely.

use std::path::Path;

use super::file::{ExperimentFile, PriceModelSpec};

/// Reads an experiment file's TOML into its sections. A value of the wrong type or an
/// unknown key is blamed on its dotted path (array indices included), with the line and
/// column; a file that is not TOML at all keeps the parser's own message with its excerpt.
pub(super) fn deserialize_toml(text: &str) -> Result<ExperimentFile, (Option<String>, String)> {
    let de =
        toml::Deserializer::parse(text).map_err(|e| (None, e.to_string().trim_end().into()))?;
    serde_path_to_error::deserialize(de).map_err(|e| {
        let field = dotted(e.path()).map(|f| inside_tagged_table(text, f, e.inner().message()));
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
pub(super) fn with_preset(
    text: &str,
    name: &str,
) -> Result<ExperimentFile, (Option<String>, String)> {
    let preset = super::presets::text(name).ok_or_else(|| {
        (
            Some("preset".to_string()),
            format!(
                "`{name}` is not a venue preset; the presets are {}",
                super::presets::names().join(", ")
            ),
        )
    })?;
    let table = |t: &str| -> Result<toml::Table, (Option<String>, String)> {
        toml::from_str(t).map_err(|e: toml::de::Error| (None, e.to_string()))
    };
    let mut merged = table(preset)?;
    let mut own = table(text)?;
    own.remove("preset");
    super::presets::merge(&mut merged, own);
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
    let doc = value.clone();
    serde_path_to_error::deserialize(value).map_err(|e| {
        let field = match dotted(e.path()) {
            Some(f) => {
                let f = within_value(&doc, f.clone(), e.inner().message()).unwrap_or(f);
                format!("{prefix}.{f}")
            }
            None => prefix.to_string(),
        };
        crate::params::ParamError::new(field, plain(e.inner().message()))
    })
}

/// serde reads a tagged table (`market.model`, `market.book`, `traders.strategy`, a
/// distribution) whole before it knows its variant, so a value of the wrong type inside it is
/// blamed on the table. The key is found again here: the one entry of that table whose value
/// is what the message says it got (`string "0.1"`), or, when the message names only a type,
/// the one entry of that type besides the tag. Otherwise the table's path stands.
fn inside_tagged_table(text: &str, field: String, message: &str) -> String {
    match text.parse::<toml::Table>() {
        Ok(doc) => within_value(&toml::Value::Table(doc), field.clone(), message).unwrap_or(field),
        Err(_) => field,
    }
}

fn within_value(doc: &toml::Value, field: String, message: &str) -> Option<String> {
    let got = message
        .strip_prefix("invalid type: ")?
        .split_once(", expected ")?
        .0;
    let table = value_at(doc, &field)?.as_table()?;
    let described = |v: &toml::Value| match v {
        toml::Value::String(s) => (format!("string {s:?}"), "string"),
        toml::Value::Integer(i) => (format!("integer `{i}`"), "integer"),
        toml::Value::Float(x) => (format!("floating point `{x}`"), "floating point"),
        toml::Value::Boolean(b) => (format!("boolean `{b}`"), "boolean"),
        toml::Value::Datetime(d) => (format!("datetime `{d}`"), "datetime"),
        toml::Value::Array(_) => ("sequence".into(), "sequence"),
        toml::Value::Table(_) => ("map".into(), "map"),
    };
    let unique = |keep: &dyn Fn(&str, &toml::Value) -> bool| {
        let mut keys = table.iter().filter(|(k, v)| keep(k, v)).map(|(k, _)| k);
        match (keys.next(), keys.next()) {
            (Some(k), None) => Some(k.clone()),
            _ => None,
        }
    };
    let key = unique(&|_, v| described(v).0 == got)
        .or_else(|| unique(&|k, v| k != "kind" && described(v).1 == got))?;
    Some(format!("{field}.{key}"))
}

/// The value at a dotted path (`traders.mix[2].strategy`) of a TOML document.
fn value_at<'a>(doc: &'a toml::Value, path: &str) -> Option<&'a toml::Value> {
    path.split('.').try_fold(doc, |v, part| {
        let (key, indices) = part
            .split_once('[')
            .map_or((part, ""), |(k, rest)| (k, rest));
        let mut v = if key.is_empty() { v } else { v.get(key)? };
        for index in indices.split('[').filter(|i| !i.is_empty()) {
            v = v.get(index.trim_end_matches(']').parse::<usize>().ok()?)?;
        }
        Some(v)
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
            "internally tagged enum DistributionSpec" => {
                "a distribution table: { kind = \"fixed\", value = 10.0 }, or \"uniform\" and \
                 \"log_uniform\" (min, max), or \"lognormal\" (median, log_sd)"
            }
            other if other.starts_with("internally tagged enum") => {
                "a table with a `kind` (`backstop schema` lists each kind's fields)"
            }
            other => other,
        };
        format!("must be {expected}, got {got}")
    } else {
        message.trim_end().to_string()
    }
}

/// Dotted key and value of every leaf of a TOML value, in file order (arrays as written).
pub fn toml_leaves(prefix: &str, v: &toml::Value, out: &mut Vec<(String, String)>) {
    for_each_leaf(prefix, v, &mut |key, leaf| {
        out.push((key.to_string(), leaf.to_string()))
    });
}

/// Every leaf of `v` (a value that is not a table; an array is one leaf) with its dotted
/// path, in file order.
pub fn for_each_leaf(prefix: &str, v: &toml::Value, f: &mut dyn FnMut(&str, &toml::Value)) {
    match v {
        toml::Value::Table(t) => {
            for (k, v) in t {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                for_each_leaf(&key, v, f);
            }
        }
        leaf => f(prefix, leaf),
    }
}

/// 1-based line and column of byte `offset` in `text`.
fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Data files are named relative to the experiment file (`base` its folder); the resolved
/// experiment names them absolutely, so it can be run from anywhere.
pub(super) fn absolutize_all_data_paths(file: &mut ExperimentFile, base: &Path) {
    absolutize_data_paths(&mut file.market.model, base);
    for (_, market) in file.markets.iter_mut() {
        if let Some(model) = market.as_table_mut().and_then(|t| t.get_mut("model")) {
            absolutize_raw_data_paths(model, base);
        }
    }
}

fn absolutize_data_paths(spec: &mut PriceModelSpec, base: &Path) {
    match spec {
        PriceModelSpec::Replay { path, .. } | PriceModelSpec::Bootstrap { path, .. }
            if !path.is_empty() && Path::new(path).is_relative() =>
        {
            let joined = base.join(&*path);
            let resolved = std::fs::canonicalize(&joined).unwrap_or(joined);
            *path = resolved.to_string_lossy().into_owned();
        }
        PriceModelSpec::RegimeSwitching { regimes, .. } => {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_number_for_a_table_says_what_the_table_is() {
        let got = plain(
            "invalid type: floating point `100.0`, expected internally tagged enum DistributionSpec",
        );
        assert_eq!(
            got,
            "must be a distribution table: { kind = \"fixed\", value = 10.0 }, or \"uniform\" and \
             \"log_uniform\" (min, max), or \"lognormal\" (median, log_sd), got floating point \
             `100.0`"
        );
        let got = plain("invalid type: integer `3`, expected internally tagged enum ShockSpec");
        assert!(got.starts_with("must be a table with a `kind`"), "{got}");
    }

    #[test]
    fn a_wrong_type_inside_a_tagged_table_names_the_key() {
        let text = "[market.model]\nkind = \"merton\"\njump_sd = \"0.1\"\n";
        let field = inside_tagged_table(
            text,
            "market.model".into(),
            "invalid type: string \"0.1\", expected f64",
        );
        assert_eq!(field, "market.model.jump_sd");
        let mix = "[[traders.mix]]\nshare = 1.0\n[traders.mix.strategy]\nkind = \"x\"\nd = true\n";
        let field = inside_tagged_table(
            mix,
            "traders.mix[0].strategy".into(),
            "invalid type: boolean `true`, expected f64",
        );
        assert_eq!(field, "traders.mix[0].strategy.d");
        // Two candidates: the table's own path stands.
        let two = "[market.model]\nkind = \"merton\"\na = \"x\"\nb = \"x\"\n";
        let field = inside_tagged_table(
            two,
            "market.model".into(),
            "invalid type: string \"x\", expected f64",
        );
        assert_eq!(field, "market.model");
    }
}
