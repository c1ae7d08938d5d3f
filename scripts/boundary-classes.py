#!/usr/bin/env python3
"""Where automatic phone boundaries miss the hand-labelled ones, by speaker group and by the kind of
boundary, read from the `.phn` files `asrpipe align` / `train --flat-start` write.

Pairs boundaries as asrpipe's scorer does: the reference's `q` deleted, the two phone sequences
equal (utterances whose sequences differ are counted and skipped), boundary i the start of phone i
(i >= 1), skipped where the reference has a gap. Error = automatic - hand, in ms (negative: the
automatic boundary is early). For each group: boundaries, % within 20 ms, median signed error;
then the boundary kinds (class of the phone before -> class after) with the most misses (> 20 ms),
with their median signed error: a large median with a narrow spread is a labelling convention the
aligner does not share, not scatter.

Usage: scripts/boundary-classes.py AUTO_DIR REF_DIR [--speakers TSV | --pooled] [--top N]
  (the demo corpus: the written labels are the reference's own; a corpus whose written labels are
  folded differently from its reference, such as TIMIT's closures, pairs few utterances)
  AUTO_DIR, REF_DIR: speaker folders of .phn files (TIMIT layout), 16 kHz sample offsets.
  --speakers: a speakers.tsv with `id` and `voice` columns (the demo corpus's): group by voice
  instead of by speaker. --pooled: one group.
"""
import argparse
import collections
import glob
import os
import statistics

CLASSES = {
    "vowel": "iy ih eh ey ae aa aw ay ah ao oy ow uh uw ux er ax ix axr ax-h",
    "glide": "l r w y el hh hv",
    "nasal": "m n ng em en eng nx",
    "stop": "b d g p t k dx bcl dcl gcl pcl tcl kcl",
    "fricative": "s sh z zh f th v dh ch jh",
    "silence": "h# pau epi sil",
}
CLASS_OF = {p: c for c, ps in CLASSES.items() for p in ps.split()}
RATE_MS = 16  # samples per ms at 16 kHz


def read_phn(path):
    with open(path) as f:
        return [(int(a), int(b), p) for a, b, p in (line.split() for line in f if line.strip())]


def summary(errors):
    within = 100 * sum(abs(e) <= 20 for e in errors) / len(errors)
    return f"{len(errors):5d} boundaries, {within:5.1f}% within 20 ms, median signed {statistics.median(errors):+6.1f} ms"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("auto")
    ap.add_argument("ref")
    ap.add_argument("--speakers")
    ap.add_argument("--pooled", action="store_true")
    ap.add_argument("--top", type=int, default=8)
    a = ap.parse_args()
    group_of = {}
    if a.speakers:
        with open(a.speakers) as f:
            head = f.readline().rstrip("\n").split("\t")
            for line in f:
                row = dict(zip(head, line.rstrip("\n").split("\t")))
                group_of[row["id"]] = row["voice"]
    by_group = collections.defaultdict(list)
    by_kind = collections.defaultdict(list)
    mismatched = 0
    for auto in sorted(glob.glob(os.path.join(a.auto, "*", "*.phn"))):
        spk = os.path.basename(os.path.dirname(auto))
        ref_path = os.path.join(a.ref, spk, os.path.basename(auto))
        if not os.path.exists(ref_path):
            continue
        hyp = read_phn(auto)
        ref = [s for s in read_phn(ref_path) if s[2] != "q"]
        if [p for *_, p in hyp] != [p for *_, p in ref]:
            mismatched += 1
            continue
        group = "all" if a.pooled else group_of.get(spk, spk)
        for i in range(1, len(ref)):
            if ref[i - 1][1] != ref[i][0]:
                continue
            e = (hyp[i][0] - ref[i][0]) / RATE_MS
            by_group[group].append(e)
            if group != "all":
                by_group["all"].append(e)
            kind = f"{CLASS_OF.get(ref[i - 1][2], '?')} -> {CLASS_OF.get(ref[i][2], '?')}"
            by_kind[(group, kind)].append(e)
    if not by_group:
        raise SystemExit(f"no utterance of {a.auto} pairs with one of {a.ref}")
    if mismatched:
        print(f"{mismatched} utterances skipped: their phone sequences differ")
    for g in sorted(by_group, key=lambda g: (g != "all", g)):
        print(f"{g:24s} {summary(by_group[g])}")
    total_misses = sum(abs(e) > 20 for e in by_group["all"])
    print(f"boundary kinds with the most misses (of {total_misses}):")
    ranked = sorted(by_kind.items(), key=lambda kv: -sum(abs(e) > 20 for e in kv[1]))
    for (g, kind), errs in ranked[: a.top]:
        misses = sum(abs(e) > 20 for e in errs)
        print(f"  {g:22s} {kind:20s} {misses:4d} misses; {summary(errs)}")


if __name__ == "__main__":
    main()
