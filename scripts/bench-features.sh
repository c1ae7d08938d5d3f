#!/usr/bin/env bash
# Feature extraction speed, asrpipe against kaldi-native-fbank, librosa and python_speech_features,
# all on the whole TIMIT sample held in memory with the same MFCC options (13 ceps, 23 bins,
# lifter 22, 25/10 ms), peers on one thread; asrpipe on 1 and 2 threads (rayon across files).
#   scripts/bench-features.sh [TIMIT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
timit=${1:-${ASRPIPE_TIMIT_SAMPLE:-../shared/corpora/timit-sample}}
venv=.venv-peers
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q -r scripts/requirements-peers.txt
cargo build -q --release --example bench_features
printf 'peer\tseconds\taudio_seconds\tx_real_time\n'
"$venv/bin/python" scripts/bench_features_peers.py "$timit"
target/release/examples/bench_features "$timit" 1 2
