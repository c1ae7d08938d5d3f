#!/usr/bin/env python3
"""Write the golden feature files that asrpipe's front-end tests compare against.

The reference is kaldi-native-fbank (PyPI), a faithful port of Kaldi's
compute-fbank-feats / compute-mfcc-feats. For every case (an input waveform) and
every variant (an option set) it writes `<case>.<variant>.npy` (float32,
frames x dims) into tests/data/golden/, plus `manifest.json`, which lists each
file with its input, the exact options and the shape. The Rust test walks the
manifest.

Inputs:
  * synthetic signals, made here with fixed seeds and stored next to the goldens
    as small 16-bit PCM WAV files;
  * two TIMIT sample utterances, read from the corpus (never copied: licence);
    only their features are stored. dr1-fvmh0/si836.wav is NIST SPHERE.

Samples are fed in 16-bit integer range (1234.0, not 0.0377), as Kaldi does;
dither is 0 so the numbers are reproducible.

Usage: python scripts/make-goldens.py [--timit DIR] [--out DIR]
Needs: pip install -r scripts/requirements-peers.txt
"""

import argparse
import json
import math
import os
import random
import sys
import wave
from pathlib import Path

import kaldi_native_fbank as knf
import numpy as np

REPO = Path(__file__).resolve().parent.parent
SPHERE_HEADER_LEN = 1024


# ---------------------------------------------------------------- audio I/O


