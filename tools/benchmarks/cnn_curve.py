#!/usr/bin/python3
"""cnn_curve.py — the configs for cnn_curve.sh: LeNet-5 on Fashion-MNIST, one worker,
plain SGD (lr 0.05), batch 64, a round per step, one epoch (938 steps), once as lsgd's
C `cnn` model and once as the same network scripted for the `torchscript` plugin
(PyTorch's kernels and autograd).  Both start from the scripted module's parameters
(cnn through model.init.value, in the module's parameter order, which is cnn's flat
layout) and draw the same batches (the same seed), so their train-loss curves differ
only by floating-point rounding.

  cnn_curve.py MODULE.pt OUT_DIR   writes OUT_DIR/cnn.json and OUT_DIR/torchscript.json
"""
import json
import sys

import torch

LAYERS = [{"conv": 6, "kernel": 5, "pad": 2}, {"relu": {}}, {"maxpool": 2},
          {"conv": 16, "kernel": 5}, {"relu": {}}, {"maxpool": 2}, {"flatten": {}},
          {"dense": 120}, {"relu": {}}, {"dense": 84}, {"relu": {}}, {"dense": 10}]


def config(model, out):
    data = "data/fashion-mnist/"
    return {
        "seed": 1, "workers": 1, "model": model,
        "data": {"train": {"format": "idx", "images": data + "train-images-idx3-ubyte",
                           "labels": data + "train-labels-idx1-ubyte"},
                 "test": {"format": "idx", "images": data + "t10k-images-idx3-ubyte",
                          "labels": data + "t10k-labels-idx1-ubyte"},
                 "partition": {"type": "iid"}, "normalize": "unit"},
        "algorithm": {"type": "local_sgd", "steps": 938, "batch_size": 64, "lr": 0.05},
        "schedule": {"type": "constant", "period": 1},
        "scaling": {"plugin": "sgd"},
        "metrics": {"drift": False},
        "output": {"dir": out, "eval_every": 1000000, "progress": "none",
                   "checkpoint_every": 0}}


def main():
    module, out = sys.argv[1], sys.argv[2]
    params = torch.jit.load(module).parameters()
    x0 = [float(v) for p in params for v in p.detach().flatten().tolist()]
    cnn = {"type": "cnn", "layers": LAYERS, "init": {"type": "value", "value": x0}}
    torchscript = {"plugin": "torchscript", "params": {"file": module}}
    for name, model in (("cnn", cnn), ("torchscript", torchscript)):
        with open(f"{out}/{name}.json", "w") as f:
            json.dump(config(model, f"{out}/run-{name}"), f)


if __name__ == "__main__":
    main()
