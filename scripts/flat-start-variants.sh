#!/usr/bin/env bash
# Flat start with and without speaker-adaptive training (hmm.sat, 4 rounds), on the demo corpus
# and, when given, a corpus with hand times (the TIMIT sample): the recipe's boundary agreement
# with the hand times (monophones, then after the tied-state realignment), the tied-state GMM's
# PER and its alignment of the test speakers, with wall times. Numbers are read from the runs'
# logs, none typed by hand (docs/results/flat-start-variants.md).
#
#   scripts/flat-start-variants.sh [CORPUS] [OUT]
set -euo pipefail
corpus=${1:-}
out=${2:-reports/flat-start-variants}
bin=${ASRPIPE:-target/release/asrpipe}
here=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out"
base="$here/pipelines/kaldi-mfcc-gmm.yaml"
sat="$out/kaldi-mfcc-gmm-sat.yaml"
{ cat "$base"; printf 'hmm:\n  sat: { rounds: 4 }\n'; } >"$sat"
timed() { # LOG CMD...: run, keep the output, print the wall time
  local log=$1 s e
  shift
  s=$(date +%s.%N)
  "$@" -q >"$log" 2>&1 || { tail -5 "$log" >&2; exit 1; }
  e=$(date +%s.%N)
  printf '%.1f s' "$(echo "$e - $s" | bc)"
}
for v in base sat; do
  p=$base
  [ "$v" = sat ] && p=$sat
  t=$(timed "$out/demo-$v.log" "$bin" train --flat-start -p "$p" -o "$out/demo-$v")
  echo "demo, $v: train --flat-start $t"
  grep -E 'within' "$out/demo-$v.log" | sed 's/^ */  /'
  [ -n "$corpus" ] || continue
  t=$(timed "$out/timit-$v-train.log" "$bin" train --flat-start -p "$p" --corpus "$corpus" -o "$out/timit-$v")
  echo "corpus, $v: train --flat-start $t"
  grep -E 'within' "$out/timit-$v-train.log" | sed 's/^ */  /'
  t=$(timed "$out/timit-$v-eval.log" "$bin" eval --model "$out/timit-$v" --corpus "$corpus" -o "$out/timit-$v-eval")
  echo "  eval $t: $(grep -E '^PER .* acoustic scale 0.1$' "$out/timit-$v-eval.log" | cut -d';' -f1)"
  t=$(timed "$out/timit-$v-align.log" "$bin" align --model "$out/timit-$v" --corpus "$corpus" --split test -o "$out/timit-$v-align")
  echo "  align test $t: $(grep -E 'within' "$out/timit-$v-align.log")"
done
