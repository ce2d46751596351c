//! `[traders]`: the population every perp market draws from (collateral, leverage, sides,
//! strategies and their decision rates, re-entry), the largest order and the open interest a
//! record sets.

use std::sync::Arc;

use crate::agents::{
    Herding, MarginDefender, Noise, Panic, PopulationParams, PositiveDistribution, Reentry, Static,
    Strategy, StrategyGroup, ThresholdLaw, Trend,
};
use crate::config::file::{
    DistributionSpec, NumberOrDistribution, StrategySpec, ThresholdSpec, TradersSection,
};
use crate::config::limits::{CALIBRATION_FUND, MAX_DECISIONS_PER_HOUR};
use crate::params::{ParamError, ParamResult, non_negative, positive};

/// What `[traders]` makes of every perp market's traders.
#[derive(Debug)]
pub(crate) struct Traders {
    pub(crate) population: PopulationParams,
    /// Largest price move of one voluntary order (fraction).
    pub(crate) max_order_impact: f64,
    /// Each perp market's open interest at t = 0 when a record sets it (USD, both sides).
    pub(crate) open_interest_usd: Option<f64>,
    /// The warm book's look-back in steps (`None`: a cold start).
    pub(crate) warm_start_steps: Option<usize>,
}

/// `[traders]`, checked in order: the population's draws, its strategies, re-entry, the
/// largest order, the open interest.
pub(crate) fn check(t: &TradersSection, dt: f64) -> ParamResult<Traders> {
    let population = PopulationParams::new(
        t.count,
        distribution(&t.collateral).map_err(|e| e.within("traders.collateral"))?,
        distribution(&t.leverage).map_err(|e| e.within("traders.leverage"))?,
        t.long_share,
    )
    .map_err(|e| e.within("traders"))?;
    let population = population
        .with_groups(strategy_groups(t)?)
        .map_err(|e| e.within("traders"))?
        .with_reentry(
            t.reentry
                .as_ref()
                .map(|r| Reentry::new(r.cooldown_minutes, r.probability, dt))
                .transpose()
                .map_err(|e| e.within("traders.reentry"))?,
        );
    let max_order_impact =
        positive("max_order_impact", t.max_order_impact).map_err(|e| e.within("traders"))?;
    let open_interest_usd = open_interest_target(t)?;
    let warm_start_steps = warm_start(t, dt)?;
    Ok(Traders {
        population,
        max_order_impact,
        open_interest_usd,
        warm_start_steps,
    })
}

/// The longest look-back of a warm book: 30 days.
pub(crate) const MAX_WARM_START_HOURS: f64 = 720.0;

/// `[traders] warm_start_hours` in steps of `dt` (`None`: a cold start). With a record's
/// open interest, each side's collateral is fitted to it on the warm book at t = 0
/// (simulation/warm_start.rs).
fn warm_start(t: &TradersSection, dt: f64) -> ParamResult<Option<usize>> {
    let hours = t.warm_start_hours;
    if !(0.0..=MAX_WARM_START_HOURS).contains(&hours) {
        return Err(ParamError::new(
            "traders.warm_start_hours",
            format!("must be from 0 to {MAX_WARM_START_HOURS} (30 days), got {hours}"),
        ));
    }
    Ok(warm_steps(hours, dt))
}

/// The look-back's steps of `dt` when `hours` asks for a warm book: `None` for a cold start
/// (a look-back under half a step) or for hours out of range, which [`warm_start`] refuses.
pub(crate) fn warm_steps(hours: f64, dt: f64) -> Option<usize> {
    if !(0.0..=MAX_WARM_START_HOURS).contains(&hours) {
        return None;
    }
    let steps = (hours * 3600.0 / dt).round() as usize;
    (steps > 0).then_some(steps)
}

