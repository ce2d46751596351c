//! Each market's `fund_weight`: its share of the fund when funds are isolated, its stake in a
//! shared fund for the spill-over figure.

use super::markets::MarketAt;
use crate::config::file::FundScope;
use crate::config::limits::MIN_FUND_SHARE;
use crate::params::ParamError;

/// Each market's weight over the total (they sum to 1). A share of a billionth is no fund of
/// its own: weights that far apart are a typo (and an isolated fund of 1e-300 USD would
/// leave the ledger at rounding's mercy).
pub(crate) fn check(sections: &[MarketAt]) -> Result<Vec<f64>, ParamError> {
    let total_weight: f64 = sections.iter().map(|m| m.section.fund_weight).sum();
    let least = sections
        .iter()
        .map(|m| m.section.fund_weight / total_weight)
        .fold(f64::INFINITY, f64::min);
    if least < MIN_FUND_SHARE {
        return Err(blame_the_odd_weight(sections, least));
    }
    Ok(sections
        .iter()
        .map(|m| m.section.fund_weight / total_weight)
        .collect())
}

/// Isolated funds: each market's share of `fund`. Empty: one shared fund.
pub(crate) fn fund_shares(scope: FundScope, market_weights: &[f64]) -> Vec<f64> {
    match scope {
        FundScope::Shared => Vec::new(),
        FundScope::Isolated => market_weights.to_vec(),
    }
}

/// The error for a market left less than [`MIN_FUND_SHARE`], blamed on the weight farthest
/// (in log terms) from the median weight, the default 1 breaking ties: the one typed off by
/// powers of ten.
fn blame_the_odd_weight(sections: &[MarketAt], least: f64) -> ParamError {
    let mut logs: Vec<f64> = sections
        .iter()
        .map(|m| m.section.fund_weight.ln())
        .collect();
    logs.sort_by(f64::total_cmp);
    // With an even count, the middle of the two middle weights: two markets are then
    // equally far from it, and the tie goes to the weight farther from 1.
    let n = logs.len();
    let median = if n.is_multiple_of(2) {
        0.5 * (logs[n / 2 - 1] + logs[n / 2])
    } else {
        logs[n / 2]
    };
    let off = |w: f64| ((w.ln() - median).abs(), w.ln().abs());
    let odd = sections.iter().max_by(|a, b| {
        let (x, y) = (off(a.section.fund_weight), off(b.section.fund_weight));
        // Distances equal up to rounding are a tie (two markets around their midpoint):
        // the weight farther from 1 is the one typed off.
        let tied = (x.0 - y.0).abs() <= 1e-9 * x.0.max(y.0).max(1.0);
        let by_distance = if tied {
            std::cmp::Ordering::Equal
        } else {
            x.0.total_cmp(&y.0)
        };
        by_distance.then(x.1.total_cmp(&y.1))
    });
    // There is always a market (`[market]`): the fallback names it, never reached.
    let (path, weight) = odd.map_or(("market", f64::NAN), |m| {
        (m.path.as_str(), m.section.fund_weight)
    });
    ParamError::new(
        format!("{path}.fund_weight"),
        format!(
            "= {weight:e} leaves a market {least:e} of the fund; weights are relative and \
             must leave every market at least {MIN_FUND_SHARE:e} of it"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::file::MarketSection;

    fn markets(weights: &[f64]) -> Vec<MarketAt> {
        weights
            .iter()
            .enumerate()
            .map(|(i, &w)| MarketAt {
                path: format!("markets.m{i}"),
                name: format!("m{i}"),
                section: MarketSection {
                    fund_weight: w,
                    ..MarketSection::default()
                },
            })
            .collect()
    }

    #[test]
    fn weights_are_shares_of_their_total() {
        assert_eq!(check(&markets(&[1.0, 3.0])).unwrap(), [0.25, 0.75]);
        assert_eq!(
            fund_shares(FundScope::Shared, &[0.25, 0.75]),
            Vec::<f64>::new()
        );
        assert_eq!(
            fund_shares(FundScope::Isolated, &[0.25, 0.75]),
            [0.25, 0.75]
        );
    }

    #[test]
    fn the_weight_typed_off_by_powers_of_ten_is_blamed() {
        let e = check(&markets(&[1.0, 1.0, 1e-12])).unwrap_err();
        assert_eq!(e.field, "markets.m2.fund_weight");
        let e = check(&markets(&[1e12, 1.0, 1.0])).unwrap_err();
        assert_eq!(e.field, "markets.m0.fund_weight");
    }

    #[test]
    fn between_two_the_weight_farther_from_one_is_blamed() {
        let e = check(&markets(&[1.0, 1e12])).unwrap_err();
        assert_eq!(e.field, "markets.m1.fund_weight");
    }
}
