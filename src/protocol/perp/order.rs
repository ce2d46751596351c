//! The engine's liquidation orders (MODEL.md section 4): the price limit they carry, how large
//! one may be, and who takes over what the book does not fill. Real venues never send a
//! liquidation as a market order at any price (`../shared/VENUES.md`); `none` everywhere is
//! the stress case, R1's benchmark.

use crate::params::{ParamError, ParamResult, positive, unit_interval};

/// The price limit of a liquidation order.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum OrderLimit {
    /// A market order at any price (a stress case; R1's rule).
    #[default]
    None,
    /// A limit at the position's bankruptcy price, so the trader never fills below it
    /// (BitMEX, Binance, Bybit: "the position is closed at the bankruptcy price").
    Bankruptcy,
    /// dYdX v4's fillable price (x/clob/keeper/liquidations.go, `GetFillablePrice`): the
    /// limit stands `ABR * spread * MMR` from the mark, `ABR = clamp(1 - TNC / TMMR, 0, 1)`,
    /// `spread` the spread-to-maintenance-margin ratio (1.5). A position barely
    /// liquidatable is offered at the mark; one deep in it, past its bankruptcy price.
    Fillable { spread: f64 },
    /// Fills only within `band` of the mark (Deribit's BTC perpetual, 2019: 1.5%).
    Band { band: f64 },
}

impl OrderLimit {
    pub fn fillable(spread: f64) -> ParamResult<Self> {
        Ok(OrderLimit::Fillable {
            spread: positive("fillable_spread", spread)?,
        })
    }

    pub fn band(band: f64) -> ParamResult<Self> {
        let band = positive("band", band)?;
        if band >= 1.0 {
            return Err(ParamError::new(
                "band",
                format!("must be below 1 (a share of the mark), got {band}"),
            ));
        }
        Ok(OrderLimit::Band { band })
    }

    /// The limit price of an order closing `size` (signed, base units) of a position with
    /// `collateral` entered at `entry`, at `mark`, whose maintenance margin is `maintenance`
    /// USD; `None` without a limit, or when the limit would not be a price (a position so
    /// little leveraged that it cannot go bankrupt).
    pub fn price(
        &self,
        size: f64,
        collateral: f64,
        entry: f64,
        mark: f64,
        maintenance: f64,
    ) -> Option<f64> {
        let long = if size > 0.0 { 1.0 } else { -1.0 };
        let limit = match *self {
            OrderLimit::None => return None,
            OrderLimit::Bankruptcy => bankruptcy_price(size, collateral, entry),
            OrderLimit::Fillable { spread } => {
                let notional = size.abs() * mark;
                let equity = collateral + size * (mark - entry);
                let rating = if maintenance > 0.0 {
                    (1.0 - equity / maintenance).clamp(0.0, 1.0)
                } else {
                    1.0
                };
                mark * (1.0 - long * rating * spread * maintenance / notional)
            }
            OrderLimit::Band { band } => mark * (1.0 - long * band),
        };
        (limit > 0.0 && limit.is_finite()).then_some(limit)
    }
}

/// The price at which a position's equity is 0: `C + q (x_b - e) = 0`.
#[inline]
pub fn bankruptcy_price(size: f64, collateral: f64, entry: f64) -> f64 {
    entry - collateral / size
}

/// How large one liquidation order may be.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum SizeCap {
    /// The whole of what the close rule takes, at once.
    #[default]
    None,
    /// At most `usd` of notional per order (a venue's per-block or per-order limit; dYdX v4's
    /// position block limits).
    MaxOrder { usd: f64 },
    /// Positions above `above_usd` are closed `share` of the position at a time, with
    /// `cooldown_seconds` between orders; a remainder at or below `above_usd` goes at once
    /// (Hyperliquid: 20% slices 30 s apart for positions over 100k USD).
    Slices {
        share: f64,
        above_usd: f64,
        cooldown_seconds: f64,
    },
}

impl SizeCap {
    pub fn max_order(usd: f64) -> ParamResult<Self> {
        Ok(SizeCap::MaxOrder {
            usd: positive("max_order_usd", usd)?,
        })
    }

    pub fn slices(share: f64, above_usd: f64, cooldown_seconds: f64) -> ParamResult<Self> {
        let share = unit_interval("slice", share)?;
        if share == 0.0 {
            return Err(ParamError::new("slice", "must be above 0"));
        }
        Ok(SizeCap::Slices {
            share,
            above_usd: crate::params::non_negative("slice_above_usd", above_usd)?,
            cooldown_seconds: crate::params::non_negative("cooldown_seconds", cooldown_seconds)?,
        })
    }

    /// The most of a position of `size` (signed) one order closes at `mark`, given that the
    /// close rule asks for `wanted` (signed, same side).
    pub fn order_size(&self, size: f64, wanted: f64, mark: f64) -> f64 {
        match *self {
            SizeCap::None => wanted,
            SizeCap::MaxOrder { usd } => {
                let most = usd / mark;
                if wanted.abs() > most {
                    most.copysign(wanted)
                } else {
                    wanted
                }
            }
            SizeCap::Slices {
                share, above_usd, ..
            } => {
                if size.abs() * mark <= above_usd {
                    wanted
                } else {
                    let slice = share * size;
                    if slice.abs() < wanted.abs() {
                        slice
                    } else {
                        wanted
                    }
                }
            }
        }
    }

    /// Seconds a position waits after a slice before its next one (0 without slices).
    pub fn cooldown_seconds(&self) -> f64 {
        match *self {
            SizeCap::Slices {
                cooldown_seconds, ..
            } => cooldown_seconds,
            _ => 0.0,
        }
    }
}

