#!/usr/bin/env bash
# tools/benchmarks/network.sh — training over real TCP links: time to a
# fixed test accuracy.
#
# The MNIST MLP 784-256-10 on 4 hosts of tools/netlab, each link 100 Mbit/s
# and 10 ms, over zmq; SGD (Nesterov momentum 0.9, weight decay 1e-4, lr
# 0.05), batch 64, 1600 steps per worker.  Runs:
#   - local_sgd (an average every 8 steps, 200 rounds) with the models as
#     float32 (no compression key: the allreduce), and with each compressor:
#     none (float32 changes, by all-gather), fp16, int8 (error feedback),
#     topk 1% (error feedback), powersgd rank 4 (error feedback);
#   - overlap_local_sgd (α 0.6, β 0.7), uncompressed and, when this lsgd
#     accepts compression with it (`lsgd validate` says), with each compressor;
#   - the increasing schedule (100 rounds, intervals growing linearly),
#     float32 and int8;
#   - local_sgd on unshaped links: a round without the link's cost (for each
#     compressor that has an overlap row: its encode/decode is in it);
#   - float32 local_sgd (unshaped and shaped) and overlap with an average
#     every 128 steps (20 rounds): a round's local steps then outlast the link.
# Time to target is the wall time (metrics wall_s) of the first round whose
# averaged model reaches TARGET test accuracy.  It holds no evaluation: the
# timed runs evaluate only after their last round (a round's wall_s is taken
# before its evaluation), and the round that first reaches the target comes
# from a replay of the same config on shm evaluating every 2 rounds, which
# computes bitwise the same models (checked: the replay's final model.npy
# equals the timed run's).  For each run: rounds and time to target, ms per
# round, bytes sent per round (all workers, the median round), final test
# accuracy.  Then the targets:
#   - int8 reaches the target within a third of the wall time of the float32
#     allreduce, its final accuracy within 0.3 points of it;
#   - overlap hides at least 80% of the link time blocking local_sgd pays:
#         hidden = 1 - (overlap - unshaped) / (local_sgd - unshaped)
#     (ms per round; at most unshaped / (local_sgd - unshaped): the local
#     steps of a round are all a link's time can hide behind).
# TARGET (LSGD_BENCH_TARGET, default 97.0%): every variant reaches it within
# the 1600 steps (the float32 run at about round 108 of 200, ending at
# 97.67%; overlap, the slowest in rounds, at about 156).  Best of
# LSGD_BENCH_REPS (1) timed runs each: 12 minutes on 2 cores at load average 5
# (14 at 15).
# Needs root (netlab's namespaces): otherwise says "skipped" and why.
set -euo pipefail
root=${LSGD_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${LSGD_BUILD:-$root/build}
lsgd=$build/bin/lsgd
[ -x "$lsgd" ] || { echo "bench network: build first (make bench BUILD=…)" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "bench network: skipped: tools/netlab needs root for network namespaces"; exit 0; }
cd "$root"
tools/fetch-data mnist > /dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
reps=${LSGD_BENCH_REPS:-1}
target=${LSGD_BENCH_TARGET:-97.0}
[[ $target =~ ^[0-9]+([.][0-9]+)?$ ]] ||
    { echo "bench network: LSGD_BENCH_TARGET: '$target' is not a percentage" >&2; exit 2; }
hosts=4 delay=10 rate=100 steps=1600 period=8 increasing_rounds=100 replay_eval=2
long_period=128 long_rounds=20

# What travels, by name: the "compression" value (float: no compression key).
codecs=(float none fp16 int8 topk powersgd)
declare -A codec=(
    [none]='{"plugin": "none"}'
    [fp16]='{"plugin": "fp16"}'
    [int8]='{"plugin": "int8", "error_feedback": true}'
    [topk]='{"plugin": "topk", "params": {"fraction": 0.01}, "error_feedback": true}'
    [powersgd]='{"plugin": "powersgd", "params": {"rank": 4}, "error_feedback": true}'
)

# job ALGORITHM SCHEDULE CODEC: the config, on stdout
job() {
    local extra="" schedule="{\"type\": \"constant\", \"period\": $period}" compression=""
    [ "$1" = overlap_local_sgd ] && extra=', "overlap": {"alpha": 0.6, "beta": 0.7}'
    [ "$2" = increasing ] && schedule="{\"type\": \"increasing\", \"rounds\": $increasing_rounds}"
    [ "$3" = float ] || compression=", \"compression\": ${codec[$3]}"
    cat << EOF
{"seed": 1, "workers": $hosts,
 "model": {"type": "mlp", "hidden": [256], "activation": "relu"},
 "data": {"train": {"format": "idx", "images": "data/mnist/train-images-idx3-ubyte",
                    "labels": "data/mnist/train-labels-idx1-ubyte"},
          "test": {"format": "idx", "images": "data/mnist/t10k-images-idx3-ubyte",
                   "labels": "data/mnist/t10k-labels-idx1-ubyte"},
          "partition": {"type": "iid"}, "normalize": "unit"},
 "algorithm": {"type": "$1", "steps": $steps, "batch_size": 64, "lr": 0.05$extra},
 "schedule": $schedule,
 "scaling": {"plugin": "sgd", "params": {"momentum": 0.9, "nesterov": true, "weight_decay": 0.0001}}$compression,
 "output": {"eval_every": 1000000, "progress": "none"}}
EOF
}

# The runs: NAME → config; timed on shaped links unless NAME starts with "unshaped".
runs=()
add() { # add NAME ALGORITHM SCHEDULE CODEC
    job "$2" "$3" "$4" > "$tmp/$1.json"
    runs+=("$1")
}
for c in "${codecs[@]}"; do add "local_sgd-$c" local_sgd constant "$c"; done
overlap_codecs=(float)
job overlap_local_sgd constant int8 > "$tmp/probe.json"
if refused=$("$lsgd" validate "$tmp/probe.json" --no-data 2>&1); then
    overlap_codecs=("${codecs[@]}")
else
    overlap_refused=${refused#lsgd: }
fi
for c in "${overlap_codecs[@]}"; do add "overlap-$c" overlap_local_sgd constant "$c"; done
for c in float int8; do add "increasing-$c" local_sgd increasing "$c"; done
for c in "${overlap_codecs[@]}"; do
    cp "$tmp/local_sgd-$c.json" "$tmp/unshaped-$c.json"
    runs+=("unshaped-$c")
done

started=$(date +%s)
echo "machine: $(getconf _NPROCESSORS_ONLN) cores shared with other work; load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "-- MNIST MLP 784-256-10 on $hosts netlab hosts, links $rate Mbit/s and $delay ms (zmq), $steps steps per worker; target test accuracy $target%; best of $reps"

# ---- replays on shm: the round each config first reaches the target ----
# replay NAME: "round_to_target final_accuracy" into $tmp/NAME.replay
replay() {
    local dir=$tmp/replay-$1
    "$lsgd" run "$tmp/$1.json" --set transport.plugin=shm --set output.eval_every=$replay_eval \
        --set output.dir="$dir" > "$tmp/replay.log" 2>&1 ||
        { echo "bench network: replay of $1 on shm failed: $(tail -1 "$tmp/replay.log")" >&2; exit 1; }
    awk -F, -v t="$target" '
        NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
        $c["test_accuracy"] != "" {
            last = $c["test_accuracy"]
            if (!hit && last * 10000 >= t * 100 - 1e-6) hit = $c["round"]
        }
        END { printf "%s %.2f\n", hit ? hit : "-", 100 * last }' "$dir/metrics.csv" > "$tmp/$1.replay"
}
for name in "${runs[@]}"; do
    [[ $name == unshaped-* ]] || replay "$name"
done

# ---- timed runs across netlab ----
# column_of NAME FILE: the column NAME of a metrics.csv, one value a line
column_of() { awk -F, -v n="$1" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == n) k = i; next } { print $k }' "$2"; }
# run NAME NETLAB_OPTIONS…: one netlab run; "seconds_to_target ms_per_round
# bytes_per_round same_model" into $tmp/NAME.timed (one line per rep)
run() {
    local name=$1 out=$tmp/$1.$rep status=0
    shift
    tools/netlab --hosts $hosts "$@" --out "$out" "$tmp/$name.json" > "$tmp/netlab.log" 2>&1 || status=$?
    if [ $status = 77 ]; then
        echo "bench network: skipped: $(grep -m1 'cannot run here' "$tmp/netlab.log" | sed 's/^netlab: //')"
        exit 0
    fi
    [ $status = 0 ] || { echo "bench network: netlab ($name) failed: $(tail -3 "$tmp/netlab.log")" >&2; exit 1; }
    grep -m1 '^netlab: .*each link' "$tmp/netlab.log" | sed 's/^netlab: /links: /' > "$tmp/$name.links"
    local hit same=-
    hit=$([ -f "$tmp/$name.replay" ] && cut -d' ' -f1 "$tmp/$name.replay" || echo -)
    if [ -f "$tmp/replay-$name/model.npy" ]; then
        cmp -s "$tmp/replay-$name/model.npy" "$out/run/model.npy" && same=yes || same=NO
    fi
    local bytes
    bytes=$(column_of bytes_sent "$out/run/metrics.csv" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
    awk -F, -v hit="$hit" -v same="$same" -v bytes="$bytes" '
        NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
        { wall = $c["wall_s"]; rounds = $c["round"]; if (rounds == hit) at = wall }
        END { printf "%s %.1f %s %s\n", at != "" ? sprintf("%.2f", at) : "-", 1000 * wall / rounds, bytes, same }' \
        "$out/run/metrics.csv" >> "$tmp/$name.timed"
    rm -rf "$out"
}
for rep in $(seq 1 "$reps"); do
    for name in "${runs[@]}"; do
        if [[ $name == unshaped-* ]]; then
            run "$name"
        else
            run "$name" --delay $delay --rate $rate
        fi
    done
done
cat "$tmp/local_sgd-float.links"

# best NAME: the fastest rep's "seconds_to_target ms_per_round bytes same"
best() { sort -g "$tmp/$1.timed" | head -1; }
# row NAME: rounds_to_target final_accuracy seconds_to_target ms_per_round bytes same
row() { echo "$(cat "$tmp/$1.replay" 2> /dev/null || echo "- -") $(best "$1")"; }

fmt='%-32s %11s %9s %10s %12s %10s %7s\n'
printf "\n$fmt" run "to target" rounds ms/round bytes/round "final acc" replay
for name in "${runs[@]}"; do
    read -r hit acc secs ms bytes same <<< "$(row "$name")"
    case $name in
        unshaped-*)   label="local_sgd × ${name#*-}, unshaped" hit=- acc=- secs=- ;;
        increasing-*) label="local_sgd increasing × ${name#*-}" ;;
        *)            label="${name%%-*} × ${name#*-}" ;;
    esac
    [[ $name != unshaped-* ]] && secs=$([ "$secs" = - ] && echo "not met" || echo "$secs s")
    [ "$acc" = - ] || acc="$acc%"
    printf "$fmt" "$label" "$secs" "$hit" "$ms" "$bytes" "$acc" "$same"
