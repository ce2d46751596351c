//! Compound III (`Comet.sol`): `absorb` takes all the collateral of a liquidatable account
//! and credits its value times the liquidation factor against the debt; the reserves pay any
//! shortfall and may go negative. `buyCollateral` then sells the absorbed collateral to
//! keepers at a store-front discount while the reserves are below their target
//! (`targetReserves`: `buyCollateral` reverts with `NotForSale` at or above it).

use super::loan::Loan;
use crate::params::{ParamError, ParamResult, unit_interval};

/// An asset's `liquidationFactor`, the market's `storeFrontPriceFactor` and its
/// `targetReserves`, checked once.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CometRules {
    liquidation_factor: f64,
    store_front_factor: f64,
    /// `targetReserves` (USD): the store front is open only while the reserves are below it.
    /// Infinite unless set: always open.
    target_reserves: f64,
}

impl CometRules {
    /// `liquidation_factor` in (0, 1] (0.93 to 0.96 on the deployed markets);
    /// `store_front_factor` in [0, 1] (0.5 on most).
    pub fn new(liquidation_factor: f64, store_front_factor: f64) -> ParamResult<Self> {
        if !(liquidation_factor > 0.0 && liquidation_factor <= 1.0) {
            return Err(ParamError::new(
                "liquidation_factor",
                format!("must be in (0, 1], got {liquidation_factor}"),
            ));
        }
        Ok(Self {
            liquidation_factor,
            store_front_factor: unit_interval("store_front_factor", store_front_factor)?,
            target_reserves: f64::INFINITY,
        })
    }

    /// The store front closes once the reserves reach `target` USD (5M on cUSDCv3), as
    /// `Comet.sol` `buyCollateral` does. A target must be a finite amount of at least 0.
    pub fn with_target_reserves(mut self, target: f64) -> ParamResult<Self> {
        if !(target.is_finite() && target >= 0.0) {
            return Err(ParamError::new(
                "target_reserves_usd",
                format!("must be a finite amount >= 0 (cUSDCv3: 5e6), got {target}"),
            ));
        }
        self.target_reserves = target;
        Ok(self)
    }

    /// `targetReserves` (USD; infinite: the store front never closes).
    pub fn target_reserves(&self) -> f64 {
        self.target_reserves
    }

    /// `buyCollateral`'s gate: whether keepers may buy while the reserves (`getReserves`,
    /// the base asset only, held collateral aside) are `reserves`.
    pub fn store_front_open(&self, reserves: f64) -> bool {
        reserves < self.target_reserves
    }

    /// `absorb`: the protocol takes every unit of collateral and credits `c O LF`.
    pub fn absorb(&self, loan: &Loan, oracle: f64) -> Absorption {
        let credit = loan.collateral_usd(oracle) * self.liquidation_factor;
        Absorption {
            collateral_taken: loan.collateral,
            credit_usd: credit,
            returned_to_borrower: (credit - loan.debt).max(0.0),
            paid_by_reserves: (loan.debt - credit).max(0.0),
        }
    }

    pub fn liquidation_factor(&self) -> f64 {
        self.liquidation_factor
    }

    pub fn store_front_factor(&self) -> f64 {
        self.store_front_factor
    }

    /// `quoteCollateral`: the price at which keepers buy absorbed collateral,
    /// `O (1 - SFPF (1 - LF))`.
    pub fn store_front_price(&self, oracle: f64) -> f64 {
        oracle * (1.0 - self.store_front_factor * (1.0 - self.liquidation_factor))
    }
}

/// What one `absorb` moves: all the collateral to the protocol, a credit of `credit_usd`
/// against the debt; the part of the credit above the debt goes back to the borrower (as a
/// supply balance), the part of the debt above the credit is paid by the reserves.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Absorption {
    pub collateral_taken: f64,
    pub credit_usd: f64,
    pub returned_to_borrower: f64,
    pub paid_by_reserves: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * (1.0 + b.abs())
    }

    /// SFPF 0.5, LF 0.95: the borrower loses 5% of the collateral's value, the buyer gets
    /// 2.5% off, the reserves keep 2.5%.
    #[test]
    fn the_absorb_credit_and_the_store_front_split_the_discount() {
        let rules = CometRules::new(0.95, 0.5).unwrap();
        let loan = Loan {
            collateral: 10.0,
            debt: 20_000.0,
        };
        let a = rules.absorb(&loan, 3_000.0);
        assert!(close(a.credit_usd, 28_500.0), "{a:?}");
        assert!(close(a.returned_to_borrower, 8_500.0) && a.paid_by_reserves == 0.0);
        let borrower_loss = 30_000.0 - (a.credit_usd);
        assert!(close(borrower_loss / 30_000.0, 0.05));
        let price = rules.store_front_price(3_000.0);
        assert!(close(price / 3_000.0, 0.975), "{price}");
        // The reserves paid the debt, returned the excess and sell at 97.5%: they keep
        // 97.5% - 95% = 2.5% of the value.
        let reserves = 10.0 * price - loan.debt - a.returned_to_borrower;
        assert!(close(reserves / 30_000.0, 0.025), "{reserves}");
    }

    #[test]
    fn an_underwater_absorb_is_paid_by_the_reserves() {
        let rules = CometRules::new(0.93, 0.5).unwrap();
        let loan = Loan {
            collateral: 10.0,
            debt: 30_000.0,
        };
        let a = rules.absorb(&loan, 3_000.0);
        assert!(close(a.paid_by_reserves, 30_000.0 - 27_900.0), "{a:?}");
        assert_eq!(a.returned_to_borrower, 0.0);
        assert_eq!(a.collateral_taken, 10.0);
    }

    #[test]
    fn factors_out_of_range_are_refused() {
        assert!(CometRules::new(0.0, 0.5).is_err());
        assert!(CometRules::new(1.01, 0.5).is_err());
        assert!(CometRules::new(0.95, 1.5).is_err());
        assert!(CometRules::new(f64::NAN, 0.5).is_err());
        let rules = CometRules::new(0.95, 0.5).unwrap();
        for bad in [-1.0, f64::NAN, f64::INFINITY] {
            let e = rules.with_target_reserves(bad).unwrap_err();
            assert_eq!(e.field, "target_reserves_usd");
        }
    }

    /// `buyCollateral` reverts at or above the target, sells below it; without a target
    /// the store front never closes.
    #[test]
    fn the_store_front_is_open_only_below_the_target() {
        let rules = CometRules::new(0.95, 0.5).unwrap();
        assert!(rules.store_front_open(1e12));
        let rules = rules.with_target_reserves(5e6).unwrap();
        assert!(rules.store_front_open(4_999_999.0));
        assert!(rules.store_front_open(-1e6));
        assert!(!rules.store_front_open(5e6));
        assert!(!rules.store_front_open(6e6));
    }
}
