//! The market: the exogenous index (volatility models) and the venue's mark with its book.
//!
//! * [`PriceModel`] is the seam for volatility models (MODEL.md section 1): each step it draws
//!   the log return of the index from the market stream. One file per model, each with a
//!   validating constructor, as in `rand_distr`.
//! * [`ImpactModel`] is the seam for liquidity (section 2): what a forced fill costs and how far
//!   it pushes the mark.
//! * [`MarkState`] keeps index and impact and turns forced orders into fill prices.

mod book;
mod bootstrap;
mod correlated;
pub mod data;
mod garch;
mod gbm;
mod heston;
mod horizon;
pub mod intrabar;
mod mark;
mod mark_rule;
mod merton;
mod regime;
mod replay;
mod shocks;
mod student_t;
mod venues;

pub use book::{Fill, ImpactModel, LinearBook, MAX_BOOK_USD, MIN_BOOK_USD, NoImpact, SqrtImpact};
pub use bootstrap::{Bootstrap, BootstrapParams};
pub use correlated::{CommonCrash, CommonStreams, CorrelatedShocks};
pub use garch::{Garch, GarchParams};
pub use gbm::{Gbm, GbmParams};
pub use heston::{Heston, HestonParams};
pub use horizon::Horizon;
pub use mark::{DepthWithdrawal, FlowWithdrawal, MAX_S0, MIN_S0, MarkState, PlannedOrder, Side};
pub use mark_rule::{BasisAverages, MarkKind, MarkRule};
pub use merton::{Merton, MertonParams, compensator as merton_compensator};
pub use regime::{RegimeParams, RegimeSwitching};
pub use replay::{Replay, ReplayHistory, ReplayParams};
pub use shocks::Shocks;
pub use student_t::StudentT;
pub use venues::{MAX_OTHER_VENUES_MULTIPLIER, OtherVenues};

use rand::Rng;

/// How far (as a factor, either way) an index or mark may move from where it started before
/// a run stops as an error, and the farthest a model's drift may carry the index over the
/// horizon for validation to accept it. BTC's worst day was about -40%; LUNA fell by a factor
/// of about 1e5 over a week. A factor of 1e8 is beyond any market: a path that gets there is
/// the parameters' doing (a drift or jump size typed in percent, a runaway feedback), and its
/// figures would be silently wrong (nothing is liquidatable at a price of 0).
pub const SANE_PRICE_FACTOR: f64 = 1e8;

/// Seconds in the 365-day year used to annualize (crypto trades every day).
pub const SECONDS_PER_YEAR: f64 = 365.0 * 86_400.0;

/// A volatility model of the index: a state machine that yields one log return per step.
///
/// Implementations keep only what the next step needs (no path) and allocate nothing per step.
/// The generator is passed in, as in `rand_distr`: a model works with any [`Rng`].
pub trait PriceModel {
    /// Log return of the index over the next step, drawn from `rng`.
    fn next_log_return<R: Rng + ?Sized>(&mut self, rng: &mut R) -> f64;

    /// Log return of the next step driven by `shock`: a unit-variance draw of the model's own
    /// [`ShockLaw`], supplied from outside so that several markets' shocks can be correlated
    /// (MODEL.md section 1). Whatever else the step needs (jumps, regime moves, the variance
    /// shock) still comes from `rng`. Models without a shock law (replay, bootstrap) ignore
    /// `shock`; validation keeps them out of correlated setups.
    fn next_log_return_driven<R: Rng + ?Sized>(&mut self, shock: f64, rng: &mut R) -> f64;
}

/// A running index model of any kind: the closed set of MODEL.md section 1, dispatched by a
/// `match` so that the step loop pays no virtual call.
#[derive(Clone, Debug)]
pub enum PriceModelState {
    Gbm(Gbm),
    Garch(Garch),
    Merton(Merton),
    Heston(Heston),
    RegimeSwitching(RegimeSwitching),
    Replay(Replay),
    Bootstrap(Bootstrap),
}

/// Calls `$body` with `$m` bound to the model inside any variant.
macro_rules! each_model {
    ($state:expr, $m:ident => $body:expr) => {
        match $state {
            PriceModelState::Gbm($m) => $body,
            PriceModelState::Garch($m) => $body,
            PriceModelState::Merton($m) => $body,
            PriceModelState::Heston($m) => $body,
            PriceModelState::RegimeSwitching($m) => $body,
            PriceModelState::Replay($m) => $body,
            PriceModelState::Bootstrap($m) => $body,
        }
    };
}

