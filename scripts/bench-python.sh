#!/usr/bin/env bash
# asrpipe from Python against the Python feature tools, one table from one run (see the top of
# scripts/bench_python.py for what each row computes): the TIMIT sample held in memory as numpy
# arrays, one call per utterance (binding overhead included):
#   one thread: Pipeline.compute, OnlineFeatures, kaldi-native-fbank, torchaudio.compliance.kaldi,
#               librosa, python_speech_features (each row where the package is installed)
#   compute_many over the whole sample on 1 and on 2 threads
#
#   scripts/bench-python.sh [--runs N] [--timit DIR] [--markdown FILE]
# Uses the virtual environment $ASRPIPE_VENV (default .venv) with the wheel installed
# (scripts/test.sh makes one) and the peers of scripts/requirements-bench-python.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=3 timit=${ASRPIPE_TIMIT_SAMPLE:-../shared/corpora/timit-sample} markdown=""
while [[ $# -gt 0 ]]; do
  case $1 in
    --runs) runs=$2; shift 2 ;;
    --timit) timit=$2; shift 2 ;;
    --markdown) markdown=$2; shift 2 ;;
    *) echo "unknown argument $1 (see the top of $0)" >&2; exit 2 ;;
  esac
done
py="${ASRPIPE_VENV:-.venv}/bin/python"
"$py" -c "import asrpipe" 2>/dev/null || { echo "asrpipe is not installed in ${ASRPIPE_VENV:-.venv}: run scripts/test.sh first" >&2; exit 1; }
load() { cut -d' ' -f1-3 /proc/loadavg; }
one() { RAYON_NUM_THREADS=$1 MATMUL_NUM_THREADS=$1 OMP_NUM_THREADS=$1 "$py" scripts/bench_python.py --timit "$timit" --runs "$runs" --mode "$2"; }
start=$(load)
# The issue's targets read off the table: asrpipe's per-call rate against kaldi-native-fbank and
# against the fastest peer, and compute_many's gain from 1 to 2 threads.
targets() {
  awk -F' *[|] *' '
    { x = $4; sub(/x$/, "", x); gsub(/,/, "", x) }
    x !~ /^[0-9.]+$/ { next }
    $3 == "asrpipe Pipeline.compute" { ours[$2] = x; next }
    $3 ~ /^asrpipe compute_many [(]1 thread/ { one[$2] = x; next }
    $3 ~ /^asrpipe compute_many [(]2 threads/ { two[$2] = x; next }
    $3 ~ /^asrpipe/ { next }
    $3 ~ /^kaldi-native-fbank/ { knf[$2] = x }
    x + 0 > best[$2] + 0 { best[$2] = x; who[$2] = $3 }
    END {
      for (k in ours) {
        printf "%s: asrpipe Pipeline.compute is %.1fx kaldi-native-fbank and %.1fx the fastest peer (%s); compute_many runs %.2fx faster on 2 threads than on 1.\n",
          k, ours[k] / knf[k], ours[k] / best[k], who[k], two[k] / one[k]
      }
    }' <<<"$1" | sort
}
table=$(
  echo "| features | implementation | x real time | max abs diff from asrpipe |"
  echo "|---|---|---|---|"
  one 1 one
  one 1 many
  one 2 many
)
out=$(
  echo "$table"
  echo
  targets "$table"
  echo
  echo "$(nproc) cores ($(lscpu | sed -n 's/^Model name: *//p')), best of $runs runs;" \
    "load average $start at the start, $(load) at the end (1, 5, 15 min)"
)
echo "$out"
if [[ -n $markdown ]]; then echo "$out" >"$markdown.tmp" && mv "$markdown.tmp" "$markdown"; fi
