//! What a market reports of its own beyond its forced closes, whatever its kind: what its
//! holders did by their plans in a step's act phase, and what is left of it at the end of a
//! run. A kind with nothing to report returns the defaults (zeros), so the run records every
//! market alike.

/// What a market's holders did by their plans in one step (a lending market's borrowers;
/// zeros for a kind whose holders have no plans).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct BorrowerFlows {
    /// What defenders spent from their reserves, repaying debt or buying collateral (USD).
    pub defended: f64,
    /// Debt loopers took on to buy collateral (USD).
    pub looped: f64,
    /// Debt de-riskers repaid by selling collateral into the book (USD).
    pub derisked: f64,
    /// Comet: what keepers paid the reserves for absorbed collateral at the store front.
    pub store_front_paid: f64,
    /// Comet: what those keepers lost against the mark selling it into the book.
    pub store_front_slippage: f64,
    /// Comet: what they made, net of slippage and gas.
    pub store_front_keeper_profit: f64,
}

/// What is left of a market at the end of a run, once the venue's backstop (if its kind has
/// one) has closed what no keeper took.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Leftover {
    /// Positions no keeper took that stay open: a lending protocol has no backstop.
    pub waiting: u32,
    /// Loans whose collateral at the oracle is worth less than their debt.
    pub underwater: u32,
    /// Their debt beyond their collateral's value: bad debt not yet recognised.
    pub shortfall: f64,
}
