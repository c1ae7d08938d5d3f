#!/usr/bin/env python3
"""PyTorch side of the DNN comparison (scripts/bench-dnn.sh runs both).

--bench: time the same training step asrpipe's `cargo bench --bench dnn -- --plain` times:
  8x1000 ReLU, 440 inputs, 2000 outputs, batch 256, SGD momentum 0.9, on CPU with 2 threads.
--check DIR: load an asrpipe DNN model file into torch and compare its outputs with asrpipe's
  (DIR holds net.safetensors + net.json, feats.npy, log_posteriors.npy, hidden_<L>.npy).

An asrpipe model file is a torch state dict: `layers.{i}.weight` [out, in] and `layers.{i}.bias`
[out] (nn.Linear), `input_mean` and `input_std` [feature_dim]; the JSON beside it gives the
shape. Loading it is:

    meta = json.load(open("net.json"))
    model = AsrpipeDnn(meta)
    model.load_state_dict(safetensors.torch.load_file("net.safetensors"))
    log_post = model(torch.from_numpy(feats))          # feats: [frames, feature_dim], unspliced
"""

import argparse
import json
import pathlib
import time

import numpy as np
import torch
from torch import nn


def splice(x: torch.Tensor, context: int) -> torch.Tensor:
    """Frames t-context..t+context side by side, edges repeating the first/last frame (Kaldi)."""
    t = x.shape[0]
    idx = torch.arange(t)[:, None] + torch.arange(-context, context + 1)[None, :]
    return x[idx.clamp(0, t - 1)].reshape(t, -1)


class AsrpipeDnn(nn.Module):
    ACTIVATIONS = {"relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh}

    def __init__(self, meta: dict):
        super().__init__()
        dims = [meta["input_dim"], *meta["hidden"], meta["num_classes"]]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims, dims[1:]))
        self.register_buffer("input_mean", torch.zeros(meta["feature_dim"]))
        self.register_buffer("input_std", torch.ones(meta["feature_dim"]))
        self.context = meta["context"]
        self.act = self.ACTIVATIONS[meta["activation"]]

    def hidden(self, feats: torch.Tensor, upto: int) -> torch.Tensor:
        """Layer `upto` (0 = normalised spliced input, 1..L hidden, L+1 logits)."""
        x = splice((feats - self.input_mean) / self.input_std, self.context)
        for i, layer in enumerate(self.layers[:upto]):
            x = layer(x)
            if i + 1 < len(self.layers):
                x = self.act(x)
        return x

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        return torch.log_softmax(self.hidden(feats, len(self.layers)), dim=-1)


def check(d: pathlib.Path) -> None:
    from safetensors.torch import load_file

    meta = json.loads((d / "net.json").read_text())
    model = AsrpipeDnn(meta)
    model.load_state_dict(load_file(d / "net.safetensors"))  # strict: every name must match
    feats = torch.from_numpy(np.load(d / "feats.npy"))
    with torch.no_grad():
        got = model(feats).numpy()
        want = np.load(d / "log_posteriors.npy")
        err = float(np.abs(got - want).max())
        print(f"log posteriors: {got.shape}, max |torch - asrpipe| = {err:.2e}")
        assert err < 1e-4, err
        for f in sorted(d.glob("hidden_*.npy")):
            layer = int(f.stem.split("_")[1])
            h = model.hidden(feats, layer).numpy()
            e = float(np.abs(h - np.load(f)).max())
            print(f"layer {layer} activations: {h.shape}, max |torch - asrpipe| = {e:.2e}")
            assert e < 1e-4, e
    same = (got.argmax(1) == want.argmax(1)).mean()
    print(f"same best class on {100 * same:.1f}% of frames: torch loads asrpipe's model")


def bench(steps: int, threads: int) -> None:
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    batch, inputs, width, depth, classes = 256, 440, 1000, 8, 2000
    dims = [inputs] + [width] * depth + [classes]
    layers = []
    for i, (a, b) in enumerate(zip(dims, dims[1:])):
        layers.append(nn.Linear(a, b))
        if i + 2 < len(dims):
            layers.append(nn.ReLU())
    model = nn.Sequential(*layers)
    opt = torch.optim.SGD(model.parameters(), lr=0.001, momentum=0.9)
    x = torch.randn(batch, inputs)
    y = torch.randint(0, classes, (batch,))

    def step():
        opt.zero_grad(set_to_none=True)
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()

    for _ in range(3):
        step()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    times.sort()
    median = times[len(times) // 2]
    flops = 6 * batch * sum(a * b for a, b in zip(dims, dims[1:]))
    print(
        f"pytorch {torch.__version__} ({threads} threads): {median * 1e3:7.1f} ms/step "
        f"(median of {steps}, min {times[0] * 1e3:.1f}), {flops / median / 1e9:6.1f} GFLOP/s"
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--bench", action="store_true")
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--check", type=pathlib.Path)
    a = p.parse_args()
    if a.check:
        check(a.check)
    if a.bench:
        bench(a.steps, a.threads)


if __name__ == "__main__":
    main()
