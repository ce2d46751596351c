//! Throughput of reference scenario R1 (MODEL.md section 12): one run, and a batch of seeds
//! on all cores. `cargo bench --bench r1`.

use std::path::Path;

use backstop::config::{Experiment, Overrides};
use backstop::montecarlo::run_experiment;
use backstop::simulation::{RunOptions, simulate};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// R1 is the default of every field: an experiment file that only sizes the batch.
fn r1(seeds: u64) -> Experiment {
    let text = format!("[experiment]\nseeds = {seeds}\nmaster_seed = 1\n");
    Experiment::parse(&text, Path::new("r1.toml"), Overrides::default()).expect("R1 is valid")
}

fn bench(c: &mut Criterion) {
    let one = r1(1);
    let scenario = &one.cells[0].scenario;
    let mut g = c.benchmark_group("r1");
    g.sample_size(20);
    let mut seed = 0u64;
    g.bench_function("one_run", |b| {
        b.iter(|| {
            seed += 1;
            simulate(scenario, 1, seed, RunOptions::default())
        })
    });
    let batch = r1(1_000);
    g.throughput(Throughput::Elements(1_000));
    g.sample_size(10);
    g.bench_function("batch_1000_seeds", |b| {
        b.iter(|| run_experiment(&batch, RunOptions::default(), &|| {}))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
