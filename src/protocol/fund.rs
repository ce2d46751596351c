//! Insurance fund (MODEL.md section 5): the flows it records and when it is depleted.
//!
//! The balance itself is an account of the [`super::Ledger`]; this type keeps the
//! cumulative flows and decides how much of a deficit the fund pays.

use std::collections::VecDeque;

use crate::params::{ParamResult, non_negative};

#[derive(Clone, Debug)]
pub struct InsuranceFund {
    initial: f64,
    /// Current balance (USD). Moved only by the venue's ledger transfers.
    pub(crate) balance: f64,
    /// Cumulative outflow required minus cumulative inflow, counting deficits in full even
    /// after depletion (what a large enough fund would have paid).
    net_outflow: f64,
    required_capital: f64,
    inflow: f64,
    deficits: f64,
    paid_out: f64,
    min_balance: f64,
    depleted_at: Option<u64>,
    /// Balance above which inflows are swept to treasury (MODEL.md section 5).
    cap: Option<f64>,
    swept: f64,
    /// What the positions it took over are worth at the mark, less what it took them over
    /// at (MODEL.md section 5: its balance is its cash plus that inventory).
    unrealized: f64,
    /// The most its inventory has stood under water so far (USD, >= 0).
    peak_inventory_loss: f64,
    /// Profit realized selling its inventory back to the book (negative: a loss).
    inventory_pnl: f64,
    /// OKX's early auto-deleveraging, when the venue has it.
    early_adl: Option<EarlyAdl>,
    /// A fund held in its market's coin (BitMEX's XBT fund); `None`: held in USD.
    coin: Option<CoinHolding>,
}

/// A fund held in its market's coin, as BitMEX held its fund in XBT (MODEL.md section 5;
/// VENUES.md, BitMEX row: blog.bitmex.com, "BitMEX insurance fund: your questions answered",
/// 23 March 2020, gives the fund and its worst day in XBT; its dollar value halved with the
/// price on 12-13 March 2020). Its cash is coins:
/// every inflow, deficit and inventory gain is converted at the index of its moment, and the
/// cash's dollar value moves with the index every step (the ledger moves that revaluation
/// from the outside counterparty). Its inventory stays a position marked in USD.
///
/// The calibration identity holds in coins: until depletion, and without a cap or an early
/// trigger, what the fund has given out, `N_t = sum_k flow_k / S_k - inventory_t / S_t`, does
/// not depend on F0, and the fund runs dry exactly when `N_t > F0 / S_0`. Its required capital
/// is `S_0 max_t N_t`: the dollars at t = 0 that would have bought enough coin.
#[derive(Clone, Debug, PartialEq)]
struct CoinHolding {
    /// The index at t = 0 (USD a coin).
    start_price: f64,
    /// The index the cash was last valued at.
    price: f64,
    /// `sum_k (outflow_k - inflow_k - realized_k) / S_k` (coins).
    cash_outflow: f64,
    /// `max_t N_t`, floored at 0 (coins).
    required: f64,
    /// The most its inventory stood under water, in coins at the index of the moment
    /// (BitMEX's 5,652 XBT unrealized on 13 March 2020).
    peak_inventory_loss: f64,
}

impl CoinHolding {
    /// `N_t` with the inventory worth `unrealized` USD above its takeover price.
    fn given_out(&self, unrealized: f64) -> f64 {
        self.cash_outflow - unrealized / self.price
    }

    /// The inventory's loss now, worth `unrealized` USD, in coins at the index.
    fn note_inventory(&mut self, unrealized: f64) {
        self.peak_inventory_loss = self.peak_inventory_loss.max(-unrealized / self.price);
    }
}

/// OKX's early auto-deleveraging ("early liquidation mechanism"): once the fund's marked
/// balance has fallen `share` from its peak within the last `window_steps`, the fund stops
/// paying deficits and taking positions over, and auto-deleveraging takes their place, before
/// the fund is empty (MODEL.md section 6; OKX: 30% within 8 hours). Read once a step.
#[derive(Clone, Debug, PartialEq)]
pub struct EarlyAdl {
    share: f64,
    window_steps: u64,
    /// (step, marked balance) of the steps that may still be the window's peak, oldest and
    /// highest first (a monotone queue: the window's maximum in O(1) a step).
    peaks: VecDeque<(u64, f64)>,
    /// The drawdown is past `share` now.
    active: bool,
    /// The first step it was.
    first: Option<u64>,
}

