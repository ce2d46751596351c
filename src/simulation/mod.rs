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
pub(crate) use row::flat_row;
pub use row::{ColumnSink, ColumnSource, ColumnType, MarketRow, RunRow};
pub use run::{
    PriceFault, RunObserver, RunOptions, RunRows, SAMPLE_POINTS, StepView, ThinnedPath, simulate,
    simulate_observed,
};
