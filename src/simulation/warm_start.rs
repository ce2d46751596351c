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
//! over from the look-back).

use rand::RngExt;

use crate::agents::{DrawnAccount, InitialPosition};
use crate::market::{PriceModel, PriceModelState};
use crate::protocol::MarginParams;
use crate::rng::SimRng;

/// Draws of an opening time before an account opens at t = 0 instead (each draw includes
/// t = 0 itself, where every position survives, so this is rarely reached).
const MAX_DRAWS: usize = 1_000;

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
        let (mut low, mut high) = (price.clone(), price.clone());
        for j in 1..price.len() {
            low[j] = low[j - 1].min(price[j]);
            high[j] = high[j - 1].max(price[j]);
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
                return WarmPosition { position, entry };
            }
        }
        let entry = self.price[0];
        WarmPosition {
            position: account.open(entry, scale, &cap),
            entry,
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
}