impl EarlyAdl {
    pub fn new(share: f64, window_steps: u64) -> ParamResult<Self> {
        let share = crate::params::unit_interval("adl_drawdown", share)?;
        if share == 0.0 || window_steps == 0 {
            return Err(crate::params::ParamError::new(
                "adl_drawdown",
                "needs a drawdown above 0 and a window of at least one step (adl_window_hours)",
            ));
        }
        Ok(Self {
            share,
            window_steps,
            peaks: VecDeque::new(),
            active: false,
            first: None,
        })
    }

    /// The fund's marked balance at the end of `step`.
    fn note(&mut self, step: u64, marked: f64) {
        while self.peaks.back().is_some_and(|&(_, b)| b <= marked) {
            self.peaks.pop_back();
        }
        self.peaks.push_back((step, marked));
        while self
            .peaks
            .front()
            .is_some_and(|&(s, _)| s + self.window_steps < step)
        {
            self.peaks.pop_front();
        }
        let peak = self.peaks.front().map_or(marked, |&(_, b)| b);
        self.active = peak > 0.0 && (peak - marked) >= self.share * peak;
        if self.active && self.first.is_none() {
            self.first = Some(step);
        }
    }
}

impl InsuranceFund {
    pub fn new(initial: f64) -> ParamResult<Self> {
        Self::with_cap(initial, None)
    }

    /// A fund whose balance above `cap` is swept to treasury after every inflow; the cap must
    /// be at least the initial balance.
    pub fn with_cap(initial: f64, cap: Option<f64>) -> ParamResult<Self> {
        non_negative("initial", initial)?;
        if let Some(c) = cap {
            non_negative("cap", c)?;
            if c < initial {
                return Err(crate::params::ParamError::new(
                    "cap",
                    format!("must be >= fund.initial ({initial}), got {c}"),
                ));
            }
        }
        Ok(Self::fresh(initial, cap))
    }

    /// A liquidator vault's capital, kept as a fund is (its capital checked with the
    /// takeover rule; a negative one is read as none).
    pub(crate) fn vault(capital: f64) -> Self {
        Self::fresh(capital.max(0.0), None)
    }

    /// A fund at the start of a run (parameters already checked).
    fn fresh(initial: f64, cap: Option<f64>) -> Self {
        Self {
            initial,
            balance: initial,
            net_outflow: 0.0,
            required_capital: 0.0,
            inflow: 0.0,
            deficits: 0.0,
            paid_out: 0.0,
            min_balance: initial,
            depleted_at: None,
            cap,
            swept: 0.0,
            unrealized: 0.0,
            peak_inventory_loss: 0.0,
            inventory_pnl: 0.0,
            early_adl: None,
            coin: None,
        }
    }

    /// The same fund held in its market's coin, whose index is `start_price` at t = 0.
    pub fn held_in_coin(mut self, start_price: f64) -> Self {
        self.coin = Some(CoinHolding {
            start_price,
            price: start_price,
            cash_outflow: 0.0,
            required: 0.0,
            peak_inventory_loss: 0.0,
        });
        self
    }

    /// Whether it is held in its market's coin.
    pub fn is_in_coin(&self) -> bool {
        self.coin.is_some()
    }

    /// A fund in coin: its marked balance now less its balance at t = 0, in coins (the
    /// record's unit: BitMEX's fund fell 2,606 XBT on 13 March 2020). `None` in USD.
    pub fn coin_change(&self) -> Option<f64> {
        self.coin
            .as_ref()
            .map(|c| self.marked_balance() / c.price - self.initial / c.start_price)
    }

    /// A fund in coin: the most its inventory stood under water, in coins at the index of
    /// each moment it was marked. `None` in USD.
    pub fn peak_inventory_loss_coin(&self) -> Option<f64> {
        self.coin.as_ref().map(|c| c.peak_inventory_loss)
    }

    /// A fund in coin: the index moved to `index` at `step`. Returns the change of its cash's
    /// dollar value, which the caller moves from the outside counterparty (0 in USD).
    pub(crate) fn revalue_coin(&mut self, index: f64, step: u64) -> f64 {
        let Some(c) = self.coin.as_mut() else {
            return 0.0;
        };
        let change = self.balance * (index / c.price - 1.0);
        c.price = index;
        self.track_coin();
        self.account_coin(step);
        change
    }

    /// A fund in coin, after any change: the running maximum of `N_t` and of its inventory's
    /// loss in coins.
    fn track_coin(&mut self) {
        if let Some(c) = self.coin.as_mut() {
            c.required = c.required.max(c.given_out(self.unrealized));
            c.note_inventory(self.unrealized);
        }
    }

