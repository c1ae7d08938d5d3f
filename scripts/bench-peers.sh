#!/usr/bin/env bash
# asrpipe against its Python peers, measured in one run, printed as one markdown table with the
# speed-up of asrpipe over each peer:
#   features   x real time, 1 thread        kaldi-native-fbank, python_speech_features, librosa
#   GMM        one EM iteration, 2 threads  scikit-learn GaussianMixture (diag, float32 and 64)
#   DNN        one training step, 2 threads PyTorch on the CPU
#   t-SNE      1000 iterations              openTSNE (Barnes-Hut, n_jobs 2, and 1 for reference)
# The peers come from PyPI (versions pinned in scripts/requirements-bench.txt) into .venv-peers/.
# Each part is the existing comparison script's two sides (see scripts/bench-features.sh,
# bench-gmm.sh, bench-dnn.sh); this script runs them back to back and gathers the figures.
#
#   scripts/bench-peers.sh [--quick] [--markdown FILE] [--timit DIR] [--keep DIR]
#     --quick     few repeats and smaller problems: checks that everything runs, numbers rough
#     --markdown  also write the table (with machine and load average) to FILE
#     --timit     the TIMIT sample (default: $ASRPIPE_TIMIT_SAMPLE or ../shared/corpora/timit-sample)
#     --keep      write the raw outputs and data to DIR instead of a temporary directory
# Memory (peak RSS) is measured by scripts/bench-memory.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=bench-args.sh
source scripts/bench-args.sh

if ((quick)); then
  feat_runs=1 gmm_args=(--frames 10000 --components 64) gmm_reps=2 dnn_steps=5 tsne_args=(--points 500)
  tsne_reps=1
else
  feat_runs=3 gmm_args=() gmm_reps=5 dnn_steps=20 tsne_args=() tsne_reps=2
fi

venv=.venv-peers
[[ -x $venv/bin/python ]] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q -r scripts/requirements-bench.txt
py=$venv/bin/python

echo "building (release)..." >&2
cargo build -q --release --example bench_features --example bench_gmm --example bench_tsne
examples=${CARGO_TARGET_DIR:-target}/release/examples
# The DNN step lives in a criterion bench; run its binary directly (cargo would wait for locks).
dnn_bin=$(cargo bench --quiet --bench dnn --no-run --message-format=json |
  python3 -c 'import json, sys
for m in map(json.loads, sys.stdin):
    if m.get("executable") and m["target"]["name"] == "dnn":
        print(m["executable"])')

load() { cut -d' ' -f1-3 /proc/loadavg; }
threads() { export RAYON_NUM_THREADS=$1 OMP_NUM_THREADS=$1 OPENBLAS_NUM_THREADS=$1 MKL_NUM_THREADS=$1; }
{
  printf 'cpu\t%s\n' "$(lscpu | sed -n 's/^Model name: *//p')"
  printf 'cores\t%s\n' "$(nproc)"
  printf 'rustc\t%s\n' "$(rustc --version)"
  printf 'python\t%s\n' "$("$py" --version)"
  printf 'load\t%s (1, 5, 15 min) at the start\n' "$(load)"
} >"$dir/machine.txt"

echo "features (1 thread)..." >&2
threads 1
"$py" scripts/bench_features_peers.py "$timit" --runs "$feat_runs" --json >"$dir/features_peers.json"
"$examples/bench_features" "$timit" 1 >"$dir/features_asrpipe.tsv"

echo "GMM EM iteration (2 threads)..." >&2
threads 2
"$py" scripts/bench_gmm_sklearn.py gen "$dir/gmm" "${gmm_args[@]}"
{
  "$examples/bench_gmm" "$dir/gmm" "$gmm_reps"
  "$py" scripts/bench_gmm_sklearn.py time "$dir/gmm" --repeats "$gmm_reps"
} >"$dir/gmm.txt"

echo "DNN training step (2 threads)..." >&2
{
  "$dnn_bin" --plain "$dnn_steps" gemm
  "$py" scripts/bench_dnn_torch.py --bench --steps "$dnn_steps" --threads 2
} >"$dir/dnn.txt"

echo "t-SNE..." >&2
"$py" scripts/bench_tsne_opentsne.py gen "$dir/tsne" "${tsne_args[@]}"
{
  "$examples/bench_tsne" "$dir/tsne" "$tsne_reps"
  "$py" scripts/bench_tsne_opentsne.py time "$dir/tsne" --repeats "$tsne_reps" --jobs 2
  threads 1
  "$py" scripts/bench_tsne_opentsne.py time "$dir/tsne" --repeats "$tsne_reps" --jobs 1 |
    grep -v neighbours_kept
} >"$dir/tsne.txt"

printf 'load\t%s (1, 5, 15 min) at the end\n' "$(load)" >>"$dir/machine.txt"
python3 scripts/bench_peers_table.py "$dir" ${markdown:+--markdown "$markdown"}
