//! The experiment file as written by users: serde types with R1's values as defaults.
//!
//! Every table rejects unknown keys, so a typo (`penalty_rat`) is an error naming the key, not a
//! silently ignored setting. [`super::Scenario`] checks the rules once and is the only thing
//! the simulator accepts. The `schemars` attributes state each field's own rule and unit for
//! the JSON Schema editors read (`backstop schema`); their doc comments are its descriptions.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::rule;

/// One experiment file, without its `[grid]` table (which is split off before parsing).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ExperimentFile {
    /// A venue preset (`backstop presets` lists them): its margin, liquidation and fund
    /// rules are read first, and every key this file sets overrides the preset's.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub preset: String,
    pub experiment: ExperimentSection,
    /// The first (often the only) market.
    pub market: MarketSection,
    /// Further markets, by name, in file order: `[markets.ETH]` takes every field of
    /// `[market]` but `name`.
    // Kept as raw TOML (so grid paths like `markets.ETH.s0` work) and checked field by field
    // when the scenario is built.
    #[serde(skip_serializing_if = "toml::Table::is_empty")]
    #[schemars(with = "std::collections::BTreeMap<String, MarketSection>")]
    pub markets: toml::Table,
    /// How the markets' shocks move together; needs two or more markets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub correlation: Option<CorrelationSection>,
    pub traders: TradersSection,
    pub margin: MarginSection,
    pub liquidation: LiquidationSection,
    pub fund: FundSection,
    // Grid axes: dotted field path -> list of values (Cartesian product). Split off before
    // the scenario of each cell is built; `schema::grid` describes it for editors.
    #[serde(skip_serializing_if = "toml::Table::is_empty")]
    #[schemars(schema_with = "super::rule::grid")]
    pub grid: toml::Table,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ExperimentSection {
    /// Name used in reports; the file's stem when empty.
    pub name: String,
    /// The question the experiment answers, in a sentence; it opens the report.
    pub question: String,
    /// Monte Carlo runs per grid cell.
    #[schemars(range(min = 1, max = u32::MAX))]
    pub seeds: u64,
    /// Master seed: with the file, it fixes every random number of every run.
    pub master_seed: u64,
    /// Steps per run.
    #[schemars(range(min = 1, max = super::limits::MAX_STEPS))]
    pub steps: u64,
    /// Length of one step in seconds.
    #[schemars(range(min = super::limits::MIN_DT_SECONDS, max = super::limits::MAX_DT_SECONDS), extend("x-unit" = "s"))]
    pub dt_seconds: f64,
    /// A grid axis whose first value is the baseline (a static population, say): the report
    /// sets every cell with another value against the baseline cell with the same other
    /// coordinates, on common seeds (bad debt and required capital over open interest, with
    /// intervals). Empty: no contrast.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub contrast: String,
    /// The venue whose rules the file holds, for reports: the preset's name when the file
    /// names one.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub venue: String,
    /// For a backtest: what was reported of the event, which the report sets beside the
    /// simulated distribution (MODEL.md section 16).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<RecordSection>,
}

/// What the record of a real event says, for a backtest's report.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordSection {
    /// Where the figures come from.
    pub source: String,
    /// The venue's insurance fund change over the event (USD; negative: it paid out).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fund_change_usd: Option<f64>,
    /// Whether auto-deleveraging (or socialized losses) happened.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub adl: Option<bool>,
    /// Money injected into the fund or the protocol to cover losses (USD).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub injection_usd: Option<f64>,
    /// The inputs the simulation had to assume (open interest, leverage distribution...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assumed: Vec<String>,
}

