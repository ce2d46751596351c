//! The experiment file as written by users: serde types with R1's values as defaults.
//!
//! Every table rejects unknown keys, so a typo (`penalty_rat`) is an error naming the key, not a
//! silently ignored setting. [`super::Scenario`] checks the rules once and is the only thing
//! the simulator accepts. The `schemars` attributes state each field's own rule and unit for
//! the JSON Schema editors read (`backstop schema`); their doc comments are its descriptions.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::mark::MarkSection;
use super::rule;

mod lending;
mod model;
mod traders;

pub use lending::{
    AuctionSection, CometSection, DefendActionSpec, DefendersSection, DeriskOrdersSpec,
    DeriskSection, LendingSection, LendingStyleSpec, LoopersSection, OracleSection,
    OracleSourceSpec,
};
pub use model::{CorrelationSection, CrashSection, IntrabarSpec, PriceModelSpec, ShockSpec};
pub use traders::{
    DistributionSpec, MixEntry, NumberOrDistribution, ReentrySection, StrategySpec, ThresholdSpec,
    TradersSection,
};

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
    /// The chance of the fund running dry the study answers for: a daily probability
    /// (`0.001`) or words (`"1 in 1000 days"`, `"0.5% a year"`).
    #[serde(skip_serializing_if = "super::target::TargetSpec::is_default")]
    #[schemars(schema_with = "super::target::schema")]
    pub target: super::target::TargetSpec,
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
    /// The fund's change over the event in its coin, for a fund held in coin
    /// (`fund.denomination = "base"`; BitMEX's fund: -2,606 XBT on 13 March 2020).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fund_change_coin: Option<f64>,
    /// The most the fund's inventory (positions it took over) stood under water, in its coin
    /// (BitMEX: 5,652 XBT unrealized on 13 March 2020), for a fund held in coin.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inventory_peak_loss_coin: Option<f64>,
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

impl RecordSection {
    /// Whether the record gives a figure the model can be set against.
    pub fn reports_anything(&self) -> bool {
        self.fund_change_usd.is_some()
            || self.fund_change_coin.is_some()
            || self.inventory_peak_loss_coin.is_some()
            || self.adl.is_some()
    }
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
            target: Default::default(),
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
    /// The venue's mark rule (MODEL.md section 2): the price margin is checked against.
    /// Absent: Binance's median rule (`backstop presets` and the README name each venue's).
    pub mark: MarkSection,
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

#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ImpactOnSpec {
    #[default]
    Order,
    StepFlow,
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
            mark: MarkSection::default(),
            model: PriceModelSpec::default(),
            book: BookSpec::default(),
            liquidity: None,
            flow_liquidity: None,
            other_venues: None,
            lending: None,
        }
    }
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
    /// The price limit of the engine's liquidation orders (MODEL.md section 4): `none` (a
    /// market order at any price; R1), `bankruptcy` (BitMEX, Binance, Bybit), `fillable`
    /// (dYdX v4) or `band` (Deribit).
    pub order_limit: OrderLimitSpec,
    /// `order_limit = "band"`: fills only within this share of the mark (Deribit: 0.015).
    #[schemars(range(min = 0.0, max = 1.0))]
    pub band: f64,
    /// `order_limit = "fillable"`: dYdX v4's spread-to-maintenance-margin ratio (1.5).
    #[schemars(transform = rule::positive)]
    pub fillable_spread: f64,
    /// At most this much notional per liquidation order and step (USD; per-block limits).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(transform = rule::positive, extend("x-unit" = "USD"))]
    pub max_order_usd: Option<f64>,
    /// Positions above `slice_above_usd` are liquidated this share at a time, with
    /// `cooldown_seconds` between slices (Hyperliquid: 0.2, 100,000 USD, 30 s).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub slice: Option<f64>,
    /// Notional above which a position is liquidated in slices (USD).
    #[schemars(transform = rule::non_negative, extend("x-unit" = "USD"))]
    pub slice_above_usd: f64,
    /// Seconds between two slices of one position's liquidation.
    #[schemars(transform = rule::non_negative, extend("x-unit" = "s"))]
    pub cooldown_seconds: f64,
    /// Who takes over what a limited order leaves unfilled: `none` (it stays, tried again
    /// next step), `fund` (BitMEX, Binance), `vault` (Hyperliquid's HLP) or `deleverage`
    /// (dYdX v4: closed against profitable opposite positions at its bankruptcy price).
    pub takeover: TakeoverSpec,
    /// `takeover = "vault"`: the vault takes an account over once its equity is below this
    /// share of maintenance margin (Hyperliquid: 2/3).
    #[schemars(transform = rule::unit_interval)]
    pub vault_below: f64,
    /// `takeover = "vault"`: the vault's own capital (USD).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(transform = rule::non_negative, extend("x-unit" = "USD"))]
    pub vault_capital_usd: Option<f64>,
    /// How far the holder's limit on its inventory moves from the bankruptcy price toward
    /// the book each minute it holds it, as a share of that price (a step moves it by its
    /// share of a minute).
    #[schemars(transform = rule::unit_interval)]
    pub unwind_step: f64,
}

