#!/usr/bin/python3
"""cnn-reference.py — reference gradients and Hessian-vector products of lsgd's cnn model, by PyTorch.

Writes tests/data/cnn/ (committed; rerun only to regenerate):
  <case>.json   the model config (the same "layers" lsgd reads), the sample count n,
                features d, classes, the number of parameters dim, and the loss
  <case>.f32    float32 little-endian: X[n][d], y[n], x[dim], v[dim], grad[dim], hvp[dim]

The torch network is built from the same layer list, so its parameters in
module order are lsgd's flat vector (conv weight [OC, C, K, K], dense weight
[OC, C], each followed by its bias).  Loss: mean softmax cross-entropy.
grad by autograd, hvp by double backward (the gradient of gᵀv), all in
float64 from the float32 inputs.  Usage: tools/cnn-reference.py [OUTDIR]
"""
import json
import os
import sys

import numpy as np
import torch

SEED = 20261129

LENET5 = [{"conv": 6, "kernel": 5, "pad": 2}, {"relu": {}}, {"maxpool": 2},
          {"conv": 16, "kernel": 5}, {"relu": {}}, {"maxpool": 2}, {"flatten": {}},
          {"dense": 120}, {"relu": {}}, {"dense": 84}, {"relu": {}}, {"dense": 10}]

# name: (input shape [C, H, W], classes, layers, samples)
CASES = {
    "lenet5": ([1, 28, 28], 10, LENET5, 4),
    "resblock": ([2, 8, 8], 5, [
        {"conv": 4, "kernel": 3, "pad": 1}, {"relu": {}},
        {"residual": [{"conv": 4, "kernel": 3, "pad": 1}, {"relu": {}},
                      {"conv": 4, "kernel": 3, "pad": 1}]},
        {"relu": {}}, {"avgpool": 2}, {"flatten": {}}, {"dense": 5}], 4),
    "strided": ([3, 11, 11], 4, [
        {"conv": 4, "kernel": 3, "stride": 2, "pad": 1}, {"relu": {}},
        {"maxpool": 3, "stride": 2},
        {"conv": 5, "kernel": 1, "bias": False}, {"relu": {}},
        {"avgpool": 2, "stride": 1}, {"flatten": {}}, {"dense": 4}], 3),
}


class Residual(torch.nn.Module):
    def __init__(self, block):
        super().__init__()
        self.block = block

    def forward(self, x):
        return self.block(x) + x


def build(layers, shape):
    """A torch.nn.Sequential of the layer list and the shape it ends in."""
    c, h, w = shape
    mods = []
    for spec in layers:
        if "conv" in spec:
            k, s, p = spec.get("kernel", 3), spec.get("stride", 1), spec.get("pad", 0)
            mods.append(torch.nn.Conv2d(c, spec["conv"], k, s, p, bias=spec.get("bias", True)))
            c, h, w = spec["conv"], (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
        elif "relu" in spec:
            mods.append(torch.nn.ReLU())
        elif "maxpool" in spec or "avgpool" in spec:
            k = spec.get("maxpool", spec.get("avgpool"))
            s = spec.get("stride", k)
            pool = torch.nn.MaxPool2d if "maxpool" in spec else torch.nn.AvgPool2d
            mods.append(pool(k, s))
            h, w = (h - k) // s + 1, (w - k) // s + 1
        elif "flatten" in spec:
            mods.append(torch.nn.Flatten())
            c, h, w = c * h * w, 1, 1
        elif "dense" in spec:
            mods.append(torch.nn.Linear(c, spec["dense"], bias=spec.get("bias", True)))
            c = spec["dense"]
        elif "residual" in spec:
            block, _ = build(spec["residual"], (c, h, w))
            mods.append(Residual(block))
    return torch.nn.Sequential(*mods), (c, h, w)


def case(name, shape, classes, layers, n, outdir):
    torch.manual_seed(SEED)
    net, _ = build(layers, shape)
    d = int(np.prod(shape))
    X = torch.randn(n, d, dtype=torch.float32)
    y = torch.arange(n) % classes
    params = list(net.parameters())
    x = torch.cat([p.detach().reshape(-1) for p in params])
    v = torch.randn(x.numel(), dtype=torch.float32)
    net = net.double()
    ps = list(net.parameters())
    loss = torch.nn.functional.cross_entropy(net(X.double().reshape(n, *shape)), y)
    grads = torch.autograd.grad(loss, ps, create_graph=True)
    g = torch.cat([t.reshape(-1) for t in grads])
    hv = torch.autograd.grad(torch.dot(g, v.double()), ps)
    hvp = torch.cat([t.reshape(-1) for t in hv])
    blob = [X.reshape(-1), y.float(), x, v, g.detach().float(), hvp.float()]
    np.concatenate([t.numpy().astype("<f4") for t in blob]).tofile(os.path.join(outdir, name + ".f32"))
    meta = {"model": {"type": "cnn", "input_shape": list(shape), "layers": layers},
            "n": n, "d": d, "classes": classes, "dim": x.numel(), "loss": loss.item()}
    with open(os.path.join(outdir, name + ".json"), "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "tests", "data", "cnn")
    os.makedirs(outdir, exist_ok=True)
    for name, (shape, classes, layers, n) in CASES.items():
        case(name, shape, classes, layers, n, outdir)


if __name__ == "__main__":
    main()
