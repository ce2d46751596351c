//! `[traders]`: the population, its strategies and their decision rates.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::config::rule;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct TradersSection {
    /// Traders in each market without a `traders` of its own.
    #[schemars(range(min = 1, max = u32::MAX))]
    pub count: u64,
    /// Collateral in USD.
    pub collateral: DistributionSpec,
    /// Leverage at t = 0 (notional / collateral), capped at `1 / imr`.
    pub leverage: DistributionSpec,
    /// Probability that a trader is long.
    #[schemars(transform = rule::unit_interval)]
    pub long_share: f64,
    /// The strategy of every trader, unless `[[traders.mix]]` lists several.
    pub strategy: StrategySpec,
    /// A mix of strategies with the share of traders following each (shares sum to 1).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mix: Vec<MixEntry>,
    /// Liquidated traders come back after a cool-down.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reentry: Option<ReentrySection>,
    /// Traders split large orders: one decision trades at most the notional that moves the
    /// mark by this fraction at the book's current depth.
    #[schemars(transform = rule::positive)]
    pub max_order_impact: f64,
    /// Open interest at t = 0 as a record gives it (USD, both sides' notional summed), in
    /// each perp market: the drawn collateral of each side is scaled so that the longs hold
    /// exactly `long_share` of it and the shorts the rest (every trader keeps its leverage,
    /// unless a margin tier caps it at the larger size); with a warm book, on the notional at
    /// t = 0 of positions opened at their own prices. 0: open interest is what the draws
    /// give.
    #[schemars(transform = rule::non_negative, extend("x-unit" = "USD"))]
    pub open_interest_usd: f64,
    /// Warm book (MODEL.md section 3): each position opens at a time drawn over this
    /// look-back before t = 0, on a path of the market's own price model (on a replay, the
    /// file's rows before `start`, each bar's low and high checked with intrabar bars), and
    /// only positions that survive to t = 0 are kept, so liquidation prices spread as on a
    /// venue that has traded for days. 0: a cold start, every position opened at `s0` at
    /// t = 0.
    #[schemars(range(min = 0.0, max = 720.0), extend("x-unit" = "h"))]
    pub warm_start_hours: f64,
}

/// One strategy of the mix.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MixEntry {
    #[schemars(transform = rule::unit_interval)]
    pub share: f64,
    pub strategy: StrategySpec,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReentrySection {
    #[schemars(transform = rule::non_negative, extend("x-unit" = "min"))]
    pub cooldown_minutes: f64,
    /// Chance that a liquidated trader comes back after the cool-down.
    #[schemars(transform = rule::unit_interval)]
    pub probability: f64,
}

/// A number, or a distribution to draw one per trader from.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(untagged)]
pub enum NumberOrDistribution {
    Number(
        #[schemars(
            extend("exclusiveMinimum" = 0.0),
            range(max = crate::config::limits::MAX_DECISIONS_PER_HOUR)
        )]
        f64,
    ),
    Distribution(DistributionSpec),
}

impl Default for TradersSection {
    fn default() -> Self {
        Self {
            count: 1_000,
            collateral: DistributionSpec::Lognormal {
                median: 10_000.0,
                log_sd: 1.0,
            },
            leverage: DistributionSpec::LogUniform {
                min: 2.0,
                max: 50.0,
            },
            long_share: 0.5,
            strategy: StrategySpec::Static,
            mix: Vec::new(),
            reentry: None,
            max_order_impact: 0.005,
            open_interest_usd: 0.0,
            warm_start_hours: 0.0,
        }
    }
}

