#!/usr/bin/env bash
# Tune the decoder's LM weight, insertion penalty and acoustic scale on held-out speakers: decode
# the test split of CORPUS (a development corpus, never the real test speakers) with MODEL for
# every point of the grid and print one PER per line, best last.
#
#   scripts/tune-decode.sh MODEL CORPUS [LM_WEIGHTS] [PENALTIES] [ACOUSTIC_SCALES]
#   scripts/tune-decode.sh runs/dev-gmm/model dev-manifest.tsv "0.5 1 2" "-1 0 1" "0.1"
set -euo pipefail
model=$1
corpus=$2
weights=${3:-"0.5 1 2 3 4 6"}
penalties=${4:-"-3 -2 -1 0 1"}
scales=${5:-"0.1"}
bin=${ASRPIPE:-target/release/asrpipe}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for w in $weights; do
  for p in $penalties; do
    for a in $scales; do
      "$bin" eval -q --model "$model" --corpus "$corpus" --lm-weight "$w" \
        --insertion-penalty "$p" --acoustic-scale "$a" -o "$out/run" > /dev/null 2> "$out/err" \
        || { cat "$out/err" >&2; exit 1; }
      per=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['per'])" "$out/run/results.json")
      echo "lm_weight=$w insertion_penalty=$p acoustic_scale=$a per=$per"
    done
  done
done | sort -t= -k5 -g -r
