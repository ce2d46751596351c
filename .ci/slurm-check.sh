#!/usr/bin/env bash
# CI: a real one-node Slurm cluster runs experiments/slurm-sweep.sh as a job array of 4 tasks
# over the penalty sweep, the shards are merged, and the merged summary.csv must equal, byte
# for byte, a run of the same experiment on one machine.
#
# Slurm and munge come from Debian 12's packages (slurm-wlm, munge), installed when missing.
# munged, slurmctld and slurmd run as root on localhost with their state, sockets and logs in
# a temporary folder, and are stopped by PID on every exit path. Needs the release binary
# built already (BACKSTOP, default $CARGO_TARGET_DIR/release/backstop): the array tasks run it,
# none of them builds.
#
#   bash .ci/slurm-check.sh [SEEDS]     # SEEDS per cell, default 1000
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
seeds=${1:-1000}
backstop=${BACKSTOP:-${CARGO_TARGET_DIR:-target}/release/backstop}
backstop=$(realpath "$backstop")
experiment=experiments/penalty-sweep.toml
start=$(date +%s)

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    echo "== installing slurm-wlm and munge from Debian's packages"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q slurm-wlm munge >/dev/null 2>&1 ||
        { apt-get update -q >/dev/null && apt-get install -y -q slurm-wlm munge >/dev/null; }
fi

tmp=$(mktemp -d /tmp/backstop-slurm.XXXXXX)
pids=()
stop() {
    local status=$?
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        # Wait (a few seconds at most) for each daemon to be gone before removing its folder.
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
    done
    if [ "$status" -ne 0 ]; then
        echo "== Slurm check failed; daemon logs:"
        tail -n 20 "$tmp"/*.log 2>/dev/null || true
    fi
    rm -rf "$tmp"
    exit "$status"
}
trap stop EXIT

# munge: its own key, socket and state in the temporary folder.
mkdir -p "$tmp/munge" "$tmp/state" "$tmp/spool"
chmod 700 "$tmp/munge"
mungekey --create --keyfile="$tmp/munge/munge.key" --force >/dev/null 2>&1 ||
    dd if=/dev/urandom of="$tmp/munge/munge.key" bs=1024 count=1 2>/dev/null
chmod 400 "$tmp/munge/munge.key"
socket="$tmp/munge/munge.socket"
munged --force --socket="$socket" --key-file="$tmp/munge/munge.key" \
    --pid-file="$tmp/munge/munged.pid" --log-file="$tmp/munged.log" \
    --seed-file="$tmp/munge/munged.seed"
for _ in $(seq 50); do [ -s "$tmp/munge/munged.pid" ] && break; sleep 0.1; done
pids+=("$(cat "$tmp/munge/munged.pid")")

host=$(hostname -s)
cpus=$(nproc)
cat >"$tmp/slurm.conf" <<EOF
ClusterName=backstop-ci
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$socket
CredType=cred/munge
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/slurmctld.log
SlurmdLogFile=$tmp/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
ReturnToService=2
NodeName=$host CPUs=$cpus RealMemory=4000 State=UNKNOWN
PartitionName=ci Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF="$tmp/slurm.conf"
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"
for _ in $(seq 100); do
    [ -s "$tmp/slurmctld.pid" ] && [ -s "$tmp/slurmd.pid" ] && break
    sleep 0.1
done
pids+=("$(cat "$tmp/slurmctld.pid")" "$(cat "$tmp/slurmd.pid")")
for _ in $(seq 100); do
    sinfo -h -o %T 2>/dev/null | grep -qx idle && break
    sleep 0.2
done
sinfo -h -o "%P %D %T %c" | sed 's/^/   node: /'
echo "== Slurm up in $(( $(date +%s) - start )) s"

# The array: 4 tasks of one CPU each, every task runs every 4th unit into its own shard.
shards="$tmp/sweeps"
sbatch --wait --array=0-3 --cpus-per-task=1 --mem=1G --chdir="$repo" \
    --output="$tmp/task-%a.log" \
    --export=ALL,BACKSTOP="$backstop",SWEEP_DIR="$shards" \
    experiments/slurm-sweep.sh "$experiment" --seeds "$seeds" >/dev/null
echo "== array of 4 tasks done in $(( $(date +%s) - start )) s"
"$backstop" merge "$shards"/penalty-sweep/shard-* --out "$tmp/merged" --quiet
"$backstop" run "$experiment" --seeds "$seeds" --out "$tmp/single" --quiet
for table in summary.csv summary_by_market.csv; do
    cmp "$tmp/merged/$table" "$tmp/single/$table"
done
echo "== merged shards equal one machine's run byte for byte ($seeds seeds a cell); Slurm check took $(( $(date +%s) - start )) s"
