//! Throughput benches (issue 7): one step of each price model; one run and a batch of 1,000
//! seeds of the reference scenarios R1 and R2 (MODEL.md sections 12 and 13); the RNG floor of
//! an R1 batch; and the reduction of a batch's rows into a cell's summary.
//!
//! `cargo bench --bench throughput` (all), or a filter: `cargo bench --bench throughput -- r1`.
//! The R1 batch against `rng_floor/r1_batch_1000_seeds` is the distance to the limit.

use std::hint::black_box;
use std::path::Path;

use backstop::config::{Experiment, Overrides};
use backstop::market::PriceModel;
use backstop::montecarlo::{CellRuns, FanAggregate, checkpoints, run_experiment, summarize};
use backstop::rng::market_rng;
use backstop::simulation::{RunOptions, draw_random_inputs, simulate};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use rayon::prelude::*;

fn experiment(file: &str, seeds: u64) -> Experiment {
    Experiment::load(
        Path::new(file),
        Overrides {
            seeds: Some(seeds),
            master_seed: Some(1),
        },
    )
    .expect("the experiment file is valid")
}

/// An experiment written here, read as if it sat in `experiments/` (for the data paths).
fn inline(text: &str) -> Experiment {
    Experiment::parse(
        text,
        Path::new("experiments/bench.toml"),
        Overrides::default(),
    )
    .expect("the bench experiment is valid")
}

/// A day of steps of each index model (MODEL.md section 1) from a fresh start; the time per
/// element is the time of one step.
fn price_models(c: &mut Criterion) {
    let data = "path = \"../../shared/data/btcusd_bitstamp_1h.csv\"\nprice_column = \"close\"\ntime_column = \"unix\"\n";
    let models = [
        ("gbm", 1440, 60.0, "kind = \"gbm\"\nvol = 0.8\n".to_string()),
        (
            "garch_t",
            1440,
            60.0,
            "kind = \"garch\"\nlong_run_vol = 0.8\nalpha = 0.08\nbeta = 0.9\nshocks = { kind = \"student_t\", nu = 4.0 }\n".to_string(),
        ),
        (
            "merton",
            1440,
            60.0,
            "kind = \"merton\"\nvol = 0.6\njump_intensity = 30.0\njump_mean = -0.01\njump_sd = 0.05\n".to_string(),
        ),
        (
            "heston",
            1440,
            60.0,
            "kind = \"heston\"\ninitial_vol = 0.8\nlong_run_vol = 0.8\nkappa = 5.0\nxi = 1.0\nrho = -0.5\nsubsteps = 4\n".to_string(),
        ),
        (
            "regime_switching",
            1440,
            60.0,
            "kind = \"regime_switching\"\ntransition = [[0.99, 0.01], [0.05, 0.95]]\n[[market.model.regimes]]\nkind = \"gbm\"\nvol = 0.5\n[[market.model.regimes]]\nkind = \"garch\"\nlong_run_vol = 1.5\nalpha = 0.1\nbeta = 0.85\n".to_string(),
        ),
        (
            "replay",
            48,
            3600.0,
            format!(
                "kind = \"replay\"\n{data}start = \"2020-03-12 00:00:00\"\nend = \"2020-03-14 00:00:00\"\n"
            ),
        ),
        (
            "bootstrap",
            1440,
            3600.0,
            format!("kind = \"bootstrap\"\n{data}mean_block = 24.0\n"),
        ),
    ];
    let mut g = c.benchmark_group("price_model_step");
    for (name, steps, dt, model) in models {
        let exp = inline(&format!(
            "[experiment]\nseeds = 1\nsteps = {steps}\ndt_seconds = {dt}\n[market.model]\n{model}"
        ));
        let params = exp.cells[0].scenario.price_model(0).clone();
        g.throughput(Throughput::Elements(steps));
        let mut seed = 0;
        g.bench_function(name, |b| {
            b.iter_batched(
                || {
                    seed += 1;
                    (params.start(), market_rng(1, seed, 0))
                },
                |(mut model, mut rng)| {
                    let mut sum = 0.0;
                    for _ in 0..steps {
                        sum += model.next_log_return(&mut rng);
                    }
                    black_box(sum)
                },
                BatchSize::SmallInput,
            )
        });
    }
    g.finish();
}

/// One run (one thread), and a batch of 1,000 seeds on all cores, of R1 and R2.
fn reference_scenarios(c: &mut Criterion) {
    for (name, file, samples) in [
        ("r1", "experiments/r1.toml", 20),
        ("r2", "experiments/r2-agents.toml", 10),
    ] {
        let mut g = c.benchmark_group(name);
        let one = experiment(file, 1);
        let scenario = &one.cells[0].scenario;
        g.sample_size(samples);
        let mut seed = 0u64;
        g.bench_function("one_run", |b| {
            b.iter(|| {
                seed += 1;
                simulate(scenario, 1, seed, RunOptions::default())
            })
        });
        let batch = experiment(file, 1_000);
        g.throughput(Throughput::Elements(1_000));
        g.sample_size(10);
        g.bench_function("batch_1000_seeds", |b| {
            b.iter(|| run_experiment(&batch, RunOptions::default(), &|| {}))
        });
        g.finish();
    }
}

/// The random numbers of an R1 batch alone, drawn as the batch draws them (in parallel, from
/// the same generators and distributions): the floor the batch is measured against.
fn rng_floor(c: &mut Criterion) {
    let batch = experiment("experiments/r1.toml", 1_000);
    let scenario = &batch.cells[0].scenario;
    let mut g = c.benchmark_group("rng_floor");
    g.throughput(Throughput::Elements(1_000));
    g.sample_size(20);
    g.bench_function("r1_batch_1000_seeds", |b| {
        b.iter(|| {
            let sums: Vec<f64> = (0..1_000u64)
                .into_par_iter()
                .map(|s| draw_random_inputs(scenario, batch.master_seed, s))
                .collect();
            black_box(sums)
        })
    });
    g.finish();
}

/// Reducing 10,000 R1 rows into a cell's summary (every statistic with its error), and
/// merging the fund-fan histograms of half a batch into a total.
fn aggregation(c: &mut Criterion) {
    let batch = experiment("experiments/r1.toml", 10_000);
    let result = run_experiment(&batch, RunOptions::default(), &|| {});
    let scenario = &batch.cells[0].scenario;
    let mut g = c.benchmark_group("aggregate");
    g.throughput(Throughput::Elements(10_000));
    g.sample_size(20);
    let runs = CellRuns::new(&result.rows).expect("10,000 rows");
    g.bench_function("summarize_10000_rows", |b| {
        b.iter(|| summarize(scenario, black_box(runs)))
    });
    let points = checkpoints(scenario.steps(), 97);
    let mut half = FanAggregate::new(points.clone());
    for r in &result.rows[..5_000] {
        half.push(&vec![r.fund_final; points.len()]);
    }
    g.throughput(Throughput::Elements(1));
    g.bench_function("merge_fan_histograms", |b| {
        b.iter_batched(
            || FanAggregate::new(points.clone()),
            |mut total| {
                total.merge(black_box(&half));
                total
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

criterion_group!(
    benches,
    price_models,
    reference_scenarios,
    rng_floor,
    aggregation
);
criterion_main!(benches);
