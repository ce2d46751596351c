//! `[liquidation]`: who liquidates (the engine, or keepers), how much a liquidation closes,
//! at what price it settles; and what a lending market needs of it.

use crate::config::file::{
    AdlPriceSpec, CloseSpec, LiquidationModeSpec, LiquidationSection, OrderLimitSpec, SettleSpec,
    TakeoverSpec,
};
use crate::params::{ParamError, unit_interval};
use crate::protocol::{
    AdlPrice, CloseRule, EngineOrders, KeeperParams, LiquidationMode, LiquidationParams,
    LossSocialization, OrderLimit, SizeCap, Takeover,
};

/// The liquidation rules, checked in order: the mode (and its keepers), the close rule, the
/// penalty and its split, the settlement price.
pub(crate) fn check(
    l: &LiquidationSection,
    adl_price: AdlPriceSpec,
) -> Result<LiquidationParams, ParamError> {
    let mode = mode(l)?;
    let close = match l.close {
        CloseSpec::Full => CloseRule::Full,
        CloseSpec::Partial => {
            CloseRule::partial(l.buffer, l.min_notional_usd).map_err(|e| e.within("liquidation"))?
        }
    };
    let liquidation = LiquidationParams::new(l.penalty_rate, l.fund_share, mode, close)
        .map_err(|e| e.within("liquidation"))?
        .with_latency(l.latency_steps);
    let liquidation = match l.settle {
        SettleSpec::Penalty => liquidation,
        SettleSpec::BankruptcyPrice => liquidation
            .at_bankruptcy_price()
            .map_err(|e| e.within("liquidation"))?,
    };
    liquidation
        .with_orders(orders(l, adl_price)?)
        .map_err(|e| e.within("liquidation"))
}

/// The engine's liquidation orders (MODEL.md section 4): limit, size cap, takeover.
fn orders(l: &LiquidationSection, adl_price: AdlPriceSpec) -> Result<EngineOrders, ParamError> {
    let within = |e: ParamError| e.within("liquidation");
    // Every rule's parameter is checked, whether this cell's rule reads it or not: a grid that
    // zips rules with their parameters never carries a value no rule could take.
    let fillable = OrderLimit::fillable(l.fillable_spread).map_err(within)?;
    let band = OrderLimit::band(l.band).map_err(within)?;
    unit_interval("vault_below", l.vault_below).map_err(within)?;
    let limit = match l.order_limit {
        OrderLimitSpec::None => OrderLimit::None,
        OrderLimitSpec::Bankruptcy => OrderLimit::Bankruptcy,
        OrderLimitSpec::Fillable => fillable,
        OrderLimitSpec::Band => band,
    };
    let cap = match (l.max_order_usd, l.slice) {
        (None, None) => SizeCap::None,
        (Some(usd), None) => SizeCap::max_order(usd).map_err(within)?,
        (None, Some(share)) => {
            SizeCap::slices(share, l.slice_above_usd, l.cooldown_seconds).map_err(within)?
        }
        (Some(_), Some(_)) => {
            return Err(ParamError::new(
                "liquidation.slice",
                "give either max_order_usd (a cap per order) or slice (a share per order, with cooldown_seconds), not both",
            ));
        }
    };
    let takeover = match l.takeover {
        TakeoverSpec::None => Takeover::None,
        TakeoverSpec::Fund => Takeover::Fund,
        TakeoverSpec::Deleverage => Takeover::Deleverage,
        TakeoverSpec::Vault => {
            let capital = l.vault_capital_usd.ok_or_else(|| {
                ParamError::new(
                    "liquidation.vault_capital_usd",
                    "takeover = \"vault\" needs the vault's own capital (USD)",
                )
            })?;
            Takeover::vault(l.vault_below, capital).map_err(within)?
        }
    };
    if matches!(takeover, Takeover::Fund | Takeover::Deleverage) && limit == OrderLimit::None {
        return Err(ParamError::new(
            "liquidation.takeover",
            "takes over what a limited order leaves unfilled: set order_limit (a market order at any price always fills)",
        ));
    }
    let adl_price = match adl_price {
        AdlPriceSpec::Mark => AdlPrice::Mark,
        AdlPriceSpec::Bankruptcy if limit == OrderLimit::None => {
            return Err(ParamError::new(
                "fund.adl_price",
                "\"bankruptcy\" matches what a limited order left unfilled at its bankruptcy price: set liquidation.order_limit (with market orders every position fills, and its deficit is deleveraged at the mark)",
            ));
        }
        AdlPriceSpec::Bankruptcy => AdlPrice::Bankruptcy,
    };
    EngineOrders {
        limit,
        cap,
        takeover,
        unwind_step: 0.0,
        adl_price,
    }
    .with_unwind_step(l.unwind_step)
    .map_err(within)
}