    /// A fund in coin: `usd` more given out now (negative: taken in), converted at the index
    /// of the moment.
    fn give_out_coin(&mut self, usd: f64) {
        if let Some(c) = self.coin.as_mut() {
            c.cash_outflow += usd / c.price;
        }
    }

    /// A fund in coin after the index moved: depletion recorded when what it gave out passes
    /// `F0 / S_0` (the exact test while nothing depends on F0).
    fn account_coin(&mut self, step: u64) {
        if self.coin.is_some()
            && self.cap.is_none()
            && self.early_adl.is_none()
            && self.depleted_at.is_none()
            && self.past_initial()
        {
            self.depleted_at = Some(step);
        }
    }

    /// Whether what the fund has given out passes its balance at t = 0: `net outflow > F0`,
    /// or in coins `N_t > F0 / S_0` for a fund held in coin (exact without a cap).
    fn past_initial(&self) -> bool {
        match &self.coin {
            None => self.net_outflow > self.initial,
            Some(c) => c.given_out(self.unrealized) > self.initial / c.start_price,
        }
    }

    /// The same fund with OKX's early auto-deleveraging.
    pub fn with_early_adl(mut self, early: EarlyAdl) -> Self {
        early_peaks_start(&mut self, early);
        self
    }

    /// The first step its early auto-deleveraging was on (none without it, or never).
    pub fn early_adl_at(&self) -> Option<u64> {
        self.early_adl.as_ref().and_then(|e| e.first)
    }

    /// The end of `step`: the early trigger reads the marked balance.
    pub(crate) fn end_step(&mut self, step: u64) {
        let marked = self.marked_balance();
        if let Some(e) = self.early_adl.as_mut() {
            e.note(step, marked);
        }
    }

    fn early_adl_active(&self) -> bool {
        self.early_adl.as_ref().is_some_and(|e| e.active)
    }

    /// A fresh fund holding `share` of this one's initial balance and cap (isolated funds of
    /// several markets split one total).
    pub fn scaled(&self, share: f64) -> InsuranceFund {
        let mut f = Self::fresh(self.initial * share, self.cap.map(|c| c * share));
        if let Some(e) = &self.early_adl {
            early_peaks_start(
                &mut f,
                EarlyAdl {
                    peaks: VecDeque::new(),
                    ..e.clone()
                },
            );
        }
        match &self.coin {
            Some(c) => f.held_in_coin(c.start_price),
            None => f,
        }
    }

    pub fn initial(&self) -> f64 {
        self.initial
    }

    /// Its cash (USD).
    pub fn balance(&self) -> f64 {
        self.balance
    }

    /// Its cash plus the inventory it took over, marked at the mark (MODEL.md section 5):
    /// what depletion and required capital read.
    pub fn marked_balance(&self) -> f64 {
        self.balance + self.unrealized
    }

    /// What its inventory is worth at the mark above what it took it over at (< 0: a loss).
    pub fn unrealized(&self) -> f64 {
        self.unrealized
    }

    /// The most its inventory stood under water at any moment it was marked (USD, >= 0).
    pub fn peak_inventory_loss(&self) -> f64 {
        self.peak_inventory_loss
    }

    /// Realized profit (< 0: loss) from selling its inventory back to the book.
    pub fn inventory_pnl(&self) -> f64 {
        self.inventory_pnl
    }

    pub fn min_balance(&self) -> f64 {
        self.min_balance
    }

    /// `R = max_t (cumulative outflow - cumulative inflow)`, floored at 0.
    /// A fund in coin: `S_0 max_t N_t`, the dollars at t = 0 that buy the coin it needed.
    pub fn required_capital(&self) -> f64 {
        match &self.coin {
            None => self.required_capital,
            Some(c) => c.required * c.start_price,
        }
    }

    /// Step of the first deficit the fund could not cover.
    pub fn depleted_at(&self) -> Option<u64> {
        self.depleted_at
    }

    /// Total inflow so far (penalty and fee shares, revenue).
    pub fn inflow(&self) -> f64 {
        self.inflow
    }

    /// Total deficits presented to the fund so far.
    pub fn deficits(&self) -> f64 {
        self.deficits
    }

    pub fn cap(&self) -> Option<f64> {
        self.cap
    }

    /// Total swept to treasury by the cap.
    pub fn swept(&self) -> f64 {
        self.swept
    }

