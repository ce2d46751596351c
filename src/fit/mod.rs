//! Fitting price models to historical returns (`backstop fit`): GARCH(1,1)-t by maximum
//! likelihood and Merton jump-diffusion by the method of cumulants, each with standard errors,
//! converted to an experiment's step and written as a `[market.model]` snippet.
//!
//! Like the simulator, a fit only computes: reading the CSV and writing the snippet are the
//! CLI's business.

mod block;
mod garch;
mod merton;
mod optimize;
mod pit;

use std::fmt::Write as _;

pub use block::{BlockChoice, mean_block_length};
pub use garch::{
    Aggregated, Conversion, GarchAtStep, GarchTFit, INTEGRATED, LongRunVariance, aggregate,
    disaggregate, fit_garch_t, log_likelihood, nelson_scaling, t_kurtosis,
};
pub use merton::{MertonFit, MertonPoint, fit_merton, solve_cumulants};
pub use optimize::{Minimum, covariance, hessian, nelder_mead};
pub use pit::{PitTest, garch_pit_values, kolmogorov_q, pit_test};

/// A point estimate with its standard error (`None` when it could not be computed, e.g. a
/// singular Hessian at a boundary).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    pub value: f64,
    pub se: Option<f64>,
}

/// Why a fit failed: the option or input at fault, and what was expected.
#[derive(Clone, Debug, PartialEq)]
pub struct FitError {
    pub field: String,
    pub rule: String,
}

impl FitError {
    pub fn new(field: impl Into<String>, rule: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            rule: rule.into(),
        }
    }
}

impl std::fmt::Display for FitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.rule)
    }
}

impl std::error::Error for FitError {}

/// What the fitted data were, for the report and the snippet's header.
#[derive(Clone, Debug, PartialEq)]
pub struct DataDescription {
    pub file: String,
    pub column: String,
    pub first: String,
    pub last: String,
}

fn se_text(e: &Estimate, digits: usize) -> String {
    match e.se {
        Some(s) => format!("{s:.digits$e}"),
        None => "n/a".to_string(),
    }
}

fn row(out: &mut String, name: &str, e: &Estimate, unit: &str) {
    let _ = writeln!(
        out,
        "  {name:<16} {:>14.6e} {:>12}   {unit}",
        e.value,
        se_text(e, 2)
    );
}

fn pct(x: f64) -> String {
    format!("{:.1}%", 100.0 * x)
}

/// A GARCH fit in words and numbers, for the terminal.
pub fn garch_report(fit: &GarchTFit, data: &DataDescription) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "GARCH(1,1) with Student-t shocks, fitted by maximum likelihood{}\n\
         data: {} ({}), {} to {} UTC, {} log returns every {} s",
        match fit.long_run {
            LongRunVariance::Free => "",
            LongRunVariance::Targeted => " with variance targeting",
        },
        data.file,
        data.column,
        data.first,
        data.last,
        fit.observations,
        fit.step_seconds
    );
    let _ = writeln!(
        out,
        "\n  {:<16} {:>14} {:>12}",
        "parameter", "estimate", "std. error"
    );
    row(&mut out, "mu", &fit.mu, "mean log return per step");
    row(&mut out, "omega", &fit.omega, "per step");
    row(&mut out, "alpha", &fit.alpha, "");
    row(&mut out, "beta", &fit.beta, "");
    row(&mut out, "nu", &fit.nu, "degrees of freedom of the shocks");
    let _ = writeln!(
        out,
        "\n  log-likelihood             {:.2}{}",
        fit.log_likelihood,
        if fit.converged {
            ""
        } else {
            "  (the optimizer stopped on its budget: treat with care)"
        }
    );
    if fit.is_integrated() {
        let _ = writeln!(
            out,
            "  persistence alpha + beta   {:.7}   integrated: the likelihood rises all the way to\n\
             \x20                                        alpha + beta = 1, so there is no long-run vol",
            fit.persistence()
        );
    } else {
        let _ = writeln!(
            out,
            "  persistence alpha + beta   {:.5}   (a variance shock halves in {:.1} hours)",
            fit.persistence(),
            fit.variance_half_life_seconds() / 3_600.0
        );
        let _ = writeln!(
            out,
            "  long-run annualized vol    {}   (sample: {}{})",
            pct(fit.long_run_annual_vol()),
            pct(fit.sample_annual_vol()),
            match fit.long_run {
                LongRunVariance::Free => "",
                LongRunVariance::Targeted => ", targeted",
            }
        );
    }
    let _ = writeln!(
        out,
        "  shock kurtosis             {}",
        match garch::t_kurtosis(fit.nu.value) {
            k if k.is_finite() => format!("{k:.2}"),
            _ => "infinite (nu <= 4)".to_string(),
        }
    );
    out
}

