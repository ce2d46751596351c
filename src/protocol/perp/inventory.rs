//! Positions a holder took over (MODEL.md section 4, "Takeover"): the insurance fund
//! (BitMEX, Binance, Bybit) or a liquidator vault (Hyperliquid's HLP) inherits what the
//! engine's limited order did not fill, at the bankruptcy price, keeps it as inventory marked
//! at the mark, and offers it back to the book each step within the size cap, its limit
//! moving from the bankruptcy price toward the book by `unwind_step` a step (BitMEX: "the
//! engine will attempt to close at progressively more aggressive prices").

use super::{PerpMarket, new_entry};
use crate::market::{ImpactLaw, MarkState, Side};
use crate::protocol::{Account, ForcedClose, Ledger};

/// One holder's inventory in one market: a net position, like a trader's, without collateral
/// (the holder's cash backs it).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Inventory {
    /// The fund or vault that holds it.
    pub holder: Account,
    /// Signed size, base units.
    pub size: f64,
    /// Average price it was taken over at (the bankruptcy prices).
    pub entry: f64,
    /// Steps held since it was last flat: how far its limit has moved.
    pub age: u64,
    /// Its value at the mark, `size (M - entry)`, as last reported to the holder.
    pub reported: f64,
}

/// What one step's unwinding did.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Unwound {
    /// Notional sold back to the book (USD at the mark).
    pub notional: f64,
    /// Profit realized on it (< 0: a loss), paid to or by the holder.
    pub realized: f64,
    /// A realized loss the holder's cash could not pay: uncovered bad debt.
    pub uncovered: f64,
}

impl Inventory {
    pub fn new(holder: Account) -> Self {
        Self {
            holder,
            size: 0.0,
            entry: 0.0,
            age: 0,
            reported: 0.0,
        }
    }

    /// Adds `size` taken over at `price`; returns the profit netting realizes (taking over a
    /// short while holding a long closes part of the long at `price`).
    fn add(&mut self, size: f64, price: f64) -> f64 {
        let q = self.size;
        let closed = if q * size < 0.0 {
            size.abs().min(q.abs())
        } else {
            0.0
        };
        let realized = closed * q.signum() * (price - self.entry);
        if q == 0.0 {
            self.age = 0;
        }
        self.entry = new_entry(q, self.entry, size, price);
        self.size = q + size;
        realized
    }

    /// The limit of this step's offer: from the entry toward the book by `step` a step held;
    /// `None` once it has moved past zero (a market order).
    fn limit(&self, step: f64) -> Option<f64> {
        let moved = step * self.age as f64;
        let limit = if self.size > 0.0 {
            self.entry * (1.0 - moved)
        } else {
            self.entry * (1.0 + moved)
        };
        (limit > 0.0).then_some(limit)
    }
}

impl PerpMarket {
    /// The holder takes over trader `k`'s whole remaining position at its bankruptcy price:
    /// the trader realizes there (its collateral, whatever is left, goes to the counterparty),
    /// and the holder's inventory grows by the position, its remaining margin carried in the
    /// entry price (MODEL.md section 4). Adds the notional taken over (at the mark) and the
    /// trader's loss to `out`.
    pub(super) fn take_over(
        &mut self,
        ledger: &mut Ledger,
        k: usize,
        holder: Account,
        price: &MarkState,
        step: u64,
        out: &mut ForcedClose,
    ) {
        let (c, q, e) = (
            self.book.collateral[k],
            self.book.size[k],
            self.book.entry[k],
        );
        let bankruptcy = super::order::bankruptcy_price(q, c, e);
        let counterparty = crate::protocol::Holder::Ledger(Account::Counterparty);
        self.transfer(ledger, crate::protocol::Holder::Trader(k), counterparty, c);
        // At its bankruptcy price the position loses its collateral, and no more.
        out.position_loss += self.desk.recognised.loss_on_close(k, q, q, -c);
        self.book.size[k] = 0.0;
        self.book.entry[k] = 0.0;
        self.reindex(k);
        let inventory = self.desk.inventory.get_or_insert(Inventory::new(holder));
        let realized = inventory.add(q, bankruptcy);
        self.mark_inventory(ledger, price.mark(), realized, step);
        if realized != 0.0 {
            ledger.transfer(Account::Counterparty, holder, realized);
        }
        let taken = q.abs() * price.mark();
        out.taken_over += taken;
        out.notional += taken;
    }

