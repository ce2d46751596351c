//! A lending market's section checked into what a run needs (MODEL.md section 14): its
//! protocol terms and the borrowers' population.

use super::file::{DistributionSpec, LendingSection, LendingStyleSpec};
use crate::agents::PositiveDistribution;
use crate::params::{ParamError, ParamResult};
use crate::protocol::lending::aave::AaveRules;
use crate::protocol::lending::oracle::PushOracle;
use crate::protocol::lending::{LendingStyle, LendingTerms, Loan};
use crate::rng::SimRng;

/// A lending market of a scenario, validated.
#[derive(Clone, Debug)]
pub struct LendingScenario {
    pub(crate) terms: LendingTerms,
    pub(crate) borrowers: u32,
    collateral_usd: PositiveDistribution,
    initial_ltv: PositiveDistribution,
    ltv: f64,
}

impl LendingScenario {
    /// Checks `[path]` (a market's `lending` table).
    pub fn from_section(
        l: &LendingSection,
        path: &str,
        distribution: impl Fn(&DistributionSpec) -> ParamResult<PositiveDistribution>,
    ) -> ParamResult<Self> {
        let within = |e: ParamError| e.within(path);
        if l.borrowers == 0 || l.borrowers > u32::MAX as u64 {
            return Err(ParamError::new(
                format!("{path}.borrowers"),
                format!("must be between 1 and {}, got {}", u32::MAX, l.borrowers),
            ));
        }
        let style = match l.style {
            LendingStyleSpec::Aave => LendingStyle::Aave(
                AaveRules::new(l.liquidation_threshold, l.bonus, l.protocol_fee).map_err(within)?,
            ),
        };
        // Aave's `validateReserveConfiguration`: the borrowing limit sits below the
        // threshold, or a loan could open liquidatable.
        if !(l.ltv > 0.0 && l.ltv <= l.liquidation_threshold) {
            return Err(ParamError::new(
                format!("{path}.ltv"),
                format!(
                    "must be in (0, liquidation_threshold = {}], got {}",
                    l.liquidation_threshold, l.ltv
                ),
            ));
        }
        let o = &l.oracle;
        let oracle = PushOracle::new(o.deviation, o.heartbeat_seconds, o.lag_seconds)
            .map_err(|e| e.within(&format!("{path}.oracle")))?;
        let terms =
            LendingTerms::new(style, oracle, l.borrow_apr, l.deficit_offset_usd).map_err(within)?;
        if l.borrow_apr > 10.0 {
            return Err(ParamError::new(
                format!("{path}.borrow_apr"),
                format!("is a rate per year (0.05 for 5%), got {}", l.borrow_apr),
            ));
        }
        Ok(Self {
            terms,
            borrowers: l.borrowers as u32,
            collateral_usd: distribution(&l.collateral_usd)
                .map_err(|e| e.within(&format!("{path}.collateral_usd")))?,
            initial_ltv: distribution(&l.initial_ltv)
                .map_err(|e| e.within(&format!("{path}.initial_ltv")))?,
            ltv: l.ltv,
        })
    }

    /// One borrower at t = 0 with the index at `s0`: collateral and initial LTV drawn, the
    /// LTV capped at the market's limit.
    pub fn draw(&self, rng: &mut SimRng, s0: f64) -> Loan {
        let value = self.collateral_usd.sample(rng);
        let ltv = self.initial_ltv.sample(rng).min(self.ltv);
        Loan {
            collateral: value / s0,
            debt: value * ltv,
        }
    }
}
