#!/usr/bin/env python3
"""Data for, and the openTSNE side of, the t-SNE benchmark (scripts/bench-peers.sh).

  gen DIR   writes DIR/tsne_x.npy: --points x --dim float32 points, a seeded mixture of 20
            Gaussian clusters of different sizes and spreads (the shape of hidden-layer
            activations after PCA to 50 dimensions).
  time DIR  times openTSNE on DIR/tsne_x.npy with asrpipe's settings (examples/bench_tsne.rs):
            perplexity 30, exact neighbours, Barnes-Hut with theta 0.5, 250 iterations of early
            exaggeration 12 with momentum 0.5, then 750 with momentum 0.8, learning rate
            max(n / 48, 50), no step clipping, PCA start; best and median of --repeats, with
            n_jobs from --jobs. If asrpipe's DIR/rust_tsne_y.npy exists, prints how many of each
            point's 10 nearest neighbours both maps keep (a check that both did the same job).

Prints `name<TAB>best_s<TAB>median_s` lines.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np


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


def neighbours_kept(x, y, k=10):
    """Mean fraction of each point's k nearest neighbours in x that are among its k nearest in y."""
    from sklearn.neighbors import NearestNeighbors

    def knn(a):
        return NearestNeighbors(n_neighbors=k + 1).fit(a).kneighbors(a, return_distance=False)[:, 1:]

    hx, hy = knn(x), knn(y)
    return np.mean([len(set(a) & set(b)) / k for a, b in zip(hx, hy)])


def time_opentsne(d, repeats, jobs):
    import openTSNE

    x = np.load(d / "tsne_x.npy")
    n = x.shape[0]
    tsne = openTSNE.TSNE(
        perplexity=30, neighbors="exact", negative_gradient_method="bh", theta=0.5,
        early_exaggeration_iter=250, early_exaggeration=12, n_iter=750,
        initial_momentum=0.5, final_momentum=0.8, learning_rate=max(n / 48, 50),
        max_step_norm=None, initialization="pca", random_state=0, n_jobs=jobs,
    )
    xd = x.astype(np.float64)  # openTSNE computes in float64 either way
    times, y = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        y = tsne.fit(xd)
        times.append(time.perf_counter() - t)
    times.sort()
    print(f"opentsne_{jobs}_jobs_tsne_s\t{times[0]:.2f}\t{times[len(times) // 2]:.2f}\t"
          f"(openTSNE {openTSNE.__version__}, points {n}, dim {x.shape[1]}, n_jobs {jobs})")
    print(f"opentsne_{jobs}_jobs_neighbours_kept\t{neighbours_kept(x, np.asarray(y)):.3f}")
    rust = d / "rust_tsne_y.npy"
    if rust.exists():
        print(f"asrpipe_neighbours_kept\t{neighbours_kept(x, np.load(rust)):.3f}")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("command", choices=["gen", "time"])
    p.add_argument("dir", type=Path)
    p.add_argument("--points", type=int, default=2000)
    p.add_argument("--dim", type=int, default=50)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--jobs", type=int, default=2)
    a = p.parse_args()
    if a.command == "gen":
        gen(a.dir, a.points, a.dim, a.seed)
    else:
        time_opentsne(a.dir, a.repeats, a.jobs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
