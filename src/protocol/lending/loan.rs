//! One borrower's loan, which every lending style's rules read.

/// One borrower's loan: `collateral` units of the volatile asset against `debt` USD of a
/// stable asset (price 1).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Loan {
    pub collateral: f64,
    pub debt: f64,
}

impl Loan {
    /// Aave's and Compound's health factor `c O LT / d` (infinite without debt); the loan is
    /// liquidatable below 1.
    pub fn health_factor(&self, oracle: f64, liquidation_threshold: f64) -> f64 {
        if self.debt <= 0.0 {
            return f64::INFINITY;
        }
        self.collateral * oracle * liquidation_threshold / self.debt
    }

    /// How far the oracle must fall from `oracle`, as a share of it, before the health factor
    /// goes under 1: `1 - 1 / HF` (1 without debt; negative when already under 1).
    pub fn distance_to_liquidation(&self, oracle: f64, liquidation_threshold: f64) -> f64 {
        1.0 - 1.0 / self.health_factor(oracle, liquidation_threshold)
    }

    /// The collateral's value at `price`, in USD.
    pub fn collateral_usd(&self, price: f64) -> f64 {
        self.collateral * price
    }
}
