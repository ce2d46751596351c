//! The venue's three prices (MODEL.md section 2): the index `S`, the book `B = S exp(I)`, where
//! `I` is the impact of the venue's own flow, and the mark `M` its rule
//! ([`MarkRule`](super::MarkRule)) makes of the two. Fills read `B`; margin reads `M`.
//!
//! `I` decays toward 0 with a half-life (arbitrageurs pull the mark back to the index); a share
//! `permanent` of each impact moves the index itself instead (MODEL.md section 2).
//!
//! Departure from the letter of MODEL.md: impacts and slippage are applied multiplicatively,
//! `P' = P exp(-k)` and fill `x = P exp(-s)` for a sell, instead of `P (1 - k)` and `P (1 - s)`.
//! The two agree to first order for the small `k` of real books, and the exponential form keeps
//! prices positive when a huge order meets a thin book.

use super::{BasisAverages, Fill, ImpactModel, MarkRule};
use crate::params::{ParamResult, positive, unit_interval};

/// Direction of a market order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Buy,
    Sell,
}

impl Side {
    /// +1 for a buy (pushes the price up), -1 for a sell.
    #[inline]
    pub fn sign(self) -> f64 {
        match self {
            Side::Buy => 1.0,
            Side::Sell => -1.0,
        }
    }
}

/// Depth that thins when volatility rises (MODEL.md section 2):
/// `D_t = D_0 max(floor, min(1, (sigma_ref / sigma_hat_t)^kappa))`, `sigma_hat` an EWMA of the
/// realized volatility of the mark (its step-to-step log returns, the venue's own fills
/// included), annualized.
#[derive(Clone, Debug, PartialEq)]
pub struct DepthWithdrawal {
    kappa: f64,
    reference_variance: f64,
    /// EWMA weight on the old variance per step.
    keep: f64,
    floor: f64,
    steps_per_year: f64,
}

impl DepthWithdrawal {
    /// `reference_vol` annualized; `half_life_minutes` of the EWMA; `floor` the least share of
    /// full depth that stays.
    pub fn new(
        kappa: f64,
        reference_vol: f64,
        half_life_minutes: f64,
        floor: f64,
        dt_seconds: f64,
    ) -> ParamResult<Self> {
        crate::params::non_negative("kappa", kappa)?;
        positive("reference_vol", reference_vol)?;
        let hl = 60.0 * positive("ewma_half_life_minutes", half_life_minutes)?;
        if !(floor > 0.0 && floor <= 1.0) {
            return Err(crate::params::ParamError::new(
                "floor",
                format!("must be in (0, 1], got {floor}"),
            ));
        }
        Ok(Self {
            kappa,
            reference_variance: reference_vol * reference_vol,
            keep: (-std::f64::consts::LN_2 * dt_seconds / hl).exp(),
            floor,
            steps_per_year: super::SECONDS_PER_YEAR / dt_seconds,
        })
    }
}

/// Depth that thins with one-sided flow (MODEL.md section 2; market makers step back from a
/// one-way market, as on 12 March 2020 and 10 October 2025):
/// `D_t <- D_t max(floor, exp(-gamma |F_t| / D_0))`, `F_t` the net taker flow of every fill
/// (buys positive, USD at the mark), forced and voluntary alike, summed with weights that halve
/// every half-life. `D_0` is the notional that moves the full book by 1%.
///
/// Departure from the letter of MODEL.md, which calls `F` an EWMA: an EWMA's weights sum to 1,
/// which would make `F` a flow per step and `gamma` depend on `dt`. A decaying sum keeps `F` in
/// USD of recent flow whatever the step, so `gamma = 1` means "one full book's worth of one-way
/// flow thins the book by `1/e`"; the depth still recovers with the half-life once flow stops.
#[derive(Clone, Debug, PartialEq)]
pub struct FlowWithdrawal {
    gamma: f64,
    /// Weight kept per step.
    keep: f64,
    floor: f64,
    /// `gamma / D_0` (0 for a book without impact).
    per_usd: f64,
}

