//! What borrowers do besides waiting (MODEL.md section 14): defenders repay from a reserve
//! when their health factor runs low, as DeFi Saver's and Instadapp's automations do;
//! loopers borrow more and buy collateral when the price has risen, back to the leverage
//! they opened at, re-levering on the way up as the leverage cycle has it (Geanakoplos
//! 2010; Adrian and Shin 2010); de-riskers sell collateral into the book to repay part of
//! their debt once the market's liquidations over a window pass a threshold, the fire sale
//! of Brunnermeier and Pedersen (2009). Static borrowers do none of these.
//!
//! Each rule is a pure function of the loan and the oracle; the market decides when to ask
//! (by queues keyed on the price that triggers each rule, so that cost follows events).

use super::loan::Loan;
use crate::params::{ParamError, ParamResult, non_negative, unit_interval};

/// A borrower's plan, drawn once at t = 0. A closed set: a new plan is a new variant.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BorrowerPlan {
    #[default]
    Static,
    Defender,
    Looper,
    DeRisker,
}

/// What a defender does with its reserve. A closed set.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DefendAction {
    /// Repays debt (DeFi Saver's "Repay" automation).
    #[default]
    Repay,
    /// Buys collateral at the market and adds it to the loan (Instadapp's and DeFi Saver's
    /// collateral top-up).
    TopUp,
}

/// Defenders act from their reserve when the health factor falls below `below_hf`, back up
/// to `to_hf`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DefendRule {
    share: f64,
    below_hf: f64,
    to_hf: f64,
    /// The reserve, a share of the collateral's value at t = 0, in USD.
    reserve: f64,
    pub action: DefendAction,
}

impl DefendRule {
    /// `share` in [0, 1]; `1 < below_hf < to_hf <= 100`; `reserve` in [0, 100].
    pub fn new(share: f64, below_hf: f64, to_hf: f64, reserve: f64) -> ParamResult<Self> {
        unit_interval("share", share)?;
        // At or under 1 the loan is the keepers' already: a defender must act before.
        if !(below_hf > 1.0 && below_hf <= 100.0) {
            return Err(ParamError::new(
                "below_hf",
                format!("must be in (1, 100], got {below_hf}"),
            ));
        }
        if !(to_hf > below_hf && to_hf <= 100.0) {
            return Err(ParamError::new(
                "to_hf",
                format!("must be in (below_hf = {below_hf}, 100], got {to_hf}"),
            ));
        }
        if non_negative("reserve", reserve)? > 100.0 {
            return Err(ParamError::new(
                "reserve",
                format!("is a share of the collateral's value, at most 100, got {reserve}"),
            ));
        }
        Ok(Self {
            share,
            below_hf,
            to_hf,
            reserve,
            action: DefendAction::Repay,
        })
    }

    /// The same rule with the reserve spent on `action`.
    pub fn doing(self, action: DefendAction) -> Self {
        Self { action, ..self }
    }

    /// The share of borrowers who defend.
    pub fn share(&self) -> f64 {
        self.share
    }

    /// The price over the borrow index below which a defence is due, for collateral `c` and
    /// scaled debt `s`: `HF < below_hf`.
    pub fn trigger_level(&self, collateral: f64, scaled_debt: f64, lt: f64) -> f64 {
        scaled_debt * self.below_hf / (collateral * lt)
    }

    /// A defender's reserve for collateral worth `collateral_usd` at t = 0.
    pub fn reserve_for(&self, collateral_usd: f64) -> f64 {
        self.reserve * collateral_usd
    }

    /// What a defender repays now (before its reserve caps it): the debt above what
    /// `to_hf` allows, `d - c O LT / to_hf`; 0 while the health factor is at or above
    /// `below_hf`, or below 1 (liquidatable: the keepers' race, which they win).
    pub fn repayment(&self, loan: &Loan, oracle: f64, lt: f64) -> f64 {
        let hf = loan.health_factor(oracle, lt);
        if !(1.0..self.below_hf).contains(&hf) {
            return 0.0;
        }
        (loan.debt - loan.collateral_usd(oracle) * lt / self.to_hf).max(0.0)
    }

