//! Opening a run's population: the markets of each kind in turn, opened at their index, with
//! their traders' (or borrowers') accounts, their strategy state and the open interest at
//! t = 0. The market's kind is read here once, from the scenario; after this, the run asks
//! each market only what any market answers.

use super::traders::TraderStates;
use super::warm_start::{LookBack, SideTarget, WarmPosition};
use crate::agents::{DrawnAccount, InitialPosition, ThresholdLaw, collateral_scale};
use crate::config::{LendingScenario, MarketKind, Scenario};
use crate::protocol::lending::borrowers::{BorrowerBehavior, BorrowerPlan};
use crate::protocol::lending::{LendingMarket, StoreFrontBuyers};
use crate::protocol::{
    InsuranceFund, LiquidationMode, Market, PerpMarket, PositionBook, Takeover, Venue,
};
use crate::rng::{SimRng, Stream, stream_rng};

/// Open interest at t = 0: of the run, and of each market.
pub(super) struct OpenInterest {
    pub(super) run: f64,
    pub(super) markets: Vec<f64>,
}

/// The markets of a run, their traders' strategy states and the open interest at t = 0.
pub(super) type Population = (Vec<Market>, TraderStates, OpenInterest);

/// The traders of each market in turn, opened at its index: their books, their strategy
/// state, and the open interest at t = 0 (a lending market's: the debt its borrowers owe).
pub(super) fn open_population(sc: &Scenario, master_seed: u64, seed_index: u64) -> Population {
    let mut opener = Opener::new(sc, master_seed, seed_index);
    let mut markets = Vec::with_capacity(sc.markets.len());
    let funds = sc.fund_shares_of_total().len();
    for (m, ms) in sc.markets.iter().enumerate() {
        let at = MarketAt {
            m,
            s0: ms.mark.index(),
            first: opener.states.rate.len() as u32,
            fund: if funds > 1 { m as u16 } else { 0 },
        };
        let market = match &ms.kind {
            MarketKind::Perp { traders } => opener.perp(&at, *traders),
            MarketKind::Lending(l) => opener.lending(&at, l),
        };
        markets.push(market);
    }
    (markets, opener.states, opener.open_interest)
}

/// Where a market opens: its place in the run, its index at t = 0, the run-wide id of its
/// first trader and the fund that pays its deficits.
struct MarketAt {
    m: usize,
    s0: f64,
    first: u32,
    fund: u16,
}

/// The random streams opening draws from and what it has opened so far.
struct Opener<'s> {
    sc: &'s Scenario,
    master_seed: u64,
    seed_index: u64,
    population_rng: SimRng,
    traits_rng: SimRng,
    /// Each strategy group's law of private thresholds, if its strategy reads one.
    threshold_laws: Vec<Option<ThresholdLaw>>,
    /// Opened only when some trader draws a threshold (herding), so that other runs keep
    /// their bits and pay nothing.
    thresholds_rng: Option<SimRng>,
    borrowers_rng: SimRng,
    /// Opened only when some market's borrowers have plans (opening a run is on the hot
    /// path).
    plans_rng: Option<SimRng>,
    states: TraderStates,
    open_interest: OpenInterest,
}

impl<'s> Opener<'s> {
    fn new(sc: &'s Scenario, master_seed: u64, seed_index: u64) -> Self {
        let n: usize = sc.markets.iter().map(|m| m.accounts() as usize).sum();
        let threshold_laws: Vec<_> = sc
            .population
            .groups()
            .iter()
            .map(|g| g.strategy.threshold_law())
            .collect();
        let thresholds_rng = threshold_laws
            .iter()
            .any(Option::is_some)
            .then(|| stream_rng(master_seed, seed_index, Stream::Thresholds));
        Self {
            sc,
            master_seed,
            seed_index,
            population_rng: stream_rng(master_seed, seed_index, Stream::Population),
            traits_rng: stream_rng(master_seed, seed_index, Stream::Traits),
            threshold_laws,
            thresholds_rng,
            borrowers_rng: stream_rng(master_seed, seed_index, Stream::Borrowers),
            plans_rng: None,
            states: TraderStates::with_capacity(n),
            open_interest: OpenInterest {
                run: 0.0,
                markets: vec![0.0; sc.markets.len()],
            },
        }
    }

