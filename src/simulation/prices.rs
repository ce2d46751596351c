//! The price side of a run (MODEL.md sections 1 and 2): each market's index model, its mark
//! with the book's impact law, and the largest voluntary order a step allows. The first phase
//! of a step moves them.

use crate::config::Scenario;
use crate::market::{
    CommonStreams, CorrelatedShocks, ImpactLaw, ImpactModel, MarkState, OtherVenues, PriceModel,
    PriceModelState,
};
use crate::rng::{SimRng, market_rng};

/// Steps of index growth drawn at a time (at most; the last block stops at the horizon).
const BLOCK_STEPS: usize = 128;

/// The index's growth factors `exp(r_t)` for the coming steps, drawn a block at a time.
///
/// The index model reads nothing of the venue (MODEL.md section 1: its returns are
/// exogenous; even permanent impact acts on the level, not on the returns), so its draws can
/// run ahead of the step. In a tight loop the shock samplers and `exp` calls of consecutive
/// steps overlap, where inside the step each waited on the one before (GARCH's variance and
/// the index form a chain). Same streams, same draws in the same order: the same bits.
struct GrowthBlock {
    factors: Vec<f64>,
    next: usize,
}

impl GrowthBlock {
    fn new() -> Self {
        Self {
            factors: Vec::with_capacity(BLOCK_STEPS),
            next: 0,
        }
    }

    fn is_spent(&self) -> bool {
        self.next == self.factors.len()
    }

    #[inline]
    fn take(&mut self) -> f64 {
        let g = self.factors[self.next];
        self.next += 1;
        g
    }
}

pub use crate::market::SANE_PRICE_FACTOR as SANE_FACTOR;

/// One market's prices.
pub(super) struct MarketPrices<'s> {
    /// The index at t = 0, against which [`SANE_FACTOR`] is measured.
    start: f64,
    /// The sane range of index and mark: `start` over and times [`SANE_FACTOR`].
    sane: (f64, f64),
    model: PriceModelState,
    rng: SimRng,
    growth: GrowthBlock,
    pub mark: MarkState,
    pub law: &'s ImpactLaw,
    /// Other venues whose forced flow this venue's stands for (MODEL.md section 2).
    pub other_venues: Option<&'s OtherVenues>,
    /// The largest voluntary order (USD) of this step, at the depth the step began with
    /// (flow-keyed depth may thin the book within the step; the cap stays).
    pub order_cap: f64,
}

/// Shocks drawn jointly for all markets (correlated, with a common crash).
struct JointShocks<'s> {
    law: &'s CorrelatedShocks,
    streams: CommonStreams,
    scratch: Vec<f64>,
    shocks: Vec<f64>,
    crash: Vec<f64>,
}

pub(super) struct Prices<'s> {
    markets: Vec<MarketPrices<'s>>,
    joint: Option<JointShocks<'s>>,
    /// Largest price move of one voluntary order (fraction).
    max_order_impact: f64,
    /// Whether anyone may place a voluntary order (a trader that decides, or one that comes
    /// back): without, the order caps are never read and not worked out.
    traders_trade: bool,
    /// Steps of the horizon whose growth is not drawn yet.
    steps_to_draw: u64,
}

impl<'s> Prices<'s> {
    /// Every market of `sc` at its starting price, each with its own stream.
    pub fn open(sc: &'s Scenario, master_seed: u64, seed_index: u64) -> Self {
        let n = sc.markets.len();
        let markets = sc
            .markets
            .iter()
            .enumerate()
            .map(|(m, ms)| MarketPrices {
                start: ms.mark.index(),
                sane: (ms.mark.index() / SANE_FACTOR, ms.mark.index() * SANE_FACTOR),
                model: ms.price_model.start(),
                rng: market_rng(master_seed, seed_index, m),
                growth: GrowthBlock::new(),
                mark: ms.mark.clone(),
                law: &ms.book,
                other_venues: ms.other_venues.as_ref(),
                order_cap: 0.0,
            })
            .collect();
        let joint = sc.shocks.as_ref().map(|law| JointShocks {
            law,
            streams: CommonStreams::new(master_seed, seed_index),
            scratch: vec![0.0; n],
            shocks: vec![0.0; n],
            crash: vec![0.0; n],
        });
        let population = &sc.population;
        let traders_trade = population.reentry().is_some()
            || population
                .groups()
                .iter()
                .any(|g| g.decisions_per_hour.is_some());
        Self {
            markets,
            joint,
            max_order_impact: sc.max_order_impact,
            traders_trade,
            steps_to_draw: sc.steps,
        }
    }

    /// Phase 1 of a step: every index moves by its model's return, impact decays, depth
    /// follows volatility, and the step's order caps are set.
    pub fn advance(&mut self) {
        if self.markets[0].growth.is_spent() {
            self.draw_block();
        }
        for p in &mut self.markets {
            p.mark.advance_by(p.growth.take());
        }
        if self.traders_trade {
            for p in &mut self.markets {
                p.order_cap = p
                    .law
                    .notional_for_impact(self.max_order_impact, p.mark.depth());
            }
        }
    }

    /// The growth of every market over the next block of steps: joint shocks first, step by
    /// step, when the markets are correlated; otherwise each market's model on its own.
    fn draw_block(&mut self) {
        // Past the horizon (no run goes there) the models simply go on, a step at a time.
        let steps = self.steps_to_draw.clamp(1, BLOCK_STEPS as u64) as usize;
        self.steps_to_draw = self.steps_to_draw.saturating_sub(steps as u64);
        for p in &mut self.markets {
            p.growth.factors.clear();
            p.growth.next = 0;
        }
        match &mut self.joint {
            Some(j) => {
                for _ in 0..steps {
                    j.law
                        .draw(&mut j.streams, &mut j.scratch, &mut j.shocks, &mut j.crash);
                    for (m, p) in self.markets.iter_mut().enumerate() {
                        let r = p.model.next_log_return_driven(j.shocks[m], &mut p.rng);
                        p.growth.factors.push((r + j.crash[m]).exp());
                    }
                }
            }
            None => {
                for p in &mut self.markets {
                    let (model, rng) = (&mut p.model, &mut p.rng);
                    p.growth
                        .factors
                        .extend((0..steps).map(|_| model.next_log_return(rng).exp()));
                }
            }
        }
    }

    /// The first market whose index or mark has left the sane range (or is not a number),
    /// with its starting index.
    pub fn first_insane(&self) -> Option<(usize, f64)> {
        self.markets.iter().enumerate().find_map(|(m, p)| {
            let (lo, hi) = p.sane;
            let sane = |x: f64| x >= lo && x <= hi;
            (!(sane(p.mark.index()) && sane(p.mark.book()) && sane(p.mark.mark())))
                .then_some((m, p.start))
        })
    }

    pub fn len(&self) -> usize {
        self.markets.len()
    }

    #[inline]
    pub fn get(&self, m: usize) -> &MarketPrices<'s> {
        &self.markets[m]
    }

    #[inline]
    pub fn get_mut(&mut self, m: usize) -> &mut MarketPrices<'s> {
        &mut self.markets[m]
    }

    pub fn iter(&self) -> impl Iterator<Item = &MarketPrices<'s>> {
        self.markets.iter()
    }
}
