"""Features from Python equal the CLI's for the same files, and kaldi-native-fbank's within a
measured tolerance."""

import glob
import subprocess
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import asrpipe

# WAV and the one NIST SPHERE file of the sample.
FILES = ["dr1-fvmh0/sa1.wav", "dr1-fvmh0/si836.wav", "dr5-ftlg0/sa2.wav"]


def cli_features(cli, tmp_path, args, path):
    out = tmp_path / "f.npz"
    subprocess.run([str(cli), "features", "-q", *args, str(path), "-o", str(out)], check=True)
    with np.load(out) as z:
        (key,) = z.files
        return z[key]


@pytest.mark.parametrize("name", FILES)
@pytest.mark.parametrize(
    "pipeline,args",
    [
        ("kaldi_mfcc", []),
        ("kaldi_fbank", ["--pipeline", "pipelines/kaldi-fbank.yaml"]),
        ("spectrogram", ["--until", "spectrogram"]),
    ],
)
def test_features_equal_the_cli_bit_for_bit(cli, timit, repo, tmp_path, monkeypatch, name, pipeline, args):
    monkeypatch.chdir(repo)
    path = timit / name
    p = asrpipe.Pipeline.kaldi_mfcc().until("spectrogram") if pipeline == "spectrogram" else getattr(asrpipe.Pipeline, pipeline)()
    x, rate = asrpipe.read_audio(path)
    ours = p.compute(x, rate)
    theirs = cli_features(cli, tmp_path, args, path)
    assert ours.dtype == np.float32 and ours.shape == (theirs.shape[0], p.dim)
    np.testing.assert_array_equal(ours, theirs)


def test_int16_and_unit_scale_inputs_give_the_same_features(timit):
    x, rate = asrpipe.read_audio(timit / FILES[0])
    p = asrpipe.Pipeline.kaldi_fbank()
    ref = p.compute(x, rate)
    np.testing.assert_array_equal(p.compute(x.astype(np.int16), rate), ref)
    np.testing.assert_array_equal(p.compute(x / np.float32(32768), rate, scale="unit"), ref)


def test_yaml_options_and_cuts(repo):
    p = asrpipe.Pipeline.from_yaml(repo / "pipelines" / "kaldi-fbank.yaml")
    assert (p.dim, p.output, p.sample_rate) == (23, "log", 16000)
    assert [s for s, _ in p.stages] == ["waveform", "dft", "spectrogram", "filterbank", "log"]
    assert asrpipe.Pipeline.from_yaml(p.to_yaml()).to_yaml() == p.to_yaml()
    q = asrpipe.Pipeline.kaldi_mfcc(num_ceps=20, snip_edges=False)
    assert q.dim == 20 and q.stages[0][1]["snip_edges"] is False
    assert q.stages[0][1]["preemph_coeff"] == 0.97 and q.stages[0][1]["window"] == "povey"
    assert q.until("log").dim == 23 and q.until("filterbank").output == "filterbank"
    g = asrpipe.Pipeline.from_yaml(repo / "pipelines" / "kaldi-mfcc-gmm.yaml")
    assert g.post == ["cmvn: speaker", "deltas: order 2"] and g.dim == 39


def test_compute_many_is_compute_in_parallel_and_thread_safe(timit):
    paths = sorted(glob.glob(str(timit / "dr1-*" / "*.wav")))[:12]
    xs = [asrpipe.read_audio(p)[0] for p in paths]
    p = asrpipe.Pipeline.kaldi_mfcc()
    one = [p.compute(x, 16000) for x in xs]
    with ThreadPoolExecutor(4) as pool:
        runs = list(pool.map(lambda _: p.compute_many(xs, 16000), range(4)))
    for many in runs:
        assert len(many) == len(one)
        for a, b in zip(many, one):
            np.testing.assert_array_equal(a, b)


def test_compute_many_reads_strided_and_int16_arrays_as_compute_does(timit):
    # A strided view is copied, a contiguous one read in place; int16 and float32 alike.
    (x,) = [asrpipe.read_audio(str(timit / "dr1-fvmh0" / "sa1.wav"))[0]]
    i16 = np.clip(x, -32768, 32767).astype(np.int16)
    inputs = [x, x[::2], i16, i16[1::2], np.asfortranarray(x)]
    p = asrpipe.Pipeline.kaldi_mfcc()
    for a, b in zip(p.compute_many(inputs, 16000), inputs):
        np.testing.assert_array_equal(a, p.compute(np.ascontiguousarray(b), 16000))


def test_speaker_cmvn_pools_per_speaker(timit):
    g = asrpipe.Pipeline.kaldi_mfcc()
    c = asrpipe.Corpus(timit)
    utts = [u for u in c if u.speaker in ("dr1-fvmh0", "dr1-mcpm0")][:6]
    xs = [asrpipe.read_audio(u.audio)[0] for u in utts]
    yaml = g.to_yaml().split("post:")[0] + "post:\n  cmvn: { mode: speaker }\n"
    s = asrpipe.Pipeline.from_yaml(yaml)
    assert s.post == ["cmvn: speaker"]
    got = s.compute_many(xs, 16000, speakers=[u.speaker for u in utts])
    raw = g.compute_many(xs, 16000)
    for spk in {u.speaker for u in utts}:
        idx = [i for i, u in enumerate(utts) if u.speaker == spk]
        mean = np.concatenate([raw[i] for i in idx]).astype(np.float64).mean(axis=0)
        for i in idx:
            np.testing.assert_allclose(got[i], raw[i] - mean, atol=2e-4)




def _knf_frames(cls, opts, x):
    f = cls(opts)
    f.accept_waveform(16000, x)
    f.input_finished()
    return np.stack([f.get_frame(i) for i in range(f.num_frames_ready)])


# Measured on all 160 files of the TIMIT sample. Filter bank: max |diff| 7.6e-4. MFCC: max
# |diff| 2.4e-3, on the high cepstra, because Kaldi's lifter (1 + 11 sin(pi n / 22), up to 12)
# multiplies each coefficient and its rounding error; before the lifter they agree within 2.25e-4
# (c0, the log energy, exactly). The bounds: 1e-3 for the filter bank, 3e-4 x lifter for MFCC.
FBANK_ATOL = 1e-3
MFCC_ATOL = 3e-4 * (1 + 11 * np.sin(np.pi * np.arange(13) / 22))


@pytest.mark.parametrize("kind", ["fbank", "mfcc"])
def test_kaldi_native_fbank_agrees_on_every_file(timit, kind):
    knf = pytest.importorskip(
        "kaldi_native_fbank", reason="kaldi-native-fbank is not installed (pip install kaldi-native-fbank)"
    )
    for path in sorted(glob.glob(str(timit / "*" / "*.wav"))):
        x, rate = asrpipe.read_audio(path)
        if kind == "fbank":
            o = knf.FbankOptions()
            o.frame_opts.dither = 0
            o.mel_opts.num_bins = 23
            ref, ours = _knf_frames(knf.OnlineFbank, o, x), asrpipe.Pipeline.kaldi_fbank().compute(x, rate)
            bound = FBANK_ATOL
        else:
            o = knf.MfccOptions()
            o.frame_opts.dither = 0
            ref, ours = _knf_frames(knf.OnlineMfcc, o, x), asrpipe.Pipeline.kaldi_mfcc().compute(x, rate)
            bound = MFCC_ATOL
        assert ref.shape == ours.shape, path
        assert (np.abs(ours - ref) <= bound).all(), (path, np.abs(ours - ref).max(axis=0))
