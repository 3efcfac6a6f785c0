#!/usr/bin/env bash
# tests/slurm/run.sh LSGD_BIN — lsgd under Slurm: a one-node cluster of this
# host, started here, runs `srun --mpi=pmix -n 3 lsgd run cfg.json` with the
# mpi transport, then the same in a batch script (`sbatch --wait`, as the
# README's example), and each model.npy is compared with `lsgd run` of the
# same config on shm (bitwise).
#
# It installs what is missing of Debian's slurm-wlm (slurmctld, slurmd,
# slurm-client) and munge, makes a munge key in a temporary directory and
# starts munged, slurmctld and slurmd with every socket, state, log and pid
# file there; they listen on 127.0.0.1 only.  The daemons are stopped and
# the directory removed when the script ends, also on failure or Ctrl-C.
# Every wait is bounded.  Needs root (exit 77 with the reason otherwise).
# (Leak checking is off for the ranks: Open MPI keeps its allocations.)
set -euo pipefail
lsgd=${1:?lsgd binary}
here=$(cd "$(dirname "$0")" && pwd)
lsgd=$(cd "$(dirname "$lsgd")" && pwd)/$(basename "$lsgd")
[ "$(id -u)" = 0 ] || { echo "skipped: needs root to install and start Slurm's daemons"; exit 77; }

# One test cluster at a time on this machine (its ports are fixed): a
# second run waits for the first, at most 150 s.
exec 9> /tmp/lsgd-slurm-test.lock
flock -w 150 9 || { echo "another tests/slurm/run.sh held /tmp/lsgd-slurm-test.lock for 150 s"; exit 1; }

# ---- packages: only for this test, not the build ----
SLURM_PKGS="slurmctld slurmd slurm-client munge"
missing=""
for p in $SLURM_PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2> /dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
    command -v apt-get > /dev/null || { echo "skipped: Slurm is not installed and there is no apt-get"; exit 77; }
    echo "installing Debian packages:$missing"
    # the packages' own services must not start: this test starts its own
    guard=""
    [ -e /usr/sbin/policy-rc.d ] || { guard=/usr/sbin/policy-rc.d; printf '#!/bin/sh\nexit 101\n' > $guard; chmod 755 $guard; }
    { DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing; } > /tmp/lsgd-slurm-apt.log 2>&1 ||
        { [ -z "$guard" ] || rm -f "$guard"; echo "apt-get could not install$missing: $(tail -3 /tmp/lsgd-slurm-apt.log)"; exit 1; }
    [ -z "$guard" ] || rm -f "$guard"
fi