    /// What a defender tops up now (units of collateral, before its reserve caps them): the
    /// collateral `to_hf` needs, `d to_hf / (O LT) - c`; 0 outside its band, as
    /// [`DefendRule::repayment`].
    pub fn top_up(&self, loan: &Loan, oracle: f64, lt: f64) -> f64 {
        let hf = loan.health_factor(oracle, lt);
        if !(1.0..self.below_hf).contains(&hf) {
            return 0.0;
        }
        (loan.debt * self.to_hf / (oracle * lt) - loan.collateral).max(0.0)
    }
}

/// Loopers keep their leverage: once the price has risen enough that their LTV on the oracle
/// is `1 + rebalance` times below the LTV they opened at, they borrow back up to it and buy
/// collateral with what they borrow (a flash-loan loop in one transaction).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LoopRule {
    share: f64,
    rebalance: f64,
}

impl LoopRule {
    /// `share` in [0, 1]; `rebalance` in [0.001, 10]: a loop leaves the LTV a little under
    /// its target (the collateral it buys), so a smaller band would loop on every tick.
    pub fn new(share: f64, rebalance: f64) -> ParamResult<Self> {
        unit_interval("share", share)?;
        if !(0.001..=10.0).contains(&rebalance) {
            return Err(ParamError::new(
                "rebalance",
                format!("must be in [0.001, 10], got {rebalance}"),
            ));
        }
        Ok(Self { share, rebalance })
    }

    /// The share of borrowers who loop.
    pub fn share(&self) -> f64 {
        self.share
    }

    /// The price over the borrow index above which a loop is due, for collateral `c`,
    /// scaled debt `s` and target LTV `target`: `LTV <= target / (1 + rebalance)`.
    pub fn trigger_level(&self, collateral: f64, scaled_debt: f64, target: f64) -> f64 {
        scaled_debt * (1.0 + self.rebalance) / (collateral * target)
    }

    /// What a looper with target LTV `target` borrows now: `target c O - d` once its LTV is
    /// at or under `target / (1 + rebalance)`, else 0.
    pub fn borrowing(&self, loan: &Loan, oracle: f64, target: f64) -> f64 {
        let value = loan.collateral_usd(oracle);
        if value <= 0.0 || loan.debt * (1.0 + self.rebalance) > target * value {
            return 0.0;
        }
        (target * value - loan.debt).max(0.0)
    }
}

/// How the de-riskers' sales of one step meet the book. A closed set.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DeriskOrders {
    /// Each sale is an order of its own, one after another, each moving the mark for the
    /// next: as keepers' liquidation sales are priced.
    #[default]
    Separate,
    /// The step's sales are one order, priced by the impact law at their sum.
    Pooled,
}

/// De-riskers sell `sell_share` of their debt's worth of collateral into the book, and repay
/// with the proceeds, once the debt liquidated in their market over the last
/// `window_seconds` exceeds `threshold_usd`. Each does so once in a run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DeriskRule {
    share: f64,
    window_seconds: f64,
    threshold_usd: f64,
    sell_share: f64,
    pub orders: DeriskOrders,
}

impl DeriskRule {
    /// `share` in [0, 1]; `window_seconds` in (0, one year]; `threshold_usd` finite and
    /// non-negative; `sell_share` in (0, 1] (selling more than the debt's worth would
    /// leave proceeds with nothing to repay).
    pub fn new(
        share: f64,
        window_seconds: f64,
        threshold_usd: f64,
        sell_share: f64,
    ) -> ParamResult<Self> {
        unit_interval("share", share)?;
        if !(window_seconds > 0.0 && window_seconds <= 365.0 * 86_400.0) {
            return Err(ParamError::new(
                "window_minutes",
                format!("must be in (0, one year], got {} s", window_seconds),
            ));
        }
        if !non_negative("threshold_usd", threshold_usd)?.is_finite() {
            return Err(ParamError::new("threshold_usd", "must be finite"));
        }
        if !(sell_share > 0.0 && sell_share <= 1.0) {
            return Err(ParamError::new(
                "sell_share",
                format!("must be in (0, 1], got {sell_share}"),
            ));
        }
        Ok(Self {
            share,
            window_seconds,
            threshold_usd,
            sell_share,
            orders: DeriskOrders::Separate,
        })
    }

    /// The same rule with its sales meeting the book as `orders`.
    pub fn meeting_the_book(self, orders: DeriskOrders) -> Self {
        Self { orders, ..self }
    }

    pub fn share(&self) -> f64 {
        self.share
    }

