#!/usr/bin/env bash
# Feature extraction speed against its targets, in about a minute after the build:
#   per core   the Kaldi MFCC chain on the TIMIT sample held in memory, one thread, best of 5
#              passes (examples/bench_features), cut after each stage so that each stage's share
#              shows; x real time = audio seconds / best wall seconds. Target: 6000x.
#   one file   `asrpipe features` on one 1-hour 16 kHz WAV (the TIMIT sample concatenated and
#              repeated, as scripts/bench-memory.sh makes it) written as .npz, on 1 and 2 threads,
#              best of --runs; x real time = 3600 / wall seconds, CPU = user + system seconds.
#              Target: 5000x on 2 threads. The 1- and 2-thread outputs must be the same bytes.
# Prints one markdown table with the load average at the start and the end (the machine is
# shared: compare CPU seconds, not only wall time, when it is busy).
#
#   scripts/bench-speed.sh [--markdown FILE] [--timit DIR] [--runs N]
# Needs /usr/bin/time (Debian package `time`) and sox.
set -euo pipefail
cd "$(dirname "$0")/.."

markdown="" runs=3
timit=${ASRPIPE_TIMIT_SAMPLE:-../shared/corpora/timit-sample}
while [[ $# -gt 0 ]]; do
  case $1 in
    --markdown) markdown=$2; shift 2 ;;
    --timit) timit=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    *) echo "unknown argument $1 (see the top of $0)" >&2; exit 2 ;;
  esac
done
echo "building (release)..." >&2
cargo build -q --release --bin asrpipe --example bench_features
target=${CARGO_TARGET_DIR:-target}/release
# shellcheck source=bench-hour.sh
source scripts/bench-hour.sh
load() { cut -d' ' -f1-3 /proc/loadavg; }
load_start=$(load)

rows=()
# Per core: the chain cut after each stage, one thread.
for stage in waveform spectrogram filterbank log dct; do
  echo "per core, until $stage..." >&2
  line=$(RAYON_NUM_THREADS=1 "$target/examples/bench_features" "$timit" "$stage" 1)
  IFS=$'\t' read -r _ secs audio xrt <<<"$line"
  target_col=""; [[ $stage == dct ]] && target_col="6000x"
  rows+=("| Kaldi MFCC until \`$stage\`, 1 thread, TIMIT sample in memory (${audio} s) | $xrt | $secs | | $target_col |")
done

# One long file.
for t in 1 2; do
  best="" best_cpu=""
  for r in $(seq "$runs"); do
    echo "one hour, $t thread(s), run $r..." >&2
    RAYON_NUM_THREADS=$t /usr/bin/time -f '%e %U %S' -o "$dir/time" \
      "$target/asrpipe" features -o "$dir/hour-$t.npz" "$dir/hour.wav" >/dev/null 2>"$dir/log" ||
      { cat "$dir/log" >&2; exit 1; }
    read -r wall user sys <"$dir/time"
    if [[ -z $best ]] || (($(echo "$wall < $best" | bc))); then
      best=$wall best_cpu=$(printf %.2f "$(echo "$user + $sys" | bc)")
    fi
  done
  xrt=$(echo "$hour_secs / $best" | bc)
  target_col=""; ((t == 2)) && target_col="5000x"
  rows+=("| one 1-hour WAV, \`asrpipe features -o hour.npz\`, $t thread(s) | $xrt | $best | $best_cpu | $target_col |")
done
cmp -s "$dir/hour-1.npz" "$dir/hour-2.npz" || { echo "1 and 2 threads wrote different bytes" >&2; exit 1; }

out=$(
  echo "| measurement | x real time | wall s (best) | CPU s (user + system, that run) | target |"
  echo "| --- | ---: | ---: | ---: | ---: |"
  printf '%s\n' "${rows[@]}"
  echo
  echo "- $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; load average $load_start at the" \
    "start, $(load) at the end (1, 5, 15 min)"
)
echo "$out"
if [[ -n $markdown ]]; then echo "$out" >"$markdown.tmp" && mv "$markdown.tmp" "$markdown"; fi