    /// A perp market of `traders` traders, each drawn in trader order with its strategy
    /// state (decision rate, threshold, reserve).
    fn perp(&mut self, at: &MarketAt, traders: u32) -> Market {
        let (sc, s0) = (self.sc, at.s0);
        let groups = sc.population.groups();
        let mut book = PositionBook::with_capacity(traders as usize);
        let accounts = match sc.warm_start_steps {
            None => opening_accounts(sc, traders, s0, &mut self.population_rng)
                .into_iter()
                .map(|position| WarmPosition {
                    position,
                    entry: s0,
                    age: 0,
                })
                .collect(),
            Some(steps) => self.warm_accounts(at, traders, steps),
        };
        for (
            local,
            WarmPosition {
                position: p, entry, ..
            },
        ) in (0..traders).zip(accounts)
        {
            book.push(p.collateral, p.size, entry);
            self.open_interest.run += p.size.abs() * s0;
            self.open_interest.markets[at.m] += p.size.abs() * s0;
            let g = sc.population.group_of(local, traders);
            let group = &groups[g];
            let rate = group
                .decisions_per_hour
                .as_ref()
                .map_or(0.0, |d| d.sample(&mut self.traits_rng));
            let threshold = match (&self.threshold_laws[g], &mut self.thresholds_rng) {
                (Some(law), Some(rng)) => law.sample(rng),
                _ => 0.0,
            };
            self.states.push(
                g as u8,
                rate,
                p.collateral * group.reserve_ratio,
                p.collateral,
                p.leverage,
            );
            self.states.set_threshold(threshold);
        }
        PerpMarket::open(book, sc.margin.clone(), at.fund, at.first)
            .with_orders(*sc.liquidation.orders(), sc.dt_seconds)
            .into()
    }

    /// The `n` traders of the perp market at `at` as a warm book: the accounts drawn as a
    /// cold start draws them, each opened at a time over a look-back of `steps` steps of the
    /// market's own model (or a replay's preceding rows) that it survives
    /// (simulation/warm_start.rs), each side fitted to a record's open interest at t = 0.
    /// The look-back and the opening times come from a stream of their own.
    fn warm_accounts(&mut self, at: &MarketAt, n: u32, steps: usize) -> Vec<WarmPosition> {
        let sc = self.sc;
        let cap = |c, l| sc.margin.cap_leverage(c, l);
        let drawn: Vec<DrawnAccount> = (0..n)
            .map(|_| sc.population.draw_account(&mut self.population_rng))
            .collect();
        let mut rng = stream_rng(self.master_seed, self.seed_index, Stream::WarmStart);
        let market = &sc.markets[at.m];
        let look_back = match market.history() {
            Some(history) => LookBack::replayed(history, at.s0),
            None => LookBack::draw(market.price_model.start(), at.s0, steps, &mut rng),
        };
        let scales = side_scales(sc, &drawn);
        let mut book: Vec<WarmPosition> = drawn
            .iter()
            .map(|a| look_back.open(a, scales.of(a), cap, &sc.margin, &mut rng))
            .collect();
        if let Some(oi) = sc.open_interest_usd {
            let long_share = sc.population.long_share();
            for (long, usd) in [(true, oi * long_share), (false, oi * (1.0 - long_share))] {
                let side = SideTarget { long, usd };
                look_back.fit_side(side, &drawn, &mut book, cap, &sc.margin, &mut rng);
            }
        }
        book
    }

