//! The per-run figures of MODEL.md section 8: one flat row of scalars per run, and one per run
//! and market.

/// Receives the columns of a batch of rows, one call per field, in declaration order; lets
/// output code build tables without the simulation knowing any table library.
pub trait ColumnSink {
    fn f64(&mut self, name: &'static str, values: Vec<f64>);
    fn opt_f64(&mut self, name: &'static str, values: Vec<Option<f64>>);
    fn u32(&mut self, name: &'static str, values: Vec<u32>);
    fn opt_u32(&mut self, name: &'static str, values: Vec<Option<u32>>);
    fn bool(&mut self, name: &'static str, values: Vec<bool>);
}

/// Gives back the columns of a batch of rows by name: the inverse of [`ColumnSink`], so rows
/// saved to disk can be read back exactly.
pub trait ColumnSource {
    fn f64(&mut self, name: &'static str) -> Result<Vec<f64>, String>;
    fn opt_f64(&mut self, name: &'static str) -> Result<Vec<Option<f64>>, String>;
    fn u32(&mut self, name: &'static str) -> Result<Vec<u32>, String>;
    fn opt_u32(&mut self, name: &'static str) -> Result<Vec<Option<u32>>, String>;
    fn bool(&mut self, name: &'static str) -> Result<Vec<bool>, String>;
}

/// A field type that knows which [`ColumnSink`] and [`ColumnSource`] methods take it.
pub trait ColumnType: Sized + Copy {
    fn emit(name: &'static str, values: Vec<Self>, sink: &mut dyn ColumnSink);
    fn take(name: &'static str, source: &mut dyn ColumnSource) -> Result<Vec<Self>, String>;
    /// False for NaN or an infinity (never for integers and flags).
    fn is_finite_value(&self) -> bool;
}

trait Finite {
    fn finite(&self) -> bool;
}
impl Finite for f64 {
    fn finite(&self) -> bool {
        self.is_finite()
    }
}
impl Finite for Option<f64> {
    fn finite(&self) -> bool {
        self.is_none_or(|v| v.is_finite())
    }
}
impl Finite for u32 {
    fn finite(&self) -> bool {
        true
    }
}
impl Finite for Option<u32> {
    fn finite(&self) -> bool {
        true
    }
}
impl Finite for bool {
    fn finite(&self) -> bool {
        true
    }
}

macro_rules! column_type {
    ($t:ty, $m:ident) => {
        impl ColumnType for $t {
            fn is_finite_value(&self) -> bool {
                self.finite()
            }
            fn emit(name: &'static str, values: Vec<Self>, sink: &mut dyn ColumnSink) {
                sink.$m(name, values)
            }
            fn take(
                name: &'static str,
                source: &mut dyn ColumnSource,
            ) -> Result<Vec<Self>, String> {
                source.$m(name)
            }
        }
    };
}
column_type!(f64, f64);
column_type!(Option<f64>, opt_f64);
column_type!(u32, u32);
column_type!(Option<u32>, opt_u32);
column_type!(bool, bool);

/// Declares a flat row of scalar figures: the struct, its column names in declaration order,
/// and the column-wise conversions to and from tables ([`ColumnSink`], [`ColumnSource`]).
macro_rules! flat_row {
    ($(#[doc = $sdoc:literal])* $row:ident { $( $(#[doc = $doc:literal])* $name:ident : $ty:ty ),* $(,)? }) => {
        $(#[doc = $sdoc])*
        #[derive(Clone, Copy, Debug, Default, PartialEq)]
        pub struct $row {
            $( $(#[doc = $doc])* pub $name: $ty, )*
        }

        impl $row {
            /// Column names in declaration order.
            pub const COLUMNS: &'static [&'static str] = &[$(stringify!($name)),*];

            /// Reads `n` rows back from `source` (each column must hold `n` values).
            pub fn take_columns(n: usize, source: &mut dyn $crate::simulation::ColumnSource) -> Result<Vec<$row>, String> {
                let mut rows = vec![$row::default(); n];
                $(
                    let values = <$ty as $crate::simulation::ColumnType>::take(stringify!($name), source)?;
                    if values.len() != n {
                        return Err(format!("column `{}` has {} values, expected {n}", stringify!($name), values.len()));
                    }
                    for (r, v) in rows.iter_mut().zip(values) {
                        r.$name = v;
                    }
                )*
                Ok(rows)
            }

            /// The first column holding NaN or an infinity, if any: output never shows one, so
            /// the caller reports it as a bug instead.
            pub fn non_finite_column(&self) -> Option<&'static str> {
                $( if !$crate::simulation::ColumnType::is_finite_value(&self.$name) {
                    return Some(stringify!($name));
                } )*
                None
            }

            /// Hands every column of `rows` to `sink`, in declaration order.
            pub fn emit_columns(rows: &[$row], sink: &mut dyn $crate::simulation::ColumnSink) {
                $( <$ty as $crate::simulation::ColumnType>::emit(
                    stringify!($name),
                    rows.iter().map(|r| r.$name).collect(),
                    sink,
                ); )*
            }
        }
    };
}
pub(crate) use flat_row;

flat_row! {
    /// What one run reports (MODEL.md section 8). Money in USD, steps counted from 1.
    /// Figures that are undefined for a run (a recovery rate without liquidations) are
    /// `None`, never NaN. Per-market figures are [`MarketRow`]s.
    RunRow {
        /// Seed index within the cell (the same index sees the same market in every cell).
        seed: u32,
        /// Insurance fund balance at the end.
        fund_final: f64,
        /// Lowest fund balance during the run.
        fund_min: f64,
        /// A deficit arrived that the fund could not cover.
        depleted: bool,
        /// Step of the first depletion.
        depletion_step: Option<u32>,
        /// `max_t (cumulative outflow - cumulative inflow)`, floored at 0: the smallest fund that
        /// would not have been depleted.
        required_capital: f64,
        /// Sum of all bankruptcy deficits.
        bad_debt: f64,
        /// Deficits that neither the fund nor socialization covered.
        bad_debt_uncovered: f64,
        /// Positions auto-deleveraged.
        adl_count: u32,
        /// Notional closed by ADL, at the mark.
        adl_notional: f64,
        /// Deficits taken from other traders (ADL or haircuts).
        socialized_loss: f64,
        /// Forced closes.
        liquidation_count: u32,
        /// Notional of forced closes, at the mark.
        liquidation_notional: f64,
        /// `sum |q| |P - x|` over forced fills.
        slippage_loss: f64,
        /// Liquidation penalties taken from traders.
        penalty_paid: f64,
        /// Penalties paid into the fund.
        penalty_to_fund: f64,
        /// Profit of keepers (0 in engine mode).
        keeper_profit: f64,
        /// Trading fees paid.
        fee_revenue: f64,
        /// Open interest at t = 0 (sum of notionals).
        open_interest: f64,
        /// Largest fall of the index from its running peak, as a fraction.
        index_max_drawdown: f64,
        /// The mark/index ratio furthest from 1 (in log terms) during the run.
        worst_mark_index_ratio: f64,
        /// Share of liquidated positions' losses their own collateral met: `1 - deficits /
        /// losses`, over forced closes. A loss counts once: a rest whose deficit was covered
        /// while it stayed open counts its loss at that mark, a position taken over or
        /// deleveraged at its bankruptcy price loses its collateral. A holder's later loss on
        /// inventory it took over is bad debt, not a liquidated position's. In [0, 1] while
        /// collateral is not negative.
        recovery_rate: Option<f64>,
        /// Cascades: maximal runs of consecutive steps with liquidations.
        cascade_count: u32,
        /// Steps in the longest cascade.
        cascade_longest_steps: u32,
        /// Notional liquidated in the largest cascade.
        cascade_largest_notional: f64,
        /// Share of liquidated notional not liquidatable at the index price (caused by impact).
        induced_share: Option<f64>,
        /// Keeper mode: positions no keeper took by the end, closed then into the book by the
        /// venue's backstop (also counted among the liquidations).
        left_waiting: u32,
        /// Strategy decisions taken (MODEL.md section 3).
        decisions: u32,
        /// Liquidated traders who came back with fresh collateral.
        reentries: u32,
        /// Collateral margin defenders moved from their reserves.
        reserve_added: f64,
        /// Shared fund of several markets: deficits it paid for a market beyond that market's own
        /// stake (its `fund_weight` share of F0 plus the penalties and fees it paid in), summed
        /// over markets: what other markets' money covered. 0 with one market or isolated funds.
        spillover: f64,
        /// Largest `|sum of all ledger accounts - initial sum| / (total collateral + F0)` seen;
        /// at most 1e-9 (MODEL.md section 7).
        ledger_imbalance: f64,
        /// Lending: protocol fees the treasury kept (its share of the bonus, at the market).
        protocol_fees: f64,
        /// Lending: bad debt the treasury's first-loss offset paid.
        deficit_offset: f64,
        /// Lending: what open loans' collateral, at the oracle, no longer covers at the end:
        /// bad debt not yet recognised (a contract recognises it when the last collateral goes).
        underwater_debt: f64,
        /// Lending: `bad_debt + underwater_debt`, the insolvent debt of Gauntlet's VaR.
        insolvent_debt: f64,
        /// Lending auctions: keepers' incentives for kicks and redos, paid by the fund.
        keeper_incentives: f64,
        /// Voluntary de-risking (MODEL.md section 8): the notional of voluntary orders that
        /// closed or reduced a position, at the mark.
        voluntary_close_notional: f64,
        /// What those closing parts lost to the book's slippage: sum of `|q| |P - x|`.
        voluntary_close_slippage: f64,
        /// Net signed voluntary flow (buys positive, USD at the mark) in the act phases of
        /// steps inside cascades: negative when behavioral traders sold into the cascade.
        cascade_voluntary_flow: f64,
        /// Herding traders who de-risked (each counted once, again after a re-entry).
        herders_derisked: u32,
        /// Other venues' forced flow that this venue's forced flow stood for (USD, absolute,
        /// summed over steps), MODEL.md section 2.
        other_venue_notional: f64,
        /// Notional (at the mark) the fund or a vault took over from liquidation orders the
        /// book did not fill within their limit (MODEL.md section 4; part of
        /// `liquidation_notional`).
        taken_over_notional: f64,
        /// Notional of that inventory the holder sold back to the book (at the mark).
        inventory_sold_notional: f64,
        /// Profit the holder realized selling it (negative: a loss).
        inventory_pnl: f64,
        /// What the funds' inventory was worth at the mark, less what they took it over at, at
        /// the end (part of `fund_final`).
        inventory_end_value: f64,
        /// The most the funds' inventory stood under water at any step's mark (USD, >= 0;
        /// summed over funds): BitMEX's "peak unrealised loss" of 13 March 2020.
        inventory_peak_loss: f64,
        /// The liquidator vault's marked balance at the end less its capital (empty without a
        /// vault).
        vault_pnl: Option<f64>,
        /// OKX's early auto-deleveraging: the first step a fund's drawdown within its window
        /// passed `adl_drawdown` (empty without it, or if it never did).
        early_adl_step: Option<u32>,
        /// A fund held in its market's coin (`fund.denomination = "base"`, BitMEX's XBT): its
        /// marked balance at the end less its balance at t = 0, in coins (empty for a fund
        /// held in USD). `fund_final` and `required_capital` stay in USD.
        fund_coin_change: Option<f64>,
        /// A fund held in its market's coin: the most its inventory stood under water, in
        /// coins at the index of each step (empty for a fund held in USD).
        inventory_peak_loss_coin: Option<f64>,
    }
}

flat_row! {
    /// What one market of one run reports (MODEL.md section 8: per-market figures are rows of
    /// their own, so a run may hold any number of markets). Money in USD; the run's own
    /// figures sum these over its markets where they are sums.
    MarketRow {
        /// Seed index within the cell.
        seed: u32,
        /// The market's place in the experiment: 0 is `[market]`, then `[markets.*]` in file
        /// order (tables show its name).
        market: u32,
        /// Open interest at t = 0 (sum of notionals).
        open_interest: f64,
        /// Forced closes.
        liquidation_count: u32,
        /// Notional of forced closes, at the mark.
        liquidation_notional: f64,
        /// `sum |q| |P - x|` over forced fills.
        slippage_loss: f64,
        /// Liquidation penalties taken from traders.
        penalty_paid: f64,
        /// Bankruptcy deficits.
        bad_debt: f64,
        /// The part of them the fund paid.
        fund_paid: f64,
        /// The part neither the fund nor socialization covered.
        bad_debt_uncovered: f64,
        /// The part taken from other traders of the market (ADL or haircuts).
        socialized_loss: f64,
        /// Positions auto-deleveraged.
        adl_count: u32,
        /// Notional closed by ADL, at the mark.
        adl_notional: f64,
        /// Penalties, fees and revenue this market paid into the fund.
        fund_inflow: f64,
        /// Shared fund of several markets: what the fund paid for this market beyond its own
        /// stake (its `fund_weight` share of F0 plus its inflow). 0 otherwise.
        spillover: f64,
        /// Trading fees paid.
        fee_revenue: f64,
        /// Keeper mode: positions no keeper took by the end.
        left_waiting: u32,
        /// Largest fall of the index from its running peak, as a fraction.
        index_max_drawdown: f64,
        /// The mark/index ratio furthest from 1 (in log terms).
        worst_mark_index_ratio: f64,
        /// Share of liquidated notional not liquidatable at the index price.
        induced_share: Option<f64>,
        /// Lending (here `liquidation_notional` is the debt repaid, `penalty_paid` the bonus,
        /// `open_interest` the debt at t = 0): collateral seized, at the oracle.
        seized_value: f64,
        /// Lending: protocol fees the treasury kept.
        protocol_fees: f64,
        /// Lending: bad debt the treasury's first-loss offset paid.
        deficit_offset: f64,
        /// Lending: loans under water at the end (collateral at the oracle below the debt).
        underwater_loans: u32,
        /// Lending: their debt beyond their collateral's value.
        underwater_debt: f64,
        /// Lending: `bad_debt + underwater_debt`.
        insolvent_debt: f64,
        /// Lending: the oracle/index ratio furthest from 1 (empty for a perp market).
        worst_oracle_gap: Option<f64>,
        /// Lending auctions: keepers' incentives for kicks and redos, paid by the fund.
        keeper_incentives: f64,
        /// Lending: what defenders spent from their reserves, repaying debt or buying
        /// collateral for their loans.
        defender_spend: f64,
        /// Lending: debt loopers took on to buy collateral.
        looped_debt: f64,
        /// Lending: debt de-riskers repaid by selling collateral into the book.
        derisked_debt: f64,
        /// Notional (at the mark) the fund or a vault took over in this market.
        taken_over_notional: f64,
        /// Notional of that inventory sold back to this market's book.
        inventory_sold_notional: f64,
    }
}

/// The range a figure's definition gives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FigureRange {
    /// A share: in [0, 1].
    Share,
    /// A sum of amounts that are never negative (USD; a micro-dollar of rounding allowed).
    NotNegative,
    /// A ratio of prices: above 0.
    Positive,
}

impl FigureRange {
    fn holds(self, v: f64) -> bool {
        match self {
            Self::Share => (-1e-12..=1.0 + 1e-12).contains(&v),
            Self::NotNegative => v >= -1e-6,
            Self::Positive => v > 0.0,
        }
    }

    /// The range in words, for a message.
    pub fn words(self) -> &'static str {
        match self {
            Self::Share => "a share, in [0, 1]",
            Self::NotNegative => "never negative",
            Self::Positive => "above 0",
        }
    }
}

/// A figure outside the range its definition gives it: a bug, reported like a non-finite
/// figure (issue 34, item 15).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OutOfRange {
    pub column: &'static str,
    pub value: f64,
    pub range: FigureRange,
}

fn first_out_of_range(figures: &[(&'static str, Option<f64>, FigureRange)]) -> Option<OutOfRange> {
    figures.iter().find_map(|&(column, value, range)| {
        let value = value?;
        (!range.holds(value)).then_some(OutOfRange {
            column,
            value,
            range,
        })
    })
}

impl RunRow {
    /// The first figure outside its range, if any.
    pub fn out_of_range(&self) -> Option<OutOfRange> {
        use FigureRange::{NotNegative, Positive, Share};
        first_out_of_range(&[
            ("recovery_rate", self.recovery_rate, Share),
            ("induced_share", self.induced_share, Share),
            ("index_max_drawdown", Some(self.index_max_drawdown), Share),
            (
                "worst_mark_index_ratio",
                Some(self.worst_mark_index_ratio),
                Positive,
            ),
            ("required_capital", Some(self.required_capital), NotNegative),
            ("bad_debt", Some(self.bad_debt), NotNegative),
            (
                "bad_debt_uncovered",
                Some(self.bad_debt_uncovered),
                NotNegative,
            ),
            ("socialized_loss", Some(self.socialized_loss), NotNegative),
            ("adl_notional", Some(self.adl_notional), NotNegative),
            (
                "liquidation_notional",
                Some(self.liquidation_notional),
                NotNegative,
            ),
            ("slippage_loss", Some(self.slippage_loss), NotNegative),
            ("penalty_paid", Some(self.penalty_paid), NotNegative),
            ("open_interest", Some(self.open_interest), NotNegative),
            (
                "cascade_largest_notional",
                Some(self.cascade_largest_notional),
                NotNegative,
            ),
            ("underwater_debt", Some(self.underwater_debt), NotNegative),
            ("insolvent_debt", Some(self.insolvent_debt), NotNegative),
            (
                "voluntary_close_notional",
                Some(self.voluntary_close_notional),
                NotNegative,
            ),
            (
                "voluntary_close_slippage",
                Some(self.voluntary_close_slippage),
                NotNegative,
            ),
            (
                "taken_over_notional",
                Some(self.taken_over_notional),
                NotNegative,
            ),
            (
                "inventory_sold_notional",
                Some(self.inventory_sold_notional),
                NotNegative,
            ),
            (
                "inventory_peak_loss",
                Some(self.inventory_peak_loss),
                NotNegative,
            ),
        ])
    }
}

impl MarketRow {
    /// The first figure outside its range, if any.
    pub fn out_of_range(&self) -> Option<OutOfRange> {
        use FigureRange::{NotNegative, Positive, Share};
        first_out_of_range(&[
            ("induced_share", self.induced_share, Share),
            ("index_max_drawdown", Some(self.index_max_drawdown), Share),
            (
                "worst_mark_index_ratio",
                Some(self.worst_mark_index_ratio),
                Positive,
            ),
            ("worst_oracle_gap", self.worst_oracle_gap, Positive),
            ("bad_debt", Some(self.bad_debt), NotNegative),
            ("fund_paid", Some(self.fund_paid), NotNegative),
            (
                "bad_debt_uncovered",
                Some(self.bad_debt_uncovered),
                NotNegative,
            ),
            ("socialized_loss", Some(self.socialized_loss), NotNegative),
            ("adl_notional", Some(self.adl_notional), NotNegative),
            (
                "liquidation_notional",
                Some(self.liquidation_notional),
                NotNegative,
            ),
            ("slippage_loss", Some(self.slippage_loss), NotNegative),
            ("penalty_paid", Some(self.penalty_paid), NotNegative),
            ("open_interest", Some(self.open_interest), NotNegative),
            ("seized_value", Some(self.seized_value), NotNegative),
            ("underwater_debt", Some(self.underwater_debt), NotNegative),
            ("insolvent_debt", Some(self.insolvent_debt), NotNegative),
            (
                "taken_over_notional",
                Some(self.taken_over_notional),
                NotNegative,
            ),
            (
                "inventory_sold_notional",
                Some(self.inventory_sold_notional),
                NotNegative,
            ),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_finite_figures_are_found_by_column() {
        let mut r = RunRow::default();
        assert_eq!(r.non_finite_column(), None);
        r.recovery_rate = Some(f64::NAN);
        assert_eq!(r.non_finite_column(), Some("recovery_rate"));
        r.recovery_rate = None;
        r.bad_debt = f64::INFINITY;
        assert_eq!(r.non_finite_column(), Some("bad_debt"));
    }

    #[test]
    fn figures_outside_their_range_are_found_by_column() {
        let mut r = RunRow {
            worst_mark_index_ratio: 1.0,
            recovery_rate: Some(1.0),
            ..RunRow::default()
        };
        assert_eq!(r.out_of_range(), None);
        r.recovery_rate = Some(-2.34);
        let found = r.out_of_range().unwrap();
        assert_eq!(
            (found.column, found.range),
            ("recovery_rate", FigureRange::Share)
        );
        r.recovery_rate = None;
        r.slippage_loss = -1.0;
        assert_eq!(r.out_of_range().unwrap().column, "slippage_loss");
        let mut m = MarketRow {
            worst_mark_index_ratio: 1.0,
            ..MarketRow::default()
        };
        assert_eq!(m.out_of_range(), None);
        m.worst_oracle_gap = Some(0.0);
        assert_eq!(m.out_of_range().unwrap().column, "worst_oracle_gap");
    }
}
