//! One run: a pure function of (scenario, master seed, seed index). No globals, no I/O.

mod clock;
mod floor;
mod liquidators;
mod prices;
mod recorder;
mod row;
mod run;
mod signals;
mod traders;
mod world;

pub use floor::draw_random_inputs;
pub use row::{ColumnSink, ColumnSource, ColumnType, MAX_MARKETS, RunRow};
pub use run::{RunObserver, RunOptions, StepView, simulate, simulate_observed};
