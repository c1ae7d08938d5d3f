#!/usr/bin/env python3
"""Time MFCC extraction by the Python peers on the whole TIMIT sample.

Loads every utterance (RIFF WAV or NIST SPHERE) into memory first, then times
each peer over all of them, one thread, best of --runs:
  knf      kaldi-native-fbank OnlineMfcc: 13 ceps, 23 bins, lifter 22,
           use_energy + raw_energy, povey window, dither 0 (= golden mfcc13e)
  librosa  pre-emphasis 0.97 + librosa.feature.mfcc: n_fft 512, hop 160,
           win 400 (povey window passed as an array), center=False, 23 mels
           from 20 Hz, power 2, htk=False (Slaney mel), 13 ceps, lifter 22
  psf      python_speech_features.mfcc: winlen .025, winstep .01, numcep 13,
           nfilt 23, nfft 512, lowfreq 20, preemph .97, ceplifter 22
Prints `peer<TAB>seconds<TAB>audio_seconds<TAB>x_real_time`, or JSON with --json.

Usage: python scripts/bench_features_peers.py [TIMIT_DIR] [--runs 3] [--json]
"""

import os

# One thread everywhere; must be set before numpy (and its BLAS) is imported.
for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
            "NUMBA_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import wave  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

RATE = 16000
REPO = Path(__file__).resolve().parent.parent


def read_audio(path):
    """int16 samples of a mono 16-bit RIFF WAV or NIST SPHERE file."""
    raw = path.read_bytes()
    if raw.startswith(b"RIFF"):
        with wave.open(str(path), "rb") as w:
            if w.getnchannels() != 1 or w.getsampwidth() != 2 or w.getframerate() != RATE:
                sys.exit(f"{path}: expected mono 16-bit PCM at {RATE} Hz")
            return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    if raw.startswith(b"NIST_1A"):
        lines = raw[:1024].decode("ascii", "replace").splitlines()
        header_len = int(lines[1])
        fields = {}
        for line in lines[2:]:
            if line.strip() == "end_head":
                break
            key, _typ, value = line.split(None, 2)
            fields[key] = value.strip()
        if fields.get("sample_n_bytes") != "2" or fields.get("channel_count", "1") != "1":
            sys.exit(f"{path}: only mono 16-bit SPHERE is supported")
        if int(fields.get("sample_rate", RATE)) != RATE:
            sys.exit(f"{path}: expected {RATE} Hz")
        order = {"01": "<i2", "10": ">i2"}[fields.get("sample_byte_format", "01")]
        count = int(fields["sample_count"])
        return np.frombuffer(raw[header_len:header_len + 2 * count], dtype=order)
    sys.exit(f"{path}: neither RIFF WAV nor NIST SPHERE")


def povey_window(n):
    i = np.arange(n)
    return (0.5 - 0.5 * np.cos(2 * np.pi * i / (n - 1))) ** 0.85


def make_knf():
    import kaldi_native_fbank as knf

    opts = knf.MfccOptions()
    opts.frame_opts.samp_freq = RATE
    opts.frame_opts.dither = 0.0
    opts.mel_opts.num_bins = 23
    opts.mel_opts.low_freq = 20.0
    opts.num_ceps = 13
    opts.cepstral_lifter = 22.0
    opts.use_energy = True
    opts.raw_energy = True

    def run(x_int16_scale, _x_unit):
        mfcc = knf.OnlineMfcc(opts)
        mfcc.accept_waveform(RATE, x_int16_scale)
        mfcc.input_finished()
        return np.stack([mfcc.get_frame(i) for i in range(mfcc.num_frames_ready)])

    return run, knf.__version__


def make_librosa():
    import librosa

    window = povey_window(400)

    def run(_x_int16_scale, x_unit):
        y = librosa.effects.preemphasis(x_unit, coef=0.97)
        return librosa.feature.mfcc(
            y=y, sr=RATE, n_mfcc=13, lifter=22, n_fft=512, hop_length=160, win_length=400,
            window=window, center=False, n_mels=23, fmin=20.0, power=2.0, htk=False,
        ).T

    return run, librosa.__version__


def make_psf():
    import python_speech_features as psf
    from importlib.metadata import version

    def run(_x_int16_scale, x_unit):
        return psf.mfcc(
            x_unit, samplerate=RATE, winlen=0.025, winstep=0.01, numcep=13, nfilt=23,
            nfft=512, lowfreq=20, preemph=0.97, ceplifter=22,
        )

    return run, version("python_speech_features")


PEERS = {"knf": make_knf, "librosa": make_librosa, "psf": make_psf}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("timit", nargs="?",
                    default=os.environ.get("ASRPIPE_TIMIT_SAMPLE",
                                           str(REPO.parent / "shared/corpora/timit-sample")))
    ap.add_argument("--runs", type=int, default=3, help="take the best of this many runs")
    ap.add_argument("--peers", default=",".join(PEERS), help="comma-separated subset")
    ap.add_argument("--json", action="store_true", help="print JSON instead of TSV")
    args = ap.parse_args()

    paths = sorted(Path(args.timit).glob("*/*.wav")) + sorted(Path(args.timit).glob("*/*/*/*.WAV"))
    if not paths:
        sys.exit(f"{args.timit}: no .wav files found")
    int16 = [read_audio(p) for p in paths]
    scaled = [x.astype(np.float32) for x in int16]  # Kaldi's int16 range
    unit = [x.astype(np.float32) / 32768.0 for x in int16]  # librosa / psf range
    audio_seconds = sum(len(x) for x in int16) / RATE

    results = []
    for name in args.peers.split(","):
        run, ver = PEERS[name]()
        run(scaled[0], unit[0])  # warm-up: imports, JIT, caches
        best = float("inf")
        frames = 0
        for _ in range(args.runs):
            t0 = time.perf_counter()
            frames = sum(run(s, u).shape[0] for s, u in zip(scaled, unit))
            best = min(best, time.perf_counter() - t0)
        results.append({"peer": name, "version": ver, "seconds": best,
                        "audio_seconds": audio_seconds, "x_real_time": audio_seconds / best,
                        "utterances": len(paths), "frames": frames, "runs": args.runs})

    if args.json:
        print(json.dumps(results, indent=1))
    else:
        for r in results:
            print(f"{r['peer']}\t{r['seconds']:.4f}\t{r['audio_seconds']:.2f}\t{r['x_real_time']:.0f}")


if __name__ == "__main__":
    main()
