#!/usr/bin/env python3
"""Render the HMM results of scripts/timit-sample-hmm.sh (results.json, alignment.json) as markdown."""
import json
import sys
from pathlib import Path


def load(path):
    with open(path) as f:
        return json.load(f)


def pct(x):
    return f"{100 * x:.1f} %"


def main(out):
    out = Path(out)
    rows = [
        ("monophone GMM (144 states)", "gmm-mono"),
        ("tied-state GMM, hand times", "gmm-tied"),
        ("the same, speed perturbation 0.9/1.0/1.1", "gmm-tied-sp"),
        ("tied-state GMM, flat start (no times)", "flat-eval"),
    ]
    print("| model | tied states | Gaussians | PER, default decoding | PER, best of grid on test | setting |")
    print("|---|---:|---:|---:|---:|---|")
    for name, d in rows:
        r = load(out / d / "results.json")
        t = r.get("tuned")
        print(
            f"| {name} | {r['tied_states']} | {r['spec']} | {pct(r['per'])} | "
            + (f"{pct(t['per'])} | acoustic scale {t['acoustic_scale']:.3f}, penalty {t['insertion_penalty']:g} |" if t else "- | - |")
        )
    print()
    print("| aligner | boundaries | within 10 ms | within 20 ms | within 40 ms | mean error | median error |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, d in [("tied-state GMM, hand times", "align-hand"), ("flat start (never saw a time)", "align-flat")]:
        a = load(out / d / "alignment.json")
        b = a["boundaries"]
        print(
            f"| {name} | {b['boundaries']} | {b['within_10ms']:.1f} % | {b['within_20ms']:.1f} % | "
            f"{b['within_40ms']:.1f} % | {b['mean_abs_ms']:.1f} ms | {b['median_abs_ms']:.1f} ms |"
        )


if __name__ == "__main__":
    main(sys.argv[1])
