//! Warm books (MODEL.md section 3): positions that opened over a look-back before t = 0 on a
//! path of the market's own price model, and survived to t = 0.
//!
//! A cold start opens every position at `S0`, so each liquidation price sits exactly at its
//! opening distance and a high-leverage book stands on a knife edge no venue that has traded
//! for days stands on. Here each account keeps the collateral, leverage and side it drew (the
//! configured distributions describe today's book) and opens at a time drawn uniformly over
//! the look-back, redrawn until the position would have survived every price from its
//! opening to t = 0: the book at t = 0 is made of survivors, and liquidation prices spread.
//! The look-back path runs the price model forward from a fresh start and is placed so that
//! it ends at `S0`; the run itself starts its model afresh (a GARCH's variance does not carry
//! over from the look-back). On a replay the look-back is the file's rows before the replay's
//! start, one opening time per row, each survivor checked against the bars' lows and highs
//! where the replay walks bars.
//!
//! With a record's open interest, each side's collateral is fitted to it on the warm book at
//! t = 0 (a position's notional there is its notional at entry times `S0 / entry`): the
//! entries are kept and the side's factor found as a cold start finds it. Only the margin's
//! tiers can make a rescaled position one that would not have survived; those few redraw
//! their opening times at the new size and the side is fitted again, a bounded number of
//! times, so the book at t = 0 is always made of survivors and its open interest is the
//! record's to the last pass's redraws.

use rand::RngExt;

use crate::agents::{DrawnAccount, InitialPosition, side_scale};
use crate::market::{PriceModel, PriceModelState, ReplayHistory};
use crate::protocol::MarginParams;
use crate::rng::SimRng;

/// Draws of an opening time before an account opens at t = 0 instead (each draw includes
/// t = 0 itself, where every position survives, so this is rarely reached).
const MAX_DRAWS: usize = 1_000;

/// Fits of a side's open interest, each after redrawing the positions its last fit made
/// unsurvivable (none without margin tiers, so one fit).
const MAX_FITS: usize = 20;

/// The index over the look-back: its price `j` steps before t = 0 and the lowest and highest
/// price from there up to t = 0.
#[derive(Clone, Debug)]
pub(super) struct LookBack {
    price: Vec<f64>,
    low: Vec<f64>,
    high: Vec<f64>,
}

/// A position of the warm book: where it stands at t = 0 and the price it opened at.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct WarmPosition {
    pub(super) position: InitialPosition,
    pub(super) entry: f64,
    /// Steps (or replayed rows) before t = 0 at which it opened.
    pub(super) age: usize,
}

/// One side of the book and the notional at t = 0 a record gives it (USD).
#[derive(Clone, Copy, Debug)]
pub(super) struct SideTarget {
    pub(super) long: bool,
    pub(super) usd: f64,
}

impl LookBack {
    /// `steps` steps of `model` before t = 0, drawn from `rng`, ending at `s0`.
    pub(super) fn draw(
        mut model: PriceModelState,
        s0: f64,
        steps: usize,
        rng: &mut SimRng,
    ) -> Self {
        let returns: Vec<f64> = (0..steps).map(|_| model.next_log_return(rng)).collect();
        let mut price = Vec::with_capacity(steps + 1);
        price.push(s0);
        let mut log_back = 0.0;
        for r in returns.iter().rev() {
            log_back -= r;
            price.push(s0 * f64::exp(log_back));
        }
        Self::with_extremes(price, |_| None)
    }

    /// The replayed rows of `history` before t = 0, ending at `s0`: a position opened at
    /// row `j`'s close saw every bar after it, the one ending at t = 0 included.
    pub(super) fn replayed(history: &ReplayHistory, s0: f64) -> Self {
        let price: Vec<f64> = (0..=history.rows())
            .map(|j| s0 * history.close(j))
            .collect();
        Self::with_extremes(price, |j| {
            let (low, high) = history.bar_range(j);
            Some((s0 * low, s0 * high))
        })
    }

