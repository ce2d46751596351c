//! The versioned trigger heap every market kind keeps: entries keyed on the price that fires
//! them, so that a step touches only what the price has crossed, whatever the number of
//! positions. A perp market keeps its longs and shorts in two, a lending market its loans,
//! its defenders and its loopers.
//!
//! An entry that changes is pushed again under a bumped version; the old entry is recognised
//! as stale when it surfaces (lazy deletion), against the owner's own version array. The
//! order (a [`Direction`]) is a type parameter, so the hot loops compare keys with no call.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::marker::PhantomData;

/// One entry: the price that fires it as an ordered integer key, the position (or loan) it
/// stands for, by its place in the owner's arrays, and the version it was pushed under.
///
/// The key's encoding is the owner's: [`total_order_key`] for prices of any sign, a
/// positive price's own bits where only positive prices occur (their integer order is their
/// numeric order).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Trigger {
    pub key: u64,
    pub id: u32,
    pub version: u32,
}

/// `price`'s key in `f64::total_cmp` order (total_cmp's own transform, with the sign bit
/// flipped so that unsigned order is total order). For prices and marks that are not NaN
/// and not zeros of two signs, `key(a) <= key(b)` exactly when `a <= b`: each comparison is
/// one integer compare instead of two bit twiddles.
#[inline]
pub(crate) fn total_order_key(price: f64) -> u64 {
    let bits = price.to_bits() as i64;
    let total = bits ^ ((((bits >> 63) as u64) >> 1) as i64);
    (total as u64) ^ (1 << 63)
}

/// Which entry a queue serves first.
pub(crate) trait Direction {
    /// `Greater` when `a` is served before `b`.
    fn cmp(a: &Trigger, b: &Trigger) -> Ordering;
}

/// Highest key first (the first a falling price reaches), ties by lower id: perp longs,
/// loans, defenders.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Falling {}

/// Lowest key first (the first a rising price reaches), ties by lower id: perp shorts.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Rising {}

/// The reverse of `D`, ties included: loopers are served in exactly the reverse of
/// [`Falling`] (lowest key first, ties by higher id), the order they have always had.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Reversed<D>(PhantomData<D>);

impl Direction for Falling {
    #[inline]
    fn cmp(a: &Trigger, b: &Trigger) -> Ordering {
        a.key.cmp(&b.key).then_with(|| b.id.cmp(&a.id))
    }
}

impl Direction for Rising {
    #[inline]
    fn cmp(a: &Trigger, b: &Trigger) -> Ordering {
        b.key.cmp(&a.key).then_with(|| b.id.cmp(&a.id))
    }
}

impl<D: Direction> Direction for Reversed<D> {
    #[inline]
    fn cmp(a: &Trigger, b: &Trigger) -> Ordering {
        D::cmp(b, a)
    }
}

/// An entry in the heap's order.
#[derive(Clone, Copy, Debug)]
struct Ranked<D> {
    trigger: Trigger,
    direction: PhantomData<D>,
}

impl<D: Direction> PartialEq for Ranked<D> {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl<D: Direction> Eq for Ranked<D> {}
impl<D: Direction> PartialOrd for Ranked<D> {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl<D: Direction> Ord for Ranked<D> {
    #[inline]
    fn cmp(&self, o: &Self) -> Ordering {
        D::cmp(&self.trigger, &o.trigger)
    }
}

#[inline]
fn ranked<D>(trigger: Trigger) -> Ranked<D> {
    Ranked {
        trigger,
        direction: PhantomData,
    }
}

/// A versioned heap of [`Trigger`]s served in `D`'s order.
#[derive(Clone, Debug)]
pub(crate) struct TriggerQueue<D> {
    heap: BinaryHeap<Ranked<D>>,
}

impl<D: Direction> Default for TriggerQueue<D> {
    fn default() -> Self {
        Self {
            heap: BinaryHeap::new(),
        }
    }
}

impl<D: Direction> TriggerQueue<D> {
    /// A queue of `triggers` (O(n) heapify).
    pub fn from_triggers(triggers: Vec<Trigger>) -> Self {
        Self {
            heap: BinaryHeap::from(triggers.into_iter().map(ranked).collect::<Vec<_>>()),
        }
    }

