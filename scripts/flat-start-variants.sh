#!/usr/bin/env bash
# Flat-start variants side by side, on the demo corpus and, when given, a corpus with hand times
# (the TIMIT sample):
#   base  the default recipe (Kaldi's train_mono.sh: Viterbi training, then the tied-state
#         realignment);
#   bw5   the first 5 passes after the equal alignment by Baum-Welch (hmm.flat_start.baum_welch_passes);
#   bw39  every pass but the first by Baum-Welch (HTK HERest throughout);
#   sat   4 rounds of speaker-adaptive training after the flat start (hmm.sat.rounds).
# For each: the recipe's boundary agreement with the hand times (monophones on the training
# speakers, the test speakers aligned by the monophones where the recipe does that, then after the
# tied-state realignment) and, on the demo, the same per voice (scripts/boundary-classes.py); on
# the corpus, the tied-state GMM's PER and its alignment of the test speakers. A control: a GMM
# trained on the hand times aligning the demo's training and test speakers, with the boundary
# kinds that miss most. Wall times are of the machine it ran on. Numbers are read from the runs'
# logs and files, none typed by hand (docs/results/flat-start-variants.md).
#
#   scripts/flat-start-variants.sh [CORPUS] [OUT]
set -euo pipefail
corpus=${1:-}
out=${2:-reports/flat-start-variants}
bin=${ASRPIPE:-target/release/asrpipe}
here=$(cd "$(dirname "$0")/.." && pwd)
classes="python3 $here/scripts/boundary-classes.py"
demo="$here/audio/demo"
mkdir -p "$out"
base="$here/pipelines/kaldi-mfcc-gmm.yaml"
variant() { # NAME: the pipeline file of a variant
  local hmm
  case $1 in
    base) echo "$base"; return ;;
    bw5) hmm='  flat_start: { baum_welch_passes: 5 }' ;;
    bw39) hmm='  flat_start: { baum_welch_passes: 39 }' ;;
    sat) hmm='  sat: { rounds: 4 }' ;;
  esac
  { cat "$base"; printf 'hmm:\n%s\n' "$hmm"; } >"$out/kaldi-mfcc-gmm-$1.yaml"
  echo "$out/kaldi-mfcc-gmm-$1.yaml"
}
timed() { # LOG CMD...: run, keep the output, print the wall time
  local log=$1 s e
  shift
  s=$(date +%s.%N)
  "$@" -q >"$log" 2>&1 || { tail -5 "$log" >&2; exit 1; }
  e=$(date +%s.%N)
  printf '%.1f s' "$(echo "$e - $s" | bc)"
}
for v in base bw5 bw39 sat; do
  p=$(variant $v)
  t=$(timed "$out/demo-$v.log" "$bin" train --flat-start -p "$p" -o "$out/demo-$v")
  echo "demo, $v: train --flat-start $t"
  grep -E 'within' "$out/demo-$v.log" | sed 's/^ */  /'
  echo "  after the tied-state realignment, per voice:"
  $classes "$out/demo-$v/flat_start/alignments" "$demo" --speakers "$demo/speakers.tsv" --top 0 |
    grep -v '^boundary kinds' | sed 's/^/    /'
  if [ "$v" = base ]; then
    $classes "$out/demo-$v/flat_start/alignments" "$demo" --speakers "$demo/speakers.tsv" |
      sed -n '/^boundary kinds/,$p' | sed 's/^/    /'
  fi
  [ -n "$corpus" ] || continue
  t=$(timed "$out/timit-$v-train.log" "$bin" train --flat-start -p "$p" --corpus "$corpus" -o "$out/timit-$v")
  echo "corpus, $v: train --flat-start $t"
  grep -E 'within' "$out/timit-$v-train.log" | sed 's/^ */  /'
  t=$(timed "$out/timit-$v-eval.log" "$bin" eval --model "$out/timit-$v" --corpus "$corpus" -o "$out/timit-$v-eval")
  echo "  eval $t: $(grep -E '^PER .* acoustic scale 0.1$' "$out/timit-$v-eval.log" | cut -d';' -f1)"
  t=$(timed "$out/timit-$v-align.log" "$bin" align --model "$out/timit-$v" --corpus "$corpus" --split test -o "$out/timit-$v-align")
  echo "  align test $t: $(grep -E 'within' "$out/timit-$v-align.log")"
done
# Control: the same GMM trained on the demo's hand times.
t=$(timed "$out/demo-hand.log" "$bin" train -o "$out/demo-hand")
echo "demo, control: train on the hand times $t"
for split in train test; do
  "$bin" align -q --model "$out/demo-hand" --split $split -o "$out/demo-hand-align-$split" \
    >"$out/demo-hand-align-$split.log" 2>&1
  echo "  align $split: $(grep -E 'within' "$out/demo-hand-align-$split.log")"
  $classes "$out/demo-hand-align-$split" "$demo" --speakers "$demo/speakers.tsv" --top 3 | sed 's/^/    /'
done
