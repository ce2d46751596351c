//! The price side of a run (MODEL.md sections 1 and 2): each market's index model, its mark
//! with the book's impact law, and the largest voluntary order a step allows. The first phase
//! of a step moves them.

use crate::config::Scenario;
use crate::market::{
    CommonStreams, CorrelatedShocks, ImpactLaw, ImpactModel, MarkState, PriceModel, PriceModelState,
};
use crate::rng::{SimRng, market_rng};

/// One market's prices.
pub(super) struct MarketPrices<'s> {
    model: PriceModelState,
    rng: SimRng,
    pub mark: MarkState,
    pub law: &'s ImpactLaw,
    /// The largest voluntary order (USD) of this step: depth moves only with the index, so it
    /// holds for the whole step.
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
                model: ms.price_model.start(),
                rng: market_rng(master_seed, seed_index, m),
                mark: ms.mark.clone(),
                law: &ms.book,
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
        }
    }

    /// Phase 1 of a step: every index moves by its model's return (joint shocks first, when
    /// the markets are correlated), impact decays, depth follows volatility, and the step's
    /// order caps are set.
    pub fn advance(&mut self) {
        match &mut self.joint {
            Some(j) => {
                j.law
                    .draw(&mut j.streams, &mut j.scratch, &mut j.shocks, &mut j.crash);
                for (m, p) in self.markets.iter_mut().enumerate() {
                    let r = p.model.next_log_return_driven(j.shocks[m], &mut p.rng);
                    p.mark.advance(r + j.crash[m]);
                }
            }
            None => {
                for p in &mut self.markets {
                    p.mark.advance(p.model.next_log_return(&mut p.rng));
                }
            }
        }
        if self.traders_trade {
            for p in &mut self.markets {
                p.order_cap = p
                    .law
                    .notional_for_impact(self.max_order_impact, p.mark.depth());
            }
        }
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
