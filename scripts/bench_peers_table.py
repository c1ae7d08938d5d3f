#!/usr/bin/env python3
"""Turn the raw outputs that scripts/bench-peers.sh collects in DIR into one markdown table.

DIR holds what each side printed:
  features_asrpipe.tsv  examples/bench_features (1 thread)
  features_peers.json   scripts/bench_features_peers.py --json
  gmm.txt               examples/bench_gmm, then scripts/bench_gmm_sklearn.py time
  dnn.txt               benches/dnn.rs --plain N gemm, then scripts/bench_dnn_torch.py --bench
  tsne.txt              examples/bench_tsne, then scripts/bench_tsne_opentsne.py time (2 and 1 jobs)
  machine.txt           key<TAB>value lines (cpu, cores, rustc, load averages)
Every time is the best of the repeats each side ran; the speed-up is how many times faster
asrpipe is than the peer on that row (above 1: asrpipe faster).

Usage: bench_peers_table.py DIR [--markdown FILE]   (standard library only)
"""

import argparse
import json
import re
import sys
from pathlib import Path

PEER_NAMES = {"knf": "kaldi-native-fbank", "librosa": "librosa", "psf": "python_speech_features"}


def fail(path, what):
    sys.exit(f"{path}: {what} not found (did that part of the benchmark fail?)")


def tab_fields(path, key):
    """Fields after `key` on the line of `path` that starts with `key<TAB>`."""
    for line in path.read_text().splitlines():
        parts = line.split("\t")
        if parts[0] == key:
            return parts[1:]
    fail(path, key)


def features(d):
    path = d / "features_asrpipe.tsv"
    line = next((l for l in path.read_text().splitlines() if l.startswith("asrpipe (1 thread)")), None)
    if line is None:
        fail(path, "asrpipe (1 thread)")
    _, _secs, audio, xrt = line.split("\t")
    ours = float(xrt)
    rows = []
    for r in json.loads((d / "features_peers.json").read_text()):
        peer = f"{PEER_NAMES[r['peer']]} {r['version']}"
        rows.append(("MFCC, x real time (1 thread)", f"{ours:.0f}", peer, f"{r['x_real_time']:.0f}",
                     ours / r["x_real_time"]))
    return rows, float(audio)


def gmm(d):
    path = d / "gmm.txt"
    ours = float(tab_fields(path, "asrpipe_em_iteration_ms")[0])
    rows = []
    text = path.read_text()
    version = re.search(r"scikit-learn ([\w.]+)", text)
    for dtype in ("float32", "float64"):
        theirs = float(tab_fields(path, f"sklearn_{dtype}_em_iteration_ms")[0])
        rows.append(("GMM EM iteration, ms (2 threads)", f"{ours:.1f}",
                     f"scikit-learn {version.group(1) if version else '?'} ({dtype})", f"{theirs:.1f}",
                     theirs / ours))
    shape = re.search(r"frames (\d+), dim (\d+), gaussians (\d+)", text)
    return rows, shape.groups() if shape else ("?", "?", "?")


def dnn(d):
    path = d / "dnn.txt"
    text = path.read_text()
    num = r"([\d.]+) ms/step \(median of \d+, min ([\d.]+)\),\s+([\d.]+) GFLOP/s"
    a = re.search(r"asrpipe \(gemm\s*\):\s+" + num, text)
    t = re.search(r"pytorch (\S+) \((\d+) threads\):\s+" + num, text)
    if not a:
        fail(path, "asrpipe gemm step line")
    if not t:
        fail(path, "pytorch step line")

    def best(median_ms, min_ms, gflops):
        flops = float(gflops) * float(median_ms)  # GFLOP/s x ms = MFLOP per step
        return float(min_ms), flops / float(min_ms)

    ours_ms, ours_gf = best(*a.groups())
    theirs_ms, theirs_gf = best(*t.groups()[2:])
    return [("DNN training step, ms (GFLOP/s), 2 threads", f"{ours_ms:.1f} ({ours_gf:.1f})",
             f"PyTorch {t.group(1)} CPU", f"{theirs_ms:.1f} ({theirs_gf:.1f})", theirs_ms / ours_ms)]


