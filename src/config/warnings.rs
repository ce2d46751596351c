//! Values that are legal but unlikely (issue 34, item 4): a percent typed where a fraction
//! is meant, a leverage the margin caps. They are warned about by name and value, never
//! refused: a 50% penalty or a 600% volatility may be what the user means.

use super::Experiment;
use super::grid::AxisValue;

/// A value worth a second look: the field's dotted path, and why.
#[derive(Clone, Debug, PartialEq)]
pub struct Warning {
    pub field: String,
    pub message: String,
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "`{}` {}", self.field, self.message)
    }
}

/// A share written where a percent may have been meant: the field's last key, the range of
/// unlikely values (above the first, below the second), and how a fraction reads. An oracle
/// deviation of 1 or more is the idiom for a feed that writes on its heartbeat alone (Maker's
/// OSM in `lending-auction.toml`), not a slip.
const VOL: &str = "an annualized volatility as a fraction: 0.8 is 80%";
const SHARES: [(&str, f64, f64, &str); 6] = [
    (
        "penalty_rate",
        0.2,
        f64::INFINITY,
        "a share of notional: 0.01 is 1%",
    ),
    ("deviation", 0.1, 1.0, "a share of the price: 0.005 is 0.5%"),
    ("vol", 5.0, f64::INFINITY, VOL),
    ("long_run_vol", 5.0, f64::INFINITY, VOL),
    ("reference_vol", 5.0, f64::INFINITY, VOL),
    (
        "fee_rate",
        0.05,
        f64::INFINITY,
        "a share of notional: 0.0005 is 0.05%",
    ),
];

impl Experiment {
    /// Every legal but unlikely value of the file and its grid, in file order.
    pub fn warnings(&self) -> Vec<Warning> {
        let mut out = Vec::new();
        // No warning reads the correlation matrix, which for thousands of markets is
        // millions of numbers: leave it out of the walk (and out of its encoding).
        let mut walked = self.resolved.clone();
        if let Some(c) = walked.correlation.as_mut() {
            c.matrix = Vec::new();
        }
        if let Ok(file) = toml::Value::try_from(&walked) {
            let dt = file
                .get("experiment")
                .and_then(|e| e.get("dt_seconds"))
                .and_then(toml::Value::as_float);
            // Numbers only: an array (margin tiers) is one leaf, not walked.
            super::read::for_each_leaf("", &file, &mut |field, leaf| {
                let v = match leaf {
                    toml::Value::Float(x) => *x,
                    toml::Value::Integer(i) => *i as f64,
                    _ => return,
                };
                share(field, v, &mut out);
                out.extend(dt.and_then(|dt| fitted_elsewhere(field, v, dt)));
            });
        }
        for axis in &self.axes {
            for v in &axis.values {
                let v = match v {
                    AxisValue::Float(x) => *x,
                    AxisValue::Integer(i) => *i as f64,
                    _ => continue,
                };
                share(&format!("grid.\"{}\"", axis.path), v, &mut out);
            }
        }
        out.extend(capped_leverage(self));
        out.dedup();
        out
    }
}

fn share(field: &str, v: f64, out: &mut Vec<Warning>) {
    let key = field
        .trim_end_matches('"')
        .rsplit(['.', '"'])
        .next()
        .unwrap_or(field);
    if let Some((_, most, idiom, reads)) = SHARES.iter().find(|(k, ..)| *k == key)
        && v > *most
        && v < *idiom
    {
        out.push(Warning {
            field: field.to_string(),
            message: format!("is {v}: {reads}; was a percent typed?"),
        });
    }
}

/// GARCH's `alpha` and `beta` are per step: fitted for one step and run at another they are
/// another model (an hourly fit's half-life of a shock, run at 60 s, lasts a sixtieth as
/// long). `fit_dt_seconds`, which `backstop fit` writes, says which step they are for.
fn fitted_elsewhere(field: &str, fitted: f64, dt: f64) -> Option<Warning> {
    let model = field.strip_suffix(".fit_dt_seconds")?;
    (fitted != dt).then(|| Warning {
        field: field.to_string(),
        message: format!(
            "is {fitted} but experiment.dt_seconds is {dt}: `{model}.alpha` and `beta` are per \
             step, so at this step they are another model; refit with `backstop fit --dt {dt}`"
        ),
    })
}

/// A leverage above `1 / margin.imr` opens at `1 / imr`: a fixed leverage, or the upper end
/// of a uniform one, past it is capped without a word unless said here.
fn capped_leverage(exp: &Experiment) -> Option<Warning> {
    let file = toml::Value::try_from(&exp.resolved).ok()?;
    let imr = file.get("margin")?.get("imr")?.as_float()?;
    let leverage = file.get("traders")?.get("leverage")?;
    let own = match leverage {
        toml::Value::Float(x) => *x,
        toml::Value::Integer(i) => *i as f64,
        toml::Value::Table(t) => t.get("max")?.as_float()?,
        _ => return None,
    };
    // A grid on the leverage's top reaches its largest value.
    let top = exp
        .axes
        .iter()
        .filter(|a| a.path == "traders.leverage.max" || a.path == "traders.leverage")
        .flat_map(|a| &a.values)
        .filter_map(|v| match v {
            AxisValue::Float(x) => Some(*x),
            AxisValue::Integer(i) => Some(*i as f64),
            _ => None,
        })
        .fold(own, f64::max);
    (top * imr > 1.0 + 1e-12).then(|| Warning {
        field: "traders.leverage".into(),
        message: format!(
            "reaches {top}x, above 1 / margin.imr = {}x: positions open at most at {}x",
            1.0 / imr,
            1.0 / imr
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Overrides;
    use std::path::Path;

    fn warnings(text: &str) -> Vec<String> {
        Experiment::parse(text, Path::new("w.toml"), Overrides::default())
            .unwrap()
            .warnings()
            .iter()
            .map(Warning::to_string)
            .collect()
    }

    #[test]
    fn percents_typed_for_fractions_are_named_with_their_value() {
        assert!(warnings("[experiment]\nseeds = 1\n").is_empty());
        let w = warnings(
            "[experiment]\nseeds = 1\n[grid]\n\"liquidation.penalty_rate\" = [0.5, 0.3, 0.01]\n",
        );
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(
            w[0].starts_with("`grid.\"liquidation.penalty_rate\"` is 0.5: a share of notional")
        );
        let w = warnings("[experiment]\nseeds = 1\n[market.model]\nkind = \"gbm\"\nvol = 80.0\n");
        assert_eq!(
            w,
            vec![
                "`market.model.vol` is 80: an annualized volatility as a fraction: 0.8 is 80%; was a percent typed?"
            ]
        );
    }

    #[test]
    fn a_garch_fitted_for_another_step_is_named() {
        let garch = |fit: f64| {
            format!(
                "[experiment]\nseeds = 1\ndt_seconds = 60.0\n[market.model]\nkind = \"garch\"\n\
                 long_run_vol = 0.8\nalpha = 0.05\nbeta = 0.9\nfit_dt_seconds = {fit:?}\n"
            )
        };
        assert!(warnings(&garch(60.0)).is_empty());
        assert_eq!(
            warnings(&garch(3600.0)),
            vec![
                "`market.model.fit_dt_seconds` is 3600 but experiment.dt_seconds is 60: `market.model.alpha` and `beta` are per step, so at this step they are another model; refit with `backstop fit --dt 60`"
            ]
        );
        let refused = Experiment::parse(&garch(0.0), Path::new("w.toml"), Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(refused.contains("market.model.fit_dt_seconds"), "{refused}");
    }
}
