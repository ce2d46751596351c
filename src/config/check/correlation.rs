//! `[correlation]`: joint shocks of two or more markets, and a common crash.

use crate::config::file::{CorrelationSection, CrashSection};
use crate::market::{CommonCrash, CorrelatedShocks, Horizon, PriceModelParams, ShockLaw};
use crate::params::ParamError;

/// The markets' joint shocks; `None` without a `[correlation]` (each model draws on its
/// own). `models` are the markets' index models with their paths, in market order.
pub(crate) fn check(
    correlation: Option<&CorrelationSection>,
    models: &[(&str, &PriceModelParams)],
    dt: f64,
    steps: u64,
) -> Result<Option<CorrelatedShocks>, ParamError> {
    let Some(c) = correlation else {
        return Ok(None);
    };
    if models.len() < 2 {
        return Err(ParamError::new(
            "correlation",
            "needs two or more markets ([markets.NAME] tables besides [market])",
        ));
    }
    let laws = shock_laws(models)?;
    let crash = c
        .crash
        .as_ref()
        .map(|k| {
            CommonCrash::new(k.intensity, k.jump_mean, k.jump_sd, k.betas.clone(), dt)
                .map_err(|e| e.within("correlation.crash"))
        })
        .transpose()?;
    // After the crash's own checks, so that a NaN is named as one.
    if let Some(k) = &c.crash {
        check_crash(k, dt, steps)?;
    }
    Ok(Some(
        CorrelatedShocks::new(&c.matrix, &laws, crash).map_err(|e| e.within("correlation"))?,
    ))
}

/// Each market's shock law. Correlated Student-t shocks share one chi-square mixing draw,
/// so one nu.
fn shock_laws(models: &[(&str, &PriceModelParams)]) -> Result<Vec<ShockLaw>, ParamError> {
    let mut laws = Vec::with_capacity(models.len());
    let mut first_nu: Option<(f64, &str)> = None;
    for &(path, model) in models {
        let law = model.shock_law().map_err(|why| {
            ParamError::new(
                format!("{path}.model"),
                format!("cannot take correlated shocks: {why}"),
            )
        })?;
        if let ShockLaw::StudentT(nu) = law {
            match first_nu {
                Some((first, at)) if first != nu => {
                    return Err(ParamError::new(
                        format!("{path}.model.shocks.nu"),
                        format!(
                            "is {nu}, but `{at}.model.shocks.nu` is {first}: markets with \
                             correlated Student-t shocks share one nu"
                        ),
                    ));
                }
                Some(_) => {}
                None => first_nu = Some((nu, path)),
            }
        }
        laws.push(law);
    }
    Ok(laws)
}

/// A common crash is a jump of every market's log price by `beta` times a normal size: the
/// sizes are fractions (as Merton's), and the jumps expected over the horizon may not spread
/// any market beyond the range at four standard deviations.
fn check_crash(k: &CrashSection, dt: f64, steps: u64) -> Result<(), ParamError> {
    let path = "correlation.crash";
    for (field, size) in [("jump_mean", k.jump_mean.abs()), ("jump_sd", k.jump_sd)] {
        if size > 1.0 {
            return Err(ParamError::new(
                format!("{path}.{field}"),
                format!(
                    "= {size:e} is a log jump of more than 100%; sizes are fractions (0.05, not 5)"
                ),
            ));
        }
    }
    let horizon = Horizon { dt, steps, path };
    for (m, beta) in k.betas.iter().enumerate() {
        let size = beta.abs() * (k.jump_mean.abs() + k.jump_sd);
        if size > 2.0 {
            return Err(ParamError::new(
                format!("{path}.betas[{m}]"),
                format!(
                    "= {beta:e} makes market {m}'s crash a log jump of about {size:.3e}: a \
                     beta scales the common jump, and stays near 1"
                ),
            ));
        }
        let variance = k.intensity * beta * beta * (k.jump_mean.powi(2) + k.jump_sd.powi(2));
        horizon.check_vol("intensity", variance.sqrt())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::market::GbmParams;

    fn crash(jump_mean: f64, jump_sd: f64, betas: Vec<f64>) -> CrashSection {
        CrashSection {
            intensity: 1.0,
            jump_mean,
            jump_sd,
            betas,
        }
    }

    #[test]
    fn no_section_no_shocks_and_one_market_is_not_enough() {
        let gbm = PriceModelParams::Gbm(GbmParams::new(0.5, 0.0, 60.0).unwrap());
        let models = [("market", &gbm)];
        assert!(check(None, &models, 60.0, 10).unwrap().is_none());
        let c = CorrelationSection {
            matrix: vec![vec![1.0]],
            crash: None,
        };
        assert_eq!(
            check(Some(&c), &models, 60.0, 10).unwrap_err().field,
            "correlation"
        );
    }

    #[test]
    fn crash_sizes_are_fractions_and_betas_stay_near_one() {
        let e = check_crash(&crash(-5.0, 0.1, vec![1.0]), 60.0, 10).unwrap_err();
        assert_eq!(e.field, "correlation.crash.jump_mean");
        let e = check_crash(&crash(-0.5, 0.5, vec![1.0, 3.0]), 60.0, 10).unwrap_err();
        assert_eq!(e.field, "correlation.crash.betas[1]");
        assert!(check_crash(&crash(-0.1, 0.05, vec![1.0, 1.2]), 60.0, 10).is_ok());
    }
}
