#!/usr/bin/env python3
"""Data for, the openTSNE side of, and the quality check of the t-SNE benchmark
(scripts/bench-tsne.sh, scripts/bench-peers.sh).

  gen DIR         writes DIR/tsne_x.npy: --points x --dim float32 points, a seeded mixture of 20
                  Gaussian clusters of different sizes and spreads (the shape of hidden-layer
                  activations after PCA to 50 dimensions).
  frames NPZ DIR  writes DIR/tsne_x.npy from real speech: the per-utterance matrices of NPZ (what
                  `asrpipe features ... -o NPZ` writes), each normalised to zero mean and unit
                  variance per dimension, spliced with --context frames on each side (what a
                  DNN's first layer sees), then --points frames drawn with --seed.
  time DIR        times openTSNE on DIR/tsne_x.npy with asrpipe's settings (examples/bench_tsne.rs):
                  PCA to 50 dimensions first when there are more (as asrpipe does), perplexity 30,
                  exact neighbours, Barnes-Hut with theta 0.5, 250 iterations of early
                  exaggeration 12 with momentum 0.5, then 750 with momentum 0.8, learning rate
                  max(n / 12, 200), no step clipping, PCA start (--start random: Gaussian noise
                  of standard deviation 1e-4 drawn from --seed); best and median of --repeats,
                  with n_jobs from --jobs. With --defaults, openTSNE's own defaults instead
                  (learning rate n / 12 then n, 250 + 500 iterations, steps clipped at 5).
                  Then the quality of its map, and of asrpipe's DIR/rust_tsne_y.npy if present.
  table DIR...    the markdown table of scripts/bench-tsne.sh from each DIR/results.txt (what
                  examples/bench_tsne and `time` printed there), with --machine's load lines.

Quality, the same yardsticks for both maps:
  neighbours_kept  mean over points of |10-NN in the input ∩ 10-NN in the map| / 10 (input = the
                   points as given, before any PCA); higher is better.
  kl               KL(P || Q), exact: P the perplexity-30 affinities both optimise (90 exact
                   neighbours after PCA to 50, symmetrised, summing to 1), Q the map's Student-t
                   similarities over all pairs; lower is better.

Prints `name<TAB>value...` lines.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

PERPLEXITY = 30
PCA_DIMS = 50


def gen(d, points, dim, seed):
    rng = np.random.default_rng(seed)
    k = 20
    centres = rng.normal(0.0, 4.0, size=(k, dim))
    spreads = rng.uniform(0.5, 2.0, size=k)
    sizes = rng.dirichlet(np.full(k, 2.0))
    which = rng.choice(k, size=points, p=sizes)
    x = centres[which] + spreads[which, None] * rng.standard_normal((points, dim))
    d.mkdir(parents=True, exist_ok=True)
    np.save(d / "tsne_x.npy", x.astype(np.float32))


def frames(npz, d, points, context, seed):
    rows = []
    with np.load(npz) as feats:
        for name in sorted(feats.files):
            f = feats[name].astype(np.float64)
            f = (f - f.mean(0)) / (f.std(0) + 1e-8)
            padded = np.concatenate([np.repeat(f[:1], context, 0), f, np.repeat(f[-1:], context, 0)])
            rows.append(np.hstack([padded[i:i + len(f)] for i in range(2 * context + 1)]))
    x = np.vstack(rows)
    pick = np.sort(np.random.default_rng(seed).choice(len(x), size=points, replace=False))
    d.mkdir(parents=True, exist_ok=True)
    np.save(d / "tsne_x.npy", x[pick].astype(np.float32))
    print(f"frames\t{len(x)} frames x {x.shape[1]} dims from {len(rows)} utterances, {points} drawn")


def reduced(x):
    """PCA to PCA_DIMS dimensions when there are more, as asrpipe does before t-SNE."""
    if x.shape[1] <= PCA_DIMS:
        return x
    c = x - x.mean(0)
    _, _, vt = np.linalg.svd(c, full_matrices=False)
    return c @ vt[:PCA_DIMS].T


def knn(a, k):
    from sklearn.neighbors import NearestNeighbors

    return NearestNeighbors(n_neighbors=k + 1).fit(a).kneighbors(a)


def neighbours_kept(x, y, k=10):
    """Mean fraction of each point's k nearest neighbours in x that are among its k nearest in y."""
    hx, hy = knn(x, k)[1][:, 1:], knn(y, k)[1][:, 1:]
    return np.mean([len(set(a) & set(b)) / k for a, b in zip(hx, hy)])


def affinities(xr):
    """The joint P of t-SNE at PERPLEXITY from exact neighbours (openTSNE's own calibration)."""
    import scipy.sparse as sp
    from openTSNE import _tsne

    dist, idx = knn(xr, 3 * PERPLEXITY)
    dist, idx = dist[:, 1:], idx[:, 1:]
    n, k = idx.shape
    cond = np.asarray(_tsne.compute_gaussian_perplexity(np.ascontiguousarray(dist, dtype=float),
                                                        np.array([float(PERPLEXITY)])))
    p = sp.csr_matrix((cond.ravel(), idx.ravel(), range(0, n * k + 1, k)), shape=(n, n))
    p = (p + p.T) / 2
    return (p / p.sum()).tocoo()


def kl_divergence(p, y, block=1000):
    """Exact KL(P || Q) for the map y, Q over all pairs (Z summed in blocks of rows)."""
    y = np.asarray(y, dtype=np.float64)
    sq = (y * y).sum(1)
    z = 0.0
    for s in range(0, len(y), block):
        d2 = np.maximum(sq[s:s + block, None] + sq[None, :] - 2 * y[s:s + block] @ y.T, 0)
        z += (1 / (1 + d2)).sum() - min(block, len(y) - s)  # minus the diagonal's q = 1
    d2 = ((y[p.row] - y[p.col]) ** 2).sum(1)
    q = 1 / (1 + d2) / z
    return float(np.sum(p.data * np.log(p.data / q)))


