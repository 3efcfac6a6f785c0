#!/usr/bin/python3
"""models.py — PyTorch eager's ResNet-8 (tools/export-model's ResNet8, the network the
torchscript benchmark loads), batch 64 of CIFAR-10-shaped data, one thread: a training
step's loss and gradient (forward, cross-entropy, backward), and the HVP by double
backward, timed interleaved (best round each), printed as "name value" lines for
tools/benchmarks/models.sh."""
import importlib.machinery
import importlib.util
import os
import time

import torch

BATCH, REPS, ROUNDS = 64, 5, 7


def export_model():
    """tools/export-model as a module (its file name has no .py)."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "export-model")
    loader = importlib.machinery.SourceFileLoader("export_model", path)
    spec = importlib.util.spec_from_loader("export_model", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def time_interleaved(works):
    """Seconds per call of each work, as models.c times them: after a warm-up, each of
    ROUNDS rounds times REPS calls of every work in turn; each keeps its best round."""
    for fn in works.values():
        for _ in range(REPS // 4 + 1):
            fn()
    best = dict.fromkeys(works, float("inf"))
    for _ in range(ROUNDS):
        for name, fn in works.items():
            t = time.perf_counter()
            for _ in range(REPS):
                fn()
            best[name] = min(best[name], (time.perf_counter() - t) / REPS)
    return best


def main():
    torch.set_num_threads(1)
    torch.manual_seed(1)
    net = export_model().ResNet8(3, 32)
    params = list(net.parameters())
    X = torch.rand(BATCH, 3, 32, 32)
    y = torch.randint(0, 10, (BATCH,))
    v = [torch.randint(0, 2, p.shape).float() * 2 - 1 for p in params]

    def step():
        for p in params:
            p.grad = None
        loss = torch.nn.functional.cross_entropy(net(X), y)
        loss.backward()
        loss.item()

    def hvp():
        loss = torch.nn.functional.cross_entropy(net(X), y)
        g = torch.autograd.grad(loss, params, create_graph=True)
        torch.autograd.grad(sum((a * b).sum() for a, b in zip(g, v)), params)

    best = time_interleaved({"step": step, "hvp": hvp})
    print(f"torch_version {torch.__version__}")
    print(f"torch_threads {torch.get_num_threads()}")
    print(f"torch_resnet8_step_ms {best['step'] * 1e3:.3f}")
    print(f"torch_resnet8_hvp_ms {best['hvp'] * 1e3:.3f}")


if __name__ == "__main__":
    main()
