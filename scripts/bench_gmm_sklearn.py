#!/usr/bin/env python3
"""Data for, and the scikit-learn side of, the GMM EM-iteration benchmark (scripts/bench-gmm.sh).

  gen DIR   writes DIR/x.npy (frames x dim, float32: a seeded mixture of 64 Gaussians with
            MFCC-like scales) and the initial model DIR/means0.npy (random frames),
            DIR/vars0.npy (global variance), DIR/weights0.npy (uniform)
  time DIR  times one EM iteration (E-step + M-step) of
            GaussianMixture(covariance_type='diag', n_components=k, reg_covar=0) from that
            initial model, best and median of --repeats, in float32 and float64; if asrpipe's
            re-estimated DIR/rust_*.npy exist, prints the largest differences to scikit-learn's.

Prints `name<TAB>best_ms<TAB>median_ms` lines.
"""

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np


def gen(d, frames, dim, components, seed):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0.0, 3.0, size=(64, dim))
    centres[:, 0] += 60.0  # c0 of raw MFCCs sits far from zero
    sds = rng.uniform(0.5, 2.0, size=(64, dim))
    which = rng.integers(0, 64, size=frames)
    x = (centres[which] + sds[which] * rng.standard_normal((frames, dim))).astype(np.float32)
    means0 = x[rng.choice(frames, size=components, replace=False)].copy()
    vars0 = np.tile(x.var(axis=0, dtype=np.float64), (components, 1)).astype(np.float32)
    weights0 = np.full(components, 1.0 / components, dtype=np.float32)
    d.mkdir(parents=True, exist_ok=True)
    for name, a in [("x", x), ("means0", means0), ("vars0", vars0), ("weights0", weights0)]:
        np.save(d / f"{name}.npy", a)


def em_iteration(gm, x):
    _, log_resp = gm._e_step(x)
    gm._m_step(x, log_resp)


def time_sklearn(d, repeats):
    import sklearn
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import GaussianMixture

    x = np.load(d / "x.npy")
    m0, v0, w0 = (np.load(d / f"{n}0.npy").astype(np.float64) for n in ("means", "vars", "weights"))
    k = m0.shape[0]
    result = None
    for dtype in (np.float32, np.float64):
        xd = x.astype(dtype)
        gm = GaussianMixture(n_components=k, covariance_type="diag", max_iter=1, reg_covar=0.0,
                             init_params="random_from_data", weights_init=w0, means_init=m0,
                             precisions_init=1.0 / v0, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            gm.fit(xd)  # sets up the fitted state; the timed iterations below restart from init

        def reset():
            gm.weights_, gm.means_, gm.covariances_ = w0.copy(), m0.copy(), v0.copy()
            gm.precisions_cholesky_ = 1.0 / np.sqrt(v0)

        times = []
        for _ in range(repeats + 1):
            reset()
            t = time.perf_counter()
            em_iteration(gm, xd)
            times.append((time.perf_counter() - t) * 1e3)
        times = sorted(times[1:])
        name = f"sklearn_{np.dtype(dtype).name}_em_iteration_ms"
        print(f"{name}\t{times[0]:.1f}\t{times[len(times) // 2]:.1f}\t(scikit-learn {sklearn.__version__},"
              f" numpy {np.__version__}, frames {x.shape[0]}, dim {x.shape[1]}, gaussians {k})")
        if dtype == np.float64:
            result = (gm.means_, gm.covariances_, gm.weights_)
    rust = d / "rust_means1.npy"
    if rust.exists() and result is not None:
        rm, rv, rw = (np.load(d / f"rust_{n}1.npy").astype(np.float64) for n in ("means", "vars", "weights"))
        sm, sv, sw = result
        sd = np.sqrt(sv)
        print(f"max |mean diff| / sd\t{np.max(np.abs(rm - sm) / sd):.2e}")
        print(f"max |var diff| / var\t{np.max(np.abs(rv - sv) / sv):.2e}")
        print(f"max |weight diff|\t{np.max(np.abs(rw - sw)):.2e}")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("command", choices=["gen", "time"])
    p.add_argument("dir", type=Path)
    p.add_argument("--frames", type=int, default=50000)
    p.add_argument("--dim", type=int, default=39)
    p.add_argument("--components", type=int, default=256)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--repeats", type=int, default=5)
    a = p.parse_args()
    if a.command == "gen":
        gen(a.dir, a.frames, a.dim, a.components, a.seed)
    else:
        time_sklearn(a.dir, a.repeats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
