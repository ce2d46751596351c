//! Student's t distribution by Bailey's polar method (Bailey 1994, "Polar generation of random
//! variates with the t-distribution", Mathematics of Computation 62(206), 779-781).
//!
//! Draw `U, V` uniform on (-1, 1) until `W = U^2 + V^2` lies in (0, 1]; then
//! `T = U sqrt(nu (W^(-2/nu) - 1) / W)` has the t distribution with `nu` degrees of freedom,
//! exactly, for any `nu > 0`. It replaces `rand_distr::StudentT`, which draws a normal and a
//! gamma variate (Marsaglia-Tsang, itself a normal, a uniform and a rejection test) per
//! sample: the polar method needs about 2.5 uniforms and no normal, and for `nu = 4` (R1's
//! shocks) its power is a reciprocal square root.

use rand::Rng;

use crate::params::{ParamError, ParamResult};

/// Student's t with `nu` degrees of freedom (not scaled).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StudentT {
    nu: f64,
    power: Power,
}

/// `W^(-2/nu)`, with the common cases computed without `powf`.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Power {
    /// `nu = 4`: `1 / sqrt(W)`.
    ReciprocalSqrt,
    /// `nu = 2`: `1 / W`.
    Reciprocal,
    /// Any other `nu`: `W.powf(exponent)`, `exponent = -2 / nu`.
    General { exponent: f64 },
}

impl StudentT {
    /// `nu` must be finite and positive.
    pub fn new(nu: f64) -> ParamResult<Self> {
        if !(nu.is_finite() && nu > 0.0) {
            return Err(ParamError::new(
                "nu",
                format!("must be finite and > 0, got {nu}"),
            ));
        }
        let power = if nu == 4.0 {
            Power::ReciprocalSqrt
        } else if nu == 2.0 {
            Power::Reciprocal
        } else {
            Power::General {
                exponent: -2.0 / nu,
            }
        };
        Ok(Self { nu, power })
    }

    pub fn nu(&self) -> f64 {
        self.nu
    }

    #[inline]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        loop {
            let u = symmetric_unit(rng);
            let v = symmetric_unit(rng);
            let w = u * u + v * v;
            // Inside the unit disc, and not its centre (probability 2^-106, but W^(-2/nu)
            // would be infinite there).
            if w <= 1.0 && w > 0.0 {
                let scaled = match self.power {
                    Power::ReciprocalSqrt => 1.0 / w.sqrt(),
                    Power::Reciprocal => 1.0 / w,
                    Power::General { exponent } => w.powf(exponent),
                };
                return u * (self.nu * (scaled - 1.0) / w).sqrt();
            }
        }
    }
}

/// Uniform on (-1, 1) on a grid of 2^-52, symmetric about 0: the top 53 bits of one 64-bit
/// draw, as an odd multiple of 2^-53 (so never exactly 0 or 1).
#[inline]
fn symmetric_unit<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    const HALF_ULP: f64 = 1.0 / (1u64 << 53) as f64;
    let k = (rng.next_u64() >> 11) as i64 - (1i64 << 52);
    (2 * k + 1) as f64 * HALF_ULP
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Stream, stream_rng};
    use statrs::distribution::{ContinuousCDF, StudentsT};

    /// The t(nu) CDF, statrs's (through the regularized incomplete beta function).
    fn cdf(nu: f64, x: f64) -> f64 {
        StudentsT::new(0.0, 1.0, nu).map_or(f64::NAN, |t| t.cdf(x))
    }

    fn draws(nu: f64, n: usize) -> Vec<f64> {
        let t = StudentT::new(nu).unwrap();
        let mut rng = stream_rng(11, nu.to_bits(), Stream::Market);
        (0..n).map(|_| t.sample(&mut rng)).collect()
    }

    /// The Kolmogorov-Smirnov distance of sorted draws from the t(nu) CDF.
    fn ks_distance(sorted: &[f64], nu: f64) -> f64 {
        let n = sorted.len() as f64;
        sorted
            .iter()
            .enumerate()
            .map(|(i, &x)| {
                let f = cdf(nu, x);
                (f - i as f64 / n).max((i + 1) as f64 / n - f)
            })
            .fold(0.0, f64::max)
    }

    /// The Kolmogorov distribution's 0.1% upper quantile over sqrt(n) (Smirnov's asymptotic
    /// law): a correct sampler exceeds it on one seed in a thousand.
    fn ks_bound(n: usize) -> f64 {
        1.95 / (n as f64).sqrt()
    }

    /// Kolmogorov-Smirnov against the t CDF, for heavy and light tails and for the `nu` with
    /// their own power rule (2, 4).
    #[test]
    fn samples_follow_the_t_distribution() {
        let n = 20_000;
        for nu in [2.0, 3.0, 4.0, 5.0, 6.5, 30.0] {
            let mut xs = draws(nu, n);
            xs.sort_by(f64::total_cmp);
            let d = ks_distance(&xs, nu);
            assert!(d < ks_bound(n), "nu = {nu}: KS distance {d}");
        }
    }

    /// The test has power at this n: t(4) draws are refused as t(2) and as t(30) (close to a
    /// normal).
    #[test]
    fn the_ks_test_sees_a_wrong_law() {
        let n = 20_000;
        let mut xs = draws(4.0, n);
        xs.sort_by(f64::total_cmp);
        for wrong in [2.0, 30.0] {
            let d = ks_distance(&xs, wrong);
            assert!(d > ks_bound(n), "t(4) against t({wrong}): KS distance {d}");
        }
    }

    /// Mean 0 and variance `nu / (nu - 2)`, within 4 standard errors; the variance's SE uses
    /// the sample's own fourth moment, so `nu > 4` (finite kurtosis) for that part.
    #[test]
    fn moments_match() {
        let n = 400_000;
        for nu in [4.5, 6.0, 10.0] {
            let xs = draws(nu, n);
            let mean = xs.iter().sum::<f64>() / n as f64;
            let m2 = xs.iter().map(|x| x * x).sum::<f64>() / n as f64;
            let m4 = xs.iter().map(|x| x.powi(4)).sum::<f64>() / n as f64;
            let se_mean = (m2 / n as f64).sqrt();
            let se_var = ((m4 - m2 * m2) / n as f64).sqrt();
            assert!(mean.abs() < 4.0 * se_mean, "nu = {nu}: mean {mean}");
            let var = nu / (nu - 2.0);
            assert!(
                (m2 - var).abs() < 4.0 * se_var,
                "nu = {nu}: var {m2} vs {var}"
            );
        }
    }

    /// The symmetric uniform is symmetric and strictly inside (-1, 1) at its extremes.
    #[test]
    fn symmetric_unit_stays_inside() {
        struct Fixed(u64);
        impl rand::TryRng for Fixed {
            type Error = std::convert::Infallible;
            fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
                Ok(self.0 as u32)
            }
            fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
                Ok(self.0)
            }
            fn try_fill_bytes(&mut self, _: &mut [u8]) -> Result<(), Self::Error> {
                Ok(())
            }
        }
        let lo = symmetric_unit(&mut Fixed(0));
        let hi = symmetric_unit(&mut Fixed(u64::MAX));
        assert!(lo > -1.0 && hi < 1.0);
        assert_eq!(lo, -hi);
    }

    #[test]
    fn refuses_nonpositive_nu() {
        assert_eq!(StudentT::new(0.0).unwrap_err().field, "nu");
        assert!(StudentT::new(f64::NAN).is_err());
    }
}
