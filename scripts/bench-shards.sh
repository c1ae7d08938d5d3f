#!/usr/bin/env bash
# Features through shards: total wall time of scripts/cluster/features-parallel.sh for N = 1, 2, 4
# shards on this machine (GNU parallel running all N at once), the peak memory (max RSS) of each
# shard's process, and a check that the concatenated feats.scp equals the one-process result
# (byte-identical matrices, compared by reading both scp files).
#
#   scripts/bench-shards.sh [--copies R] [--pipeline FILE] [--threads T] [--keep DIR]
#     --copies    the demo corpus R times over, as R x 12 speakers (default 4: 1200 utterances)
#     --pipeline  default pipelines/kaldi-mfcc-gmm.yaml (MFCC + deltas, speaker CMN)
#     --threads   threads per shard (default: asrpipe's, one per core)
#     --keep      work in DIR instead of a temporary directory
# Needs GNU parallel and /usr/bin/time (GNU time). Prints a markdown table.
set -euo pipefail
cd "$(dirname "$0")/.."

copies=4 pipeline=pipelines/kaldi-mfcc-gmm.yaml threads="" keep=""
while [[ $# -gt 0 ]]; do
  case $1 in
    --copies) copies=$2; shift 2 ;;
    --pipeline) pipeline=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --keep) keep=$2; shift 2 ;;
    *) echo "unknown argument $1 (see the top of $0)" >&2; exit 2 ;;
  esac
done
cargo build --release --quiet
bin=$(pwd)/target/release/asrpipe
work=${keep:-$(mktemp -d)}
[[ -n $keep ]] || trap 'rm -rf "$work"' EXIT
mkdir -p "$work"

# The list: copy c of speaker S is speaker cC-S (sorted, so speakers are contiguous).
for c in $(seq 1 "$copies"); do
  for f in "$(pwd)"/audio/demo/*/*.flac; do
    s=$(basename "$(dirname "$f")") u=$(basename "$f" .flac)
    echo "c$c-${s}_$u $f c$c-$s"
  done
done | LC_ALL=C sort > "$work/rows"
mkdir -p "$work/list"
awk '{print $1, $2}' "$work/rows" > "$work/list/wav.scp"
awk '{print $1, $3}' "$work/rows" > "$work/list/utt2spk"
utts=$(wc -l < "$work/list/wav.scp")
secs=$(for f in audio/demo/*/*.flac; do echo "$f"; done | wc -l)

# Each shard's process runs under GNU time, which appends its max RSS (KiB) to the shard's log.
cat > "$work/asrpipe-timed" <<EOT
#!/usr/bin/env bash
exec /usr/bin/time -f "maxrss_kib %M" "$bin" "\$@"
EOT
chmod +x "$work/asrpipe-timed"
extra=()
[[ -n $threads ]] && extra=(-- --threads "$threads")

"$bin" features --quiet --pipeline "$pipeline" --list "$work/list/wav.scp" \
  -o "$work/one.ark" --scp "$work/one.scp" ${threads:+--threads "$threads"} 2>/dev/null

echo "| shards | wall s | max RSS per shard (MiB) | equal to one process |"
echo "|---|---|---|---|"
for n in 1 2 4; do
  out="$work/out$n"
  start=$(date +%s.%N)
  ASRPIPE="$work/asrpipe-timed" scripts/cluster/features-parallel.sh --pipeline "$pipeline" \
    "$work/list/wav.scp" "$n" "$out" "${extra[@]}" 2>/dev/null
  end=$(date +%s.%N)
  rss=$(for k in $(seq 1 "$n"); do awk '/^maxrss_kib/ {printf "%.0f", $2/1024}' "$out/log/features.$k.log"; echo; done | paste -sd/)
  same=$(python3 - "$work/one.scp" "$out/feats.scp" <<'PY'
import sys
def load(scp):
    out = {}
    for line in open(scp):
        k, loc = line.split()
        ark, off = loc.rsplit(":", 1)
        with open(ark, "rb") as f:
            f.seek(int(off))
            head = f.read(15)
            rows = int.from_bytes(head[6:10], "little"); cols = int.from_bytes(head[11:15], "little")
            out[k] = f.read(4 * rows * cols)
    return out
a, b = load(sys.argv[1]), load(sys.argv[2])
print("yes" if a == b and len(a) > 0 else "NO")
PY
)
  printf '| %d | %.2f | %s | %s |\n' "$n" "$(echo "$end - $start" | bc)" "$rss" "$same"
done
echo
echo "$utts utterances ($copies x the $secs demo files), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
