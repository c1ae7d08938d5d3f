"""Shared fixtures: the repository, the CLI binary, the TIMIT sample (skipped loudly when absent,
a failure when ASRPIPE_REQUIRE_DATA=1, as in the Rust tests)."""

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def repo() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def cli() -> Path:
    """The `asrpipe` binary of this checkout (built when missing)."""
    exe = Path(os.environ.get("ASRPIPE_BIN", ROOT / "target" / "release" / "asrpipe"))
    if not exe.exists():
        subprocess.run(
            ["cargo", "build", "--release", "--bin", "asrpipe"], cwd=ROOT, check=True
        )
    return exe


@pytest.fixture(scope="session")
def timit() -> Path:
    d = Path(os.environ.get("ASRPIPE_TIMIT_SAMPLE", ROOT.parent / "shared" / "corpora" / "timit-sample"))
    if not d.is_dir():
        msg = f"TIMIT sample not found at {d} (set ASRPIPE_TIMIT_SAMPLE)"
        if os.environ.get("ASRPIPE_REQUIRE_DATA") == "1":
            pytest.fail(msg + "; ASRPIPE_REQUIRE_DATA=1 makes this a failure")
        pytest.skip("SKIPPED LOUDLY: " + msg)
    return d


@pytest.fixture(scope="session")
def demo(repo: Path) -> Path:
    return repo / "audio" / "demo"
