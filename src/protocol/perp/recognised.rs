//! Losses of liquidated positions already counted before they were closed.
//!
//! When a limited liquidation order leaves part of a position unfilled and the rest stays
//! with its trader (Deribit's rules: no takeover), a negative equity is covered at once from
//! the fund, and with it the unrealized loss of the rest at the mark. That loss is a
//! liquidated position's loss the trader's collateral did not meet, so the recovery rate
//! (MODEL.md section 8) counts it then; when the rest closes later only what it loses beyond
//! that mark is new. Without this, a deficit covered on a rest that never closes had no loss
//! beside it, and the recovery rate fell below zero (issue 34, item 15: -2.34 on the
//! Deribit-like replay).

use std::collections::BTreeMap;

/// Per trader (by place in the book): the PnL of its open position already counted as a
/// liquidated loss. Empty on venues whose liquidations leave nothing open after a deficit
/// (R1's market orders), so the hot path pays one `is_empty` check.
#[derive(Clone, Debug, Default)]
pub(super) struct RecognisedLosses {
    pnl: BTreeMap<usize, f64>,
}

impl RecognisedLosses {
    /// The liquidated loss of closing `closed` of trader `k`'s position `size` with PnL
    /// `pnl` on the closed part: what it loses beyond the part already counted, which is
    /// taken off the record.
    pub(super) fn loss_on_close(&mut self, k: usize, closed: f64, size: f64, pnl: f64) -> f64 {
        let counted = self.take_part(k, closed, size);
        (counted - pnl).max(0.0)
    }

    /// Counts the unrealized PnL `pnl` of trader `k`'s open position (at the mark a deficit
    /// was covered at) as liquidated; returns the loss beyond what was counted before.
    pub(super) fn recognise(&mut self, k: usize, pnl: f64) -> f64 {
        let before = self.pnl.insert(k, pnl).unwrap_or(0.0);
        (before - pnl).max(0.0)
    }

    /// Trader `k`'s position went from `from` to `to` outside a liquidation (a voluntary
    /// trade, auto-deleveraging): a reduction takes its share of the record away; a position
    /// closed or turned over leaves none. An increase keeps the record as it is (it belongs
    /// to the units held before and is shared out as they close).
    pub(super) fn resized(&mut self, k: usize, from: f64, to: f64) {
        if self.pnl.is_empty() || to.abs() >= from.abs() && from * to > 0.0 {
            return;
        }
        self.take_part(k, from - to, from);
    }

    /// Takes the share `closed / size` of trader `k`'s record off it and returns it.
    fn take_part(&mut self, k: usize, closed: f64, size: f64) -> f64 {
        if self.pnl.is_empty() {
            return 0.0;
        }
        let Some(pnl) = self.pnl.get_mut(&k) else {
            return 0.0;
        };
        if closed == size || size == 0.0 || (size - closed) * size <= 0.0 {
            return self.pnl.remove(&k).unwrap_or(0.0);
        }
        let part = *pnl * (closed / size);
        *pnl -= part;
        part
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_close_without_a_record_loses_what_it_realizes() {
        let mut r = RecognisedLosses::default();
        assert_eq!(r.loss_on_close(3, 1.0, 2.0, -50.0), 50.0);
        assert_eq!(r.loss_on_close(3, 1.0, 2.0, 20.0), 0.0);
    }

    #[test]
    fn a_recognised_loss_is_not_counted_again_when_the_rest_closes() {
        let mut r = RecognisedLosses::default();
        // The rest (4 units) is 40 under water at the mark the deficit was covered at.
        assert_eq!(r.recognise(7, -40.0), 40.0);
        // It falls 10 more: recognised again, only the 10 is new.
        assert_eq!(r.recognise(7, -50.0), 10.0);
        // Half closes 5 worse than that mark: the half's 25 was counted, 5 is new.
        assert_eq!(r.loss_on_close(7, 2.0, 4.0, -30.0), 5.0);
        // The other half closes at the mark of the record: nothing new, the record is gone.
        assert_eq!(r.loss_on_close(7, 2.0, 2.0, -25.0), 0.0);
        assert_eq!(r.loss_on_close(7, 1.0, 1.0, -3.0), 3.0);
    }

    #[test]
    fn trades_outside_liquidation_take_their_share_of_the_record() {
        let mut r = RecognisedLosses::default();
        r.recognise(1, -40.0);
        // An increase keeps the record; a reduction by a quarter takes a quarter away.
        r.resized(1, -4.0, -6.0);
        r.resized(1, -4.0, -3.0);
        assert_eq!(r.loss_on_close(1, -3.0, -3.0, -30.0), 0.0);
        // A position turned over leaves no record.
        r.recognise(2, -10.0);
        r.resized(2, 1.0, -1.0);
        assert_eq!(r.loss_on_close(2, -1.0, -1.0, -4.0), 4.0);
    }
}
