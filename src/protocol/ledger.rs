//! The ledger of MODEL.md section 7: every movement of money is a transfer between named
//! accounts, and the sum over all accounts never changes.
//!
//! The [`Ledger`] holds the accounts no market owns: the insurance funds, treasury, the outside
//! counterparty, uncovered bad debt, traders' reserves and wallets outside the venue, and the
//! keepers' capital. It is shared by every market of a run. Traders' collateral is the other
//! kind of account: each market keeps it in its own book, beside the positions it backs, and
//! moves it only through [`Ledger::debit`] and [`Ledger::credit`] paired with its own side of
//! the transfer (see [`Holder`]).

use super::InsuranceFund;
use super::Socialized;

/// Largest relative ledger imbalance MODEL.md section 7 allows.
pub const LEDGER_TOLERANCE: f64 = 1e-9;

/// An account the ledger holds itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Account {
    /// An insurance fund (index 0 when one fund serves every market).
    Fund(u16),
    /// The venue's treasury: fees and penalties not paid into the fund.
    Treasury,
    /// The outside world, which takes the other side of every fill: realized PnL moves between
    /// it and the traders.
    Counterparty,
    /// Bad debt that nobody covered: a hole in the venue's balance sheet (negative balance).
    Uncovered,
    /// A trader's reserve outside the venue, which it may add as collateral (by trader id).
    Reserve(u32),
    /// Traders' wallets outside the venue, from which re-entering traders deposit fresh
    /// collateral (negative balance: money brought in).
    Deposits,
    /// A keeper's capital (keeper mode).
    Keeper(u16),
    /// Lending markets' suppliers: what they are owed (every loan at t = 0 and its interest),
    /// less the losses socialized against them.
    Suppliers,
    /// A liquidator vault with capital of its own, which takes over what the engine's orders
    /// do not fill (Hyperliquid's HLP; MODEL.md section 4).
    Vault,
}

/// Where money sits, as a market sees it: one of its traders' collateral (by the trader's
/// place in the market's book) or an account of the ledger.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Holder {
    Trader(usize),
    Ledger(Account),
}

/// Who a deficit is paid to, as [`Ledger::absorb_deficit`] runs it down the waterfall.
pub(crate) trait DeficitTaker {
    /// Receives `amount` out of the ledger's account `from` (the taker moves both sides).
    fn receive(&mut self, ledger: &mut Ledger, from: Account, amount: f64);
    /// Covers what the loss rule can of `residual`, what the fund could not pay, moving the
    /// money itself.
    fn socialize(&mut self, ledger: &mut Ledger, residual: f64) -> Socialized;
}

/// How one deficit was absorbed: what the fund paid, what the loss rule covered, and what
/// nobody covered.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Absorbed {
    pub fund_paid: f64,
    pub socialized: Socialized,
    pub uncovered: f64,
}

/// The accounts of a run that belong to no market, and the sum every transfer keeps.
#[derive(Clone, Debug)]
pub struct Ledger {
    funds: Vec<InsuranceFund>,
    /// The liquidator vault, with its cash and inventory kept as a fund's are (none unless
    /// `takeover = "vault"`).
    vault: Option<InsuranceFund>,
    /// Per trader: reserve outside the venue (empty when nobody has one).
    reserve: Vec<f64>,
    deposits: f64,
    keepers: Vec<f64>,
    suppliers: f64,
    /// Lent by lending markets at t = 0 (for the tolerance's scale).
    lent: f64,
    treasury: f64,
    counterparty: f64,
    uncovered: f64,
    /// Sum of all accounts at the start, traders' collateral included.
    initial_total: f64,
    /// Some fund is held in a coin (read every step, so kept apart).
    holds_coin: bool,
}

impl Ledger {
    /// A ledger holding `funds`, beside traders' collateral worth `collateral` in all.
    pub fn open(funds: Vec<InsuranceFund>, collateral: f64) -> Self {
        let initial_total = collateral + funds.iter().map(InsuranceFund::balance).sum::<f64>();
        let holds_coin = funds.iter().any(InsuranceFund::is_in_coin);
        Self {
            holds_coin,
            funds,
            vault: None,
            reserve: Vec::new(),
            deposits: 0.0,
            keepers: Vec::new(),
            suppliers: 0.0,
            lent: 0.0,
            treasury: 0.0,
            counterparty: 0.0,
            uncovered: 0.0,
            initial_total,
        }
    }