/// A positive quantity drawn once per trader.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum DistributionSpec {
    Fixed {
        #[schemars(transform = rule::positive)]
        value: f64,
    },
    /// Uniform on `[min, max]`, `min <= max`.
    Uniform {
        #[schemars(transform = rule::positive)]
        min: f64,
        #[schemars(transform = rule::positive)]
        max: f64,
    },
    /// Log-uniform on `[min, max]`, `min <= max`.
    LogUniform {
        #[schemars(transform = rule::positive)]
        min: f64,
        #[schemars(transform = rule::positive)]
        max: f64,
    },
    Lognormal {
        #[schemars(transform = rule::positive)]
        median: f64,
        /// Standard deviation of the log.
        #[schemars(transform = rule::non_negative)]
        log_sd: f64,
    },
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum StrategySpec {
    /// Opens once at t = 0 and never trades again.
    #[default]
    Static,
    /// Flat, long or short at random at each decision.
    Noise {
        decisions_per_hour: NumberOrDistribution,
    },
    /// Long above the mark's moving average, short below.
    Momentum {
        decisions_per_hour: NumberOrDistribution,
        #[schemars(transform = rule::positive, extend("x-unit" = "min"))]
        ema_minutes: f64,
    },
    /// Short above the mark's moving average, long below.
    Contrarian {
        decisions_per_hour: NumberOrDistribution,
        #[schemars(transform = rule::positive, extend("x-unit" = "min"))]
        ema_minutes: f64,
    },
    /// Closes out when the market's liquidations over `window_minutes` pass
    /// `liquidation_threshold_usd`, or its own equity falls `drawdown` below its peak.
    Panic {
        decisions_per_hour: NumberOrDistribution,
        #[schemars(transform = rule::positive, extend("x-unit" = "min"))]
        window_minutes: f64,
        #[schemars(transform = rule::non_negative, extend("x-unit" = "USD"))]
        liquidation_threshold_usd: f64,
        #[schemars(transform = rule::open_unit)]
        drawdown: f64,
    },
    /// Herding (Granovetter): de-risks once, when all de-risking notional over
    /// `window_minutes` (liquidations, ADL, voluntary closes), over open interest at t = 0,
    /// reaches its private threshold drawn from `threshold`; it keeps `keep` of its position,
    /// or with `flip` closes and opens the other side.
    Herding {
        decisions_per_hour: NumberOrDistribution,
        #[schemars(transform = rule::positive, extend("x-unit" = "min"))]
        window_minutes: f64,
        threshold: ThresholdSpec,
        /// Share of the position kept when it de-risks (0 closes).
        #[serde(default)]
        #[schemars(range(min = 0.0), extend("exclusiveMaximum" = 1.0))]
        keep: f64,
        /// After closing, open the opposite side at its own leverage (capitulation).
        #[serde(default)]
        flip: bool,
    },
    /// Tops up collateral from a reserve (`reserve_ratio` x its collateral at t = 0) to the
    /// initial margin when its margin ratio falls below `trigger` x mmr.
    MarginDefender {
        decisions_per_hour: NumberOrDistribution,
        #[schemars(transform = rule::non_negative)]
        reserve_ratio: f64,
        #[serde(default = "default_trigger")]
        #[schemars(range(min = 1.0))]
        trigger: f64,
    },
}

impl StrategySpec {
    /// The strategy's name in reports, as its `kind` is written.
    pub fn name(&self) -> &'static str {
        match self {
            StrategySpec::Static => "static",
            StrategySpec::Noise { .. } => "noise",
            StrategySpec::Momentum { .. } => "momentum",
            StrategySpec::Contrarian { .. } => "contrarian",
            StrategySpec::Panic { .. } => "panic",
            StrategySpec::Herding { .. } => "herding",
            StrategySpec::MarginDefender { .. } => "margin_defender",
        }
    }

    /// How often a trader following it decides; `None` for one that never trades again.
    pub fn decisions_per_hour(&self) -> Option<&NumberOrDistribution> {
        match self {
            StrategySpec::Static => None,
            StrategySpec::Noise { decisions_per_hour }
            | StrategySpec::Momentum {
                decisions_per_hour, ..
            }
            | StrategySpec::Contrarian {
                decisions_per_hour, ..
            }
            | StrategySpec::Panic {
                decisions_per_hour, ..
            }
            | StrategySpec::Herding {
                decisions_per_hour, ..
            }
            | StrategySpec::MarginDefender {
                decisions_per_hour, ..
            } => Some(decisions_per_hour),
        }
    }

    /// The reserve a margin defender tops up from (times its collateral); 0 for the others.
    pub fn reserve_ratio(&self) -> f64 {
        match self {
            StrategySpec::MarginDefender { reserve_ratio, .. } => *reserve_ratio,
            StrategySpec::Static
            | StrategySpec::Noise { .. }
            | StrategySpec::Momentum { .. }
            | StrategySpec::Contrarian { .. }
            | StrategySpec::Panic { .. }
            | StrategySpec::Herding { .. } => 0.0,
        }
    }
}

/// The law of herding traders' private thresholds, as shares of open interest at t = 0.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ThresholdSpec {
    Fixed {
        #[schemars(transform = rule::non_negative)]
        value: f64,
    },
    /// Uniform on `[min, max]`.
    Uniform {
        #[schemars(transform = rule::non_negative)]
        min: f64,
        #[schemars(transform = rule::non_negative)]
        max: f64,
    },
    /// Normal, what falls below 0 set to 0 (those de-risk at their first decision).
    Normal {
        mean: f64,
        #[schemars(transform = rule::non_negative)]
        sd: f64,
    },
}

fn default_trigger() -> f64 {
    1.5
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_strategy_names_its_kind_rate_and_reserve() {
        let defender: StrategySpec = toml::from_str(
            "kind = \"margin_defender\"\ndecisions_per_hour = 2.0\nreserve_ratio = 0.5\n",
        )
        .unwrap();
        assert_eq!(defender.name(), "margin_defender");
        assert_eq!(
            defender.decisions_per_hour(),
            Some(&NumberOrDistribution::Number(2.0))
        );
        assert_eq!(defender.reserve_ratio(), 0.5);
        assert_eq!(StrategySpec::Static.decisions_per_hour(), None);
        assert_eq!(StrategySpec::Static.reserve_ratio(), 0.0);
    }
}