    /// A lending market of `l`'s borrowers, each loan drawn in borrower order; borrowers
    /// never decide on the decision clock (their plans act on the oracle), and defenders
    /// hold the reserve their rule sets aside.
    fn lending(&mut self, at: &MarketAt, l: &LendingScenario) -> Market {
        let s0 = at.s0;
        let loans: Vec<_> = (0..l.borrowers)
            .map(|_| l.draw(&mut self.borrowers_rng, s0))
            .collect();
        let behavior = l.terms.behavior();
        let plans = if behavior.is_static() {
            Vec::new()
        } else {
            let (master_seed, seed_index) = (self.master_seed, self.seed_index);
            let rng = self
                .plans_rng
                .get_or_insert_with(|| stream_rng(master_seed, seed_index, Stream::BorrowerPlans));
            borrower_plans(behavior, loans.len(), rng)
        };
        for (k, loan) in loans.iter().enumerate() {
            let reserve = match (plans.get(k), behavior.defend) {
                (Some(BorrowerPlan::Defender), Some(rule)) => {
                    rule.reserve_for(loan.collateral_usd(s0))
                }
                _ => 0.0,
            };
            self.states
                .push(0, 0.0, reserve, loan.collateral_usd(s0), 1.0);
            self.open_interest.markets[at.m] += loan.debt;
        }
        self.open_interest.run += self.open_interest.markets[at.m];
        let dt = self.sc.dt_seconds;
        let mut market = LendingMarket::open(&loans, l.terms, s0, at.fund, at.first, dt);
        if let LiquidationMode::Keeper(keepers) = self.sc.liquidation.mode() {
            market = market
                .with_store_front_buyers(StoreFrontBuyers::new(keepers.count(), keepers.cost()));
        }
        if plans.is_empty() {
            market.into()
        } else {
            market.with_plans(plans, dt).into()
        }
    }
}

/// The `n` traders' positions of one perp market at t = 0, drawn in trader order; when the
/// scenario sets the open interest from a record, each side's collateral scaled to its share
/// of it.
fn opening_accounts(sc: &Scenario, n: u32, s0: f64, rng: &mut SimRng) -> Vec<InitialPosition> {
    let cap = |c, l| sc.margin.cap_leverage(c, l);
    let drawn: Vec<DrawnAccount> = (0..n).map(|_| sc.population.draw_account(rng)).collect();
    let scales = side_scales(sc, &drawn);
    drawn
        .iter()
        .map(|a| a.open(s0, scales.of(a), cap))
        .collect()
}

/// The factor on each side's drawn collateral that sets its notional at `S0` to its share of
/// a record's open interest (1 without a record).
#[derive(Clone, Copy, Debug)]
struct SideScales {
    long: f64,
    short: f64,
}

impl SideScales {
    fn of(&self, a: &DrawnAccount) -> f64 {
        if a.long { self.long } else { self.short }
    }
}

fn side_scales(sc: &Scenario, drawn: &[DrawnAccount]) -> SideScales {
    let cap = |c, l| sc.margin.cap_leverage(c, l);
    match sc.open_interest_usd {
        None => SideScales {
            long: 1.0,
            short: 1.0,
        },
        Some(oi) => {
            let share = sc.population.long_share();
            SideScales {
                long: collateral_scale(drawn, true, oi * share, cap).unwrap_or(1.0),
                short: collateral_scale(drawn, false, oi * (1.0 - share), cap).unwrap_or(1.0),
            }
        }
    }
}

/// Each of `n` borrowers' plans, one uniform draw apiece.
fn borrower_plans(behavior: &BorrowerBehavior, n: usize, rng: &mut SimRng) -> Vec<BorrowerPlan> {
    use rand::RngExt;
    (0..n).map(|_| behavior.plan(rng.random::<f64>())).collect()
}

/// The venue of a run: its markets, its funds, the traders' reserves and the keepers.
pub(super) fn open_venue(sc: &Scenario, markets: Vec<Market>, states: &TraderStates) -> Venue {
    let mut venue = Venue::open(markets, sc.initial_funds());
    if states.reserve.iter().any(|&r| r > 0.0) {
        venue = venue.with_reserves(states.reserve.clone());
    }
    if let LiquidationMode::Keeper(k) = sc.liquidation.mode() {
        venue = venue.with_keepers(k.count(), k.capital());
    }
    if let Takeover::Vault { capital, .. } = sc.liquidation.orders().takeover {
        venue = venue.with_vault(InsuranceFund::vault(capital));
    }
    venue
}
