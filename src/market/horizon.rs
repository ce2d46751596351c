//! A model's horizon, for the rules that its drift or spread cannot carry the index out of
//! range. Each price model states its own rules beside its `new` (`check_horizon`), in terms
//! of the four checks here, so that a new model touches one file.

use super::{SANE_PRICE_FACTOR, SECONDS_PER_YEAR};
use crate::params::ParamError;

/// The run a model is checked for: `steps` of `dt` seconds. Errors are named below `path`
/// (the model's dotted path in the experiment file).
#[derive(Clone, Copy, Debug)]
pub struct Horizon<'a> {
    pub dt: f64,
    pub steps: u64,
    pub path: &'a str,
}

impl Horizon<'_> {
    /// A deterministic log drift of `per_year` (annualized) may not move the index by more
    /// than a factor of [`SANE_PRICE_FACTOR`] over the run's horizon: a run would stop there
    /// (nothing is liquidatable at a price of 0 or of infinity), so the file is refused first.
    pub fn check_drift(&self, field: &str, per_year: f64) -> Result<(), ParamError> {
        let years = self.steps as f64 * self.dt / SECONDS_PER_YEAR;
        let log_move = per_year * years;
        let limit = SANE_PRICE_FACTOR.ln();
        if log_move.is_finite() && log_move.abs() <= limit {
            return Ok(());
        }
        Err(ParamError::new(
            field,
            format!(
                "moves the index by a factor of e^{log_move:.3e} over the horizon ({} steps of \
                 {} s), beyond the factor {SANE_PRICE_FACTOR:e} (e^{limit:.1}) any market \
                 reaches; rates are annualized and sizes are fractions (0.065, not 6.5)",
                self.steps, self.dt
            ),
        )
        .within(self.path))
    }

    /// An annualized volatility `vol` may not let the index leave that range within four
    /// standard deviations of its diffusion over the horizon (`4 vol sqrt(T) <= ln 1e8`): a
    /// path that does stops the run, so such a model is refused first.
    pub fn check_vol(&self, field: &str, vol: f64) -> Result<(), ParamError> {
        let years = self.steps as f64 * self.dt / SECONDS_PER_YEAR;
        self.check_spread(
            field,
            &format!("= {vol:e} (annualized)"),
            4.0 * vol * years.sqrt(),
            "vols are annualized fractions (0.8 for 80%)",
        )
    }

    /// The bootstrap's version of [`Self::check_vol`]: four standard deviations of the sum of
    /// `steps` resampled returns (standard deviation `per_step` each).
    pub fn check_resampled(&self, field: &str, per_step: f64) -> Result<(), ParamError> {
        self.check_spread(
            field,
            &format!("makes steps of standard deviation {per_step:.3e} that"),
            4.0 * per_step * (self.steps as f64).sqrt(),
            "the multiplier scales the file's returns",
        )
    }

    fn check_spread(
        &self,
        field: &str,
        what: &str,
        spread: f64,
        hint: &str,
    ) -> Result<(), ParamError> {
        let limit = SANE_PRICE_FACTOR.ln();
        if spread.is_finite() && spread <= limit {
            return Ok(());
        }
        Err(ParamError::new(
            field,
            format!(
                "{what} spreads the index by e^{spread:.3e} at four standard deviations over the \
                 horizon ({} steps of {} s), beyond the factor {SANE_PRICE_FACTOR:e} \
                 (e^{limit:.1}) any market reaches; {hint}",
                self.steps, self.dt
            ),
        )
        .within(self.path))
    }

    /// A replayed path is known: the farthest its cumulated returns go within the horizon
    /// may not leave the range.
    pub fn check_replayed(&self, field: &str, returns: &[f64]) -> Result<(), ParamError> {
        let limit = SANE_PRICE_FACTOR.ln();
        let mut level = 0.0f64;
        let mut farthest = 0.0f64;
        for r in returns.iter().take(self.steps as usize) {
            level += r;
            farthest = farthest.max(level.abs());
        }
        if farthest.is_finite() && farthest <= limit {
            return Ok(());
        }
        Err(ParamError::new(
            field,
            format!(
                "takes the replayed index e^{farthest:.3e} from where it starts within the \
                 horizon, beyond the factor {SANE_PRICE_FACTOR:e} (e^{limit:.1}) any market \
                 reaches"
            ),
        )
        .within(self.path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A year of hours.
    const YEAR: Horizon<'static> = Horizon {
        dt: 3_600.0,
        steps: 8_760,
        path: "market.model",
    };

    #[test]
    fn a_drift_typed_in_percent_is_refused() {
        assert!(YEAR.check_drift("drift", 0.065).is_ok());
        let e = YEAR.check_drift("drift", 65.0).unwrap_err();
        assert_eq!(e.field, "market.model.drift");
        assert!(YEAR.check_drift("drift", f64::NAN).is_err());
    }

    #[test]
    fn a_vol_spreads_at_four_standard_deviations() {
        // 4 vol sqrt(1) <= ln 1e8 = 18.42: 4.6 passes, 4.7 does not.
        assert!(YEAR.check_vol("vol", 4.6).is_ok());
        assert_eq!(
            YEAR.check_vol("vol", 4.7).unwrap_err().field,
            "market.model.vol"
        );
    }

    #[test]
    fn resampled_steps_spread_with_the_root_of_their_number() {
        let per_step = 18.0 / 4.0 / (8_760.0f64).sqrt();
        assert!(YEAR.check_resampled("vol_multiplier", per_step).is_ok());
        assert!(
            YEAR.check_resampled("vol_multiplier", 1.1 * per_step)
                .is_err()
        );
    }

    #[test]
    fn a_replay_is_checked_within_the_horizon_only() {
        let short = Horizon { steps: 2, ..YEAR };
        assert!(
            short
                .check_replayed("vol_multiplier", &[1.0, 1.0, 30.0])
                .is_ok()
        );
        assert!(
            YEAR.check_replayed("vol_multiplier", &[1.0, 1.0, 30.0])
                .is_err()
        );
        // A path that comes back still went too far on the way.
        assert!(
            YEAR.check_replayed("vol_multiplier", &[-19.0, 19.0])
                .is_err()
        );
    }
}
