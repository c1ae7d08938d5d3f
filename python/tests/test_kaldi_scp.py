"""Archives and script files written by `asrpipe features --list ... --scp` read with kaldiio (the
Python reader of Kaldi tables), shard by shard: the same matrices as one process writes to .npz."""

import subprocess
from pathlib import Path

import kaldiio
import numpy as np


def demo_list(demo: Path, out: Path) -> list[str]:
    rows = sorted(
        (f"{f.parent.name}_{f.stem}", f.parent.name, f)
        for f in demo.glob("*/*.flac")
    )[::5]
    (out / "wav.scp").write_text("".join(f"{u} {f}\n" for u, _, f in rows))
    (out / "utt2spk").write_text("".join(f"{u} {s}\n" for u, s, _ in rows))
    return [u for u, _, _ in rows]


def test_kaldiio_reads_concatenated_shards_as_one_process_writes_them(cli, repo, demo, tmp_path):
    ids = demo_list(demo, tmp_path)
    run = lambda *a: subprocess.run(
        [cli, "features", "--quiet", "--pipeline", "pipelines/kaldi-mfcc-gmm.yaml",
         "--list", tmp_path / "wav.scp", *a],
        cwd=repo, check=True,
    )
    run("-o", tmp_path / "all.npz")
    scp = ""
    for k in (1, 2, 3):
        ark, part = tmp_path / f"feats.{k}.ark", tmp_path / f"feats.{k}.scp"
        run("--shard", f"{k}/3", "-o", ark, "--scp", part)
        scp += part.read_text()
    (tmp_path / "feats.scp").write_text(scp)

    want = np.load(tmp_path / "all.npz")
    got = kaldiio.load_scp(str(tmp_path / "feats.scp"))
    assert sorted(got.keys()) == sorted(ids)
    for u in ids:
        m = got[u]
        assert m.dtype == np.float32 and m.shape[1] == 39
        np.testing.assert_array_equal(m, want[u])
    # Every archive also reads whole, in the scp's order.
    keys = [k for k, _ in kaldiio.load_ark(str(tmp_path / "feats.1.ark"))]
    assert keys == [line.split()[0] for line in (tmp_path / "feats.1.scp").read_text().splitlines()]
