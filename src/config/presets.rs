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
