//! `[margin]`: initial and maintenance margin (flat or tiered by notional) and trading fees.

use crate::config::file::MarginSection;
use crate::params::ParamError;
use crate::protocol::{FeeParams, MarginParams, MarginTier};

/// The margin rules: the flat rates, then the tiers over them.
pub(crate) fn check(m: &MarginSection) -> Result<MarginParams, ParamError> {
    let tiers: Vec<MarginTier> = m
        .tiers
        .iter()
        .map(|t| MarginTier {
            from_notional: t.from_usd,
            imr: t.imr,
            mmr: t.mmr,
        })
        .collect();
    MarginParams::new(m.imr, m.mmr)
        .and_then(|p| p.with_tiers(&tiers))
        .map_err(|e| e.within("margin"))
}

/// The trading fee and the fund's share of it.
pub(crate) fn fees(m: &MarginSection) -> Result<FeeParams, ParamError> {
    FeeParams::new(m.fee_rate, m.fee_fund_share).map_err(|e| e.within("margin"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_margin_and_fees_pass() {
        assert!(check(&MarginSection::default()).is_ok());
        assert!(fees(&MarginSection::default()).is_ok());
    }

    #[test]
    fn errors_are_named_below_margin() {
        let m = MarginSection {
            imr: -1.0,
            fee_rate: 2.0,
            ..MarginSection::default()
        };
        assert!(check(&m).unwrap_err().field.starts_with("margin."));
        assert!(fees(&m).unwrap_err().field.starts_with("margin."));
    }
}