impl FlowWithdrawal {
    /// `gamma` (non-negative), the flow's half-life in minutes, the least share of depth that
    /// stays, and the book whose 1% depth `D_0` scales the flow.
    pub fn new<B: ImpactModel + ?Sized>(
        gamma: f64,
        half_life_minutes: f64,
        floor: f64,
        dt_seconds: f64,
        book: &B,
    ) -> ParamResult<Self> {
        crate::params::non_negative("gamma", gamma)?;
        let hl = 60.0 * positive("half_life_minutes", half_life_minutes)?;
        if !(floor > 0.0 && floor <= 1.0) {
            return Err(crate::params::ParamError::new(
                "floor",
                format!("must be in (0, 1], got {floor}"),
            ));
        }
        let d0 = book.notional_for_impact(0.01, 1.0);
        Ok(Self {
            gamma,
            keep: (-std::f64::consts::LN_2 * dt_seconds / hl).exp(),
            floor,
            per_usd: if d0.is_finite() { gamma / d0 } else { 0.0 },
        })
    }

    /// The share of depth that net flow `flow` leaves.
    #[inline]
    fn factor(&self, flow: f64) -> f64 {
        (-self.per_usd * flow.abs()).exp().max(self.floor)
    }
}

/// Index and impact of one market.
#[derive(Clone, Debug)]
pub struct MarkState {
    index: f64,
    log_impact: f64,
    /// The book price `B = index * exp(log_impact)`, kept up to date by every change of either
    /// (it is read far more often than it moves).
    book: f64,
    decay_per_step: f64,
    permanent: f64,
    withdrawal: Option<DepthWithdrawal>,
    /// EWMA of the mark's annualized variance (with withdrawal only).
    variance: f64,
    last_mark: f64,
    /// Share of full depth the book holds now: the volatility factor times the flow factor.
    depth: f64,
    /// The volatility factor of `depth` (1 without withdrawal).
    vol_depth: f64,
    flow_withdrawal: Option<FlowWithdrawal>,
    /// Net taker flow, decayed (USD; with flow withdrawal only).
    flow: f64,
    /// Price each order on the step's same-side flow before it ([`ImpactModel::fill_after`]),
    /// instead of on its own.
    on_step_flow: bool,
    /// This step's run of same-side flow so far (signed USD; with `on_step_flow` only).
    step_flow: f64,
    /// Price band: `|ln(mark / index)|` and every fill's distance from the index stay within
    /// this (exchanges cap the mark's premium over the index and reject orders beyond a
    /// band; BitMEX fair-price marking, Binance price protection). It also keeps a thin
    /// book from sending prices to infinity.
    band: f64,
    /// `exp(-band)` and `exp(band)`: the band's edges as multiples of the index.
    band_factors: (f64, f64),
    /// The venue's mark rule (MODEL.md section 2): how `trigger` follows the index and book.
    rule: MarkRule,
    /// The averages of the book's basis the rule reads.
    basis: BasisAverages,
    /// The mark `M` margin is checked against; the book itself under the `book` rule.
    mark: f64,
}

/// What a market order would do, worked out by [`MarkState::plan`]: its average fill price
/// and the state it leaves, which [`MarkState::commit`] puts in place.
#[derive(Clone, Copy, Debug)]
pub struct PlannedOrder {
    pub fill_price: f64,
    index: f64,
    log_impact: f64,
    /// The net taker flow after the order.
    flow: f64,
    /// The step's same-side flow after the order.
    step_flow: f64,
}

/// The index prices a market may start at (USD): from a thousandth of a millionth of a
/// dollar to a trillion.
pub const MIN_S0: f64 = 1e-9;
pub const MAX_S0: f64 = 1e12;

impl MarkState {
    pub fn new(
        s0: f64,
        impact_half_life_minutes: f64,
        permanent: f64,
        dt_seconds: f64,
    ) -> ParamResult<Self> {
        positive("s0", s0)?;
        // From a thousandth of a millionth of a dollar to a trillion: any asset's price, far
        // from where notional and margin arithmetic would leave f64's normal range.
        if !(MIN_S0..=MAX_S0).contains(&s0) {
            return Err(crate::params::ParamError::new(
                "s0",
                format!("must be from {MIN_S0:e} to {MAX_S0:e} USD, got {s0:e}"),
            ));
        }
        let hl = 60.0 * positive("impact_half_life_minutes", impact_half_life_minutes)?;
        unit_interval("permanent_impact", permanent)?;
        Ok(Self {
            index: s0,
            log_impact: 0.0,
            book: s0,
            decay_per_step: (-std::f64::consts::LN_2 * dt_seconds / hl).exp(),
            permanent,
            withdrawal: None,
            variance: 0.0,
            last_mark: s0,
            depth: 1.0,
            vol_depth: 1.0,
            flow_withdrawal: None,
            flow: 0.0,
            on_step_flow: false,
            step_flow: 0.0,
            band: f64::INFINITY,
            band_factors: (0.0, f64::INFINITY),
            rule: MarkRule::book(),
            basis: BasisAverages::new(&MarkRule::book(), 1.0),
            mark: s0,
        })
    }