/// A Merton fit in words and numbers, for the terminal.
pub fn merton_report(fit: &MertonFit, data: &DataDescription) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Merton jump-diffusion, fitted by the method of cumulants (1 to 4 and 6)\n\
         data: {} ({}), {} to {} UTC, {} log returns every {} s",
        data.file, data.column, data.first, data.last, fit.observations, fit.step_seconds
    );
    let _ = writeln!(
        out,
        "\n  {:<16} {:>14} {:>12}",
        "parameter", "estimate", "std. error"
    );
    row(&mut out, "vol", &fit.vol, "annualized diffusion vol");
    row(
        &mut out,
        "jump_intensity",
        &fit.jump_intensity,
        "jumps per year",
    );
    row(&mut out, "jump_mean", &fit.jump_mean, "mean log jump");
    row(&mut out, "jump_sd", &fit.jump_sd, "sd of log jumps");
    row(&mut out, "drift", &fit.drift, "annualized");
    let _ = writeln!(
        out,
        "\n  standard errors: stationary bootstrap, {} resamples, mean block {} steps{}",
        fit.replicates,
        fit.mean_block,
        if fit.failed_replicates > 0 {
            format!(
                " ({} resamples admitted no Merton law and were left out)",
                fit.failed_replicates
            )
        } else {
            String::new()
        }
    );
    let _ = writeln!(
        out,
        "  sample skewness {:.3}, excess kurtosis {:.2} per step",
        fit.skewness, fit.excess_kurtosis
    );
    out
}

fn header(out: &mut String, title: &str, data: &DataDescription, n: usize, step: f64) {
    let _ = writeln!(out, "# {title}");
    let _ = writeln!(
        out,
        "# data: {} ({}), {} to {} UTC, {n} log returns every {step} s",
        data.file, data.column, data.first, data.last
    );
}

/// The `[market.model]` snippet for a GARCH fit converted to `at.dt_seconds`.
pub fn garch_snippet(fit: &GarchTFit, at: &GarchAtStep, data: &DataDescription) -> String {
    let mut out = String::new();
    header(
        &mut out,
        "GARCH(1,1)-t fitted by `backstop fit` (maximum likelihood)",
        data,
        fit.observations,
        fit.step_seconds,
    );
    if fit.long_run == LongRunVariance::Targeted {
        let _ = writeln!(
            out,
            "# variance targeting: the long-run vol is the sample's (the free fit is integrated)"
        );
    }
    if at.conversion != Conversion::None {
        let _ = writeln!(
            out,
            "# converted from {} s to {} s steps, same long-run vol, by {}\n\
             # fitted at the data's step: alpha {:.6}, beta {:.6}",
            fit.step_seconds,
            at.dt_seconds,
            at.conversion.describe(),
            fit.alpha.value,
            fit.beta.value
        );
    }
    let _ = writeln!(
        out,
        "# valid for experiment.dt_seconds = {}\n\
         # fitted drift {:.3} a year (se {}) is left out: no drift unless configured (MODEL.md 0)",
        at.dt_seconds,
        at.drift,
        fit.mu
            .se
            .map(|s| format!(
                "{:.3}",
                s * crate::market::SECONDS_PER_YEAR / fit.step_seconds
            ))
            .unwrap_or_else(|| "n/a".into())
    );
    let _ = writeln!(
        out,
        "[market.model]\nkind = \"garch\"\nlong_run_vol = {}\nalpha = {}\nbeta = {}\n\
         shocks = {{ kind = \"student_t\", nu = {} }}\nfit_dt_seconds = {:?}",
        round_sig(at.long_run_vol),
        round_sig(at.alpha),
        round_sig(at.beta),
        round_sig(at.nu),
        at.dt_seconds
    );
    out
}

/// The `[market.model]` snippet for a Merton fit (its parameters are per year, so they hold
/// at any step).
pub fn merton_snippet(fit: &MertonFit, data: &DataDescription) -> String {
    let mut out = String::new();
    header(
        &mut out,
        "Merton jump-diffusion fitted by `backstop fit` (method of cumulants)",
        data,
        fit.observations,
        fit.step_seconds,
    );
    let _ = writeln!(
        out,
        "# annualized, so valid at any experiment.dt_seconds\n\
         # fitted drift {:.3} a year (se {}) is left out: no drift unless configured (MODEL.md 0)",
        fit.drift.value,
        fit.drift
            .se
            .map(|s| format!("{s:.3}"))
            .unwrap_or_else(|| "n/a".into())
    );
    let _ = writeln!(
        out,
        "[market.model]\nkind = \"merton\"\nvol = {}\njump_intensity = {}\njump_mean = {}\njump_sd = {}",
        round_sig(fit.vol.value),
        round_sig(fit.jump_intensity.value),
        round_sig(fit.jump_mean.value),
        round_sig(fit.jump_sd.value)
    );
    out
}