def write_wav(path, samples, rate):
    """16-bit mono PCM, written to a temp file and renamed."""
    pcm = np.asarray(samples, dtype="<i2")
    tmp = path.with_suffix(path.suffix + ".tmp")
    with wave.open(str(tmp), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    os.replace(tmp, path)


def read_riff(path):
    with wave.open(str(path), "rb") as w:
        if w.getnchannels() != 1 or w.getsampwidth() != 2:
            sys.exit(f"{path}: expected mono 16-bit PCM")
        rate = w.getframerate()
        data = w.readframes(w.getnframes())
    return np.frombuffer(data, dtype="<i2").astype(np.int16), rate


def read_sphere(path):
    """NIST SPHERE: 'NIST_1A', header length, 'key -type value' lines, 'end_head'."""
    raw = path.read_bytes()
    lines = raw[:SPHERE_HEADER_LEN].decode("ascii", "replace").splitlines()
    if lines[0].strip() != "NIST_1A":
        sys.exit(f"{path}: not a NIST SPHERE file")
    header_len = int(lines[1])
    fields = {}
    for line in lines[2:]:
        if line.strip() == "end_head":
            break
        key, _typ, value = line.split(None, 2)
        fields[key] = value.strip()
    if fields.get("sample_n_bytes", "2") != "2" or fields.get("channel_count", "1") != "1":
        sys.exit(f"{path}: only mono 16-bit SPHERE is supported")
    if fields.get("sample_coding", "pcm") != "pcm":
        sys.exit(f"{path}: unsupported sample_coding {fields['sample_coding']}")
    # '01' = little-endian (byte 0 is least significant), '10' = big-endian.
    order = {"01": "<i2", "10": ">i2"}.get(fields.get("sample_byte_format", "01"))
    if order is None:
        sys.exit(f"{path}: unknown sample_byte_format {fields['sample_byte_format']}")
    count = int(fields["sample_count"])
    pcm = np.frombuffer(raw[header_len:header_len + 2 * count], dtype=order)
    if len(pcm) != count:
        sys.exit(f"{path}: header says {count} samples, file has {len(pcm)}")
    return pcm.astype(np.int16), int(fields["sample_rate"])


def read_audio(path):
    head = path.read_bytes()[:8]
    if head.startswith(b"RIFF"):
        return read_riff(path)
    if head.startswith(b"NIST_1A"):
        return read_sphere(path)
    sys.exit(f"{path}: neither RIFF WAV nor NIST SPHERE")


# ---------------------------------------------------------- synthetic inputs


def to_int16(x):
    return np.clip(np.round(x), -32768, 32767).astype(np.int16)


def chirp(rate, seconds, f0, f1, amp):
    """Linear chirp: phase = 2 pi (f0 t + (f1 - f0) t^2 / (2 T))."""
    t = np.arange(int(round(rate * seconds)), dtype=np.float64) / rate
    return amp * np.sin(2 * math.pi * (f0 * t + (f1 - f0) * t * t / (2 * seconds)))


def tone(rate, n, freq, amp):
    t = np.arange(n, dtype=np.float64) / rate
    return amp * np.sin(2 * math.pi * freq * t)


def noise(seed, n, amp):
    """Uniform in [-amp, amp); random.Random.random() is reproducible across Pythons."""
    rng = random.Random(seed)
    return amp * np.array([rng.random() * 2 - 1 for _ in range(n)])


# A pure synthetic signal leaves mel bins ~30 nats (13 decades of power) below
# the frame's peak, where float32 FFT round-off decides the value and no two
# implementations agree. A deterministic noise floor (about -30 dB under the chirps, -44 dB under the tone) keeps
# every bin well above round-off, so the goldens can be matched tightly.
SYNTHETIC = {
    "chirp16k": (16000, "0.5 s linear chirp 100 Hz -> 7 kHz, amplitude 10000, "
                 "+ uniform noise +-400 (seed 1)"),
    "silence16k": (16000, "0.3 s of zeros"),
    "oneframe16k": (16000, "400 samples (one 25 ms frame): 440 Hz sine, amplitude 6000, "
                    "+ uniform noise +-200 (seed 3)"),
    "chirp8k": (8000, "0.5 s linear chirp 100 Hz -> 3.5 kHz at 8 kHz, amplitude 10000, "
                "+ uniform noise +-400 (seed 4)"),
    "tone1k16k": (16000, "0.3 s 1000 Hz sine, amplitude 8000, + uniform noise +-64 (seed 5)"),
}


def synthetic_cases():
    signals = {
        "chirp16k": chirp(16000, 0.5, 100, 7000, 10000) + noise(1, 8000, 400),
        "silence16k": np.zeros(4800),
        "oneframe16k": tone(16000, 400, 440, 6000) + noise(3, 400, 200),
        "chirp8k": chirp(8000, 0.5, 100, 3500, 10000) + noise(4, 4000, 400),
        "tone1k16k": tone(16000, 4800, 1000, 8000) + noise(5, 4800, 64),
    }
    return {name: (to_int16(x), SYNTHETIC[name][0]) for name, x in signals.items()}


TIMIT_CASES = {
    "fvmh0_sa1": "dr1-fvmh0/sa1.wav",  # RIFF
    "fvmh0_si836": "dr1-fvmh0/si836.wav",  # NIST SPHERE
}

# ----------------------------------------------------------------- variants


def frame_and_mel(o, rate, num_bins=23, window="povey", snip_edges=True):
    o.frame_opts.samp_freq = rate
    o.frame_opts.dither = 0.0
    o.frame_opts.window_type = window
    o.frame_opts.snip_edges = snip_edges
    o.mel_opts.num_bins = num_bins
    o.mel_opts.low_freq = 20.0
    o.mel_opts.high_freq = 0.0  # 0 = Nyquist


def fbank(num_bins=23, use_energy=False, htk_compat=False, window="povey"):
    def make(rate):
        o = knf.FbankOptions()
        frame_and_mel(o, rate, num_bins, window)
        o.use_energy = use_energy
        o.htk_compat = htk_compat
        return o

    return "fbank", make


def mfcc(use_energy=True, raw_energy=True, snip_edges=True):
    def make(rate):
        o = knf.MfccOptions()
        frame_and_mel(o, rate, 23, "povey", snip_edges)
        o.num_ceps = 13
        o.cepstral_lifter = 22.0
        o.use_energy = use_energy
        o.raw_energy = raw_energy
        return o

    return "mfcc", make


VARIANTS = {
    "fbank23": fbank(),
    "fbank23e": fbank(use_energy=True),
    "fbank23ham": fbank(window="hamming"),
    "fbank40": fbank(num_bins=40),
    # htk_compat only moves the energy column last (Kaldi's own warning: it is
    # not enough for HTK-identical features).
    "fbank40htk": fbank(num_bins=40, use_energy=True, htk_compat=True),
    "mfcc13e": mfcc(),
    "mfcc13": mfcc(use_energy=False),
    "mfcc13e_notraw": mfcc(raw_energy=False),
    "mfcc13_nosnip": mfcc(use_energy=False, snip_edges=False),
    "mfcc13e_nosnip": mfcc(snip_edges=False),
}
NOSNIP_CASES = {"fvmh0_sa1", "chirp16k"}


def energy_column(kind, opts):
    if not opts.use_energy:
        return None
    if kind == "fbank" and opts.htk_compat:
        return opts.mel_opts.num_bins
    if kind == "mfcc" and opts.htk_compat:
        return opts.num_ceps - 1
    return 0


def plain(value):
    """knf stores floats as float32; write the shortest decimal of that float32."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, float):
        return float(str(np.float32(value)))
    return value


def compute(kind, opts, samples, rate):
    extractor = knf.OnlineFbank(opts) if kind == "fbank" else knf.OnlineMfcc(opts)
    extractor.accept_waveform(rate, samples.astype(np.float32).tolist())
    extractor.input_finished()
    n = extractor.num_frames_ready
    rows = [np.array(extractor.get_frame(i), dtype=np.float32) for i in range(n)]
    return np.stack(rows) if rows else np.zeros((0, extractor.dim), np.float32)


def hand_check(samples, feats_mfcc13e, feats_fbank23e):
    """Frame count and first-frame raw log energy, recomputed in float64 here."""
    n = len(samples)
    frames = 1 + (n - 400) // 160 if n >= 400 else 0
    first = samples[:400].astype(np.float64)
    first -= first.mean()  # remove_dc_offset comes before the energy
    log_e = math.log(max(float(np.dot(first, first)), float(np.finfo(np.float32).eps)))
    return {
        "case": "tone1k16k",
        "num_samples": int(n),
        "frame_count_rule": "snip_edges=true: frames = 1 + (num_samples - 400) // 160 "
        "if num_samples >= 400 else 0 (window 25 ms = 400, shift 10 ms = 160 at 16 kHz)",
        "frames": frames,
        "first_frame_raw_log_energy_rule": "log(max(sum((x - mean(x))^2), FLT_EPSILON)) "
        "over samples 0..399 in int16 scale, after DC removal, before pre-emphasis "
        "and window",
        "first_frame_raw_log_energy_float64": log_e,
        "first_frame_raw_log_energy_knf_mfcc13e": float(feats_mfcc13e[0, 0]),
        "first_frame_raw_log_energy_knf_fbank23e": float(feats_fbank23e[0, 0]),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    default_timit = os.environ.get(
        "ASRPIPE_TIMIT_SAMPLE", str(REPO.parent / "shared" / "corpora" / "timit-sample")
    )
    ap.add_argument("--timit", default=default_timit, help="TIMIT sample directory")
    ap.add_argument("--out", default=str(REPO / "tests" / "data" / "golden"))
    args = ap.parse_args()
    out = Path(args.out)
    timit = Path(args.timit)
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob("*.npy"):
        stale.unlink()

    cases = []  # (name, input reference, samples, rate)
    for name, (samples, rate) in synthetic_cases().items():
        write_wav(out / f"{name}.wav", samples, rate)
        # Re-read so the goldens come from exactly what the Rust test will read.
        samples, rate = read_riff(out / f"{name}.wav")
        cases.append((name, f"{name}.wav", samples, rate))
    for name, rel in TIMIT_CASES.items():
        path = timit / rel
        if not path.exists():
            sys.exit(f"{path}: TIMIT sample not found (use --timit or ASRPIPE_TIMIT_SAMPLE)")
        samples, rate = read_audio(path)
        cases.append((name, f"timit:{rel}", samples, rate))

    entries = []
    kept = {}
    for name, ref, samples, rate in cases:
        for variant, (kind, make) in VARIANTS.items():
            if "nosnip" in variant and name not in NOSNIP_CASES:
                continue
            opts = make(rate)
            feats = compute(kind, opts, samples, rate)
            fname = f"{name}.{variant}.npy"
            np.save(out / fname, feats.astype("<f4"), allow_pickle=False)
            kept[(name, variant)] = feats
            entries.append(
                {
                    "file": fname,
                    "case": name,
                    "variant": variant,
                    "kind": kind,
                    "input": ref,
                    "sample_rate": rate,
                    "num_samples": int(len(samples)),
                    "options": plain(opts.as_dict()),
                    "energy_column": energy_column(kind, opts),
                    "frames": int(feats.shape[0]),
                    "dims": int(feats.shape[1]),
                    "min": float(feats.min()) if feats.size else None,
                    "max": float(feats.max()) if feats.size else None,
                }
            )

    manifest = {
        "generator": "scripts/make-goldens.py",
        "reference": "kaldi-native-fbank",
        "knf_version": getattr(knf, "__version__", "unknown"),
        "numpy_version": np.__version__,
        "sample_scale": "int16 range: samples are fed as float32(int16), not divided by 32768",
        "input_paths": "relative to tests/data/golden, or 'timit:<path>' relative to the "
        "TIMIT sample (../shared/corpora/timit-sample or $ASRPIPE_TIMIT_SAMPLE)",
        "npy": "float32 little-endian, C order, shape frames x dims",
        "layout": {
            "fbank": "num_bins log mel energies; with use_energy the raw log energy is "
            "column 0 and the mel bins follow, or with htk_compat it is the last column",
            "mfcc": "num_ceps liftered cepstra; with use_energy column 0 (c0) is replaced "
            "by the log energy (htk_compat would move it last: not used here)",
        },
        "inputs": {f"{k}.wav": v[1] for k, v in SYNTHETIC.items()},
        "floors": "mel energies and frame energy are floored at FLT_EPSILON "
        "(1.1920929e-07) before log, so an all-zero frame gives log(eps) = -15.942385; "
        "energy_floor is 0 (off)",
        "hand_check": hand_check(
            next(c[2] for c in cases if c[0] == "tone1k16k"),
            kept[("tone1k16k", "mfcc13e")],
            kept[("tone1k16k", "fbank23e")],
        ),
        "goldens": entries,
    }
    tmp = out / "manifest.json.tmp"
    tmp.write_text(json.dumps(manifest, indent=1) + "\n")
    os.replace(tmp, out / "manifest.json")
    total = sum(p.stat().st_size for p in out.iterdir())
    print(f"wrote {len(entries)} goldens to {out} ({total / 1024:.0f} KiB), knf {manifest['knf_version']}")


if __name__ == "__main__":
    main()
