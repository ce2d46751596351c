//! Collateral a protocol holds after taking it from a borrower: Compound III's reserves after
//! `absorb` (`Comet.sol` `absorbInternal` moves the account's collateral into the protocol's
//! own balance, `getCollateralReserves`), until `buyCollateral` sells it.
//!
//! The holding sits in its fund at the oracle price (MODEL.md section 14: "counted in the
//! fund's balance at the oracle price"): the units are tracked here, their value is money in
//! the fund's ledger account, and every change of that value is a transfer with the outside
//! counterparty (the collateral is outside the USD ledger until it is sold) that the fund
//! records as a gain or a loss ([`crate::protocol::Ledger::revalue_holding`]). So the fund's
//! balance, its depletion, its required capital and its lowest balance all move with the
//! held collateral's price, as a holder's do.

/// Units of collateral a fund holds, and the price they are marked at.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct HeldCollateral {
    units: f64,
    /// The oracle price of the last mark.
    marked_at: f64,
}

impl HeldCollateral {
    pub fn units(&self) -> f64 {
        self.units
    }

    /// What the holding is worth at its last mark (USD).
    pub fn value(&self) -> f64 {
        self.units * self.marked_at
    }

    /// Marks the holding at `price`; returns the change of its value, the gain (or, negative,
    /// the loss) the fund records.
    pub fn revalue(&mut self, price: f64) -> f64 {
        let change = self.units * (price - self.marked_at);
        self.marked_at = price;
        change
    }

    /// Takes `units` in at the last mark; returns what they add to the holding's value. Mark
    /// the holding at the current price first.
    pub fn take(&mut self, units: f64) -> f64 {
        self.units += units;
        units * self.marked_at
    }

    /// Lets `units` go (at most all of them); returns the units that left. The last units out
    /// leave nothing behind, rounding aside.
    pub fn release(&mut self, units: f64) -> f64 {
        let out = units.min(self.units);
        self.units = if out >= self.units {
            0.0
        } else {
            self.units - out
        };
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 10 units taken at 3,000 are worth 30,000; a fall to 2,700 is a loss of 3,000; 4 units
    /// sold leave 6 worth 16,200.
    #[test]
    fn a_holding_is_worth_its_units_at_the_last_mark() {
        let mut h = HeldCollateral::default();
        assert_eq!(h.revalue(3_000.0), 0.0);
        assert_eq!(h.take(10.0), 30_000.0);
        assert_eq!(h.revalue(2_700.0), -3_000.0);
        assert_eq!(h.value(), 27_000.0);
        assert_eq!(h.release(4.0), 4.0);
        assert_eq!(h.value(), 16_200.0);
        assert_eq!(h.release(100.0), 6.0);
        assert_eq!((h.units(), h.value()), (0.0, 0.0));
    }
}
