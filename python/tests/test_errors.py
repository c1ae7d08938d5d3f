"""Wrong calls raise ValueError / OSError with the library's messages; nothing crashes."""

import numpy as np
import pytest

import asrpipe

P = asrpipe.Pipeline.kaldi_mfcc()
X = (np.sin(np.arange(16000) * 0.05) * 3000).astype(np.float32)


@pytest.mark.parametrize(
    "call,message",
    [
        (lambda: P.compute(X.astype(np.float64), 16000), r"samples must be int16 or float32, got float64"),
        (lambda: P.compute(X.reshape(2, -1), 16000), r"samples must be a 1-D array \(one channel\), got shape \(2, 8000\)"),
        (lambda: P.compute([1.0, 2.0], 16000), r"samples must be a 1-D numpy array of int16 or float32, got list"),
        (lambda: P.compute(X / 32768, 16000), r"float samples all lie within \[-1, 1\]"),
        (lambda: P.compute(X, 16000, scale="unit"), r"scale \"unit\" but the samples reach 3000"),
        (lambda: P.compute(X.astype(np.int16), 16000, scale="unit"), r"int16 samples are 16-bit scale already"),
        (lambda: P.compute(X, 16000, scale="float"), r"unknown sample scale `float`"),
        (lambda: P.compute(np.where(np.arange(16000) == 9, np.nan, X).astype(np.float32), 16000), r"^audio sample 9 is NaN; samples must be finite$"),
        (lambda: P.compute(np.zeros(0, np.float32), 16000), r"^audio has 0 samples, shorter than one frame \(400 samples\)$"),
        (lambda: P.compute(X, 8000), r"^<samples>: sample rate is 8000 Hz but 16000 Hz is required"),
        (lambda: P.compute_many([X, X[:10]], 16000), r"^utterance 1: audio has 10 samples"),
        (lambda: P.compute_many([X, X.astype(np.float64)], 16000), r"^utterance 1: samples must be int16 or float32"),
        (lambda: P.compute_many([X], 16000, speakers=["a", "b"]), r"^2 speakers for 1 utterances$"),
        (lambda: P.compute_many([X, X / 32768], 16000), r"^utterance 1: float samples all lie within \[-1, 1\]"),
        (lambda: P.compute_many([X, X.astype(np.int16)], 16000, scale="unit"), r"^utterance 1: scale \"unit\" is for float samples"),
        (lambda: asrpipe.Pipeline.from_yaml("pipelines/kaldi-mfcc-gmm.yaml").compute(X, 16000), r"post.cmvn mode `speaker` pools statistics over all of the speaker's utterances in the corpus .*compute_many with speakers"),
        (lambda: asrpipe.Pipeline.kaldi_mfcc(dither=-1), r"^dither must be between 0 and 32768"),
        (lambda: asrpipe.Pipeline.kaldi_mfcc(num_cepz=3), r"^unknown option `num_cepz` for the stages waveform, dft"),
        (lambda: asrpipe.Pipeline.kaldi_mfcc(dither="x"), r"^option `dither`: invalid type: string \"x\""),
        (lambda: asrpipe.Pipeline.kaldi_mfcc(dither=[1]), r"option values are bool, int, float or str, got list"),
        (lambda: P.until("mel"), r"^unknown stage `mel` \(stages: waveform"),
        (lambda: P.until("log").until("dct"), r"the pipeline has no `dct` stage to stop at"),
        (lambda: asrpipe.Pipeline.from_yaml("stages:\n  - dft: {}\n"), r"^<yaml>:2: a pipeline starts with `waveform`, not `dft`$"),
    ],
)
def test_bad_input_is_a_value_error_with_the_message(call, message, repo, monkeypatch):
    monkeypatch.chdir(repo)
    with pytest.raises(ValueError, match=message):
        call()


def test_online_misuse_is_a_value_error():
    o = asrpipe.OnlineFeatures(P)
    with pytest.raises(ValueError, match=r"^audio is 8000 Hz but the pipeline expects 16000 Hz$"):
        o.accept_waveform(8000, X)
    o.accept_waveform(16000, X)
    for call, message in [
        (lambda: o.get_frames(-1, 2), r"^start must be >= 0, got -1$"),
        (lambda: o.get_frames(0, -2), r"^count must be >= 0, got -2$"),
        (lambda: o.pop(-1), r"^n must be >= 0, got -1$"),
        (lambda: o.get_frames(90, 10), r"^frames 90..100 requested but frames 0..98 are available \(98 ready\)$"),
        (lambda: o.accept_waveform(16000, X.reshape(2, -1)), r"1-D array"),
    ]:
        with pytest.raises(ValueError, match=message):
            call()
    o.input_finished()
    with pytest.raises(ValueError, match=r"^accept_waveform after input_finished"):
        o.accept_waveform(16000, X)


def test_files_that_cannot_be_read_are_os_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"missing.wav: No such file"):
        asrpipe.read_audio(tmp_path / "missing.wav")
    with pytest.raises(FileNotFoundError):
        asrpipe.Pipeline.from_yaml(str(tmp_path / "missing.yaml"))
    with pytest.raises(OSError):
        asrpipe.Model.load(tmp_path / "nothing")
    with pytest.raises(OSError):
        asrpipe.Corpus(tmp_path / "no-corpus")
    bad = tmp_path / "corrupt.wav"
    bad.write_bytes(b"RIFF\x10\x00\x00\x00WAVEfmt junk")
    with pytest.raises(ValueError, match=r"corrupt.wav: "):
        asrpipe.read_audio(bad)
