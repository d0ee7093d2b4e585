#!/usr/bin/env bash
# Paired timing of two AgentFs configurations on the agent's tool-loop rows: two mounts over one scratch base,
# NEW and OLD, each row timed with farm-bench in turns (NEW OLD NEW OLD ...), so the ratio holds on a loaded
# machine. Prints farm-bench's report per row.
#
#   sudo NEW_DLL=... NEW_OPTS="..." OLD_DLL=... OLD_OPTS="..." bash benchmarks/workloads/tools/pair-bench.sh [ROW...]
#
# ROWs: py200 gitstatus treeread smallfiles write4k make clone (default: the first five). RUNS=N pairs (default 10).
set -euo pipefail
here="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
: "${NEW_DLL:?}" "${OLD_DLL:?}"
RUNS="${RUNS:-10}"
rows=("$@"); ((${#rows[@]})) || rows=(py200 gitstatus treeread smallfiles write4k)
work=$(mktemp -d /tmp/agentfs-pairs.XXXXXX)
base=$work/base
mounted=()
cleanup() {
  for mp in "${mounted[@]}"; do dotnet "$NEW_DLL" unmount "$mp" >/dev/null 2>&1 || umount -l "$mp" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$base/small"
python3 -c '
import os, sys
for i in range(200):
    with open(os.path.join(sys.argv[1], f"f{i:03}.txt"), "w") as f: f.write("x" * 1000)' "$base/small"
git clone -q --no-hardlinks "$repo" "$base/repo"
python3 "$here/gen_build.py" "$base/build" 30
for side in new old; do
  dll=$NEW_DLL opts=${NEW_OPTS:-}
  [[ $side == old ]] && dll=$OLD_DLL opts=${OLD_OPTS:-}
  mkdir -p "$work/$side"
  dotnet "$dll" init "$work/$side.agentfs" --base "$base" >/dev/null
  # shellcheck disable=SC2086
  dotnet "$dll" mount "$work/$side.agentfs" "$work/$side" --background $opts >/dev/null
  mounted+=("$work/$side")
done
cat >"$work/py200.py" <<'PY'
import os, sys
d = sys.argv[1]
for _ in range(5):
    for n in sorted(os.listdir(d)):
        with open(os.path.join(d, n)) as f: f.read()
PY
cat >"$work/smallfiles.py" <<'PY'
import os, sys
d = os.path.join(sys.argv[1], f"many-{os.getpid()}"); os.mkdir(d); b = b"x" * 4096
for i in range(500):
    with open(f"{d}/f{i}", "wb") as f: f.write(b)
for i in range(500): os.stat(f"{d}/f{i}")
for i in range(500): os.unlink(f"{d}/f{i}")
os.rmdir(d)
PY
cmd() { # row side
  local m=$work/$2
  case $1 in
    py200) echo "python3 $work/py200.py $m/small" ;;
    gitstatus) echo "git -C $m/repo status --porcelain" ;;
    treeread) echo "sh -c 'cd $m/repo && find . -path ./.git -prune -o -type f -print0 | xargs -0 cat >/dev/null'" ;;
    smallfiles) echo "python3 $work/smallfiles.py $m" ;;
    write4k) echo "sh -c 'dd if=/dev/zero of=$m/w.bin bs=4k count=4096 conv=fsync status=none && rm $m/w.bin'" ;;
    make) echo "sh -c 'make -C $m/build -j2 -s >/dev/null && make -C $m/build -s clean'" ;;
    clone) echo "sh -c 'git clone -q --no-hardlinks $base/repo $m/clone && rm -rf $m/clone'" ;;
  esac
}
for row in "${rows[@]}"; do
  echo "== $row (NEW: ${NEW_OPTS:-default} $NEW_DLL; OLD: ${OLD_OPTS:-default} $OLD_DLL)"
  eval "$(cmd "$row" new)" >/dev/null 2>&1; eval "$(cmd "$row" old)" >/dev/null 2>&1   # warm both
  # shellcheck disable=SC2046
  eval farm-bench -n "$RUNS" --warmup 2 --timeout 900 --vs "\"$(cmd "$row" old)\"" -- $(cmd "$row" new) 2>&1 | grep -E "^(A|B) wall|^A/B (wall|cpu)|exit"
done
