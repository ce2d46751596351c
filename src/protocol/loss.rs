//! The loss rules of MODEL.md section 6 and what one of them covered: the vocabulary every
//! market kind reads when the fund cannot pay a deficit. Each kind runs the rules its own way
//! (a perp market against its profitable traders, a lending market against its suppliers).

/// What socialization took from other traders for one deficit.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Socialized {
    /// USD covered.
    pub covered: f64,
    /// Positions hit.
    pub positions: u32,
    /// Notional of positions closed (ADL) at the mark.
    pub notional: f64,
}

/// The rule for covering what is left of a deficit once the fund is empty: the closed set of
/// MODEL.md section 6, dispatched by a `match`. Every rule moves money only through the
/// ledger, and only between the bankrupt trader's market and the counterparty.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LossSocialization {
    /// Auto-deleveraging as BitMEX and Binance run it: profitable positions on the other side
    /// are ranked by `PnL% * effective leverage`, highest first, and closed at the mark,
    /// outside the book, handing over the profit of the closed part until the residual is
    /// covered; the last one is closed only as far as needed.
    #[default]
    Adl,
    /// Pro-rata socialized loss: every trader with unrealized profit in the market gives the
    /// same share of it, `residual / total profit` (capped at all of it); positions stay open
    /// (dYdX v3 and Drift socialize losses this way).
    ProRata,
    /// Risk-based socialization (Campbell, Hey, Moallemi and Nutz 2026, arXiv 2603.15963):
    /// the haircuts that cover the residual while keeping the largest resulting leverage as
    /// small as possible ([`super::water_filling`]).
    RiskBased,
    /// Nobody covers it: the residual stays as uncovered bad debt (the venue is insolvent).
    None,
}
