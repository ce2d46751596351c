//! The behavioral strategies of MODEL.md section 3. Each decides only at its trader's Poisson
//! decision times and holds parameters only: per-trader state (peak equity, reserve, target
//! leverage) lives in the simulation's arrays, market signals in its indicators.

use rand::RngExt;

use super::{Indicator, MarketView, Order, Side, Strategy, ThresholdLaw, TraderView};
use crate::params::{ParamError, ParamResult, non_negative, positive};
use crate::rng::SimRng;

/// The position a trader of this leverage would hold on `side` (+1 long, -1 short): its
/// equity times its target leverage, at the mark. Flat when it has no equity left.
fn sized(me: &TraderView, market: &MarketView, side: f64) -> Order {
    let equity = me.equity(market.mark);
    if equity <= 0.0 {
        return Order::Hold;
    }
    Order::TargetSize(side * me.target_leverage * equity / market.mark)
}

/// Trades at random (liquidity noise, Kyle 1985): at each decision, flat, long or short with
/// probability 1/3 each, at its own target leverage.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Noise;

impl Strategy for Noise {
    fn decide(&self, me: &TraderView, market: &MarketView, rng: &mut SimRng) -> Order {
        let u: f64 = rng.random();
        if u < 1.0 / 3.0 {
            Order::TargetSize(0.0)
        } else {
            sized(me, market, if u < 2.0 / 3.0 { 1.0 } else { -1.0 })
        }
    }
}

/// Trend following (`Momentum`, `side = sign(P - EMA)`, MODEL.md section 3) or mean
/// reversion (`Contrarian`, the opposite side): one rule with a direction.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Trend {
    ema_minutes: f64,
    /// +1 follows the trend, -1 fades it.
    direction: f64,
}

impl Trend {
    /// Long when the mark is above its moving average, short when below.
    pub fn momentum(ema_minutes: f64) -> ParamResult<Self> {
        Self::new(ema_minutes, 1.0)
    }

    /// Short when the mark is above its moving average, long when below.
    pub fn contrarian(ema_minutes: f64) -> ParamResult<Self> {
        Self::new(ema_minutes, -1.0)
    }

    fn new(ema_minutes: f64, direction: f64) -> ParamResult<Self> {
        Ok(Self {
            ema_minutes: positive("ema_minutes", ema_minutes)?,
            direction,
        })
    }
}

impl Strategy for Trend {
    fn indicators(&self) -> Vec<Indicator> {
        vec![Indicator::MarkEma {
            minutes: self.ema_minutes,
        }]
    }

    fn decide(&self, me: &TraderView, market: &MarketView, _: &mut SimRng) -> Order {
        let gap = market.mark - market.signals[0];
        if gap == 0.0 {
            return Order::Hold;
        }
        sized(me, market, self.direction * gap.signum())
    }
}

/// Herding: holds its position until the liquidations of positions on its own side over the
/// last `window` minutes pass `threshold_usd`, or its own equity falls `drawdown` below its
/// peak; then it closes out (behavioral contagion: others' liquidations make it sell too).
///
/// Only its own side counts: in a long squeeze the longs that watch fellow longs being
/// liquidated sell, adding to the pressure, while the shorts are winning and hold. A rule
/// that made both sides close on any liquidation would have the shorts buy back into every
/// crash and damp the very cascade it is meant to feed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Panic {
    window_minutes: f64,
    threshold_usd: f64,
    drawdown: f64,
}

impl Panic {
    pub fn new(window_minutes: f64, threshold_usd: f64, drawdown: f64) -> ParamResult<Self> {
        positive("window_minutes", window_minutes)?;
        non_negative("liquidation_threshold_usd", threshold_usd)?;
        if !(drawdown > 0.0 && drawdown <= 1.0) {
            return Err(ParamError::new(
                "drawdown",
                format!("must be in (0, 1], got {drawdown}"),
            ));
        }
        Ok(Self {
            window_minutes,
            threshold_usd,
            drawdown,
        })
    }

