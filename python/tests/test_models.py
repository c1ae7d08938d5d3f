"""Models trained by the CLI on the demo corpus score identically from Python: `asrpipe eval`'s
state accuracy, and `asrpipe activations`' hidden layers, bit for bit."""

import json
import subprocess

import numpy as np
import pytest

import asrpipe


def run(cli, *args, env):
    subprocess.run([str(cli), *args, "-q"], check=True, env=env, capture_output=True)


@pytest.fixture(scope="module")
def trained(cli, demo, tmp_path_factory):
    """A small GMM and DNN trained and evaluated by the CLI (a few seconds)."""
    import os

    d = tmp_path_factory.mktemp("models")
    env = dict(os.environ, ASRPIPE_CACHE=str(d / "cache"))
    common = ["--corpus", str(demo), "--states", "150"]
    run(cli, "eval", *common, "--gmm", "2", "--epochs", "2", "-o", str(d / "gmm"), env=env)
    run(cli, "eval", *common, "--dnn", "2x64", "--epochs", "2", "--context", "2", "-o", str(d / "dnn"), env=env)
    return d, env


@pytest.mark.parametrize("kind", ["gmm", "dnn"])
def test_python_scores_reproduce_eval_state_accuracy(trained, demo, kind):
    d, _ = trained
    results = json.loads((d / kind / "results.json").read_text())
    model = asrpipe.Model.load(d / kind / "model")
    assert model.kind == kind and model.num_states == 150
    corpus = asrpipe.Corpus(demo)
    test = corpus.split("test")
    p = model.pipeline
    # Speaker CMVN (the GMM pipeline's) pools over all of each speaker's utterances in the corpus,
    # as eval does: the SA sentences too, which the test split leaves out.
    speakers = {u.speaker for u in test}
    pool = [u for u in corpus if u.speaker in speakers]
    xs = [u.read_audio(p) for u in pool]
    pooled = p.compute_many(xs, p.sample_rate, speakers=[u.speaker for u in pool], names=[u.id for u in pool])
    by_id = {u.id: f for u, f in zip(pool, pooled)}
    feats = [by_id[u.id] for u in test]
    frames = correct = 0
    for u, f in zip(test, feats):
        t = model.targets(u)
        s = model.log_scores(f)
        assert s.shape == (len(t), 150) and np.isfinite(s).all()
        post = model.posteriors(f)
        np.testing.assert_allclose(post.sum(axis=1), 1, rtol=1e-5)
        assert (post.argmax(axis=1) == s.argmax(axis=1)).all()
        labelled = t >= 0
        frames += int(labelled.sum())
        correct += int((s.argmax(axis=1)[labelled] == t[labelled]).sum())
    assert results["unseen_frames"] == 0
    assert frames == results["test_frames"]
    assert correct / frames == pytest.approx(results["state_accuracy"], abs=1e-12)


def test_dnn_activations_equal_the_cli(trained, cli, demo):
    d, env = trained
    model = asrpipe.Model.load(d / "dnn" / "model")
    u = asrpipe.Corpus(demo).split("test")[0]
    f = model.pipeline.compute(u.read_audio(model.pipeline), 16000, name=u.id)
    for layer in [0, 1, 2]:
        out = d / f"act{layer}.npz"
        run(cli, "activations", "--model", str(d / "dnn" / "model"), "--corpus", str(demo), "--layer", str(layer), u.id, "-o", str(out), env=env)
        with np.load(out) as z:
            (key,) = z.files
            np.testing.assert_array_equal(model.activations(f, layer), z[key])
    with pytest.raises(ValueError, match=r"layer 3 requested, the DNN has 2 hidden layers"):
        model.activations(f, 3)
    with pytest.raises(ValueError, match=r"expects 13-dimensional frames, got 23"):
        model.log_scores(asrpipe.Pipeline.kaldi_fbank().compute(u.read_audio(model.pipeline), 16000))
    gmm = asrpipe.Model.load(d / "gmm" / "model")
    with pytest.raises(ValueError, match=r"activations needs a DNN model; this one is a GMM"):
        gmm.activations(f, 1)
    with pytest.raises(ValueError, match=r"features must be a 2-D float32 array"):
        model.log_scores(f.astype(np.float64))


@pytest.mark.parametrize("kind", ["gmm", "dnn"])
def test_any_memory_layout_and_wrong_widths(trained, demo, kind):
    d, _ = trained
    model = asrpipe.Model.load(d / kind / "model")
    u = asrpipe.Corpus(demo).split("test")[0]
    f = model.pipeline.without_post().compute(u.read_audio(model.pipeline), 16000)
    f = np.ascontiguousarray(np.tile(f, (1, 3))[:, : model.input_dim])  # the model's width
    ref = model.log_scores(f)
    np.testing.assert_array_equal(model.log_scores(np.asfortranarray(f)), ref)
    np.testing.assert_array_equal(model.log_scores(np.repeat(f, 2, axis=0)[::2]), ref)
    assert model.log_scores(f[:0]).shape == (0, model.num_states)
    with pytest.raises(ValueError, match=rf"expects {model.input_dim}-dimensional frames, got 5"):
        model.log_scores(f[:, :5])
