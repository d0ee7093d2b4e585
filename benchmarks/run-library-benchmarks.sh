#!/usr/bin/env bash
# Runs the AgentFs library benchmarks (BenchmarkDotNet) and the peer benchmark of Turso's agentfs-sdk on
# the same freshly made, journaled ext4 filesystem (a loop-mounted image), then prints the targets table
# and the ratio of our files/s to the SDK's.
#
#   bash benchmarks/run-library-benchmarks.sh                 # everything (about 10-12 minutes on 2 cores)
#   bash benchmarks/run-library-benchmarks.sh --filter '*Versions*'   # extra args go to BenchmarkDotNet
#
# Needs root (mkfs + mount). Without root it runs on $AGENTFS_BENCH_DIR or /var/tmp instead, and says so.
# Environment: AGENTFS_BENCH_IMG (image path, default /var/tmp/agentfs-bench.img), AGENTFS_BENCH_MNT
# (mount point, default /mnt/agentfs-bench), AGENTFS_BENCH_IMG_SIZE (default 8G), SKIP_PEER=1,
# PEER_RUNS (default 3), AGENTFS_BENCH_WAIT_QUIET=SECONDS (wait up to that long for the 1-minute load
# average to drop below 1.0 before measuring: other builds and tests on a 2-core machine skew every figure;
# with AGENTFS_BENCH_REQUIRE_QUIET=1 the script gives up instead of measuring on a busy machine).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
proj="$here/AgentFs.Benchmarks"
out="$proj/BenchmarkDotNet.Artifacts"
img="${AGENTFS_BENCH_IMG:-/var/tmp/agentfs-bench.img}"
mnt="${AGENTFS_BENCH_MNT:-/mnt/agentfs-bench}"
size="${AGENTFS_BENCH_IMG_SIZE:-8G}"
peer_runs="${PEER_RUNS:-3}"
mounted=0

log() { printf '== %s\n' "$*" >&2; }

cleanup() {
  if [[ $mounted == 1 ]]; then
    cd /
    sync
    umount "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null || true
    rm -f "$img"
    log "unmounted $mnt and removed $img"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_quiet() {
  local limit="${AGENTFS_BENCH_WAIT_QUIET:-0}" waited=0
  while awk '{exit !($1 >= 1.0)}' /proc/loadavg; do
    if (( waited >= limit )); then
      log "load average is $(cut -d' ' -f1-3 /proc/loadavg): other work is running, the figures will be skewed"
      if [[ ${AGENTFS_BENCH_REQUIRE_QUIET:-0} == 1 ]]; then log "AGENTFS_BENCH_REQUIRE_QUIET=1: giving up"; exit 3; fi
      return
    fi
    sleep 10; waited=$((waited + 10))
  done
  (( waited > 0 )) && log "waited ${waited} s for a quiet machine (load $(cut -d' ' -f1 /proc/loadavg))"
  return 0
}

# ---- the filesystem -------------------------------------------------------------------------------
if [[ $(id -u) == 0 ]]; then
  if ! command -v mkfs.ext4 >/dev/null; then
    log "installing e2fsprogs"
    apt-get update -qq && apt-get install -y -qq e2fsprogs >/dev/null
  fi
  if mountpoint -q "$mnt" 2>/dev/null; then
    log "$mnt is already mounted (a previous run?); unmounting it"
    umount "$mnt"
  fi
  rm -f "$img"
  truncate -s "$size" "$img"
  mkfs.ext4 -q -F "$img"
  mkdir -p "$mnt"
  mount -o loop "$img" "$mnt"
  mounted=1
  bench_root="$mnt"
  log "stores on $mnt: $(findmnt -no SOURCE,FSTYPE,OPTIONS "$mnt") ($size image on $(df --output=source "$(dirname "$img")" | tail -1))"
else
  bench_root="${AGENTFS_BENCH_DIR:-/var/tmp/agentfs-bench}"
  mkdir -p "$bench_root"
  log "not root: cannot make the ext4 image; stores go to $bench_root ($(findmnt -no FSTYPE,OPTIONS -T "$bench_root")) — figures are not comparable"
fi
export AGENTFS_BENCH_DIR="$bench_root/library"
mkdir -p "$AGENTFS_BENCH_DIR"

# ---- the machine ----------------------------------------------------------------------------------
mkdir -p "$out"
{
  echo "date: $(date -Is)"
  echo "commit: $(git -C "$repo" rev-parse --short HEAD 2>/dev/null)$(git -C "$repo" diff --quiet HEAD -- src 2>/dev/null || echo ' (src has uncommitted changes)')"
  echo "nproc: $(nproc)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "memory: $(free -g | awk '/Mem:/ {print $2 " GiB"}')"
  echo "kernel: $(uname -r)"
  echo "dotnet: $(dotnet --version)"
  echo "node: $(node --version 2>/dev/null || echo none)"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews the figures)"
  echo "bench fs: $(findmnt -no SOURCE,FSTYPE,OPTIONS -T "$bench_root")"
  echo "backing disk: $(lsblk -dno NAME,SIZE,ROTA,MODEL "$(df --output=source "$(dirname "$img")" | tail -1)" 2>/dev/null || true)"
} | tee "$out/machine.txt" >&2