    /// Whether a trader in this state panics.
    pub fn panics(&self, me: &TraderView, market: &MarketView) -> bool {
        // Signals: [longs liquidated, shorts liquidated] over the window.
        let liquidated = if me.size > 0.0 {
            market.signals[0]
        } else {
            market.signals[1]
        };
        let equity = me.equity(market.mark);
        let drawn_down = me.peak_equity > 0.0 && equity < (1.0 - self.drawdown) * me.peak_equity;
        liquidated > self.threshold_usd || drawn_down
    }
}

impl Strategy for Panic {
    /// It only ever closes.
    fn bounded_by_position(&self) -> bool {
        true
    }

    fn indicators(&self) -> Vec<Indicator> {
        vec![
            Indicator::LiquidatedNotional {
                minutes: self.window_minutes,
                side: Side::Long,
            },
            Indicator::LiquidatedNotional {
                minutes: self.window_minutes,
                side: Side::Short,
            },
        ]
    }

    fn decide(&self, me: &TraderView, market: &MarketView, _: &mut SimRng) -> Order {
        if me.size != 0.0 && self.panics(me, market) {
            Order::TargetSize(0.0)
        } else {
            Order::Hold
        }
    }
}

/// Herding (self-exciting de-risking; Granovetter 1978, Morris and Shin 2004; MODEL.md
/// section 3): each trader holds a private threshold `theta_i` drawn at t = 0 and de-risks,
/// once, when the public signal `s(t)` (all de-risking notional over the last `window`
/// minutes, over the open interest at t = 0) reaches it: it cuts its position to `keep` of
/// itself, or with `flip` closes and opens the opposite side at its own leverage
/// (capitulation). Its de-risking feeds the signal the others read. Orders are split by the
/// venue's order cap like any trader's, so a de-risking may take several decisions.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Herding {
    window_minutes: f64,
    thresholds: ThresholdLaw,
    keep: f64,
    flip: bool,
}

impl Herding {
    pub fn new(
        window_minutes: f64,
        thresholds: ThresholdLaw,
        keep: f64,
        flip: bool,
    ) -> ParamResult<Self> {
        positive("window_minutes", window_minutes)?;
        if !(0.0..1.0).contains(&keep) {
            return Err(ParamError::new(
                "keep",
                format!("must be in [0, 1) (the share of the position kept), got {keep}"),
            ));
        }
        if flip && keep > 0.0 {
            return Err(ParamError::new(
                "keep",
                "must be 0 with `flip`: a flipping trader closes before it turns",
            ));
        }
        Ok(Self {
            window_minutes,
            thresholds,
            keep,
            flip,
        })
    }

    /// The position a trader in this state de-risks to.
    fn target(&self, me: &TraderView, market: &MarketView) -> f64 {
        if !self.flip {
            return self.keep * me.size;
        }
        let equity = me.equity(market.mark);
        if equity <= 0.0 {
            return 0.0;
        }
        -me.size.signum() * me.target_leverage * equity / market.mark
    }
}

impl Strategy for Herding {
    fn indicators(&self) -> Vec<Indicator> {
        vec![Indicator::DeRiskingShare {
            minutes: self.window_minutes,
        }]
    }

    fn threshold_law(&self) -> Option<ThresholdLaw> {
        Some(self.thresholds)
    }

    /// It de-risks once: to a part of its position, or with `flip` to the other side at its
    /// own leverage.
    fn bounded_by_position(&self) -> bool {
        true
    }

    fn decide(&self, me: &TraderView, market: &MarketView, _: &mut SimRng) -> Order {
        if let Some(target) = me.derisk_target {
            // Reached up to rounding: `size + (target - size)` may miss by an ulp.
            return if (me.size - target).abs() <= 1e-9 * me.size.abs().max(target.abs()) {
                Order::Hold
            } else {
                Order::TargetSize(target)
            };
        }
        if me.size != 0.0 && market.signals[0] >= me.threshold {
            Order::DeRisk(self.target(me, market))
        } else {
            Order::Hold
        }
    }
}

/// Defends its position: when its margin ratio falls below `trigger * mmr`, it moves money
/// from its reserve into collateral, enough to get back to the initial margin `imr` (or all
/// the reserve has left).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MarginDefender {
    trigger: f64,
}

