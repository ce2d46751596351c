//! Aave v3.3+ liquidations (`LiquidationLogic.executeLiquidationCall`): a keeper repays part
//! of the debt and receives collateral worth `repaid (1 + bonus)` at the oracle price.
//!
//! * Close factor: at most 50% of the debt (`DEFAULT_LIQUIDATION_CLOSE_FACTOR`), 100% when
//!   `HF <= 0.95` (`CLOSE_FACTOR_HF_THRESHOLD`) or when the position's collateral or debt is
//!   under 2,000 USD (`MIN_BASE_MAX_CLOSE_FACTOR_THRESHOLD`).
//! * Dust: unless the debt is repaid in full or the collateral seized in full, both must keep
//!   at least 1,000 USD (`MIN_LEFTOVER_BASE`); otherwise the call reverts, so a keeper that
//!   wants the position takes everything.
//! * Collateral capped at the borrower's: the repaid debt is then `c O / (1 + bonus)`.
//! * `liquidationProtocolFee` of the bonus part of the seized collateral goes to the
//!   treasury; the keeper receives the rest.

use super::loan::Loan;
use crate::params::{ParamError, ParamResult, unit_interval};

/// `DEFAULT_LIQUIDATION_CLOSE_FACTOR`: half the debt per call.
pub const CLOSE_FACTOR: f64 = 0.5;
/// `CLOSE_FACTOR_HF_THRESHOLD`: at or below this health factor the whole debt may be repaid.
pub const FULL_CLOSE_HEALTH_FACTOR: f64 = 0.95;
/// `MIN_BASE_MAX_CLOSE_FACTOR_THRESHOLD`: collateral or debt under this (USD) may be closed
/// in full.
pub const SMALL_POSITION_USD: f64 = 2_000.0;
/// `MIN_LEFTOVER_BASE`: a partial liquidation must leave at least this (USD) of both.
pub const MIN_LEFTOVER_USD: f64 = 1_000.0;

/// A reserve's liquidation parameters, checked once.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AaveRules {
    liquidation_threshold: f64,
    bonus: f64,
    protocol_fee: f64,
}

impl AaveRules {
    /// `liquidation_threshold` in (0, 1); `bonus` in [0, 1) with `LT (1 + bonus) < 1` (Aave's
    /// `validateReserveConfiguration`: otherwise a liquidation at the threshold would seize
    /// more than the collateral); `protocol_fee` a share of the bonus, in [0, 1].
    pub fn new(liquidation_threshold: f64, bonus: f64, protocol_fee: f64) -> ParamResult<Self> {
        if !(liquidation_threshold > 0.0 && liquidation_threshold < 1.0) {
            return Err(ParamError::new(
                "liquidation_threshold",
                format!("must be in (0, 1), got {liquidation_threshold}"),
            ));
        }
        if !(0.0..1.0).contains(&bonus) {
            return Err(ParamError::new(
                "bonus",
                format!("must be in [0, 1), got {bonus}"),
            ));
        }
        if liquidation_threshold * (1.0 + bonus) >= 1.0 {
            return Err(ParamError::new(
                "bonus",
                format!(
                    "liquidation_threshold x (1 + bonus) must be < 1 (a liquidation at the threshold would seize more than the collateral), got {}",
                    liquidation_threshold * (1.0 + bonus)
                ),
            ));
        }
        Ok(Self {
            liquidation_threshold,
            bonus,
            protocol_fee: unit_interval("protocol_fee", protocol_fee)?,
        })
    }

    pub fn liquidation_threshold(&self) -> f64 {
        self.liquidation_threshold
    }

    /// The most debt one call may repay at `oracle`: the close factor's share of the debt.
    pub fn max_repayable(&self, loan: &Loan, oracle: f64) -> f64 {
        let hf = loan.health_factor(oracle, self.liquidation_threshold);
        let small =
            loan.collateral_usd(oracle) < SMALL_POSITION_USD || loan.debt < SMALL_POSITION_USD;
        if hf <= FULL_CLOSE_HEALTH_FACTOR || small {
            loan.debt
        } else {
            CLOSE_FACTOR * loan.debt
        }
    }

