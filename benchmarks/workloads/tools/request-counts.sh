#!/usr/bin/env bash
# Requests the kernel sends per operation of the agent's tool loop, on a warm AgentFs mount: mounts a store
# over a scratch base with AGENTFS_FUSE_STATS, runs each workload once untimed (to warm the caches), twice, then once
# counted (kill -USR1 before and after), and prints the counts per workload. Not timed: the counts are what
# does not depend on the load of the machine.
#
#   sudo bash benchmarks/workloads/tools/request-counts.sh [MOUNT OPTIONS...]      e.g. --passthrough
#
# Environment: AGENTFS_DLL=PATH (default: the Release build of the checkout), N=files per small-file workload
# (default 1000), OUT=file (default: stdout).
set -euo pipefail
here="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
DLL="${AGENTFS_DLL:-$repo/src/AgentFs.Cli/bin/Release/net10.0/AgentFs.Cli.dll}"
N="${N:-1000}"
agentfs() { dotnet "$DLL" "$@"; }

work=$(mktemp -d /tmp/agentfs-counts.XXXXXX)
base=$work/base mnt=$work/mnt stats=$work/stats.txt pid=""
cleanup() {
  [[ -n $pid ]] && { agentfs unmount "$mnt" >/dev/null 2>&1 || umount -l "$mnt" 2>/dev/null || true; }
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$base/small" "$mnt"
python3 - "$base/small" <<'PY'
import os, sys
for i in range(200):
    with open(os.path.join(sys.argv[1], f"f{i:03}.txt"), "w") as f: f.write("x" * 1000)
PY
# a real checkout with history: this repository, as a base directory (never written)
git clone -q --no-hardlinks "$repo" "$base/repo"
files=$(git -C "$base/repo" ls-files | wc -l); dirs=$(find "$base/repo" -path "$base/repo/.git" -prune -o -type d -print | wc -l)
agentfs init "$work/store.agentfs" --base "$base" >/dev/null
AGENTFS_FUSE_STATS=$stats agentfs mount "$work/store.agentfs" "$mnt" --background "$@" >"$work/mount.out"
pid=$(tail -1 "$work/mount.out")

snapshot() { # the counts since the last snapshot, alone in $stats (USR1 reports them and starts again)
  : >"$stats"; kill -USR1 "$pid"
  for _ in $(seq 100); do grep -q '^all' "$stats" 2>/dev/null && break; sleep 0.1; done
}
count() { # label ops cmd...: the command twice to warm up (the first run's reads leave attributes to refresh), then counted
  local label=$1 ops=$2; shift 2
  bash -c "$*" >/dev/null 2>&1 || true
  bash -c "$*" >/dev/null 2>&1 || true
  snapshot
  bash -c "$*" >/dev/null 2>&1 || { echo "FAILED: $label" >&2; }
  snapshot
  printf '== %s (%s operations)\n' "$label" "$ops"
  awk -v ops="$ops" 'NR > 1 && NF >= 3 { gsub(",", "", $2); printf "  %-14s %8d  %6.2f per op\n", $1, $2, $2 / ops }' "$stats"
}
py_read='import os
d=sys.argv[1]
for n in sorted(os.listdir(d)):
    with open(os.path.join(d, n)) as f: f.read()'
{
echo "mount options: ${*:-(default)}; checkout: $files files, $dirs directories"
count "python open/read/close of 200 small base files" 200 "python3 -c 'import sys
$py_read' '$mnt/small'"
count "git status, base checkout, warm" 1 "git -C '$mnt/repo' status --porcelain"
count "find + read of every file of the checkout, warm" "$files" "cd '$mnt/repo' && find . -path ./.git -prune -o -type f -print0 | xargs -0 cat"
count "ls -lR of the checkout, warm" "$dirs" "ls -lR '$mnt/repo'"
mkdir -p "$mnt/many"
snapshot
python3 -c "
import os, sys
d = sys.argv[1]; b = b'x' * 4096
for i in range(int(sys.argv[2])):
    with open(f'{d}/f{i}', 'wb') as f: f.write(b)" "$mnt/many" "$N"
snapshot; printf '== create + write 4 KiB + close (%s files)\n' "$N"
awk -v ops="$N" 'NR > 1 && NF >= 3 { gsub(",", "", $2); printf "  %-14s %8d  %6.2f per op\n", $1, $2, $2 / ops }' "$stats"
count "stat of those files" "$N" "python3 -c 'import os,sys
for i in range(int(sys.argv[2])): os.stat(f\"{sys.argv[1]}/f{i}\")' '$mnt/many' $N"
snapshot
python3 -c "
import os, sys
for i in range(int(sys.argv[2])): os.unlink(f'{sys.argv[1]}/f{i}')" "$mnt/many" "$N"
snapshot; printf '== unlink (%s files)\n' "$N"
awk -v ops="$N" 'NR > 1 && NF >= 3 { gsub(",", "", $2); printf "  %-14s %8d  %6.2f per op\n", $1, $2, $2 / ops }' "$stats"
snapshot
cp -a "$base/repo" "$mnt/copy"
snapshot; printf '== cp -a of the checkout into the mount (%s files)\n' "$files"
awk -v ops="$files" 'NR > 1 && NF >= 3 { gsub(",", "", $2); printf "  %-14s %8d  %6.2f per op\n", $1, $2, $2 / ops }' "$stats"
} | if [[ -n ${OUT:-} ]]; then tee "$OUT"; else cat; fi