impl Default for ExperimentSection {
    fn default() -> Self {
        Self {
            name: String::new(),
            question: String::new(),
            seeds: 10_000,
            master_seed: 1,
            steps: 1_440,
            dt_seconds: 60.0,
            contrast: String::new(),
            venue: String::new(),
            record: None,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct MarketSection {
    /// Name in reports (`[markets.NAME]` takes its table's name; `[market]` defaults to "main").
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Traders in this market (default: `traders.count`); they draw from `[traders]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = u32::MAX))]
    pub traders: Option<u64>,
    /// This market's share of `fund.initial` (and of the cap) when funds are isolated,
    /// relative to the other markets' weights.
    #[schemars(transform = rule::positive)]
    pub fund_weight: f64,
    /// Index price at t = 0 (USD).
    #[schemars(range(min = crate::market::MIN_S0, max = crate::market::MAX_S0), extend("x-unit" = "USD"))]
    pub s0: f64,
    /// Half-life of the impact that forced flow leaves on the mark, in minutes.
    #[schemars(transform = rule::positive, extend("x-unit" = "min"))]
    pub impact_half_life_minutes: f64,
    /// Share of each impact that moves the index itself instead of the mark (0 = none).
    #[schemars(transform = rule::unit_interval)]
    pub permanent_impact: f64,
    /// What an order's impact is priced on: `order`, its own notional (each order's impact
    /// stacks on the last's), or `step_flow`, the step's same-side flow so far plus the order
    /// (one metaorder: many small orders of a step cost what their sum would).
    pub impact_on: ImpactOnSpec,
    /// The mark, and every fill, stays within `1 + price_band` of the index (ratio).
    #[schemars(transform = rule::positive)]
    pub price_band: f64,
    pub model: PriceModelSpec,
    pub book: BookSpec,
    /// Depth that thins when realized volatility rises; absent: constant depth.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub liquidity: Option<LiquiditySection>,
    /// Depth that thins with one-sided net flow of all fills, forced and voluntary alike;
    /// absent: off.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flow_liquidity: Option<FlowLiquiditySection>,
    /// Other venues, whose forced flow this venue's stands for and which moves the index;
    /// absent: this venue is the whole market and only `permanent_impact` moves the index.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub other_venues: Option<OtherVenuesSection>,
    /// Makes this a lending market (MODEL.md section 14): borrowers instead of traders,
    /// their collateral sold into this market's book by the keepers of `[liquidation]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lending: Option<LendingSection>,
}

/// A lending market: one volatile collateral asset (this market's index) against a stable
/// debt (MODEL.md section 14).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LendingSection {
    pub style: LendingStyleSpec,
    #[schemars(range(min = 1, max = u32::MAX))]
    pub borrowers: u64,
    /// Each borrower's collateral at t = 0, in USD at the index.
    pub collateral_usd: DistributionSpec,
    /// Each borrower's debt over its collateral's value at t = 0, capped at `ltv`.
    pub initial_ltv: DistributionSpec,
    /// The borrowing limit: debt at most `ltv` x collateral value (below the threshold).
    #[schemars(transform = rule::open_unit)]
    pub ltv: f64,
    /// Liquidatable when `collateral x oracle x liquidation_threshold < debt` (HF < 1).
    #[schemars(transform = rule::open_unit)]
    pub liquidation_threshold: f64,
    /// `aave`: the keeper's bonus, a share of the debt it repays, paid in collateral.
    #[serde(default)]
    #[schemars(transform = rule::below_one)]
    pub bonus: f64,
    /// `aave`: the treasury's share of the bonus.
    #[serde(default)]
    #[schemars(transform = rule::unit_interval)]
    pub protocol_fee: f64,
    /// Borrow rate, per year, accrued every step.
    #[serde(default)]
    #[schemars(transform = rule::non_negative, extend("x-unit" = "1/year"))]
    pub borrow_apr: f64,
    /// First-loss cover the treasury pays before the fund (Aave's `deficitOffset`).
    #[serde(default)]
    #[schemars(transform = rule::non_negative, extend("x-unit" = "USD"))]
    pub deficit_offset_usd: f64,
    pub oracle: OracleSection,
    /// `style = "auction"`: the auctions' parameters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auction: Option<AuctionSection>,
    /// `style = "comet"`: the absorb and store-front factors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comet: Option<CometSection>,
    /// Borrowers who repay from a reserve when their health factor runs low.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub defenders: Option<DefendersSection>,
    /// Borrowers who borrow back to their opening LTV when the price has risen.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loopers: Option<LoopersSection>,
    /// Borrowers who sell collateral to repay part of their debt when liquidations mount.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub derisk: Option<DeriskSection>,
}

/// De-riskers (the fire sale): a share of the borrowers sells `sell_share` of its debt's
/// worth of collateral into the market's book, and repays with the proceeds, once the debt
/// liquidated in the market over the last `window_minutes` exceeds `threshold_usd`. Each
/// does so once.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeriskSection {
    /// The share of borrowers who de-risk.
    #[schemars(transform = rule::unit_interval)]
    pub share: f64,
    /// The window over which they watch the market's liquidations.
    #[schemars(extend("exclusiveMinimum" = 0.0), range(max = 525600.0), extend("x-unit" = "min"))]
    pub window_minutes: f64,
    /// Debt liquidated over the window that sets them off.
    #[schemars(transform = rule::non_negative, extend("x-unit" = "USD"))]
    pub threshold_usd: f64,
    /// What each sells, as a share of its debt's worth of collateral.
    #[schemars(extend("exclusiveMinimum" = 0.0), range(max = 1.0))]
    pub sell_share: f64,
    /// How one step's sales meet the book: `separate` orders (as keepers' sales) or one
    /// `pooled` order.
    #[serde(default)]
    pub orders: DeriskOrdersSpec,
}

#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeriskOrdersSpec {
    /// One order per sale, each moving the mark for the next.
    #[default]
    Separate,
    /// The step's sales as one order.
    Pooled,
}