/// Eight significant digits: enough to reproduce the fit, short enough to read.
fn round_sig(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    let digits = 8 - 1 - x.abs().log10().floor() as i32;
    let factor = 10f64.powi(digits.clamp(-300, 300));
    let v = (x * factor).round() / factor;
    format!("{v}")
}

/// The held-back check of a GARCH fit, for the terminal.
pub fn pit_report(t: &PitTest, fitted: usize, fit: &GarchTFit) -> String {
    let mut out = String::new();
    let tail = |count: u64| {
        let (lo, hi) = t.tail_interval(count);
        format!(
            "{count} ({}, 95% CI {} to {}; 1% expected)",
            pct(count as f64 / t.observations as f64),
            pct(lo),
            pct(hi)
        )
    };
    let _ = writeln!(
        out,
        "\nCheck on held-back data (probability integral transform, Diebold, Gunther and Tay 1998):\n\
         refitted on the first {fitted} returns (alpha {:.4}, beta {:.4}, nu {:.2}), each of the last {}\n\
         sent through its one-step predictive CDF; uniform if the model is right.\n\
         \x20 Kolmogorov-Smirnov distance {:.4}, p-value {}{}\n\
         \x20 under the 1% quantile: {}\n\
         \x20 over the 99% quantile: {}",
        fit.alpha.value,
        fit.beta.value,
        fit.nu.value,
        t.observations,
        t.ks_distance,
        if t.p_value < 1e-3 {
            format!("{:.1e}", t.p_value)
        } else {
            format!("{:.3}", t.p_value)
        },
        if t.p_value < 0.05 {
            " (the model is refused at 5%)"
        } else {
            " (not refused at 5%)"
        },
        tail(t.below_1pct),
        tail(t.above_99pct)
    );
    out
}

/// Where the bars of a bootstrap come from, for its snippet.
#[derive(Clone, Debug, PartialEq)]
pub struct BarSource {
    /// The data file, absolute.
    pub path: String,
    pub price_column: String,
    pub time_column: String,
    pub step_seconds: f64,
}

/// A block-length choice in words, for the terminal.
pub fn bootstrap_report(b: &BlockChoice, data: &DataDescription, step: f64) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Stationary block bootstrap of {} ({}), {} to {} UTC: {} bars of {step} s.\n\
         Politis-White (2004, corrected 2009) on absolute returns: autocorrelation significant\n\
         over {} lags; mean block length {:.1} bars ({:.1} hours). On the signed returns the\n\
         rule gives {:.1} bars: what blocks keep here is volatility clustering, not direction.",
        data.file,
        data.column,
        data.first,
        data.last,
        b.observations,
        b.significant_lags,
        b.mean_block,
        b.mean_block * step / 3600.0,
        b.of_signed_returns
    );
    out
}

/// The `[market.model]` snippet of a block bootstrap of the data's bars: with bridges
/// through each drawn bar when the experiment's step is finer than the bars.
pub fn bootstrap_snippet(
    b: &BlockChoice,
    data: &DataDescription,
    source: &BarSource,
    dt_seconds: f64,
) -> String {
    let mut out = String::new();
    header(
        &mut out,
        "Stationary block bootstrap fitted by `backstop fit` (Politis-White mean block)",
        data,
        b.observations,
        source.step_seconds,
    );
    let bridge = dt_seconds < source.step_seconds;
    let _ = writeln!(
        out,
        "# valid for experiment.dt_seconds = {dt_seconds}{}\n\
         # the path is absolute: name the file relative to your experiment to share it\n\
         [market.model]\nkind = \"bootstrap\"\npath = {:?}\nprice_column = {:?}\ntime_column = {:?}\n\
         start = {:?}\nend = {:?}\nmean_block = {}{}",
        if bridge {
            " (bridges through each bar)"
        } else {
            ""
        },
        source.path,
        source.price_column,
        source.time_column,
        data.first,
        data.last,
        round_sig(b.mean_block.max(1.0)),
        if bridge {
            "\nintrabar = \"bridge\""
        } else {
            ""
        }
    );
    out
}
