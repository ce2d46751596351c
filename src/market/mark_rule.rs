//! The venue's mark rule: the price `M` that margin is checked against, kept apart from the
//! book `B = S exp(I)` where fills happen (MODEL.md section 2; `../shared/VENUES.md` gives
//! each venue's rule with its sources).
//!
//! Every rule reads the book only through its basis `ln(B / S) = I`, the impact this venue's
//! flow leaves behind, which decays toward 0 with the impact half-life between fills. Between
//! two steps' fills `I(t) = I_k exp(-lambda t)`, so an average over any window, shorter or
//! longer than a step, is taken exactly over that decay instead of being sampled once a step:
//! - an EMA with time constant `tau` (`dE/dt = (I - E) / tau`) moves over a step of `h` to
//!   `E exp(-h / tau) + I_k (exp(-lambda h) - exp(-h / tau)) / (1 - lambda tau)`
//!   (`I_k (h / tau) exp(-h / tau)` when `lambda tau = 1`);
//! - a funding interval's time-average adds `I_k (1 - exp(-lambda h)) / lambda` a step.

use crate::params::{ParamError, ParamResult, positive};

/// Which price the venue marks positions at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MarkKind {
    /// `M = B`: marked to the venue's own book (a stress case; R1's benchmark rule).
    Book,
    /// `M = S`: the oracle (dYdX v4, Drift, GMX).
    Index,
    /// `M = S exp(b)`, `b` the last funding interval's average basis, clamped (BitMEX and
    /// Bybit in 2020: fair price marking).
    Fair,
    /// `M = S exp(clamp(EMA(basis)))` (OKX; Deribit's capped mark).
    Ema,
    /// The median of the fair price, `S exp(EMA(basis))` and the book (Binance; Hyperliquid).
    Median,
}

impl MarkKind {
    pub const NAMES: [&'static str; 5] = ["book", "index", "fair", "ema", "median"];

    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "book" => MarkKind::Book,
            "index" => MarkKind::Index,
            "fair" => MarkKind::Fair,
            "ema" => MarkKind::Ema,
            "median" => MarkKind::Median,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            MarkKind::Book => "book",
            MarkKind::Index => "index",
            MarkKind::Fair => "fair",
            MarkKind::Ema => "ema",
            MarkKind::Median => "median",
        }
    }
}

/// A validated mark rule: its kind, the cap on the basis, the EMA's time constant and the
/// funding interval, each converted to the run's step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MarkRule {
    kind: MarkKind,
    /// `|b| <= cap` for the fair basis and the EMA rule's basis (log terms).
    cap: f64,
    /// `exp(-dt / tau)`: the EMA's weight kept per step.
    ema_keep: f64,
    /// `dt / tau`.
    steps_over_tau: f64,
    /// Steps in one funding interval.
    interval_steps: u64,
}

/// The longest window a rule may average over: a week (funding is 1 to 8 hours on every
/// venue we know; a longer window would average over a different market).
pub const MAX_WINDOW_SECONDS: f64 = 7.0 * 86_400.0;

