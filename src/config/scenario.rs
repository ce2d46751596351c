//! One validated grid cell: every parameter checked, every model ready to start a run.
//! The sections are checked one by one (`check/`), in the order their errors are reported;
//! this file composes them.

use std::sync::Arc;

use super::check::markets::{self, MarketAt};
use super::check::{
    correlation, flow, fund, fund_weights, horizon, liquidation, margin, population, price_model,
};
use super::file::{ExperimentFile, PriceModelSpec, TradersSection};
use super::lending::LendingScenario;
use crate::agents::{PopulationParams, Strategy};
use crate::market::data::DataFiles;
use crate::market::{
    CorrelatedShocks, ImpactLaw, MarkState, OtherVenues, PriceModelParams, ReplayHistory,
};
use crate::params::ParamError;
use crate::protocol::{
    FeeParams, InsuranceFund, LiquidationParams, LossSocialization, MarginParams,
};

/// One market of a scenario: its index model, mark, book and number of traders.
#[derive(Clone, Debug)]
pub struct MarketScenario {
    pub(crate) name: String,
    pub(crate) mark: MarkState,
    pub(crate) price_model: PriceModelParams,
    pub(crate) book: ImpactLaw,
    /// Other venues whose forced flow this venue's stands for.
    pub(crate) other_venues: Option<OtherVenues>,
    /// A replay's rows before its start, for a warm book's look-back (MODEL.md section 3).
    pub(crate) history: Option<Arc<ReplayHistory>>,
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