/// Who takes over what a limited liquidation order does not fill.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum Takeover {
    /// Nobody: the rest stays with the trader, and the engine tries again next step.
    #[default]
    None,
    /// The insurance fund inherits the position with its remaining margin (BitMEX, Binance,
    /// Bybit), as inventory at the bankruptcy price.
    Fund,
    /// A liquidator vault with `capital` of its own inherits it once the account's equity is
    /// below `below` of its maintenance margin (Hyperliquid's HLP: 2/3).
    Vault { below: f64, capital: f64 },
    /// The rest is closed against profitable opposite positions at its bankruptcy price
    /// (dYdX v4, x/clob/keeper/deleveraging.go).
    Deleverage,
}

impl Takeover {
    pub fn vault(below: f64, capital: f64) -> ParamResult<Self> {
        let below = unit_interval("vault_below", below)?;
        let capital = crate::params::non_negative("vault_capital_usd", capital)?;
        Ok(Takeover::Vault { below, capital })
    }
}

/// The price at which auto-deleveraging closes (MODEL.md section 6).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AdlPrice {
    /// Each counterparty is closed at the mark and hands over its profit on the closed part
    /// (R1's rule; Hyperliquid closes at the previous oracle price).
    #[default]
    Mark,
    /// The bankrupt position (or the rest its holder cannot take over) is matched against
    /// the counterparties at its bankruptcy price (BitMEX, Binance, dYdX).
    Bankruptcy,
}

/// The engine's order rules, all together.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct EngineOrders {
    pub limit: OrderLimit,
    pub cap: SizeCap,
    pub takeover: Takeover,
    /// How far a holder's limit on its inventory moves from the bankruptcy price toward the
    /// book each minute it holds it, as a share of that price (BitMEX: "progressively more
    /// aggressive prices"); a step of `dt` seconds moves it `dt / 60` of that, so the pace does
    /// not depend on the step.
    pub unwind_step: f64,
    /// Where auto-deleveraging closes the rest of a position its holder cannot take over.
    pub adl_price: AdlPrice,
}

impl EngineOrders {
    /// Whether every rule is R1's (a market order for the whole close, nothing taken over).
    pub fn is_market(&self) -> bool {
        self.limit == OrderLimit::None
            && self.cap == SizeCap::None
            && self.takeover == Takeover::None
    }

    pub fn with_unwind_step(mut self, step: f64) -> ParamResult<Self> {
        let step = unit_interval("unwind_step", step)?;
        if self.takeover != Takeover::None
            && !matches!(self.takeover, Takeover::Deleverage)
            && step == 0.0
        {
            return Err(ParamError::new(
                "unwind_step",
                "must be above 0 when a fund or vault takes positions over (its inventory would never be offered below the bankruptcy price)",
            ));
        }
        self.unwind_step = step;
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A long of 10 entered at 100 with 60 of collateral goes bankrupt at 94; a short of 10
    /// at 106.
    #[test]
    fn the_bankruptcy_price_leaves_no_equity() {
        assert!((bankruptcy_price(10.0, 60.0, 100.0) - 94.0).abs() < 1e-12);
        assert!((bankruptcy_price(-10.0, 60.0, 100.0) - 106.0).abs() < 1e-12);
        let x = OrderLimit::Bankruptcy.price(10.0, 60.0, 100.0, 95.0, 19.0);
        assert_eq!(x, Some(bankruptcy_price(10.0, 60.0, 100.0)));
        // A long worth less than its collateral cannot go bankrupt: no limit.
        assert_eq!(
            OrderLimit::Bankruptcy.price(1.0, 200.0, 100.0, 95.0, 1.0),
            None
        );
    }

    /// dYdX's fillable price: at the mark for an account just at maintenance, `spread * MMR`
    /// from it at or below zero equity, and past the bankruptcy price once TNC / TMMR < 0.6
    /// (for spread 1.5).
    #[test]
    fn the_fillable_price_widens_as_the_account_sinks() {
        let f = OrderLimit::fillable(1.5).unwrap();
        // Long 10 at 100, mark 100, MM 5% of 1,000 = 50.
        let at_mm = f.price(10.0, 50.0, 100.0, 100.0, 50.0).unwrap();
        assert!((at_mm - 100.0).abs() < 1e-12);
        let broke = f.price(10.0, 0.0, 100.0, 100.0, 50.0).unwrap();
        assert!((broke - 100.0 * (1.0 - 1.5 * 0.05)).abs() < 1e-9);
        for (equity, past) in [(0.55 * 50.0, true), (0.65 * 50.0, false)] {
            let limit = f.price(10.0, equity, 100.0, 100.0, 50.0).unwrap();
            let bankrupt = bankruptcy_price(10.0, equity, 100.0);
            assert_eq!(limit < bankrupt, past, "{equity}");
        }
        // A short's limit sits above the mark.
        assert!(f.price(-10.0, 0.0, 100.0, 100.0, 50.0).unwrap() > 100.0);
    }

    #[test]
    fn slices_close_a_share_above_the_threshold_and_the_rest_at_once() {
        let cap = SizeCap::slices(0.2, 100_000.0, 30.0).unwrap();
        assert_eq!(cap.order_size(100.0, 100.0, 10_000.0), 20.0);
        assert_eq!(cap.order_size(-100.0, -100.0, 10_000.0), -20.0);
        assert_eq!(cap.order_size(10.0, 10.0, 10_000.0), 10.0);
        let cap = SizeCap::max_order(50_000.0).unwrap();
        assert_eq!(cap.order_size(-100.0, -100.0, 10_000.0), -5.0);
        assert_eq!(SizeCap::slices(0.0, 1.0, 1.0).unwrap_err().field, "slice");
        assert_eq!(OrderLimit::band(1.5).unwrap_err().field, "band");
    }
}
