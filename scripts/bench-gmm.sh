#!/usr/bin/env bash
# One EM iteration of a diagonal GMM (default 50,000 x 39 frames, 256 Gaussians): asrpipe against
# scikit-learn's GaussianMixture on the same frames and the same initial model, and how far
# their re-estimated parameters differ.
#
# Usage: scripts/bench-gmm.sh [DIR] [--frames N] [--dim D] [--components K] [--repeats R]
# DIR (default: a temporary directory) receives the .npy files. The Python side runs in
# .venv-peers, created with scikit-learn and numpy if missing.
set -euo pipefail
cd "$(dirname "$0")/.."

dir=""
if [[ $# -gt 0 && $1 != --* ]]; then dir=$1; shift; fi
if [[ -z $dir ]]; then dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT; fi
gen_args=() time_args=() repeats=5
while [[ $# -gt 0 ]]; do
  case $1 in
    --frames|--dim|--components) gen_args+=("$1" "$2"); shift 2 ;;
    --repeats) repeats=$2; time_args+=("$1" "$2"); shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done

venv=.venv-peers
if [[ ! -x $venv/bin/python ]]; then python3 -m venv "$venv"; fi
if ! "$venv/bin/python" -c 'import sklearn, numpy' 2>/dev/null; then
  "$venv/bin/pip" install --quiet scikit-learn numpy
fi

"$venv/bin/python" scripts/bench_gmm_sklearn.py gen "$dir" "${gen_args[@]}"
cargo run --quiet --release --example bench_gmm -- "$dir" "$repeats"
"$venv/bin/python" scripts/bench_gmm_sklearn.py time "$dir" "${time_args[@]}"
