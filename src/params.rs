//! Parameter checks shared by every validating constructor.
//!
//! Domain types validate their own parameters (as `rand_distr` does) and name the offending
//! parameter; the config layer prefixes the dotted path of the section it came from.

use std::fmt;

/// A parameter that breaks a rule: which one, and the rule.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamError {
    /// Parameter name, relative to the section that holds it (for example `alpha`).
    pub field: String,
    /// The rule, phrased as what was expected (for example `must be in [0, 1], got 1.5`).
    pub rule: String,
}

impl ParamError {
    pub fn new(field: impl Into<String>, rule: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            rule: rule.into(),
        }
    }

    /// The same error with `prefix.` put before the field name.
    pub fn within(mut self, prefix: &str) -> Self {
        if !prefix.is_empty() {
            self.field = format!("{prefix}.{}", self.field);
        }
        self
    }
}

impl fmt::Display for ParamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` {}", self.field, self.rule)
    }
}

impl std::error::Error for ParamError {}

pub type ParamResult<T> = Result<T, ParamError>;

pub fn finite(field: &str, v: f64) -> ParamResult<f64> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(ParamError::new(
            field,
            format!("must be a finite number, got {v}"),
        ))
    }
}

pub fn positive(field: &str, v: f64) -> ParamResult<f64> {
    finite(field, v)?;
    if v > 0.0 {
        Ok(v)
    } else {
        Err(ParamError::new(field, format!("must be > 0, got {v}")))
    }
}

pub fn non_negative(field: &str, v: f64) -> ParamResult<f64> {
    finite(field, v)?;
    if v >= 0.0 {
        Ok(v)
    } else {
        Err(ParamError::new(field, format!("must be >= 0, got {v}")))
    }
}

/// A probability or share: in the closed interval [0, 1].
pub fn unit_interval(field: &str, v: f64) -> ParamResult<f64> {
    finite(field, v)?;
    if (0.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        Err(ParamError::new(
            field,
            format!("must be in [0, 1], got {v}"),
        ))
    }
}

/// A rate that must leave something over: in [0, 1).
pub fn rate_below_one(field: &str, v: f64) -> ParamResult<f64> {
    finite(field, v)?;
    if (0.0..1.0).contains(&v) {
        Ok(v)
    } else {
        Err(ParamError::new(
            field,
            format!("must be in [0, 1), got {v}"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_name_field_and_value() {
        assert_eq!(positive("x", 1.0), Ok(1.0));
        let e = positive("x", 0.0).unwrap_err();
        assert_eq!(e.field, "x");
        assert!(e.rule.contains("> 0"));
        assert!(finite("x", f64::NAN).is_err());
        assert!(unit_interval("p", 1.5).unwrap_err().rule.contains("[0, 1]"));
        assert!(rate_below_one("r", 1.0).is_err());
        assert_eq!(
            non_negative("f", -1.0).unwrap_err().within("fund").field,
            "fund.f"
        );
    }
}
