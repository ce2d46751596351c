//! Venue presets for backtests (issue 15): a venue's margin, liquidation and fund rules as
//! one TOML table, each file citing where its figures come from. An experiment names one with
//! `preset = "..."` at the top; the preset is read first and every key the experiment sets
//! overrides it, table by table.

/// Every preset: name, and the TOML the binary carries.
pub const PRESETS: [(&str, &str); 6] = [
    ("bitmex-2020", include_str!("presets/bitmex-2020.toml")),
    ("deribit-2020", include_str!("presets/deribit-2020.toml")),
    ("binance-2021", include_str!("presets/binance-2021.toml")),
    ("okx-2025", include_str!("presets/okx-2025.toml")),
    (
        "hyperliquid-2025",
        include_str!("presets/hyperliquid-2025.toml"),
    ),
    ("dydx-v4-2025", include_str!("presets/dydx-v4-2025.toml")),
];

/// The text of preset `name`.
pub fn text(name: &str) -> Option<&'static str> {
    PRESETS.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// The preset names, for error messages and `backstop presets`.
pub fn names() -> Vec<&'static str> {
    PRESETS.iter().map(|(n, _)| *n).collect()
}

/// One line on preset `name`: the venue and date its header names (the text before its
/// sources), then the rules that set it apart (mark, liquidation order, takeover, ADL price;
/// a rule the preset leaves out is the default's).
pub fn summary(name: &str) -> Option<String> {
    let text = text(name)?;
    let header: Vec<&str> = text
        .lines()
        .map_while(|l| l.strip_prefix('#'))
        .map(str::trim)
        .collect();
    let header = header.join(" ");
    let venue = header
        .split_once(" Sources")
        .map_or(header.as_str(), |(v, _)| v)
        .trim_end_matches('.');
    let table: toml::Table = toml::from_str(text).ok()?;
    // A rule the preset leaves out is the file format's default, named as such.
    let rule = |section: &[&str], key: &str, default: &str| {
        section
            .iter()
            .try_fold(&table, |t, s| t.get(*s)?.as_table())
            .and_then(|t| t.get(key)?.as_str())
            .map_or_else(|| format!("{default} (the default)"), str::to_string)
    };
    Some(format!(
        "{venue}. Mark {}, orders limited: {}, takeover: {}, ADL price: {}",
        rule(&["market", "mark"], "rule", "median"),
        rule(&["liquidation"], "order_limit", "none"),
        rule(&["liquidation"], "takeover", "none"),
        rule(&["fund"], "adl_price", "mark"),
    ))
}

/// `over` laid on `under`: tables merge key by key, anything else in `over` replaces.
pub fn merge(under: &mut toml::Table, over: toml::Table) {
    for (key, value) in over {
        match (under.get_mut(&key), value) {
            (Some(toml::Value::Table(u)), toml::Value::Table(o)) => merge(u, o),
            (_, value) => {
                under.insert(key, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_is_a_valid_table() {
        for (name, text) in PRESETS {
            let t: toml::Table = toml::from_str(text).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(
                t.contains_key("margin") && t.contains_key("liquidation"),
                "{name}"
            );
        }
    }

    #[test]
    fn every_preset_says_what_it_is() {
        for name in names() {
            let line = summary(name).unwrap();
            assert!(
                line.contains("-like, as of") && !line.contains("Sources"),
                "{line}"
            );
            assert!(
                !line.contains("default, "),
                "{name} names its rules: {line}"
            );
        }
        let bitmex = summary("bitmex-2020").unwrap();
        assert!(
            bitmex.starts_with("BitMEX-like, as of March 2020"),
            "{bitmex}"
        );
        assert!(
            bitmex.ends_with(
                "Mark fair, orders limited: bankruptcy, takeover: fund, ADL price: bankruptcy"
            ),
            "{bitmex}"
        );
    }

    #[test]
    fn the_experiment_overrides_the_preset_key_by_key() {
        let mut under: toml::Table = toml::from_str("[margin]\nimr = 0.01\nmmr = 0.005\n").unwrap();
        let over: toml::Table =
            toml::from_str("[margin]\nmmr = 0.004\n[fund]\ninitial = 1.0\n").unwrap();
        merge(&mut under, over);
        assert_eq!(under["margin"]["imr"].as_float(), Some(0.01));
        assert_eq!(under["margin"]["mmr"].as_float(), Some(0.004));
        assert_eq!(under["fund"]["initial"].as_float(), Some(1.0));
    }
}
