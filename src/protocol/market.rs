//! The market-kind seam: what the run asks of any market, whatever its kind.
//!
//! A run holds markets of several kinds side by side (perpetual swaps and lending markets),
//! sharing one [`Ledger`]. The liquidation phase asks each the same few things: which
//! positions are due at this price, worst first; what a keeper would earn by taking one; and
//! to close one by force, which returns a [`ForcedClose`] record. The set of kinds is closed
//! and known to the crate, so the seam is an enum dispatched by `match` and the hot loop pays
//! no virtual call. A new kind adds a variant here and its own folder beside `perp/`.
//!
//! Over a whole run, a kind is also asked the same few things: to advance in phase 1, to let
//! its holders act by their plans in phase 5, whether a trader closed out may come back, and
//! what is left of it at the end; so the run loops over markets without asking their kind.
//!
//! A perp market judges positions on the mark it is given; a lending market judges loans on
//! its oracle, which read the market's price at the start of the step (MODEL.md section 14),
//! and ignores the mark where the seam passes one.

use super::lending::LendingMarket;
use super::liquidation_map::{ExposureSide, LiquidationMap};
use super::perp::{PerpMarket, Unwound};
use super::{
    BorrowerFlows, CloseContext, ForcedClose, KeeperOffer, KeeperReward, Ledger, Leftover,
    LiquidationParams, Liquidator,
};
use crate::market::{ImpactLaw, MarkState};

/// One market of a run, of any kind.
#[derive(Clone, Debug)]
pub enum Market {
    Perp(PerpMarket),
    /// Boxed: a lending market carries its oracle and auction state, twice a perp's size.
    Lending(Box<LendingMarket>),
}

impl Market {
    /// Appends to `out` every position liquidatable at `price`, taking each off the market's
    /// queue (it returns with [`Market::requeue`] if it recovers before it is closed).
    #[inline]
    pub fn due(&mut self, price: f64, out: &mut Vec<u32>) {
        match self {
            Market::Perp(p) => p.due(price, out),
            Market::Lending(l) => l.due(out),
        }
    }

    /// The fund that backs this market.
    pub fn fund(&self) -> u16 {
        match self {
            Market::Perp(m) => m.fund(),
            Market::Lending(m) => m.fund(),
        }
    }

    /// Whether trader `i` still holds a position.
    #[inline]
    pub fn is_open(&self, i: u32) -> bool {
        match self {
            Market::Perp(p) => p.is_open(i),
            Market::Lending(l) => l.is_open(i),
        }
    }

    /// Whether trader `i`'s position is liquidatable at `price`.
    #[inline]
    pub fn is_due(&self, i: u32, price: f64) -> bool {
        match self {
            Market::Perp(p) => p.is_due(i, price),
            Market::Lending(l) => l.is_due(i),
        }
    }

    /// Puts a position taken off the queue by [`Market::due`] back on it.
    #[inline]
    pub fn requeue(&mut self, i: u32) {
        match self {
            Market::Perp(p) => p.requeue(i),
            Market::Lending(l) => l.requeue(i),
        }
    }

    /// Orders `ids` worst first at `price` (MODEL.md section 4), ties by trader id.
    #[inline]
    pub fn order_worst_first(&self, ids: &mut [u32], price: f64, keys: &mut Vec<(f64, u32)>) {
        match self {
            Market::Perp(p) => p.order_worst_first(ids, price, keys),
            Market::Lending(l) => l.order_worst_first(ids, keys),
        }
    }

    /// What a keeper could earn by taking trader `i`'s position over now.
    #[inline]
    pub fn keeper_reward(
        &self,
        i: u32,
        price: &MarkState,
        params: &LiquidationParams,
    ) -> KeeperReward {
        match self {
            Market::Perp(p) => p.keeper_reward(i, price, params),
            Market::Lending(l) => l.keeper_reward(i, price),
        }
    }

    /// What a keeper paying `cost` per liquidation and bringing at most `budget` USD would do
    /// to trader `i`'s position now, when it expects a profit (`None` otherwise). A perp
    /// keeper takes the whole position over, so it needs its notional in capital; a lending
    /// keeper sizes the liquidation for profit within the protocol's rules and its budget.
    pub fn keeper_offer(
        &self,
        i: u32,
        price: &MarkState,
        law: &ImpactLaw,
        params: &LiquidationParams,
        budget: f64,
        cost: f64,
    ) -> Option<KeeperOffer> {
        match self {
            Market::Perp(p) => {
                let offer = p.keeper_reward(i, price, params);
                // Slippage is never negative: a reward that does not cover the cost alone
                // (most often a position already under water) needs no quote.
                if offer.reward - cost <= 0.0 {
                    return None;
                }
                let profit = offer.reward - p.expected_slippage(i, price, law) - cost;
                (profit > 0.0 && offer.notional <= budget).then_some(KeeperOffer {
                    capital: offer.notional,
                    profit,
                })
            }
            Market::Lending(l) => l.keeper_offer(i, price, law, budget, cost),
        }
    }