/// The engine, or keepers with their own table (and their own delay: the engine's
/// `latency_steps` is refused with them).
fn mode(l: &LiquidationSection) -> Result<LiquidationMode, ParamError> {
    match l.mode {
        LiquidationModeSpec::Engine => Ok(LiquidationMode::Engine),
        LiquidationModeSpec::Keeper => {
            if l.latency_steps > 0 {
                return Err(ParamError::new(
                    "liquidation.latency_steps",
                    "is the engine's delay; keepers have their own, liquidation.keepers.latency_steps",
                ));
            }
            let k = l.keepers.as_ref().ok_or_else(|| {
                ParamError::new(
                    "liquidation.keepers",
                    "mode = \"keeper\" needs a [liquidation.keepers] table (count, capital_usd, latency_steps, cost_usd)",
                )
            })?;
            Ok(LiquidationMode::Keeper(
                KeeperParams::new(k.count, k.capital_usd, k.latency_steps, k.cost_usd)
                    .map_err(|e| e.within("liquidation.keepers"))?,
            ))
        }
    }
}

/// Keepers' funding: `flash` defaults to true with a lending market (MODEL.md section 14:
/// real liquidators borrow the repayment within the transaction), and is refused without
/// one (a perp keeper takes the position over and posts its margin).
pub(crate) fn with_flash(
    lending_path: Option<&str>,
    section: &LiquidationSection,
    liquidation: LiquidationParams,
) -> Result<LiquidationParams, ParamError> {
    let LiquidationMode::Keeper(keepers) = liquidation.mode() else {
        return Ok(liquidation);
    };
    let asked = section.keepers.as_ref().and_then(|k| k.flash);
    if lending_path.is_none() && asked == Some(true) {
        return Err(ParamError::new(
            "liquidation.keepers.flash",
            "is for lending markets, whose keepers borrow the repayment within the \
             transaction; this experiment has none (perp keepers take positions over and \
             post their margin)",
        ));
    }
    let flash = asked.unwrap_or(lending_path.is_some());
    Ok(liquidation.with_mode(LiquidationMode::Keeper(keepers.flash_funded(flash))))
}

/// What a run with a lending market (the first one at `lending_path`, if any) needs of the
/// rest of the file: keepers to liquidate its loans (a lending protocol has no liquidation
/// engine of its own) and a rule after depletion that has a meaning for lenders.
pub(crate) fn check_lending_rules(
    lending_path: Option<&str>,
    liquidation: &LiquidationParams,
    socialization: LossSocialization,
) -> Result<(), ParamError> {
    let Some(path) = lending_path else {
        return Ok(());
    };
    if liquidation.mode() == LiquidationMode::Engine {
        return Err(ParamError::new(
            "liquidation.mode",
            format!(
                "`{path}` is a lending market, whose loans keepers liquidate: set mode = \
                 \"keeper\" with a [liquidation.keepers] table"
            ),
        ));
    }
    if matches!(
        socialization,
        LossSocialization::Adl | LossSocialization::RiskBased
    ) {
        return Err(ParamError::new(
            "fund.on_depletion",
            format!(
                "`{path}` is a lending market, whose lenders have no positions to deleverage: \
                 use \"none\" (an unbacked deficit, as Aave) or \"socialize\" (suppliers \
                 take the loss pro rata, as Morpho Blue and Euler)"
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keepers() -> LiquidationSection {
        toml::from_str(
            "mode = \"keeper\"\n[keepers]\ncount = 2\ncapital_usd = 1e6\nlatency_steps = 1\n\
             cost_usd = 5.0\n",
        )
        .unwrap()
    }

    #[test]
    fn keepers_need_their_table_and_their_own_delay() {
        let mut l = keepers();
        assert!(check(&l, AdlPriceSpec::Mark).is_ok());
        l.latency_steps = 1;
        assert_eq!(
            check(&l, AdlPriceSpec::Mark).unwrap_err().field,
            "liquidation.latency_steps"
        );
        l.latency_steps = 0;
        l.keepers = None;
        assert_eq!(
            check(&l, AdlPriceSpec::Mark).unwrap_err().field,
            "liquidation.keepers"
        );
    }

    #[test]
    fn a_lending_market_needs_keepers_then_a_rule_for_lenders() {
        let engine = check(&LiquidationSection::default(), AdlPriceSpec::Mark).unwrap();
        let keeper = check(&keepers(), AdlPriceSpec::Mark).unwrap();
        let at = Some("markets.aave");
        assert!(check_lending_rules(None, &engine, LossSocialization::Adl).is_ok());
        let e = check_lending_rules(at, &engine, LossSocialization::None).unwrap_err();
        assert_eq!(e.field, "liquidation.mode");
        let e = check_lending_rules(at, &keeper, LossSocialization::Adl).unwrap_err();
        assert_eq!(e.field, "fund.on_depletion");
        assert!(check_lending_rules(at, &keeper, LossSocialization::ProRata).is_ok());
    }
}
