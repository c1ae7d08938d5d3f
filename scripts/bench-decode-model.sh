#!/usr/bin/env bash
# Decoding and forced alignment with a trained model on real speech, on one core, with the
# default beams: the classifier's scores, the phone-loop search and the forced-alignment search,
# each in x real time (examples/bench_decode --model). The targets are >= 500x real time for
# decoding and >= 1000x for forced alignment with a GMM over tied states, scores included.
# scripts/bench-decode.sh times the searches alone on synthetic scores, against Kaldi.
#
#   scripts/bench-decode-model.sh [--model DIR] [--corpus C]
# Without --model, trains the default tied-state GMM (pipelines/kaldi-mfcc-gmm.yaml) on the
# corpus first (all cores; not timed). The corpus defaults to $ASRPIPE_TIMIT_SAMPLE, else the
# demo corpus.
set -euo pipefail
cd "$(dirname "$0")/.."
model="" corpus=${ASRPIPE_TIMIT_SAMPLE:-}
while [ $# -gt 0 ]; do
    case $1 in
        --model) model=$2; shift 2 ;;
        --corpus) corpus=$2; shift 2 ;;
        *) echo "usage: $0 [--model DIR] [--corpus C]" >&2; exit 2 ;;
    esac
done
cargo build -q --release --example bench_decode --bin asrpipe
corpus_args=()
[ -z "$corpus" ] || corpus_args=(--corpus "$corpus")
if [ -z "$model" ]; then
    dir=$(mktemp -d)
    trap 'rm -rf "$dir"' EXIT
    model=$dir/gmm
    target/release/asrpipe train -q "${corpus_args[@]}" -o "$model" >/dev/null
fi
echo "== load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
RAYON_NUM_THREADS=1 target/release/examples/bench_decode --model "$model" "${corpus_args[@]}"
