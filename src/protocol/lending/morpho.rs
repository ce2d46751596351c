//! Morpho Blue's liquidation incentive (`Morpho.sol`, `_liquidate`): a liquidator repaying
//! `r` receives collateral worth `r * LIF`, with
//! `LIF = min(MAX_LIQUIDATION_INCENTIVE_FACTOR, 1 / (1 - LIQUIDATION_CURSOR (1 - LLTV)))`.

/// `LIQUIDATION_CURSOR`.
pub const LIQUIDATION_CURSOR: f64 = 0.3;
/// `MAX_LIQUIDATION_INCENTIVE_FACTOR`.
pub const MAX_INCENTIVE_FACTOR: f64 = 1.15;

/// The liquidation incentive factor of a market with liquidation LTV `lltv` (in [0, 1]).
pub fn incentive_factor(lltv: f64) -> f64 {
    MAX_INCENTIVE_FACTOR.min(1.0 / (1.0 - LIQUIDATION_CURSOR * (1.0 - lltv)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_incentive_at_lltv_86_is_4_38_percent_and_capped_at_15() {
        let bonus = incentive_factor(0.86) - 1.0;
        assert!((bonus - 0.042 / 0.958).abs() < 1e-15, "{bonus}");
        assert!((bonus * 100.0 - 4.38).abs() < 0.005, "{bonus}");
        assert_eq!(incentive_factor(1.0), 1.0);
        // Low LLTVs hit the cap: 1 / (1 - 0.3 x 0.6) = 1.22 > 1.15.
        assert_eq!(incentive_factor(0.4), MAX_INCENTIVE_FACTOR);
    }
}
