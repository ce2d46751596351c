//! `[market]` and `[markets.NAME]`: each market's mark, book, other venues, lending terms and
//! number of traders (its index model is [`super::price_model`]'s).

use std::collections::HashSet;

use crate::config::file::{BookSpec, ExperimentFile, ImpactOnSpec, MarketSection, TradersSection};
use crate::config::lending::LendingScenario;
use crate::config::read::deserialize_value;
use crate::market::{
    DepthWithdrawal, FlowWithdrawal, ImpactLaw, LinearBook, MarkState, OtherVenues, SqrtImpact,
};
use crate::params::{ParamError, positive};

/// One market's section, where it is written (`market`, `markets.NAME`) and its name.
#[derive(Clone, Debug)]
pub(crate) struct MarketAt {
    pub(crate) path: String,
    pub(crate) name: String,
    pub(crate) section: MarketSection,
}

/// `[market]` first (named "main" unless it names itself), then `[markets.NAME]` in file
/// order, each read from its raw table; a name may be used once.
pub(crate) fn sections(f: &ExperimentFile) -> Result<Vec<MarketAt>, ParamError> {
    let mut first = f.market.clone();
    if first.name.is_empty() {
        first.name = "main".into();
    }
    let mut names: HashSet<String> = HashSet::from([first.name.clone()]);
    let mut sections = vec![MarketAt {
        path: "market".into(),
        name: first.name.clone(),
        section: first,
    }];
    for (name, raw) in &f.markets {
        let path = format!("markets.{name}");
        let mut section: MarketSection = deserialize_value(raw.clone(), &path)?;
        if !section.name.is_empty() && section.name != *name {
            return Err(ParamError::new(
                format!("{path}.name"),
                format!("is given by the table's name `{name}`; leave it out"),
            ));
        }
        section.name = name.clone();
        if !names.insert(name.clone()) {
            return Err(ParamError::new(
                path,
                format!("market name `{name}` is used twice"),
            ));
        }
        sections.push(MarketAt {
            path,
            name: name.clone(),
            section,
        });
    }
    Ok(sections)
}

/// The market's mark (with its depth withdrawals) and its book, checked in that order:
/// the volatility withdrawal, the book, the flow withdrawal (which reads the book), the mark.
pub(crate) fn mark_and_book(
    m: &MarketSection,
    path: &str,
    dt: f64,
) -> Result<(MarkState, ImpactLaw), ParamError> {
    let withdrawal = m
        .liquidity
        .as_ref()
        .map(|l| {
            DepthWithdrawal::new(
                l.kappa,
                l.reference_vol,
                l.ewma_half_life_minutes,
                l.floor,
                dt,
            )
        })
        .transpose()
        .map_err(|e| e.within(&format!("{path}.liquidity")))?;
    let book = impact_law(&m.book, &format!("{path}.book"))?;
    let flow_withdrawal = m
        .flow_liquidity
        .as_ref()
        .map(|f| FlowWithdrawal::new(f.gamma, f.half_life_minutes, f.floor, dt, &book))
        .transpose()
        .map_err(|e| e.within(&format!("{path}.flow_liquidity")))?;
    let rule = m
        .mark
        .check(dt)
        .map_err(|e| e.within(&format!("{path}.mark")))?;
    let mark = MarkState::new(m.s0, m.impact_half_life_minutes, m.permanent_impact, dt)
        .map_err(|e| e.within(path))?
        .with_rule(rule)
        .with_withdrawal(withdrawal)
        .with_flow_withdrawal(flow_withdrawal)
        .with_impact_on_step_flow(m.impact_on == ImpactOnSpec::StepFlow)
        .with_band(m.price_band)
        .map_err(|e| e.within(path))?;
    Ok((mark, book))
}

/// A book spec, validated; errors are named below `path`.
pub(crate) fn impact_law(spec: &BookSpec, path: &str) -> Result<ImpactLaw, ParamError> {
    Ok(match *spec {
        BookSpec::Linear { depth_usd } => {
            ImpactLaw::Linear(LinearBook::new(depth_usd).map_err(|e| e.within(path))?)
        }
        BookSpec::Sqrt {
            y,
            vol,
            daily_volume_usd,
        } => ImpactLaw::SquareRoot(
            SqrtImpact::new(y, vol, daily_volume_usd).map_err(|e| e.within(path))?,
        ),
        BookSpec::None => ImpactLaw::None,
    })
}