pub(crate) fn distribution(d: &DistributionSpec) -> ParamResult<PositiveDistribution> {
    match *d {
        DistributionSpec::Fixed { value } => PositiveDistribution::fixed(value),
        DistributionSpec::Uniform { min, max } => PositiveDistribution::uniform(min, max),
        DistributionSpec::LogUniform { min, max } => PositiveDistribution::log_uniform(min, max),
        DistributionSpec::Lognormal { median, log_sd } => {
            PositiveDistribution::lognormal(median, log_sd)
        }
    }
}

/// `[traders] open_interest_usd`: `None` when 0. A record's open interest sets the book at
/// t = 0 only; traders who come back would draw unscaled accounts, so re-entry is refused
/// with it.
fn open_interest_target(t: &TradersSection) -> ParamResult<Option<f64>> {
    let oi =
        non_negative("open_interest_usd", t.open_interest_usd).map_err(|e| e.within("traders"))?;
    if oi == 0.0 {
        return Ok(None);
    }
    if oi > CALIBRATION_FUND {
        return Err(ParamError::new(
            "traders.open_interest_usd",
            format!("must be at most {CALIBRATION_FUND:e} USD, got {oi:e}"),
        ));
    }
    if t.reentry.is_some() {
        return Err(ParamError::new(
            "traders.open_interest_usd",
            "cannot be set with [traders.reentry]: it scales the book at t = 0, and traders who \
             come back would draw accounts of the unscaled distribution",
        ));
    }
    Ok(Some(oi))
}

fn rate(spec: &NumberOrDistribution, path: &str) -> ParamResult<PositiveDistribution> {
    let field = format!("{path}.decisions_per_hour");
    let d = match spec {
        // A plain number is the field itself, not a distribution's `value`.
        NumberOrDistribution::Number(v) => {
            PositiveDistribution::fixed(*v).map_err(|e| ParamError::new(&field, e.rule))
        }
        NumberOrDistribution::Distribution(d) => distribution(d).map_err(|e| e.within(&field)),
    }?;
    // A trader deciding more than once a second is no trader; and an unbounded rate (1e308
    // an hour) would never let a step end.
    let most = d.practical_max();
    if most > MAX_DECISIONS_PER_HOUR {
        return Err(ParamError::new(
            format!("{path}.decisions_per_hour"),
            format!(
                "reaches {most:e} decisions an hour, more than {MAX_DECISIONS_PER_HOUR} (one a \
                 second)"
            ),
        ));
    }
    Ok(d)
}

/// One strategy of the traders, validated. Errors name the strategy's own fields below
/// `path` (`traders.mix[2].strategy`) and the group's share below `group`
/// (`traders.mix[2]`). The strategy's own parameters are checked before its decision rate.
fn strategy_group(
    spec: &StrategySpec,
    share: f64,
    group: &str,
    path: &str,
) -> ParamResult<StrategyGroup> {
    let strategy = strategy(spec, path)?;
    let decisions = spec
        .decisions_per_hour()
        .map(|d| rate(d, path))
        .transpose()?;
    StrategyGroup::new(
        spec.name(),
        share,
        strategy,
        decisions,
        spec.reserve_ratio(),
    )
    .map_err(|e| {
        if e.field == "share" {
            e.within(group)
        } else {
            e.within(path)
        }
    })
}

/// The rule a strategy follows, from its own parameters (errors below `path`).
fn strategy(spec: &StrategySpec, path: &str) -> ParamResult<Arc<dyn Strategy>> {
    let within = |e: ParamError| e.within(path);
    Ok(match spec {
        StrategySpec::Static => Arc::new(Static),
        StrategySpec::Noise { .. } => Arc::new(Noise),
        StrategySpec::Momentum { ema_minutes, .. } => {
            Arc::new(Trend::momentum(*ema_minutes).map_err(within)?)
        }
        StrategySpec::Contrarian { ema_minutes, .. } => {
            Arc::new(Trend::contrarian(*ema_minutes).map_err(within)?)
        }
        StrategySpec::Panic {
            window_minutes,
            liquidation_threshold_usd,
            drawdown,
            ..
        } => Arc::new(
            Panic::new(*window_minutes, *liquidation_threshold_usd, *drawdown).map_err(within)?,
        ),
        StrategySpec::Herding {
            window_minutes,
            threshold,
            keep,
            flip,
            ..
        } => {
            let law =
                threshold_law(threshold).map_err(|e| e.within(&format!("{path}.threshold")))?;
            Arc::new(Herding::new(*window_minutes, law, *keep, *flip).map_err(within)?)
        }
        StrategySpec::MarginDefender { trigger, .. } => {
            Arc::new(MarginDefender::new(*trigger).map_err(within)?)
        }
    })
}

