//! The Poisson decision clock: when each trader decides next (MODEL.md section 3).
//!
//! A calendar queue: a decision at time `t` (in steps) is due in step `ceil(t)`, and the step
//! takes its decisions in time order. Each step is cut into `SLOTS` buckets of equal length,
//! so a bucket holds one or two decisions and sorting them is next to free (sorting a whole
//! step's two dozen decisions was a tenth of R2's time). Scheduling is O(1), so the cost grows
//! with decisions, not with the traders waiting. A binary heap over all traders did the same in O(log traders) per
//! decision and was a fifth of R2's time. The buckets are intrusive lists threaded through
//! per-trader arrays (each trader has exactly one pending decision), so nothing is allocated
//! once the run has started.

const NONE: u32 = u32::MAX;
/// Buckets per step (a power of two, so `t * SLOTS` is exact).
const SLOTS: u64 = 16;

#[derive(Debug)]
pub(super) struct DecisionClock {
    /// First trader of each bucket (`NONE`: empty), linked through `next`. Bucket `b` holds
    /// the times in `((b - 1) / SLOTS, b / SLOTS]`.
    head: Vec<u32>,
    next: Vec<u32>,
    /// Each trader's pending decision time, in steps, as bits: positive floats order like
    /// their bit patterns.
    time: Vec<u64>,
    /// The decisions due in the step being taken, latest first (taken from the end).
    now: Vec<(u64, u32)>,
    /// The step being taken (0 before the first).
    step: u64,
    horizon: f64,
    /// Decisions waiting in buckets: while none wait (static traders only), a step costs
    /// nothing, and the buckets are not even allocated until the first is scheduled.
    waiting: usize,
}

impl DecisionClock {
    /// A clock for `traders` traders over `steps` steps, with nothing scheduled.
    pub fn new(traders: usize, steps: u64) -> Self {
        Self {
            head: Vec::new(),
            next: vec![NONE; traders],
            time: vec![0; traders],
            now: Vec::new(),
            step: 0,
            horizon: steps as f64,
            waiting: 0,
        }
    }

    /// Schedules trader `i`'s next decision at time `t` (steps since the start). A time past
    /// the last step is dropped: it would never be taken.
    #[inline]
    pub fn schedule(&mut self, i: u32, t: f64) {
        if t > self.horizon {
            return;
        }
        let bits = t.to_bits();
        // ceil(t SLOTS), without a libm call (t is positive and at most the horizon).
        let scaled = t * SLOTS as f64;
        let whole = scaled as u64;
        let bucket = (whole + u64::from((whole as f64) < scaled)).max(1);
        if bucket <= self.step * SLOTS {
            // Due in the step being taken: into its sorted list, after every earlier time.
            let key = (bits, i);
            let at = self.now.partition_point(|x| *x > key);
            self.now.insert(at, key);
        } else {
            if self.head.is_empty() {
                self.head = vec![NONE; (self.horizon as u64 * SLOTS) as usize + 1];
            }
            self.waiting += 1;
            let b = bucket as usize;
            self.time[i as usize] = bits;
            self.next[i as usize] = self.head[b];
            self.head[b] = i;
        }
    }

    /// Starts step `step`: its decisions, earliest first (ties by trader id), are what
    /// [`Self::pop`] gives from now on.
    #[inline]
    pub fn begin_step(&mut self, step: u64) {
        debug_assert!(self.now.is_empty() && step > self.step);
        self.step = step;
        if self.waiting == 0 {
            return;
        }
        // The step's buckets, latest first, each sorted latest first: the whole list is then
        // in decreasing order, and `pop` takes from its end.
        for b in ((step - 1) * SLOTS + 1..=step * SLOTS).rev() {
            let start = self.now.len();
            let mut i = std::mem::replace(&mut self.head[b as usize], NONE);
            while i != NONE {
                self.now.push((self.time[i as usize], i));
                self.waiting -= 1;
                i = self.next[i as usize];
            }
            let bucket = &mut self.now[start..];
            if bucket.len() > 1 {
                bucket.sort_unstable_by(|a, b| b.cmp(a));
            }
        }
    }

    /// The next decision due in this step: its time (steps) and trader.
    #[inline]
    pub fn pop(&mut self) -> Option<(f64, u32)> {
        self.now.pop().map(|(bits, i)| (f64::from_bits(bits), i))
    }
}

#[cfg(test)]
mod tests {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;

    use rand::RngExt;

    use super::*;
    use crate::rng::{Stream, stream_rng};

    /// The clock hands out decisions in exactly the order of a binary heap over all pending
    /// times, rescheduling included (also within the same step, and past the horizon).
    #[test]
    fn agrees_with_a_heap() {
        let mut rng = stream_rng(3, 0, Stream::Decisions);
        let (n, steps) = (50u32, 200u64);
        let mut clock = DecisionClock::new(n as usize, steps);
        let mut heap = BinaryHeap::new();
        for i in 0..n {
            let t = rng.random::<f64>() * 3.0;
            clock.schedule(i, t);
            heap.push(Reverse((t.to_bits(), i)));
        }
        let mut taken = 0;
        for step in 1..=steps {
            clock.begin_step(step);
            loop {
                let want = match heap.peek() {
                    Some(&Reverse((bits, i))) if f64::from_bits(bits) <= step as f64 => {
                        heap.pop();
                        Some((f64::from_bits(bits), i))
                    }
                    _ => None,
                };
                let got = clock.pop();
                assert_eq!(got, want, "step {step}");
                let Some((t, i)) = got else { break };
                taken += 1;
                // Gaps from 0 to 2.5 steps: many land in the same step, some past the end.
                let next = t + rng.random::<f64>() * 2.5;
                clock.schedule(i, next);
                heap.push(Reverse((next.to_bits(), i)));
            }
        }
        assert!(taken > 5_000, "{taken}");
    }
}
