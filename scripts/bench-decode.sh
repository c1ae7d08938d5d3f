#!/usr/bin/env bash
# Phone-loop decoding and forced alignment speed on one thread, on synthetic score matrices over
# the 48 TIMIT phones (examples/bench_decode: ~300-frame utterances, tree-like tyings of 144, 200
# and 2000 tied states, GMM-like scores), and Kaldi's FasterDecoder (C++, via the kaldi-decoder
# package) on exactly the same graphs, scores, beam and max_active (scripts/bench_decode_kaldi.py).
# Speeds are x real time at 100 frames per second, from each process's CPU time (and wall time).
#
#   scripts/bench-decode.sh [--utts N] [--frames F] [--leaves 144,200,2000] [--beam B] [--max-active N]
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.venv-peers
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -c "import kaldi_decoder, kaldifst, numpy" 2>/dev/null ||
    "$venv/bin/pip" install -q kaldi-decoder==0.3.2 kaldifst==1.8.3 numpy==2.4.6
export RAYON_NUM_THREADS=1 OMP_NUM_THREADS=1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cargo build -q --release --example bench_decode
echo "== load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== asrpipe"
target/release/examples/bench_decode --export "$dir" "$@"
echo "== Kaldi FasterDecoder, same graphs and scores"
"$venv/bin/python" scripts/bench_decode_kaldi.py "$dir"
