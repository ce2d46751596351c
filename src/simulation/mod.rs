//! One run: a pure function of (scenario, master seed, seed index). No globals, no I/O.

mod clock;
mod floor;
mod row;
mod run;
mod signals;

pub use floor::draw_random_inputs;
pub use row::{ColumnSink, ColumnSource, ColumnType, MAX_MARKETS, RunRow};
pub use run::{RunObserver, RunOptions, StepView, simulate, simulate_observed};