/// Defenders (DeFi Saver's and Instadapp's automations): a share of the borrowers repays
/// or adds collateral from a reserve when the health factor on the oracle falls below `below_hf`, back up to
/// `to_hf`. Once the health factor is under 1 the keepers win the race.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DefendersSection {
    /// The share of borrowers who defend.
    #[schemars(transform = rule::unit_interval)]
    pub share: f64,
    /// Defend when the health factor is below this (above 1).
    #[schemars(extend("exclusiveMinimum" = 1.0), range(max = 100.0))]
    pub below_hf: f64,
    /// Repay back up to this health factor (above `below_hf`).
    #[schemars(extend("exclusiveMinimum" = 1.0), range(max = 100.0))]
    pub to_hf: f64,
    /// Each defender's reserve, a share of its collateral's value at t = 0.
    #[schemars(range(min = 0.0, max = 100.0))]
    pub reserve: f64,
    /// What the reserve pays for: `repay` debt, or `top_up` collateral bought at the market.
    #[serde(default)]
    pub action: DefendActionSpec,
}

#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DefendActionSpec {
    /// Repay debt from the reserve.
    #[default]
    Repay,
    /// Buy collateral at the market with the reserve and add it to the loan.
    TopUp,
}

/// Loopers (the leverage cycle): a share of the borrowers borrows back to the LTV it opened
/// at, and buys collateral in the book with it, once its LTV is `1 + rebalance` times under
/// that LTV.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LoopersSection {
    /// The share of borrowers who loop.
    #[schemars(transform = rule::unit_interval)]
    pub share: f64,
    /// How far under its LTV a looper lets its loan drift before it re-levers.
    #[schemars(range(min = 0.001, max = 10.0))]
    pub rebalance: f64,
}

/// Compound III `Comet.sol` factors (cWETHv3's WETH-like assets: liquidation factor 0.93 to
/// 0.975, store-front price factor 0.5 to 1).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CometSection {
    /// `absorb` credits the collateral at the oracle times this.
    #[schemars(extend("exclusiveMinimum" = 0.0), range(max = 1.0))]
    pub liquidation_factor: f64,
    /// Keepers buy absorbed collateral at `oracle (1 - store_front_factor (1 -
    /// liquidation_factor))`.
    #[schemars(transform = rule::unit_interval)]
    pub store_front_factor: f64,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LendingStyleSpec {
    /// Aave v3.3+: close factor 50%/100% at HF 0.95, 2,000 USD full close, 1,000 USD dust,
    /// bonus with protocol fee.
    Aave,
    /// Maker/Sky Liquidations 2.0: Dutch auctions of the collateral (`[lending.auction]`);
    /// `liquidation_threshold` is `1 / mat`.
    Auction,
    /// Compound III: `absorb` into the reserves (the fund) at the liquidation factor, and
    /// store-front sales to keepers (`[lending.comet]`); `liquidation_threshold` is the
    /// asset's `liquidateCollateralFactor`.
    Comet,
}

