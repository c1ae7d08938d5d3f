#!/usr/bin/env bash
# The HMM rows of docs/results/timit-sample: phone error rates of a monophone and a tied-state GMM,
# the latter with speed perturbation, and forced alignment of the test speakers by a model trained on hand times and by a flat-start
# model that never saw a time. Writes every run under OUT and renders the table from their
# results.json / alignment.json files (scripts/hmm_table.py), so no number is typed by hand.
#
#   scripts/timit-sample-hmm.sh CORPUS [OUT] > docs/results/timit-sample/hmm.md
set -euo pipefail
corpus=$1
out=${2:-reports/timit-sample-hmm}
bin=${ASRPIPE:-target/release/asrpipe}
mkdir -p "$out"
run() { echo "+ $*" >&2; "$bin" "$@" -q >>"$out/log.txt" 2>&1 || { tail -5 "$out/log.txt" >&2; exit 1; }; }
# Production line (pipelines/kaldi-mfcc-gmm.yaml: MFCC + deltas, speaker CMN), monophone states
# (48 phones x 3 = 144, no tree) and tied triphone states from the tree.
run eval --corpus "$corpus" --states 144 -o "$out/gmm-mono"
run eval --corpus "$corpus" -o "$out/gmm-tied"
# The same with Kaldi's speed perturbation of the training speakers (test speakers untouched).
run eval --corpus "$corpus" --speed-perturb 0.9,1.0,1.1 -o "$out/gmm-tied-sp"
# Alignment of the test speakers with the tied-state model trained on the hand times.
run align --model "$out/gmm-tied/model" --corpus "$corpus" --split test -o "$out/align-hand"
# Flat start from the phone sequences alone, then its PER and its alignment of the test speakers.
run train --flat-start --corpus "$corpus" -o "$out/flat"
run eval --model "$out/flat" --corpus "$corpus" -o "$out/flat-eval"
run align --model "$out/flat" --corpus "$corpus" --split test -o "$out/align-flat"
python3 "$(dirname "$0")/hmm_table.py" "$out"
