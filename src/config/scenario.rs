//! One validated grid cell: every parameter checked, every model ready to start a run.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use super::LendingScenario;
use super::file::{
    BookSpec, CloseSpec, DistributionSpec, ExperimentFile, FundScope, ImpactOnSpec, IntrabarSpec,
    LiquidationModeSpec, MarketSection, NumberOrDistribution, PriceModelSpec, SettleSpec,
    ShockSpec, SocializationSpec, StrategySpec, ThresholdSpec,
};
use crate::agents::{
    Herding, MarginDefender, Noise, Panic, PopulationParams, PositiveDistribution, Reentry, Static,
    Strategy, StrategyGroup, ThresholdLaw, Trend,
};
use crate::market::data::{PriceSeries, load_price_csv, parse_time};
use crate::market::{
    BootstrapParams, CommonCrash, CorrelatedShocks, DepthWithdrawal, FlowWithdrawal, GarchParams,
    GbmParams, HestonParams, ImpactLaw, ImpactModel as _, LinearBook, MarkState, MertonParams,
    OtherVenues, PriceModelParams, RegimeParams, ReplayParams, SANE_PRICE_FACTOR, ShockLaw, Shocks,
    SqrtImpact, merton_compensator,
};
use crate::params::{ParamError, ParamResult, non_negative, positive};
use crate::protocol::{
    CloseRule, FeeParams, InsuranceFund, KeeperParams, LiquidationMode, LiquidationParams,
    LossSocialization, MarginParams, MarginTier,
};

/// `[traders] open_interest_usd`: `None` when 0. A record's open interest sets the book at
/// t = 0 only; traders who come back would draw unscaled accounts, so re-entry is refused
/// with it.
fn open_interest_target(t: &super::file::TradersSection) -> ParamResult<Option<f64>> {
    let oi =
        non_negative("open_interest_usd", t.open_interest_usd).map_err(|e| e.within("traders"))?;
    if oi == 0.0 {
        return Ok(None);
    }
    if oi > crate::config::CALIBRATION_FUND {
        return Err(ParamError::new(
            "traders.open_interest_usd",
            format!(
                "must be at most {:e} USD, got {oi:e}",
                crate::config::CALIBRATION_FUND
            ),
        ));
    }
    if t.reentry.is_some() {
        return Err(ParamError::new(
            "traders.open_interest_usd",
            "cannot be set with [traders.reentry]: it scales the book at t = 0, and traders who \
             come back would draw accounts of the unscaled distribution",
        ));
    }
    Ok(Some(oi))
}

/// One market of a scenario: its index model, mark, book and number of traders.
#[derive(Clone, Debug)]
pub struct MarketScenario {
    pub(crate) name: String,
    pub(crate) mark: MarkState,
    pub(crate) price_model: PriceModelParams,
    pub(crate) book: ImpactLaw,
    /// Other venues whose forced flow this venue's stands for.
    pub(crate) other_venues: Option<OtherVenues>,
    /// What kind of market it is, with what only that kind needs.
    pub(crate) kind: MarketKind,
}

/// The kind of a market section, with what only that kind needs: the one place a run's
/// opening learns a market's kind.
#[derive(Clone, Debug)]
pub enum MarketKind {
    /// A perpetual-swap market of `traders` traders.
    Perp { traders: u32 },
    /// A lending market: its terms and its borrowers (boxed: they are many times a perp
    /// market's count).
    Lending(Box<LendingScenario>),
}

impl MarketScenario {
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The lending market's terms and borrowers, if this is one.
    pub fn lending(&self) -> Option<&LendingScenario> {
        match &self.kind {
            MarketKind::Lending(l) => Some(l.as_ref()),
            MarketKind::Perp { .. } => None,
        }
    }

    /// The accounts the market opens with: its traders, or a lending market's borrowers.
    pub fn accounts(&self) -> u32 {
        match &self.kind {
            MarketKind::Perp { traders } => *traders,
            MarketKind::Lending(l) => l.borrowers,
        }
    }
}

/// Everything one run needs, validated. Built only by [`Scenario::from_file`], so a
/// `Scenario` cannot hold an invalid parameter.
#[derive(Clone)]
pub struct Scenario {
    pub(crate) steps: u64,
    pub(crate) dt_seconds: f64,
    /// `[market]` first, then `[markets.*]` in file order.
    pub(crate) markets: Vec<MarketScenario>,
    /// Joint shocks of correlated markets; `None`: each market's model draws on its own.
    pub(crate) shocks: Option<CorrelatedShocks>,
    /// Isolated funds: each market's share of `fund` (sums to 1). Empty: one shared fund.
    pub(crate) fund_shares: Vec<f64>,
    /// Each market's `fund_weight`, normalized to sum to 1: its share of F0 when isolated, its
    /// stake in a shared fund for the spill-over figure.
    pub(crate) market_weights: Vec<f64>,
    pub(crate) population: PopulationParams,
    /// Largest price move of one voluntary order (fraction).
    pub(crate) max_order_impact: f64,
    pub(crate) margin: MarginParams,
    /// Each perp market's open interest at t = 0 when a record sets it (USD, both sides).
    pub(crate) open_interest_usd: Option<f64>,
    pub(crate) fees: FeeParams,
    pub(crate) liquidation: LiquidationParams,
    pub(crate) fund: InsuranceFund,
    pub(crate) fund_revenue_per_step: f64,
    pub(crate) socialization: LossSocialization,
}

impl std::fmt::Debug for Scenario {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scenario")
            .field("steps", &self.steps)
            .field("dt_seconds", &self.dt_seconds)
            .field("markets", &self.markets)
            .field("margin", &self.margin)
            .field("liquidation", &self.liquidation)
            .field("fund_initial", &self.fund.initial())
            .finish_non_exhaustive()
    }
}