    /// Whether the debt liquidated over the window, `liquidated`, sets de-riskers off.
    pub fn alarmed(&self, liquidated: f64) -> bool {
        liquidated > self.threshold_usd
    }

    /// The collateral (units) a de-risker sells at `mark`: `sell_share` of its debt's worth,
    /// at most all it has.
    pub fn sale(&self, loan: &Loan, mark: f64) -> f64 {
        (self.sell_share * loan.debt / mark).min(loan.collateral)
    }

    /// The window in steps of `dt_seconds` (at least one).
    pub fn window_steps(&self, dt_seconds: f64) -> usize {
        ((self.window_seconds / dt_seconds).ceil() as usize).max(1)
    }
}

/// The sum of the last `n` steps' liquidated debt, kept as steps come (O(1) a step).
#[derive(Clone, Debug, PartialEq)]
pub struct LiquidationWindow {
    steps: Vec<f64>,
    at: usize,
    sum: f64,
    /// Steps in the window with any liquidation.
    busy: usize,
}

impl LiquidationWindow {
    pub fn new(n: usize) -> Self {
        Self {
            steps: vec![0.0; n.max(1)],
            at: 0,
            sum: 0.0,
            busy: 0,
        }
    }

    /// Adds this step's liquidated debt, drops the oldest, returns the window's sum.
    pub fn push(&mut self, liquidated: f64) -> f64 {
        let oldest = std::mem::replace(&mut self.steps[self.at], liquidated);
        self.busy = self.busy + usize::from(liquidated != 0.0) - usize::from(oldest != 0.0);
        self.sum += liquidated - oldest;
        self.at = (self.at + 1) % self.steps.len();
        // Rounding of the running sum must not leave a phantom liquidation behind.
        if self.busy == 0 {
            self.sum = 0.0;
        }
        self.sum.max(0.0)
    }
}

/// A lending market's borrower plans and their rules, checked once.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct BorrowerBehavior {
    pub defend: Option<DefendRule>,
    pub looping: Option<LoopRule>,
    pub derisk: Option<DeriskRule>,
}

impl BorrowerBehavior {
    /// The shares of defenders, loopers and de-riskers may not add up to more than
    /// everyone.
    pub fn new(
        defend: Option<DefendRule>,
        looping: Option<LoopRule>,
        derisk: Option<DeriskRule>,
    ) -> ParamResult<Self> {
        let b = Self {
            defend,
            looping,
            derisk,
        };
        let (d, l, r) = b.shares();
        if d + l + r > 1.0 {
            let field = if derisk.is_some() {
                "derisk.share"
            } else {
                "loopers.share"
            };
            return Err(ParamError::new(
                field,
                format!("the plans' shares add up to {}, more than 1", d + l + r),
            ));
        }
        Ok(b)
    }

    fn shares(&self) -> (f64, f64, f64) {
        (
            self.defend.map_or(0.0, |d| d.share),
            self.looping.map_or(0.0, |l| l.share),
            self.derisk.map_or(0.0, |r| r.share),
        )
    }

    /// Whether any borrower has a plan other than waiting.
    pub fn is_static(&self) -> bool {
        self.shares() == (0.0, 0.0, 0.0)
    }

