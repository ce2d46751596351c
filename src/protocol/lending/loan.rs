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

    /// The collateral's value at `price`, in USD.
    pub fn collateral_usd(&self, price: f64) -> f64 {
        self.collateral * price
    }
}