    /// The liquidation a keeper that brings at most `budget` USD makes at `oracle`, repaying
    /// as much as the close factor, the collateral and its budget allow. `None` when the
    /// loan is healthy (`HF >= 1`) or holds nothing, or when the dust rule asks for the whole
    /// position and the budget cannot pay for it (the contract reverts).
    pub fn liquidate(&self, loan: &Loan, oracle: f64, budget: f64) -> Option<AaveLiquidation> {
        let healthy = loan.health_factor(oracle, self.liquidation_threshold) >= 1.0;
        if healthy || loan.collateral <= 0.0 || oracle <= 0.0 || budget <= 0.0 {
            return None;
        }
        let value = loan.collateral_usd(oracle);
        // Debt that the whole collateral pays for, bonus included.
        let covered_by_collateral = value / (1.0 + self.bonus);
        let mut repaid = self
            .max_repayable(loan, oracle)
            .min(covered_by_collateral)
            .min(budget);
        let full_debt = repaid >= loan.debt;
        let full_collateral = repaid >= covered_by_collateral;
        if !full_debt && !full_collateral {
            let debt_left = loan.debt - repaid;
            let collateral_left = value - repaid * (1.0 + self.bonus);
            if debt_left < MIN_LEFTOVER_USD || collateral_left < MIN_LEFTOVER_USD {
                // MUST_NOT_LEAVE_DUST: the whole position or nothing.
                repaid = loan.debt.min(covered_by_collateral);
                if repaid > budget {
                    return None;
                }
            }
        }
        let seized = if repaid >= covered_by_collateral {
            loan.collateral
        } else {
            repaid * (1.0 + self.bonus) / oracle
        };
        let bonus_part = seized - seized / (1.0 + self.bonus);
        let protocol_fee = bonus_part * self.protocol_fee;
        Some(AaveLiquidation {
            debt_repaid: repaid,
            collateral_seized: seized,
            to_keeper: seized - protocol_fee,
            to_treasury: protocol_fee,
        })
    }
}

/// Points of the coarse scan of the partial range before the golden-section search refines
/// the best of them ([`AaveRules::most_profitable`]).
const SCAN_POINTS: usize = 16;
/// Golden-section steps: the bracket (two scan intervals) shrinks by 0.618 a step, to about
/// 1e-11 of the range.
const GOLDEN_STEPS: usize = 48;

impl AaveRules {
    /// The liquidation of exactly `repaid` USD of debt (at most what the whole collateral
    /// pays for, bonus included), without checking the close factor or the dust rule: the
    /// caller has chosen `repaid` among the amounts [`Self::repayments`] allows.
    fn liquidate_exactly(&self, loan: &Loan, oracle: f64, repaid: f64) -> AaveLiquidation {
        let covered_by_collateral = loan.collateral_usd(oracle) / (1.0 + self.bonus);
        let seized = if repaid >= covered_by_collateral {
            loan.collateral
        } else {
            repaid * (1.0 + self.bonus) / oracle
        };
        let bonus_part = seized - seized / (1.0 + self.bonus);
        let protocol_fee = bonus_part * self.protocol_fee;
        AaveLiquidation {
            debt_repaid: repaid.min(covered_by_collateral),
            collateral_seized: seized,
            to_keeper: seized - protocol_fee,
            to_treasury: protocol_fee,
        }
    }

