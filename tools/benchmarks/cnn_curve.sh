#!/usr/bin/env bash
# tools/benchmarks/cnn_curve.sh — "equal loss curve over 1 epoch": LeNet-5 on
# Fashion-MNIST trained by lsgd's C `cnn` model and by PyTorch (the same network
# scripted, through the `torchscript` plugin: PyTorch's kernels and autograd), from
# the same x0 on the same batches (tools/benchmarks/cnn_curve.py), one worker, plain
# SGD, one thread each.  Prints the first step's two losses, the largest gap over the
# first 100 steps (rounding only), the mean loss of each fifth of the epoch (the
# curves part by rounding's chaos after the plateau, so the fifths are what
# "equal" can mean), and the test accuracy after the epoch.
set -euo pipefail
root=${LSGD_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${LSGD_BUILD:-$root/build}
lsgd=$build/bin/lsgd
/usr/bin/python3 -c 'import torch' 2>/dev/null ||
    { echo "bench cnn curve: skipped: python3-torch missing"; exit 0; }
[ -e "$build/plugins/torchscript.so" ] ||
    { echo "bench cnn curve: skipped: the torchscript plugin is not built"; exit 0; }
cd "$root"
tools/fetch-data fashion-mnist >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
tools/export-model lenet5 "$tmp/lenet5.pt" --seed 1 >/dev/null
/usr/bin/python3 tools/benchmarks/cnn_curve.py "$tmp/lenet5.pt" "$tmp"
for side in cnn torchscript; do
    "$lsgd" run "$tmp/$side.json" > "$tmp/$side.log" 2>&1 ||
        { echo "bench cnn curve: the $side run failed:" >&2; cat "$tmp/$side.log" >&2; exit 1; }
done
acc() { sed -n 's/.*test accuracy \([0-9.]*\)%.*/\1/p' "$tmp/$1.log" | tail -1; }
/usr/bin/python3 - "$tmp/run-cnn/metrics.csv" "$tmp/run-torchscript/metrics.csv" \
    "$(acc cnn)" "$(acc torchscript)" <<'PY'
import csv, sys
a, b = ([float(r["train_loss"]) for r in csv.DictReader(open(p))] for p in sys.argv[1:3])
print(f"-- LeNet-5 on Fashion-MNIST, 1 epoch ({len(a)} steps of 64), same x0 and batches:"
      " lsgd cnn vs PyTorch (torchscript plugin)")
print(f"  step 1 loss: cnn {a[0]:.7f}, PyTorch {b[0]:.7f}; largest gap over steps 1-100:"
      f" {max(abs(x - y) for x, y in zip(a[:100], b[:100])):.2e}")
fifth, worst = (len(a) + 4) // 5, 0.0
for s in range(0, len(a), fifth):
    ma, mb = sum(a[s:s + fifth]) / len(a[s:s + fifth]), sum(b[s:s + fifth]) / len(b[s:s + fifth])
    worst = max(worst, abs(ma - mb) / mb)
    print(f"  steps {s + 1:4d}-{min(s + fifth, len(a)):4d}: mean loss cnn {ma:.4f}, PyTorch {mb:.4f}")
print(f"  test accuracy after the epoch: cnn {sys.argv[3]}%, PyTorch {sys.argv[4]}%")
print(f"  loss curves equal (each fifth's mean within 1%): largest gap {100 * worst:.2f}%",
      "ok" if worst <= 0.01 else "MISSED")
PY
