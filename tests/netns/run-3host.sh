#!/usr/bin/env bash
# run-3host.sh PEER_BIN LSGD_BIN — a 3-host zmq run across Linux network
# namespaces joined by veth pairs to one bridge (10.231.0.0/24), checked
# bitwise against the same work on one host:
#   1. the transport test program (allreduce/broadcast/barrier, inputs whose
#      mean depends on summation order) in three namespaces over tcp, its
#      mean compared with a single-host shm run of the same program;
#   2. `lsgd worker` of a real training config, one per namespace (by
#      tools/netlab, its own namespaces), its model.npy compared with
#      `lsgd run` of the same config on shm.
# Needs root and iproute2; otherwise exits 77 with the reason.
set -euo pipefail
peer=${1:?peer program}
lsgd=${2:?lsgd binary}
root=$(cd "$(dirname "$0")/../.." && pwd)
[ "$(id -u)" = 0 ] || { echo "skipped: needs root for ip netns"; exit 77; }
command -v ip > /dev/null || { echo "skipped: iproute2 (ip) is not installed"; exit 77; }
tag=l$$
hub=$tag-hub
work=$(mktemp -d /tmp/lsgd-netns-XXXXXX)
cleanup() {
    for r in 0 1 2; do ip netns del "$tag-$r" 2> /dev/null || true; done
    ip netns del "$hub" 2> /dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
ip netns add "$hub" 2> "$work/err" || { echo "skipped: cannot create a network namespace: $(cat "$work/err")"; exit 77; }
ip -n "$hub" link add br0 type bridge
ip -n "$hub" link set br0 up
for r in 0 1 2; do
    ns=$tag-$r
    ip netns add "$ns"
    ip link add "$tag-h$r" type veth peer name "$tag-b$r"
    ip link set "$tag-h$r" netns "$ns"
    ip link set "$tag-b$r" netns "$hub"
    ip -n "$hub" link set "$tag-b$r" master br0 up
    ip -n "$ns" addr add "10.231.0.$((r + 1))/24" dev "$tag-h$r"
    ip -n "$ns" link set "$tag-h$r" up
    ip -n "$ns" link set lo up
done
ip -n "$hub" link show br0 > /dev/null # (no ping on minimal systems: the runs below are the check)

# 1. the transport test program
params='{"coordinator": "tcp://10.231.0.1:47900", "bind_address": "0.0.0.0", "timeout_s": 20, "frame_size": 262144}'
mkdir -p "$work/hosts" "$work/one"
pids=()
for r in 0 1 2; do
    ip netns exec "$tag-$r" "$peer" --transport-peer zmq $r 3 netns-run "$params" collectives \
        "$work/hosts/out.$r" 2> "$work/hosts/err.$r" &
    pids+=($!)
done
for r in 0 1 2; do
    wait "${pids[$r]}" || { echo "rank $r in namespace $tag-$r failed: $(cat "$work/hosts/err.$r")"; exit 1; }
done
for r in 0 1 2; do
    "$peer" --transport-peer shm $r 3 "one-$tag" '{}' collectives "$work/one/out.$r" &
    pids[$r]=$!
done
for r in 0 1 2; do wait "${pids[$r]}"; done
for r in 0 1 2; do
    cmp "$work/hosts/out.$r" "$work/one/out.0" || { echo "rank $r: mean across hosts differs from one host"; exit 1; }
done
echo "transport program: 3 namespaces over tcp = one host over shm, bitwise"

# 2. lsgd worker of a training config, one per namespace: tools/netlab
config=$root/tests/data/transports/quadratic-3-workers.json
"$root/tools/netlab" --lsgd "$lsgd" --hosts 3 --port 47901 --out "$work/hosts" "$config" > "$work/netlab.out" 2>&1 ||
    { echo "tools/netlab failed: $(tail -3 "$work/netlab.out")"; exit 1; }
"$lsgd" run "$config" --set output.dir="$work/one-run" > /dev/null
cmp "$work/hosts/run/model.npy" "$work/one-run/model.npy" || { echo "trained model across hosts differs from one host"; exit 1; }
echo "lsgd worker: 3 namespaces over zmq = lsgd run over shm, model.npy bitwise"
