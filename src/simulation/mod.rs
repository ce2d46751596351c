//! One run: a pure function of (scenario, master seed, seed index). No globals, no I/O.

mod clock;
mod floor;
mod liquidators;
mod map_watch;
mod opening;
mod prices;
mod recorder;
mod row;
mod run;
mod signals;
mod traders;
mod view;
mod warm_start;
mod world;

pub use floor::draw_random_inputs;
pub use map_watch::{MapMoment, MapWatch, MomentMaps};
pub(crate) use row::flat_row;
pub use row::{ColumnSink, ColumnSource, ColumnType, FigureRange, MarketRow, OutOfRange, RunRow};
pub use run::{RunOptions, RunRows, simulate, simulate_observed};
pub use view::{PriceFault, RunObserver, SAMPLE_POINTS, StepView, ThinnedPath};