    /// The repayments `executeLiquidationCall` accepts on `loan` at `oracle` from a keeper
    /// that brings at most `budget` USD: any amount up to `partial` (the close factor's
    /// share, less what would leave under `MIN_LEFTOVER_BASE` of debt or collateral), and
    /// the whole position, `whole`, when the close factor allows it and the budget pays it.
    /// `None` when the loan is healthy or holds nothing.
    pub fn repayments(&self, loan: &Loan, oracle: f64, budget: f64) -> Option<Repayments> {
        let healthy = loan.health_factor(oracle, self.liquidation_threshold) >= 1.0;
        if healthy || loan.collateral <= 0.0 || oracle <= 0.0 || budget <= 0.0 {
            return None;
        }
        let value = loan.collateral_usd(oracle);
        let covered_by_collateral = value / (1.0 + self.bonus);
        let full = loan.debt.min(covered_by_collateral);
        let max = self.max_repayable(loan, oracle);
        // A partial call leaves at least MIN_LEFTOVER_USD of debt and of collateral.
        let partial = max
            .min(loan.debt - MIN_LEFTOVER_USD)
            .min((value - MIN_LEFTOVER_USD) / (1.0 + self.bonus))
            .min(budget)
            .max(0.0);
        Some(Repayments {
            partial: if partial < full { partial } else { 0.0 },
            whole: (max >= full && full <= budget).then_some(full),
        })
    }

    /// The liquidation of `loan` at `oracle` that maximizes `profit` (the keeper's bonus less
    /// the slippage of selling what it receives and its gas) among the repayments a keeper
    /// with `budget` may make, with that profit. Real liquidators size each call this way
    /// (the close factor is a ceiling, not an amount). The partial range is scanned at
    /// [`SCAN_POINTS`] points and the best refined by golden-section search (the profit is
    /// concave there when slippage is convex in size, as under the linear and square-root
    /// laws); the whole position is the other candidate. `None` when no repayment is allowed.
    pub fn most_profitable(
        &self,
        loan: &Loan,
        oracle: f64,
        budget: f64,
        profit: impl Fn(&AaveLiquidation) -> f64,
    ) -> Option<(AaveLiquidation, f64)> {
        let allowed = self.repayments(loan, oracle, budget)?;
        let at = |x: f64| {
            let l = self.liquidate_exactly(loan, oracle, x);
            (l, profit(&l))
        };
        let mut best: Option<(AaveLiquidation, f64)> = allowed.whole.map(at);
        if allowed.partial > 0.0 {
            let p = allowed.partial;
            let h = p / SCAN_POINTS as f64;
            let (mut top, mut top_profit) = (p, f64::NEG_INFINITY);
            for j in 1..=SCAN_POINTS {
                let x = h * j as f64;
                let (_, v) = at(x);
                if v > top_profit {
                    (top, top_profit) = (x, v);
                }
            }
            let x = golden_section_max(|x| at(x).1, (top - h).max(0.0), (top + h).min(p));
            for candidate in [x, top] {
                let c = at(candidate);
                if best.is_none_or(|b| c.1 > b.1) {
                    best = Some(c);
                }
            }
        }
        best
    }
}

/// The maximum of `f` on `[lo, hi]` by golden-section search, for `f` unimodal there.
fn golden_section_max(f: impl Fn(f64) -> f64, lo: f64, hi: f64) -> f64 {
    const INV_PHI: f64 = 0.618_033_988_749_894_9;
    let (mut a, mut b) = (lo, hi);
    let mut c = b - INV_PHI * (b - a);
    let mut d = a + INV_PHI * (b - a);
    let (mut fc, mut fd) = (f(c), f(d));
    for _ in 0..GOLDEN_STEPS {
        if fc >= fd {
            b = d;
            (d, fd) = (c, fc);
            c = b - INV_PHI * (b - a);
            fc = f(c);
        } else {
            a = c;
            (c, fc) = (d, fd);
            d = a + INV_PHI * (b - a);
            fd = f(d);
        }
    }
    if fc >= fd { c } else { d }
}

/// The repayments a liquidation call accepts ([`AaveRules::repayments`]): any amount in
/// `(0, partial]` (empty when `partial` is 0), and `whole`, the whole position, if allowed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Repayments {
    pub partial: f64,
    pub whole: Option<f64>,
}

