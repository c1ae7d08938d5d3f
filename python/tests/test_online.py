"""Streaming features equal the offline ones for random chunkings (seeded)."""

import numpy as np
import pytest

import asrpipe


def stream(p, x, sizes, **kw):
    o = asrpipe.OnlineFeatures(p, **kw)
    rows, taken, at = [], 0, 0
    for n in sizes:
        if at >= len(x):
            break
        n = int(n)
        o.accept_waveform(16000, x[at : at + n])
        at += n
        ready = o.num_frames_ready
        rows.append(o.get_frames(taken, ready - taken))
        o.pop(ready - taken)
        taken = ready
    o.input_finished()
    rows.append(o.get_frames(taken, o.num_frames_ready - taken))
    assert o.is_last_frame(o.num_frames_ready - 1)
    return np.concatenate(rows)


PIPELINES = [
    ("mfcc", {}),
    ("mfcc", {"snip_edges": False}),
    ("fbank", {"snip_edges": False, "dither": 1.0}),
    ("fbank", {"use_energy": True, "num_bins": 40}),
]


@pytest.mark.parametrize("kind,options", PIPELINES)
def test_streaming_equals_offline_for_random_chunkings(timit, kind, options):
    p = getattr(asrpipe.Pipeline, f"kaldi_{kind}")(**options)
    x, rate = asrpipe.read_audio(timit / "dr1-fvmh0" / "sa1.wav")
    offline = p.compute(x, rate, name="sa1")
    rng = np.random.default_rng(15)
    for high in [2, 160, 1000, 20000]:
        sizes = (int(rng.integers(0, high)) for _ in iter(int, 1))  # endless
        np.testing.assert_array_equal(stream(p, x, sizes, name="sa1"), offline)
    # Chunks of one sample, on the first 0.3 s (the same frames as offline on that prefix).
    head = x[:4800]
    np.testing.assert_array_equal(stream(p, head, [1] * len(head), name="sa1"), p.compute(head, rate, name="sa1"))


def test_the_online_api_behaves_like_kaldi_native_fbank(timit):
    p = asrpipe.Pipeline.kaldi_fbank()
    o = asrpipe.OnlineFeatures(p)
    assert (o.dim, o.frame_shift_in_seconds, o.num_frames_ready) == (23, 0.01, 0)
    o.accept_waveform(16000, np.zeros(399, np.int16))
    assert o.num_frames_ready == 0
    o.accept_waveform(16000, np.zeros(161, np.int16))
    assert o.num_frames_ready == 2 and not o.is_last_frame(1)
    np.testing.assert_array_equal(o.get_frame(1), o.get_frames(0, 2)[1])


def test_pipelines_with_post_processing_do_not_stream(repo):
    g = asrpipe.Pipeline.from_yaml(repo / "pipelines" / "kaldi-mfcc-gmm.yaml")
    with pytest.raises(ValueError, match=r"post-processes its frames \(cmvn: speaker, deltas: order 2\), which cannot stream"):
        asrpipe.OnlineFeatures(g)
    assert asrpipe.OnlineFeatures(g.without_post()).dim == 13


def test_kaldi_native_fbank_online_frames_are_ours_within_1e_3(timit):
    knf = pytest.importorskip("kaldi_native_fbank", reason="kaldi-native-fbank is not installed")
    x, rate = asrpipe.read_audio(timit / "dr1-fvmh0" / "sa1.wav")
    o = knf.FbankOptions()
    o.frame_opts.dither = 0
    k = knf.OnlineFbank(o)
    ours = asrpipe.OnlineFeatures(asrpipe.Pipeline.kaldi_fbank())
    for at in range(0, len(x), 3000):
        k.accept_waveform(16000, x[at : at + 3000].tolist())
        ours.accept_waveform(16000, x[at : at + 3000])
        assert ours.num_frames_ready == k.num_frames_ready
    k.input_finished()
    ours.input_finished()
    ref = np.stack([k.get_frame(i) for i in range(k.num_frames_ready)])
    assert np.abs(ours.get_frames(0, ours.num_frames_ready) - ref).max() < 1e-3