    /// The same market marked by `rule` instead of its own book.
    pub fn with_rule(mut self, rule: MarkRule) -> Self {
        self.rule = rule;
        self.basis = BasisAverages::new(&rule, self.decay_per_step);
        self.mark = self.basis.mark(&rule, self.index, self.book);
        self
    }

    /// The venue's mark rule.
    pub fn rule(&self) -> &MarkRule {
        &self.rule
    }

    /// The venue's mark `M` (MODEL.md section 2), which margin is checked against: the book
    /// price under the `book` rule, the index under `index`, the index times a smoothed and
    /// capped basis under `fair` and `ema`, the median of three under `median`.
    #[inline]
    pub fn mark(&self) -> f64 {
        self.mark
    }

    /// Puts the mark in line with the index and book after either moved.
    #[inline]
    fn remark(&mut self) {
        self.mark = self.basis.mark(&self.rule, self.index, self.book);
    }

    /// Keeps the mark, and every fill, within `1 + band` of the index (in log terms,
    /// `|ln(P / S)| <= ln(1 + band)`).
    pub fn with_band(mut self, band: f64) -> ParamResult<Self> {
        positive("price_band", band)?;
        self.band = band.ln_1p();
        self.band_factors = ((-self.band).exp(), self.band.exp());
        Ok(self)
    }

    /// The same market with depth that thins as volatility rises.
    pub fn with_withdrawal(mut self, w: Option<DepthWithdrawal>) -> Self {
        if let Some(w) = &w {
            self.variance = w.reference_variance;
        }
        self.withdrawal = w;
        self
    }

    /// The same market with depth that thins with one-sided flow.
    pub fn with_flow_withdrawal(mut self, w: Option<FlowWithdrawal>) -> Self {
        self.flow_withdrawal = w.filter(|w| w.gamma > 0.0);
        self
    }

    /// The same market with each order priced as part of the step's same-side flow so far
    /// (one metaorder), so that many small orders of a step move the price as their sum
    /// would; a step, or an order on the other side, starts a new run.
    pub fn with_impact_on_step_flow(mut self, on: bool) -> Self {
        self.on_step_flow = on;
        self
    }

    /// Net taker flow, decayed (USD; 0 without flow withdrawal).
    #[inline]
    pub fn net_flow(&self) -> f64 {
        self.flow
    }

    /// Moves the index (and the mark with it) by `log_move`: flow on other venues' books
    /// (MODEL.md section 2), which reaches the world price and leaves this venue's impact as
    /// it is.
    pub fn move_index(&mut self, log_move: f64) {
        if log_move == 0.0 {
            return;
        }
        self.index *= log_move.exp();
        self.book = self.index * self.log_impact.exp();
        self.remark();
    }

    /// Whether depth thins with volatility here.
    pub fn withdraws_depth(&self) -> bool {
        self.withdrawal.as_ref().is_some_and(|w| w.kappa > 0.0)
    }

    /// Share of full depth the book holds now (1 without withdrawal).
    #[inline]
    pub fn depth(&self) -> f64 {
        self.depth
    }

    #[inline]
    pub fn index(&self) -> f64 {
        self.index
    }

    /// `ln(mark / index)` up to rounding (the mark is `index * exp` of it).
    #[inline]
    pub fn log_impact(&self) -> f64 {
        self.log_impact
    }

    /// The venue's book price `B`, where fills happen.
    #[inline]
    pub fn book(&self) -> f64 {
        self.book
    }

    /// Moves the index by one step's log return and lets the impact decay.
    #[inline]
    pub fn advance(&mut self, log_return: f64) {
        self.advance_by(log_return.exp());
    }