    /// The look-back through `price` (from t = 0 back), its running extremes taken over the
    /// prices and over `bar(j)`, the lowest and highest price of the bar ending `j` steps
    /// before t = 0 where there is one.
    fn with_extremes(price: Vec<f64>, bar: impl Fn(usize) -> Option<(f64, f64)>) -> Self {
        let (mut low, mut high) = (price.clone(), price.clone());
        for j in 1..price.len() {
            low[j] = low[j - 1].min(price[j]);
            high[j] = high[j - 1].max(price[j]);
            if let Some((bar_low, bar_high)) = bar(j - 1) {
                low[j] = low[j].min(bar_low);
                high[j] = high[j].max(bar_high);
            }
        }
        Self { price, low, high }
    }

    /// Steps in the look-back.
    pub(super) fn steps(&self) -> usize {
        self.price.len() - 1
    }

    /// `account` opened (its collateral times `scale`, its leverage as `cap` allows) at a
    /// time drawn over the look-back from `rng`, redrawn until it survives to t = 0 under
    /// `margin`. A position's margin ratio moves one way with the price, so it survives
    /// exactly when it is not liquidatable at the worst price between its opening and t = 0.
    pub(super) fn open(
        &self,
        account: &DrawnAccount,
        scale: f64,
        cap: impl Fn(f64, f64) -> f64,
        margin: &MarginParams,
        rng: &mut SimRng,
    ) -> WarmPosition {
        for _ in 0..MAX_DRAWS {
            let j = rng.random_range(0..=self.steps());
            let entry = self.price[j];
            let position = account.open(entry, scale, &cap);
            if self.survives(&position, entry, j, margin) {
                return WarmPosition {
                    position,
                    entry,
                    age: j,
                };
            }
        }
        let entry = self.price[0];
        WarmPosition {
            position: account.open(entry, scale, &cap),
            entry,
            age: 0,
        }
    }

    /// Fits the longs (or the shorts) of a warm book (`book[k]` opened from `drawn[k]`) to
    /// their target notional at t = 0, `s0`: the factor on the drawn collateral found with
    /// the entries kept, then any position the new size would have liquidated redrawn at it,
    /// and the side fitted again (see the module's note).
    pub(super) fn fit_side(
        &self,
        SideTarget { long, usd: target }: SideTarget,
        drawn: &[DrawnAccount],
        book: &mut [WarmPosition],
        cap: impl Fn(f64, f64) -> f64 + Copy,
        margin: &MarginParams,
        rng: &mut SimRng,
    ) {
        let s0 = self.price[0];
        for _ in 0..MAX_FITS {
            let side: Vec<(DrawnAccount, f64)> = drawn
                .iter()
                .zip(book.iter())
                .filter(|(a, _)| a.long == long)
                .map(|(a, w)| (*a, s0 / w.entry))
                .collect();
            let Some(factor) = side_scale(&side, target, cap) else {
                return;
            };
            let mut redrawn = false;
            for (a, w) in drawn.iter().zip(book.iter_mut()) {
                if a.long != long {
                    continue;
                }
                let position = a.open(w.entry, factor, cap);
                if self.survives(&position, w.entry, w.age, margin) {
                    w.position = position;
                } else {
                    *w = self.open(a, factor, cap, margin, rng);
                    redrawn = true;
                }
            }
            if !redrawn {
                return;
            }
        }
    }

