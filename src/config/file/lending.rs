//! A lending market's table (`[market.lending]`): its style, borrowers, oracle and the
//! borrowers' behaviour (MODEL.md section 14).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::traders::DistributionSpec;
use crate::config::rule;

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
    /// The asset the loans borrow (`USDC`): a backstop covers one debt asset's deficits from
    /// every collateral (an Umbrella stake, Comet's reserves), and reports name the stake by
    /// it. Letters, digits, `.` and `-`, at most 16.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub debt_asset: Option<String>,
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
/// 0.975, store-front price factor 0.5 to 1) and the market's target reserves.
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
    /// `targetReserves`: keepers may buy absorbed collateral only while the reserves (the
    /// fund's cash, held collateral aside) are below this (cUSDCv3: 5M).
    #[schemars(range(min = 0.0), extend("x-unit" = "USD"))]
    pub target_reserves_usd: f64,
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
    /// Penalty: the auction raises the debt times `1 + chop` (0.13 for 13%; the contract's
    /// `chop` is the multiplier 1.13, refused here).
    #[schemars(range(min = 0.0), extend("exclusiveMaximum" = 1.0))]
    pub chop: f64,
    /// The ilk's `dust` (`vat.ilks`): a partial bark may leave no less debt in the vault nor
    /// auction less (else the whole vault goes), and a redo pays its incentive only on an
    /// auction whose tab and lot are at least `chost = dust x (1 + chop)`.
    #[serde(default)]
    #[schemars(transform = rule::non_negative, extend("x-unit" = "USD"))]
    pub dust_usd: f64,
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
    /// What the feed reads: the index (the default: a feed aggregating many venues, as
    /// Chainlink's, which this market's sales move only through the index itself), or the
    /// market the collateral trades in, where keepers sell (`market`: their sales reach the
    /// oracle, the lending cascade; for thin collateral, DEX-TWAP feeds and collateral a venue
    /// prices off its own book).
    #[serde(default)]
    pub reads: OracleSourceSpec,
}

#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OracleSourceSpec {
    /// The book the keepers sell into.
    Market,
    /// The market's index (MODEL.md section 14: the default).
    #[default]
    Index,
}