    /// [`Self::advance`] with the step's growth factor `exp(log_return)` worked out before
    /// (the index path is exogenous: its factors can be drawn a block of steps at a time).
    #[inline]
    pub fn advance_by(&mut self, growth: f64) {
        self.index *= growth;
        self.step_flow = 0.0;
        if self.rule.averages() {
            // The basis the step's fills left decays over the step: the averages take it
            // in exactly (market/mark_rule.rs).
            self.basis.advance(&self.rule, self.log_impact);
        }
        self.log_impact *= self.decay_per_step;
        // exp(0) is exactly 1: until the venue's first fill, the mark is the index.
        self.book = if self.log_impact == 0.0 {
            self.index
        } else {
            self.index * self.log_impact.exp()
        };
        self.remark();
        if let Some(w) = &self.withdrawal {
            // Realized volatility of the venue's mark (of the book itself under `book`).
            let mark = self.mark;
            let r = (mark / self.last_mark).ln();
            self.last_mark = mark;
            self.variance = w.keep * self.variance + (1.0 - w.keep) * r * r * w.steps_per_year;
            let ratio = (w.reference_variance / self.variance.max(f64::MIN_POSITIVE)).sqrt();
            self.vol_depth = ratio.powf(w.kappa).min(1.0).max(w.floor);
            self.depth = self.vol_depth;
        }
        if let Some(f) = &self.flow_withdrawal {
            self.flow *= f.keep;
            self.depth = self.vol_depth * f.factor(self.flow);
        }
    }

    /// Executes a market order of `notional` (USD at the book price) against the book: returns
    /// the average fill price and moves the book (and the mark, as far as its rule lets it)
    /// for whatever comes next.
    #[inline]
    pub fn execute<B: ImpactModel + ?Sized>(&mut self, side: Side, notional: f64, book: &B) -> f64 {
        let x = self.plan(side, notional, book);
        self.commit(x);
        x.fill_price
    }

    /// Puts in place what a planned order does to the mark (and, with a permanent share, to
    /// the index). The plan must come from this state: nothing may move in between.
    #[inline]
    pub fn commit(&mut self, x: PlannedOrder) {
        self.index = x.index;
        self.log_impact = x.log_impact;
        self.book = x.index * x.log_impact.exp();
        self.remark();
        self.step_flow = x.step_flow;
        if let Some(f) = &self.flow_withdrawal {
            // The next order meets the book this one left (a panic close and a liquidation
            // alike: the book does not know why an order came).
            self.flow = x.flow;
            self.depth = self.vol_depth * f.factor(x.flow);
        }
    }

    /// What [`MarkState::execute`] would do, without doing it: the average fill price and the
    /// venue's mark `M` after the order (computed by the same steps, so the numbers agree bit for bit).
    #[inline]
    pub fn quote<B: ImpactModel + ?Sized>(
        &self,
        side: Side,
        notional: f64,
        book: &B,
    ) -> (f64, f64) {
        let x = self.plan(side, notional, book);
        (
            x.fill_price,
            self.basis
                .mark(&self.rule, x.index, x.index * x.log_impact.exp()),
        )
    }

    /// The average fill price of an order, as [`MarkState::quote`] without the mark after it.
    #[inline]
    pub fn quote_fill<B: ImpactModel + ?Sized>(&self, side: Side, notional: f64, book: &B) -> f64 {
        self.plan(side, notional, book).fill_price
    }

    /// The largest notional (USD at the book price) an order on `side` fills before the book
    /// reaches `limit`: a limit order's fillable size (MODEL.md section 4, liquidation orders
    /// limited at the bankruptcy price, a fillable price or a band). 0 when the book is at or
    /// past the limit already. The book moves by the order's whole impact (its permanent share
    /// moves the index, the rest the basis), so the order may move it by `ln(B / L)`; on the
    /// step's flow, by that much beyond what the step's same-side flow already made.
    pub fn notional_within<B: ImpactModel + ?Sized>(
        &self,
        side: Side,
        limit: f64,
        book: &B,
    ) -> f64 {
        let room = side.sign() * (limit / self.book).ln();
        if room.is_nan() || room <= 0.0 {
            return 0.0;
        }
        let prior = if self.on_step_flow && self.step_flow * side.sign() > 0.0 {
            self.step_flow.abs()
        } else {
            0.0
        };
        if prior > 0.0 {
            let made = book.fill(prior, self.depth).impact;
            (book.notional_for_impact(room + made, self.depth) - prior).max(0.0)
        } else {
            book.notional_for_impact(room, self.depth)
        }
    }