    /// The plan of a borrower whose uniform draw is `u` in [0, 1): defenders first, then
    /// loopers, then de-riskers, the rest static.
    pub fn plan(&self, u: f64) -> BorrowerPlan {
        let (d, l, r) = self.shares();
        if u < d {
            BorrowerPlan::Defender
        } else if u < d + l {
            BorrowerPlan::Looper
        } else if u < d + l + r {
            BorrowerPlan::DeRisker
        } else {
            BorrowerPlan::Static
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LT: f64 = 0.83;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * (1.0 + b.abs())
    }

    /// A loan at HF 1.05 (under 1.1) repays to HF 1.3 exactly; at 1.2 and at 0.99 it does
    /// nothing.
    #[test]
    fn a_defender_repays_back_to_its_target_inside_its_band_only() {
        let rule = DefendRule::new(1.0, 1.1, 1.3, 0.2).unwrap();
        let loan = |hf: f64| Loan {
            collateral: 10.0,
            debt: 10.0 * 3_000.0 * LT / hf,
        };
        let l = loan(1.05);
        let x = rule.repayment(&l, 3_000.0, LT);
        let after = Loan {
            debt: l.debt - x,
            ..l
        };
        assert!(close(after.health_factor(3_000.0, LT), 1.3));
        assert_eq!(rule.repayment(&loan(1.2), 3_000.0, LT), 0.0);
        assert_eq!(rule.repayment(&loan(0.99), 3_000.0, LT), 0.0);
        assert!(close(rule.reserve_for(50_000.0), 10_000.0));
        let units = rule.top_up(&l, 3_000.0, LT);
        let topped = Loan {
            collateral: l.collateral + units,
            ..l
        };
        assert!(close(topped.health_factor(3_000.0, LT), 1.3));
        assert_eq!(rule.top_up(&loan(0.99), 3_000.0, LT), 0.0);
    }

    /// A looper opened at LTV 0.7 with a 10% band: after a rise to LTV 0.63 it borrows back
    /// to 0.7 at the oracle; at LTV 0.64 (over 0.7 / 1.1) it waits. The trigger level is the
    /// same boundary.
    #[test]
    fn a_looper_borrows_back_to_its_ltv_past_its_band() {
        let rule = LoopRule::new(1.0, 0.1).unwrap();
        let at = |ltv: f64| Loan {
            collateral: 10.0,
            debt: ltv * 30_000.0,
        };
        let l = at(0.63);
        let b = rule.borrowing(&l, 3_000.0, 0.7);
        assert!(close(l.debt + b, 0.7 * 30_000.0));
        assert_eq!(rule.borrowing(&at(0.64), 3_000.0, 0.7), 0.0);
        // At LTV 0.7 / 1.1 on the oracle the loan sits on its boundary.
        let level = rule.trigger_level(10.0, 0.7 / 1.1 * 30_000.0, 0.7);
        assert!(close(level, 3_000.0));
    }

    #[test]
    fn rules_that_would_run_away_or_overlap_are_refused() {
        assert!(DefendRule::new(0.5, 1.0, 1.3, 0.2).is_err());
        assert!(DefendRule::new(0.5, 1.2, 1.1, 0.2).is_err());
        assert!(DefendRule::new(0.5, 1.2, 1.3, f64::NAN).is_err());
        assert!(LoopRule::new(0.5, 0.0).is_err());
        assert!(LoopRule::new(1.5, 0.1).is_err());
        let d = DefendRule::new(0.6, 1.1, 1.3, 0.2).unwrap();
        let l = LoopRule::new(0.5, 0.1).unwrap();
        assert!(BorrowerBehavior::new(Some(d), Some(l), None).is_err());
        let b = BorrowerBehavior::new(Some(d), None, None).unwrap();
        assert_eq!(b.plan(0.59), BorrowerPlan::Defender);
        assert_eq!(b.plan(0.61), BorrowerPlan::Static);
        let r = DeriskRule::new(0.3, 3_600.0, 1e6, 0.5).unwrap();
        let b = BorrowerBehavior::new(Some(d), None, Some(r)).unwrap();
        assert_eq!(b.plan(0.7), BorrowerPlan::DeRisker);
        assert_eq!(b.plan(0.95), BorrowerPlan::Static);
        assert!(DeriskRule::new(0.3, 0.0, 1e6, 0.5).is_err());
        assert!(DeriskRule::new(0.3, 60.0, f64::INFINITY, 0.5).is_err());
        assert!(DeriskRule::new(0.3, 60.0, 1e6, 1.5).is_err());
    }

    /// A de-risker sells half its debt's worth (all it has at most); the window sums the last
    /// three steps exactly and comes back to 0 once they are quiet.
    #[test]
    fn a_de_risker_sells_on_alarm_and_the_window_forgets() {
        let r = DeriskRule::new(1.0, 180.0, 1_000.0, 0.5).unwrap();
        let loan = Loan {
            collateral: 10.0,
            debt: 15_000.0,
        };
        assert!(close(r.sale(&loan, 3_000.0), 2.5));
        assert!(close(r.sale(&loan, 500.0), 10.0));
        assert_eq!(r.window_steps(60.0), 3);
        let mut w = LiquidationWindow::new(r.window_steps(60.0));
        let sums: Vec<f64> = [0.1, 0.2, 700.0, 400.0, 0.0, 0.0, 0.0]
            .iter()
            .map(|&x| w.push(x))
            .collect();
        assert!(close(sums[3], 1_100.2));
        assert!(r.alarmed(sums[3]) && !r.alarmed(sums[2]));
        assert_eq!(sums[6], 0.0);
    }
}