def quality(name, x, p, y):
    print(f"{name}_neighbours_kept\t{neighbours_kept(x, y):.3f}")
    print(f"{name}_kl\t{kl_divergence(p, y):.4f}")


def time_opentsne(d, repeats, jobs, defaults, start, seed):
    import openTSNE

    x = np.load(d / "tsne_x.npy").astype(np.float64)  # openTSNE computes in float64 either way
    xr = reduced(x)
    n = x.shape[0]
    if defaults:
        name = f"opentsne_defaults_{jobs}_jobs"
        tsne = openTSNE.TSNE(perplexity=PERPLEXITY, neighbors="exact", negative_gradient_method="bh",
                             initialization=start, random_state=seed, n_jobs=jobs)
    else:
        name = f"opentsne_{jobs}_jobs"
        tsne = openTSNE.TSNE(
            perplexity=PERPLEXITY, neighbors="exact", negative_gradient_method="bh", theta=0.5,
            early_exaggeration_iter=250, early_exaggeration=12, n_iter=750,
            initial_momentum=0.5, final_momentum=0.8, learning_rate=max(n / 12, 200),
            max_step_norm=None, initialization=start, random_state=seed, n_jobs=jobs,
        )
    times, y = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        y = tsne.fit(xr)
        times.append(time.perf_counter() - t)
    times.sort()
    print(f"{name}_tsne_s\t{times[0]:.2f}\t{times[len(times) // 2]:.2f}\t"
          f"(openTSNE {openTSNE.__version__}, points {n}, dim {x.shape[1]}, n_jobs {jobs})")
    p = affinities(xr)
    quality(name, x, p, np.asarray(y))
    rust = d / "rust_tsne_y.npy"
    if rust.exists():
        quality("asrpipe", x, p, np.load(rust))


IMPLEMENTATIONS = [
    ("asrpipe_2_threads", "asrpipe", "asrpipe, 2 threads"),
    ("asrpipe_1_threads", "asrpipe", "asrpipe, 1 thread"),
    ("opentsne_2_jobs", "opentsne_2_jobs", "openTSNE {v}, same settings, n_jobs 2"),
    ("opentsne_1_jobs", "opentsne_1_jobs", "openTSNE {v}, same settings, n_jobs 1"),
    ("opentsne_defaults_2_jobs", "opentsne_defaults_2_jobs", "openTSNE {v}, its defaults, n_jobs 2"),
]


def table(dirs, machine, markdown):
    import re

    lines = ["| data | implementation | time, s | 10-NN kept | KL(P‖Q) |",
             "| --- | --- | ---: | ---: | ---: |"]
    notes = []
    for d in dirs:
        fields = {}
        text = (d / "results.txt").read_text()
        for line in text.splitlines():
            parts = line.split("\t")
            fields.setdefault(parts[0], parts[1:])
        shape = re.search(r"points (\d+), dim (\d+)", text)
        version = re.search(r"openTSNE ([\w.]+)", text)
        label = f"{d.name} ({shape.group(1)} x {shape.group(2)})" if shape else d.name
        for key, quality, name in IMPLEMENTATIONS:
            if f"{key}_tsne_s" not in fields:
                continue
            best = fields[f"{key}_tsne_s"][0]
            kept = fields.get(f"{quality}_neighbours_kept", ["?"])[0]
            kl = fields.get(f"{quality}_kl", ["?"])[0]
            name = name.format(v=version.group(1) if version else "?")
            lines.append(f"| {label} | {name} | {best} | {kept} | {kl} |")
        same = fields.get("asrpipe_threads_identical", ["?"])[0]
        notes.append(f"{d.name}: asrpipe's maps on 1 and 2 threads bit-identical: {same}")
    text = "\n".join(lines) + "\n\n" + "\n".join(f"- {n}" for n in notes) + "\n"
    if machine and machine.exists():
        text += "".join(f"- {line.replace(chr(9), ': ', 1)}\n" for line in machine.read_text().splitlines())
    print(text, end="")
    if markdown:
        markdown.write_text(text)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("command", choices=["gen", "frames", "time", "table"])
    p.add_argument("paths", type=Path, nargs="+", help="DIR (gen, time), NPZ DIR (frames), DIR... (table)")
    p.add_argument("--points", type=int, default=2000)
    p.add_argument("--dim", type=int, default=50)
    p.add_argument("--context", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--defaults", action="store_true", help="openTSNE's own defaults (time)")
    p.add_argument("--start", choices=["pca", "random"], default="pca", help="start layout (time)")
    p.add_argument("--machine", type=Path, help="key<TAB>value lines to add under the table (table)")
    p.add_argument("--markdown", type=Path, help="also write the table here (table)")
    a = p.parse_args()
    want = {"frames": 2, "table": len(a.paths)}.get(a.command, 1)
    if len(a.paths) != want:
        p.error(f"{a.command} takes {want} path(s)")
    if a.command == "gen":
        gen(a.paths[0], a.points, a.dim, a.seed)
    elif a.command == "frames":
        frames(a.paths[0], a.paths[1], a.points, a.context, a.seed)
    elif a.command == "time":
        time_opentsne(a.paths[0], a.repeats, a.jobs, a.defaults, a.start, a.seed)
    else:
        table(a.paths, a.machine, a.markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
