//! The RNG floor: what drawing a run's random numbers costs, and nothing else.
//!
//! A run of R1 (MODEL.md section 12) cannot be faster than the random numbers it consumes:
//! one shock per market per step and one initial position per trader. The time of this
//! function over a batch, against the time of the batch itself, says how far the simulator is
//! from that limit (`cargo bench --bench throughput`, `rng_floor`).

use crate::config::Scenario;
use crate::market::{ShockLaw, Shocks};
use crate::rng::{Stream, market_rng, stream_rng};

/// Draws, from the same generators and distributions as [`super::simulate`], the random
/// numbers one run of `scenario` consumes when its traders are static: each market's shocks
/// (one per step) and each trader's initial position. Returns their sum, so that the work
/// cannot be optimized away. Markets that replay or resample history draw no shocks.
pub fn draw_random_inputs(scenario: &Scenario, master_seed: u64, seed_index: u64) -> f64 {
    let mut sum = 0.0;
    for (m, market) in scenario.markets.iter().enumerate() {
        let shocks = match market.price_model.shock_law() {
            Ok(ShockLaw::Normal) => Some(Shocks::Normal),
            Ok(ShockLaw::StudentT(nu)) => Shocks::student_t(nu).ok(),
            Err(_) => None,
        };
        if let Some(shocks) = shocks {
            let mut rng = market_rng(master_seed, seed_index, m);
            for _ in 0..scenario.steps {
                sum += shocks.draw(&mut rng);
            }
        }
    }
    let mut rng = stream_rng(master_seed, seed_index, Stream::Population);
    let cap = |c, l| scenario.margin.cap_leverage(c, l);
    for market in &scenario.markets {
        let s0 = market.mark.index();
        for _ in 0..market.accounts() {
            sum += scenario.population.draw(&mut rng, s0, cap).size;
        }
    }
    sum
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::{Experiment, Overrides};
    use crate::market::PriceModel;

    /// The floor draws the very numbers a run draws: its shocks drive R1's GARCH to the same
    /// returns as the model drawing them itself.
    #[test]
    fn the_floor_draws_what_a_run_draws() {
        let exp = Experiment::parse("", Path::new("r1.toml"), Overrides::default()).unwrap();
        let sc = &exp.cells[0].scenario;
        let params = &sc.markets[0].price_model;
        let (mut own, mut driven) = (params.start(), params.start());
        let mut rng = market_rng(5, 3, 0);
        let mut shock_rng = market_rng(5, 3, 0);
        let ShockLaw::StudentT(nu) = params.shock_law().unwrap() else {
            panic!("R1 has Student-t shocks");
        };
        let shocks = Shocks::student_t(nu).unwrap();
        for _ in 0..100 {
            let a = own.next_log_return(&mut rng);
            let b = driven.next_log_return_driven(shocks.draw(&mut shock_rng), &mut shock_rng);
            assert_eq!(a, b);
        }
        assert!(draw_random_inputs(sc, 5, 3).is_finite());
    }
}
