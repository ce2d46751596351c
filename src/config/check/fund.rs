//! `[fund]`: the insurance fund (initial balance, cap, revenue) and what happens after it is
//! depleted.

use crate::config::file::{FundDenomination, FundSection, RecordSection, SocializationSpec};
use crate::config::limits::CALIBRATION_FUND;
use crate::params::{ParamError, non_negative};
use crate::protocol::{EarlyAdl, InsuranceFund, LossSocialization};

/// The fund and its revenue per step. Money far beyond any fund (a calibration's "fund no
/// deficit can exhaust" is 1e15) only loses the ledger's precision: sums of 1e22 USD cannot
/// balance to the cent.
pub(crate) fn check(
    f: &FundSection,
    steps: u64,
    dt_seconds: f64,
) -> Result<(InsuranceFund, f64), ParamError> {
    let cap = non_negative("cap", f.cap).map_err(|e| e.within("fund"))?;
    let mut fund = InsuranceFund::with_cap(f.initial, (cap > 0.0).then_some(cap))
        .map_err(|e| e.within("fund"))?;
    if let Some(share) = f.adl_drawdown {
        let hours = crate::params::positive("adl_window_hours", f.adl_window_hours)
            .map_err(|e| e.within("fund"))?;
        // The window in whole steps, at least one.
        let window_steps = (hours * 3_600.0 / dt_seconds).ceil().max(1.0) as u64;
        fund =
            fund.with_early_adl(EarlyAdl::new(share, window_steps).map_err(|e| e.within("fund"))?);
    }
    let revenue_per_step =
        non_negative("revenue_per_step", f.revenue_per_step).map_err(|e| e.within("fund"))?;
    let most = CALIBRATION_FUND;
    for (field, amount) in [
        ("fund.initial", f.initial),
        ("fund.cap", cap),
        ("fund.revenue_per_step", revenue_per_step * steps as f64),
    ] {
        if amount > most {
            return Err(ParamError::new(
                field,
                format!("comes to {amount:e} USD over the run, more than {most:e}"),
            ));
        }
    }
    Ok((fund, revenue_per_step))
}

/// `denomination`: a fund held in the coin of the one perp market it backs, valued at that
/// market's index (its start is the index at t = 0). `markets` holds each market's index at
/// t = 0, or `None` for a lending market. Several markets would hold several coins, and a
/// lending market's reserves are kept in its debt asset (Aave's treasury, Comet's base token),
/// so both are refused.
pub(crate) fn denominated(
    fund: InsuranceFund,
    denomination: FundDenomination,
    markets: &[Option<f64>],
) -> Result<InsuranceFund, ParamError> {
    if denomination == FundDenomination::Usd {
        return Ok(fund);
    }
    match markets {
        [Some(start)] => Ok(fund.held_in_coin(*start)),
        [None] => Err(ParamError::new(
            "fund.denomination",
            "`base` is for a perp venue's fund held in its coin; a lending market's reserves \
             are held in its debt asset: use `usd`",
        )),
        _ => Err(ParamError::new(
            "fund.denomination",
            format!(
                "`base` needs one market (a fund held in one coin); this file has {}",
                markets.len()
            ),
        )),
    }
}

/// A record's figures in coins are set beside a fund held in coin only.
pub(crate) fn record_unit(
    record: Option<&RecordSection>,
    denomination: FundDenomination,
) -> Result<(), ParamError> {
    let Some(record) = record else {
        return Ok(());
    };
    if denomination == FundDenomination::Base {
        return Ok(());
    }
    for (field, given) in [
        ("fund_change_coin", record.fund_change_coin),
        ("inventory_peak_loss_coin", record.inventory_peak_loss_coin),
    ] {
        if given.is_some() {
            return Err(ParamError::new(
                format!("experiment.record.{field}"),
                "is a figure in coins, and this fund is held in USD: give `fund.denomination = \
                 \"base\"`, or the record's figure in USD",
            ));
        }
    }
    Ok(())
}

/// The rule after depletion.
pub(crate) fn socialization(spec: SocializationSpec) -> LossSocialization {
    match spec {
        SocializationSpec::Adl => LossSocialization::Adl,
        SocializationSpec::Socialize => LossSocialization::ProRata,
        SocializationSpec::RiskBased => LossSocialization::RiskBased,
        SocializationSpec::None => LossSocialization::None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_fund_passes() {
        let (fund, revenue) = check(&FundSection::default(), 1_440, 60.0).unwrap();
        assert_eq!(fund.initial(), 1e6);
        assert_eq!(revenue, 0.0);
    }

    #[test]
    fn revenue_is_counted_over_the_run() {
        let f = FundSection {
            revenue_per_step: 1e9,
            ..FundSection::default()
        };
        assert!(check(&f, 1_000, 60.0).is_ok());
        let e = check(&f, 10_000_000, 60.0).unwrap_err();
        assert_eq!(e.field, "fund.revenue_per_step");
    }

    #[test]
    fn a_negative_cap_is_named_below_fund() {
        let f = FundSection {
            cap: -1.0,
            ..FundSection::default()
        };
        assert_eq!(check(&f, 10, 60.0).unwrap_err().field, "fund.cap");
    }
}