impl PriceModel for PriceModelState {
    #[inline]
    fn next_log_return<R: Rng + ?Sized>(&mut self, rng: &mut R) -> f64 {
        each_model!(self, m => m.next_log_return(rng))
    }

    #[inline]
    fn next_log_return_driven<R: Rng + ?Sized>(&mut self, shock: f64, rng: &mut R) -> f64 {
        each_model!(self, m => m.next_log_return_driven(shock, rng))
    }
}

/// The law of the unit-variance shock that drives a model's diffusion part.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ShockLaw {
    Normal,
    /// Standardized Student-t(nu).
    StudentT(f64),
}

/// Validated parameters of any price model; [`PriceModelParams::start`] makes a fresh model
/// for one run.
#[derive(Clone, Debug, PartialEq)]
pub enum PriceModelParams {
    Gbm(GbmParams),
    Garch(GarchParams),
    Merton(MertonParams),
    Heston(HestonParams),
    RegimeSwitching(RegimeParams),
    Replay(ReplayParams),
    Bootstrap(BootstrapParams),
}

impl PriceModelParams {
    /// The law of the shock that drives the model, or why it has none (a historical path, or
    /// regimes driven by different laws).
    pub fn shock_law(&self) -> Result<ShockLaw, &'static str> {
        match self {
            PriceModelParams::Gbm(_)
            | PriceModelParams::Merton(_)
            | PriceModelParams::Heston(_) => Ok(ShockLaw::Normal),
            PriceModelParams::Garch(p) => Ok(p.shock_law()),
            PriceModelParams::RegimeSwitching(p) => p.shock_law(),
            PriceModelParams::Replay(_) | PriceModelParams::Bootstrap(_) => {
                Err("a historical path cannot be correlated with other markets")
            }
        }
    }

    /// A model in its initial state, ready for the first step of a run.
    pub fn start(&self) -> PriceModelState {
        match self {
            PriceModelParams::Gbm(p) => PriceModelState::Gbm(Gbm::new(p)),
            PriceModelParams::Garch(p) => PriceModelState::Garch(Garch::new(p)),
            PriceModelParams::Merton(p) => PriceModelState::Merton(Merton::new(p)),
            PriceModelParams::Heston(p) => PriceModelState::Heston(Heston::new(p)),
            PriceModelParams::RegimeSwitching(p) => {
                PriceModelState::RegimeSwitching(RegimeSwitching::new(p))
            }
            PriceModelParams::Replay(p) => PriceModelState::Replay(Replay::new(p)),
            PriceModelParams::Bootstrap(p) => PriceModelState::Bootstrap(Bootstrap::new(p)),
        }
    }
}

/// The impact law of a market's book (MODEL.md section 2): a closed set, dispatched by a
/// `match`, so that a fill in the step loop pays no virtual call.
#[derive(Clone, Debug, PartialEq)]
pub enum ImpactLaw {
    Linear(LinearBook),
    SquareRoot(SqrtImpact),
    /// Infinite depth: fills at the mark, no impact.
    None,
}

impl ImpactModel for ImpactLaw {
    #[inline]
    fn fill(&self, notional: f64, depth: f64) -> Fill {
        match self {
            ImpactLaw::Linear(b) => b.fill(notional, depth),
            ImpactLaw::SquareRoot(b) => b.fill(notional, depth),
            ImpactLaw::None => NoImpact.fill(notional, depth),
        }
    }

    #[inline]
    fn fill_after(&self, prior: f64, notional: f64, depth: f64) -> Fill {
        match self {
            ImpactLaw::Linear(b) => b.fill_after(prior, notional, depth),
            ImpactLaw::SquareRoot(b) => b.fill_after(prior, notional, depth),
            ImpactLaw::None => NoImpact.fill(notional, depth),
        }
    }

    fn notional_for_impact(&self, impact: f64, depth: f64) -> f64 {
        match self {
            ImpactLaw::Linear(b) => b.notional_for_impact(impact, depth),
            ImpactLaw::SquareRoot(b) => b.notional_for_impact(impact, depth),
            ImpactLaw::None => NoImpact.notional_for_impact(impact, depth),
        }
    }
}
