//! `[experiment]`'s horizon: how many steps, and how long each is.

use crate::config::file::ExperimentSection;
use crate::config::limits::{MAX_DT_SECONDS, MAX_STEPS, MIN_DT_SECONDS};
use crate::params::{ParamError, positive};

/// The run's steps and the step in seconds, each within its limits.
pub(crate) fn check(x: &ExperimentSection) -> Result<(u64, f64), ParamError> {
    if !(1..=MAX_STEPS).contains(&x.steps) {
        return Err(ParamError::new(
            "experiment.steps",
            format!(
                "must be from 1 to {MAX_STEPS} (19 years of minutes), got {}",
                x.steps
            ),
        ));
    }
    let dt = positive("dt_seconds", x.dt_seconds).map_err(|e| e.within("experiment"))?;
    if !(MIN_DT_SECONDS..=MAX_DT_SECONDS).contains(&dt) {
        return Err(ParamError::new(
            "experiment.dt_seconds",
            format!(
                "must be from {MIN_DT_SECONDS} s (a millisecond) to {MAX_DT_SECONDS} s (a \
                 year), got {dt:e}"
            ),
        ));
    }
    Ok((x.steps, dt))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn horizon(steps: u64, dt_seconds: f64) -> Result<(u64, f64), ParamError> {
        check(&ExperimentSection {
            steps,
            dt_seconds,
            ..ExperimentSection::default()
        })
    }

    #[test]
    fn steps_and_step_within_their_limits_pass() {
        assert_eq!(horizon(1_440, 60.0).unwrap(), (1_440, 60.0));
    }

    #[test]
    fn steps_are_checked_before_the_step() {
        assert_eq!(horizon(0, -1.0).unwrap_err().field, "experiment.steps");
        assert_eq!(
            horizon(MAX_STEPS + 1, 60.0).unwrap_err().field,
            "experiment.steps"
        );
    }

    #[test]
    fn a_step_out_of_range_names_dt_seconds() {
        assert_eq!(horizon(10, 0.0).unwrap_err().field, "experiment.dt_seconds");
        assert_eq!(
            horizon(10, 1e-4).unwrap_err().field,
            "experiment.dt_seconds"
        );
        assert_eq!(horizon(10, 1e9).unwrap_err().field, "experiment.dt_seconds");
    }
}
