//! The population at t = 0: collateral, leverage (capped at `1 / imr`) and side per trader, and
//! the mix of strategies the traders follow (MODEL.md sections 3 and 13).

use std::sync::Arc;

use rand::RngExt;

use super::{PositiveDistribution, Static, Strategy};
use crate::params::{ParamError, ParamResult, non_negative, unit_interval};
use crate::rng::SimRng;

/// One strategy of the mix: the share of traders that follow it, how often each decides, and
/// the reserve each holds outside the venue.
#[derive(Clone)]
pub struct StrategyGroup {
    pub(crate) name: String,
    pub(crate) share: f64,
    pub(crate) strategy: Arc<dyn Strategy>,
    /// Decisions per hour, drawn once per trader; `None` never decides (static).
    pub(crate) decisions_per_hour: Option<PositiveDistribution>,
    /// Reserve at t = 0 as a multiple of the trader's collateral.
    pub(crate) reserve_ratio: f64,
}

impl std::fmt::Debug for StrategyGroup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StrategyGroup")
            .field("name", &self.name)
            .field("share", &self.share)
            .field("decisions_per_hour", &self.decisions_per_hour)
            .field("reserve_ratio", &self.reserve_ratio)
            .finish()
    }
}

impl StrategyGroup {
    pub fn new(
        name: impl Into<String>,
        share: f64,
        strategy: Arc<dyn Strategy>,
        decisions_per_hour: Option<PositiveDistribution>,
        reserve_ratio: f64,
    ) -> ParamResult<Self> {
        Ok(Self {
            name: name.into(),
            share: unit_interval("share", share)?,
            strategy,
            decisions_per_hour,
            reserve_ratio: non_negative("reserve_ratio", reserve_ratio)?,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

/// A liquidated trader comes back after a cool-down with probability `probability`, with fresh
/// collateral and a new position drawn like those at t = 0 (MODEL.md section 3).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Reentry {
    pub(crate) cooldown_steps: u64,
    pub(crate) probability: f64,
}

impl Reentry {
    pub fn new(cooldown_minutes: f64, probability: f64, dt_seconds: f64) -> ParamResult<Self> {
        non_negative("cooldown_minutes", cooldown_minutes)?;
        Ok(Self {
            cooldown_steps: (cooldown_minutes * 60.0 / dt_seconds).ceil().max(1.0) as u64,
            probability: unit_interval("probability", probability)?,
        })
    }
}

#[derive(Clone, Debug)]
pub struct PopulationParams {
    count: u32,
    collateral: PositiveDistribution,
    leverage: PositiveDistribution,
    long_share: f64,
    groups: Vec<StrategyGroup>,
    /// `cumulative[g]`: share of traders in groups `0..=g`.
    cumulative: Vec<f64>,
    reentry: Option<Reentry>,
}

/// One trader's account at t = 0.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct InitialPosition {
    pub collateral: f64,
    /// Signed size in base units.
    pub size: f64,
    /// The leverage it opened with (after the cap).
    pub leverage: f64,
}

impl PopulationParams {
    pub fn new(
        count: u64,
        collateral: PositiveDistribution,
        leverage: PositiveDistribution,
        long_share: f64,
    ) -> ParamResult<Self> {
        if count == 0 || count > u32::MAX as u64 {
            return Err(ParamError::new(
                "count",
                format!("must be between 1 and {}, got {count}", u32::MAX),
            ));
        }
        let mut p = Self {
            count: count as u32,
            collateral,
            leverage,
            long_share: unit_interval("long_share", long_share)?,
            groups: Vec::new(),
            cumulative: Vec::new(),
            reentry: None,
        };
        p.set_groups(vec![StrategyGroup::new(
            "static",
            1.0,
            Arc::new(Static),
            None,
            0.0,
        )?])?;
        Ok(p)
    }

    /// Replaces the mix; shares must sum to 1. The error's field is `mix`.
    pub fn with_groups(mut self, groups: Vec<StrategyGroup>) -> ParamResult<Self> {
        self.set_groups(groups)?;
        Ok(self)
    }

    fn set_groups(&mut self, groups: Vec<StrategyGroup>) -> ParamResult<()> {
        let total: f64 = groups.iter().map(|g| g.share).sum();
        if groups.is_empty() || (total - 1.0).abs() > 1e-9 {
            return Err(ParamError::new(
                "mix",
                format!("the shares must sum to 1, they sum to {total}"),
            ));
        }
        let mut acc = 0.0;
        self.cumulative = groups
            .iter()
            .map(|g| {
                acc += g.share;
                acc
            })
            .collect();
        self.groups = groups;
        Ok(())
    }

    pub fn with_reentry(mut self, reentry: Option<Reentry>) -> Self {
        self.reentry = reentry;
        self
    }

    pub fn count(&self) -> u32 {
        self.count
    }

    /// The mean notional a trader opens with (USD), at most: mean collateral times the
    /// smaller of mean leverage and the cap `max_leverage` (`E[min(L, cap)]` is at most
    /// both), collateral and leverage being drawn independently.
    pub fn mean_notional_bound(&self, max_leverage: f64) -> f64 {
        self.collateral.mean() * self.leverage.mean().min(max_leverage)
    }

    pub fn groups(&self) -> &[StrategyGroup] {
        &self.groups
    }

    pub fn reentry(&self) -> Option<Reentry> {
        self.reentry
    }

    /// The group of the `i`-th of `n` traders of a market: group `g` takes the traders from
    /// `round(c_{g-1} n)` to `round(c_g n)`, `c` the cumulative shares. Traders are drawn
    /// independently, so contiguous blocks are as good as random ones, and a change of shares
    /// leaves every trader's account as it was (common random numbers).
    pub fn group_of(&self, i: u32, n: u32) -> usize {
        let x = i as f64 + 0.5;
        self.cumulative
            .iter()
            .position(|c| x < (c * n as f64).round())
            .unwrap_or(self.groups.len() - 1)
    }

    /// Every trader follows `strategy`, deciding `decisions_per_hour` times an hour (tests and
    /// custom strategies use this seam).
    pub fn with_strategy(mut self, strategy: Arc<dyn Strategy>, decisions_per_hour: f64) -> Self {
        let rate = (decisions_per_hour > 0.0)
            .then(|| PositiveDistribution::fixed(decisions_per_hour).ok())
            .flatten();
        self.groups = vec![StrategyGroup {
            name: "custom".into(),
            share: 1.0,
            strategy,
            decisions_per_hour: rate,
            reserve_ratio: 0.0,
        }];
        self.cumulative = vec![1.0];
        self
    }

    /// Draws trader `i`'s account; `cap(collateral, leverage)` is the leverage the venue's
    /// margin allows it, positions open at `price`. Draw order is fixed (collateral,
    /// leverage, side) so populations repeat exactly.
    pub fn draw(
        &self,
        rng: &mut SimRng,
        price: f64,
        cap: impl Fn(f64, f64) -> f64,
    ) -> InitialPosition {
        self.draw_account(rng).open(price, 1.0, cap)
    }

    /// Draws trader `i`'s account before any margin applies: collateral, the leverage it
    /// asks for, and its side.
    pub fn draw_account(&self, rng: &mut SimRng) -> DrawnAccount {
        let collateral = self.collateral.sample(rng);
        let leverage = self.leverage.sample(rng);
        let long = rng.random::<f64>() < self.long_share;
        DrawnAccount {
            collateral,
            leverage,
            long,
        }
    }

    pub fn long_share(&self) -> f64 {
        self.long_share
    }
}

/// A trader's account as drawn, before the venue's margin caps its leverage.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DrawnAccount {
    pub collateral: f64,
    /// The leverage it asks for.
    pub leverage: f64,
    pub long: bool,
}

impl DrawnAccount {
    /// The position it opens at `price` with its collateral times `scale`, at the leverage
    /// `cap(collateral, leverage)` allows.
    pub fn open(&self, price: f64, scale: f64, cap: impl Fn(f64, f64) -> f64) -> InitialPosition {
        let collateral = self.collateral * scale;
        let leverage = cap(collateral, self.leverage);
        let size = leverage * collateral / price;
        InitialPosition {
            collateral,
            size: if self.long { size } else { -size },
            leverage,
        }
    }
}

/// The factor on every collateral of one side that makes the side's notional at t = 0 equal
/// `target` USD, when a record gives the venue's open interest instead of a distribution
/// (issue 15). Collateral and size scale together, so every trader keeps its leverage, unless
/// the margin's tiers cap it lower at the larger size: the notional is then nondecreasing in
/// the factor, and bisection finds it to 1e-13 relative. `None` when the side has no trader
/// or no notional.
pub fn collateral_scale(
    accounts: &[DrawnAccount],
    long: bool,
    target: f64,
    cap: impl Fn(f64, f64) -> f64,
) -> Option<f64> {
    let side: Vec<(DrawnAccount, f64)> = accounts
        .iter()
        .filter(|a| a.long == long)
        .map(|a| (*a, 1.0))
        .collect();
    side_scale(&side, target, cap)
}

/// [`collateral_scale`] for one side's accounts each opened at its own price: each with the
/// ratio of the price at t = 0 to its entry, by which its notional at t = 0 exceeds its
/// notional at entry (a warm book's, simulation/warm_start.rs).
pub fn side_scale(
    side: &[(DrawnAccount, f64)],
    target: f64,
    cap: impl Fn(f64, f64) -> f64,
) -> Option<f64> {
    let notional = |f: f64| -> f64 {
        side.iter()
            .map(|(a, at_t0)| {
                let c = a.collateral * f;
                c * cap(c, a.leverage) * at_t0
            })
            .sum()
    };
    let at_one = notional(1.0);
    if side.is_empty() || at_one <= 0.0 || target <= 0.0 {
        return None;
    }
    // Without caps biting, the notional is linear in the factor; start the bracket there.
    let guess = target / at_one;
    if (notional(guess) - target).abs() <= 1e-13 * target {
        return Some(guess);
    }
    let (mut lo, mut hi) = (0.0, guess);
    while notional(hi) < target {
        lo = hi;
        hi *= 2.0;
        if !hi.is_finite() {
            return None;
        }
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if notional(mid) < target {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo <= 1e-15 * hi {
            break;
        }
    }
    Some(hi)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agents::Noise;

    #[test]
    fn groups_take_their_share_of_every_market() {
        let p = PopulationParams::new(
            10,
            PositiveDistribution::fixed(1.0).unwrap(),
            PositiveDistribution::fixed(1.0).unwrap(),
            0.5,
        )
        .unwrap();
        let g = |share| StrategyGroup::new("x", share, Arc::new(Noise), None, 0.0).unwrap();
        let p = p.with_groups(vec![g(0.3), g(0.2), g(0.5)]).unwrap();
        let counts = |n: u32| {
            let mut c = [0; 3];
            for i in 0..n {
                c[p.group_of(i, n)] += 1;
            }
            c
        };
        assert_eq!(counts(1_000), [300, 200, 500]);
        assert_eq!(counts(10), [3, 2, 5]);
        let bad = PopulationParams::new(
            10,
            PositiveDistribution::fixed(1.0).unwrap(),
            PositiveDistribution::fixed(1.0).unwrap(),
            0.5,
        )
        .unwrap()
        .with_groups(vec![g(0.3), g(0.3)]);
        assert_eq!(bad.unwrap_err().field, "mix");
    }

    /// A record's open interest: each side's notional at t = 0 is its share of the target,
    /// to 1e-12, with or without a cap that bites at the larger size; every trader keeps the
    /// side it drew.
    #[test]
    fn collateral_scales_give_each_side_its_share_of_the_open_interest() {
        let p = PopulationParams::new(
            500,
            PositiveDistribution::lognormal(1e4, 1.0).unwrap(),
            PositiveDistribution::log_uniform(2.0, 100.0).unwrap(),
            0.7,
        )
        .unwrap();
        let mut rng = crate::rng::stream_rng(3, 0, crate::rng::Stream::Population);
        let drawn: Vec<DrawnAccount> = (0..500).map(|_| p.draw_account(&mut rng)).collect();
        // A cap like a margin tier's: 50x up to 100k USD of notional, held there until 25x
        // of the collateral passes it.
        let tiered = |c: f64, l: f64| l.min(50.0).min((1e5 / c).max(25.0));
        let flat = |_c: f64, l: f64| l.min(50.0);
        for oi in [1e8, 1e9] {
            for (name, cap) in [
                ("tiered", &tiered as &dyn Fn(f64, f64) -> f64),
                ("flat", &flat),
            ] {
                let (long, short) = (
                    collateral_scale(&drawn, true, 0.7 * oi, cap).unwrap(),
                    collateral_scale(&drawn, false, 0.3 * oi, cap).unwrap(),
                );
                let notional = |is_long: bool, f: f64| -> f64 {
                    drawn
                        .iter()
                        .filter(|a| a.long == is_long)
                        .map(|a| a.open(1.0, f, cap).size.abs())
                        .sum()
                };
                assert!(
                    (notional(true, long) / (0.7 * oi) - 1.0).abs() < 1e-12,
                    "{name}"
                );
                assert!(
                    (notional(false, short) / (0.3 * oi) - 1.0).abs() < 1e-12,
                    "{name}"
                );
            }
        }
    }
}