    /// How much of the balance lies above the cap (0 without a cap); records it as swept.
    pub(crate) fn take_excess(&mut self) -> f64 {
        let excess = self.cap.map_or(0.0, |c| (self.balance - c).max(0.0));
        self.swept += excess;
        excess
    }

    /// Records an inflow of `amount`; the caller moves the money.
    pub(crate) fn record_inflow(&mut self, amount: f64) {
        self.inflow += amount;
        self.net_outflow -= amount;
        self.give_out_coin(-amount);
    }

    /// Records a deficit `d` at `step` and returns how much the fund pays (all of `d` unless it
    /// is depleted); the caller moves the money and socializes the rest.
    ///
    /// Until the first depletion, and without a cap, the test is `net outflow > F0`, the very
    /// quantity whose running maximum is `R`, so that `R > F0` and depletion agree exactly, bit
    /// for bit, as the calibration shortcut of section 5 needs.
    pub(crate) fn record_deficit(&mut self, d: f64, step: u64) -> f64 {
        self.deficits += d;
        self.net_outflow += d;
        self.required_capital = self.required_capital.max(self.net_outflow);
        self.give_out_coin(d);
        self.track_coin();
        // Without a cap the balance is exactly `initial - net outflow` until the first
        // depletion, so the test below is the same as `d > balance` but exact. With a cap,
        // sweeps to treasury lower the balance too, and only the balance itself will do.
        // An early-deleveraging fund pays nothing while its trigger is on: its balance no
        // longer follows the net outflow, so only the balance itself will do.
        let runs_dry = match (self.cap, &self.early_adl) {
            (None, None) => self.past_initial(),
            _ => d > self.marked_balance(),
        };
        let paid = if self.early_adl_active() {
            0.0
        } else if self.depleted_at.is_none() {
            if runs_dry {
                self.depleted_at = Some(step);
                self.balance.clamp(0.0, d)
            } else {
                d
            }
        } else {
            self.balance.clamp(0.0, d)
        };
        self.paid_out += paid;
        paid
    }

    /// Records a change of the value of what the fund holds besides cash (collateral it
    /// absorbed, marked at the oracle; a sale under the mark), a gain or, negative, a loss
    /// (the caller moves the money). Losses count towards the required capital and deplete
    /// the fund as deficits do, so that `R > F0` and depletion still agree; they are not
    /// deficits (no bad debt), and gains are not inflows.
    pub(crate) fn record_mark(&mut self, change: f64, step: u64) {
        self.net_outflow -= change;
        self.required_capital = self.required_capital.max(self.net_outflow);
        self.give_out_coin(-change);
        self.track_coin();
        let runs_dry = match self.cap {
            None => self.past_initial(),
            Some(_) => self.balance + change < 0.0,
        };
        if self.depleted_at.is_none() && runs_dry {
            self.depleted_at = Some(step);
        }
    }

    /// Call after every change of the balance.
    pub(crate) fn observe_balance(&mut self) {
        self.min_balance = self.min_balance.min(self.balance + self.unrealized);
    }

    /// Its inventory's value at the mark moved by `change` at `step` (a new mark, a takeover,
    /// a sale), and `realized` was realized selling part of it (the caller moves that cash).
    /// The marked balance moves by both, and so do the net outflow and required capital: a
    /// fund sitting on an inherited position that keeps falling is as depleted as one that
    /// paid the loss in cash (MODEL.md section 5). It runs dry at the first moment its marked
    /// balance is below 0, which without a cap is `net outflow > F0`, as for deficits.
    pub(crate) fn revalue_inventory(&mut self, change: f64, realized: f64, step: u64) {
        if change == 0.0 && realized == 0.0 {
            return;
        }
        self.unrealized += change;
        self.inventory_pnl += realized;
        self.net_outflow -= change + realized;
        self.required_capital = self.required_capital.max(self.net_outflow);
        self.give_out_coin(-realized);
        self.track_coin();
        self.peak_inventory_loss = self.peak_inventory_loss.max(-self.unrealized);
        // The cash follows (the caller moves it next).
        let marked = self.balance + realized + self.unrealized;
        let runs_dry = match (self.cap, &self.early_adl) {
            (None, None) => self.past_initial(),
            _ => marked < 0.0,
        };
        if runs_dry && self.depleted_at.is_none() {
            self.depleted_at = Some(step);
        }
        self.min_balance = self.min_balance.min(marked);
    }

    /// Whether it can still take positions over: not run dry, and no early
    /// auto-deleveraging on.
    pub fn can_take_over(&self) -> bool {
        self.depleted_at.is_none() && !self.early_adl_active()
    }
}

