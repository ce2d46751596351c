//! Liquidation queue keyed by liquidation price, so that each step touches only the positions
//! the mark has crossed: cost grows with liquidations, not with traders x steps.
//!
//! Longs sit in a [`Falling`] trigger queue (highest liquidation price first: the first a falling
//! mark reaches), shorts in a [`Rising`] one. A position that changes is pushed again with a
//! bumped version; the old entry is recognized as stale when it surfaces (lazy deletion).

use super::{MarginParams, PositionBook};
use crate::protocol::trigger::{Falling, Rising, Trigger, TriggerQueue, total_order_key};

/// Trader `i`'s entry at liquidation price `price`, under `version`.
#[inline]
fn entry(price: f64, i: u32, version: u32) -> Trigger {
    Trigger {
        key: total_order_key(price),
        id: i,
        version,
    }
}

#[derive(Clone, Debug, Default)]
pub struct LiquidationQueue {
    longs: TriggerQueue<Falling>,
    shorts: TriggerQueue<Rising>,
    /// Entries beyond which stale ones are swept out: each trader has at most one live
    /// entry, so past twice the traders at least half are stale. Without the sweep, a
    /// population that trades all day grows the heaps by one entry per trade.
    sweep_above: usize,
    /// The keys at the top of each heap (stale or not; 0 and `u64::MAX` when empty), so that a
    /// step whose mark crosses neither costs two compares.
    long_top: u64,
    short_top: u64,
}

impl LiquidationQueue {
    /// Indexes every open position of `book` (O(n) heapify).
    pub fn build(book: &PositionBook, margin: &MarginParams) -> Self {
        let mut longs = Vec::new();
        let mut shorts = Vec::new();
        for i in 0..book.len() {
            let q = book.size[i];
            if let Some(price) = margin.liquidation_price(book.collateral[i], q, book.entry[i]) {
                let e = entry(price, i as u32, book.version[i]);
                if q > 0.0 {
                    longs.push(e);
                } else {
                    shorts.push(e);
                }
            }
        }
        let mut queue = Self {
            longs: TriggerQueue::from_triggers(longs),
            shorts: TriggerQueue::from_triggers(shorts),
            sweep_above: 2 * book.len() + 64,
            long_top: 0,
            short_top: u64::MAX,
        };
        queue.refresh_tops();
        queue
    }

    fn refresh_tops(&mut self) {
        self.long_top = self.longs.peek().map_or(0, |t| t.key);
        self.short_top = self.shorts.peek().map_or(u64::MAX, |t| t.key);
    }

    /// Whether `mark` crosses the liquidation price at the top of either heap: when it does
    /// not, no entry below can be crossed either, and nothing is due. (Stale entries at the top
    /// wait there until a mark crosses them; the live entries' order does not depend on them.)
    #[inline]
    pub fn may_be_crossed(&self, mark: f64) -> bool {
        let at = total_order_key(mark);
        self.long_top > at || self.short_top < at
    }

    /// Re-indexes trader `i` after its position or collateral changed (its version must have
    /// been bumped already).
    pub fn update(&mut self, book: &PositionBook, margin: &MarginParams, i: u32) {
        let k = i as usize;
        let q = book.size[k];
        if let Some(price) = margin.liquidation_price(book.collateral[k], q, book.entry[k]) {
            let e = entry(price, i, book.version[k]);
            // A push can only raise a max-heap's top (lower a min-heap's).
            if q > 0.0 {
                self.longs.push(e);
                self.long_top = self.long_top.max(e.key);
            } else {
                self.shorts.push(e);
                self.short_top = self.short_top.min(e.key);
            }
        }
        if self.longs.len() + self.shorts.len() > self.sweep_above {
            // Dropping stale entries changes nothing that pops: live entries keep their
            // total order (price, then trader).
            let live = |e: &Trigger| book.version[e.id as usize] == e.version;
            self.longs.retain(live);
            self.shorts.retain(live);
            self.refresh_tops();
        }
    }

