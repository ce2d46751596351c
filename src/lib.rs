//! backstop: agent-based Monte Carlo for sizing liquidation insurance funds.
//!
//! Data flows one way: an experiment file is validated once into [`config::Experiment`]
//! (a grid of [`config::Scenario`]s that cannot be invalid); [`simulation::simulate`] turns one
//! (scenario, seed) into one [`simulation::RunRow`] of scalars, a pure function with no I/O;
//! [`montecarlo`] runs the grid in parallel and reduces the rows serially with [`stats`];
//! [`output`] writes tables and the printed summary. Nothing downstream reaches back.
//!
//! The economics follow `MODEL.md` (shared with the project); where the code departs from it,
//! the item's documentation says how and why.

pub mod agents;
pub mod cli;
pub mod config;
pub mod fit;
pub mod market;
pub mod montecarlo;
pub mod output;
pub mod params;
pub mod protocol;
pub mod rng;
pub mod simulation;
pub mod stats;
