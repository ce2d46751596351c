#!/usr/bin/env bash
# Run a backstop sweep as a Slurm job array, then merge the shards.
#
#   cargo build --release                  # once, before submitting: no task builds
#   sbatch --array=0-15 experiments/slurm-sweep.sh experiments/penalty-sweep.toml
#   # or, waiting for the array to end, with options for `backstop run` after the file:
#   sbatch --wait --array=0-15 experiments/slurm-sweep.sh experiments/penalty-sweep.toml --seeds 1000
#   # when every task has finished:
#   backstop merge sweeps/penalty-sweep/shard-* --out notebooks-output/penalty-sweep
#
# BACKSTOP names the binary (default ./target/release/backstop, from the folder sbatch was
# called in) and SWEEP_DIR the folder of the shards (default ./sweeps); both must be on a
# file system every node sees. `.ci/slurm-check.sh` runs this script on a one-node cluster in
# CI and checks the merged tables against a single machine's, byte for byte.
#
# Each array task runs every 16th unit of work (a block of 1,000 seeds of one grid cell) and
# saves each unit as it finishes. A task killed by the scheduler is resumed by resubmitting it
# (`sbatch --array=<id> ...`): the units it already saved are skipped. The merge checks that
# every shard ran the same experiment and writes exactly the tables one machine would have
# written.
#
# Kubernetes: an Indexed Job does the same with `--shard "$JOB_COMPLETION_INDEX/$COUNT"` and
# a shared volume for the shard folders.
#SBATCH --job-name=backstop-sweep
#SBATCH --cpus-per-task=8
#SBATCH --mem=2G
#SBATCH --time=02:00:00
set -euo pipefail

file=${1:?usage: sbatch --array=0-N experiments/slurm-sweep.sh EXPERIMENT.toml [RUN OPTIONS]}
shift
count=${SLURM_ARRAY_TASK_COUNT:?run as a job array (sbatch --array=0-N)}
index=${SLURM_ARRAY_TASK_ID:?run as a job array (sbatch --array=0-N)}
name=$(basename "$file" .toml)
out="${SWEEP_DIR:-sweeps}/$name/shard-$index"
backstop=${BACKSTOP:-./target/release/backstop}
if [ ! -x "$backstop" ]; then
    # Building in every task would race N cargo builds on one target folder.
    echo "no backstop binary at $backstop: run 'cargo build --release' before sbatch, or set BACKSTOP" >&2
    exit 2
fi

"$backstop" run "$file" \
    --shard "$index/$count" \
    --threads "${SLURM_CPUS_PER_TASK:-1}" \
    --out "$out" \
    --quiet \
    "$@"
echo "shard $index/$count saved in $out"