    /// Gives every trader a reserve outside the venue (part of the ledger from the start).
    pub fn with_reserves(mut self, reserve: Vec<f64>) -> Self {
        self.initial_total += reserve.iter().sum::<f64>();
        self.reserve = reserve;
        self
    }

    /// Gives the run `count` keepers with `capital` each (part of the ledger from the start).
    pub fn with_keepers(mut self, count: u16, capital: f64) -> Self {
        self.keepers = vec![capital; count as usize];
        self.initial_total += capital * count as f64;
        self
    }

    /// Gives the run a liquidator vault holding `vault` (part of the ledger from the start).
    pub fn with_vault(mut self, vault: InsuranceFund) -> Self {
        self.initial_total += vault.balance();
        self.vault = Some(vault);
        self
    }

    /// The liquidator vault, if the run has one.
    pub fn vault(&self) -> Option<&InsuranceFund> {
        self.vault.as_ref()
    }

    /// The fund (or vault) an account names, to mark its inventory.
    pub(crate) fn holder_mut(&mut self, a: Account) -> Option<&mut InsuranceFund> {
        match a {
            Account::Fund(f) => self.funds.get_mut(f as usize),
            Account::Vault => self.vault.as_mut(),
            _ => None,
        }
    }

    /// The fund (or vault) an account names.
    pub fn holder(&self, a: Account) -> Option<&InsuranceFund> {
        match a {
            Account::Fund(f) => self.funds.get(f as usize),
            Account::Vault => self.vault.as_ref(),
            _ => None,
        }
    }

    /// Lending markets lent `lent` USD at t = 0: the suppliers' claim, matched by the loans
    /// the markets hold (counted negative, see [`Ledger::imbalance`]).
    pub fn with_suppliers(mut self, lent: f64) -> Self {
        // The claim and the loans cancel: the sum of all accounts does not change, but the
        // tolerance is taken of the money at stake, loans included.
        self.suppliers = lent;
        self.lent = lent;
        self
    }

    pub fn balance(&self, a: Account) -> f64 {
        match a {
            Account::Fund(f) => self.funds[f as usize].balance,
            Account::Treasury => self.treasury,
            Account::Counterparty => self.counterparty,
            Account::Uncovered => self.uncovered,
            Account::Reserve(i) => self.reserve.get(i as usize).copied().unwrap_or(0.0),
            Account::Deposits => self.deposits,
            Account::Keeper(k) => self.keepers.get(k as usize).copied().unwrap_or(0.0),
            Account::Suppliers => self.suppliers,
            Account::Vault => self.vault.as_ref().map_or(0.0, InsuranceFund::balance),
        }
    }

    fn balance_mut(&mut self, a: Account) -> &mut f64 {
        match a {
            Account::Fund(f) => &mut self.funds[f as usize].balance,
            Account::Treasury => &mut self.treasury,
            Account::Counterparty => &mut self.counterparty,
            Account::Uncovered => &mut self.uncovered,
            Account::Reserve(i) => &mut self.reserve[i as usize],
            Account::Deposits => &mut self.deposits,
            Account::Keeper(k) => &mut self.keepers[k as usize],
            Account::Suppliers => &mut self.suppliers,
            Account::Vault => {
                &mut self
                    .vault
                    .as_mut()
                    .expect("a vault account only with a vault")
                    .balance
            }
        }
    }

    /// Takes `amount` out of `a`: one side of a transfer whose other side the caller credits
    /// in the same breath.
    #[inline]
    pub(crate) fn debit(&mut self, a: Account, amount: f64) {
        *self.balance_mut(a) -= amount;
        self.observe(a);
    }

    /// Puts `amount` into `a`: the other side of a transfer.
    #[inline]
    pub(crate) fn credit(&mut self, a: Account, amount: f64) {
        *self.balance_mut(a) += amount;
        self.observe(a);
    }

    #[inline]
    fn observe(&mut self, a: Account) {
        match a {
            Account::Fund(f) => self.funds[f as usize].observe_balance(),
            Account::Vault => {
                if let Some(v) = self.vault.as_mut() {
                    v.observe_balance();
                }
            }
            _ => {}
        }
    }

    /// Moves `amount` between two accounts of the ledger.
    pub fn transfer(&mut self, from: Account, to: Account, amount: f64) {
        self.debit(from, amount);
        self.credit(to, amount);
    }

    /// Records `amount` as an inflow of fund `fund` before the money arrives: the caller then
    /// credits the fund and calls [`Ledger::sweep_excess`].
    pub(crate) fn record_inflow(&mut self, fund: u16, amount: f64) {
        self.funds[fund as usize].record_inflow(amount);
    }

