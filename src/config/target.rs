//! The depletion target a study answers for (`experiment.target`, issue 34 item 2): the
//! daily probability of the fund running dry that the user accepts, written as a number
//! (`0.001`, a day) or in words (`"1 in 1000 days"`, `"0.5% a year"`). It drives the
//! headline, the depletion curve, the sample path and `calibrate`.
//!
//! A yearly target is turned into a daily one as if days were independent,
//! `p_day = 1 - (1 - p_year)^(1/365)`: Solvency II's 99.5% over a year is about 1.4e-5 a day.
//! Days are not independent (volatility clusters), so that is an order of magnitude until
//! horizons model the year itself (MODEL.md section 17); reports say so beside every figure.

use std::fmt;

use schemars::{Schema, SchemaGenerator, json_schema};
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Days in the year a daily probability is read over.
pub const DAYS_A_YEAR: f64 = 365.0;

/// The target as the file writes it: a number (a daily probability) or words.
#[derive(Clone, Debug, PartialEq)]
pub enum TargetSpec {
    Daily(f64),
    Words(String),
}

impl Default for TargetSpec {
    /// R1's 1% a day, the target every report answered for before it was the user's.
    fn default() -> Self {
        Self::Daily(0.01)
    }
}

impl TargetSpec {
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

impl Serialize for TargetSpec {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Daily(p) => s.serialize_f64(*p),
            Self::Words(w) => s.serialize_str(w),
        }
    }
}

impl<'de> Deserialize<'de> for TargetSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Spec;
        impl Visitor<'_> for Spec {
            type Value = TargetSpec;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "a daily probability such as 0.001, or words such as \"1 in 1000 days\" or \"0.5% a year\"",
                )
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<TargetSpec, E> {
                Ok(TargetSpec::Daily(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<TargetSpec, E> {
                Ok(TargetSpec::Daily(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<TargetSpec, E> {
                Ok(TargetSpec::Daily(v as f64))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<TargetSpec, E> {
                Ok(TargetSpec::Words(v.to_string()))
            }
        }
        d.deserialize_any(Spec)
    }
}

/// The schema of `experiment.target` for editors.
pub fn schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "description": "The chance of the fund running dry that the study answers for: a daily probability (0.001), or words: \"1 in 1000 days\", \"0.1% a day\", \"0.5% a year\", \"1 in 200 years\". A yearly target is read as a daily one as if days were independent. The headline, the depletion curve, the sample path and `calibrate` use it.",
        "default": 0.01,
        "oneOf": [
            { "type": "number", "exclusiveMinimum": 0.0, "exclusiveMaximum": 1.0 },
            { "type": "string", "pattern": "^\\s*(1\\s+in\\s+[0-9.e+]+\\s+(days?|years?)|[0-9.e+-]+\\s*%\\s*((a|per)\\s+(day|year)|daily|yearly|annually)?)\\s*$" }
        ]
    })
}

/// A checked target: a daily probability in (0, 1), and how the file wrote it.
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    daily: f64,
    /// The file's value as TOML.
    written: String,
}

impl Default for Target {
    fn default() -> Self {
        Self::from_spec(&TargetSpec::default()).unwrap_or_else(|_| unreachable!("1% is a target"))
    }
}

/// What a number in the target's words stands for.
enum Per {
    Day,
    Year,
}

impl Target {
    /// Checks the file's target; the error is the rule broken, for `experiment.target`.
    pub fn from_spec(spec: &TargetSpec) -> Result<Self, String> {
        let (p, per, written) = match spec {
            TargetSpec::Daily(p) => (*p, Per::Day, format!("{p}")),
            TargetSpec::Words(w) => {
                let (p, per) = parse_words(w)?;
                (p, per, format!("\"{}\"", w.trim()))
            }
        };
        if !(p > 0.0 && p < 1.0) {
            return Err(format!(
                "must be a probability in (0, 1) (0.001 is 1 in 1000 days), got {written}"
            ));
        }
        let daily = match per {
            Per::Day => p,
            // 1 - (1 - y)^(1/365), computed without cancellation for small y.
            Per::Year => -((-p).ln_1p() / DAYS_A_YEAR).exp_m1(),
        };
        Ok(Self { daily, written })
    }