/// Maker/Sky `clip.sol` and `dog.sol` parameters (ETH-A: buf 1.2, cut 0.99 every 90 s, tail
/// 8,400 s, cusp 0.45, chop 13%, tip 250 USD, chip 0.1%).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuctionSection {
    /// Starting price over the oracle.
    #[schemars(range(min = 1.0))]
    pub buf: f64,
    /// Price multiplier per price step.
    #[schemars(extend("exclusiveMinimum" = 0.0), range(max = 1.0))]
    pub cut: f64,
    #[schemars(transform = rule::positive, extend("x-unit" = "s"))]
    pub step_seconds: f64,
    /// Age after which an auction needs a reset.
    #[schemars(transform = rule::positive, extend("x-unit" = "s"))]
    pub tail_seconds: f64,
    /// Share of the starting price below which an auction needs a reset.
    #[schemars(transform = rule::open_unit)]
    pub cusp: f64,
    /// Penalty: the auction raises the debt times `1 + chop`.
    #[schemars(transform = rule::non_negative)]
    pub chop: f64,
    /// Keeper incentive per kick or reset, flat, paid by the fund.
    #[schemars(transform = rule::non_negative, extend("x-unit" = "USD"))]
    pub tip_usd: f64,
    /// Keeper incentive per kick or reset, a share of the tab.
    #[schemars(transform = rule::non_negative)]
    pub chip: f64,
    /// Most tab in running auctions at once.
    #[schemars(transform = rule::positive, extend("x-unit" = "USD"))]
    pub hole_usd: f64,
}

/// The push feed the protocol reads (Chainlink ETH/USD: 0.5%, 3,600 s).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OracleSection {
    /// Relative move since the last write that makes the feed write (0: every change).
    #[schemars(transform = rule::non_negative)]
    pub deviation: f64,
    /// The feed writes at least this often.
    #[schemars(transform = rule::positive, extend("x-unit" = "s"))]
    pub heartbeat_seconds: f64,
    /// The protocol sees each write this late (Maker's OSM: 3,600).
    #[serde(default)]
    #[schemars(transform = rule::non_negative, extend("x-unit" = "s"))]
    pub lag_seconds: f64,
    /// What the feed reads: the market the collateral trades in, where keepers sell
    /// (`market`: their sales reach the oracle, the lending cascade), or the index, as a feed
    /// aggregating venues this market's sales do not move (`index`).
    #[serde(default)]
    pub reads: OracleSourceSpec,
}

#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ImpactOnSpec {
    #[default]
    Order,
    StepFlow,
}

#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OracleSourceSpec {
    #[default]
    Market,
    Index,
}

/// `D_t = D_0 max(floor, min(1, (reference_vol / sigma_hat)^kappa))` (MODEL.md section 2).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LiquiditySection {
    #[schemars(transform = rule::non_negative)]
    pub kappa: f64,
    /// Annualized.
    #[schemars(transform = rule::positive, extend("x-unit" = "1/sqrt(year)"))]
    pub reference_vol: f64,
    #[schemars(transform = rule::positive, extend("x-unit" = "min"))]
    pub ewma_half_life_minutes: f64,
    /// Least share of full depth that stays.
    #[schemars(transform = rule::open_unit)]
    pub floor: f64,
}

/// `D_t <- D_t max(floor, exp(-gamma |F_t| / D_0))`, `F_t` the net taker flow of all fills
/// with weights halving every `half_life_minutes` (MODEL.md section 2).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FlowLiquiditySection {
    /// How fast depth thins with net flow: `gamma = 1` leaves `1/e` of the book after one
    /// full book's worth (`D_0`, the notional that moves it 1%) of one-way flow.
    #[schemars(transform = rule::non_negative)]
    pub gamma: f64,
    /// Half-life of the flow's memory: depth recovers with it once flow stops.
    #[schemars(transform = rule::positive, extend("x-unit" = "min"))]
    pub half_life_minutes: f64,
    /// Least share of depth that stays.
    #[schemars(transform = rule::open_unit)]
    pub floor: f64,
}

/// This venue's share of open interest and the world's book (MODEL.md section 2).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OtherVenuesSection {
    /// This venue's share of the market's open interest.
    #[schemars(transform = rule::open_unit)]
    pub share: f64,
    /// Other venues' forced flow per unit of this venue's, in proportion to open interest
    /// (1: they liquidate alike).
    #[serde(default = "default_beta")]
    #[schemars(transform = rule::non_negative)]
    pub beta: f64,
    /// The world's book, which the others' flow meets (fully permanent).
    pub book: BookSpec,
}