    /// With a cap, moves whatever fund `fund` holds above it to treasury.
    pub(crate) fn sweep_excess(&mut self, fund: u16) {
        let excess = self.funds[fund as usize].take_excess();
        if excess > 0.0 {
            self.transfer(Account::Fund(fund), Account::Treasury, excess);
        }
    }

    /// Pays `amount` from `from` into fund `fund` and records it as an inflow. With a cap,
    /// whatever the balance then holds above it is swept to treasury.
    pub fn pay_into_fund(&mut self, from: Account, fund: u16, amount: f64) {
        if amount > 0.0 {
            self.record_inflow(fund, amount);
            self.transfer(from, Account::Fund(fund), amount);
            self.sweep_excess(fund);
        }
    }

    /// The value of what fund `fund` holds besides cash changed by `change` at `step` (a
    /// holding marked to a new price, or sold under its mark): the fund records the gain or
    /// loss, and the money moves between the fund and the outside counterparty (what the
    /// fund holds is outside the USD ledger until it is sold).
    pub(crate) fn revalue_holding(&mut self, fund: u16, change: f64, step: u64) {
        if change == 0.0 {
            return;
        }
        self.funds[fund as usize].record_mark(change, step);
        self.transfer(Account::Counterparty, Account::Fund(fund), change);
    }

    /// Whether some fund is held in a coin (the step skips valuing funds otherwise).
    #[inline]
    pub(crate) fn holds_coin(&self) -> bool {
        self.holds_coin
    }

    /// Funds held in a coin: the index of the coin moved to `index` at `step`, and each such
    /// fund's cash moves with it (the outside counterparty takes the other side: the coin's
    /// price is outside the USD ledger). Funds held in USD do not move.
    pub(crate) fn revalue_coin(&mut self, fund: u16, index: f64, step: u64) {
        let f = &mut self.funds[fund as usize];
        let change = f.revalue_coin(index, step);
        if change != 0.0 {
            self.transfer(Account::Counterparty, Account::Fund(fund), change);
        }
    }

    /// Records deficit `d` at `step` against fund `fund` and returns what the fund pays (the
    /// caller moves the money).
    pub(crate) fn record_deficit(&mut self, fund: u16, d: f64, step: u64) -> f64 {
        self.funds[fund as usize].record_deficit(d, step)
    }

    /// Absorbs deficit `d` at `step` down the waterfall of MODEL.md sections 4 to 6: fund
    /// `fund` pays what it can, the loss rule covers what it can of the residual, and what
    /// nobody covers is uncovered bad debt. `taker` is who the deficit is paid to (a bankrupt
    /// trader's collateral, a loan, a keeper owed an incentive) and how its market runs the
    /// loss rule; each kind keeps its own side of the transfers.
    pub(crate) fn absorb_deficit<T: DeficitTaker>(
        &mut self,
        fund: u16,
        d: f64,
        step: u64,
        taker: &mut T,
    ) -> Absorbed {
        let fund_paid = self.record_deficit(fund, d, step);
        taker.receive(self, Account::Fund(fund), fund_paid);
        let mut out = Absorbed {
            fund_paid,
            ..Absorbed::default()
        };
        let residual = d - fund_paid;
        if residual > 0.0 {
            out.socialized = taker.socialize(self, residual);
            out.uncovered = (residual - out.socialized.covered).max(0.0);
            taker.receive(self, Account::Uncovered, out.uncovered);
        }
        out
    }

    pub fn funds(&self) -> &[InsuranceFund] {
        &self.funds
    }

    /// The end of `step`: each fund's early trigger reads its marked balance.
    pub(crate) fn end_step(&mut self, step: u64) {
        for f in &mut self.funds {
            f.end_step(step);
        }
    }

    /// Sum of the funds' balances (cash).
    pub fn fund_balance(&self) -> f64 {
        self.funds.iter().map(InsuranceFund::balance).sum()
    }

    /// Sum of the funds' marked balances: cash plus inventory at the mark.
    pub fn fund_marked_balance(&self) -> f64 {
        self.funds.iter().map(InsuranceFund::marked_balance).sum()
    }

