#!/usr/bin/env bash
# CI: notebooks-output/explore.ipynb runs headless, with no cell error, against a fresh small
# run of the baseline (500 seeds a cell). The notebook's environment is a virtual environment
# made by this script (pinned versions below), kept outside the clone so later runs reuse it.
# Needs the release binary built already (BACKSTOP, default $CARGO_TARGET_DIR/release/backstop).
#
#   bash .ci/notebook-check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
backstop=$(realpath "${BACKSTOP:-${CARGO_TARGET_DIR:-target}/release/backstop}")
venv=${NOTEBOOK_VENV:-$HOME/.cache/backstop-notebook-venv}
packages=(polars==2.1.0 pandas==3.1.1 pyarrow==26.0.1 numpy==2.4.6 matplotlib==3.11.2
          nbclient==0.11.0 nbformat==5.11.1 ipykernel==7.4.0)
if ! "$venv/bin/python" -c "import polars, pandas, nbclient, ipykernel, matplotlib" 2>/dev/null; then
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q "${packages[@]}"
fi
tmp=$(mktemp -d /tmp/backstop-notebook.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
"$backstop" run experiments/baseline.toml --seeds 500 --out "$tmp/run" --no-charts --quiet
BACKSTOP_RESULTS="$tmp/run" "$venv/bin/python" - <<'PY'
import nbformat
from nbclient import NotebookClient

path = "notebooks-output/explore.ipynb"
nb = nbformat.read(path, as_version=4)
# Raises CellExecutionError, naming the cell, on the first cell that fails.
NotebookClient(nb, timeout=600, kernel_name="python3",
               resources={"metadata": {"path": "notebooks-output"}}).execute()
cells = sum(1 for c in nb.cells if c.cell_type == "code")
print(f"{path}: {cells} code cells ran without error")
PY
echo "== notebook check took $(( $(date +%s) - start )) s"
