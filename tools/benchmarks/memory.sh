#!/usr/bin/env bash
# tools/benchmarks/memory.sh — one copy of the training data per host:
# MNIST MLP 784-256-10 with Local Adam over shm, for 1, 4,
# 16 and 64 workers ($LSGD_BENCH_WORKERS), each run twice side by side:
#
#   shared   the default: the workers map the host's one copy of the loaded
#            sets (data/shared_rows.h), built cold in a fresh cache directory
#   private  data.shared false: every worker loads its own (up to 16 workers;
#            64 would need ~15 GB)
#
# Figures per run: the workers' summed PSS (from /proc/PID/smaps_rollup,
# sampled every 0.05 s from start to end of a 240-step run; the peak is
# printed, so the first round is inside the window), for shared runs that
# peak split by kind of mapping per worker (/proc/PID/smaps: the data file,
# the shm transport's segment, anonymous memory and heap, libraries), and
# the start-up time lsgd itself prints (from `lsgd run` to the first round).  Targets beside them: summed PSS ≤ (one copy
# of the data + W × (model + Adam state + shard index)) × 1.2, and start-up
# ≤ 5 s at 64 workers.
set -euo pipefail
root=${LSGD_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${LSGD_BUILD:-$root/build}
lsgd=$build/bin/lsgd
[ -x "$lsgd" ] || { echo "bench memory: build first (make all)" >&2; exit 2; }
cd "$root"
tools/fetch-data mnist >/dev/null
tmp=$(mktemp -d)
cache=$(mktemp -d -p /dev/shm lsgd-bench-XXXXXX)
trap 'rm -rf "$tmp" "$cache"' EXIT
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1

cat > "$tmp/job.json" <<'EOF'
{
  "seed": 1,
  "model": {"type": "mlp", "hidden": [256], "activation": "relu"},
  "data": {
    "train": {"format": "idx", "images": "data/mnist/train-images-idx3-ubyte",
              "labels": "data/mnist/train-labels-idx1-ubyte"},
    "test": {"format": "idx", "images": "data/mnist/t10k-images-idx3-ubyte",
             "labels": "data/mnist/t10k-labels-idx1-ubyte"},
    "partition": {"type": "iid"},
    "normalize": "unit"
  },
  "algorithm": {"type": "local_sgd", "steps": 240, "batch_size": 64, "lr": 0.001},
  "schedule": {"type": "constant", "period": 8},
  "scaling": {"plugin": "adam"},
  "transport": {"plugin": "shm"},
  "output": {"eval_every": 1000000, "progress": "none", "checkpoint_every": 0}
}
EOF
params=$((784 * 256 + 256 + 256 * 10 + 10))   # the MLP's parameters
train_n=60000

# pss_of PIDS…: their summed PSS in kB (processes gone meanwhile count 0).
pss_of() {
    local files=() pid
    for pid in "$@"; do files+=("/proc/$pid/smaps_rollup"); done
    [ ${#files[@]} -gt 0 ] || { echo 0; return; }
    # cat, not awk FILE…: mawk stops at a file that vanished (a worker ended)
    { cat "${files[@]}" 2>/dev/null || true; } | awk '/^Pss:/ { sum += $2 } END { print sum + 0 }'
}

# by_mapping PIDS…: their summed PSS in kB per kind of mapping, "data transport
# anon libraries other": the shared rows file, the transport's shm segment,
# private memory (heap and anonymous: model vectors, scaling state, BLAS and
# model buffers), shared objects' pages, and the rest (stacks, vdso).
by_mapping() {
    local files=() pid
    for pid in "$@"; do files+=("/proc/$pid/smaps"); done
    [ ${#files[@]} -gt 0 ] || { echo 0 0 0 0 0; return; }
    { cat "${files[@]}" 2>/dev/null || true; } | awk '
        $1 ~ /^[0-9a-f]+-[0-9a-f]+$/ {
            p = $6
            if (p ~ /lsgd-data-/) k = "data"
            else if (p ~ /^\/dev\/shm\//) k = "transport"
            else if (p == "" || p == "[heap]") k = "anon"
            else if (p ~ /\.so/) k = "libraries"
            else k = "other"
            next
        }
        $1 == "Pss:" { sum[k] += $2 }
        END { printf "%d %d %d %d %d\n", sum["data"], sum["transport"], sum["anon"],
                     sum["libraries"], sum["other"] }'
}

# run WORKERS SHARED: "peak_pss_kB startup_s" of one run; the peak's PSS by
# kind of mapping (by_mapping) goes to $out.mappings.
run() {
    local workers=$1 shared=$2 out="$tmp/run-$1-$2"
    rm -rf "$cache"/* "$out"
    LSGD_DATA_CACHE=$cache "$lsgd" run "$tmp/job.json" --set workers="$workers" \
        --set data.shared="$shared" --set output.dir="$out" >"$out.log" 2>&1 &
    local launcher=$! peak=0 pss pids
    while kill -0 "$launcher" 2>/dev/null; do
        pids=$(pgrep -P "$launcher" || true)
        # shellcheck disable=SC2086
        pss=$(pss_of $pids)
        if [ "$pss" -gt "$peak" ]; then
            peak=$pss
            # shellcheck disable=SC2086
            by_mapping $pids > "$out.mappings"
        fi
        sleep 0.05
    done
    wait "$launcher" || { echo "bench memory: the run of $workers workers failed:" >&2; cat "$out.log" >&2; exit 1; }
    local startup
    startup=$(sed -n 's/.*(start-up \([0-9.]*\) s).*/\1/p' "$out.log" | tail -1)
    echo "$peak ${startup:-?}"
}

# What a worker holds at the peak of a shared run, by kind of mapping, in MiB per worker.
per_worker_mappings() {
    awk -v w="$1" '{ printf "    per worker at the peak: data %.1f (its share of the one copy), " \
        "anonymous+heap %.1f, shm transport %.1f, libraries %.1f, other %.1f MiB\n",
        $1 / 1024 / w, $3 / 1024 / w, $2 / 1024 / w, $4 / 1024 / w, $5 / 1024 / w }' \
        "$tmp/run-$1-true.mappings"
}

mib() { awk -v kb="$1" 'BEGIN { printf "%.0f", kb / 1024 }'; }

# One copy of the data: the size of the shared file a run leaves in the cache.
LSGD_DATA_CACHE=$cache "$lsgd" validate "$tmp/job.json" >/dev/null
copy_kb=$(($(stat -c %s "$cache"/lsgd-data-*.rows) / 1024))

printf '%-8s %-8s %12s %12s %16s %10s %8s\n' workers data "summed PSS" "PSS target" "beyond the data" start-up target
for workers in ${LSGD_BENCH_WORKERS:-1 4 16 64}; do
    # model + Adam's two moments, and the shard's row indices, per worker
    per_worker_kb=$(((3 * params * 4 + train_n / workers * 4) / 1024))
    target_kb=$(((copy_kb + workers * per_worker_kb) * 12 / 10))
    startup_target="-"
    [ "$workers" -ge 64 ] && startup_target="5 s"
    for shared in true false; do
        [ "$shared" = false ] && [ "$workers" -gt 16 ] && continue
        read -r peak startup < <(run "$workers" "$shared")
        if [ "$shared" = true ]; then
            printf '%-8s %-8s %8s MiB %8s MiB %9s MiB/w %8s s %8s\n' "$workers" shared \
                "$(mib "$peak")" "$(mib "$target_kb")" "$(mib $(((peak - copy_kb) / workers)))" \
                "$startup" "$startup_target"
            per_worker_mappings "$workers"
        else
            printf '%-8s %-8s %8s MiB %12s %16s %8s s\n' "$workers" private "$(mib "$peak")" - - \
                "$startup"
        fi
    done
done
echo "load average while measured: $(cut -d' ' -f1-3 /proc/loadavg) on $(getconf _NPROCESSORS_ONLN) cores"
echo "one copy of the data (train + test, normalized): $(mib "$copy_kb") MiB; the target's" \
     "per-worker share: model + Adam state ($((3 * params * 4 / 1024)) KiB) + shard index;" \
     "'beyond the data': (summed PSS - one copy) / workers, the whole rest of a worker process"