impl MarkRule {
    /// `basis_cap` a fraction (0.00375 for BitMEX's 0.375%); `basis_seconds` the EMA's time
    /// constant; `funding_interval_hours` the fair basis's averaging interval; `dt_seconds` the
    /// run's step. Only the fields the kind reads are checked.
    pub fn new(
        kind: MarkKind,
        basis_cap: f64,
        basis_seconds: f64,
        funding_interval_hours: f64,
        dt_seconds: f64,
    ) -> ParamResult<Self> {
        let reads_cap = matches!(kind, MarkKind::Fair | MarkKind::Ema | MarkKind::Median);
        let reads_ema = matches!(kind, MarkKind::Ema | MarkKind::Median);
        let reads_interval = matches!(kind, MarkKind::Fair | MarkKind::Median);
        if reads_cap && !(basis_cap > 0.0 && basis_cap < 1.0) {
            return Err(ParamError::new(
                "basis_cap",
                format!("must be a fraction in (0, 1) (0.00375 for 0.375%), got {basis_cap}"),
            ));
        }
        if reads_ema {
            positive("basis_seconds", basis_seconds)?;
            if basis_seconds > MAX_WINDOW_SECONDS {
                return Err(ParamError::new(
                    "basis_seconds",
                    format!("must be at most a week ({MAX_WINDOW_SECONDS} s), got {basis_seconds}"),
                ));
            }
        }
        let interval_seconds = 3600.0 * funding_interval_hours;
        if reads_interval {
            positive("funding_interval_hours", funding_interval_hours)?;
            if interval_seconds > MAX_WINDOW_SECONDS {
                return Err(ParamError::new(
                    "funding_interval_hours",
                    format!("must be at most a week, got {funding_interval_hours} h"),
                ));
            }
        }
        let steps_over_tau = if reads_ema {
            dt_seconds / basis_seconds
        } else {
            0.0
        };
        Ok(Self {
            kind,
            cap: if reads_cap {
                basis_cap.ln_1p()
            } else {
                f64::INFINITY
            },
            ema_keep: (-steps_over_tau).exp(),
            steps_over_tau,
            // An interval shorter than a step averages over the step.
            interval_steps: if reads_interval {
                (interval_seconds / dt_seconds).round().max(1.0) as u64
            } else {
                0
            },
        })
    }

    /// The book rule (R1's and every golden file's).
    pub fn book() -> Self {
        Self {
            kind: MarkKind::Book,
            cap: f64::INFINITY,
            ema_keep: 1.0,
            steps_over_tau: 0.0,
            interval_steps: 0,
        }
    }

    pub fn kind(&self) -> MarkKind {
        self.kind
    }

    /// Whether the mark needs the basis averages updated each step.
    pub fn averages(&self) -> bool {
        matches!(self.kind, MarkKind::Fair | MarkKind::Ema | MarkKind::Median)
    }
}

/// The running averages of the book's basis a rule reads, with the per-step weights worked
/// out once (the basis decays by the same factor every step) and the price factors the mark
/// multiplies the index by kept up to date once a step, so that re-reading the mark after a
/// fill costs multiplications only.
#[derive(Clone, Debug, PartialEq)]
pub struct BasisAverages {
    /// The EMA of `ln(B / S)`.
    pub ema: f64,
    /// The fair basis in force: the last completed funding interval's average, clamped.
    pub fair: f64,
    /// `integral of I dt` over the interval so far, in steps.
    interval_integral: f64,
    /// Steps of the interval so far.
    interval_elapsed: u64,
    /// The EMA's weight on the step's starting basis (market/mark_rule.rs's closed form).
    ema_gain: f64,
    /// The step's time-average of `I` over its starting value: `(1 - exp(-lambda dt)) /
    /// (lambda dt)`.
    step_mean: f64,
    /// `exp(fair)`, `exp(ema)` and `exp(clamp(ema, cap))`.
    fair_factor: f64,
    ema_factor: f64,
    capped_ema_factor: f64,
}

impl BasisAverages {
    /// Fresh averages (no basis yet) for `rule`, the basis decaying by `decay = exp(-lambda
    /// dt)` a step.
    pub fn new(rule: &MarkRule, decay: f64) -> Self {
        let lambda_dt = -decay.ln();
        Self {
            ema: 0.0,
            fair: 0.0,
            interval_integral: 0.0,
            interval_elapsed: 0,
            ema_gain: ema_gain(lambda_dt, rule.steps_over_tau, decay, rule.ema_keep),
            step_mean: if lambda_dt > 0.0 {
                (1.0 - decay) / lambda_dt
            } else {
                1.0
            },
            fair_factor: 1.0,
            ema_factor: 1.0,
            capped_ema_factor: 1.0,
        }
    }

