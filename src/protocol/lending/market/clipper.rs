//! The auction style in a run: Maker/Sky Liquidations 2.0 (`dog.sol`'s `bark`, `clip.sol`'s
//! `kick`, `redo` and `take`) on a lending market's loans. A liquidatable vault's collateral
//! moves into a Dutch auction for its debt times `1 + chop`; keepers are paid `tip + chip *
//! tab` from the fund (Maker's surplus) for each kick and redo, and buy from the lot when its
//! price is under what the book pays them, net of gas. What a take pays beyond the debt is
//! the penalty, paid into the fund; a lot sold out with debt left is bad debt. At most `hole`
//! USD of tab runs at once: a vault whose tab does not fit is barked in part, the part that
//! fills the hole (`dog.bark`), and keeps the rest of its debt and collateral. A vault runs
//! one auction at a time here: what a partial bark leaves is barked again once its auction
//! is over, if it is still unsafe (Dog would bark it again as soon as the hole has room).

use super::{Action, LendingMarket, suppliers_cover};
use crate::protocol::lending::auction::MakerAuctions;
use crate::protocol::{
    Account, CloseContext, DeficitTaker, ForcedClose, Ledger, LossSocialization, Socialized,
};

impl LendingMarket {
    /// Whether loan `k` has a running auction.
    pub(super) fn in_auction(&self, k: usize) -> bool {
        self.auctions.get(k).is_some_and(Option::is_some)
    }

    /// Collateral of loan `k` for sale in its auction (units).
    pub(super) fn lot(&self, k: usize) -> f64 {
        self.auctions
            .get(k)
            .copied()
            .flatten()
            .map_or(0.0, |a| a.lot)
    }

    /// What a keeper would do to loan `k` now: take from its auction, redo it, or kick one
    /// for a liquidatable vault whose tab fits under the hole.
    pub(super) fn auction_action(&self, style: &MakerAuctions, k: usize) -> Option<Action> {
        let rules = &style.rules;
        match self.auctions[k] {
            Some(a) if rules.needs_redo(&a, self.now) => Some(Action::Redo {
                incentive: rules.redo_incentive(&a, self.feed.price()),
            }),
            Some(a) => {
                let mut probe = a;
                rules
                    .take(&mut probe, a.lot, self.now)
                    .map(|t| Action::Take {
                        units: t.collateral,
                        paid: t.paid,
                    })
            }
            None => {
                let loan = self.loan(k);
                let due = loan.debt > 0.0 && loan.health_factor(self.feed.price(), self.lt()) < 1.0;
                let bark = style
                    .bark(loan.debt, loan.collateral, self.dirt)
                    .filter(|_| due)?;
                Some(Action::Kick {
                    incentive: rules.incentive(bark.debt * (1.0 + rules.terms().chop)),
                })
            }
        }
    }

    fn rules(&self) -> Option<&MakerAuctions> {
        match &self.terms.style {
            super::LendingStyle::Auction(a) => Some(a),
            super::LendingStyle::Aave(_) | super::LendingStyle::Comet { .. } => None,
        }
    }

    /// `bark` and `kick`: the vault's collateral, or the part of it that fits under the
    /// hole, moves into an auction for its tab.
    pub(super) fn kick(&mut self, k: usize) {
        let Some(style) = self.rules().copied() else {
            return;
        };
        let loan = self.loan(k);
        let Some(bark) = style.bark(loan.debt, loan.collateral, self.dirt) else {
            return;
        };
        let auction = style
            .rules
            .kick(bark.debt, bark.collateral, self.feed.price(), self.now);
        self.dirt += auction.tab;
        let c = &mut self.loans.collateral[k];
        *c = if bark.collateral >= *c {
            0.0
        } else {
            *c - bark.collateral
        };
        self.auctions[k] = Some(auction);
        self.active.push(k as u32);
    }

    /// `redo`: a fresh start at `buf` times the oracle.
    pub(super) fn redo(&mut self, k: usize) {
        let (Some(style), Some(a)) = (self.rules().copied(), self.auctions[k].as_mut()) else {
            return;
        };
        style.rules.redo(a, self.feed.price(), self.now);
    }

