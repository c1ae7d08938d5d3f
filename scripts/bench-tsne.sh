#!/usr/bin/env bash
# asrpipe's t-SNE against openTSNE, speed and quality side by side, in one run, on three data sets:
#   synthetic-2000   2000 x 50, a seeded mixture of 20 Gaussian clusters
#   synthetic-5000   5000 x 100, the same kind (PCA to 50 dimensions first, on both sides)
#   timit-5000       5000 frames of the TIMIT sample: 13 MFCCs normalised per utterance, spliced
#                    +-5 frames (143 dimensions, a DNN's input), PCA to 50 first on both sides
# Each: asrpipe on 2 threads and on 1 (the maps must be bit-identical), openTSNE at asrpipe's
# settings with n_jobs 2 and 1, and openTSNE with its own defaults (n_jobs 2). Quality of every
# map by the same yardsticks (scripts/bench_tsne_opentsne.py): the share of each point's 10 nearest
# neighbours the map keeps, and the exact KL divergence against the same P.
#
#   scripts/bench-tsne.sh [--quick] [--markdown FILE] [--timit DIR] [--keep DIR]
#     --quick     one repeat and only the 2000-point set: checks that everything runs
#     --markdown  also write the table (with load averages) to FILE
#     --timit     the TIMIT sample (default: $ASRPIPE_TIMIT_SAMPLE or ../shared/corpora/timit-sample)
#     --keep      write the data, maps and raw outputs to DIR instead of a temporary directory
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=bench-args.sh
source scripts/bench-args.sh

venv=.venv-peers
[[ -x $venv/bin/python ]] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q $(grep -E '^(openTSNE|scikit-learn)==' scripts/requirements-bench.txt)
py=$venv/bin/python

echo "building (release)..." >&2
cargo build -q --release --bin asrpipe --example bench_tsne
bin=${CARGO_TARGET_DIR:-target}/release
reps=2
((quick)) && reps=1

load() { cut -d' ' -f1-3 /proc/loadavg; }
threads() { export RAYON_NUM_THREADS=$1 OMP_NUM_THREADS=$1 OPENBLAS_NUM_THREADS=$1 MKL_NUM_THREADS=$1; }
printf 'load\t%s (1, 5, 15 min) at the start\n' "$(load)" >"$dir/machine.txt"

sets=(synthetic-2000)
"$py" scripts/bench_tsne_opentsne.py gen "$dir/synthetic-2000" --points 2000 --dim 50
if ((!quick)); then
  sets+=(synthetic-5000 timit-5000)
  "$py" scripts/bench_tsne_opentsne.py gen "$dir/synthetic-5000" --points 5000 --dim 100
  mapfile -t wavs < <(find "$timit" -iname '*.wav' | sort)
  "$bin/asrpipe" features "${wavs[@]}" -o "$dir/timit-mfcc.npz" >&2
  "$py" scripts/bench_tsne_opentsne.py frames "$dir/timit-mfcc.npz" "$dir/timit-5000" --points 5000 >&2
fi

for set in "${sets[@]}"; do
  d=$dir/$set
  echo "t-SNE of $set..." >&2
  {
    threads 1
    "$bin/examples/bench_tsne" "$d" "$reps" | sed 's/^asrpipe_tsne_s/asrpipe_1_threads_tsne_s/'
    mv "$d/rust_tsne_y.npy" "$d/rust_tsne_y_1.npy"
    threads 2
    "$bin/examples/bench_tsne" "$d" "$reps" | sed 's/^asrpipe_tsne_s/asrpipe_2_threads_tsne_s/'
    if cmp -s "$d/rust_tsne_y.npy" "$d/rust_tsne_y_1.npy"; then
      printf 'asrpipe_threads_identical\tyes\n'
    else
      printf 'asrpipe_threads_identical\tNO\n'
    fi
    "$py" scripts/bench_tsne_opentsne.py time "$d" --repeats "$reps" --jobs 2
    "$py" scripts/bench_tsne_opentsne.py time "$d" --repeats "$reps" --jobs 2 --defaults
    threads 1
    "$py" scripts/bench_tsne_opentsne.py time "$d" --repeats "$reps" --jobs 1
  } >"$d/results.txt"
done

printf 'load\t%s (1, 5, 15 min) at the end\n' "$(load)" >>"$dir/machine.txt"
"$py" scripts/bench_tsne_opentsne.py table "${sets[@]/#/$dir/}" --machine "$dir/machine.txt" \
  ${markdown:+--markdown "$markdown"}