fn default_beta() -> f64 {
    1.0
}

impl Default for MarketSection {
    fn default() -> Self {
        Self {
            name: String::new(),
            traders: None,
            fund_weight: 1.0,
            s0: 30_000.0,
            impact_half_life_minutes: 10.0,
            permanent_impact: 0.0,
            impact_on: ImpactOnSpec::Order,
            price_band: 0.5,
            model: PriceModelSpec::default(),
            book: BookSpec::default(),
            liquidity: None,
            flow_liquidity: None,
            other_venues: None,
            lending: None,
        }
    }
}

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
        #[schemars(transform = rule::non_negative)]
        alpha: f64,
        #[schemars(transform = rule::non_negative)]
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

/// How forced fills move the mark and what they cost (MODEL.md section 2).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum BookSpec {
    /// Linear book: `depth_usd` of notional moves the price by 1%.
    Linear {
        #[schemars(range(min = crate::market::MIN_BOOK_USD, max = crate::market::MAX_BOOK_USD), extend("x-unit" = "USD"))]
        depth_usd: f64,
    },
    /// Square-root law: `k = y sigma_day sqrt(X / daily_volume_usd)`, `sigma_day` from the
    /// annualized `vol`.
    Sqrt {
        /// The square-root law's constant (about 1 on most markets).
        #[schemars(transform = rule::positive)]
        y: f64,
        #[schemars(transform = rule::positive, extend("x-unit" = "1/sqrt(year)"))]
        vol: f64,
        #[schemars(range(min = crate::market::MIN_BOOK_USD, max = crate::market::MAX_BOOK_USD), extend("x-unit" = "USD"))]
        daily_volume_usd: f64,
    },
    /// Infinite depth: fills at the mark, no impact (for tests against closed forms).
    None,
}

impl Default for BookSpec {
    fn default() -> Self {
        BookSpec::Linear { depth_usd: 20e6 }
    }
}

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
    /// unless a margin tier caps it at the larger size). 0: open interest is what the draws
    /// give.
    #[schemars(transform = rule::non_negative, extend("x-unit" = "USD"))]
    pub open_interest_usd: f64,
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
            range(max = super::limits::MAX_DECISIONS_PER_HOUR)
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

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct MarginSection {
    /// Initial margin rate: opening needs equity >= imr * notional.
    #[schemars(transform = rule::positive)]
    pub imr: f64,
    /// Maintenance margin rate: liquidatable when equity < mmr * notional.
    #[schemars(transform = rule::positive)]
    pub mmr: f64,
    /// Fee on voluntary trades, as a share of notional (none at t = 0).
    #[schemars(transform = rule::below_one)]
    pub fee_rate: f64,
    /// Share of fees paid into the insurance fund; the rest goes to treasury.
    #[schemars(transform = rule::unit_interval)]
    pub fee_fund_share: f64,
    /// Tiers above the base rates, by notional (risk limits, leverage brackets): a tier's
    /// `mmr` applies to the part of the notional above its floor (Binance's maintenance
    /// amount keeps the requirement continuous), its `imr` to the whole position.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tiers: Vec<MarginTierSection>,
}

/// One margin tier: from `from_usd` of notional up.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MarginTierSection {
    /// The tier's floor: notional at the mark (USD).
    #[schemars(transform = rule::positive, extend("x-unit" = "USD"))]
    pub from_usd: f64,
    /// Initial margin rate on the whole position in this tier (1 / its leverage cap).
    #[schemars(transform = rule::positive)]
    pub imr: f64,
    /// Maintenance margin rate on the part of the notional above `from_usd`.
    #[schemars(transform = rule::positive)]
    pub mmr: f64,
}