    /// Whether a keeper may borrow what it pays for a liquidation here within the
    /// transaction (a lending protocol's flash loan); a perp keeper takes the position over
    /// and posts its margin.
    pub fn flash_fundable(&self) -> bool {
        matches!(self, Market::Lending(_))
    }

    /// The slippage a keeper expects to pay selling what it would take from trader `i`.
    #[inline]
    pub fn expected_slippage(&self, i: u32, price: &MarkState, law: &ImpactLaw) -> f64 {
        match self {
            Market::Perp(p) => p.expected_slippage(i, price, law),
            Market::Lending(l) => l.expected_slippage(i, price, law),
        }
    }

    /// Closes trader `i` by force, by `by`.
    #[inline]
    pub fn force_close(
        &mut self,
        ledger: &mut Ledger,
        i: u32,
        by: Liquidator,
        ctx: &mut CloseContext,
    ) -> ForcedClose {
        match self {
            Market::Perp(p) => p.force_close(ledger, i, by, ctx),
            Market::Lending(l) => l.force_close(ledger, i, by, ctx),
        }
    }

    /// The collateral the market's book holds, for the ledger (a lending market's collateral
    /// is units of the asset, outside the USD ledger: none).
    pub fn collateral(&self) -> &[f64] {
        match self {
            Market::Perp(p) => &p.book().collateral,
            Market::Lending(_) => &[],
        }
    }

    /// The debt the market's loans owe, for the ledger (O(borrowers); 0 for a perp market).
    pub fn debt_outstanding(&self) -> f64 {
        match self {
            Market::Perp(_) => 0.0,
            Market::Lending(l) => l.debt_outstanding(),
        }
    }

    /// The run-wide ids of the market's traders.
    pub fn traders(&self) -> std::ops::Range<u32> {
        match self {
            Market::Perp(p) => p.traders(),
            Market::Lending(l) => l.traders(),
        }
    }

    /// Phase 1, at time `now`: a lending market's oracle reads the market's `price` and its
    /// debts accrue interest (a perp market reads its mark where it is used: nothing).
    #[inline]
    pub fn advance(&mut self, ledger: &mut Ledger, price: &MarkState, now: f64) {
        match self {
            Market::Perp(p) => p.advance(now),
            Market::Lending(l) => l.advance(ledger, price, now),
        }
    }

    /// Phase 3, before the due list: a perp market's fund or vault offers the inventory it
    /// took over back to the book (MODEL.md section 4); nothing for a lending market.
    #[inline]
    pub fn unwind(
        &mut self,
        ledger: &mut Ledger,
        price: &mut MarkState,
        law: &ImpactLaw,
        step: u64,
    ) -> Unwound {
        match self {
            Market::Perp(p) if p.inventory().is_some() => {
                let per_step = p.unwind_per_step();
                p.unwind(ledger, price, law, per_step, step)
            }
            _ => Unwound::default(),
        }
    }

    /// The end of a step: a perp market's inventory is marked at `mark` for its holder.
    #[inline]
    pub fn mark_inventory(&mut self, ledger: &mut Ledger, mark: f64, step: u64) {
        if let Market::Perp(p) = self {
            p.mark_inventory(ledger, mark, 0.0, step);
        }
    }

    /// Phase 5, before the traders: a lending market's defenders and loopers act on its
    /// oracle, its de-riskers on `liquidated`, the debt liquidated this step, selling into
    /// `price`'s book by `law`. `None` for a kind whose holders have no plans (a perp
    /// market's traders act on their own clock), so that the hot loop records nothing.
    #[inline]
    pub fn holders_act(
        &mut self,
        ledger: &mut Ledger,
        price: &mut MarkState,
        law: &ImpactLaw,
        liquidated: f64,
    ) -> Option<BorrowerFlows> {
        match self {
            Market::Perp(_) => None,
            Market::Lending(l) => Some(l.borrowers_act(ledger, price, law, liquidated)),
        }
    }