impl MarginDefender {
    pub fn new(trigger: f64) -> ParamResult<Self> {
        if !(trigger.is_finite() && trigger >= 1.0) {
            return Err(ParamError::new(
                "trigger",
                format!("must be >= 1 (a multiple of mmr), got {trigger}"),
            ));
        }
        Ok(Self { trigger })
    }
}

impl Strategy for MarginDefender {
    /// It never trades, only tops up.
    fn bounded_by_position(&self) -> bool {
        true
    }

    fn decide(&self, me: &TraderView, market: &MarketView, _: &mut SimRng) -> Order {
        let notional = me.size.abs() * market.mark;
        if notional == 0.0 || me.reserve <= 0.0 {
            return Order::Hold;
        }
        let equity = me.equity(market.mark);
        if equity >= self.trigger * market.mmr * notional {
            return Order::Hold;
        }
        let needed = market.imr * notional - equity;
        Order::TopUp(needed.min(me.reserve))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Stream, stream_rng};

    fn me(size: f64, collateral: f64) -> TraderView {
        TraderView {
            collateral,
            size,
            entry: 100.0,
            reserve: 500.0,
            peak_equity: collateral,
            target_leverage: 5.0,
            threshold: 0.0,
            derisk_target: None,
        }
    }

    fn market(mark: f64, signal: f64) -> MarketView<'static> {
        with_signals(mark, &[signal])
    }

    fn with_signals(mark: f64, signals: &[f64]) -> MarketView<'static> {
        let signals: &'static [f64] = Box::leak(signals.to_vec().into_boxed_slice());
        MarketView {
            step: 10,
            mark,
            index: mark,
            imr: 0.02,
            mmr: 0.01,
            signals,
        }
    }

    /// A herder de-risks once the signal reaches its own threshold (not before), to `keep` of
    /// its position or, with `flip`, to the other side at its own leverage; then it trades on
    /// to that target and holds there.
    #[test]
    fn herding_derisks_at_its_private_threshold_once() {
        let law = ThresholdLaw::fixed(0.1).unwrap();
        let cut = Herding::new(15.0, law, 0.25, false).unwrap();
        let mut t = me(4.0, 100.0);
        t.threshold = 0.1;
        let mut rng = stream_rng(1, 0, Stream::Decisions);
        assert_eq!(cut.decide(&t, &market(100.0, 0.099), &mut rng), Order::Hold);
        assert_eq!(
            cut.decide(&t, &market(100.0, 0.1), &mut rng),
            Order::DeRisk(1.0)
        );
        let flip = Herding::new(15.0, law, 0.0, true).unwrap();
        // Equity 100, leverage 5, mark 100: a short of 5.
        assert_eq!(
            flip.decide(&t, &market(100.0, 0.5), &mut rng),
            Order::DeRisk(-5.0)
        );
        let going = TraderView {
            derisk_target: Some(-5.0),
            size: 2.0,
            ..t
        };
        assert_eq!(
            flip.decide(&going, &market(100.0, 0.0), &mut rng),
            Order::TargetSize(-5.0)
        );
        let there = TraderView {
            size: -5.0,
            ..going
        };
        assert_eq!(
            flip.decide(&there, &market(100.0, 0.9), &mut rng),
            Order::Hold
        );
        assert!(Herding::new(15.0, law, 0.5, true).is_err());
        assert!(Herding::new(15.0, law, 1.0, false).is_err());
    }

    #[test]
    fn momentum_follows_the_trend_and_contrarian_fades_it() {
        let mut rng = stream_rng(1, 0, Stream::Decisions);
        let t = me(0.0, 1_000.0);
        let up = market(110.0, 100.0);
        // Equity 1,000 at leverage 5 is 5,000 USD: 45.45 units at 110.
        let long = 5.0 * 1_000.0 / 110.0;
        let m = Trend::momentum(60.0).unwrap();
        assert_eq!(m.decide(&t, &up, &mut rng), Order::TargetSize(long));
        assert_eq!(
            m.decide(&t, &market(90.0, 100.0), &mut rng),
            Order::TargetSize(-5.0 * 1_000.0 / 90.0)
        );
        let c = Trend::contrarian(60.0).unwrap();
        assert_eq!(c.decide(&t, &up, &mut rng), Order::TargetSize(-long));
        assert_eq!(m.decide(&t, &market(100.0, 100.0), &mut rng), Order::Hold);
        // A bankrupt trader does not trade.
        assert_eq!(m.decide(&me(-20.0, 100.0), &up, &mut rng), Order::Hold);
    }

    #[test]
    fn panic_closes_on_its_own_sides_liquidations_or_own_drawdown() {
        let mut rng = stream_rng(1, 0, Stream::Decisions);
        let p = Panic::new(15.0, 2e6, 0.3).unwrap();
        let long = me(10.0, 1_000.0);
        let short = me(-10.0, 1_000.0);
        let calm = with_signals(100.0, &[1e6, 1e6]);
        let long_squeeze = with_signals(100.0, &[3e6, 0.0]);
        let short_squeeze = with_signals(100.0, &[0.0, 3e6]);
        assert_eq!(p.decide(&long, &calm, &mut rng), Order::Hold);
        assert_eq!(p.decide(&short, &calm, &mut rng), Order::Hold);
        assert_eq!(
            p.decide(&long, &long_squeeze, &mut rng),
            Order::TargetSize(0.0)
        );
        // Fellow longs liquidated do not frighten a short, and the other way round.
        assert_eq!(p.decide(&short, &long_squeeze, &mut rng), Order::Hold);
        assert_eq!(p.decide(&long, &short_squeeze, &mut rng), Order::Hold);
        assert_eq!(
            p.decide(&short, &short_squeeze, &mut rng),
            Order::TargetSize(0.0)
        );
        // Equity 1,000 + 10 (69 - 100) = 690 < 70% of the peak 1,000.
        assert_eq!(
            p.decide(&long, &with_signals(69.0, &[0.0, 0.0]), &mut rng),
            Order::TargetSize(0.0)
        );
        assert_eq!(
            p.decide(&long, &with_signals(71.0, &[0.0, 0.0]), &mut rng),
            Order::Hold
        );
        // A flat trader has nothing to cut.
        assert_eq!(
            p.decide(&me(0.0, 1_000.0), &long_squeeze, &mut rng),
            Order::Hold
        );
        assert!(Panic::new(15.0, 2e6, 0.0).is_err());
    }

    #[test]
    fn margin_defender_tops_up_to_initial_margin_from_its_reserve() {
        let mut rng = stream_rng(1, 0, Stream::Decisions);
        let d = MarginDefender::new(1.5).unwrap();
        // 10 units at 100 entry, mark 91: equity 1,000 - 90 = ... use collateral 100:
        // equity 100 + 10 (91 - 100) = 10, notional 910: ratio 1.1% < 1.5%.
        let t = me(10.0, 100.0);
        let m = market(91.0, 0.0);
        let needed = 0.02 * 910.0 - 10.0;
        assert_eq!(d.decide(&t, &m, &mut rng), Order::TopUp(needed));
        // Above the trigger, or without reserve, it holds.
        assert_eq!(d.decide(&t, &market(99.0, 0.0), &mut rng), Order::Hold);
        let broke = TraderView { reserve: 0.0, ..t };
        assert_eq!(d.decide(&broke, &m, &mut rng), Order::Hold);
        // A small reserve gives what it has.
        let small = TraderView { reserve: 3.0, ..t };
        assert_eq!(d.decide(&small, &m, &mut rng), Order::TopUp(3.0));
    }

    #[test]
    fn noise_goes_flat_long_and_short_about_equally_often() {
        let mut rng = stream_rng(2, 0, Stream::Decisions);
        let t = me(0.0, 1_000.0);
        let m = market(100.0, 0.0);
        let n = 30_000;
        let mut counts = [0u32; 3];
        for _ in 0..n {
            match Noise.decide(&t, &m, &mut rng) {
                Order::TargetSize(0.0) => counts[0] += 1,
                Order::TargetSize(x) if x > 0.0 => counts[1] += 1,
                _ => counts[2] += 1,
            }
        }
        // Binomial(n, 1/3): SE = sqrt(n p (1 - p)).
        let se = (n as f64 * (1.0 / 3.0) * (2.0 / 3.0)).sqrt();
        for c in counts {
            assert!((c as f64 - n as f64 / 3.0).abs() < 4.0 * se, "{counts:?}");
        }
    }
}
