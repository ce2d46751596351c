//! The experiment file checked section by section, as linfa's `ParamGuard` checks a model's
//! parameters: each file here turns one section (or one rule across sections) into the
//! validated types a run takes, or names the first field that breaks a rule. The checkers
//! read the serde types of `file` and the `limits`, never the `Scenario` they are composed
//! into (`scenario.rs`), so that data flows one way.

pub(super) mod correlation;
pub(super) mod flow;
pub(super) mod fund;
pub(super) mod fund_weights;
pub(super) mod horizon;
pub(super) mod liquidation;
pub(super) mod margin;
pub(super) mod markets;
pub(super) mod population;
pub(super) mod price_model;