impl Default for MarginSection {
    fn default() -> Self {
        Self {
            imr: 0.02,
            mmr: 0.01,
            fee_rate: 0.0005,
            fee_fund_share: 0.0,
            tiers: Vec::new(),
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct LiquidationSection {
    pub mode: LiquidationModeSpec,
    pub close: CloseSpec,
    /// What the close takes from the equity left: a penalty, or everything above the
    /// bankruptcy price (BitMEX).
    pub settle: SettleSpec,
    /// Penalty as a share of the closed notional.
    #[schemars(transform = rule::below_one)]
    pub penalty_rate: f64,
    /// Share of the penalty paid into the insurance fund; the rest goes to the liquidator.
    #[schemars(transform = rule::unit_interval)]
    pub fund_share: f64,
    /// Partial closes: the margin ratio left is `mmr (1 + buffer)`.
    #[schemars(transform = rule::non_negative)]
    pub buffer: f64,
    /// Partial closes: positions (or remainders) below this notional are closed in full.
    #[schemars(transform = rule::non_negative, extend("x-unit" = "USD"))]
    pub min_notional_usd: f64,
    /// Steps between a position becoming liquidatable and the engine acting on it.
    #[schemars(extend("x-unit" = "steps"))]
    pub latency_steps: u64,
    /// The keepers of `mode = "keeper"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keepers: Option<KeepersSection>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KeepersSection {
    #[schemars(range(min = 1, max = 65_535))]
    pub count: u64,
    /// Capital of each keeper (USD): the most notional it can take over in one step.
    #[schemars(transform = rule::non_negative, extend("x-unit" = "USD"))]
    pub capital_usd: f64,
    /// Steps a position must have waited before a keeper acts on it.
    #[schemars(extend("x-unit" = "steps"))]
    pub latency_steps: u64,
    /// What one liquidation costs a keeper (gas, USD).
    #[schemars(transform = rule::non_negative, extend("x-unit" = "USD"))]
    pub cost_usd: f64,
}

impl Default for LiquidationSection {
    fn default() -> Self {
        Self {
            mode: LiquidationModeSpec::Engine,
            close: CloseSpec::Full,
            settle: SettleSpec::Penalty,
            penalty_rate: 0.01,
            fund_share: 1.0,
            buffer: 0.0,
            min_notional_usd: 0.0,
            latency_steps: 0,
            keepers: None,
        }
    }
}

#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LiquidationModeSpec {
    /// The venue's engine closes positions into the book (CEX).
    #[default]
    Engine,
    /// Keeper agents liquidate when it pays them (DeFi); see `[liquidation.keepers]`.
    Keeper,
}

#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SettleSpec {
    /// `penalty_rate` of the closed notional, at most the equity left.
    #[default]
    Penalty,
    /// The engine takes the whole position over at its bankruptcy price; what its close
    /// fetches above that (the equity left) goes to the fund (BitMEX). Needs mode =
    /// "engine", close = "full" and penalty_rate = 0.
    BankruptcyPrice,
}

#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CloseSpec {
    /// The whole position is closed.
    #[default]
    Full,
    /// The smallest part that restores `mmr (1 + buffer)`.
    Partial,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct FundSection {
    /// Balance at t = 0 (USD).
    #[schemars(range(min = 0.0, max = super::limits::CALIBRATION_FUND), extend("x-unit" = "USD"))]
    pub initial: f64,
    /// Revenue paid into the fund at every step (USD), e.g. a share of fees from flow the
    /// simulation does not model.
    #[schemars(transform = rule::non_negative, extend("x-unit" = "USD"))]
    pub revenue_per_step: f64,
    /// What happens to a deficit the fund cannot cover (MODEL.md section 6).
    pub on_depletion: SocializationSpec,
    /// Balance above which inflows are swept to treasury; 0 means no cap.
    #[schemars(range(min = 0.0, max = super::limits::CALIBRATION_FUND), extend("x-unit" = "USD"))]
    pub cap: f64,
    /// One fund for all markets, or one per market (`isolated`, each holding its
    /// `fund_weight` share of `initial`).
    pub scope: FundScope,
}

#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FundScope {
    #[default]
    Shared,
    Isolated,
}

impl Default for FundSection {
    fn default() -> Self {
        Self {
            initial: 1e6,
            revenue_per_step: 0.0,
            on_depletion: SocializationSpec::Adl,
            cap: 0.0,
            scope: FundScope::Shared,
        }
    }
}

#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SocializationSpec {
    /// Auto-deleveraging of profitable opposite positions (BitMEX, Binance).
    #[default]
    Adl,
    /// Every profitable trader of the market gives the same share of its profit.
    Socialize,
    /// Haircuts that minimize the largest resulting leverage (water-filling).
    RiskBased,
    /// The residual stays as uncovered bad debt.
    None,
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