    /// `take`: `liquidator` buys `units` of loan `k`'s lot for `paid`. The payment clears
    /// the auction's debt first; what it pays beyond the debt is the penalty, paid into the
    /// fund. A finished auction returns what is left of the lot to the vault; a lot sold out
    /// with debt left ends the auction, and returns that debt (the bad debt; the caller
    /// recognises it).
    pub(super) fn take(
        &mut self,
        ledger: &mut Ledger,
        k: usize,
        units: f64,
        paid: f64,
        liquidator: Account,
        out: &mut ForcedClose,
    ) -> f64 {
        let Some(mut a) = self.auctions[k] else {
            return 0.0;
        };
        let to_debt = paid.min(a.debt).min(self.loan(k).debt);
        a.debt -= to_debt;
        self.pay_down(ledger, liquidator, k, to_debt);
        let penalty = paid - to_debt;
        ledger.pay_into_fund(liquidator, self.fund, penalty);
        out.notional = to_debt;
        out.penalty = penalty;
        out.penalty_to_fund = penalty;
        out.seized_value = units * self.feed.price();
        a.tab = (a.tab - paid).max(0.0);
        a.lot = (a.lot - units).max(0.0);
        self.dirt = (self.dirt - paid).max(0.0);
        if a.tab > 0.0 && a.lot > 0.0 {
            self.auctions[k] = Some(a);
            return 0.0;
        }
        // Over: the vault keeps what is left of the lot; unpaid tab leaves the hole.
        self.dirt = (self.dirt - a.tab).max(0.0);
        self.loans.collateral[k] += a.lot;
        self.auctions[k] = None;
        if let Some(at) = self.active.iter().position(|&j| j as usize == k) {
            self.active.remove(at);
        }
        if a.lot <= 0.0 { a.debt.max(0.0) } else { 0.0 }
    }

    /// The fund pays `liquidator` the keeper incentive of a kick or redo (`vow.suck`). It is
    /// an outflow of the fund like a deficit (the stake must cover it, and it counts in the
    /// required capital) but not bad debt; what the fund cannot pay is minted as system debt
    /// (unbacked), or with `socialize` taken from the suppliers.
    pub(super) fn pay_incentive(
        &mut self,
        ledger: &mut Ledger,
        liquidator: Account,
        incentive: f64,
        ctx: &CloseContext,
        out: &mut ForcedClose,
    ) {
        out.incentive = incentive;
        let mut keeper = Incentive {
            to: liquidator,
            rule: ctx.socialization,
        };
        ledger.absorb_deficit(self.fund, incentive, ctx.step, &mut keeper);
    }
}

/// A keeper owed an incentive, as the ledger's waterfall pays it: from the fund, then from
/// the suppliers under a rule that socializes, else minted as system debt.
struct Incentive {
    to: Account,
    rule: LossSocialization,
}

impl DeficitTaker for Incentive {
    fn receive(&mut self, ledger: &mut Ledger, from: Account, amount: f64) {
        ledger.transfer(from, self.to, amount);
    }

