"""asrpipe's Python API against the Python feature tools: every TIMIT-sample utterance as a numpy
array in memory, one call per utterance (binding overhead included), Kaldi fbank (23 bins) and
MFCC (13), dither off. Prints rows of one markdown table: x real time (audio seconds / wall
seconds, best of --runs) and the largest |difference| from asrpipe's features.

--mode one: one thread: Pipeline.compute, OnlineFeatures, kaldi-native-fbank (online API),
  torchaudio.compliance.kaldi (CPU torch), and, for MFCC, librosa and python_speech_features
  with the recipes of scripts/bench_features_peers.py (their own mel scales and scaling, so
  their features differ from Kaldi's: no difference is shown).
--mode many: Pipeline.compute_many over the whole sample, on the threads RAYON_NUM_THREADS
  allows (scripts/bench-python.sh runs it with 1 and 2).
Run by scripts/bench-python.sh."""

import argparse
import glob
import os
import time

import numpy as np

import asrpipe

ap = argparse.ArgumentParser()
ap.add_argument("--timit", required=True)
ap.add_argument("--runs", type=int, default=3)
ap.add_argument("--mode", choices=["one", "many"], required=True)
a = ap.parse_args()

paths = sorted(glob.glob(os.path.join(a.timit, "*", "*.wav")))
xs = [asrpipe.read_audio(p)[0] for p in paths]
seconds = sum(len(x) for x in xs) / 16000.0
ours = {"fbank": asrpipe.Pipeline.kaldi_fbank(), "mfcc": asrpipe.Pipeline.kaldi_mfcc()}
ref = {k: [p.compute(x, 16000) for x in xs] for k, p in ours.items()}


def best(fn):
    t = []
    for _ in range(a.runs):
        t0 = time.perf_counter()
        out = fn()
        t.append(time.perf_counter() - t0)
    return seconds / min(t), out


def diff(kind, outs):
    return max(float(np.abs(o - r).max()) for o, r in zip(outs, ref[kind]))


rows = []
for kind, p in ours.items():
    if a.mode == "many":
        rt, out = best(lambda: p.compute_many(xs, 16000))
        threads = os.environ.get("RAYON_NUM_THREADS", str(os.cpu_count()))
        rows.append((kind, f"asrpipe compute_many ({threads} thread{'s' if threads != '1' else ''})", rt, diff(kind, out)))
        continue
    rt, out = best(lambda: [p.compute(x, 16000) for x in xs])
    rows.append((kind, "asrpipe Pipeline.compute", rt, diff(kind, out)))

    def online():
        out = []
        for x in xs:
            o = asrpipe.OnlineFeatures(p)
            o.accept_waveform(16000, x)
            o.input_finished()
            out.append(o.get_frames(0, o.num_frames_ready))
        return out

    rt, out = best(online)
    rows.append((kind, "asrpipe OnlineFeatures", rt, diff(kind, out)))
    try:
        import kaldi_native_fbank as knf

        if kind == "fbank":
            opts, cls = knf.FbankOptions(), knf.OnlineFbank
            opts.mel_opts.num_bins = 23
        else:
            opts, cls = knf.MfccOptions(), knf.OnlineMfcc
        opts.frame_opts.dither = 0

        def run_knf():
            out = []
            for x in xs:
                f = cls(opts)
                f.accept_waveform(16000, x)
                f.input_finished()
                out.append(np.stack([f.get_frame(i) for i in range(f.num_frames_ready)]))
            return out

        rt, out = best(run_knf)
        rows.append((kind, f"kaldi-native-fbank {knf.__version__ if hasattr(knf, '__version__') else ''}".strip(), rt, diff(kind, out)))
    except ImportError:
        rows.append((kind, "kaldi-native-fbank: not installed", None, None))
    try:
        import torch
        import torchaudio.compliance.kaldi as tk
    except Exception as e:  # absent, or a torchaudio built for another torch
        rows.append((kind, f"torchaudio.compliance.kaldi: cannot import ({type(e).__name__})", None, None))
    else:
        torch.set_num_threads(1)
        ts = [torch.from_numpy(x).unsqueeze(0) for x in xs]
        if kind == "fbank":
            fn = lambda t: tk.fbank(t, num_mel_bins=23, dither=0.0, energy_floor=0.0)
        else:
            fn = lambda t: tk.mfcc(t, dither=0.0, energy_floor=0.0, use_energy=True)
        rt, out = best(lambda: [fn(t).numpy() for t in ts])
        rows.append((kind, f"torchaudio.compliance.kaldi (torch {torch.__version__}, 1 thread)", rt, diff(kind, out)))

    if kind == "mfcc":
        # The recipes of scripts/bench_features_peers.py (its own module sets one thread).
        import sys

        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import bench_features_peers as peers

        units = [x / 32768.0 for x in xs]
        for name, make in [("librosa", peers.make_librosa), ("python_speech_features", peers.make_psf)]:
            try:
                run, version = make()
            except ImportError:
                rows.append((kind, f"{name}: not installed", None, None))
                continue
            run(xs[0], units[0])  # warm-up: imports, JIT compilation, caches
            rt, _ = best(lambda: [run(x, u) for x, u in zip(xs, units)])
            rows.append((kind, f"{name} {version} (own recipe)", rt, None))

for kind, name, rt, d in rows:
    if rt is None:
        print(f"| {kind} | {name} | - | - |")
    elif d is None:
        print(f"| {kind} | {name} | {rt:,.0f}x | - |")
    else:
        print(f"| {kind} | {name} | {rt:,.0f}x | {d:.2e} |")
