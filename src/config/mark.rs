//! `[market.mark]`: the venue's mark rule (MODEL.md section 2), checked into a
//! [`MarkRule`].

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::rule;
use crate::market::{MarkKind, MarkRule};
use crate::params::ParamResult;

/// Which price margin is checked against.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MarkRuleSpec {
    /// The venue's own book (a stress case; R1's benchmark rule).
    Book,
    /// The index (dYdX v4, Drift, GMX: the oracle).
    Index,
    /// The index times the last funding interval's average basis, capped (BitMEX, Bybit 2020).
    Fair,
    /// The index times an EMA of the book's basis, capped (OKX, Deribit).
    Ema,
    /// The median of the fair price, the index plus the basis EMA, and the book (Binance,
    /// Hyperliquid).
    Median,
}

/// `[market.mark]`. A file that names no rule gets [`MarkSection::default`], Binance's.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct MarkSection {
    pub rule: MarkRuleSpec,
    /// The largest basis the fair price (and the `ema` rule) allows, as a fraction of the
    /// index: 0.00375 is BitMEX's 0.375%.
    #[schemars(transform = rule::open_unit)]
    pub basis_cap: f64,
    /// Time constant of the moving average of the book's basis (`ema`, `median`).
    #[schemars(transform = rule::positive, extend("x-unit" = "s"))]
    pub basis_seconds: f64,
    /// The interval over which the fair basis is averaged (`fair`, `median`).
    #[schemars(transform = rule::positive, extend("x-unit" = "h"))]
    pub funding_interval_hours: f64,
}

impl Default for MarkSection {
    /// Binance USDⓈ-M's rule (support FAQ 360033525071): the median of the funding-basis
    /// price, the index plus a one-minute moving average of the book's basis, and the last
    /// price; funding every 8 hours, the basis capped at 0.375% (assumed: the cap Binance's
    /// BTCUSDT funding formula clamps to is not published for 2021).
    fn default() -> Self {
        Self {
            rule: MarkRuleSpec::Median,
            basis_cap: 0.00375,
            basis_seconds: 60.0,
            funding_interval_hours: 8.0,
        }
    }
}

impl MarkSection {
    /// The rule at a step of `dt_seconds`; errors name the field within `[market.mark]`.
    pub fn check(&self, dt_seconds: f64) -> ParamResult<MarkRule> {
        // Every field is checked, whether the rule reads it or not: a grid that zips rules with
        // their parameters never carries a value no rule could take. The median rule reads
        // all three, so its check is theirs.
        MarkRule::new(
            MarkKind::Median,
            self.basis_cap,
            self.basis_seconds,
            self.funding_interval_hours,
            dt_seconds,
        )?;
        let kind = match self.rule {
            MarkRuleSpec::Book => MarkKind::Book,
            MarkRuleSpec::Index => MarkKind::Index,
            MarkRuleSpec::Fair => MarkKind::Fair,
            MarkRuleSpec::Ema => MarkKind::Ema,
            MarkRuleSpec::Median => MarkKind::Median,
        };
        MarkRule::new(
            kind,
            self.basis_cap,
            self.basis_seconds,
            self.funding_interval_hours,
            dt_seconds,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_a_real_venues_rule_and_checks() {
        let rule = MarkSection::default().check(60.0).unwrap();
        assert_eq!(rule.kind(), MarkKind::Median);
    }

    #[test]
    fn a_cap_given_in_percent_is_refused_by_name() {
        let s = MarkSection {
            rule: MarkRuleSpec::Fair,
            basis_cap: 0.375 * 10.0,
            ..Default::default()
        };
        let e = s.check(60.0).unwrap_err();
        assert!(e.to_string().contains("basis_cap"), "{e}");
    }

    #[test]
    fn every_field_is_checked_whatever_the_rule() {
        let s = MarkSection {
            rule: MarkRuleSpec::Book,
            basis_cap: 0.00375,
            basis_seconds: 60.0,
            funding_interval_hours: 8.0,
        };
        assert_eq!(s.check(60.0).unwrap(), MarkRule::book());
        for (field, bad) in [
            (
                "basis_cap",
                MarkSection {
                    basis_cap: f64::NAN,
                    ..s.clone()
                },
            ),
            (
                "basis_seconds",
                MarkSection {
                    basis_seconds: -1.0,
                    ..s.clone()
                },
            ),
            (
                "funding_interval_hours",
                MarkSection {
                    funding_interval_hours: f64::INFINITY,
                    ..s.clone()
                },
            ),
        ] {
            let e = bad.check(60.0).unwrap_err();
            assert!(e.to_string().contains(field), "{e}");
        }
    }
}
