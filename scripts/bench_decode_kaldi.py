#!/usr/bin/env python3
"""Kaldi's FasterDecoder (the `kaldi-decoder` package on PyPI, Kaldi's C++ decoder with Python
bindings) on exactly the search `examples/bench_decode --export DIR` ran: the same graph (OpenFst
text), the same acoustically scaled scores, the same beam and max_active. Prints its speed on one
thread and how often its best phone sequence and score equal asrpipe's.

Usage: bench_decode_kaldi.py DIR
"""

import glob
import os
import sys
import time

import kaldi_decoder
import kaldifst
import numpy as np


def decode_all(decoder, scores):
    out = []
    for s in scores:
        decoder.decode(kaldi_decoder.DecodableCtc(s))
        ok, path = decoder.get_best_path()
        ok2, _, osyms, weight = kaldifst.get_linear_symbol_sequence(path)
        if not (ok and ok2 and decoder.reached_final()):
            out.append((None, None))
            continue
        out.append(([o - 1 for o in osyms if o != 0], -(weight.value1 + weight.value2)))
    return out


def main(root):
    print("tied\tkaldi_decode_xRT\t(wall)\tsame_phones%\tmax_score_diff")
    dirs = sorted(glob.glob(os.path.join(root, "tied-*")), key=lambda d: int(d.rsplit("-", 1)[1]))
    for d in dirs:
        meta = dict(line.split() for line in open(os.path.join(d, "meta.txt")))
        with open(os.path.join(d, "graph.fst.txt")) as f:
            fst = kaldifst.compile(f.read(), fst_type="vector", arc_type="standard")
        opts = kaldi_decoder.FasterDecoderOptions(
            beam=float(meta["beam"]), max_active=int(meta["max_active"]), min_active=0
        )
        decoder = kaldi_decoder.FasterDecoder(fst, opts)
        scores = [
            np.ascontiguousarray(np.load(p), dtype=np.float32)
            for p in sorted(glob.glob(os.path.join(d, "scores-*.npy")))
        ]
        theirs = []
        for line in open(os.path.join(d, "asrpipe-hyp.txt")):
            score, *ids = line.split()
            theirs.append(([int(i) for i in ids], float(score)))
        decode_all(decoder, scores[:1])
        cpu0, wall0, runs = time.process_time(), time.perf_counter(), 0
        while time.process_time() - cpu0 < 1.0 or runs == 0:
            ours = decode_all(decoder, scores)
            runs += 1
        cpu = (time.process_time() - cpu0) / runs
        wall = (time.perf_counter() - wall0) / runs
        audio_s = int(meta["frames"]) / 100.0
        same = sum(a[0] == b[0] for a, b in zip(ours, theirs))
        diff = max(
            (abs(a[1] - b[1]) for a, b in zip(ours, theirs) if a[1] is not None),
            default=float("nan"),
        )
        print(
            f"{os.path.basename(d).split('-')[1]}\t{audio_s / cpu:.0f}\t{audio_s / wall:.0f}\t"
            f"{100.0 * same / len(theirs):.1f}\t{diff:.4f}"
        )


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