/// Starts `early`'s window at the fund's balance at t = 0.
fn early_peaks_start(f: &mut InsuranceFund, mut early: EarlyAdl) {
    early.peaks.clear();
    early.peaks.push_back((0, f.marked_balance()));
    f.early_adl = Some(early);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depletes_exactly_when_required_capital_exceeds_the_fund() {
        let mut f = InsuranceFund::new(100.0).unwrap();
        f.record_inflow(10.0);
        f.balance += 10.0;
        let paid = f.record_deficit(60.0, 3);
        f.balance -= paid;
        assert_eq!(paid, 60.0);
        assert_eq!(f.depleted_at(), None);
        let paid = f.record_deficit(60.0, 5);
        f.balance -= paid;
        assert_eq!(paid, 50.0);
        assert_eq!(f.depleted_at(), Some(5));
        assert_eq!(f.required_capital(), 110.0);
        assert!(f.required_capital() > f.initial());
    }

    /// A fund of 100 USD held in a coin at 10 USD (10 coins). The price halves: its cash is
    /// worth 50 USD, no coin given out. A deficit of 30 USD at 5 is 6 coins; the price doubles
    /// back to 10: 4 coins, 40 USD. Required capital is the coins it gave out at most (6),
    /// bought at t = 0's price (60 USD); a second deficit of 50 USD at 10 takes 5 coins, 11 in
    /// all, past its 10: it runs dry exactly there.
    #[test]
    fn a_fund_in_coin_gives_out_coins_and_runs_dry_past_its_start() {
        let mut f = InsuranceFund::new(100.0).unwrap().held_in_coin(10.0);
        let revalue = |f: &mut InsuranceFund, price: f64, step: u64| {
            let change = f.revalue_coin(price, step);
            f.balance += change;
            f.observe_balance();
        };
        revalue(&mut f, 5.0, 1);
        assert_eq!(f.balance(), 50.0);
        assert_eq!(f.coin_change(), Some(0.0));
        assert_eq!(f.required_capital(), 0.0);
        let paid = f.record_deficit(30.0, 2);
        f.balance -= paid;
        f.observe_balance();
        assert_eq!(paid, 30.0);
        assert_eq!(f.coin_change(), Some(-6.0));
        revalue(&mut f, 10.0, 3);
        assert_eq!(f.balance(), 40.0);
        assert_eq!(f.required_capital(), 60.0);
        assert_eq!(f.min_balance(), 20.0);
        assert_eq!(f.depleted_at(), None);
        let paid = f.record_deficit(50.0, 4);
        assert_eq!(paid, 40.0);
        assert_eq!(f.depleted_at(), Some(4));
        assert_eq!(f.required_capital(), 110.0);
        // In USD the same flows need 80 and leave the fund standing.
        let mut usd = InsuranceFund::new(100.0).unwrap();
        usd.balance -= usd.record_deficit(30.0, 2);
        usd.balance -= usd.record_deficit(50.0, 4);
        assert_eq!((usd.required_capital(), usd.depleted_at()), (80.0, None));
        assert_eq!(usd.coin_change(), None);
    }

    /// OKX: 30% within a window of 4 steps (the peak of steps `t - 4 ..= t`). The balance goes 100, 90, 80, 75 (25% off the
    /// peak: not yet), 69 (31%: on, at step 4); a deficit while on is not paid; once the old
    /// peak leaves the window and the drawdown within it is under 30%, it is off again.
    #[test]
    fn early_adl_fires_at_the_first_step_past_the_drawdown() {
        let mut f = InsuranceFund::new(100.0)
            .unwrap()
            .with_early_adl(EarlyAdl::new(0.3, 4).unwrap());
        for (step, balance) in [(1, 90.0), (2, 80.0), (3, 75.0)] {
            f.balance = balance;
            f.end_step(step);
            assert!(f.can_take_over(), "{step}");
        }
        assert_eq!(f.early_adl_at(), None);
        f.balance = 69.0;
        f.end_step(4);
        assert_eq!(f.early_adl_at(), Some(4));
        assert!(!f.can_take_over());
        assert_eq!(f.record_deficit(5.0, 5), 0.0);
        for step in 5..9 {
            f.end_step(step);
        }
        // The window now holds 69 only: no drawdown.
        assert!(f.can_take_over());
        assert_eq!(f.record_deficit(5.0, 9), 5.0);
        assert_eq!(f.early_adl_at(), Some(4));
    }
}
