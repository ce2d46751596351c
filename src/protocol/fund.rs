//! Insurance fund (MODEL.md section 5): the flows it records and when it is depleted.
//!
//! The balance itself is an account of the [`super::Ledger`]; this type keeps the
//! cumulative flows and decides how much of a deficit the fund pays.

use crate::params::{ParamResult, non_negative};

#[derive(Clone, Debug)]
pub struct InsuranceFund {
    initial: f64,
    /// Current balance (USD). Moved only by the venue's ledger transfers.
    pub(crate) balance: f64,
    /// Cumulative outflow required minus cumulative inflow, counting deficits in full even
    /// after depletion (what a large enough fund would have paid).
    net_outflow: f64,
    required_capital: f64,
    inflow: f64,
    deficits: f64,
    paid_out: f64,
    min_balance: f64,
    depleted_at: Option<u64>,
    /// Balance above which inflows are swept to treasury (MODEL.md section 5).
    cap: Option<f64>,
    swept: f64,
}

impl InsuranceFund {
    pub fn new(initial: f64) -> ParamResult<Self> {
        Self::with_cap(initial, None)
    }

    /// A fund whose balance above `cap` is swept to treasury after every inflow; the cap must
    /// be at least the initial balance.
    pub fn with_cap(initial: f64, cap: Option<f64>) -> ParamResult<Self> {
        non_negative("initial", initial)?;
        if let Some(c) = cap {
            non_negative("cap", c)?;
            if c < initial {
                return Err(crate::params::ParamError::new(
                    "cap",
                    format!("must be >= fund.initial ({initial}), got {c}"),
                ));
            }
        }
        Ok(Self::fresh(initial, cap))
    }

    /// A fund at the start of a run (parameters already checked).
    fn fresh(initial: f64, cap: Option<f64>) -> Self {
        Self {
            initial,
            balance: initial,
            net_outflow: 0.0,
            required_capital: 0.0,
            inflow: 0.0,
            deficits: 0.0,
            paid_out: 0.0,
            min_balance: initial,
            depleted_at: None,
            cap,
            swept: 0.0,
        }
    }

    /// A fresh fund holding `share` of this one's initial balance and cap (isolated funds of
    /// several markets split one total).
    pub fn scaled(&self, share: f64) -> InsuranceFund {
        Self::fresh(self.initial * share, self.cap.map(|c| c * share))
    }

    pub fn initial(&self) -> f64 {
        self.initial
    }

    pub fn balance(&self) -> f64 {
        self.balance
    }

    pub fn min_balance(&self) -> f64 {
        self.min_balance
    }

    /// `R = max_t (cumulative outflow - cumulative inflow)`, floored at 0.
    pub fn required_capital(&self) -> f64 {
        self.required_capital
    }

    /// Step of the first deficit the fund could not cover.
    pub fn depleted_at(&self) -> Option<u64> {
        self.depleted_at
    }

    /// Total inflow so far (penalty and fee shares, revenue).
    pub fn inflow(&self) -> f64 {
        self.inflow
    }

    /// Total deficits presented to the fund so far.
    pub fn deficits(&self) -> f64 {
        self.deficits
    }

    pub fn cap(&self) -> Option<f64> {
        self.cap
    }

    /// Total swept to treasury by the cap.
    pub fn swept(&self) -> f64 {
        self.swept
    }

    /// How much of the balance lies above the cap (0 without a cap); records it as swept.
    pub(crate) fn take_excess(&mut self) -> f64 {
        let excess = self.cap.map_or(0.0, |c| (self.balance - c).max(0.0));
        self.swept += excess;
        excess
    }

    /// Records an inflow of `amount`; the caller moves the money.
    pub(crate) fn record_inflow(&mut self, amount: f64) {
        self.inflow += amount;
        self.net_outflow -= amount;
    }

    /// Records a deficit `d` at `step` and returns how much the fund pays (all of `d` unless it
    /// is depleted); the caller moves the money and socializes the rest.
    ///
    /// Until the first depletion, and without a cap, the test is `net outflow > F0`, the very
    /// quantity whose running maximum is `R`, so that `R > F0` and depletion agree exactly, bit
    /// for bit, as the calibration shortcut of section 5 needs.
    pub(crate) fn record_deficit(&mut self, d: f64, step: u64) -> f64 {
        self.deficits += d;
        self.net_outflow += d;
        self.required_capital = self.required_capital.max(self.net_outflow);
        // Without a cap the balance is exactly `initial - net outflow` until the first
        // depletion, so the test below is the same as `d > balance` but exact. With a cap,
        // sweeps to treasury lower the balance too, and only the balance itself will do.
        let runs_dry = match self.cap {
            None => self.net_outflow > self.initial,
            Some(_) => d > self.balance,
        };
        let paid = if self.depleted_at.is_none() {
            if runs_dry {
                self.depleted_at = Some(step);
                self.balance.clamp(0.0, d)
            } else {
                d
            }
        } else {
            self.balance.clamp(0.0, d)
        };
        self.paid_out += paid;
        paid
    }

    /// Records a change of the value of what the fund holds besides cash (collateral it
    /// absorbed, marked at the oracle; a sale under the mark), a gain or, negative, a loss
    /// (the caller moves the money). Losses count towards the required capital and deplete
    /// the fund as deficits do, so that `R > F0` and depletion still agree; they are not
    /// deficits (no bad debt), and gains are not inflows.
    pub(crate) fn record_mark(&mut self, change: f64, step: u64) {
        self.net_outflow -= change;
        self.required_capital = self.required_capital.max(self.net_outflow);
        let runs_dry = match self.cap {
            None => self.net_outflow > self.initial,
            Some(_) => self.balance + change < 0.0,
        };
        if self.depleted_at.is_none() && runs_dry {
            self.depleted_at = Some(step);
        }
    }

    /// Call after every change of the balance.
    pub(crate) fn observe_balance(&mut self) {
        self.min_balance = self.min_balance.min(self.balance);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depletes_exactly_when_required_capital_exceeds_the_fund() {
        let mut f = InsuranceFund::new(100.0).unwrap();
        f.record_inflow(10.0);
        f.balance += 10.0;
        let paid = f.record_deficit(60.0, 3);
        f.balance -= paid;
        assert_eq!(paid, 60.0);
        assert_eq!(f.depleted_at(), None);
        let paid = f.record_deficit(60.0, 5);
        f.balance -= paid;
        assert_eq!(paid, 50.0);
        assert_eq!(f.depleted_at(), Some(5));
        assert_eq!(f.required_capital(), 110.0);
        assert!(f.required_capital() > f.initial());
    }
}
