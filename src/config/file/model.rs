//! The index model of a market (`[market.model]`) and the correlation across markets.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::config::rule;

/// Correlated shocks across markets (MODEL.md section 1).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CorrelationSection {
    /// Correlation of the markets' shocks: `[market]` first, then `[markets.*]` in file order.
    pub matrix: Vec<Vec<f64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crash: Option<CrashSection>,
}

/// A crash that hits every market in the same step.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CrashSection {
    /// Crashes per year.
    #[schemars(transform = rule::positive, extend("x-unit" = "1/year"))]
    pub intensity: f64,
    /// Mean and sd of the crash's log size (before the betas).
    pub jump_mean: f64,
    #[schemars(transform = rule::non_negative)]
    pub jump_sd: f64,
    /// Each market's exposure to the crash, in market order.
    pub betas: Vec<f64>,
}

/// The volatility model of the index (MODEL.md section 1). Vols are annualized (365-day year).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum PriceModelSpec {
    /// Geometric Brownian motion.
    Gbm {
        #[schemars(transform = rule::non_negative, extend("x-unit" = "1/sqrt(year)"))]
        vol: f64,
        /// Annualized drift of the price.
        #[serde(default)]
        #[schemars(extend("x-unit" = "1/year"))]
        drift: f64,
    },
    /// Merton jump-diffusion: GBM plus Poisson jumps (per year) with normal log sizes,
    /// drift-compensated.
    Merton {
        #[schemars(transform = rule::non_negative, extend("x-unit" = "1/sqrt(year)"))]
        vol: f64,
        #[schemars(transform = rule::non_negative, extend("x-unit" = "1/year"))]
        jump_intensity: f64,
        /// Mean of a jump's log size.
        jump_mean: f64,
        /// Standard deviation of a jump's log size.
        #[schemars(transform = rule::non_negative)]
        jump_sd: f64,
        #[serde(default)]
        #[schemars(extend("x-unit" = "1/year"))]
        drift: f64,
    },
    /// Heston stochastic volatility (full-truncation Euler with `substeps` per step).
    Heston {
        #[schemars(transform = rule::non_negative, extend("x-unit" = "1/sqrt(year)"))]
        initial_vol: f64,
        #[schemars(transform = rule::positive, extend("x-unit" = "1/sqrt(year)"))]
        long_run_vol: f64,
        /// Speed of mean reversion of the variance.
        #[schemars(transform = rule::positive, extend("x-unit" = "1/year"))]
        kappa: f64,
        /// Volatility of the variance.
        #[schemars(transform = rule::non_negative)]
        xi: f64,
        /// Correlation of the price's and the variance's shocks.
        #[schemars(transform = rule::correlation)]
        rho: f64,
        #[serde(default = "default_substeps")]
        #[schemars(range(min = 1))]
        substeps: u32,
        #[serde(default)]
        #[schemars(extend("x-unit" = "1/year"))]
        drift: f64,
    },
    /// A Markov chain over regimes, each with its own model; `transition[i][j]` is the
    /// per-step probability of moving from regime i to j.
    RegimeSwitching {
        #[schemars(length(min = 1))]
        regimes: Vec<PriceModelSpec>,
        transition: Vec<Vec<f64>>,
        /// The regime at t = 0, counted from 0.
        #[serde(default)]
        initial: usize,
    },
    /// Historical replay of a CSV price column, one row per step, rescaled to `s0`. `path` is
    /// relative to the experiment file; `start` and `end` (dates or Unix seconds, UTC) choose
    /// the window.
    Replay {
        path: String,
        #[serde(default = "default_price_column")]
        price_column: String,
        #[serde(default = "default_time_column")]
        time_column: String,
        #[serde(default)]
        start: String,
        #[serde(default)]
        end: String,
        #[serde(default = "default_one")]
        #[schemars(transform = rule::positive)]
        vol_multiplier: f64,
        /// The path inside each bar: `none` steps from close to close, one row per step;
        /// `bridge` draws, per seed, a path through each bar's open, high, low and close
        /// (MODEL.md section 1) at a step a whole number (3 or more) of times finer than the
        /// rows.
        #[serde(default)]
        intrabar: IntrabarSpec,
        /// With `intrabar = "bridge"`: the bars' open, high and low columns (`price_column`
        /// is the close).
        #[serde(default = "default_open_column")]
        open_column: String,
        #[serde(default = "default_high_column")]
        high_column: String,
        #[serde(default = "default_low_column")]
        low_column: String,
    },
    /// Stationary block bootstrap (Politis-Romano) of a CSV price column's log returns, with
    /// blocks of `mean_block` steps on average; window and path as for `replay`.
    Bootstrap {
        path: String,
        #[serde(default = "default_price_column")]
        price_column: String,
        #[serde(default = "default_time_column")]
        time_column: String,
        #[serde(default)]
        start: String,
        #[serde(default)]
        end: String,
        /// Mean block length, in steps (in bars with `intrabar = "bridge"`).
        #[schemars(range(min = 1.0), extend("x-unit" = "steps"))]
        mean_block: f64,
        #[serde(default = "default_one")]
        #[schemars(transform = rule::positive)]
        vol_multiplier: f64,
        /// As for `replay`: `bridge` resamples whole bars and draws a path through each.
        #[serde(default)]
        intrabar: IntrabarSpec,
        #[serde(default = "default_open_column")]
        open_column: String,
        #[serde(default = "default_high_column")]
        high_column: String,
        #[serde(default = "default_low_column")]
        low_column: String,
    },
    /// GARCH(1,1) parameterized by its long-run vol.
    Garch {
        #[schemars(transform = rule::positive, extend("x-unit" = "1/sqrt(year)"))]
        long_run_vol: f64,
        /// Weight of the last step's squared return, per step of `dt_seconds`: the same
        /// alpha at another step is another model (R1's 0.08 and 0.90 at 60 s give shocks a
        /// half-life of ln 0.5 / ln 0.98, 34 steps: about half an hour).
        #[schemars(transform = rule::non_negative, extend("x-unit" = "per step"))]
        alpha: f64,
        /// Weight of the last step's variance, per step of `dt_seconds` (`alpha + beta < 1`).
        #[schemars(transform = rule::non_negative, extend("x-unit" = "per step"))]
        beta: f64,
        #[serde(default)]
        shocks: ShockSpec,
        /// Annualized vol of the first step; the long-run vol when 0.
        #[serde(default)]
        #[schemars(transform = rule::non_negative, extend("x-unit" = "1/sqrt(year)"))]
        initial_vol: f64,
        #[serde(default)]
        #[schemars(extend("x-unit" = "1/year"))]
        drift: f64,
        /// The step (s) `alpha` and `beta` were fitted or converted for, as `backstop fit`
        /// writes it: a warning when it is not `experiment.dt_seconds`. Absent: not said.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[schemars(extend("x-unit" = "s"))]
        fit_dt_seconds: Option<f64>,
    },
}

impl Default for PriceModelSpec {
    fn default() -> Self {
        PriceModelSpec::Garch {
            long_run_vol: 0.8,
            alpha: 0.08,
            beta: 0.90,
            shocks: ShockSpec::StudentT { nu: 4.0 },
            initial_vol: 0.0,
            drift: 0.0,
            fit_dt_seconds: None,
        }
    }
}

fn default_substeps() -> u32 {
    10
}

/// The path inside a replayed bar.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum IntrabarSpec {
    #[default]
    None,
    Bridge,
}

fn default_open_column() -> String {
    "open".into()
}

fn default_high_column() -> String {
    "high".into()
}

fn default_low_column() -> String {
    "low".into()
}

fn default_price_column() -> String {
    "close".into()
}

fn default_time_column() -> String {
    "unix".into()
}

fn default_one() -> f64 {
    1.0
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ShockSpec {
    #[default]
    Normal,
    /// Student-t with `nu` degrees of freedom, scaled to unit variance.
    StudentT {
        #[schemars(extend("exclusiveMinimum" = 2.0))]
        nu: f64,
    },
}