    /// Removes and appends to `out` every position liquidatable at `mark`. The equity test is
    /// the authority; the heap only says where to look.
    pub fn pop_liquidatable(
        &mut self,
        book: &PositionBook,
        margin: &MarginParams,
        mark: f64,
        out: &mut Vec<u32>,
    ) {
        // Liquidation prices may be of any sign, the mark is positive: comparing keys is
        // comparing prices.
        let at = total_order_key(mark);
        let live = |e: &Trigger| book.version[e.id as usize] == e.version;
        let liquidatable =
            |i: usize| margin.is_liquidatable(book.equity(i, mark), book.notional(i, mark));
        while let Some(e) = self.longs.pop_due(|key| key <= at, live) {
            if liquidatable(e.id as usize) {
                out.push(e.id);
            } else {
                // Rounding at the boundary: not yet; keep it for a later step.
                self.longs.push(e);
                break;
            }
        }
        while let Some(e) = self.shorts.pop_due(|key| key >= at, live) {
            if liquidatable(e.id as usize) {
                out.push(e.id);
            } else {
                self.shorts.push(e);
                break;
            }
        }
        self.refresh_tops();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The queue finds exactly the positions a full scan finds, at every mark of a path, also
    /// when the steps whose mark crosses neither top are skipped; with flat margin and with
    /// tiers that the positions cross as the mark moves.
    #[test]
    fn agrees_with_a_full_scan() {
        let flat = MarginParams::new(0.02, 0.01).unwrap();
        let tier = |from_notional, imr, mmr| crate::protocol::MarginTier {
            from_notional,
            imr,
            mmr,
        };
        let tiered = flat
            .clone()
            .with_tiers(&[
                tier(2e4, 0.025, 0.015),
                tier(6e4, 0.04, 0.025),
                tier(1.5e5, 0.06, 0.04),
            ])
            .unwrap();
        for m in [flat, tiered] {
            agrees_with_a_full_scan_under(m);
        }
    }

    fn agrees_with_a_full_scan_under(m: MarginParams) {
        let mut book = PositionBook::default();
        for i in 0..200u32 {
            let lev = 2.0 + (i % 49) as f64;
            let c = 1000.0 + 37.0 * i as f64;
            let q = lev * c / 100.0 * if i % 3 == 0 { -1.0 } else { 1.0 };
            book.push(c, q, 100.0);
        }
        let mut queue = LiquidationQueue::build(&book, &m);
        let mut done = vec![false; book.len()];
        let mut out = Vec::new();
        for step in 0..400 {
            let mark = 100.0 * (1.0 + 0.06 * (step as f64 * 0.05).sin());
            out.clear();
            // A queue whose tops the mark does not cross has nothing due: skipping it must
            // find exactly what the scan finds.
            if queue.may_be_crossed(mark) {
                queue.pop_liquidatable(&book, &m, mark, &mut out);
            }
            let mut scan: Vec<u32> = (0..book.len())
                .filter(|&i| {
                    !done[i] && m.is_liquidatable(book.equity(i, mark), book.notional(i, mark))
                })
                .map(|i| i as u32)
                .collect();
            out.sort_unstable();
            scan.sort_unstable();
            assert_eq!(out, scan, "step {step}");
            for &i in &out {
                done[i as usize] = true;
                book.size[i as usize] = 0.0;
                book.version[i as usize] += 1;
            }
        }
        assert!(done.iter().any(|&d| d) && !done.iter().all(|&d| d));
    }

    /// Positions that change all the time (each change pushes a new entry) are still found
    /// exactly, and the stale entries are swept so the heaps stay small.
    #[test]
    fn many_updates_stay_exact_and_small() {
        let m = MarginParams::new(0.02, 0.01).unwrap();
        let mut book = PositionBook::default();
        let n = 100u32;
        for i in 0..n {
            let q = (2.0 + (i % 40) as f64) * 10.0 / 100.0 * if i % 2 == 0 { -1.0 } else { 1.0 };
            book.push(10.0, q, 100.0);
        }
        let mut queue = LiquidationQueue::build(&book, &m);
        let mut out = Vec::new();
        for step in 0..3_000u32 {
            // A trader changes its collateral: re-indexed under a new version.
            let i = (step * 37 % n) as usize;
            book.collateral[i] = 10.0 + (step % 13) as f64;
            book.version[i] += 1;
            queue.update(&book, &m, i as u32);
            assert!(queue.longs.len() + queue.shorts.len() <= 2 * n as usize + 65);
            let mark = 100.0 * (1.0 + 0.03 * (step as f64 * 0.01).sin());
            out.clear();
            // A queue whose tops the mark does not cross has nothing due: skipping it must
            // find exactly what the scan finds.
            if queue.may_be_crossed(mark) {
                queue.pop_liquidatable(&book, &m, mark, &mut out);
            }
            let mut scan: Vec<u32> = (0..n)
                .filter(|&i| {
                    let k = i as usize;
                    book.size[k] != 0.0
                        && m.is_liquidatable(book.equity(k, mark), book.notional(k, mark))
                })
                .collect();
            out.sort_unstable();
            scan.sort_unstable();
            assert_eq!(out, scan, "step {step}");
            // Liquidated positions are restored at once, so the book keeps churning.
            for &i in &out {
                book.collateral[i as usize] += 5.0;
                book.version[i as usize] += 1;
                queue.update(&book, &m, i);
            }
        }
    }
}
