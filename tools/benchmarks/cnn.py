#!/usr/bin/python3
"""cnn.py — PyTorch eager's LeNet-5 (the same network as examples/mnist_lenet5.json),
batch 64 of MNIST-shaped data, one thread: a training step's loss and gradient
(forward, cross-entropy, backward), best of rounds, printed as "name value" lines
for tools/benchmarks/cnn.sh.  Also the HVP by double backward, for reference.  Times
are the thread's CPU time (time.thread_time, as cnn.c's CLOCK_THREAD_CPUTIME_ID)."""
import time

import torch

BATCH, REPS, ROUNDS = 64, 5, 30


def lenet5():
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 6, 5, padding=2), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(6, 16, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Flatten(),
        torch.nn.Linear(400, 120), torch.nn.ReLU(), torch.nn.Linear(120, 84), torch.nn.ReLU(),
        torch.nn.Linear(84, 10))


def best(fn):
    fn()
    times = []
    for _ in range(ROUNDS):
        t = time.thread_time()
        for _ in range(REPS):
            fn()
        times.append((time.thread_time() - t) / REPS)
    return min(times)


def main():
    torch.set_num_threads(1)
    torch.manual_seed(1)
    net = lenet5()
    params = list(net.parameters())
    X = torch.rand(BATCH, 1, 28, 28)
    y = torch.randint(0, 10, (BATCH,))
    v = [torch.randint(0, 2, p.shape).float() * 2 - 1 for p in params]

    def step():
        for p in params:
            p.grad = None
        torch.nn.functional.cross_entropy(net(X), y).backward()

    def hvp():
        loss = torch.nn.functional.cross_entropy(net(X), y)
        g = torch.autograd.grad(loss, params, create_graph=True)
        torch.autograd.grad(sum((a * b).sum() for a, b in zip(g, v)), params)

    print(f"torch_version {torch.__version__}")
    print(f"torch_lenet5_step_ms {best(step) * 1e3:.3f}")
    print(f"torch_lenet5_hvp_ms {best(hvp) * 1e3:.3f}")


if __name__ == "__main__":
    main()