done
[ -n "${overlap_refused:-}" ] && echo "overlap_local_sgd × compressors: not run: $overlap_refused"
echo "(time to target: wall time of the first round at $target%, from the timed run, no evaluation in it; rounds to target and final accuracy: the replay on shm, evaluating every $replay_eval rounds; replay: the timed run's final model is bitwise the replay's)"

# ---- the targets ----
echo
read -r _ f_acc f_secs f_ms _ <<< "$(row local_sgd-float)"
read -r _ n_acc n_secs n_ms _ <<< "$(row local_sgd-none)"
read -r _ i_acc i_secs i_ms _ <<< "$(row local_sgd-int8)"
awk -v f="$f_secs" -v n="$n_secs" -v i="$i_secs" -v fa="$f_acc" -v ia="$i_acc" -v t="$target" 'BEGIN {
    if (i == "-" || f == "-") { printf "int8 vs float32 allreduce: a run did not reach %s%%  MISSED\n", t; exit }
    close_enough = (fa - ia <= 0.3 + 1e-9)
    printf "int8 reaches %s%% in %.1f s, float32 allreduce (no compression) in %.1f s: %.2f of its time (target <= 0.33), final %.2f%% vs %.2f%% (target within 0.3 points)  %s\n",
           t, i, f, i / f, ia, fa, (i <= f / 3 && close_enough ? "ok" : "MISSED")
    if (n != "-")
        printf "  (vs compressor none, float32 changes by all-gather, %.1f s: %.2f of its time)\n", n, i / n
}'
for c in "${overlap_codecs[@]}"; do
    read -r _ _ _ b _ <<< "$(row "local_sgd-$c")"
    read -r _ _ _ o _ <<< "$(row "overlap-$c")"
    read -r _ _ _ u _ <<< "$(row "unshaped-$c")"
    awk -v c="$c" -v u="$u" -v b="$b" -v o="$o" 'BEGIN {
        hidden = (b > u ? 1 - (o - u) / (b - u) : 0)
        bound = (b > u ? u / (b - u) : 1)
        printf "overlap × %s: local_sgd %.1f ms per round, overlap %.1f, unshaped %.1f: link time %.1f ms blocking, %.1f overlapped; hides %.0f%% (target >= 80%%)  %s\n",
               c, b, o, u, b - u, o - u, 100 * (hidden < 1 ? hidden : 1), (hidden >= 0.8 ? "ok" : "MISSED")
        if (o < u)
            printf "  (overlap'"'"'s round is shorter than a blocking round on unshaped links, so the formula reads above 100%%: it also saves the blocking average'"'"'s wait for the slowest worker, not only link time)\n"
        else
            printf "  (a round of local steps, %.1f ms unshaped, can hide at most %.0f%% of that link time)\n",
                   u, 100 * (bound < 1 ? bound : 1)
    }'