#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrderLimitSpec {
    /// A market order at any price (a stress case; R1).
    #[default]
    None,
    /// A limit at the position's bankruptcy price.
    Bankruptcy,
    /// dYdX v4's fillable price, between the mark and past the bankruptcy price.
    Fillable,
    /// Fills only within `band` of the mark.
    Band,
}

#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TakeoverSpec {
    /// The rest stays with the trader.
    #[default]
    None,
    /// The insurance fund inherits it as inventory.
    Fund,
    /// A liquidator vault with its own capital inherits it.
    Vault,
    /// Closed against profitable opposite positions at its bankruptcy price.
    Deleverage,
}

#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AdlPriceSpec {
    /// Each counterparty closed at the mark, handing over its profit (R1).
    #[default]
    Mark,
    /// The bankrupt position matched against counterparties at its bankruptcy price.
    Bankruptcy,
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
    /// Lending markets: keepers fund what a liquidation pays with a flash loan repaid from
    /// the collateral's sale in the same transaction (Aave, Morpho, a DEX flash swap around
    /// Comet's `buyCollateral`, Maker's `clipperCall`), so `capital_usd` does not bound it.
    /// The default with a lending market; `false` makes capital bind. Perp keepers always
    /// post capital (`true` is refused without a lending market).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flash: Option<bool>,
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
            order_limit: OrderLimitSpec::None,
            band: 0.015,
            fillable_spread: 1.5,
            max_order_usd: None,
            slice: None,
            slice_above_usd: 0.0,
            cooldown_seconds: 0.0,
            takeover: TakeoverSpec::None,
            vault_below: 2.0 / 3.0,
            vault_capital_usd: None,
            unwind_step: 0.001,
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
    /// The price auto-deleveraging closes at (MODEL.md section 6): `mark` (R1) or
    /// `bankruptcy` (BitMEX, Binance, dYdX: the rest the fund cannot take over is matched
    /// against profitable opposite positions at its bankruptcy price).
    pub adl_price: AdlPriceSpec,
    /// OKX's early auto-deleveraging: once the fund's marked balance has fallen this share
    /// from its peak within `adl_window_hours`, deficits and takeovers go to the loss rule
    /// before the fund is empty (OKX: 0.3 within 8 hours). Absent: only when it runs dry.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub adl_drawdown: Option<f64>,
    /// The window of `adl_drawdown` (hours).
    #[schemars(transform = rule::positive, extend("x-unit" = "h"))]
    pub adl_window_hours: f64,
    /// What the fund is held in: `usd`, or `base`, the market's coin (BitMEX held its fund in
    /// XBT, whose dollar value halved with the price on 12-13 March 2020). `initial` is still
    /// given in USD, converted at the index at t = 0; figures stay in USD, and runs add the
    /// fund's change in coins. One perp market only.
    #[serde(skip_serializing_if = "FundDenomination::is_usd")]
    pub denomination: FundDenomination,
}

/// What a fund is held in (`[fund] denomination`).
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FundDenomination {
    /// US dollars (or a dollar stablecoin): every figure as it is.
    #[default]
    Usd,
    /// The market's coin: its cash moves with the index.
    Base,
}

impl FundDenomination {
    fn is_usd(&self) -> bool {
        *self == FundDenomination::Usd
    }
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
            adl_price: AdlPriceSpec::Mark,
            adl_drawdown: None,
            adl_window_hours: 8.0,
            denomination: FundDenomination::Usd,
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