/// What a run with a lending market needs of the rest of the file: keepers to liquidate its
/// loans (a lending protocol has no liquidation engine of its own) and a rule after depletion
/// that has a meaning for lenders.
fn check_lending_rules(
    sections: &[(String, String, MarketSection)],
    markets: &[MarketScenario],
    liquidation: &LiquidationParams,
    socialization: LossSocialization,
) -> Result<(), ParamError> {
    let Some(((path, _, _), _)) = sections
        .iter()
        .zip(markets)
        .find(|(_, m)| m.lending().is_some())
    else {
        return Ok(());
    };
    if liquidation.mode() == LiquidationMode::Engine {
        return Err(ParamError::new(
            "liquidation.mode",
            format!(
                "`{path}` is a lending market, whose loans keepers liquidate: set mode = \
                 \"keeper\" with a [liquidation.keepers] table"
            ),
        ));
    }
    if matches!(
        socialization,
        LossSocialization::Adl | LossSocialization::RiskBased
    ) {
        return Err(ParamError::new(
            "fund.on_depletion",
            format!(
                "`{path}` is a lending market, whose lenders have no positions to deleverage: \
                 use \"none\" (an unbacked deficit, as Aave) or \"socialize\" (suppliers \
                 take the loss pro rata, as Morpho Blue and Euler)"
            ),
        ));
    }
    Ok(())
}

fn distribution(d: &DistributionSpec) -> ParamResult<PositiveDistribution> {
    match *d {
        DistributionSpec::Fixed { value } => PositiveDistribution::fixed(value),
        DistributionSpec::Uniform { min, max } => PositiveDistribution::uniform(min, max),
        DistributionSpec::LogUniform { min, max } => PositiveDistribution::log_uniform(min, max),
        DistributionSpec::Lognormal { median, log_sd } => {
            PositiveDistribution::lognormal(median, log_sd)
        }
    }
}

/// The rows of a CSV price file between `start` and `end` (empty: open), for the price model
/// at dotted `path`.
/// The price files an experiment names, each read once however many grid cells (or
/// regimes) use it: `validate` on a grid of 100 cells reads a CSV once, not 100 times.
#[derive(Debug, Default)]
pub struct DataFiles {
    read: std::cell::RefCell<HashMap<DataKey, Result<PriceSeries, ParamError>>>,
}

/// A price file and the two columns read from it.
type DataKey = (String, String, String);

impl DataFiles {
    /// `file`'s `price_column` and `time_column`, read on first use.
    fn load(
        &self,
        file: &str,
        price_column: &str,
        time_column: &str,
    ) -> Result<PriceSeries, ParamError> {
        let key = (
            file.to_string(),
            price_column.to_string(),
            time_column.to_string(),
        );
        if let Some(known) = self.read.borrow().get(&key) {
            return known.clone();
        }
        let loaded = load_price_csv(Path::new(file), price_column, time_column);
        self.read.borrow_mut().insert(key, loaded.clone());
        loaded
    }
}

#[allow(clippy::too_many_arguments)]
fn data_window(
    data: &DataFiles,
    file: &str,
    price_column: &str,
    time_column: &str,
    start: &str,
    end: &str,
    path: &str,
    dt: Option<f64>,
) -> Result<PriceSeries, ParamError> {
    let when = |field: &str, v: &str| -> Result<Option<i64>, ParamError> {
        if v.is_empty() {
            return Ok(None);
        }
        parse_time(v).map(Some).ok_or_else(|| {
            ParamError::new(
                field,
                format!("must be a date (YYYY-MM-DD HH:MM:SS, UTC) or Unix seconds, got `{v}`"),
            )
            .within(path)
        })
    };
    let (from, to) = (when("start", start)?, when("end", end)?);
    let series = data
        .load(file, price_column, time_column)
        .map_err(|e| e.within(path))?
        .window(from, to);
    // Bootstrap and replay take one row per step: the step is what is wrong when the two
    // differ (the file is what it is).
    if let Some(dt) = dt
        && (series.spacing as f64 - dt).abs() > 1e-9
    {
        return Err(ParamError::new(
            "experiment.dt_seconds",
            format!(
                "is {dt} s, but the rows of `{path}.path` ({file}) are {} s apart, and a \
                 replay or bootstrap takes one row per step: set experiment.dt_seconds = {}",
                series.spacing, series.spacing
            ),
        ));
    }
    Ok(series)
}

/// A model's horizon, for the rule that its drift cannot carry the index out of range.
struct Horizon<'a> {
    dt: f64,
    steps: u64,
    path: &'a str,
}