fn threshold_law(spec: &ThresholdSpec) -> ParamResult<ThresholdLaw> {
    match *spec {
        ThresholdSpec::Fixed { value } => ThresholdLaw::fixed(value),
        ThresholdSpec::Uniform { min, max } => ThresholdLaw::uniform(min, max),
        ThresholdSpec::Normal { mean, sd } => ThresholdLaw::normal(mean, sd),
    }
}

/// One strategy for every trader, or the groups of `[[traders.mix]]` (not both).
fn strategy_groups(t: &TradersSection) -> ParamResult<Vec<StrategyGroup>> {
    if t.mix.is_empty() {
        return Ok(vec![strategy_group(
            &t.strategy,
            1.0,
            "traders",
            "traders.strategy",
        )?]);
    }
    if t.strategy != StrategySpec::Static {
        return Err(ParamError::new(
            "traders.strategy",
            "give either one strategy or a [[traders.mix]], not both",
        ));
    }
    t.mix
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let group = format!("traders.mix[{i}]");
            strategy_group(&m.strategy, m.share, &group, &format!("{group}.strategy"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn traders(text: &str) -> TradersSection {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn a_rate_over_one_a_second_is_refused() {
        let at = "traders.strategy";
        assert!(rate(&NumberOrDistribution::Number(3_600.0), at).is_ok());
        let e = rate(&NumberOrDistribution::Number(3_601.0), at).unwrap_err();
        assert_eq!(e.field, "traders.strategy.decisions_per_hour");
        let e = rate(&NumberOrDistribution::Number(-1.0), at).unwrap_err();
        assert_eq!(e.field, "traders.strategy.decisions_per_hour");
    }

    #[test]
    fn a_strategy_is_checked_before_its_rate() {
        let spec = StrategySpec::Momentum {
            decisions_per_hour: NumberOrDistribution::Number(-1.0),
            ema_minutes: -1.0,
        };
        let e = strategy_group(&spec, 1.0, "traders", "traders.strategy").unwrap_err();
        assert_eq!(e.field, "traders.strategy.ema_minutes");
    }

    #[test]
    fn a_share_is_blamed_on_its_group() {
        let spec = StrategySpec::Static;
        let e = strategy_group(&spec, 1.5, "traders.mix[0]", "traders.mix[0].strategy");
        assert_eq!(e.unwrap_err().field, "traders.mix[0].share");
    }

    #[test]
    fn one_strategy_or_a_mix_not_both() {
        let t = traders(
            "strategy = { kind = \"noise\", decisions_per_hour = 1.0 }\n\
             [[mix]]\nshare = 1.0\nstrategy = { kind = \"static\" }\n",
        );
        assert_eq!(strategy_groups(&t).unwrap_err().field, "traders.strategy");
    }

    #[test]
    fn open_interest_is_refused_with_reentry() {
        let t = traders(
            "open_interest_usd = 1e9\n[reentry]\ncooldown_minutes = 5.0\nprobability = 0.5\n",
        );
        assert_eq!(
            check(&t, 60.0).unwrap_err().field,
            "traders.open_interest_usd"
        );
        assert_eq!(check(&traders(""), 60.0).unwrap().open_interest_usd, None);
    }
}
