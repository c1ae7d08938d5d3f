#!/usr/bin/env bash
# Reading a Kaldi data directory of 10,000 utterances: `asrpipe corpus info` (open the directory,
# check every line, read every audio header, count frames per split), best of 3 runs, for two
# layouts generated here from short synthetic files:
#   files     10,000 recordings of 0.2 s, one utterance each (wav.scp, utt2spk, text, phones.ctm)
#   segments  100 recordings of 20 s cut into 100 segments each (plus segments)
#
#   scripts/bench-kaldi-dir.sh [--utts N] [--keep DIR]
set -euo pipefail
cd "$(dirname "$0")/.."

utts=10000 keep=""
while [[ $# -gt 0 ]]; do
  case $1 in
    --utts) utts=$2; shift 2 ;;
    --keep) keep=$2; shift 2 ;;
    *) echo "unknown argument $1 (see the top of $0)" >&2; exit 2 ;;
  esac
done
cargo build --release --quiet
bin=$(pwd)/target/release/asrpipe
work=${keep:-$(mktemp -d)}
[[ -n $keep ]] || trap 'rm -rf "$work"' EXIT

python3 - "$work" "$utts" <<'PY'
import math, os, struct, sys, wave
work, n = sys.argv[1], int(sys.argv[2])
def tone(path, secs, f0):
    frames = int(16000 * secs)
    with wave.open(path, "wb") as w:
        w.setnchannels(1); w.setsampwidth(2); w.setframerate(16000)
        w.writeframes(b"".join(struct.pack("<h", int(3000 * math.sin(2 * math.pi * f0 * i / 16000))) for i in range(frames)))
# files: one 0.2 s recording per utterance, 100 speakers.
d = os.path.join(work, "files"); os.makedirs(os.path.join(d, "wav"), exist_ok=True)
base = os.path.join(d, "wav", "base.wav"); tone(base, 0.2, 440)
data = open(base, "rb").read()
rows = sorted((f"spk{i % 100:03d}-utt{i:05d}", f"spk{i % 100:03d}") for i in range(n))
with open(os.path.join(d, "wav.scp"), "w") as scp, open(os.path.join(d, "utt2spk"), "w") as u2s, \
     open(os.path.join(d, "text"), "w") as text, open(os.path.join(d, "phones.ctm"), "w") as ctm:
    for u, s in rows:
        p = os.path.join(d, "wav", u + ".wav")
        with open(p, "wb") as f: f.write(data)
        scp.write(f"{u} {p}\n"); u2s.write(f"{u} {s}\n"); text.write(f"{u} HELLO WORLD\n")
        ctm.write(f"{u} 1 0.00 0.05 sil\n{u} 1 0.05 0.10 AH0_B\n{u} 1 0.15 0.05 sil\n")
# segments: 100 recordings of 20 s, 100 segments of 0.2 s each.
d = os.path.join(work, "segments"); os.makedirs(os.path.join(d, "wav"), exist_ok=True)
recs = max(1, n // 100)
with open(os.path.join(d, "wav.scp"), "w") as scp, open(os.path.join(d, "segments"), "w") as seg, \
     open(os.path.join(d, "utt2spk"), "w") as u2s, open(os.path.join(d, "phones.ctm"), "w") as ctm:
    for r in range(recs):
        p = os.path.join(d, "wav", f"rec{r:03d}.wav"); tone(p, 20.0, 300 + r)
        scp.write(f"rec{r:03d} {p}\n")
        for k in range(100):
            u = f"spk{r:03d}-rec{r:03d}-{k:03d}"
            seg.write(f"{u} rec{r:03d} {k * 0.2:.2f} {(k + 1) * 0.2:.2f}\n")
            u2s.write(f"{u} spk{r:03d}\n")
            ctm.write(f"{u} 1 0.00 0.20 sil\n")
PY

echo "| layout | utterances | best of 3 (s) |"
echo "|---|---|---|"
for layout in files segments; do
  best=""
  for _ in 1 2 3; do
    start=$(date +%s.%N)
    "$bin" corpus info --json "$work/$layout" > "$work/info.json"
    t=$(echo "$(date +%s.%N) - $start" | bc)
    best=$(awk -v a="${best:-1e9}" -v b="$t" 'BEGIN { print (b < a) ? b : a }')
  done
  n=$(python3 -c "import json,sys; print(json.load(open('$work/info.json'))['utterances'])")
  printf '| %s | %s | %.2f |\n' "$layout" "$n" "$best"
done
echo
echo "$(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