work=$(mktemp -d /tmp/lsgd-slurm-XXXXXX)
chmod 700 "$work"
daemons=()
cleanup() {
    trap - EXIT INT TERM
    [ ${#daemons[@]} -eq 0 ] || {
        kill "${daemons[@]}" 2> /dev/null || true
        for ((i = 0; i < 50; i++)); do
            alive=0
            for p in "${daemons[@]}"; do kill -0 "$p" 2> /dev/null && alive=1; done
            [ $alive = 1 ] || break
            sleep 0.1
        done
        kill -KILL "${daemons[@]}" 2> /dev/null || true
        for p in "${daemons[@]}"; do wait "$p" 2> /dev/null || true; done
    }
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
fail() { echo "$*"; for f in "$work"/*.log; do [ -s "$f" ] && { echo "--- $f"; tail -5 "$f"; }; done; exit 1; }
# until TIMEOUT_S SECONDS COMMAND…: retries COMMAND every 0.2 s, at most that long
until_ok() {
    local limit=$(($1 * 5))
    shift
    for ((i = 0; i < limit; i++)); do "$@" > /dev/null 2>&1 && return 0; sleep 0.2; done
    return 1
}

# ---- munge ----
mkdir -m 700 "$work/munge"
mungekey --create --keyfile="$work/munge/munge.key" > /dev/null
chmod 600 "$work/munge/munge.key"
munged --foreground --force --key-file="$work/munge/munge.key" --socket="$work/munge/socket" \
    --pid-file="$work/munge/munged.pid" --seed-file="$work/munge/seed" \
    --log-file="$work/munged.log" > /dev/null 2>&1 &
daemons+=($!)
until_ok 10 test -S "$work/munge/socket" || fail "munged did not start within 10 s"

# ---- slurm.conf: this host, nproc CPUs, everything under $work ----
node=$(hostname -s)
cpus=$(nproc)
mkdir "$work/state" "$work/spool"
cat > "$work/slurm.conf" << CONF
ClusterName=lsgdtest
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=46817
SlurmdPort=46818
SrunPortRange=46820-46899
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$work/munge/socket
CredType=cred/munge
MpiDefault=pmix
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=lsgd Nodes=$node Default=YES MaxTime=10 State=UP
CONF
export SLURM_CONF=$work/slurm.conf

slurmctld -D -i -f "$SLURM_CONF" > "$work/slurmctld.out.log" 2>&1 &
daemons+=($!)
slurmd -D -f "$SLURM_CONF" -N "$node" > "$work/slurmd.out.log" 2>&1 &
daemons+=($!)
until_ok 30 scontrol ping || fail "slurmctld did not answer within 30 s"
until_ok 30 sh -c "sinfo -h -N -o %t | grep -qx idle" || fail "node $node not idle within 30 s: $(sinfo -h -N -o '%t %E' 2>&1)"
echo "slurm: one node ($node, $cpus CPUs), slurmctld and slurmd up"

# ---- the run under srun, and the same config on shm ----
cp "$here/../data/transports/quadratic-3-workers.json" "$work/cfg.json"
overcommit=""
[ "$cpus" -ge 3 ] || overcommit=--overcommit # 3 tasks on fewer CPUs
cd "$work"
ASAN_OPTIONS=detect_leaks=0 timeout 90 srun --mpi=pmix $overcommit -n 3 --time=2 "$lsgd" run cfg.json \
    --set transport.plugin=mpi --set transport.params.timeout_s=20 --set output.dir="$work/slurm-run" > "$work/srun.log" 2>&1 ||
    fail "srun --mpi=pmix -n 3 lsgd run failed ($?): $(tail -5 "$work/srun.log")"
grep -q "3 workers x mpi" "$work/srun.log" || fail "srun did not run 3 mpi workers: $(head -5 "$work/srun.log")"
sed 's/^/  /' "$work/srun.log"
"$lsgd" run cfg.json --set output.dir="$work/shm-run" > /dev/null 2> "$work/shm.log" ||
    fail "lsgd run on shm failed: $(tail -1 "$work/shm.log")"
cmp "$work/slurm-run/model.npy" "$work/shm-run/model.npy" ||
    fail "the model trained under srun differs from the one trained on shm"
echo "srun --mpi=pmix -n 3 lsgd run: mpi under Slurm = lsgd run over shm, model.npy bitwise"

# ---- the same through a batch script, as the README's sbatch example ----
cat > "$work/job.sh" << JOB
#!/bin/bash
#SBATCH --job-name=lsgd-test
#SBATCH --ntasks=3 $overcommit
#SBATCH --time=2
#SBATCH --output=$work/sbatch-%j.out
srun --mpi=pmix "$lsgd" run cfg.json --set workers=\$SLURM_NTASKS \\
     --set transport.plugin=mpi --set output.dir="$work/sbatch-run"
JOB
ASAN_OPTIONS=detect_leaks=0 timeout 90 sbatch --wait "$work/job.sh" > "$work/sbatch.log" 2>&1 ||
    fail "sbatch --wait job.sh failed ($?): $(tail -3 "$work/sbatch.log"; tail -5 "$work"/sbatch-*.out)"
cmp "$work/sbatch-run/model.npy" "$work/shm-run/model.npy" ||
    fail "the model trained by the batch job differs from the one trained on shm"
echo "sbatch job.sh (srun --mpi=pmix inside, 3 tasks): model.npy bitwise"
