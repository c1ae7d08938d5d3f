#!/usr/bin/env bash
# Peak resident memory (GNU time's "Maximum resident set size") and wall time of:
#   dnn       asrpipe eval --corpus TIMIT --dnn 4x512 --from log --epochs 3   (train + evaluate)
#   gmm       asrpipe eval --corpus TIMIT                                       (train + evaluate)
#   features  asrpipe features on one 1-hour 16 kHz WAV (the TIMIT sample concatenated and
#             repeated), written as .npz; features-1t the same on one thread; features-spec
#             the spectrogram (257 values a frame, 370 MB), written as a Kaldi archive
# Features are computed as the file is read and written as they are computed, so their peak
# should not grow with the file's length (the goal: 100 MB for the hour).
# Each run starts from an empty feature cache, so feature extraction is part of it. Everything is
# written under a temporary directory (the 1-hour WAV takes 115 MB), removed at the end.
#
#   scripts/bench-memory.sh [--markdown FILE] [--timit DIR] [--features-only]
# Needs /usr/bin/time (Debian package `time`) and sox.
set -euo pipefail
cd "$(dirname "$0")/.."

markdown="" features_only=0
timit=${ASRPIPE_TIMIT_SAMPLE:-../shared/corpora/timit-sample}
while [[ $# -gt 0 ]]; do
  case $1 in
    --markdown) markdown=$2; shift 2 ;;
    --timit) timit=$2; shift 2 ;;
    --features-only) features_only=1; shift ;;
    *) echo "unknown argument $1 (see the top of $0)" >&2; exit 2 ;;
  esac
done
cargo build -q --release --bin asrpipe
bin=${CARGO_TARGET_DIR:-target}/release/asrpipe
# shellcheck source=bench-hour.sh
source scripts/bench-hour.sh

# measure NAME COMMAND...: one table row from GNU time's report.
rows=()
measure() {
  local name=$1; shift
  echo "$name: $*" >&2
  /usr/bin/time -v -o "$dir/$name.time" "$@" >"$dir/$name.log" 2>&1 ||
    { cat "$dir/$name.log" >&2; echo "$name failed" >&2; exit 1; }
  local rss wall cmd="$*"
  cmd=${cmd//$bin/asrpipe}
  cmd=${cmd//$dir\//}
  rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$dir/$name.time")
  wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$dir/$name.time")
  rows+=("| $name | \`$cmd\` | $((rss / 1024)) | $wall |")
}

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
if ((!features_only)); then
  measure dnn "$bin" eval --corpus "$timit" --dnn 4x512 --from log --epochs 3 \
    --cache "$dir/cache-dnn" --output "$dir/run-dnn"
  measure gmm "$bin" eval --corpus "$timit" --cache "$dir/cache-gmm" --output "$dir/run-gmm"
fi
measure features "$bin" features -o "$dir/hour.npz" "$dir/hour.wav"
RAYON_NUM_THREADS=1 measure features-1t "$bin" features -o "$dir/hour-1t.npz" "$dir/hour.wav"
cmp -s "$dir/hour.npz" "$dir/hour-1t.npz" || { echo "1 and $(nproc) threads wrote different bytes" >&2; exit 1; }
measure features-spec "$bin" features --until spectrogram -o "$dir/hour-spec.ark" "$dir/hour.wav"
rm -f "$dir/hour-spec.ark"

out=$(
  echo "| run | command | peak RSS (MiB) | wall (m:ss) |"
  echo "| --- | --- | ---: | ---: |"
  printf '%s\n' "${rows[@]}"
  echo
  echo "- features input: one WAV of ${hour_secs} s at 16 kHz ($(du -m "$dir/hour.wav" | cut -f1) MB);" \
    "output .npz $(du -k "$dir/hour.npz" | cut -f1) KB"
  echo "- threads: $(nproc) (rayon default); load average $load_start at the start," \
    "$(cut -d' ' -f1-3 /proc/loadavg) at the end"
)
echo "$out"
if [[ -n $markdown ]]; then echo "$out" >"$markdown.tmp" && mv "$markdown.tmp" "$markdown"; fi