done

# ---- overlap where a round's local steps outlast the link ----
# At an average every 8 steps a round computes for less time than the link
# takes, so overlap cannot reach 80% above.  With an average every
# $long_period steps (float32, $long_rounds rounds) the local steps last
# longer than the link: what overlap hides when hiding is possible.
period=$long_period steps=$((long_period * long_rounds))
job local_sgd constant float > "$tmp/long-local_sgd.json"
job overlap_local_sgd constant float > "$tmp/long-overlap.json"
cp "$tmp/long-local_sgd.json" "$tmp/long-unshaped.json"
for rep in $(seq 1 "$reps"); do
    run long-unshaped
    run long-local_sgd --delay $delay --rate $rate
    run long-overlap --delay $delay --rate $rate
done
read -r _ u _ <<< "$(best long-unshaped)"
read -r _ b _ <<< "$(best long-local_sgd)"
read -r _ o _ <<< "$(best long-overlap)"
awk -v p="$long_period" -v u="$u" -v b="$b" -v o="$o" 'BEGIN {
    hidden = (b > u ? 1 - (o - u) / (b - u) : 0)
    printf "overlap × float32, an average every %d steps: local_sgd %.1f ms per round, overlap %.1f, unshaped %.1f: link time %.1f ms blocking, %.1f overlapped; hides %.0f%% (target >= 80%%)  %s\n",
           p, b, o, u, b - u, o - u, 100 * (hidden < 1 ? hidden : 1), (hidden >= 0.8 ? "ok" : "MISSED")
}'
echo "bench network: $(( ($(date +%s) - started) / 60 )) min $(( ($(date +%s) - started) % 60 )) s"