    /// Sum of all accounts minus the sum at the start, given what the markets hold in all
    /// (traders' collateral, less the debt of lending markets' loans): zero up to rounding.
    pub fn imbalance(&self, collateral: f64) -> f64 {
        collateral
            + self.suppliers
            + self.fund_balance()
            + self.vault.as_ref().map_or(0.0, InsuranceFund::balance)
            + self.reserve.iter().sum::<f64>()
            + self.deposits
            + self.keepers.iter().sum::<f64>()
            + self.treasury
            + self.counterparty
            + self.uncovered
            - self.initial_total
    }

    /// What the shares of MODEL.md section 7 are taken of: the sum of all accounts at the
    /// start (total collateral + F0 and whatever else the run began with), plus what lending
    /// markets lent.
    pub fn scale(&self) -> f64 {
        (self.initial_total.abs() + self.lent).max(1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_capped_fund_sweeps_its_excess_to_treasury() {
        let mut l = Ledger::open(
            vec![InsuranceFund::with_cap(500.0, Some(520.0)).unwrap()],
            0.0,
        );
        l.pay_into_fund(Account::Counterparty, 0, 50.0);
        assert_eq!(l.balance(Account::Fund(0)), 520.0);
        assert_eq!(l.balance(Account::Treasury), 30.0);
        assert_eq!(l.funds()[0].swept(), 30.0);
        assert!(l.imbalance(0.0).abs() <= LEDGER_TOLERANCE * l.scale());
        assert_eq!(
            InsuranceFund::with_cap(500.0, Some(400.0))
                .unwrap_err()
                .field,
            "cap"
        );
    }

    /// A taker that keeps what it receives in its own holding, and whose loss rule covers
    /// up to `cover`.
    struct Holding {
        held: f64,
        from: Vec<(Account, f64)>,
        cover: f64,
    }

    impl DeficitTaker for Holding {
        fn receive(&mut self, ledger: &mut Ledger, from: Account, amount: f64) {
            ledger.debit(from, amount);
            self.held += amount;
            self.from.push((from, amount));
        }

        fn socialize(&mut self, ledger: &mut Ledger, residual: f64) -> Socialized {
            let covered = residual.min(self.cover);
            self.receive(ledger, Account::Counterparty, covered);
            Socialized {
                covered,
                positions: 1,
                notional: 0.0,
            }
        }
    }

    /// A deficit of 100 against a fund of 30: the fund pays 30, the loss rule 50 of the
    /// 70 left, and 20 is uncovered; a deficit the fund covers never reaches the rule.
    #[test]
    fn a_deficit_runs_down_the_fund_then_the_loss_rule_then_uncovered() {
        let mut l = Ledger::open(vec![InsuranceFund::new(30.0).unwrap()], 0.0);
        let mut taker = Holding {
            held: 0.0,
            from: Vec::new(),
            cover: 50.0,
        };
        let a = l.absorb_deficit(0, 100.0, 7, &mut taker);
        assert_eq!(a.fund_paid, 30.0);
        assert_eq!(a.socialized.covered, 50.0);
        assert_eq!(a.uncovered, 20.0);
        assert_eq!(
            taker.from,
            vec![
                (Account::Fund(0), 30.0),
                (Account::Counterparty, 50.0),
                (Account::Uncovered, 20.0)
            ]
        );
        assert_eq!(l.funds()[0].depleted_at(), Some(7));
        assert!(l.imbalance(taker.held).abs() <= LEDGER_TOLERANCE * l.scale());

        let mut l = Ledger::open(vec![InsuranceFund::new(30.0).unwrap()], 0.0);
        let mut taker = Holding {
            held: 0.0,
            from: Vec::new(),
            cover: 50.0,
        };
        let a = l.absorb_deficit(0, 10.0, 1, &mut taker);
        assert_eq!((a.fund_paid, a.uncovered), (10.0, 0.0));
        assert_eq!(a.socialized, Socialized::default());
        assert_eq!(taker.from, vec![(Account::Fund(0), 10.0)]);
    }

    #[test]
    fn reserves_and_keepers_belong_to_the_ledger_from_the_start() {
        let l = Ledger::open(vec![InsuranceFund::new(10.0).unwrap()], 90.0)
            .with_reserves(vec![1.0, 2.0])
            .with_keepers(2, 5.0);
        assert_eq!(l.scale(), 113.0);
        assert_eq!(l.imbalance(90.0), 0.0);
        assert_eq!(l.balance(Account::Reserve(1)), 2.0);
        assert_eq!(l.balance(Account::Reserve(7)), 0.0);
        assert_eq!(l.balance(Account::Keeper(1)), 5.0);
    }
}