    /// A daily probability given directly (`calibrate --target`).
    pub fn daily(p: f64) -> Result<Self, String> {
        Self::from_spec(&TargetSpec::Daily(p))
    }

    /// The daily probability of depletion the study answers for.
    pub fn per_day(&self) -> f64 {
        self.daily
    }

    /// The same over a year of independent days, `1 - (1 - p)^365`.
    pub fn per_year(&self) -> f64 {
        over_a_year(self.daily)
    }

    /// The quantile of required capital the target reads: `1 - p`.
    pub fn level(&self) -> f64 {
        1.0 - self.daily
    }

    /// Runs a cell needs before its quantile at this target has a one-sided 95% upper
    /// bound: the largest run is such a bound once `P(all n runs fall below the quantile) =
    /// (1 - p)^n <= 0.05` (the binomial order-statistic bound of [`crate::stats`]); about
    /// 3,000 runs for 0.1% a day.
    pub fn runs_for_bound(&self) -> u64 {
        (0.05f64.ln() / (-self.daily).ln_1p()).ceil() as u64
    }

    /// `N` of "1 in N days", rounded, with thousands separators: `100`, `1,000`.
    pub fn one_in(&self) -> String {
        thousands((1.0 / self.daily).round())
    }

    /// How the file wrote it, as TOML (`"1 in 1000 days"`, `0.001`).
    pub fn as_toml(&self) -> &str {
        &self.written
    }

    /// A tag for file names: `p0.01`, `p0.001`, `p1.37e-5` (the daily probability, in its
    /// shortest form, or to three figures where that is long).
    pub fn file_tag(&self) -> String {
        let plain = format!("{}", self.daily);
        if plain.len() <= 8 {
            format!("p{plain}")
        } else {
            format!("p{:.2e}", self.daily)
        }
    }
}

impl fmt::Display for Target {
    /// `0.1% a day (1 in 1,000 days; 30.6% over a year of independent days)`.
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "{} a day (1 in {} days; {} over a year of independent days)",
            pct_short(self.daily),
            self.one_in(),
            pct_short(self.per_year())
        )
    }
}

/// What a daily probability `p` means over a 365-day year if days were independent,
/// `1 - (1 - p)^365` (worked out as `-expm1(365 ln(1 - p))`, exact for the small `p` of a
/// stake).
pub fn over_a_year(p: f64) -> f64 {
    -(DAYS_A_YEAR * (-p).ln_1p()).exp_m1()
}

/// A probability in percent without trailing zeros, to three significant figures: `1%`,
/// `0.1%`, `0.00137%`, `97.4%`.
pub fn pct_short(p: f64) -> String {
    let x = 100.0 * p;
    let decimals = if x >= 10.0 {
        1
    } else {
        (2 - x.log10().floor() as i32).clamp(0, 12) as usize
    };
    let s = format!("{x:.decimals$}");
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        &s
    };
    format!("{s}%")
}