    #[inline]
    pub fn push(&mut self, trigger: Trigger) {
        self.heap.push(ranked(trigger));
    }

    /// The entry served next, stale or not.
    #[inline]
    pub fn peek(&self) -> Option<&Trigger> {
        self.heap.peek().map(|r| &r.trigger)
    }

    #[inline]
    pub fn pop(&mut self) -> Option<Trigger> {
        self.heap.pop().map(|r| r.trigger)
    }

    /// Entries held, stale ones included.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Keeps only the entries `live` accepts (the sweep of stale ones).
    pub fn retain(&mut self, live: impl Fn(&Trigger) -> bool) {
        self.heap.retain(|r| live(&r.trigger));
    }

    /// Takes off the next live entry the price has crossed, dropping the stale entries on
    /// the way; `None` once the entry served next is live and its key still `waits` (the
    /// price has not reached it). The caller checks the position itself and pushes the
    /// entry back when it is not due after all.
    #[inline]
    pub fn pop_due(
        &mut self,
        waits: impl Fn(u64) -> bool,
        live: impl Fn(&Trigger) -> bool,
    ) -> Option<Trigger> {
        while let Some(&top) = self.peek() {
            let is_live = live(&top);
            if is_live && waits(top.key) {
                return None;
            }
            self.heap.pop();
            if is_live {
                return Some(top);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(key: u64, id: u32, version: u32) -> Trigger {
        Trigger { key, id, version }
    }

    fn drain<D: Direction>(mut q: TriggerQueue<D>) -> Vec<(u64, u32)> {
        std::iter::from_fn(|| q.pop().map(|t| (t.key, t.id))).collect()
    }

    /// The integer key orders prices exactly as `f64::total_cmp` does, negatives, zeros and
    /// infinities included.
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
                let (ka, kb) = (total_order_key(a), total_order_key(b));
                assert_eq!(ka.cmp(&kb), a.total_cmp(&b), "{a} vs {b}");
            }
        }
    }

    /// Falling serves the highest key first, Rising the lowest, both ties by lower id;
    /// Reversed<Falling> is Falling backwards, ties by higher id.
    #[test]
    fn each_direction_serves_in_its_order() {
        let entries = vec![t(5, 2, 0), t(7, 1, 0), t(5, 1, 0), t(3, 4, 0)];
        let falling = TriggerQueue::<Falling>::from_triggers(entries.clone());
        assert_eq!(drain(falling), vec![(7, 1), (5, 1), (5, 2), (3, 4)]);
        let rising = TriggerQueue::<Rising>::from_triggers(entries.clone());
        assert_eq!(drain(rising), vec![(3, 4), (5, 1), (5, 2), (7, 1)]);
        let reversed = TriggerQueue::<Reversed<Falling>>::from_triggers(entries);
        assert_eq!(drain(reversed), vec![(3, 4), (5, 2), (5, 1), (7, 1)]);
    }

    /// `pop_due` drops stale entries, stops at the first live entry not crossed (stale ones
    /// behind it stay), and `retain` sweeps the stale ones.
    #[test]
    fn pop_due_skips_stale_entries_and_stops_at_the_first_live_one_not_crossed() {
        let versions = [1u32, 0, 0];
        let live = |t: &Trigger| versions[t.id as usize] == t.version;
        let mut q = TriggerQueue::<Falling>::default();
        for e in [t(9, 0, 0), t(8, 1, 0), t(6, 0, 1), t(4, 2, 0), t(2, 0, 0)] {
            q.push(e);
        }
        let waits = |key: u64| key <= 5;
        assert_eq!(q.pop_due(waits, live), Some(t(8, 1, 0)));
        assert_eq!(q.pop_due(waits, live), Some(t(6, 0, 1)));
        assert_eq!(q.pop_due(waits, live), None);
        assert_eq!(q.len(), 2);
        q.retain(live);
        assert_eq!(drain(q), vec![(4, 2)]);
    }
}
