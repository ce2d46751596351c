//! Streaming mean and variance (Welford 1962) that merge exactly in structure (Chan, Golub,
//! LeVeque 1979), so partial aggregates from shards combine into the aggregate of the whole.

#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Moments {
    n: u64,
    mean: f64,
    m2: f64,
}

impl Moments {
    pub fn push(&mut self, x: f64) {
        self.n += 1;
        let d = x - self.mean;
        self.mean += d / self.n as f64;
        self.m2 += d * (x - self.mean);
    }

    pub fn merge(&mut self, o: &Moments) {
        if o.n == 0 {
            return;
        }
        if self.n == 0 {
            *self = *o;
            return;
        }
        let n = self.n + o.n;
        let d = o.mean - self.mean;
        self.mean += d * o.n as f64 / n as f64;
        self.m2 += o.m2 + d * d * self.n as f64 * o.n as f64 / n as f64;
        self.n = n;
    }

    pub fn count(&self) -> u64 {
        self.n
    }

    /// Mean; `None` without data.
    pub fn mean(&self) -> Option<f64> {
        (self.n > 0).then_some(self.mean)
    }

    /// Sample variance (n - 1 denominator); `None` below two values.
    pub fn variance(&self) -> Option<f64> {
        (self.n > 1).then(|| self.m2 / (self.n - 1) as f64)
    }

    /// Standard error of the mean; `None` below two values.
    pub fn std_error(&self) -> Option<f64> {
        self.variance().map(|v| (v / self.n as f64).sqrt())
    }
}

/// The moments of a sample that holds at least one value by construction (its first value
/// is given apart), so its mean always exists and no caller needs a fallback for an empty
/// sample. The values are pushed in the order given, as [`Moments`] would push them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SampleMoments(Moments);

impl SampleMoments {
    pub fn new(first: f64, rest: impl IntoIterator<Item = f64>) -> Self {
        let mut m = Moments::default();
        m.push(first);
        for x in rest {
            m.push(x);
        }
        Self(m)
    }

    pub fn mean(&self) -> f64 {
        self.0.mean
    }

    /// Standard error of the mean; `None` for a single value (not 0: it is unknown).
    pub fn std_error(&self) -> Option<f64> {
        self.0.std_error()
    }

    /// Sample variance; `None` for a single value.
    pub fn variance(&self) -> Option<f64> {
        self.0.variance()
    }
}

impl FromIterator<f64> for Moments {
    fn from_iter<I: IntoIterator<Item = f64>>(it: I) -> Self {
        let mut m = Moments::default();
        for x in it {
            m.push(x);
        }
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_textbook_formula() {
        let xs = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0];
        let m: Moments = xs.iter().copied().collect();
        assert_eq!(m.mean(), Some(5.0));
        // Sum of squared deviations is 32; sample variance 32 / 7.
        assert!((m.variance().unwrap() - 32.0 / 7.0).abs() < 1e-12);
        assert!((m.std_error().unwrap() - (32.0f64 / 7.0 / 8.0).sqrt()).abs() < 1e-12);
        assert_eq!(Moments::default().mean(), None);
    }

    #[test]
    fn merge_of_parts_equals_the_whole() {
        let xs: Vec<f64> = (0..1000)
            .map(|i| ((i * 7919) % 1013) as f64 * 0.37)
            .collect();
        let whole: Moments = xs.iter().copied().collect();
        let mut merged = Moments::default();
        for chunk in xs.chunks(137) {
            merged.merge(&chunk.iter().copied().collect());
        }
        assert_eq!(merged.count(), whole.count());
        assert!((merged.mean().unwrap() - whole.mean().unwrap()).abs() < 1e-10);
        assert!((merged.variance().unwrap() / whole.variance().unwrap() - 1.0).abs() < 1e-12);
    }
}