    /// Moves the averages over one step whose basis starts at `impact` (after the step's
    /// fills) and decays over the step.
    pub fn advance(&mut self, rule: &MarkRule, impact: f64) {
        if matches!(rule.kind, MarkKind::Ema | MarkKind::Median) {
            self.ema = rule.ema_keep * self.ema + impact * self.ema_gain;
            self.ema_factor = self.ema.exp();
            self.capped_ema_factor = self.ema.clamp(-rule.cap, rule.cap).exp();
        }
        if matches!(rule.kind, MarkKind::Fair | MarkKind::Median) {
            self.interval_integral += impact * self.step_mean;
            self.interval_elapsed += 1;
            if self.interval_elapsed >= rule.interval_steps {
                let average = self.interval_integral / self.interval_elapsed as f64;
                self.fair = average.clamp(-rule.cap, rule.cap);
                self.fair_factor = self.fair.exp();
                self.interval_integral = 0.0;
                self.interval_elapsed = 0;
            }
        }
    }

    /// The mark the rule gives at index `index` and book `book` (`book = index exp(impact)`).
    #[inline]
    pub fn mark(&self, rule: &MarkRule, index: f64, book: f64) -> f64 {
        match rule.kind {
            MarkKind::Book => book,
            MarkKind::Index => index,
            MarkKind::Fair => index * self.fair_factor,
            MarkKind::Ema => index * self.capped_ema_factor,
            MarkKind::Median => median3(index * self.fair_factor, index * self.ema_factor, book),
        }
    }
}

/// The weight of the step's starting basis in the EMA after the step, for a basis decaying
/// at `lambda` (`lambda_dt = lambda dt`) under an EMA of `dt / tau = s`:
/// `(exp(-lambda dt) - exp(-s)) / (1 - lambda tau)`.
fn ema_gain(lambda_dt: f64, s: f64, decay: f64, keep: f64) -> f64 {
    let lambda_tau = lambda_dt / s;
    let denominator = 1.0 - lambda_tau;
    if denominator.abs() < 1e-9 {
        // The limit at lambda tau = 1: (dt / tau) exp(-dt / tau).
        s * keep
    } else {
        (decay - keep) / denominator
    }
}

