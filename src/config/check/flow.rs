//! The rules that a market's flows cannot carry its index out of range: the traders' own
//! orders through a permanent share of impact, and the other venues' forced flow through
//! the world's book.

use crate::agents::PopulationParams;
use crate::market::{ImpactLaw, ImpactModel as _, OtherVenues, SANE_PRICE_FACTOR};
use crate::params::ParamError;

/// The rule that the venue's own trading cannot carry the index out of range: with a
/// permanent share of impact, every trader's order moves the index itself, by at most
/// `permanent * order_impact` in log terms (`order_impact` the largest a decision trades,
/// `traders.max_order_impact`, or the band's width). If the decisions expected over the
/// horizon could, all pushing one way, move it beyond a factor of [`SANE_PRICE_FACTOR`], the
/// feedback may run away (R2 with `permanent_impact = 0.5`: constant-leverage traders buy
/// into their own rise, their equity and orders compound, and the index rose from 3e4 to
/// 1.3e9 in a day), and the file is refused before any run. Forced closes are not counted:
/// the positions they close are bounded by what the traders opened; nor are the orders of
/// strategies that only close or turn once (panic, herding), for the same reason.
pub(crate) fn check_own_flow(
    permanent: f64,
    traders: u32,
    population: &PopulationParams,
    order_impact: f64,
    horizon_hours: f64,
    path: &str,
) -> Result<(), ParamError> {
    if permanent == 0.0 {
        return Ok(());
    }
    let decisions: f64 = population
        .groups()
        .iter()
        .filter(|g| !g.strategy.bounded_by_position())
        .filter_map(|g| {
            let rate = g.decisions_per_hour.as_ref()?;
            Some(g.share * rate.mean().min(rate.practical_max()))
        })
        .sum::<f64>()
        * traders as f64
        * horizon_hours;
    let log_move = permanent * order_impact * decisions;
    let limit = SANE_PRICE_FACTOR.ln();
    if log_move <= limit {
        return Ok(());
    }
    Err(ParamError::new(
        format!("{path}.permanent_impact"),
        format!(
            "= {permanent} lets the traders' own orders move the index by up to e^{log_move:.1} \
             over the horizon ({decisions:.3e} decisions expected, each moving the index by up \
             to {permanent} x {order_impact} in log terms), beyond the factor \
             {SANE_PRICE_FACTOR:e} (e^{limit:.1}) any market reaches: a feedback that can run \
             away. Lower it to at most {:.3e}, or lower traders.max_order_impact or the \
             decision rates",
            limit / (order_impact * decisions)
        ),
    ))
}

/// The rule that other venues' forced flow cannot carry the index out of range: it stands
/// for this venue's forced flow, which is bounded by the positions opened (`open_interest`,
/// expected; re-entries open more). If liquidating all of it, spread evenly over the run's
/// steps (the worst case for a concave law, all at once for a linear book), would move the
/// index beyond a factor of [`SANE_PRICE_FACTOR`] through the world's book, the file is
/// refused before any run instead of a run stopping on a price fault.
pub(crate) fn check_other_venues(
    others: &OtherVenues,
    open_interest: f64,
    steps: u64,
    path: &str,
) -> Result<(), ParamError> {
    let flow = others.multiplier() * open_interest;
    let log_move = match others.world() {
        ImpactLaw::Linear(_) | ImpactLaw::None => others.world().fill(flow, 1.0).impact,
        ImpactLaw::SquareRoot(_) => {
            let n = steps.max(1) as f64;
            n * others.world().fill(flow / n, 1.0).impact
        }
    };
    let limit = SANE_PRICE_FACTOR.ln();
    if log_move <= limit {
        return Ok(());
    }
    Err(ParamError::new(
        format!("{path}.other_venues.book"),
        format!(
            "is too thin for the other venues' forced flow: liquidating the {open_interest:.3e} \
             USD of open interest expected here would bring {flow:.3e} USD of their flow \
             onto it and move the index by e^{log_move:.1}, beyond the factor \
             {SANE_PRICE_FACTOR:e} any market reaches. Deepen the world's book or raise \
             other_venues.share"
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agents::{Noise, PositiveDistribution, StrategyGroup};
    use crate::market::LinearBook;
    use std::sync::Arc;

    /// Noise traders deciding 60 times an hour.
    fn noise() -> PopulationParams {
        let fixed = |v| PositiveDistribution::fixed(v).unwrap();
        let rate = Some(fixed(60.0));
        let group = StrategyGroup::new("noise", 1.0, Arc::new(Noise), rate, 0.0).unwrap();
        PopulationParams::new(1_000, fixed(1e4), fixed(5.0), 0.5)
            .unwrap()
            .with_groups(vec![group])
            .unwrap()
    }

    #[test]
    fn own_orders_move_the_index_only_with_a_permanent_share() {
        let p = noise();
        assert!(check_own_flow(0.0, 1_000, &p, 0.1, 24.0, "market").is_ok());
        assert!(check_own_flow(1e-9, 1_000, &p, 0.1, 24.0, "market").is_ok());
        let e = check_own_flow(1.0, 1_000, &p, 0.1, 24.0, "market").unwrap_err();
        assert_eq!(e.field, "market.permanent_impact");
    }

    #[test]
    fn other_venues_flow_through_the_world_book() {
        let world = ImpactLaw::Linear(LinearBook::new(1e9).unwrap());
        let others = OtherVenues::new(0.5, 1.0, world).unwrap();
        assert!(check_other_venues(&others, 1e6, 1_440, "market").is_ok());
        let e = check_other_venues(&others, 1e20, 1_440, "market").unwrap_err();
        assert_eq!(e.field, "market.other_venues.book");
    }
}
