//! Herding traders' private thresholds (Granovetter 1978): each trader draws one at t = 0 and
//! de-risks once the public de-risking signal reaches it. Thresholds are shares of the
//! market's open interest at t = 0, so they are at least 0; a threshold of 0 de-risks at the
//! first decision (Granovetter's instigators).

use rand::RngExt;
use rand_distr::{Distribution, StandardNormal};

use crate::params::{ParamError, ParamResult, non_negative};
use crate::rng::SimRng;
use crate::stats::normal_cdf;

/// The law of a private threshold.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ThresholdLaw {
    Fixed(f64),
    /// Uniform on `[min, max]`.
    Uniform {
        min: f64,
        max: f64,
    },
    /// Normal, with what falls below 0 set to 0 (Granovetter's normally distributed thresholds:
    /// the mass below 0 are the instigators).
    Normal {
        mean: f64,
        sd: f64,
    },
}

impl ThresholdLaw {
    pub fn fixed(value: f64) -> ParamResult<Self> {
        Ok(Self::Fixed(finite("value", non_negative("value", value)?)?))
    }

    pub fn uniform(min: f64, max: f64) -> ParamResult<Self> {
        finite("min", non_negative("min", min)?)?;
        if !(max.is_finite() && max >= min) {
            return Err(ParamError::new(
                "max",
                format!("must be finite and at least min = {min}, got {max}"),
            ));
        }
        Ok(Self::Uniform { min, max })
    }

    pub fn normal(mean: f64, sd: f64) -> ParamResult<Self> {
        finite("mean", mean)?;
        finite("sd", non_negative("sd", sd)?)?;
        Ok(Self::Normal { mean, sd })
    }

    /// One trader's threshold (one draw from `rng`, whatever the law, so that a change of
    /// law moves no other trader's draw).
    pub fn sample(&self, rng: &mut SimRng) -> f64 {
        match *self {
            ThresholdLaw::Fixed(v) => {
                let _: f64 = rng.random();
                v
            }
            ThresholdLaw::Uniform { min, max } => min + (max - min) * rng.random::<f64>(),
            ThresholdLaw::Normal { mean, sd } => {
                let z: f64 = StandardNormal.sample(rng);
                (mean + sd * z).max(0.0)
            }
        }
    }

    /// `P(theta <= x)`.
    pub fn cdf(&self, x: f64) -> f64 {
        match *self {
            ThresholdLaw::Fixed(v) => f64::from(u8::from(x >= v)),
            ThresholdLaw::Uniform { min, max } if max == min => f64::from(u8::from(x >= min)),
            ThresholdLaw::Uniform { min, max } => ((x - min) / (max - min)).clamp(0.0, 1.0),
            ThresholdLaw::Normal { .. } if x < 0.0 => 0.0,
            ThresholdLaw::Normal { mean, sd: 0.0 } => f64::from(u8::from(x >= mean)),
            ThresholdLaw::Normal { mean, sd } => normal_cdf((x - mean) / sd),
        }
    }
}

fn finite(field: &str, v: f64) -> ParamResult<f64> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(ParamError::new(field, format!("must be finite, got {v}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn draws_follow_the_cdf() {
        let mut rng = SimRng::seed_from_u64(7);
        let law = ThresholdLaw::normal(0.1, 0.05).unwrap();
        let n = 100_000;
        let below = (0..n).filter(|_| law.sample(&mut rng) <= 0.12).count() as f64 / n as f64;
        let p = law.cdf(0.12);
        let se = (p * (1.0 - p) / n as f64).sqrt();
        assert!((below - p).abs() < 4.0 * se, "{below} vs {p}");
        assert!(ThresholdLaw::uniform(0.2, 0.1).is_err());
        assert!(ThresholdLaw::fixed(-1.0).is_err());
    }
}
