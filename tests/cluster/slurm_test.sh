#!/usr/bin/env bash
# The pipeline on a real Slurm cluster: a one-node Slurm (munge, slurmctld, slurmd from Debian) on 127.0.0.1,
# three claims at the quick scale through `snakemake --profile profiles/slurm`, and their verdicts and figures
# compared byte for byte with a local run of the same claims. Run by `make test-slurm`, and by .ci/run on a root
# machine with apt-get. Elsewhere it says why it skips and exits 0.
#
# It starts the daemons itself (there is no systemd here) and stops them by their PIDs on exit. It writes
# /etc/slurm/slurm.conf (the job-step plugin drops SLURM_CONF before its nested srun, so only the default path
# works) and refuses to run where one exists already: this is a test, not a cluster installer.
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD
BIN=${BIN:-$REPO/.venv/bin}
CLAIMS=(${SLURM_TEST_CLAIMS:-lee2022_init_norm luo2019_gamma_decay_batch_size ergen2022_closed_form})

skip() { echo "slurm test skipped: $*"; exit 0; }
[ "$(id -u)" = 0 ] || skip "it installs and starts Slurm daemons, which needs root (run as root, or on CI)"
command -v apt-get >/dev/null || skip "it installs Slurm from Debian packages, and apt-get is missing"
[ -e /etc/slurm/slurm.conf ] && skip "/etc/slurm/slurm.conf exists: this machine has a Slurm set-up the test must not replace"
[ -x "$BIN/snakemake" ] || { echo "no $BIN/snakemake: run 'make setup' first" >&2; exit 1; }

step() { echo "== $(date +%T) $*"; }
WORK=$(mktemp -d /tmp/bnrepro-slurm.XXXXXX)
PIDS=()
cleanup() {
  status=$?
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done; done
  rm -f /etc/slurm/slurm.conf
  [ $status = 0 ] && rm -rf "$WORK" || echo "kept for inspection: $WORK (daemon logs in $WORK/slurm)"
}
trap cleanup EXIT

step "installing what is missing: Slurm, munge (Debian), the Snakemake Slurm executor (pip)"
missing=()
for pkg in slurmctld slurmd slurm-client munge; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq >/dev/null 2>&1 || true
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
"$BIN/python" -m pip install --quiet -c constraints.txt -e '.[slurm]'

step "starting munged, slurmctld and slurmd on 127.0.0.1"
mkdir -p "$WORK/slurm/state" "$WORK/slurm/spool" /run/munge
chown munge:munge /run/munge
[ -s /etc/munge/munge.key ] || { dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none; chown munge:munge /etc/munge/munge.key; chmod 400 /etc/munge/munge.key; }
NODE=$(hostname -s)
CPUS=$(nproc)
MEM_MB=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 1024 ))
cat > /etc/slurm/slurm.conf <<EOF
# Written by tests/cluster/slurm_test.sh; removed when it ends.
ClusterName=bnrepro-test
SlurmctldHost=$NODE(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$WORK/slurm/state
SlurmdSpoolDir=$WORK/slurm/spool
SlurmctldPidFile=$WORK/slurm/slurmctld.pid
SlurmdPidFile=$WORK/slurm/slurmd.pid
SlurmctldLogFile=$WORK/slurm/slurmctld.log
SlurmdLogFile=$WORK/slurm/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
ReturnToService=2
MinJobAge=3600
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$MEM_MB State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
runuser -u munge -- /usr/sbin/munged --foreground --force >"$WORK/slurm/munged.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do [ -S /run/munge/munge.socket.2 ] && break; sleep 0.1; done
/usr/sbin/slurmctld -D -i >"$WORK/slurm/slurmctld.out" 2>&1 &
PIDS+=($!)
/usr/sbin/slurmd -D >"$WORK/slurm/slurmd.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 60); do sinfo -h -o %T 2>/dev/null | grep -q idle && break; sleep 0.5; done
sinfo -h -o %T | grep -q idle || { echo "the Slurm node did not come up:" >&2; tail -5 "$WORK/slurm/"*.log >&2; exit 1; }
sinfo

# Two copies of this checkout (tracked and untracked, not ignored): one runs locally, one through Slurm.
copy() { mkdir -p "$1" && git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$1"; ln -s "$REPO/.venv" "$1/.venv"; }
copy "$WORK/local"
copy "$WORK/cluster"

step "local run: ${CLAIMS[*]} (quick scale)"
(cd "$WORK/local" && "$BIN/snakemake" --cores "$CPUS" "${CLAIMS[@]}" --config scale=quick --quiet rules)

step "Slurm run: the same claims through --profile profiles/slurm"
(cd "$WORK/cluster" && "$BIN/snakemake" --profile profiles/slurm "${CLAIMS[@]}" --config scale=quick \
   --slurm-init-seconds-before-status-checks 1 --seconds-between-status-checks 2) 2>&1 \
   | tee "$WORK/cluster.log" | grep -E "submitted with SLURM|Finished job|steps \(|Error|error" || true

step "Slurm jobs and their final states"
# One line per job: its id, what it ran (Snakemake's comment: rule and claim), state, exit code, and the CPUs,
# memory and time limit it asked for (from the registry's threads, mem_mb and runtime_min).
scontrol show job -o | awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = substr($i, length(kv[1]) + 2) }
  printf "  job %s %-45s %s exit %s  cpus %s mem %s time %s\n", f["JobId"], f["Comment"], f["JobState"], f["ExitCode"], f["NumCPUs"], f["MinMemoryNode"], f["TimeLimit"] }'
submitted=$(grep -c "submitted with SLURM" "$WORK/cluster.log" || true)
completed=$(scontrol show job -o | grep -c "JobState=COMPLETED" || true)
echo "  $submitted jobs submitted, $completed completed"
[ "$submitted" -ge "${#CLAIMS[@]}" ] && [ "$submitted" = "$completed" ] || { echo "not every job completed" >&2; exit 1; }

step "comparing verdicts and figures byte for byte"
compared=0
while IFS= read -r -d '' file; do
  rel=${file#"$WORK/local/"}
  cmp -s "$file" "$WORK/cluster/$rel" || { echo "  DIFFERS: $rel" >&2; exit 1; }
  compared=$((compared + 1)); echo "  identical: $rel"
done < <(find "$WORK/local/results/claims" "$WORK/local/figures" -type f \( -name '*.json' ! -name '*.run.json' -o -name '*.png' -o -name '*.pdf' -o -name '*.svg' \) -print0)
[ "$compared" -ge "${#CLAIMS[@]}" ] || { echo "only $compared files to compare" >&2; exit 1; }
echo "slurm test passed: ${#CLAIMS[@]} claims through Slurm, $compared verdict and figure files byte-identical to a local run"