# What the disk under the stores does by itself (reference for the MiB/s and the fsync-bound figures).
if [[ ${SKIP_DISK_PROBE:-0} != 1 ]]; then
  probe="$bench_root/disk-probe"
  head -c $((256 << 20)) /dev/urandom >"/dev/shm/agentfs-probe.$$"
  {
    echo "disk: dd 256 MiB (1 MiB blocks) + fsync: $(dd if="/dev/shm/agentfs-probe.$$" of="$probe" bs=1M conv=fsync 2>&1 | tail -1 | awk -F, '{print $NF}' | sed 's/^ *//')"
    rm -f "$probe"
    secs=$(dd if=/dev/zero of="$probe" bs=4k count=1000 oflag=dsync 2>&1 | tail -1 | awk -F, '{print $(NF-1)}' | awk '{print $1}')
    echo "disk: 1000 x 4 KiB O_DSYNC writes: ${secs} s, $(awk -v s="$secs" 'BEGIN {printf "%.2f", s}') ms per synced write"
    rm -f "$probe"
  } | tee -a "$out/machine.txt" >&2
  rm -f "/dev/shm/agentfs-probe.$$"
fi

# ---- build (the library may be mid-change: retry a few times) --------------------------------------
for attempt in 1 2 3 4 5; do
  if dotnet build -c Release "$proj" -nologo -v q >"$out/build.log" 2>&1; then break; fi
  if [[ $attempt == 5 ]]; then cat "$out/build.log" >&2; log "build failed"; exit 1; fi
  log "build failed (attempt $attempt), retrying in 60 s"; sleep 60
done

# ---- library benchmarks ---------------------------------------------------------------------------
wait_quiet
export AGENTFS_BENCH_FIGURES="$out/agentfs-figures.json"
rm -f "$AGENTFS_BENCH_FIGURES"
args=("$@")
[[ ${#args[@]} == 0 ]] && args=(--filter '*')
log "BenchmarkDotNet ${args[*]}"
start=$(date +%s)
status=0
(cd "$proj" && dotnet "bin/Release/net10.0/AgentFs.Benchmarks.dll" "${args[@]}" --artifacts "$out") || status=$?
log "library benchmarks took $(( $(date +%s) - start )) s (exit $status)"
echo "load average after the library benchmarks: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/machine.txt" >&2
rm -rf "$AGENTFS_BENCH_DIR"

# ---- peer benchmark -------------------------------------------------------------------------------
peer_out="$out/peer-agentfs-sdk.jsonl"
rm -f "$peer_out"
if [[ ${SKIP_PEER:-0} != 1 ]] && command -v node >/dev/null; then
  peer="$here/peer/agentfs-sdk"
  (cd "$peer" && { [[ -d node_modules/agentfs-sdk ]] || npm install --no-audit --no-fund >&2; })
  mkdir -p "$bench_root/peer"
  wait_quiet
  log "peer: node bench.mjs --files 10000 --runs $peer_runs --dir $bench_root/peer"
  (cd "$peer" && node bench.mjs --files 10000 --runs "$peer_runs" --dir "$bench_root/peer") | tee "$peer_out" >&2 || status=$?
  rm -rf "$bench_root/peer"
fi

# ---- the table -----------------------------------------------------------------------------------
report="$out/agentfs-report.md"
dotnet "$proj/bin/Release/net10.0/AgentFs.Benchmarks.dll" report "$AGENTFS_BENCH_FIGURES" "$peer_out" | tee "$report"
log "report: $report; BenchmarkDotNet results: $out/results"
exit $status