    /// Works out a market order of `notional` (USD at the book price) without doing it.
    #[inline]
    pub fn plan<B: ImpactModel + ?Sized>(
        &self,
        side: Side,
        notional: f64,
        book: &B,
    ) -> PlannedOrder {
        let sign = side.sign();
        // The run of same-side flow this order joins (a buy after sells starts a new one).
        let prior = if self.on_step_flow && self.step_flow * sign > 0.0 {
            self.step_flow.abs()
        } else {
            0.0
        };
        let Fill { impact, slippage } = if prior > 0.0 {
            book.fill_after(prior, notional, self.depth)
        } else {
            book.fill(notional, self.depth)
        };
        let step_flow = if self.on_step_flow {
            sign * (prior + notional)
        } else {
            0.0
        };
        let (impact, slippage) = if impact > 2.0 * self.band {
            // Nothing moves further than across the whole band.
            (2.0 * self.band, slippage * 2.0 * self.band / impact)
        } else {
            (impact, slippage)
        };
        let fill_price = self.book * (sign * slippage).exp();
        let temporary = impact * (1.0 - self.permanent);
        let log_impact = (self.log_impact + sign * temporary).clamp(-self.band, self.band);
        // exp(0) is exactly 1: without a permanent share the index stays as it is.
        let index = if self.permanent == 0.0 {
            self.index
        } else {
            self.index * (sign * impact * self.permanent).exp()
        };
        let (lo, hi) = (index * self.band_factors.0, index * self.band_factors.1);
        let fill_price = if fill_price < lo {
            lo
        } else if fill_price > hi {
            hi
        } else {
            fill_price
        };
        let flow = if self.flow_withdrawal.is_some() {
            self.flow + sign * notional
        } else {
            0.0
        };
        PlannedOrder {
            fill_price,
            index,
            log_impact,
            flow,
            step_flow,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::market::LinearBook;

    #[test]
    fn impact_decays_with_half_life() {
        let book = LinearBook::new(1e6).unwrap();
        let mut m = MarkState::new(100.0, 10.0, 0.0, 60.0).unwrap();
        let x = m.execute(Side::Sell, 1e6, &book);
        assert!((x - 100.0 * (-0.005f64).exp()).abs() < 1e-12);
        assert!((m.mark() - 100.0 * (-0.01f64).exp()).abs() < 1e-12);
        for _ in 0..10 {
            m.advance(0.0);
        }
        // Ten steps of 60 s is one half-life.
        assert!((m.mark().ln() - 100f64.ln() + 0.005).abs() < 1e-12);
        assert_eq!(m.index(), 100.0);
    }

    /// A calm mark keeps the full book; a volatile one thins it by `(ref / vol)^kappa`, never
    /// below the floor.
    #[test]
    fn depth_thins_as_realized_volatility_rises() {
        let w = DepthWithdrawal::new(1.0, 0.8, 30.0, 0.1, 60.0).unwrap();
        let mut m = MarkState::new(100.0, 10.0, 0.0, 60.0)
            .unwrap()
            .with_withdrawal(Some(w));
        for _ in 0..200 {
            m.advance(0.0);
        }
        assert_eq!(m.depth(), 1.0);
        // Alternating 0.2% moves: annualized vol 0.002 sqrt(525,600) = 1.45, above 0.8.
        for k in 0..600 {
            m.advance(if k % 2 == 0 { 0.002 } else { -0.002 });
        }
        let vol = 0.002 * (365.0f64 * 1440.0).sqrt();
        assert!(
            (m.depth() - (0.8 / vol).max(0.1)).abs() < 1e-3,
            "{}",
            m.depth()
        );
        let mut floor = MarkState::new(100.0, 10.0, 0.0, 60.0)
            .unwrap()
            .with_withdrawal(Some(
                DepthWithdrawal::new(3.0, 0.8, 30.0, 0.1, 60.0).unwrap(),
            ));
        for k in 0..600 {
            floor.advance(if k % 2 == 0 { 0.02 } else { -0.02 });
        }
        assert_eq!(floor.depth(), 0.1);
    }

    /// Flow-keyed depth (MODEL.md section 2): equal sells meet a thinner book each time when
    /// gamma > 0, so each moves the price further than the one before; with gamma = 0 each
    /// moves it exactly as far. Once the flow stops, it halves every half-life, and the
    /// depth is `exp(-gamma |F| / D_0)` of full.
    #[test]
    fn one_way_flow_thins_the_book_and_depth_recovers_with_the_half_life() {
        let book = LinearBook::new(1e7).unwrap();
        let moves = |gamma: f64| {
            let w = FlowWithdrawal::new(gamma, 30.0, 0.01, 60.0, &book).unwrap();
            let mut m = MarkState::new(100.0, 1e9, 0.0, 60.0)
                .unwrap()
                .with_flow_withdrawal(Some(w));
            let mut impacts = Vec::new();
            for _ in 0..8 {
                let before = m.log_impact();
                m.execute(Side::Sell, 2e6, &book);
                impacts.push(before - m.log_impact());
            }
            (impacts, m)
        };
        let (thinning, mut m) = moves(1.0);
        for pair in thinning.windows(2) {
            assert!(pair[1] > pair[0], "{thinning:?}");
        }
        // The first sell meets the full book: 2M on 10M per 1% moves 0.2%.
        assert!((thinning[0] - 0.002).abs() < 1e-15);
        let (constant, still) = moves(0.0);
        assert_eq!(still.depth(), 1.0);
        for k in &constant {
            assert!((k - 0.002).abs() < 1e-15, "{constant:?}");
        }
        let flow = m.net_flow();
        assert_eq!(flow, -16e6);
        for _ in 0..30 {
            m.advance(0.0);
        }
        assert!((m.net_flow() / flow - 0.5).abs() < 1e-12);
        // gamma |F| / D_0 = 1 x 8M / 10M.
        assert!((m.depth() - (-0.8f64).exp()).abs() < 1e-12);
    }

    /// Priced on the step's flow, ten sells of a step leave the mark where one sell of their
    /// sum would; the next step starts a new run, and so does a buy.
    #[test]
    fn orders_of_one_step_are_one_metaorder_on_step_flow() {
        let book = crate::market::SqrtImpact::new(1.0, 0.8, 2e9).unwrap();
        let fresh = || {
            MarkState::new(100.0, 10.0, 0.0, 60.0)
                .unwrap()
                .with_impact_on_step_flow(true)
        };
        let (mut pieces, mut whole) = (fresh(), fresh());
        for _ in 0..10 {
            pieces.execute(Side::Sell, 1e6, &book);
        }
        whole.execute(Side::Sell, 1e7, &book);
        assert!((pieces.log_impact() / whole.log_impact() - 1.0).abs() < 1e-12);
        let k = |m: &mut MarkState, side| {
            let before = m.log_impact();
            m.execute(side, 1e6, &book);
            (m.log_impact() - before).abs()
        };
        let first = book.fill(1e6, 1.0).impact;
        assert!((k(&mut pieces, Side::Buy) - first).abs() < 1e-15);
        pieces.advance(0.0);
        assert!((k(&mut pieces, Side::Sell) - first).abs() < 1e-15);
        // Priced order by order, the ten stack: sqrt(10) times as far.
        let mut stacked = MarkState::new(100.0, 10.0, 0.0, 60.0).unwrap();
        for _ in 0..10 {
            stacked.execute(Side::Sell, 1e6, &book);
        }
        let ratio = stacked.log_impact() / whole.log_impact();
        assert!((ratio - 10f64.sqrt()).abs() < 1e-9, "{ratio}");
    }

    /// Under the `index` rule a crash of the book leaves the mark at the index; under `ema` it
    /// moves by the exact average of the basis, never past the cap; under `book` it is the
    /// book.
    #[test]
    fn the_mark_follows_its_rule_not_the_book() {
        use crate::market::{MarkKind, MarkRule};
        let book = LinearBook::new(1e6).unwrap();
        let crash = |rule: MarkRule| {
            let mut m = MarkState::new(100.0, 1.0, 0.0, 60.0)
                .unwrap()
                .with_rule(rule);
            for _ in 0..5 {
                m.execute(Side::Sell, 5e6, &book);
                m.advance(0.0);
            }
            m
        };
        let index = crash(MarkRule::new(MarkKind::Index, 0.0, 0.0, 0.0, 60.0).unwrap());
        assert_eq!(index.mark(), 100.0);
        assert!(index.book() < 99.0);
        let on_book = crash(MarkRule::book());
        assert_eq!(on_book.mark(), on_book.book());
        let ema = crash(MarkRule::new(MarkKind::Ema, 0.005, 300.0, 8.0, 60.0).unwrap());
        assert!(ema.mark() < 100.0);
        assert!(ema.mark() >= 100.0 / 1.005 - 1e-12);
    }

    #[test]
    fn permanent_share_moves_the_index() {
        let book = LinearBook::new(1e6).unwrap();
        let mut m = MarkState::new(100.0, 10.0, 0.25, 60.0).unwrap();
        m.execute(Side::Buy, 1e6, &book);
        assert!((m.index() - 100.0 * 0.0025f64.exp()).abs() < 1e-12);
        assert!((m.mark() - 100.0 * 0.01f64.exp()).abs() < 1e-12);
    }
}