    /// Reports the inventory's value at `mark` to its holder, with `realized` profit taken
    /// since the last report.
    pub(crate) fn mark_inventory(
        &mut self,
        ledger: &mut Ledger,
        mark: f64,
        realized: f64,
        step: u64,
    ) {
        let Some(inventory) = self.desk.inventory.as_mut() else {
            return;
        };
        let value = inventory.size * (mark - inventory.entry);
        let change = value - inventory.reported;
        inventory.reported = value;
        if let Some(holder) = ledger.holder_mut(inventory.holder) {
            holder.revalue_inventory(change, realized, step);
        }
    }

    /// Whether the holder of this market's takeovers can take one over now (not run dry).
    pub(super) fn holder_can_take(&self, ledger: &Ledger, holder: Account) -> bool {
        ledger.holder(holder).is_some_and(|h| h.can_take_over())
    }

    /// One step's offer of the inventory back to the book: within the size cap `most` (USD at
    /// the mark; infinite without one), at a limit that has moved `unwind_step` a step from the
    /// entry toward the book. The realized profit is paid to or by the holder; a loss its cash
    /// cannot pay is uncovered bad debt.
    pub fn unwind(
        &mut self,
        ledger: &mut Ledger,
        price: &mut MarkState,
        law: &ImpactLaw,
        unwind_step: f64,
        step: u64,
    ) -> Unwound {
        let Some(inventory) = self.desk.inventory.as_mut() else {
            return Unwound::default();
        };
        if inventory.size == 0.0 {
            return Unwound::default();
        }
        inventory.age += 1;
        let (size, entry, holder) = (inventory.size, inventory.entry, inventory.holder);
        let side = if size > 0.0 { Side::Sell } else { Side::Buy };
        let mark = price.mark();
        let wanted = self.desk.orders.cap.order_size(size, size, mark);
        let within = match inventory.limit(unwind_step) {
            Some(limit) => price.notional_within(side, limit, law) / price.book(),
            None => f64::INFINITY,
        };
        let sold = if wanted.abs() > within {
            within.copysign(size)
        } else {
            wanted
        };
        if sold == 0.0 {
            self.mark_inventory(ledger, mark, 0.0, step);
            return Unwound::default();
        }
        let fill = price.execute(side, sold.abs() * price.book(), law);
        let realized = sold * (fill - entry);
        let inventory = self.desk.inventory.as_mut().expect("checked above");
        inventory.size = if sold == size { 0.0 } else { size - sold };
        if inventory.size == 0.0 {
            inventory.entry = 0.0;
        }
        self.mark_inventory(ledger, price.mark(), realized, step);
        let cash = ledger.balance(holder).max(0.0);
        let paid = if realized < 0.0 {
            (-realized).min(cash)
        } else {
            0.0
        };
        let uncovered = if realized < 0.0 {
            -realized - paid
        } else {
            0.0
        };
        if realized >= 0.0 {
            ledger.transfer(Account::Counterparty, holder, realized);
        } else {
            ledger.transfer(holder, Account::Counterparty, paid);
            ledger.transfer(Account::Uncovered, Account::Counterparty, uncovered);
        }
        Unwound {
            notional: sold.abs() * mark,
            realized,
            uncovered,
        }
    }

    /// The inventory this market's holder keeps (none before a takeover).
    pub fn inventory(&self) -> Option<&Inventory> {
        self.desk.inventory.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn netting_a_takeover_realizes_at_its_price() {
        let mut inv = Inventory::new(Account::Fund(0));
        assert_eq!(inv.add(10.0, 100.0), 0.0);
        assert_eq!(inv.add(10.0, 90.0), 0.0);
        assert!((inv.entry - 95.0).abs() < 1e-12);
        // A short of 5 taken over at 99 closes 5 of the long at 99: 5 x (99 - 95).
        assert!((inv.add(-5.0, 99.0) - 20.0).abs() < 1e-9);
        assert_eq!(inv.size, 15.0);
        inv.age = 10;
        assert!((inv.limit(0.001).unwrap() - 95.0 * 0.99).abs() < 1e-9);
        inv.age = 2_000;
        assert_eq!(inv.limit(0.001), None);
    }
}