/// `[path.other_venues]`, if the market has them.
pub(crate) fn other_venues(
    m: &MarketSection,
    path: &str,
) -> Result<Option<OtherVenues>, ParamError> {
    m.other_venues
        .as_ref()
        .map(|o| {
            let at = format!("{path}.other_venues");
            let world = impact_law(&o.book, &format!("{at}.book"))?;
            OtherVenues::new(o.share, o.beta, world).map_err(|e| e.within(&at))
        })
        .transpose()
}

/// `[path.lending]`, if this is a lending market.
pub(crate) fn lending(
    m: &MarketSection,
    path: &str,
) -> Result<Option<LendingScenario>, ParamError> {
    m.lending
        .as_ref()
        .map(|l| {
            LendingScenario::from_section(
                l,
                &format!("{path}.lending"),
                super::population::distribution,
            )
        })
        .transpose()
}

/// The market's traders (its own `traders`, else `traders.count`), or a lending market's
/// borrowers, which may not be given as traders.
pub(crate) fn traders(
    m: &MarketSection,
    t: &TradersSection,
    lending: Option<&LendingScenario>,
    path: &str,
) -> Result<u32, ParamError> {
    if let (Some(_), Some(_)) = (lending, m.traders) {
        return Err(ParamError::new(
            format!("{path}.traders"),
            "a lending market holds borrowers, not traders: give their number as \
             `lending.borrowers`",
        ));
    }
    let traders = lending.map_or(m.traders.unwrap_or(t.count), |l| l.borrowers as u64);
    if traders == 0 || traders > u32::MAX as u64 {
        // A market without its own count takes `traders.count`: that is the field.
        let field = match m.traders {
            Some(_) => format!("{path}.traders"),
            None => "traders.count".to_string(),
        };
        return Err(ParamError::new(
            field,
            format!("must be between 1 and {}, got {traders}", u32::MAX),
        ));
    }
    Ok(traders as u32)
}

/// A market's `fund_weight` is relative, but positive.
pub(crate) fn fund_weight(m: &MarketSection, path: &str) -> Result<(), ParamError> {
    positive("fund_weight", m.fund_weight)
        .map(|_| ())
        .map_err(|e| e.within(path))
}

/// All markets' traders (and borrowers) together.
pub(crate) fn check_total_traders(traders: impl Iterator<Item = u32>) -> Result<(), ParamError> {
    let total: u64 = traders.map(u64::from).sum();
    if total > u32::MAX as u64 {
        return Err(ParamError::new(
            "traders.count",
            format!("all markets together may hold at most {} traders", u32::MAX),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> ExperimentFile {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn the_first_market_is_main_and_the_others_follow_in_file_order() {
        let f = file("[markets.eth]\n[markets.sol]\n");
        let s = sections(&f).unwrap();
        let names: Vec<&str> = s.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["main", "eth", "sol"]);
        assert_eq!(s[1].path, "markets.eth");
    }

    #[test]
    fn a_name_is_used_once() {
        let e = sections(&file("[market]\nname = \"eth\"\n[markets.eth]\n")).unwrap_err();
        assert_eq!(e.field, "markets.eth");
        let e = sections(&file("[markets.eth]\nname = \"sol\"\n")).unwrap_err();
        assert_eq!(e.field, "markets.eth.name");
    }

    #[test]
    fn a_market_without_its_own_count_blames_traders_count() {
        let t = TradersSection {
            count: 0,
            ..TradersSection::default()
        };
        let own = MarketSection {
            traders: Some(0),
            ..MarketSection::default()
        };
        assert_eq!(
            traders(&MarketSection::default(), &t, None, "market")
                .unwrap_err()
                .field,
            "traders.count"
        );
        assert_eq!(
            traders(&own, &t, None, "markets.eth").unwrap_err().field,
            "markets.eth.traders"
        );
    }

    #[test]
    fn the_total_fits_a_u32() {
        assert!(check_total_traders([u32::MAX].into_iter()).is_ok());
        assert!(check_total_traders([u32::MAX, 1].into_iter()).is_err());
    }
}
