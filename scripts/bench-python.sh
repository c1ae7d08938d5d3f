#!/usr/bin/env bash
# asrpipe from Python against kaldi-native-fbank's Python API and torchaudio.compliance.kaldi
# (when installed) on the TIMIT sample held in memory, at equal output (the table shows the
# largest |difference| from asrpipe's features beside each speed):
#   one thread: Pipeline.compute per utterance, OnlineFeatures, the peers (binding overhead included)
#   all cores:  Pipeline.compute_many over the whole sample
#
#   scripts/bench-python.sh [--runs N] [--timit DIR]
# Uses the virtual environment of scripts/test.sh ($ASRPIPE_VENV, default .venv) with the wheel
# installed (scripts/test.sh does both); torchaudio is optional: pip install torch torchaudio.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=3 timit=${ASRPIPE_TIMIT_SAMPLE:-../shared/corpora/timit-sample}
while [[ $# -gt 0 ]]; do
  case $1 in
    --runs) runs=$2; shift 2 ;;
    --timit) timit=$2; shift 2 ;;
    *) echo "unknown argument $1 (see the top of $0)" >&2; exit 2 ;;
  esac
done
py="${ASRPIPE_VENV:-.venv}/bin/python"
"$py" -c "import asrpipe" 2>/dev/null || { echo "asrpipe is not installed in ${ASRPIPE_VENV:-.venv}: run scripts/test.sh first" >&2; exit 1; }
echo "| features | implementation | x real time | max abs diff from asrpipe |"
echo "|---|---|---|---|"
RAYON_NUM_THREADS=1 MATMUL_NUM_THREADS=1 OMP_NUM_THREADS=1 "$py" scripts/bench_python.py --timit "$timit" --runs "$runs" --mode one
"$py" scripts/bench_python.py --timit "$timit" --runs "$runs" --mode many
echo
echo "$(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
