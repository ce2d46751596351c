//! Liquidation queue keyed by liquidation price, so that each step touches only the positions
//! the mark has crossed: cost grows with liquidations, not with traders x steps.
//!
//! Longs sit in a max-heap (highest liquidation price first: the first a falling mark reaches),
//! shorts in a min-heap. A position that changes is pushed again with a bumped version; the old
//! entry is recognized as stale when it surfaces (lazy deletion).

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use super::{MarginParams, PositionBook};

#[derive(Clone, Copy, Debug)]
struct Entry {
    /// The liquidation price in `f64::total_cmp` order, as an unsigned integer: the heaps
    /// compare it, and each comparison is one integer compare instead of two bit twiddles.
    order: u64,
    trader: u32,
    version: u32,
}

/// `price`'s key in `f64::total_cmp` order (total_cmp's own transform, with the sign bit
/// flipped so that unsigned order is total order). For prices and marks that are not NaN
/// and not zeros of two signs, `order(a) <= order(b)` exactly when `a <= b`.
#[inline]
fn order(price: f64) -> u64 {
    let bits = price.to_bits() as i64;
    let total = bits ^ ((((bits >> 63) as u64) >> 1) as i64);
    (total as u64) ^ (1 << 63)
}

impl Entry {
    fn new(price: f64, trader: u32, version: u32) -> Self {
        Self {
            order: order(price),
            trader,
            version,
        }
    }
}

/// Max-heap order on price, ties by lower trader id first.
#[derive(Clone, Copy, Debug)]
struct LongKey(Entry);
/// Min-heap order on price, ties by lower trader id first.
#[derive(Clone, Copy, Debug)]
struct ShortKey(Entry);

impl PartialEq for LongKey {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for LongKey {}
impl PartialOrd for LongKey {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for LongKey {
    #[inline]
    fn cmp(&self, o: &Self) -> Ordering {
        self.0
            .order
            .cmp(&o.0.order)
            .then_with(|| o.0.trader.cmp(&self.0.trader))
    }
}
impl PartialEq for ShortKey {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for ShortKey {}
impl PartialOrd for ShortKey {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for ShortKey {
    #[inline]
    fn cmp(&self, o: &Self) -> Ordering {
        o.0.order
            .cmp(&self.0.order)
            .then_with(|| o.0.trader.cmp(&self.0.trader))
    }
}

#[derive(Clone, Debug, Default)]
pub struct LiquidationQueue {
    longs: BinaryHeap<LongKey>,
    shorts: BinaryHeap<ShortKey>,
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
                let e = Entry::new(price, i as u32, book.version[i]);
                if q > 0.0 {
                    longs.push(LongKey(e));
                } else {
                    shorts.push(ShortKey(e));
                }
            }
        }
        let mut queue = Self {
            longs: BinaryHeap::from(longs),
            shorts: BinaryHeap::from(shorts),
            sweep_above: 2 * book.len() + 64,
            long_top: 0,
            short_top: u64::MAX,
        };
        queue.refresh_tops();
        queue
    }

    fn refresh_tops(&mut self) {
        self.long_top = self.longs.peek().map_or(0, |k| k.0.order);
        self.short_top = self.shorts.peek().map_or(u64::MAX, |k| k.0.order);
    }

    /// Whether `mark` crosses the liquidation price at the top of either heap: when it does
    /// not, no entry below can be crossed either, and nothing is due. (Stale entries at the top
    /// wait there until a mark crosses them; the live entries' order does not depend on them.)
    #[inline]
    pub fn may_be_crossed(&self, mark: f64) -> bool {
        let at = order(mark);
        self.long_top > at || self.short_top < at
    }

    /// Re-indexes trader `i` after its position or collateral changed (its version must have
    /// been bumped already).
    pub fn update(&mut self, book: &PositionBook, margin: &MarginParams, i: u32) {
        let k = i as usize;
        let q = book.size[k];
        if let Some(price) = margin.liquidation_price(book.collateral[k], q, book.entry[k]) {
            let e = Entry::new(price, i, book.version[k]);
            // A push can only raise a max-heap's top (lower a min-heap's).
            if q > 0.0 {
                self.longs.push(LongKey(e));
                self.long_top = self.long_top.max(e.order);
            } else {
                self.shorts.push(ShortKey(e));
                self.short_top = self.short_top.min(e.order);
            }
        }
        if self.longs.len() + self.shorts.len() > self.sweep_above {
            // Dropping stale entries changes nothing that pops: live entries keep their
            // total order (price, then trader).
            let live = |e: &Entry| book.version[e.trader as usize] == e.version;
            self.longs.retain(|k| live(&k.0));
            self.shorts.retain(|k| live(&k.0));
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
        let at = order(mark);
        let live = |e: &Entry| book.version[e.trader as usize] == e.version;
        let liquidatable =
            |i: usize| margin.is_liquidatable(book.equity(i, mark), book.notional(i, mark));
        while let Some(&LongKey(e)) = self.longs.peek() {
            if e.order <= at && live(&e) {
                break;
            }
            self.longs.pop();
            if !live(&e) {
                continue;
            }
            if liquidatable(e.trader as usize) {
                out.push(e.trader);
            } else {
                // Rounding at the boundary: not yet; keep it for a later step.
                self.longs.push(LongKey(e));
                break;
            }
        }
        while let Some(&ShortKey(e)) = self.shorts.peek() {
            if e.order >= at && live(&e) {
                break;
            }
            self.shorts.pop();
            if !live(&e) {
                continue;
            }
            if liquidatable(e.trader as usize) {
                out.push(e.trader);
            } else {
                self.shorts.push(ShortKey(e));
                break;
            }
        }
        self.refresh_tops();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The heaps' integer key orders prices exactly as `f64::total_cmp` does, negatives,
    /// zeros and infinities included.
    #[test]
    fn the_integer_key_is_total_order() {
        let prices = [
            f64::NEG_INFINITY,
            -3.5e6,
            -1.0,
            -f64::MIN_POSITIVE,
            -0.0,
            0.0,
            f64::MIN_POSITIVE,
            1.0,
            29_999.999_999_999_996,
            30_000.0,
            1e300,
            f64::INFINITY,
        ];
        for &a in &prices {
            for &b in &prices {
                let (ka, kb) = (Entry::new(a, 0, 0).order, Entry::new(b, 0, 0).order);
                assert_eq!(ka.cmp(&kb), a.total_cmp(&b), "{a} vs {b}");
            }
        }
    }

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