def tsne(d):
    path = d / "tsne.txt"
    ours = float(tab_fields(path, "asrpipe_tsne_s")[0])
    text = path.read_text()
    version = re.search(r"openTSNE ([\w.]+)", text)
    version = version.group(1) if version else "?"
    shape = re.search(r"points (\d+), dim (\d+)", text)
    rows = []
    for jobs in (2, 1):
        key = f"opentsne_{jobs}_jobs_tsne_s"
        if key not in text:
            continue
        theirs = float(tab_fields(path, key)[0])
        rows.append(("t-SNE, 1000 iterations, s", f"{ours:.2f}",
                     f"openTSNE {version} (Barnes-Hut, n_jobs={jobs})", f"{theirs:.2f}", theirs / ours))
    kept = {k: tab_fields(path, k)[0] for k in ("asrpipe_neighbours_kept", "opentsne_2_jobs_neighbours_kept")
            if k in text}
    return rows, shape.groups() if shape else ("?", "?"), kept


def machine(d):
    info = {}
    path = d / "machine.txt"
    if path.exists():
        for line in path.read_text().splitlines():
            if "\t" in line:
                k, v = line.split("\t", 1)
                info.setdefault(k, []).append(v)
    return info


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("dir", type=Path)
    p.add_argument("--markdown", type=Path, help="also write the table (and its context) here")
    a = p.parse_args()
    d = a.dir

    feat_rows, audio = features(d)
    gmm_rows, (frames, dim, gaussians) = gmm(d)
    tsne_rows, (points, tdim), kept = tsne(d)
    rows = feat_rows + gmm_rows + dnn(d) + tsne_rows
    info = machine(d)

    lines = ["| what | asrpipe | peer | peer's figure | asrpipe speed-up |",
             "| --- | ---: | --- | ---: | ---: |"]
    lines += [f"| {w} | {ours} | {peer} | {theirs} | {ratio:.2f}x |" for w, ours, peer, theirs, ratio in rows]
    notes = [
        f"Features: the TIMIT sample ({audio:.0f} s of audio) held in memory, 13 MFCCs + energy, "
        "23 bins, lifter 22, 25/10 ms frames; higher is better.",
        f"GMM: one EM iteration, {frames} frames x {dim} dims, {gaussians} diagonal Gaussians, "
        "same start model.",
        "DNN: 8x1000 ReLU, 440 inputs, 2000 outputs, batch 256, SGD momentum 0.9.",
        f"t-SNE: {points} points x {tdim} dims, perplexity 30, theta 0.5, exact neighbours, "
        "PCA start, learning rate max(n / 12, 200); asrpipe on 2 threads (scripts/bench-tsne.sh "
        "adds quality and more data sets).",
    ]
    if kept:
        notes.append("t-SNE check: share of each point's 10 nearest neighbours kept in the map: "
                     + ", ".join(f"{k.split('_')[0]} {v}" for k, v in kept.items()) + ".")
    notes.append("Speed-up = peer's time / asrpipe's time (features: asrpipe's x real time / peer's); "
                 "every figure is the best of the repeats.")
    context = []
    for key in ("cpu", "cores", "rustc", "python", "load"):
        for v in info.get(key, []):
            context.append(f"- {key}: {v}")
    text = "\n".join(lines) + "\n\n" + "\n".join(f"- {n}" for n in notes) + "\n"
    if context:
        text += "\n" + "\n".join(context) + "\n"
    print(text, end="")
    if a.markdown:
        tmp = a.markdown.with_name(a.markdown.name + ".tmp")
        tmp.write_text(text)
        tmp.replace(a.markdown)


if __name__ == "__main__":
    main()