/// `1000` -> `1,000`.
fn thousands(x: f64) -> String {
    let digits = format!("{x:.0}");
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `1 in N days`, `1 in N years`, `P%`, `P% a day`, `P% a year` (also `per day`, `daily`,
/// `yearly`, `annually`), case and spacing free.
fn parse_words(w: &str) -> Result<(f64, Per), String> {
    let bad = || {
        format!(
            "must be a daily probability (0.001) or words such as \"1 in 1000 days\", \"0.1% a day\", \"0.5% a year\" or \"1 in 200 years\", got \"{w}\""
        )
    };
    let lower = w.trim().to_ascii_lowercase();
    let words: Vec<&str> = lower.split_whitespace().collect();
    let per = |unit: &[&str]| -> Option<Per> {
        match unit {
            [] | ["a" | "per", "day"] | ["daily"] => Some(Per::Day),
            ["a" | "per", "year"] | ["yearly" | "annually"] => Some(Per::Year),
            _ => None,
        }
    };
    if let ["1", "in", n, unit] = words.as_slice() {
        let n: f64 = n.parse().map_err(|_| bad())?;
        let per = match *unit {
            "day" | "days" => Per::Day,
            "year" | "years" => Per::Year,
            _ => return Err(bad()),
        };
        if !(n > 1.0 && n.is_finite()) {
            return Err(format!("\"1 in N\" needs N > 1, got \"{w}\""));
        }
        return Ok((1.0 / n, per));
    }
    // `0.5%` may be one word or two (`0.5 %`).
    let joined = lower.replace(" %", "%");
    let words: Vec<&str> = joined.split_whitespace().collect();
    let (first, unit) = words.split_first().ok_or_else(bad)?;
    let pct = first.strip_suffix('%').ok_or_else(bad)?;
    let p: f64 = pct.parse().map_err(|_| bad())?;
    Ok((p / 100.0, per(unit).ok_or_else(bad)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(w: &str) -> Result<Target, String> {
        Target::from_spec(&TargetSpec::Words(w.into()))
    }

    #[test]
    fn every_way_of_writing_a_thousandth_a_day_agrees() {
        for w in [
            "1 in 1000 days",
            "0.1%",
            "0.1% a day",
            "0.1 % per day",
            " 0.1% DAILY ",
        ] {
            let t = words(w).unwrap();
            assert!((t.per_day() - 0.001).abs() < 1e-15, "{w}: {}", t.per_day());
        }
        assert_eq!(Target::daily(0.001).unwrap().per_day(), 0.001);
        assert_eq!(Target::daily(0.001).unwrap().file_tag(), "p0.001");
        assert_eq!(words("0.5% a year").unwrap().file_tag(), "p1.37e-5");
    }

    #[test]
    fn a_yearly_target_is_the_daily_one_that_compounds_to_it() {
        let t = words("0.5% a year").unwrap();
        assert!((t.per_year() - 0.005).abs() < 1e-15);
        // Solvency II's 99.5% over a year is about 1.4e-5 a day (issue 36).
        assert!((t.per_day() - 1.373e-5).abs() < 1e-8, "{}", t.per_day());
        let same = words("1 in 200 years").unwrap();
        assert!((same.per_day() - t.per_day()).abs() < 1e-18);
    }

    #[test]
    fn one_percent_a_day_is_nearly_certain_within_a_year() {
        let t = Target::default();
        assert_eq!(t.per_day(), 0.01);
        assert!((t.per_year() - 0.9745).abs() < 1e-4);
        assert_eq!(
            t.to_string(),
            "1% a day (1 in 100 days; 97.4% over a year of independent days)"
        );
    }

    #[test]
    fn the_runs_a_bound_needs_are_those_of_the_order_statistic_bound() {
        use crate::stats::upper_bound_rank;
        for p in [0.01, 0.001, 1e-4, 0.05] {
            let t = Target::daily(p).unwrap();
            let n = t.runs_for_bound();
            assert!(upper_bound_rank(n, t.level(), 0.95).is_some(), "{p}: {n}");
            assert!(
                upper_bound_rank(n - 1, t.level(), 0.95).is_none(),
                "{p}: {n}"
            );
        }
        // "about 3,000 for 0.1%"
        assert_eq!(Target::daily(0.001).unwrap().runs_for_bound(), 2995);
    }

    #[test]
    fn out_of_range_and_unreadable_targets_are_refused_with_the_rule() {
        for bad in [0.0, 1.0, -0.01, 1.5, f64::NAN] {
            let e = Target::daily(bad).unwrap_err();
            assert!(e.contains("(0, 1)"), "{e}");
        }
        for w in [
            "1 in 1 days",
            "1 in 1000 weeks",
            "one percent",
            "1% a fortnight",
            "%",
        ] {
            assert!(words(w).is_err(), "{w}");
        }
        assert!(words("150% a year").unwrap_err().contains("(0, 1)"));
    }

    #[test]
    fn shares_print_in_short_percent() {
        assert_eq!(pct_short(0.01), "1%");
        assert_eq!(pct_short(0.001), "0.1%");
        assert_eq!(pct_short(1.3731e-5), "0.00137%");
        assert_eq!(pct_short(0.97445), "97.4%");
        assert_eq!(thousands(72_800.0), "72,800");
    }
}