/// What one Aave liquidation moves: the keeper pays `debt_repaid` (USD) and the borrower
/// loses `collateral_seized` units, of which `to_keeper` go to the keeper and `to_treasury`
/// (the protocol fee) to the treasury.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AaveLiquidation {
    pub debt_repaid: f64,
    pub collateral_seized: f64,
    pub to_keeper: f64,
    pub to_treasury: f64,
}

impl AaveLiquidation {
    /// The loan after the liquidation.
    pub fn apply(&self, loan: &Loan) -> Loan {
        Loan {
            collateral: (loan.collateral - self.collateral_seized).max(0.0),
            debt: (loan.debt - self.debt_repaid).max(0.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Typical WETH: LT 83%, bonus 5%, protocol fee 10% of the bonus.
    fn weth() -> AaveRules {
        AaveRules::new(0.83, 0.05, 0.10).unwrap()
    }

    /// A loan with health factor `hf` at price 1, 100,000 USD of debt.
    fn loan_at(hf: f64) -> Loan {
        Loan {
            collateral: hf * 100_000.0 / 0.83,
            debt: 100_000.0,
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * (1.0 + b.abs())
    }

    const ANY: f64 = f64::INFINITY;

    #[test]
    fn half_the_debt_at_hf_096_all_of_it_at_095() {
        let l = weth().liquidate(&loan_at(0.96), 1.0, ANY).unwrap();
        assert!(close(l.debt_repaid, 50_000.0), "{l:?}");
        assert!(close(l.collateral_seized, 52_500.0), "{l:?}");
        let l = weth().liquidate(&loan_at(0.95), 1.0, ANY).unwrap();
        assert!(close(l.debt_repaid, 100_000.0), "{l:?}");
        assert!(close(l.collateral_seized, 105_000.0), "{l:?}");
        assert!(weth().liquidate(&loan_at(1.0), 1.0, ANY).is_none());
    }

    #[test]
    fn bonus_and_protocol_fee_split_the_seized_collateral() {
        let loan = loan_at(0.96);
        // Half the debt at HF 0.96: 50,000 USD repaid, 52,500 units seized at price 1, of
        // which the bonus is 2,500 and the treasury's 10% of it 250.
        let l = weth().liquidate(&loan, 1.0, ANY).unwrap();
        assert!(
            close(l.to_treasury, 250.0) && close(l.to_keeper, 52_250.0),
            "{l:?}"
        );
        // At price 0.5 (HF 0.48) the whole collateral pays less than the debt: all of it
        // is seized, the repaid debt is its value over 1.05, and a deficit is left.
        let l = weth().liquidate(&loan, 0.5, ANY).unwrap();
        let value = loan.collateral * 0.5;
        assert!(close(l.collateral_seized, loan.collateral));
        assert!(close(l.debt_repaid, value / 1.05));
        let bonus_units = loan.collateral - loan.collateral / 1.05;
        assert!(close(l.to_treasury, 0.1 * bonus_units));
        assert!(close(l.to_keeper + l.to_treasury, l.collateral_seized));
        let after = l.apply(&loan);
        assert_eq!(after.collateral, 0.0);
        assert!(close(after.debt, 100_000.0 - value / 1.05), "{after:?}");
    }

    #[test]
    fn small_positions_close_in_full() {
        // HF 0.97 but 1,900 USD of debt: under the 2,000 USD threshold, so all of it.
        let small = Loan {
            collateral: 0.97 * 1_900.0 / 0.83,
            debt: 1_900.0,
        };
        let l = weth().liquidate(&small, 1.0, ANY).unwrap();
        assert!(close(l.debt_repaid, 1_900.0), "{l:?}");
        // 2,100 USD of debt at the same HF: half.
        let larger = Loan {
            collateral: 0.97 * 2_100.0 / 0.83,
            debt: 2_100.0,
        };
        let l = weth().liquidate(&larger, 1.0, ANY).unwrap();
        assert!(close(l.debt_repaid, 1_050.0), "{l:?}");
    }

    #[test]
    fn a_partial_close_that_would_leave_dust_takes_everything_or_nothing() {
        // 10,000 USD of debt at HF 0.90 (close factor 100%), collateral 10,843 USD.
        let loan = loan_at(0.90);
        let loan = Loan {
            collateral: loan.collateral / 10.0,
            debt: 10_000.0,
        };
        let rules = weth();
        // A keeper with 8,000 USD leaves 2,000 of debt and 10,843 - 8,400 = 2,443 of
        // collateral: a partial close.
        let l = rules.liquidate(&loan, 1.0, 8_000.0).unwrap();
        assert!(close(l.debt_repaid, 8_000.0), "{l:?}");
        // With 9,600 USD it would leave 400 of debt: dust, so the whole 10,000 or nothing,
        // and 9,600 cannot pay it.
        assert_eq!(rules.liquidate(&loan, 1.0, 9_600.0), None);
        let l = rules.liquidate(&loan, 1.0, 10_000.0).unwrap();
        assert!(close(l.debt_repaid, 10_000.0), "{l:?}");
        // The collateral side: 9,900 USD repaid seizes 10,395, leaving 448 USD of
        // collateral (and 100 of debt): dust too.
        assert_eq!(rules.liquidate(&loan, 1.0, 9_900.0), None);
    }

    /// Liquidations and deficits of 2,000 random loans over 500 steps whose one-step price
    /// falls are up to `reach` times the gap `1 - LT (1 + bonus)`, with keepers that act at
    /// once with capital to spare; asserts that each partial close raises the health factor.
    fn liquidate_random_paths(reach: f64) -> (u64, u64) {
        use crate::rng::{Stream, stream_rng};
        use rand::RngExt;
        let rules = weth();
        let gap = 1.0 - 0.83 * 1.05;
        let (mut liquidations, mut deficits) = (0, 0);
        for seed in 0..2_000 {
            let mut rng = stream_rng(20_261_202, seed, Stream::Population);
            let mut price = 3_000.0;
            let collateral_usd = 10f64.powf(rng.random_range(3.0..7.0));
            let mut loan = Loan {
                collateral: collateral_usd / price,
                debt: collateral_usd * rng.random_range(0.4..0.83),
            };
            for _ in 0..500 {
                price *= 1.0 - rng.random_range(-0.5..reach) * gap;
                while let Some(l) = rules.liquidate(&loan, price, ANY) {
                    let before = loan.health_factor(price, 0.83);
                    loan = l.apply(&loan);
                    liquidations += 1;
                    if loan.collateral == 0.0 && loan.debt > 0.0 {
                        deficits += 1;
                        break;
                    }
                    let after = loan.health_factor(price, 0.83);
                    assert!(after > before, "seed {seed}: HF {before} -> {after}");
                }
                if loan.collateral == 0.0 {
                    break;
                }
            }
        }
        (liquidations, deficits)
    }

    /// MODEL.md section 14's gap: with `LT (1 + bonus) < 1`, a loan found at `HF >= 1` whose
    /// price then falls by less than `1 - LT (1 + bonus)` can always repay its whole debt
    /// with bonus out of its collateral, so it never leaves a deficit. Falls up to three
    /// times the gap do leave some: the check has power.
    #[test]
    fn a_gap_never_crossed_in_one_step_leaves_no_deficit() {
        let (liquidations, deficits) = liquidate_random_paths(0.999);
        assert!(liquidations > 1_000, "only {liquidations} liquidations");
        assert_eq!(deficits, 0);
        let (_, deficits) = liquidate_random_paths(3.0);
        assert!(deficits > 0);
    }

    #[test]
    fn rules_that_would_seize_more_than_the_collateral_are_refused() {
        assert!(AaveRules::new(0.95, 0.06, 0.1).is_err());
        assert!(AaveRules::new(0.0, 0.05, 0.1).is_err());
        assert!(AaveRules::new(0.83, -0.01, 0.1).is_err());
        assert!(AaveRules::new(0.83, 0.05, 1.1).is_err());
    }
}