    /// The replayed rows before t = 0 that a warm book opens over (`None`: its look-back is
    /// drawn from the price model).
    pub(crate) fn history(&self) -> Option<&ReplayHistory> {
        self.history.as_deref()
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

    /// One market's section, checked part by part: mark and book, index model, other
    /// venues, lending terms, traders, fund weight.
    fn from_section(
        data: &DataFiles,
        at: &MarketAt,
        traders: &TradersSection,
        dt: f64,
        steps: u64,
    ) -> Result<Self, ParamError> {
        let (path, m) = (at.path.as_str(), &at.section);
        let (mark, book) = markets::mark_and_book(m, path, dt)?;
        let model_path = format!("{path}.model");
        let price_model = price_model::price_model(data, &m.model, dt, steps, &model_path)?;
        let other_venues = markets::other_venues(m, path)?;
        let lending = markets::lending(m, path)?;
        let history = match lending {
            None => warm_history(data, &m.model, traders, dt, &model_path)?,
            Some(_) => None,
        };
        let traders = markets::traders(m, traders, lending.as_ref(), path)?;
        markets::fund_weight(m, path)?;
        Ok(MarketScenario {
            name: at.name.clone(),
            mark,
            price_model,
            book,
            other_venues,
            history,
            kind: match lending {
                Some(l) => MarketKind::Lending(Box::new(l)),
                None => MarketKind::Perp { traders },
            },
        })
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
    /// The warm book's look-back in steps (`None`: a cold start, MODEL.md section 3).
    pub(crate) warm_start_steps: Option<usize>,
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

impl Scenario {
    /// Validates the file's parameters. The error's field is the full dotted path.
    pub fn from_file(f: &ExperimentFile) -> Result<Self, ParamError> {
        Self::from_file_reading(f, &DataFiles::default())
    }

    /// [`Self::from_file`], reading price files through `data` (shared by an experiment's
    /// cells, so each file is read once). Sections are checked in this order, so that the
    /// first error a file reports stays the same.
    pub fn from_file_reading(f: &ExperimentFile, data: &DataFiles) -> Result<Self, ParamError> {
        let (steps, dt) = horizon::check(&f.experiment)?;
        let sections = markets::sections(f)?;
        let markets = sections
            .iter()
            .map(|at| MarketScenario::from_section(data, at, &f.traders, dt, steps))
            .collect::<Result<Vec<_>, _>>()?;
        markets::check_total_traders(markets.iter().map(|m| m.accounts()))?;
        let models: Vec<(&str, &PriceModelParams)> = sections
            .iter()
            .zip(&markets)
            .map(|(at, m)| (at.path.as_str(), &m.price_model))
            .collect();
        let shocks = correlation::check(f.correlation.as_ref(), &models, dt, steps)?;
        let market_weights = fund_weights::check(&sections)?;
        let fund_shares = fund_weights::fund_shares(f.fund.scope, &market_weights);
        let traders = population::check(&f.traders, dt)?;
        let margin = margin::check(&f.margin)?;
        check_flows(&sections, &markets, &traders, &margin, steps, dt)?;
        let fees = margin::fees(&f.margin)?;
        let liquidation = liquidation::check(&f.liquidation, f.fund.adl_price)?;
        let (fund, fund_revenue_per_step) = fund::check(&f.fund, steps, dt)?;
        let starts: Vec<Option<f64>> = markets
            .iter()
            .map(|m| m.lending().is_none().then(|| m.mark.index()))
            .collect();
        let fund = fund::denominated(fund, f.fund.denomination, &starts)?;
        fund::record_unit(f.experiment.record.as_ref(), f.fund.denomination)?;
        let socialization = fund::socialization(f.fund.on_depletion);
        let first_lending = sections
            .iter()
            .zip(&markets)
            .find(|(_, m)| m.lending().is_some())
            .map(|(at, _)| at.path.as_str());
        liquidation::check_lending_rules(first_lending, &liquidation, socialization)?;
        let liquidation = liquidation::with_flash(first_lending, &f.liquidation, liquidation)?;
        Ok(Self {
            steps,
            dt_seconds: dt,
            markets,
            shocks,
            fund_shares,
            market_weights,
            population: traders.population,
            max_order_impact: traders.max_order_impact,
            margin,
            open_interest_usd: traders.open_interest_usd,
            warm_start_steps: traders.warm_start_steps,
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
    /// with a cap, how much is swept to treasury depends on where the balance started; and
    /// Comet's store front opens only while the reserves are below their target.
    pub fn fund_shapes_the_run_before_depletion(&self) -> bool {
        self.fund.cap().is_some()
            || self
                .markets
                .iter()
                .any(|m| m.lending().is_some_and(|l| l.store_front_reads_the_fund()))
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

/// The rules that each perp market's flows keep its index in range (borrowers never trade:
/// a lending market's only flow is its keepers' sales, bounded by its collateral).
fn check_flows(
    sections: &[MarketAt],
    markets: &[MarketScenario],
    traders: &population::Traders,
    margin: &MarginParams,
    steps: u64,
    dt: f64,
) -> Result<(), ParamError> {
    let horizon_hours = steps as f64 * dt / 3600.0;
    for (at, m) in sections
        .iter()
        .zip(markets)
        .filter(|(_, m)| m.lending().is_none())
    {
        let (path, section) = (at.path.as_str(), &at.section);
        flow::check_own_flow(
            section.permanent_impact,
            m.accounts(),
            &traders.population,
            traders
                .max_order_impact
                .min(2.0 * section.price_band.ln_1p()),
            horizon_hours,
            path,
        )?;
        if let Some(others) = &m.other_venues {
            let open_interest = traders.open_interest_usd.unwrap_or_else(|| {
                m.accounts() as f64
                    * traders
                        .population
                        .mean_notional_bound(margin.max_leverage())
            });
            flow::check_other_venues(others, open_interest, steps, path)?;
        }
    }
    Ok(())
}

/// A replay's rows before its start when `[traders] warm_start_hours` asks for a warm book
/// (population.rs reports a look-back out of range). A regime that replays rows is refused:
/// a look-back drawn from the model would replay the rows after its start.
fn warm_history(
    data: &DataFiles,
    model: &PriceModelSpec,
    traders: &TradersSection,
    dt: f64,
    path: &str,
) -> Result<Option<Arc<ReplayHistory>>, ParamError> {
    if population::warm_steps(traders.warm_start_hours, dt).is_none() {
        return Ok(None);
    }
    if price_model::regime_replays(model) {
        return Err(ParamError::new(
            "traders.warm_start_hours",
            format!(
                "cannot warm a book on `{path}`: one of its regimes is a replay, and a \
                 look-back drawn from the model would replay that regime's rows after its \
                 start; warm the book on a replay itself, or start cold"
            ),
        ));
    }
    let history = price_model::replay_history(data, model, traders.warm_start_hours, path)?;
    Ok(history.map(Arc::new))
}
