#!/usr/bin/env bash
# tools/benchmarks/models.sh — models and data speed (see tools/benchmarks/models.c),
# run once per OpenBLAS kernel and printed side by side:
#   auto     OpenBLAS's own CPU detection (OPENBLAS_CORETYPE unset)
#   lsgd     the kernel lsgd sets (lsgd_blas_preferred_core: SkylakeX / Haswell)
#   generic  OPENBLAS_CORETYPE=Prescott, the fallback kernel, for reference
# One BLAS thread throughout (what each worker runs with).
# Then the torchscript model plugin's ResNet-8 (tools/export-model resnet8) against
# PyTorch eager on the same network (tools/benchmarks/models.py), batch 64, one
# thread each (torch.set_num_threads(1) on both sides, OMP/OpenBLAS at 1): the
# training step (loss + gradient), the HVP, and the step ratio against its target.
set -euo pipefail
root=${LSGD_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${LSGD_BUILD:-$root/build}
bin=$build/bench/models
[ -x "$bin" ] || { echo "bench models: $bin missing (make bench BUILD=…)" >&2; exit 2; }
"$root/tools/fetch-data" mnist >/dev/null
heart=$(dpkg -L liblinear-tools 2>/dev/null | grep '/heart_scale$' | head -1)
heart=${heart:-/usr/share/doc/liblinear-tools/examples/heart_scale}
mnist=$root/data/mnist
preferred=$(OPENBLAS_NUM_THREADS=1 "$bin" --preferred-core 2>/dev/null || true)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
env -u OPENBLAS_CORETYPE OPENBLAS_NUM_THREADS=1 "$bin" "$mnist" "$heart" > "$tmp/auto"
cols=(auto)
if [ -n "$preferred" ] && [ "$preferred" != none ]; then
    OPENBLAS_CORETYPE=$preferred OPENBLAS_NUM_THREADS=1 "$bin" "$mnist" "$heart" > "$tmp/lsgd"
    cols+=(lsgd)
fi
OPENBLAS_CORETYPE=Prescott OPENBLAS_NUM_THREADS=1 "$bin" "$mnist" "$heart" > "$tmp/generic"
cols+=(generic)

echo "machine: $(nproc) cores shared with other work; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)"
files=()
for c in "${cols[@]}"; do files+=("$tmp/$c"); done
awk -v header="${cols[*]}" '
    FNR == 1 { f++ }
    { name[FNR] = $1; val[f, FNR] = $2; n = FNR }
    END {
        split(header, h, " ")
        printf "%-32s", "figure"; for (k = 1; k <= f; k++) printf " %12s", h[k]; printf "\n"
        for (i = 1; i <= n; i++) {
            printf "%-32s", name[i]; for (k = 1; k <= f; k++) printf " %12s", val[k, i]; printf "\n"
        }
    }' "${files[@]}"

main=$tmp/${cols[1]:-auto}
[ -f "$tmp/lsgd" ] && main=$tmp/lsgd
get() { awk -v k="$1" '$1 == k { print $2 }' "$main"; }
echo
echo "targets (kernel $(get openblas_core)):"
awk -v r="$(get mlp_step_over_sgemm)" 'BEGIN { printf "  MLP step / its sgemm calls alone  %.2fx  (target <= 1.3x) %s\n", r, r <= 1.3 ? "ok" : "MISSED" }'
awk -v r="$(get mlp_hvp_over_grad)" 'BEGIN { printf "  MLP HVP / gradient                %.2fx  (target <= 2.5x) %s\n", r, r <= 2.5 ? "ok" : "MISSED" }'
awk -v r="$(get sparse_logreg_b64_hvp_over_grad)" 'BEGIN { printf "  sparse logreg HVP / gradient      %.2fx  (target <= 2.5x) %s\n", r, r <= 2.5 ? "ok" : "MISSED" }'
awk -v s="$(get mnist_load_s)" 'BEGIN { printf "  MNIST 60,000 images load          %.3f s (target < 1 s)  %s\n", s, s < 1 ? "ok" : "MISSED" }'
awk -v a="$(awk '$1 == "mlp_sgemm_gflops" { print $2 }' "$tmp/generic")" -v b="$(get mlp_sgemm_gflops)" \
    'BEGIN { printf "  sgemm on the MLP shapes           %.1f GFLOP/s vs %.1f with the generic kernel (%.1fx)\n", b, a, b / a }'

# ---- torchscript ResNet-8 against PyTorch eager (needs python3-torch for both:
# the .pt is exported at bench time) ----
echo
if ! /usr/bin/python3 -c 'import torch' 2>/dev/null; then
    echo "bench models: python3-torch missing; torchscript ResNet-8 figures skipped" >&2
    exit 0
fi
/usr/bin/python3 "$root/tools/export-model" resnet8 "$tmp/resnet8.pt" >/dev/null
one=(env OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1)
[ -n "$preferred" ] && [ "$preferred" != none ] && one+=(OPENBLAS_CORETYPE="$preferred")
# lsgd and PyTorch take turns, three runs each; each *_ms figure keeps its best run
for run in 1 2 3; do
    "${one[@]}" "$bin" --torchscript "$tmp/resnet8.pt" >> "$tmp/ts"
    "${one[@]}" /usr/bin/python3 "$root/tools/benchmarks/models.py" >> "$tmp/eager"
done
awk '$1 ~ /_ms$/ { if (!($1 in v) || $2 < v[$1]) v[$1] = $2; next }
     !($1 in v) { v[$1] = $2; order[++n] = $1 }
     END { for (k in v) print k, v[k] }' "$tmp/ts" "$tmp/eager" | sort > "$tmp/resnet8"
cat "$tmp/resnet8"
rget() { awk -v k="$1" '$1 == k { print $2 }' "$tmp/resnet8"; }
echo
echo "targets (ResNet-8, batch 64, [3, 32, 32], one thread each; torch $(rget torch_version)):"
awk -v a="$(rget torchscript_resnet8_step_ms)" -v b="$(rget torch_resnet8_step_ms)" 'BEGIN {
    printf "  torchscript ResNet-8 step: lsgd %.2f ms, PyTorch eager %.2f ms: %.2fx  (target <= 1.1x) %s\n",
           a, b, a / b, (a / b <= 1.1 ? "ok" : "MISSED") }'
awk -v a="$(rget torchscript_resnet8_hvp_ms)" -v b="$(rget torch_resnet8_hvp_ms)" 'BEGIN {
    printf "  torchscript ResNet-8 HVP:  lsgd %.2f ms, PyTorch eager %.2f ms: %.2fx\n", a, b, a / b }'
