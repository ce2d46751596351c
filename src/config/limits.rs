//! The limits an experiment file is held to. A leaf: the serde types (`file`, for the schema's
//! ranges) and the checkers both read them, and it reads neither.

/// The longest run, in steps: ten million minutes are 19 years (a run's memory does not grow
/// with its steps: the sample path is thinned to `simulation::SAMPLE_POINTS`).
pub const MAX_STEPS: u64 = 10_000_000;
/// The shortest and the longest step, in seconds.
pub const MIN_DT_SECONDS: f64 = 1e-3;
pub const MAX_DT_SECONDS: f64 = 31_536_000.0;

/// The fastest a trader decides.
pub const MAX_DECISIONS_PER_HOUR: f64 = 3_600.0;

/// The least share of the fund a market's `fund_weight` may give it.
pub const MIN_FUND_SHARE: f64 = 1e-9;

/// The fund of calibration runs: larger than any deficit a run can produce, so that no run
/// depletes and required capital is measured in full.
pub const CALIBRATION_FUND: f64 = 1e15;

/// The most grid cells an experiment may have.
pub const MAX_CELLS: u64 = 100_000;
/// The most simulated steps (cells x seeds x steps) an experiment may ask for.
pub const MAX_STEP_RUNS: f64 = 1e13;
/// The most trader-steps (cells x seeds x steps x traders) an experiment may ask for: R1
/// (1.44e10 of them) takes about a second on 2 cores, so this is about eight days.
pub const MAX_TRADER_STEPS: f64 = 1e16;
/// What one run holds per trader (measured: 1e6 traders peak at 130 MB, 1e5 at 37 MB).
pub const BYTES_PER_TRADER: f64 = 110.0;
/// The most memory one run may need; each thread holds one run at a time.
pub const MAX_RUN_BYTES: f64 = 8e9;