impl Horizon<'_> {
    /// A deterministic log drift of `per_year` (annualized) may not move the index by more
    /// than a factor of [`SANE_PRICE_FACTOR`] over the run's horizon: a run would stop there
    /// (nothing is liquidatable at a price of 0 or of infinity), so the file is refused first.
    fn check_drift(&self, field: &str, per_year: f64) -> Result<(), ParamError> {
        let years = self.steps as f64 * self.dt / crate::market::SECONDS_PER_YEAR;
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
    fn check_vol(&self, field: &str, vol: f64) -> Result<(), ParamError> {
        let years = self.steps as f64 * self.dt / crate::market::SECONDS_PER_YEAR;
        self.check_spread(
            field,
            &format!("= {vol:e} (annualized)"),
            4.0 * vol * years.sqrt(),
            "vols are annualized fractions (0.8 for 80%)",
        )
    }

    /// The bootstrap's version of [`Self::check_vol`]: four standard deviations of the sum of
    /// `steps` resampled returns (standard deviation `per_step` each).
    fn check_resampled(&self, field: &str, per_step: f64) -> Result<(), ParamError> {
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
    fn check_replayed(&self, field: &str, returns: &[f64]) -> Result<(), ParamError> {
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

/// The rule that the venue's own trading cannot carry the index out of range: with a
/// permanent share of impact, every trader's order moves the index itself, by at most
/// `permanent * order_impact` in log terms (`order_impact` the largest a decision trades,
/// `traders.max_order_impact`, or the band's width). If the decisions expected over the
/// horizon could, all pushing one way, move it beyond a factor of [`SANE_PRICE_FACTOR`], the
/// feedback may run away (R2 with `permanent_impact = 0.5`: constant-leverage traders buy
/// into their own rise, their equity and orders compound, and the index rose from 3e4 to
/// 1.3e9 in a day), and the file is refused before any run. Forced closes are not counted:
/// the positions they close are bounded by what the traders opened; nor are the orders of
/// strategies that only close or turn once (panic, herding), for the same reason.
fn check_own_flow(
    permanent: f64,
    traders: u32,
    population: &PopulationParams,
    order_impact: f64,
    horizon_hours: f64,
    path: &str,
) -> Result<(), ParamError> {
    if permanent == 0.0 {
        return Ok(());
    }
    let decisions: f64 = population
        .groups()
        .iter()
        .filter(|g| !g.strategy.bounded_by_position())
        .filter_map(|g| {
            let rate = g.decisions_per_hour.as_ref()?;
            Some(g.share * rate.mean().min(rate.practical_max()))
        })
        .sum::<f64>()
        * traders as f64
        * horizon_hours;
    let log_move = permanent * order_impact * decisions;
    let limit = SANE_PRICE_FACTOR.ln();
    if log_move <= limit {
        return Ok(());
    }
    Err(ParamError::new(
        format!("{path}.permanent_impact"),
        format!(
            "= {permanent} lets the traders' own orders move the index by up to e^{log_move:.1} \
             over the horizon ({decisions:.3e} decisions expected, each moving the index by up \
             to {permanent} x {order_impact} in log terms), beyond the factor \
             {SANE_PRICE_FACTOR:e} (e^{limit:.1}) any market reaches: a feedback that can run \
             away. Lower it to at most {:.3e}, or lower traders.max_order_impact or the \
             decision rates",
            limit / (order_impact * decisions)
        ),
    ))
}

/// The open, high, low and close columns of `file` over the window, for intrabar paths
/// (whose step is finer than the rows: the bars check the spacing, not this).
fn ohlc_window(
    data: &DataFiles,
    file: &str,
    columns: [&String; 4],
    time_column: &str,
    (start, end): (&str, &str),
    path: &str,
) -> Result<[PriceSeries; 4], ParamError> {
    let load = |column: &str| data_window(data, file, column, time_column, start, end, path, None);
    Ok([
        load(columns[0])?,
        load(columns[1])?,
        load(columns[2])?,
        load(columns[3])?,
    ])
}

/// Intrabar paths run through the published bars: scaled returns would leave their highs and
/// lows.
fn bridge_needs_no_multiplier(vol_multiplier: f64, path: &str) -> Result<(), ParamError> {
    if vol_multiplier == 1.0 {
        return Ok(());
    }
    Err(ParamError::new(
        format!("{path}.vol_multiplier"),
        "must be 1 with intrabar = \"bridge\": the paths run through the published bars, \
         and scaled returns would leave their highs and lows",
    ))
}

/// A book spec, validated; errors are named below `path`.
fn impact_law(spec: &BookSpec, path: &str) -> Result<ImpactLaw, ParamError> {
    Ok(match *spec {
        BookSpec::Linear { depth_usd } => {
            ImpactLaw::Linear(LinearBook::new(depth_usd).map_err(|e| e.within(path))?)
        }
        BookSpec::Sqrt {
            y,
            vol,
            daily_volume_usd,
        } => ImpactLaw::SquareRoot(
            SqrtImpact::new(y, vol, daily_volume_usd).map_err(|e| e.within(path))?,
        ),
        BookSpec::None => ImpactLaw::None,
    })
}

/// The rule that other venues' forced flow cannot carry the index out of range: it stands
/// for this venue's forced flow, which is bounded by the positions opened (`open_interest`,
/// expected; re-entries open more). If liquidating all of it, spread evenly over the run's
/// steps (the worst case for a concave law, all at once for a linear book), would move the
/// index beyond a factor of [`SANE_PRICE_FACTOR`] through the world's book, the file is
/// refused before any run instead of a run stopping on a price fault.
fn check_other_venues(
    others: &OtherVenues,
    open_interest: f64,
    steps: u64,
    path: &str,
) -> Result<(), ParamError> {
    let flow = others.multiplier() * open_interest;
    let log_move = match others.world() {
        ImpactLaw::Linear(_) | ImpactLaw::None => others.world().fill(flow, 1.0).impact,
        ImpactLaw::SquareRoot(_) => {
            let n = steps.max(1) as f64;
            n * others.world().fill(flow / n, 1.0).impact
        }
    };
    let limit = SANE_PRICE_FACTOR.ln();
    if log_move <= limit {
        return Ok(());
    }
    Err(ParamError::new(
        format!("{path}.other_venues.book"),
        format!(
            "is too thin for the other venues' forced flow: liquidating the {open_interest:.3e} \
             USD of open interest expected here would bring {flow:.3e} USD of their flow \
             onto it and move the index by e^{log_move:.1}, beyond the factor \
             {SANE_PRICE_FACTOR:e} any market reaches. Deepen the world's book or raise \
             other_venues.share"
        ),
    ))
}

/// The least share of the fund a market's `fund_weight` may give it.
const MIN_FUND_SHARE: f64 = 1e-9;

/// A common crash is a jump of every market's log price by `beta` times a normal size: the
/// sizes are fractions (as Merton's), and the jumps expected over the horizon may not spread
/// any market beyond the range at four standard deviations.
fn check_crash(k: &super::file::CrashSection, dt: f64, steps: u64) -> Result<(), ParamError> {
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

/// Validates a price model spec found at dotted `path` (regimes nest models).
fn price_model(
    data: &DataFiles,
    spec: &PriceModelSpec,
    dt: f64,
    steps: u64,
    path: &str,
) -> Result<PriceModelParams, ParamError> {
    Ok(match spec {
        PriceModelSpec::RegimeSwitching {
            regimes,
            transition,
            initial,
        } => {
            let models = regimes
                .iter()
                .enumerate()
                .map(|(i, r)| price_model(data, r, dt, steps, &format!("{path}.regimes[{i}]")))
                .collect::<Result<Vec<_>, _>>()?;
            PriceModelParams::RegimeSwitching(
                RegimeParams::new(models, transition, *initial).map_err(|e| e.within(path))?,
            )
        }
        PriceModelSpec::Bootstrap {
            path: file,
            price_column,
            time_column,
            start,
            end,
            mean_block,
            vol_multiplier,
            intrabar: IntrabarSpec::Bridge,
            open_column,
            high_column,
            low_column,
        } => {
            bridge_needs_no_multiplier(*vol_multiplier, path)?;
            let columns = [open_column, high_column, low_column, price_column];
            let [o, h, l, c] = ohlc_window(data, file, columns, time_column, (start, end), path)?;
            let ohlc = [&o, &h, &l, &c];
            let params =
                BootstrapParams::with_bars(ohlc, *mean_block, dt).map_err(|e| e.within(path))?;
            // Per step, a bar's variance spread over its steps.
            let returns = ohlc[3].log_returns();
            let n = returns.len() as f64;
            let mean = returns.iter().sum::<f64>() / n;
            let var = returns.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / n;
            let per_bar = ohlc[3].spacing as f64 / dt;
            Horizon { dt, steps, path }.check_resampled("mean_block", (var / per_bar).sqrt())?;
            PriceModelParams::Bootstrap(params)
        }
        PriceModelSpec::Bootstrap {
            path: file,
            price_column,
            time_column,
            start,
            end,
            mean_block,
            vol_multiplier,
            ..
        } => {
            let series = data_window(
                data,
                file,
                price_column,
                time_column,
                start,
                end,
                path,
                Some(dt),
            )?;
            let params = BootstrapParams::new(&series, *mean_block, *vol_multiplier, dt)
                .map_err(|e| e.within(path))?;
            let returns = series.log_returns();
            let n = returns.len() as f64;
            let mean = returns.iter().sum::<f64>() / n;
            let var = returns.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / n;
            Horizon { dt, steps, path }
                .check_resampled("vol_multiplier", var.sqrt() * vol_multiplier)?;
            PriceModelParams::Bootstrap(params)
        }
        PriceModelSpec::Replay {
            path: file,
            price_column,
            time_column,
            start,
            end,
            vol_multiplier,
            intrabar: IntrabarSpec::Bridge,
            open_column,
            high_column,
            low_column,
        } => {
            bridge_needs_no_multiplier(*vol_multiplier, path)?;
            let columns = [open_column, high_column, low_column, price_column];
            let [o, h, l, c] = ohlc_window(data, file, columns, time_column, (start, end), path)?;
            let ohlc = [&o, &h, &l, &c];
            let params = ReplayParams::with_bars(ohlc, dt, steps).map_err(|e| e.within(path))?;
            let closes = ohlc[3].log_returns();
            Horizon { dt, steps, path }.check_replayed("vol_multiplier", &closes)?;
            PriceModelParams::Replay(params)
        }
        PriceModelSpec::Replay {
            path: file,
            price_column,
            time_column,
            start,
            end,
            vol_multiplier,
            ..
        } => {
            let series = data_window(
                data,
                file,
                price_column,
                time_column,
                start,
                end,
                path,
                Some(dt),
            )?;
            let params = ReplayParams::new(&series, *vol_multiplier, dt, steps)
                .map_err(|e| e.within(path))?;
            let scaled: Vec<f64> = series
                .log_returns()
                .iter()
                .map(|r| r * vol_multiplier)
                .collect();
            Horizon { dt, steps, path }.check_replayed("vol_multiplier", &scaled)?;
            PriceModelParams::Replay(params)
        }
        PriceModelSpec::Gbm { vol, drift } => {
            let horizon = Horizon { dt, steps, path };
            horizon.check_vol("vol", *vol)?;
            horizon.check_drift("drift", drift - 0.5 * vol * vol)?;
            PriceModelParams::Gbm(GbmParams::new(*vol, *drift, dt).map_err(|e| e.within(path))?)
        }
        PriceModelSpec::Heston {
            initial_vol,
            long_run_vol,
            kappa,
            xi,
            rho,
            substeps,
            drift,
        } => {
            let horizon = Horizon { dt, steps, path };
            horizon.check_vol("initial_vol", *initial_vol)?;
            horizon.check_vol("long_run_vol", *long_run_vol)?;
            // The variance reverts to the long run's: its drift is the long run's drift.
            horizon.check_drift("drift", drift - 0.5 * long_run_vol * long_run_vol)?;
            PriceModelParams::Heston(
                HestonParams::new(
                    *initial_vol,
                    *long_run_vol,
                    *kappa,
                    *xi,
                    *rho,
                    *drift,
                    *substeps,
                    dt,
                )
                .map_err(|e| e.within(path))?,
            )
        }
        PriceModelSpec::Merton {
            vol,
            jump_intensity,
            jump_mean,
            jump_sd,
            drift,
        } => {
            let horizon = Horizon { dt, steps, path };
            horizon.check_vol("vol", *vol)?;
            // The jumps add `intensity (mean^2 + sd^2)` to the variance of a year's returns.
            let jump_variance = jump_intensity * (jump_mean * jump_mean + jump_sd * jump_sd);
            if *jump_sd <= 1.0 && jump_mean.abs() <= 1.0 {
                horizon.check_vol("jump_intensity", (vol * vol + jump_variance).sqrt())?;
            }
            // Merton's compensator keeps the mean of the price a martingale: with jump sizes
            // typed in percent (jump_sd = 6.5 for 6.5%) it alone sends the index to 0. The
            // rule names the field that is off: a size beyond a fraction, else the intensity
            // when the jumps' terms dominate, else the drift.
            let compensator = merton_compensator(*jump_intensity, *jump_mean, *jump_sd);
            let jump_terms = jump_intensity * jump_mean - compensator;
            let diffusion = drift - 0.5 * vol * vol;
            let field = if *jump_sd > 1.0 {
                "jump_sd"
            } else if jump_mean.abs() > 1.0 {
                "jump_mean"
            } else if jump_terms.abs() > diffusion.abs() {
                "jump_intensity"
            } else {
                "drift"
            };
            horizon.check_drift(field, diffusion + jump_terms)?;
            PriceModelParams::Merton(
                MertonParams::new(*vol, *drift, *jump_intensity, *jump_mean, *jump_sd, dt)
                    .map_err(|e| e.within(path))?,
            )
        }
        PriceModelSpec::Garch {
            long_run_vol,
            alpha,
            beta,
            shocks,
            initial_vol,
            drift,
        } => {
            let horizon = Horizon { dt, steps, path };
            horizon.check_vol("initial_vol", *initial_vol)?;
            horizon.check_vol("long_run_vol", *long_run_vol)?;
            // GARCH's returns are `drift dt + e`, without a variance correction.
            horizon.check_drift("drift", *drift)?;
            let shocks = match shocks {
                ShockSpec::Normal => Shocks::Normal,
                ShockSpec::StudentT { nu } => {
                    Shocks::student_t(*nu).map_err(|e| e.within(&format!("{path}.shocks")))?
                }
            };
            PriceModelParams::Garch(
                GarchParams::new(
                    *long_run_vol,
                    *alpha,
                    *beta,
                    shocks,
                    *initial_vol,
                    *drift,
                    dt,
                )
                .map_err(|e| e.within(path))?,
            )
        }
    })
}

fn rate(spec: &NumberOrDistribution, path: &str) -> ParamResult<Option<PositiveDistribution>> {
    let field = format!("{path}.decisions_per_hour");
    let d = match spec {
        // A plain number is the field itself, not a distribution's `value`.
        NumberOrDistribution::Number(v) => {
            PositiveDistribution::fixed(*v).map_err(|e| ParamError::new(&field, e.rule))
        }
        NumberOrDistribution::Distribution(d) => distribution(d).map_err(|e| e.within(&field)),
    }?;
    // A trader deciding more than once a second is no trader; and an unbounded rate (1e308
    // an hour) would never let a step end.
    let most = d.practical_max();
    if most > MAX_DECISIONS_PER_HOUR {
        return Err(ParamError::new(
            format!("{path}.decisions_per_hour"),
            format!(
                "reaches {most:e} decisions an hour, more than {MAX_DECISIONS_PER_HOUR} (one a \
                 second)"
            ),
        ));
    }
    Ok(Some(d))
}

/// The fastest a trader decides.
pub(super) const MAX_DECISIONS_PER_HOUR: f64 = 3_600.0;

/// One strategy of the traders, validated. Errors name the strategy's own fields below
/// `path` (`traders.mix[2].strategy`) and the group's share below `group`
/// (`traders.mix[2]`).
fn strategy_group(
    spec: &StrategySpec,
    share: f64,
    group: &str,
    path: &str,
) -> ParamResult<StrategyGroup> {
    let within = |e: ParamError| e.within(path);
    let (name, strategy, decisions, reserve): (&str, Arc<dyn Strategy>, _, f64) = match spec {
        StrategySpec::Static => ("static", Arc::new(Static), None, 0.0),
        StrategySpec::Noise { decisions_per_hour } => (
            "noise",
            Arc::new(Noise),
            rate(decisions_per_hour, path)?,
            0.0,
        ),
        StrategySpec::Momentum {
            decisions_per_hour,
            ema_minutes,
        } => (
            "momentum",
            Arc::new(Trend::momentum(*ema_minutes).map_err(within)?),
            rate(decisions_per_hour, path)?,
            0.0,
        ),
        StrategySpec::Contrarian {
            decisions_per_hour,
            ema_minutes,
        } => (
            "contrarian",
            Arc::new(Trend::contrarian(*ema_minutes).map_err(within)?),
            rate(decisions_per_hour, path)?,
            0.0,
        ),
        StrategySpec::Panic {
            decisions_per_hour,
            window_minutes,
            liquidation_threshold_usd,
            drawdown,
        } => (
            "panic",
            Arc::new(
                Panic::new(*window_minutes, *liquidation_threshold_usd, *drawdown)
                    .map_err(within)?,
            ),
            rate(decisions_per_hour, path)?,
            0.0,
        ),
        StrategySpec::Herding {
            decisions_per_hour,
            window_minutes,
            threshold,
            keep,
            flip,
        } => {
            let law = match *threshold {
                ThresholdSpec::Fixed { value } => ThresholdLaw::fixed(value),
                ThresholdSpec::Uniform { min, max } => ThresholdLaw::uniform(min, max),
                ThresholdSpec::Normal { mean, sd } => ThresholdLaw::normal(mean, sd),
            }
            .map_err(|e| e.within(&format!("{path}.threshold")))?;
            (
                "herding",
                Arc::new(Herding::new(*window_minutes, law, *keep, *flip).map_err(within)?),
                rate(decisions_per_hour, path)?,
                0.0,
            )
        }
        StrategySpec::MarginDefender {
            decisions_per_hour,
            reserve_ratio,
            trigger,
        } => (
            "margin_defender",
            Arc::new(MarginDefender::new(*trigger).map_err(within)?),
            rate(decisions_per_hour, path)?,
            *reserve_ratio,
        ),
    };
    StrategyGroup::new(name, share, strategy, decisions, reserve).map_err(|e| {
        if e.field == "share" {
            e.within(group)
        } else {
            e.within(path)
        }
    })
}

fn strategy_groups(t: &super::file::TradersSection) -> ParamResult<Vec<StrategyGroup>> {
    if t.mix.is_empty() {
        return Ok(vec![strategy_group(
            &t.strategy,
            1.0,
            "traders",
            "traders.strategy",
        )?]);
    }
    if t.strategy != StrategySpec::Static {
        return Err(ParamError::new(
            "traders.strategy",
            "give either one strategy or a [[traders.mix]], not both",
        ));
    }
    t.mix
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let group = format!("traders.mix[{i}]");
            strategy_group(&m.strategy, m.share, &group, &format!("{group}.strategy"))
        })
        .collect()
}

/// The longest run, in steps: ten million minutes are 19 years (a run's memory does not grow
/// with its steps: the sample path is thinned to `simulation::SAMPLE_POINTS`).
pub const MAX_STEPS: u64 = 10_000_000;
/// The shortest and the longest step, in seconds.
pub const MIN_DT_SECONDS: f64 = 1e-3;
pub const MAX_DT_SECONDS: f64 = 31_536_000.0;

impl Scenario {
    /// Validates the file's parameters. The error's field is the full dotted path.
    pub fn from_file(f: &ExperimentFile) -> Result<Self, ParamError> {
        Self::from_file_reading(f, &DataFiles::default())
    }

    /// [`Self::from_file`], reading price files through `data` (shared by an experiment's
    /// cells, so each file is read once).
    pub fn from_file_reading(f: &ExperimentFile, data: &DataFiles) -> Result<Self, ParamError> {
        let x = &f.experiment;
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

        let t = &f.traders;
        let mut sections: Vec<(String, String, MarketSection)> = Vec::new();
        let mut first = f.market.clone();
        if first.name.is_empty() {
            first.name = "main".into();
        }
        sections.push(("market".into(), first.name.clone(), first));
        for (name, raw) in &f.markets {
            let path = format!("markets.{name}");
            let mut section: MarketSection = super::deserialize_value(raw.clone(), &path)?;
            if !section.name.is_empty() && section.name != *name {
                return Err(ParamError::new(
                    format!("{path}.name"),
                    format!("is given by the table's name `{name}`; leave it out"),
                ));
            }
            section.name = name.clone();
            if sections.iter().any(|(_, n, _)| n == name) {
                return Err(ParamError::new(
                    path,
                    format!("market name `{name}` is used twice"),
                ));
            }
            sections.push((path, name.clone(), section));
        }
        let mut markets = Vec::with_capacity(sections.len());
        let mut total_traders: u64 = 0;
        for (path, name, m) in &sections {
            let withdrawal = m
                .liquidity
                .as_ref()
                .map(|l| {
                    DepthWithdrawal::new(
                        l.kappa,
                        l.reference_vol,
                        l.ewma_half_life_minutes,
                        l.floor,
                        dt,
                    )
                })
                .transpose()
                .map_err(|e| e.within(&format!("{path}.liquidity")))?;
            let book = impact_law(&m.book, &format!("{path}.book"))?;
            let flow_withdrawal = m
                .flow_liquidity
                .as_ref()
                .map(|f| FlowWithdrawal::new(f.gamma, f.half_life_minutes, f.floor, dt, &book))
                .transpose()
                .map_err(|e| e.within(&format!("{path}.flow_liquidity")))?;
            let mark = MarkState::new(m.s0, m.impact_half_life_minutes, m.permanent_impact, dt)
                .map_err(|e| e.within(path))?
                .with_withdrawal(withdrawal)
                .with_flow_withdrawal(flow_withdrawal)
                .with_impact_on_step_flow(m.impact_on == ImpactOnSpec::StepFlow)
                .with_band(m.price_band)
                .map_err(|e| e.within(path))?;
            let price_model = price_model(data, &m.model, dt, x.steps, &format!("{path}.model"))?;
            let other_venues = m
                .other_venues
                .as_ref()
                .map(|o| {
                    let at = format!("{path}.other_venues");
                    let world = impact_law(&o.book, &format!("{at}.book"))?;
                    OtherVenues::new(o.share, o.beta, world).map_err(|e| e.within(&at))
                })
                .transpose()?;
            let lending = m
                .lending
                .as_ref()
                .map(|l| LendingScenario::from_section(l, &format!("{path}.lending"), distribution))
                .transpose()?;
            if let (Some(_), Some(_)) = (&lending, m.traders) {
                return Err(ParamError::new(
                    format!("{path}.traders"),
                    "a lending market holds borrowers, not traders: give their number as \
                     `lending.borrowers`",
                ));
            }
            let traders = lending
                .as_ref()
                .map_or(m.traders.unwrap_or(t.count), |l| l.borrowers as u64);
            if traders == 0 || traders > u32::MAX as u64 {
                // A market without its own count takes `traders.count`: that is the field.
                let field = match m.traders {
                    Some(_) => format!("{path}.traders"),
                    None => "traders.count".to_string(),
                };
                return Err(ParamError::new(
                    field,
                    format!("must be between 1 and {}, got {traders}", u32::MAX),
                ));
            }
            total_traders += traders;
            positive("fund_weight", m.fund_weight).map_err(|e| e.within(path))?;
            let kind = match lending {
                Some(l) => MarketKind::Lending(Box::new(l)),
                None => MarketKind::Perp {
                    traders: traders as u32,
                },
            };
            markets.push(MarketScenario {
                name: name.clone(),
                mark,
                price_model,
                book,
                other_venues,
                kind,
            });
        }
        if total_traders > u32::MAX as u64 {
            return Err(ParamError::new(
                "traders.count",
                format!("all markets together may hold at most {} traders", u32::MAX),
            ));
        }
        let shocks = match &f.correlation {
            None => None,
            Some(c) => {
                if markets.len() < 2 {
                    return Err(ParamError::new(
                        "correlation",
                        "needs two or more markets ([markets.NAME] tables besides [market])",
                    ));
                }
                let mut laws = Vec::with_capacity(markets.len());
                // Correlated Student-t shocks share one chi-square mixing draw, so one nu.
                let mut first_nu: Option<(f64, &str)> = None;
                for ((path, _, _), m) in sections.iter().zip(&markets) {
                    let law = m.price_model.shock_law().map_err(|why| {
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
                                        "is {nu}, but `{at}.model.shocks.nu` is {first}: markets \
                                         with correlated Student-t shocks share one nu"
                                    ),
                                ));
                            }
                            Some(_) => {}
                            None => first_nu = Some((nu, path)),
                        }
                    }
                    laws.push(law);
                }
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
                    check_crash(k, dt, x.steps)?;
                }
                Some(
                    CorrelatedShocks::new(&c.matrix, &laws, crash)
                        .map_err(|e| e.within("correlation"))?,
                )
            }
        };
        let total_weight: f64 = sections.iter().map(|(_, _, m)| m.fund_weight).sum();
        // A share of a billionth is no fund of its own: weights that far apart are a typo
        // (and an isolated fund of 1e-300 USD would leave the ledger at rounding's mercy).
        let least = sections
            .iter()
            .map(|(_, _, m)| m.fund_weight / total_weight)
            .fold(f64::INFINITY, f64::min);
        if least < MIN_FUND_SHARE {
            // Blame the weight farthest (in log terms) from the median weight, the
            // default 1 breaking ties: the one typed off by powers of ten.
            let mut logs: Vec<f64> = sections
                .iter()
                .map(|(_, _, m)| m.fund_weight.ln())
                .collect();
            logs.sort_by(f64::total_cmp);
            // With an even count, the middle of the two middle weights: two markets are then
            // equally far from it, and the tie goes to the weight farther from 1.
            let n = logs.len();
            let median = if n.is_multiple_of(2) {
                0.5 * (logs[n / 2 - 1] + logs[n / 2])
            } else {
                logs[n / 2]
            };
            let off = |w: f64| ((w.ln() - median).abs(), w.ln().abs());
            let (path, _, m) = sections
                .iter()
                .max_by(|a, b| {
                    let (x, y) = (off(a.2.fund_weight), off(b.2.fund_weight));
                    // Distances equal up to rounding are a tie (two markets around their
                    // midpoint): the weight farther from 1 is the one typed off.
                    let tied = (x.0 - y.0).abs() <= 1e-9 * x.0.max(y.0).max(1.0);
                    let by_distance = if tied {
                        std::cmp::Ordering::Equal
                    } else {
                        x.0.total_cmp(&y.0)
                    };
                    by_distance.then(x.1.total_cmp(&y.1))
                })
                .expect("one market at least");
            return Err(ParamError::new(
                format!("{path}.fund_weight"),
                format!(
                    "= {:e} leaves a market {least:e} of the fund; weights are relative and \
                     must leave every market at least {MIN_FUND_SHARE:e} of it",
                    m.fund_weight
                ),
            ));
        }
        let market_weights: Vec<f64> = sections
            .iter()
            .map(|(_, _, m)| m.fund_weight / total_weight)
            .collect();
        let fund_shares = match f.fund.scope {
            FundScope::Shared => Vec::new(),
            FundScope::Isolated => market_weights.clone(),
        };

        let population = PopulationParams::new(
            t.count,
            distribution(&t.collateral).map_err(|e| e.within("traders.collateral"))?,
            distribution(&t.leverage).map_err(|e| e.within("traders.leverage"))?,
            t.long_share,
        )
        .map_err(|e| e.within("traders"))?;
        let population = population
            .with_groups(strategy_groups(t)?)
            .map_err(|e| e.within("traders"))?
            .with_reentry(
                t.reentry
                    .as_ref()
                    .map(|r| Reentry::new(r.cooldown_minutes, r.probability, dt))
                    .transpose()
                    .map_err(|e| e.within("traders.reentry"))?,
            );
        let max_order_impact =
            positive("max_order_impact", t.max_order_impact).map_err(|e| e.within("traders"))?;
        let open_interest_usd = open_interest_target(t)?;
        let horizon_hours = x.steps as f64 * dt / 3600.0;
        let tiers: Vec<MarginTier> = f
            .margin
            .tiers
            .iter()
            .map(|t| MarginTier {
                from_notional: t.from_usd,
                imr: t.imr,
                mmr: t.mmr,
            })
            .collect();
        let margin = MarginParams::new(f.margin.imr, f.margin.mmr)
            .and_then(|m| m.with_tiers(&tiers))
            .map_err(|e| e.within("margin"))?;
        // Borrowers never trade: a lending market's only flow is its keepers' sales, bounded by
        // its collateral.
        for ((path, _, section), m) in sections
            .iter()
            .zip(&markets)
            .filter(|(_, m)| m.lending().is_none())
        {
            check_own_flow(
                section.permanent_impact,
                m.accounts(),
                &population,
                max_order_impact.min(2.0 * section.price_band.ln_1p()),
                horizon_hours,
                path,
            )?;
            if let Some(others) = &m.other_venues {
                let open_interest = open_interest_usd.unwrap_or_else(|| {
                    m.accounts() as f64 * population.mean_notional_bound(margin.max_leverage())
                });
                check_other_venues(others, open_interest, x.steps, path)?;
            }
        }

        let fees = FeeParams::new(f.margin.fee_rate, f.margin.fee_fund_share)
            .map_err(|e| e.within("margin"))?;

        let l = &f.liquidation;
        let mode = match l.mode {
            LiquidationModeSpec::Engine => LiquidationMode::Engine,
            LiquidationModeSpec::Keeper => {
                if l.latency_steps > 0 {
                    return Err(ParamError::new(
                        "liquidation.latency_steps",
                        "is the engine's delay; keepers have their own, liquidation.keepers.latency_steps",
                    ));
                }
                let k = l.keepers.as_ref().ok_or_else(|| {
                    ParamError::new(
                        "liquidation.keepers",
                        "mode = \"keeper\" needs a [liquidation.keepers] table (count, capital_usd, latency_steps, cost_usd)",
                    )
                })?;
                LiquidationMode::Keeper(
                    KeeperParams::new(k.count, k.capital_usd, k.latency_steps, k.cost_usd)
                        .map_err(|e| e.within("liquidation.keepers"))?,
                )
            }
        };
        let close = match l.close {
            CloseSpec::Full => CloseRule::Full,
            CloseSpec::Partial => CloseRule::partial(l.buffer, l.min_notional_usd)
                .map_err(|e| e.within("liquidation"))?,
        };
        let liquidation = LiquidationParams::new(l.penalty_rate, l.fund_share, mode, close)
            .map_err(|e| e.within("liquidation"))?
            .with_latency(l.latency_steps);
        let liquidation = match l.settle {
            SettleSpec::Penalty => liquidation,
            SettleSpec::BankruptcyPrice => liquidation
                .at_bankruptcy_price()
                .map_err(|e| e.within("liquidation"))?,
        };

        let cap = non_negative("cap", f.fund.cap).map_err(|e| e.within("fund"))?;
        let fund = InsuranceFund::with_cap(f.fund.initial, (cap > 0.0).then_some(cap))
            .map_err(|e| e.within("fund"))?;
        let fund_revenue_per_step = non_negative("revenue_per_step", f.fund.revenue_per_step)
            .map_err(|e| e.within("fund"))?;
        // Money far beyond any fund (a calibration's "fund no deficit can exhaust" is 1e15)
        // only loses the ledger's precision: sums of 1e22 USD cannot balance to the cent.
        let most = crate::config::CALIBRATION_FUND;
        for (field, amount) in [
            ("fund.initial", f.fund.initial),
            ("fund.cap", cap),
            (
                "fund.revenue_per_step",
                fund_revenue_per_step * x.steps as f64,
            ),
        ] {
            if amount > most {
                return Err(ParamError::new(
                    field,
                    format!("comes to {amount:e} USD over the run, more than {most:e}"),
                ));
            }
        }
        let socialization = match f.fund.on_depletion {
            SocializationSpec::Adl => LossSocialization::Adl,
            SocializationSpec::Socialize => LossSocialization::ProRata,
            SocializationSpec::RiskBased => LossSocialization::RiskBased,
            SocializationSpec::None => LossSocialization::None,
        };
        check_lending_rules(&sections, &markets, &liquidation, socialization)?;

        Ok(Self {
            steps: x.steps,
            dt_seconds: dt,
            markets,
            shocks,
            fund_shares,
            market_weights,
            population,
            max_order_impact,
            margin,
            open_interest_usd,
            fees,
            liquidation,
            fund,
            fund_revenue_per_step,
            socialization,
        })
    }

    pub fn fund_initial(&self) -> f64 {
        self.fund.initial()
    }

    /// One sentence for a report's caveats on what the agents of this scenario do not do.
    pub fn behaviour_caveat(&self) -> String {
        let groups = self.population.groups();
        let all_static = groups
            .iter()
            .all(|g| g.decisions_per_hour.is_none() || g.share == 0.0);
        let withdrawal = self.markets.iter().any(|m| m.mark.withdraws_depth());
        let mut s = if all_static {
            String::from(
                "Traders here hold their positions (`static`): nobody panics, adds margin or \
                 trades after t = 0.",
            )
        } else {
            let names: Vec<&str> = groups
                .iter()
                .filter(|g| g.share > 0.0)
                .map(|g| g.name())
                .collect();
            format!(
                "Traders follow simple rules ({}) at Poisson times; real traders adapt, \
                 coordinate and split orders in ways these rules do not.",
                names.join(", ")
            )
        };
        if !withdrawal {
            s.push_str(" The book's depth does not thin when volatility rises.");
        }
        s.push_str(" Real cascades can be worse.");
        s
    }

    pub fn markets(&self) -> &[MarketScenario] {
        &self.markets
    }

    /// Market `m`'s index model (for benches and tools that step a model alone).
    pub fn price_model(&self, m: usize) -> &crate::market::PriceModelParams {
        &self.markets[m].price_model
    }

    /// Each fund's share of the total: `[1.0]` for one shared fund.
    pub(crate) fn fund_shares_of_total(&self) -> &[f64] {
        if self.fund_shares.is_empty() {
            &[1.0]
        } else {
            &self.fund_shares
        }
    }

    /// The funds a run starts with: one, or one per market holding its share of `fund`.
    pub(crate) fn initial_funds(&self) -> Vec<InsuranceFund> {
        if self.fund_shares.is_empty() {
            vec![self.fund.clone()]
        } else {
            self.fund_shares
                .iter()
                .map(|s| self.fund.scaled(*s))
                .collect()
        }
    }

    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// True when the fund's initial size changes anything in a run before its first
    /// depletion, which breaks the calibration shortcut of MODEL.md section 5. Without a cap
    /// the fund only pays deficits, and only socialization after depletion acts on traders;
    /// with a cap, how much is swept to treasury depends on where the balance started.
    pub fn fund_shapes_the_run_before_depletion(&self) -> bool {
        self.fund.cap().is_some()
    }

    pub fn fund_cap(&self) -> Option<f64> {
        self.fund.cap()
    }

    /// The same scenario with its traders following `strategy`, deciding
    /// `decisions_per_hour` times an hour.
    pub fn with_strategy(&self, strategy: Arc<dyn Strategy>, decisions_per_hour: f64) -> Scenario {
        let mut s = self.clone();
        s.population = s.population.with_strategy(strategy, decisions_per_hour);
        s
    }

    /// The same scenario with another initial fund (same cap).
    pub fn with_fund(&self, initial: f64) -> Result<Scenario, ParamError> {
        let mut s = self.clone();
        s.fund = InsuranceFund::with_cap(initial, self.fund.cap()).map_err(|e| e.within("fund"))?;
        Ok(s)
    }

    pub fn dt_seconds(&self) -> f64 {
        self.dt_seconds
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A price file is read once: after the first read, the file may even be gone.
    #[test]
    fn each_price_file_is_read_once() {
        let dir = std::env::temp_dir().join(format!("backstop-datafiles-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("p.csv");
        std::fs::write(&file, "unix,close\n0,100\n60,101\n120,102\n").unwrap();
        let name = file.to_str().unwrap();
        let data = DataFiles::default();
        let first = data.load(name, "close", "unix").unwrap();
        std::fs::remove_file(&file).unwrap();
        assert_eq!(data.load(name, "close", "unix").unwrap(), first);
        // Another column is another read, which now fails.
        assert!(data.load(name, "open", "unix").is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
