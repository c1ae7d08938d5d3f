#!/usr/bin/env bash
# Time one DNN training step (8x1000 ReLU, 440 inputs, 2000 outputs, batch 256, SGD momentum 0.9)
# in asrpipe and in PyTorch on the CPU with 2 threads, and check that PyTorch loads an asrpipe
# model file and computes the same outputs.
#
#   scripts/bench-dnn.sh [steps [rounds]]
#
# The cores may be shared: asrpipe and PyTorch run in alternating rounds so that both see the same
# load; compare the best round of each (and the bare matrix product of the same round).
# PyTorch comes from PyPI into .venv-peers/ (git-ignored), created on first use.
set -euo pipefail
cd "$(dirname "$0")/.."
steps="${1:-20}"
rounds="${2:-3}"
venv=.venv-peers
if ! "$venv/bin/python" -c "import torch, safetensors, numpy" 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet torch==2.15.0 safetensors==0.8.0 numpy==2.4.6
fi
export RAYON_NUM_THREADS=2 OMP_NUM_THREADS=2

# Build once and run the binary itself: cargo would wait for other builds between rounds.
bench_bin="$(cargo bench --quiet --bench dnn --no-run --message-format=json |
    python3 -c 'import json, sys
for m in map(json.loads, sys.stdin):
    if m.get("executable") and m["target"]["name"] == "dnn":
        print(m["executable"])')"
for round in $(seq "$rounds"); do
    echo "== speed, round $round (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
    "$bench_bin" --plain "$steps" gemm
    "$venv/bin/python" scripts/bench_dnn_torch.py --bench --steps "$steps" --threads 2
done

echo "== torch loads an asrpipe model"
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
ASRPIPE_DNN_EXPORT="$dir" cargo test --quiet --release --test dnn export_for_torch_check \
    -- --ignored >/dev/null 2>&1
"$venv/bin/python" scripts/bench_dnn_torch.py --check "$dir"