    /// Whether `p`, opened at `entry` `j` steps before t = 0, is never liquidatable on the
    /// way to t = 0.
    fn survives(&self, p: &InitialPosition, entry: f64, j: usize, margin: &MarginParams) -> bool {
        let worst = if p.size > 0.0 {
            self.low[j]
        } else {
            self.high[j]
        };
        !margin.is_liquidatable(
            p.collateral + p.size * (worst - entry),
            p.size.abs() * worst,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::market::data::PriceSeries;
    use crate::market::{Gbm, GbmParams};
    use crate::rng::{Stream, stream_rng};

    fn look_back(steps: usize) -> LookBack {
        let gbm = Gbm::new(&GbmParams::new(1.5, 0.0, 60.0).unwrap());
        let mut rng = stream_rng(3, 0, Stream::Market);
        LookBack::draw(PriceModelState::Gbm(gbm), 100.0, steps, &mut rng)
    }

    /// The path ends at S0 and its extremes are the running ones from t = 0 back.
    #[test]
    fn the_look_back_ends_at_s0() {
        let lb = look_back(500);
        assert_eq!(lb.price[0], 100.0);
        assert_eq!(lb.steps(), 500);
        for j in 0..=500 {
            let seen = &lb.price[..=j];
            assert_eq!(
                lb.low[j],
                seen.iter().cloned().fold(f64::INFINITY, f64::min)
            );
            assert_eq!(lb.high[j], seen.iter().cloned().fold(0.0, f64::max));
        }
    }

    /// Every warm position is one that no price between its opening and t = 0 liquidates,
    /// checked by a scan of the whole path; and high leverage opens nearer to t = 0 on
    /// average than low leverage (the survivors of a volatile week).
    #[test]
    fn every_warm_position_survived_its_path() {
        let lb = look_back(2_000);
        let margin = MarginParams::new(0.01, 0.005).unwrap();
        let mut rng = stream_rng(3, 0, Stream::Population);
        let mut mean_age = [0.0; 2];
        for (k, leverage) in [2.0, 80.0].into_iter().enumerate() {
            for n in 0..400 {
                let account = DrawnAccount {
                    collateral: 1_000.0,
                    leverage,
                    long: n % 2 == 0,
                };
                let w = lb.open(&account, 1.0, |_, l| l, &margin, &mut rng);
                let j = lb.price.iter().position(|&p| p == w.entry).unwrap();
                mean_age[k] += j as f64 / 400.0;
                let p = w.position;
                for &x in &lb.price[..=j] {
                    let equity = p.collateral + p.size * (x - w.entry);
                    assert!(!margin.is_liquidatable(equity, p.size.abs() * x));
                }
            }
        }
        assert!(mean_age[1] < mean_age[0], "{mean_age:?}");
    }

    /// Whether `w` survived every price of `prices` (from t = 0 back) up to its age.
    fn survived(w: &WarmPosition, prices: &[f64], margin: &MarginParams) -> bool {
        let p = w.position;
        prices[..=w.age].iter().all(|&x| {
            let equity = p.collateral + p.size * (x - w.entry);
            !margin.is_liquidatable(equity, p.size.abs() * x)
        })
    }

    /// On a replay the look-back is the file's rows before the start, rescaled to end at
    /// `S0`, and a position survives the lows and highs of every bar after its opening (the
    /// bar ending at t = 0 included): a 10x long opened before a bar whose low is 12% under
    /// its entry never stands in the book at t = 0.
    #[test]
    fn a_replayed_look_back_is_the_rows_before_the_start() {
        let series = |prices: &[f64]| PriceSeries {
            times: (0..prices.len() as i64).map(|k| 3_600 * k).collect(),
            prices: prices.to_vec(),
            spacing: 3_600,
            notes: Vec::new(),
        };
        // Oldest first; the last row is the replay's first (t = 0).
        let close = series(&[50.0, 52.0, 51.0, 50.0]);
        let low = series(&[49.0, 44.0, 50.5, 49.5]);
        let high = series(&[51.0, 53.0, 52.0, 51.0]);
        let history = ReplayHistory::new(&close, Some((&low, &high)), 1.0).unwrap();
        let lb = LookBack::replayed(&history, 100.0);
        assert_eq!(lb.steps(), 3);
        assert_eq!(lb.price, vec![100.0, 102.0, 104.0, 100.0]);
        // Bars ending at t = 0 and one row before: lows 99 and 101; the bar ending two rows
        // back dipped to 88.
        assert_eq!(lb.low, vec![100.0, 99.0, 99.0, 88.0]);
        assert_eq!(lb.high, vec![100.0, 102.0, 104.0, 106.0]);
        let margin = MarginParams::new(0.05, 0.025).unwrap();
        let mut rng = stream_rng(5, 0, Stream::WarmStart);
        let long = DrawnAccount {
            collateral: 1_000.0,
            leverage: 10.0,
            long: true,
        };
        // What a position opened `a` rows back saw: the closes since and each bar's extremes.
        let (bar_low, bar_high) = ([99.0, 101.0, 88.0], [102.0, 104.0, 106.0]);
        for _ in 0..200 {
            let w = lb.open(&long, 1.0, |_, l| l, &margin, &mut rng);
            assert!(w.age < 3, "opened before the 88 low: {w:?}");
            let mut seen = lb.price[..=w.age].to_vec();
            seen.extend_from_slice(&bar_low[..w.age]);
            seen.extend_from_slice(&bar_high[..w.age]);
            let age = seen.len() - 1;
            let scanned = WarmPosition { age, ..w };
            assert!(survived(&scanned, &seen, &margin), "{w:?}");
        }
        // Without bars only the closes count, and an opening three rows back survives.
        let closes_only = ReplayHistory::new(&close, None, 1.0).unwrap();
        let lb = LookBack::replayed(&closes_only, 100.0);
        assert_eq!(lb.low, vec![100.0, 100.0, 100.0, 100.0]);
        let ages: Vec<usize> = (0..200)
            .map(|_| lb.open(&long, 1.0, |_, l| l, &margin, &mut rng).age)
            .collect();
        assert!(ages.contains(&3), "{ages:?}");
    }

    /// A side fitted to a record's open interest holds it at t = 0, to the bisection's
    /// precision, under tiered margins where the fit lifts positions (at 5x to 23x) into
    /// tiers that need more margin than their paths allowed, and every position in it is a
    /// survivor by a full scan.
    #[test]
    fn a_fitted_side_holds_the_open_interest_and_only_survivors() {
        use crate::protocol::MarginTier;
        let lb = look_back(3_000);
        let tiers = [
            MarginTier {
                from_notional: 2e5,
                imr: 0.02,
                mmr: 0.01,
            },
            MarginTier {
                from_notional: 1e6,
                imr: 0.05,
                mmr: 0.025,
            },
        ];
        let margin = MarginParams::new(0.01, 0.005)
            .unwrap()
            .with_tiers(&tiers)
            .unwrap();
        let cap = |c: f64, l: f64| margin.cap_leverage(c, l);
        let mut rng = stream_rng(9, 0, Stream::WarmStart);
        let drawn: Vec<DrawnAccount> = (0..300)
            .map(|n| DrawnAccount {
                collateral: 200.0 * (1.0 + (n % 17) as f64),
                leverage: 5.0 + (n % 10) as f64 * 2.0,
                long: true,
            })
            .collect();
        let mut book: Vec<WarmPosition> = drawn
            .iter()
            .map(|a| lb.open(a, 1.0, cap, &margin, &mut rng))
            .collect();
        let target = 3e8;
        let before: Vec<usize> = book.iter().map(|w| w.age).collect();
        let longs = SideTarget {
            long: true,
            usd: target,
        };
        lb.fit_side(longs, &drawn, &mut book, cap, &margin, &mut rng);
        // The fit lifts positions into tiers whose maintenance their paths did not allow:
        // some must have redrawn their opening times, or this test would not test that.
        let redrawn = book
            .iter()
            .zip(&before)
            .filter(|(w, b)| w.age != **b)
            .count();
        assert!(redrawn > 0, "no position redrew its opening time");
        let at_t0: f64 = book.iter().map(|w| w.position.size.abs() * 100.0).sum();
        assert!(
            (at_t0 / target - 1.0).abs() < 1e-9,
            "{at_t0} against {target}"
        );
        for w in &book {
            assert!(survived(w, &lb.price, &margin), "{w:?}");
            assert_eq!(lb.price[w.age], w.entry);
        }
    }
}
