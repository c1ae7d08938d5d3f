#!/usr/bin/env python3
"""How far a corpus's phone labels lead or lag its audio, without any model.

At boundaries with a sharp energy step (vowel -> voiceless stop or its closure: energy drops;
voiceless fricative -> vowel: it rises) the steepest 5 ms step of the dB energy (5 ms windows,
1 ms hop) within +-40 ms of the label is taken as the acoustic boundary; the median of
(step - label) is printed per speaker group (the voice, for the demo corpus) and pooled.
On TIMIT's hand labels this gives 0 ms; it set make-demo-corpus.sh's LABEL_LAG_MS.

Usage: scripts/demo-corpus/label-lag.py DIR [DIR ...]   (TIMIT layout: speaker dirs of audio + .phn;
       needs sox to decode the audio)
"""
import array
import glob
import math
import os
import statistics
import subprocess
import sys

VOWELS = set("iy ih eh ey ae aa aw ay ah ao oy ow uh uw ux er ax ix axr".split())
# The demo's stops include their closure; TIMIT labels the closure apart.
STOPS = set("p t k pcl tcl kcl".split())
FRICATIVES = set("s sh f th".split())
HOP, WIN, SEARCH = 16, 80, 640  # samples at 16 kHz: 1 ms, 5 ms, 40 ms


def energy_db(x, cum, j):
    a, b = max(0, j - WIN // 2), min(len(x), j + WIN // 2)
    return 10 * math.log10((cum[b] - cum[a]) / max(1, b - a) + 1e-3)


def offsets(root):
    """(group, ms) for every boundary of the two kinds under root."""
    for audio in sorted(glob.glob(os.path.join(root, "*", "*"))):
        base, ext = os.path.splitext(audio)
        if ext.lower() not in (".wav", ".flac", ".sph") or not os.path.exists(base + ".phn"):
            continue
        raw = subprocess.run(["sox", audio, "-t", "raw", "-e", "signed", "-b", "16", "-"],
                             capture_output=True, check=True).stdout
        x = array.array("h")
        x.frombytes(raw)
        cum = [0]
        for v in x:
            cum.append(cum[-1] + v * v)
        with open(base + ".phn") as f:
            segs = [(int(a), p) for a, _, p in (line.split() for line in f if line.strip())]
        speaker = os.path.basename(os.path.dirname(audio))
        group = speaker[4:8] if root.rstrip("/").endswith("demo") else os.path.basename(root.rstrip("/"))
        for (_, prev), (t, cur) in zip(segs, segs[1:]):
            if prev in VOWELS and cur in STOPS:
                sign = -1
            elif prev in FRICATIVES and cur in VOWELS:
                sign = 1
            else:
                continue
            best, at = max((sign * (energy_db(x, cum, j + 40) - energy_db(x, cum, j - 40)), j)
                           for j in range(t - SEARCH, t + SEARCH, HOP))
            if best >= 10:  # a clear step only
                yield group, (at - t) / 16


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for root in sys.argv[1:]:
        groups = {}
        for g, ms in offsets(root):
            groups.setdefault(g, []).append(ms)
        pooled = [ms for v in groups.values() for ms in v]
        for g, v in sorted(groups.items()):
            print(f"{root} {g}: median {statistics.median(v):+.1f} ms over {len(v)} boundaries")
        print(f"{root} pooled: median {statistics.median(pooled):+.1f} ms over {len(pooled)} boundaries")


if __name__ == "__main__":
    main()