fn median3(a: f64, b: f64, c: f64) -> f64 {
    a.max(b).min(a.min(b).max(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The exact EMA of `I0 exp(-lambda t)` from 0: `I0 (exp(-lambda t) - exp(-t / tau)) /
    /// (1 - lambda tau)`.
    fn exact_ema(i0: f64, lambda: f64, tau: f64, t: f64) -> f64 {
        i0 * ((-lambda * t).exp() - (-t / tau).exp()) / (1.0 - lambda * tau)
    }

    /// A dislocation shorter than the window (an impact that decays in 30 s, under a 150 s
    /// EMA, stepped every 60 s) moves the EMA by exactly the continuous average.
    #[test]
    fn a_short_dislocation_moves_the_ema_by_the_exact_average() {
        let dt = 60.0;
        let half_life = 30.0;
        let lambda = std::f64::consts::LN_2 / half_life;
        let decay = (-lambda * dt).exp();
        let rule = MarkRule::new(MarkKind::Ema, 0.5, 150.0, 8.0, dt).unwrap();
        let mut avg = BasisAverages::new(&rule, decay);
        let mut impact: f64 = -0.05;
        for k in 1..=5 {
            avg.advance(&rule, impact);
            impact *= decay;
            let exact = exact_ema(-0.05, lambda, 150.0, k as f64 * dt);
            assert!((avg.ema - exact).abs() < 1e-12, "{k}: {} {exact}", avg.ema);
        }
        // The mark moved far less than the book did.
        let m = avg.mark(&rule, 100.0, 100.0 * impact.exp());
        assert!(m > 100.0 * (-0.05f64).exp());
    }

    /// The limit lambda tau = 1 is the exact `I0 (t / tau) exp(-t / tau)`.
    #[test]
    fn the_ema_is_exact_where_decay_and_window_coincide() {
        let dt: f64 = 10.0;
        let tau = 40.0;
        let decay = (-dt / tau).exp();
        let rule = MarkRule::new(MarkKind::Ema, 0.5, tau, 8.0, dt).unwrap();
        let mut avg = BasisAverages::new(&rule, decay);
        let mut impact: f64 = 0.02;
        for k in 1..=8 {
            avg.advance(&rule, impact);
            impact *= decay;
            let t = k as f64 * dt;
            let exact = 0.02 * (t / tau) * (-t / tau).exp();
            assert!((avg.ema - exact).abs() < 1e-12);
        }
    }

    /// A sustained dislocation (the book held at a basis, no decay) brings the EMA to it with
    /// the window's time constant: `1 - exp(-t / tau)` of the way after `t`.
    #[test]
    fn a_sustained_dislocation_reaches_the_mark_with_the_time_constant() {
        let rule = MarkRule::new(MarkKind::Ema, 0.5, 300.0, 8.0, 60.0).unwrap();
        let mut avg = BasisAverages::new(&rule, 1.0);
        for _ in 0..5 {
            avg.advance(&rule, -0.1);
        }
        assert!((avg.ema / -0.1 - (1.0 - (-1.0f64).exp())).abs() < 1e-12);
    }

    /// The fair basis is the last completed interval's average, clamped, and stays put
    /// within the interval.
    #[test]
    fn the_fair_basis_is_the_last_interval_average_clamped() {
        let rule = MarkRule::new(MarkKind::Fair, 0.00375, 60.0, 1.0, 60.0).unwrap();
        let mut avg = BasisAverages::new(&rule, 1.0);
        for _ in 0..59 {
            avg.advance(&rule, 0.001);
        }
        assert_eq!(avg.fair, 0.0);
        avg.advance(&rule, 0.001);
        assert!((avg.fair - 0.001).abs() < 1e-15);
        for _ in 0..60 {
            avg.advance(&rule, -0.05);
        }
        assert!((avg.fair + 1.00375f64.ln()).abs() < 1e-15);
        assert!((avg.mark(&rule, 100.0, 1.0) - 100.0 / 1.00375).abs() < 1e-12);
    }

    #[test]
    fn book_and_index_read_their_price_and_median_the_middle_one() {
        let median = MarkRule::new(MarkKind::Median, 0.01, 60.0, 8.0, 60.0).unwrap();
        let avg = BasisAverages {
            ema: 0.01,
            fair: -0.01,
            ema_factor: 0.01f64.exp(),
            capped_ema_factor: 0.01f64.exp(),
            fair_factor: (-0.01f64).exp(),
            ..BasisAverages::new(&median, 1.0)
        };
        let book = MarkRule::book();
        assert_eq!(avg.mark(&book, 100.0, 90.0), 90.0);
        let index = MarkRule::new(MarkKind::Index, 0.0, 0.0, 0.0, 60.0).unwrap();
        assert_eq!(avg.mark(&index, 100.0, 90.0), 100.0);
        assert_eq!(avg.mark(&median, 100.0, 90.0), 100.0 * (-0.01f64).exp());
        assert_eq!(avg.mark(&median, 100.0, 100.5), 100.5);
    }

    #[test]
    fn bad_parameters_are_refused_by_field() {
        let e = MarkRule::new(MarkKind::Fair, 0.375, 0.0, 8.0, 60.0);
        assert!(e.is_ok());
        let e = MarkRule::new(MarkKind::Fair, 1.5, 0.0, 8.0, 60.0).unwrap_err();
        assert!(e.to_string().contains("basis_cap"), "{e}");
        let e = MarkRule::new(MarkKind::Ema, 0.01, -1.0, 8.0, 60.0).unwrap_err();
        assert!(e.to_string().contains("basis_seconds"), "{e}");
        let e = MarkRule::new(MarkKind::Median, 0.01, 60.0, 200.0, 60.0).unwrap_err();
        assert!(e.to_string().contains("funding_interval_hours"), "{e}");
        // A year's step (a fit's snippet may ask for it) averages over the step.
        assert!(MarkRule::new(MarkKind::Median, 0.01, 60.0, 8.0, 31_536_000.0).is_ok());
        assert!(MarkRule::new(MarkKind::Index, f64::NAN, f64::NAN, f64::NAN, 60.0).is_ok());
    }
}