    /// Whether trader `i`, closed out by force, may come back with fresh collateral: a perp
    /// trader left flat; a borrower never comes back as a trader.
    #[inline]
    pub fn takes_back(&self, i: u32) -> bool {
        match self {
            Market::Perp(p) => p.position(i).size == 0.0,
            Market::Lending(_) => false,
        }
    }

    /// What is left at the end of the run, once the positions no keeper took (`waiting`)
    /// are known. A perp venue's own backstop closes them: they stay in `waiting` for the
    /// run to close, and nothing else is left. A lending protocol has no backstop: the loans
    /// stay open (taken out of `waiting`, counted), and what their collateral no longer
    /// covers is underwater debt (O(borrowers), once a run).
    pub fn end_of_run(&self, waiting: &mut Vec<u32>) -> Leftover {
        match self {
            Market::Perp(_) => Leftover::default(),
            Market::Lending(l) => {
                let left = Leftover {
                    waiting: waiting.len() as u32,
                    ..l.leftover()
                };
                waiting.clear();
                left
            }
        }
    }

    /// The market's open positions by side and distance to liquidation (MODEL.md section 3):
    /// a perp market's at `mark`, a lending market's on its oracle (O(positions): for a
    /// report, never in a batch).
    pub fn liquidation_map(&self, mark: f64) -> LiquidationMap {
        match self {
            Market::Perp(p) => {
                let mut map = LiquidationMap::new(&[ExposureSide::Long, ExposureSide::Short]);
                p.map_liquidations(mark, &mut map);
                map
            }
            Market::Lending(l) => {
                let mut map = LiquidationMap::new(&[ExposureSide::Collateral]);
                l.map_liquidations(&mut map);
                map
            }
        }
    }

    /// The price a lending market's protocol sees now (`None` for a perp market).
    pub fn oracle(&self) -> Option<f64> {
        match self {
            Market::Perp(_) => None,
            Market::Lending(l) => Some(l.oracle()),
        }
    }

    /// The oracle/index ratio furthest from 1 over the run (`None` for a kind without an
    /// oracle).
    pub fn worst_oracle_gap(&self) -> Option<f64> {
        match self {
            Market::Perp(_) => None,
            Market::Lending(l) => Some(l.worst_oracle_gap()),
        }
    }
}

impl From<PerpMarket> for Market {
    fn from(p: PerpMarket) -> Self {
        Market::Perp(p)
    }
}

impl From<LendingMarket> for Market {
    fn from(l: LendingMarket) -> Self {
        Market::Lending(Box::new(l))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::lending::aave::AaveRules;
    use crate::protocol::lending::oracle::PushOracle;
    use crate::protocol::lending::{LendingStyle, LendingTerms, Loan};
    use crate::protocol::{MarginParams, PositionBook};

    fn lending() -> Market {
        let terms = LendingTerms::new(
            LendingStyle::Aave(AaveRules::new(0.83, 0.05, 0.10).unwrap()),
            PushOracle::new(0.0, 3_600.0, 0.0).unwrap(),
            0.0,
            0.0,
        )
        .unwrap();
        // At 100: the first loan is sound, the second 50 under water.
        let loans = [
            Loan {
                collateral: 1.0,
                debt: 50.0,
            },
            Loan {
                collateral: 1.0,
                debt: 150.0,
            },
        ];
        LendingMarket::open(&loans, terms, 100.0, 0, 4, 60.0).into()
    }

    /// A perp market keeps what waits for the venue's backstop and leaves nothing; a lending
    /// market takes what waits out (counted) and reports the debt under water.
    #[test]
    fn the_end_of_a_run_leaves_what_each_kind_leaves() {
        let mut book = PositionBook::default();
        book.push(100.0, 1.0, 100.0);
        let perp: Market =
            PerpMarket::open(book, MarginParams::new(0.02, 0.01).unwrap(), 0, 0).into();
        let mut waiting = vec![0];
        assert_eq!(perp.end_of_run(&mut waiting), Leftover::default());
        assert_eq!(waiting, vec![0]);
        assert!(perp.worst_oracle_gap().is_none() && !perp.takes_back(0));

        let lending = lending();
        let mut waiting = vec![5];
        let left = lending.end_of_run(&mut waiting);
        assert!(waiting.is_empty());
        assert_eq!(left.waiting, 1);
        assert_eq!(left.underwater, 1);
        assert_eq!(left.shortfall, 50.0);
        assert!(!lending.takes_back(4) && lending.worst_oracle_gap() == Some(1.0));
    }
}