    fn socialize(&mut self, ledger: &mut Ledger, residual: f64) -> Socialized {
        if !suppliers_cover(self.rule) {
            return Socialized::default();
        }
        ledger.transfer(Account::Suppliers, self.to, residual);
        Socialized {
            covered: residual,
            ..Socialized::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::market::{ImpactLaw, MarkState};
    use crate::protocol::lending::auction::{AuctionRules, AuctionTerms};
    use crate::protocol::lending::oracle::PushOracle;
    use crate::protocol::lending::{LendingStyle, LendingTerms, Loan};
    use crate::protocol::{
        CloseRule, InsuranceFund, LEDGER_TOLERANCE, LiquidationMode, LiquidationParams, Liquidator,
    };

    /// ETH-A-like terms: buf 1.2, cut 0.99 per 90 s, tail 8,400 s, cusp 0.45, chop 13%,
    /// tip 250, chip 0.1%; liquidation ratio 1 / 1.45.
    fn market(hole: f64) -> LendingMarket {
        let rules = AuctionRules::new(AuctionTerms {
            buf: 1.2,
            cut: 0.99,
            step_seconds: 90.0,
            tail_seconds: 8_400.0,
            cusp: 0.45,
            chop: 0.13,
            dust: 0.0,
            tip: 250.0,
            chip: 0.001,
        })
        .unwrap();
        let style = LendingStyle::Auction(MakerAuctions::new(rules, 1.0 / 1.45, hole).unwrap());
        let terms = LendingTerms::new(style, PushOracle::new(0.0, 3_600.0, 0.0).unwrap(), 0.0, 0.0)
            .unwrap();
        // 10 units at 100 against 600 of debt: liquidatable below 87.
        let loans = [Loan {
            collateral: 10.0,
            debt: 600.0,
        }];
        LendingMarket::open(&loans, terms, 100.0, 0, 0, 60.0)
    }

    fn balanced(m: &LendingMarket, l: &Ledger) {
        let imbalance = l.imbalance(-m.debt_outstanding());
        assert!(
            imbalance.abs() <= LEDGER_TOLERANCE * l.scale(),
            "{imbalance}"
        );
    }

    /// A kick pays the keeper tip + chip x tab from the fund; the auction's price then falls
    /// by cut every 90 s; a keeper takes when it is under the market, paying the debt and the
    /// chop into the fund, and the rest of the lot goes back to the vault.
    #[test]
    fn kick_then_take_pays_the_debt_and_the_chop() {
        let mut m = market(1e9);
        let mut ledger = Ledger::open(vec![InsuranceFund::new(1_000.0).unwrap()], 0.0)
            .with_suppliers(600.0)
            .with_keepers(1, 1e6);
        let params =
            LiquidationParams::new(0.0, 0.0, LiquidationMode::Engine, CloseRule::Full).unwrap();
        let keeper = Liquidator::Keeper {
            k: 0,
            cost: 0.0,
            budget: f64::INFINITY,
        };
        let mut price = MarkState::new(80.0, 10.0, 0.0, 60.0).unwrap();
        m.advance(&mut ledger, &price, 60.0);
        let mut due = Vec::new();
        m.due(&mut due);
        assert_eq!(due, vec![0]);
        let mut ctx = CloseContext {
            params: &params,
            price: &mut price,
            law: &ImpactLaw::None,
            socialization: LossSocialization::None,
            step: 1,
        };
        let kick = m.force_close(&mut ledger, 0, keeper, &mut ctx);
        let tab = 600.0 * 1.13;
        assert!((kick.incentive - (250.0 + 0.001 * tab)).abs() < 1e-9);
        assert!((ledger.balance(Account::Fund(0)) - (1_000.0 - kick.incentive)).abs() < 1e-9);
        assert!(m.is_due(0) && m.is_open(0));
        balanced(&m, &ledger);
        // Starts at 1.2 x 80 = 96, over the market: no keeper profits. After 30 steps of 90 s
        // (2,700 s): 96 x 0.99^30 = 71.0, under 80.
        let reward = m.keeper_reward(0, &price);
        assert!(reward.reward < 0.0);
        m.advance(&mut ledger, &price, 60.0 + 2_700.0);
        let offer = m.keeper_reward(0, &price);
        assert!(offer.reward > 0.0);
        let mut ctx = CloseContext {
            params: &params,
            price: &mut price,
            law: &ImpactLaw::None,
            socialization: LossSocialization::None,
            step: 2,
        };
        let take = m.force_close(&mut ledger, 0, keeper, &mut ctx);
        let p = 96.0 * 0.99f64.powi(30);
        assert!((take.notional - 600.0).abs() < 1e-9);
        assert!((take.penalty - 78.0).abs() < 1e-9);
        assert!(take.deficit == 0.0 && take.flat && !m.is_open(0));
        // The vault keeps the collateral the tab did not need.
        assert!((m.loan_of(0).collateral - (10.0 - tab / p)).abs() < 1e-9);
        assert!((take.keeper_profit - (tab / p * 80.0 - tab)).abs() < 1e-6);
        balanced(&m, &ledger);
    }

    /// A vault larger than the room under the hole is barked in part, as `dog.bark`: with a
    /// hole of 500 USD the auction's tab is 500, for 500 / 1.13 of the 600 USD of debt and
    /// the same share of the 10 units; the vault keeps the rest. The lot then sells out
    /// short in a crash: only the auction's unraised debt is bad debt, the vault stays open
    /// with its remainder, the hole empties, and the ledger balances throughout.
    #[test]
    fn a_vault_larger_than_the_hole_is_barked_in_part() {
        let mut m = market(500.0);
        let mut ledger = Ledger::open(vec![InsuranceFund::new(1e4).unwrap()], 0.0)
            .with_suppliers(600.0)
            .with_keepers(1, 1e6);
        let params =
            LiquidationParams::new(0.0, 0.0, LiquidationMode::Engine, CloseRule::Full).unwrap();
        let keeper = Liquidator::Keeper {
            k: 0,
            cost: 0.0,
            budget: f64::INFINITY,
        };
        let mut price = MarkState::new(80.0, 10.0, 0.0, 60.0).unwrap();
        m.advance(&mut ledger, &price, 60.0);
        let mut ctx = CloseContext {
            params: &params,
            price: &mut price,
            law: &ImpactLaw::None,
            socialization: LossSocialization::None,
            step: 1,
        };
        let kick = m.force_close(&mut ledger, 0, keeper, &mut ctx);
        let dart = 500.0 / 1.13;
        let a = m.auctions[0].unwrap();
        assert!(
            (a.tab - 500.0).abs() < 1e-9 && (m.dirt - 500.0).abs() < 1e-9,
            "{a:?}"
        );
        assert!((a.debt - dart).abs() < 1e-9, "{a:?}");
        assert!((a.lot - 10.0 * dart / 600.0).abs() < 1e-12, "{a:?}");
        assert!((m.loans.collateral[0] - 10.0 * (1.0 - dart / 600.0)).abs() < 1e-12);
        assert!((kick.incentive - (250.0 + 0.5)).abs() < 1e-9);
        // The hole is full: the rest of the vault waits for room.
        assert!(m.auction_action(&m.rules().copied().unwrap(), 0).is_some());
        balanced(&m, &ledger);
        // A crash to 10: redo (top 12), then 20 steps later the lot fetches 12 x 0.99^20 a
        // unit, short of the auction's debt.
        let mut price = MarkState::new(10.0, 10.0, 0.0, 60.0).unwrap();
        m.advance(&mut ledger, &price, 60.0 + 80.0 * 90.0);
        let mut ctx = CloseContext {
            params: &params,
            price: &mut price,
            law: &ImpactLaw::None,
            socialization: LossSocialization::None,
            step: 2,
        };
        m.force_close(&mut ledger, 0, keeper, &mut ctx);
        m.advance(&mut ledger, ctx.price, 60.0 + 100.0 * 90.0);
        let take = m.force_close(&mut ledger, 0, keeper, &mut ctx);
        let paid = a.lot * 12.0 * 0.99f64.powi(20);
        assert!((take.notional - paid).abs() < 1e-9, "{take:?}");
        assert!((take.deficit - (dart - paid)).abs() < 1e-9, "{take:?}");
        assert!(!m.in_auction(0) && m.is_open(0) && m.dirt == 0.0);
        let left = m.loan_of(0);
        assert!((left.debt - (600.0 - dart)).abs() < 1e-9, "{left:?}");
        assert!((left.collateral - 10.0 * (1.0 - dart / 600.0)).abs() < 1e-12);
        balanced(&m, &ledger);
    }

    /// A lot sold out before the tab is raised leaves bad debt, paid by the fund.
    #[test]
    fn a_lot_sold_out_short_is_bad_debt() {
        let mut m = market(1e9);
        let mut ledger = Ledger::open(vec![InsuranceFund::new(1e4).unwrap()], 0.0)
            .with_suppliers(600.0)
            .with_keepers(1, 1e6);
        let params =
            LiquidationParams::new(0.0, 0.0, LiquidationMode::Engine, CloseRule::Full).unwrap();
        let keeper = Liquidator::Keeper {
            k: 0,
            cost: 0.0,
            budget: f64::INFINITY,
        };
        let mut price = MarkState::new(80.0, 10.0, 0.0, 60.0).unwrap();
        m.advance(&mut ledger, &price, 60.0);
        let mut ctx = CloseContext {
            params: &params,
            price: &mut price,
            law: &ImpactLaw::None,
            socialization: LossSocialization::None,
            step: 1,
        };
        m.force_close(&mut ledger, 0, keeper, &mut ctx);
        // The market crashes to 40: the auction (top 96) decays to under 40 after 84 steps
        // (96 x 0.99^84 = 41.2 > 40 > 0.99^88 = 39.5); cusp (43.2) asks for a redo first.
        let mut price = MarkState::new(40.0, 10.0, 0.0, 60.0).unwrap();
        m.advance(&mut ledger, &price, 60.0 + 80.0 * 90.0);
        let mut ctx = CloseContext {
            params: &params,
            price: &mut price,
            law: &ImpactLaw::None,
            socialization: LossSocialization::None,
            step: 2,
        };
        let redo = m.force_close(&mut ledger, 0, keeper, &mut ctx);
        assert!(redo.incentive > 0.0 && m.in_auction(0));
        // Restarted at 1.2 x 40 = 48; 20 steps later 48 x 0.99^20 = 39.3: the whole lot for
        // 393 < 600 of debt.
        m.advance(&mut ledger, ctx.price, 60.0 + 100.0 * 90.0);
        let mut ctx = CloseContext {
            params: &params,
            price: &mut price,
            law: &ImpactLaw::None,
            socialization: LossSocialization::None,
            step: 3,
        };
        let take = m.force_close(&mut ledger, 0, keeper, &mut ctx);
        let paid = 10.0 * 48.0 * 0.99f64.powi(20);
        assert!((take.notional - paid).abs() < 1e-9);
        assert!((take.deficit - (600.0 - paid)).abs() < 1e-9);
        assert!((take.fund_paid - take.deficit).abs() < 1e-9);
        assert!(!m.is_open(0) && !m.in_auction(0));
        balanced(&m, &ledger);
    }
}
