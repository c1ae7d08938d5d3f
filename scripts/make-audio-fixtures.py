#!/usr/bin/env python3
"""Write the FLAC fixtures of tests/audio.rs (tests/data/audio/*.flac).

The signals are integer formulas that tests/audio.rs recomputes, so the test checks the decoded
samples exactly. Encoded with the reference encoder (Debian package `flac`); run from the crate
root: python3 scripts/make-audio-fixtures.py
"""
import os
import struct
import subprocess
import tempfile

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "audio")


def mono8(n):
    return [((i * 7) % 256) - 128 for i in range(100)][n]


def mono16(n):
    return ((n * 577) % 4001) - 2000


def stereo24(n, ch):
    v = ((n * 40009) % 16000001) - 8000000
    return v if ch == 0 else -v // 2


FIXTURES = [
    # name, rate, bits, channels, frames, sample(n, ch)
    ("mono8.flac", 8000, 8, 1, 100, lambda n, ch: mono8(n)),
    ("mono16.flac", 8000, 16, 1, 1000, lambda n, ch: mono16(n)),
    ("stereo24.flac", 16000, 24, 2, 500, stereo24),
]


def pack(v, bits):
    b = v.to_bytes(4, "little", signed=True)
    return b[: bits // 8]


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, rate, bits, channels, frames, sample in FIXTURES:
        raw = b"".join(
            pack(sample(n, ch), bits) for n in range(frames) for ch in range(channels)
        )
        with tempfile.NamedTemporaryFile(suffix=".raw") as f:
            f.write(raw)
            f.flush()
            subprocess.run(
                ["flac", "--silent", "--force", "--force-raw-format", "--endian=little",
                 "--sign=signed", f"--channels={channels}", f"--bps={bits}",
                 f"--sample-rate={rate}", "--no-padding", "--no-seektable", "-8",
                 "-o", os.path.join(OUT, name), f.name],
                check=True,
            )


if __name__ == "__main__":
    main()
