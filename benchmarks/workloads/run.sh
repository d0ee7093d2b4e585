#!/usr/bin/env bash
# The mounted workload suite: real programs (dd, fio, git, npm, make, a small-file C program) run over
# the native filesystem, kernel overlayfs, fuse-overlayfs and AgentFs, each over the same base directory,
# on a freshly made journaled ext4 image on a loop device. Reports medians and ratios to native measured
# in the same run (see benchmarks/README.md, section "Workload suite (mounted)").
#
#   sudo bash benchmarks/workloads/run.sh            # full run: REPS=3, 1 GiB files (about 20 minutes)
#   sudo QUICK=1 bash benchmarks/workloads/run.sh    # smoke run: small sizes, 1 repetition (about 5 minutes)
#
# Environment:
#   REPS=N             repetitions (default 3, QUICK: 1); systems are interleaved within each repetition
#   QUICK=1            small sizes, for checking the suite itself
#   SYSTEMS="..."      subset/order of: native overlay fuse-overlayfs agentfs agentfs-passthrough agentfs-wb agentfs-nowb
#                      agentfs-run (each workload inside `agentfs run`, timed there; not in the default list)
#                      (default: all but agentfs-wb and agentfs-nowb; agentfs-passthrough only if `agentfs mount`
#                      has --passthrough; agentfs-wb is agentfs with --writeback-cache, agentfs-nowb with
#                      --no-writeback-cache, the default since issue 11)
#   WORKLOADS="..."    subset of: seqread-cold seqread-warm seqwrite randrw smallfiles git tree npm make checkpoint
#                      (tree: a checkout in the base directory: warm `git status`, warm read of every file,
#                      `cp -a` of it into the mount)
#   ROTATE=0           keep the systems in the same order in every repetition (default: rotate it)
#   NO_README=1        do not rewrite the README section (results/latest.json and ratios.svg are still written)
#   WL_RESULTS=DIR     write latest.json and ratios.svg there instead of benchmarks/workloads/results
#                      (and leave the README alone), e.g. for a side experiment
#   AGENTFS_DLL=PATH   run this AgentFs.Cli.dll instead of building the checkout with ./agentfs
#   AGENTFS_WL_IMG     image path (default /var/tmp/agentfs-workloads.img), AGENTFS_WL_IMG_SIZE (default 12G)
#   AGENTFS_WL_ROOT    where the image is mounted (default /mnt/agentfs-workloads)
#   WL_TIMEOUT         seconds one timed command may take before it counts as failed (default 900)
#
# Needs root (loop device, mkfs, mount, drop_caches). Installs fuse-overlayfs, fuse3, e2fsprogs, fio, git,
# make, gcc, nodejs/npm with apt-get when missing. npm packages come from the registry once (setup, cached
# in /var/tmp/agentfs-workloads-npm-cache); the timed installs are offline.
set -euo pipefail

here="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
if [[ ${1:-} == --inside ]]; then
  # The agentfs-run system: run.sh started this inside `agentfs run` (see run_in_sandbox), with the suite's
  # variables in the environment; the workload runs and is timed here, in the sandbox.
  # shellcheck source=workloads.sh
  source "$here/workloads.sh"
  drop_caches() { sync; }   # /proc/sys is read-only inside; run_in_sandbox dropped the caches before entering
  "wl_$2"
  exit $?
fi
QUICK="${QUICK:-0}"
if [[ $QUICK == 1 ]]; then
  REPS="${REPS:-1}"; SEQ_MB=256; RAND_MB=64; RAND_OPS=5000; SMALL_N=2000; GIT_FILES=1000; BUILD_N=40
  NPM_DEPS='"express": "^4.21.0", "lodash": "^4.17.21"'
else
  REPS="${REPS:-3}"; SEQ_MB=1024; RAND_MB=256; RAND_OPS=20000; SMALL_N=10000; GIT_FILES=5000; BUILD_N=200
  NPM_DEPS='"express": "^4.21.0", "lodash": "^4.17.21", "typescript": "^5.6.0", "eslint": "^9.0.0", "jest": "^29.7.0"'
fi
SMALL_SIZE=1024
CKPT_SMALL_MB=10
CKPT_BIG_MB=$SEQ_MB
WL_TIMEOUT="${WL_TIMEOUT:-900}"
IMG="${AGENTFS_WL_IMG:-/var/tmp/agentfs-workloads.img}"
IMG_SIZE="${AGENTFS_WL_IMG_SIZE:-12G}"
ROOT="${AGENTFS_WL_ROOT:-/mnt/agentfs-workloads}"
NPM_SEED=/var/tmp/agentfs-workloads-npm-cache
SRC_SHM="/dev/shm/agentfs-workloads-src.$$"
RESULTS="${WL_RESULTS:-$here/results}"
[[ -n ${WL_RESULTS:-} ]] && NO_README=1
ALL_WORKLOADS="seqread-cold seqread-warm seqwrite randrw smallfiles git tree npm make checkpoint"
WORKLOADS="${WORKLOADS:-$ALL_WORKLOADS}"

START=$EPOCHSECONDS
LOAD_START="$(cut -d' ' -f1-3 /proc/loadavg)"
LOOPDEV=""
declare -A MOUNTED_PIDS=()   # mount point -> pid of the agentfs process serving it (ours)

# ---- output, timing and the workloads themselves ---------------------------------------------------
# shellcheck source=workloads.sh
source "$here/workloads.sh"

# ---- cleanup ---------------------------------------------------------------------------------------
our_mounts() { # mount points under $ROOT (deepest first), from /proc/mounts
  awk -v r="$ROOT" '$2 == r || index($2, r "/") == 1 { print $2 }' /proc/mounts | sort -r | uniq
}

release_mount() { # unmount one mount point, whatever serves it
  local mp=$1
  grep -qs " $mp " /proc/mounts || return 0
  local pid="${MOUNTED_PIDS[$mp]:-}"
  local fstype; fstype=$(awk -v m="$mp" '$2 == m { print $3; exit }' /proc/mounts)
  case "$fstype" in
    fuse.agentfs) [[ -n "${AGENTFS:-}" ]] && timeout 90 "${AGENTFS[@]}" unmount "$mp" >/dev/null 2>&1 || true ;;
    fuse.*) fusermount3 -u "$mp" 2>/dev/null || true ;;
  esac
  grep -qs " $mp " /proc/mounts && { umount "$mp" 2>/dev/null || umount -l "$mp" 2>/dev/null || true; }
  if [[ -n "$pid" ]]; then
    local i
    for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && { log "agentfs process $pid still runs after unmounting $mp; stopping it"; kill "$pid" 2>/dev/null || true; }
  fi
  unset "MOUNTED_PIDS[$mp]"
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  cd /
  local mp
  for mp in $(our_mounts); do
    [[ $mp == "$ROOT" ]] && continue
    release_mount "$mp"
  done
  if grep -qs " $ROOT " /proc/mounts; then
    sync
    umount "$ROOT" 2>/dev/null || { sleep 2; umount "$ROOT" 2>/dev/null; } || umount -l "$ROOT" || true
  fi
  [[ -n $LOOPDEV ]] && losetup -d "$LOOPDEV" 2>/dev/null || true
  local dev
  for dev in $(losetup -j "$IMG" -O NAME -n 2>/dev/null); do losetup -d "$dev" 2>/dev/null || true; done
  rm -f "$IMG" "$SRC_SHM"
  if our_mounts | grep -q .; then
    log "WARNING: still mounted: $(our_mounts | tr '\n' ' ')"
  else
    log "cleaned up: nothing mounted under $ROOT, image and loop device gone"
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- requirements ----------------------------------------------------------------------------------
[[ $(id -u) == 0 ]] || die "run as root (loop device, mkfs, mount, drop_caches)"
need=()
command -v fuse-overlayfs >/dev/null || need+=(fuse-overlayfs)
command -v fusermount3 >/dev/null || need+=(fuse3)
command -v mkfs.ext4 >/dev/null || need+=(e2fsprogs)
command -v git >/dev/null || need+=(git)
command -v make >/dev/null || need+=(make)
command -v gcc >/dev/null || need+=(gcc)
command -v npm >/dev/null || need+=(nodejs npm)
command -v fio >/dev/null || need+=(fio)
command -v python3 >/dev/null || need+=(python3)
if ((${#need[@]})); then
  log "installing ${need[*]}"
  apt-get update -qq >/dev/null 2>&1 || true
  # fio is optional (a C fallback exists); the rest are not.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null 2>&1 ||
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]/fio/}" >/dev/null ||
    die "apt-get install ${need[*]} failed"
fi
modprobe overlay 2>/dev/null || true
modprobe fuse 2>/dev/null || true
grep -qw overlay /proc/filesystems || log "kernel overlayfs is not available; skipping it"

# ---- AgentFs: build once, run a frozen copy --------------------------------------------------------
if [[ -n ${AGENTFS_DLL:-} ]]; then
  AGENTFS_BIN_DIR="$(dirname "$(readlink -f "$AGENTFS_DLL")")"; AGENTFS_PROGRAM="$(basename "$AGENTFS_DLL")"
  log "using the agentfs build in $AGENTFS_BIN_DIR (AGENTFS_DLL)"
else
  log "building agentfs ($repo/agentfs)"
  "$repo/agentfs" --version >/dev/null || die "building agentfs failed (set AGENTFS_DLL=path/AgentFs.Cli.dll to use another build)"
  AGENTFS_BIN_DIR="$(dirname "$(head -n 1 "$repo/.agentfs-build/stamp")")"   # the stamp names the program built
  AGENTFS_PROGRAM="$(basename "$(head -n 1 "$repo/.agentfs-build/stamp")")"  # AgentFs.Cli (Native AOT) or AgentFs.Cli.dll
fi
AGENTFS_COMMIT="$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)"
[[ -n "$(git -C "$repo" status --porcelain -- src 2>/dev/null)" ]] && AGENTFS_COMMIT+="+dirty"

# ---- the filesystem --------------------------------------------------------------------------------
for mp in $(our_mounts); do log "leftover mount $mp (an earlier run?); unmounting"; release_mount "$mp"; done
for dev in $(losetup -j "$IMG" -O NAME -n 2>/dev/null); do losetup -d "$dev" || true; done
rm -f "$IMG"
mkdir -p "$(dirname "$IMG")" "$ROOT"
truncate -s "$IMG_SIZE" "$IMG"
mkfs.ext4 -q -F -J size=64 "$IMG"
LOOPDEV=$(losetup -f --show --direct-io=on "$IMG" 2>/dev/null || losetup -f --show "$IMG")
mount "$LOOPDEV" "$ROOT"
log "journaled ext4 on $LOOPDEV ($IMG, $IMG_SIZE sparse) mounted at $ROOT"

BASE="$ROOT/base"; FIX="$ROOT/fixtures"; TOOLS="$ROOT/tools"; SYS="$ROOT/sys"; LOGS="$ROOT/logs"
mkdir -p "$BASE/data" "$FIX" "$TOOLS" "$SYS" "$LOGS"

cp -a "$AGENTFS_BIN_DIR" "$ROOT/agentfs-bin"   # a frozen copy: the checkout may be rebuilt meanwhile
if [[ $AGENTFS_PROGRAM == *.dll ]]; then AGENTFS=(dotnet "$ROOT/agentfs-bin/$AGENTFS_PROGRAM"); else AGENTFS=("$ROOT/agentfs-bin/$AGENTFS_PROGRAM"); fi
MOUNT_HELP="$("${AGENTFS[@]}" mount --help 2>&1 || true)"
[[ $MOUNT_HELP == *"<MOUNTPOINT>"* ]] || die "this agentfs has no 'mount' command"

# ---- systems ---------------------------------------------------------------------------------------
DEFAULT_SYSTEMS="native overlay fuse-overlayfs agentfs"
[[ $MOUNT_HELP == *"--passthrough"* ]] && DEFAULT_SYSTEMS+=" agentfs-passthrough"
SYSTEMS="${SYSTEMS:-$DEFAULT_SYSTEMS}"
sys_list=()
for s in $SYSTEMS; do
  case $s in
    overlay) grep -qw overlay /proc/filesystems || continue ;;
    agentfs-passthrough) [[ $MOUNT_HELP == *"--passthrough"* ]] || { log "agentfs mount has no --passthrough; skipping agentfs-passthrough"; continue; } ;;
    agentfs-nowb) [[ $MOUNT_HELP == *"--no-writeback-cache"* || $MOUNT_HELP == *"--writeback-cache"* ]] || continue ;;
    agentfs-wb) [[ $MOUNT_HELP == *"--writeback-cache"* ]] || { log "agentfs mount has no --writeback-cache (it is the default there); skipping agentfs-wb"; continue; } ;;
    native|fuse-overlayfs|agentfs|agentfs-run) ;;
    *) die "unknown system $s" ;;
  esac
  sys_list+=("$s")
done
agentfs_mount_opts() {
  case $1 in
    agentfs-passthrough) echo "--passthrough" ;;
    agentfs-nowb) echo "--no-writeback-cache" ;;
    agentfs-wb) echo "--writeback-cache" ;;
  esac
}

# ---- fixtures --------------------------------------------------------------------------------------
log "setup: random data ($SEQ_MB MiB sequential file, $RAND_MB MiB random-access file)"
head -c "${SEQ_MB}M" /dev/urandom >"$SRC_SHM"
cp "$SRC_SHM" "$BASE/data/seq.bin"
head -c "${RAND_MB}M" /dev/urandom >"$BASE/data/rand.bin"

log "setup: tools"
gcc -O2 -o "$TOOLS/smallfiles" "$here/tools/smallfiles.c"
gcc -O2 -o "$TOOLS/randrw" "$here/tools/randrw.c"
HAVE_FIO=0; command -v fio >/dev/null && HAVE_FIO=1

log "setup: C project of $BUILD_N modules"
python3 "$here/tools/gen_build.py" "$BASE/build" "$BUILD_N"

log "setup: git repository fixture ($GIT_FILES files of /usr, 3 commits)"
gsrc="$FIX/gitsrc"; mkdir -p "$gsrc"
(cd /usr && find include share/doc -type f -size -1024k 2>/dev/null | LC_ALL=C sort | sed -n "1,${GIT_FILES}p") >"$FIX/gitfiles"
nfiles=$(wc -l <"$FIX/gitfiles")
first=$((nfiles * 6 / 10))
tar -C /usr -T "$FIX/gitfiles" -cf - 2>/dev/null | tar -C "$gsrc" -xf -
G=(git -C "$gsrc" --literal-pathspecs -c user.name=bench -c user.email=bench@example.invalid -c init.defaultBranch=main)
"${G[@]}" init -q
sed -n "1,${first}p" "$FIX/gitfiles" | "${G[@]}" add --pathspec-from-file=-
"${G[@]}" commit -q -m "first part of the tree"
"${G[@]}" add -A
"${G[@]}" commit -q -m "the rest of the tree"
"${G[@]}" ls-files | sed -n '0~25p' | while IFS= read -r f; do printf '\n/* edited by the benchmark fixture */\n' >>"$gsrc/$f"; done
"${G[@]}" commit -q -a -m "edit every 25th file"
git clone -q --bare --no-hardlinks "file://$gsrc" "$FIX/repo.git"
git -C "$FIX/repo.git" gc -q
rm -rf "$gsrc"
if [[ " $WORKLOADS " == *" tree "* ]]; then
  # the tree workload: a checkout that is part of the base directory (the agent's project, never written)
  git clone -q --no-hardlinks "file://$FIX/repo.git" "$BASE/checkout"
  git -C "$BASE/checkout" status --porcelain >/dev/null   # the index's stat data is current: status reads no file
fi

NPM_OK=0
if [[ " $WORKLOADS " == *" npm "* ]]; then
  log "setup: npm project and its offline cache (the only step that uses the network)"
  proj="$BASE/proj"; mkdir -p "$proj"
  printf '{\n  "name": "workload-project",\n  "version": "1.0.0",\n  "private": true,\n  "dependencies": { %s }\n}\n' \
    "$NPM_DEPS" >"$proj/package.json"
  # A project .npmrc wins over the user's: lockfile entries keep their tarball URLs, so that an offline
  # install needs only the cached tarballs (without them npm asks for packuments the cache may lack).
  printf 'omit-lockfile-registry-resolved=false\nfund=false\naudit=false\nupdate-notifier=false\n' >"$proj/.npmrc"
  prep="$ROOT/npmprep"; mkdir -p "$prep"; cp "$proj/package.json" "$proj/.npmrc" "$prep/"
  mkdir -p "$NPM_SEED"
  if (cd "$prep" && npm install --prefer-offline --cache "$NPM_SEED" --no-audit --no-fund --loglevel=error >"$LOGS/npm-prep.log" 2>&1); then
    cp "$prep/package-lock.json" "$proj/"
    cp -a "$NPM_SEED" "$FIX/npm-cache"
    rm -rf "$prep/node_modules"
    if (cd "$prep" && npm install --offline --cache "$FIX/npm-cache" --no-audit --no-fund --loglevel=error >>"$LOGS/npm-prep.log" 2>&1); then
      NPM_OK=1
      log "setup: npm: $(find "$prep/node_modules" -name package.json -path '*/node_modules/*/package.json' -not -path '*/node_modules/*/node_modules/*/node_modules/*' | wc -l) package.json files, $(find "$prep/node_modules" -type f | wc -l) files"
    else
      log "setup: the offline npm install failed; skipping npm ($(tail -3 "$LOGS/npm-prep.log" | tr '\n' ' '))"
    fi
  else
    log "setup: npm install from the registry failed; skipping npm ($(tail -3 "$LOGS/npm-prep.log" | tr '\n' ' '))"
  fi
  rm -rf "$prep"
fi
sync

# ---- mounting --------------------------------------------------------------------------------------
MNT=""; CUR_STORE=""
AGENTFS_BACKGROUND=1   # cleared if `agentfs mount --background` does not work (then we detach it ourselves)

agentfs_mount() { # store mountpoint opts...
  local store=$1 mp=$2; shift 2
  local out pid
  if ((AGENTFS_BACKGROUND)); then
    if out=$("${AGENTFS[@]}" mount "$store" "$mp" --background "$@" 2>&1); then
      pid=$(tail -1 <<<"$out")
      [[ $pid =~ ^[0-9]+$ ]] && MOUNTED_PIDS[$mp]=$pid
      grep -qs " $mp " /proc/mounts && return 0
      log "agentfs mount --background returned but $mp is not mounted: $out"
      return 1
    fi
    log "NOTE: 'agentfs mount STORE MNT --background' failed: $out"
    log "NOTE: running 'agentfs mount' in the foreground, detached with setsid, from now on"
    AGENTFS_BACKGROUND=0
    NOTES+=("agentfs mount --background failed (\`agentfs mount STORE MNT --background\`: $out); the suite ran \`setsid agentfs mount STORE MNT &\` instead")
  fi
  setsid "${AGENTFS[@]}" mount "$store" "$mp" "$@" </dev/null >>"$LOGS/agentfs-mount.log" 2>&1 &
  pid=$!
  MOUNTED_PIDS[$mp]=$pid
  local i
  for i in $(seq 1 300); do
    grep -qs " $mp " /proc/mounts && return 0
    kill -0 "$pid" 2>/dev/null || { log "agentfs mount exited: $(tail -2 "$LOGS/agentfs-mount.log")"; return 1; }
    sleep 0.1
  done
  log "agentfs mount did not come up in 30 s"
  return 1
}

setup_system() { # system workload: fresh state, sets MNT
  local s=$1 wl=$2 d="$SYS/$1"
  rm -rf "$d"; mkdir -p "$d"
  case $s in
    native)
      # A plain copy of the base. The two big data files are hard links (nothing writes them), except the
      # file the random read/write workload writes, which is a real copy.
      MNT="$d/dir"; mkdir -p "$MNT/data"
      tar -C "$BASE" --exclude=./data -cf - . | tar -C "$MNT" -xf -
      ln "$BASE/data/seq.bin" "$MNT/data/seq.bin"
      if [[ $wl == randrw ]]; then cp "$BASE/data/rand.bin" "$MNT/data/rand.bin"; else ln "$BASE/data/rand.bin" "$MNT/data/rand.bin"; fi
      ;;
    overlay)
      MNT="$d/mnt"; mkdir -p "$d/upper" "$d/work" "$MNT"
      mount -t overlay overlay -o "lowerdir=$BASE,upperdir=$d/upper,workdir=$d/work" "$MNT"
      ;;
    fuse-overlayfs)
      MNT="$d/mnt"; mkdir -p "$d/upper" "$d/work" "$MNT"
      fuse-overlayfs -o "lowerdir=$BASE,upperdir=$d/upper,workdir=$d/work" "$MNT"
      ;;
    agentfs-run)
      # mounted by `agentfs run` in the sandbox's own mount namespace, when the workload starts
      MNT="$d/mnt"; CUR_STORE="$d/store/store.agentfs"; mkdir -p "$MNT" "$d/store"
      "${AGENTFS[@]}" init "$CUR_STORE" --base "$BASE" >/dev/null
      ;;
    agentfs*)
      MNT="$d/mnt"; CUR_STORE="$d/store.agentfs"; mkdir -p "$MNT"
      "${AGENTFS[@]}" init "$CUR_STORE" --base "$BASE" >/dev/null
      # shellcheck disable=SC2046
      agentfs_mount "$CUR_STORE" "$MNT" $(agentfs_mount_opts "$s")
      ;;
  esac
}

teardown_system() {
  local s=$1 d="$SYS/$1"
  cd /
  [[ $s != native && $s != agentfs-run ]] && release_mount "$d/mnt"
  if grep -qs " $d/mnt " /proc/mounts; then die "could not unmount $d/mnt"; fi
  rm -rf "$d"
  sync
}

warm() { # read files (from the underlying filesystem, not through a mount) into the page cache
  local p
  for p in "$@"; do [[ -e $p ]] && find "$p" -type f -print0 | xargs -0 -r cat >/dev/null; done
}

# ---- timing ----------------------------------------------------------------------------------------
SAMPLES="$ROOT/samples.tsv"; : >"$SAMPLES"
NOTES=()
CUR=""   # "rep system" of the measurement under way
CUR_LOG=""
# The agentfs-run system: the workload runs inside `agentfs run STORE --at MNT` (the branch mounted in the
# sandbox's mount namespace, host read-only, --net none) and is timed there, by the same functions as for
# the other systems; the files it writes outside the session (samples, its log, npm's cache) are --bind.
run_in_sandbox() { # workload
  local wl=$1 rc=0
  if [[ $wl == seqread-cold ]]; then
    dd if="$BASE/data/seq.bin" of=/dev/null bs=1M iflag=direct status=none 2>/dev/null || true
    echo 3 >/proc/sys/vm/drop_caches
  fi
  (
    export START MNT BASE FIX TOOLS SRC_SHM SAMPLES REP SYSNAME CUR_LOG WL_TIMEOUT HAVE_FIO RAND_MB RAND_OPS SMALL_N SMALL_SIZE BUILD_N
    exec "${AGENTFS[@]}" run "$CUR_STORE" --at "$MNT" --net none --bind "$LOGS" --bind "$SAMPLES" --bind "$FIX" \
      --bind "$SRC_SHM" -- bash "$here/run.sh" --inside "$wl"
  ) >>"$CUR_LOG" 2>&1 </dev/null || rc=$?
  ((rc == 0)) || record_fail "$wl-sandbox" "$rc"
  return $rc
}

# Inputs of each workload, read into the page cache before its mount is made (from outside the mounts):
# fixtures, the base tree it uses and the programs it runs, so that no system pays for a cold program.
inputs_for() {
  local gcc_dir; gcc_dir=$(dirname "$(gcc -print-prog-name=cc1)")
  case $1 in
    git) echo "$FIX/repo.git $BASE/proj /usr/lib/git-core $(readlink -f "$(command -v git)")" ;;
    tree) echo "$BASE/checkout /usr/lib/git-core $(readlink -f "$(command -v git)" "$(command -v cp)")" ;;
    npm) echo "$FIX/npm-cache $BASE/proj /usr/lib/node_modules/npm $(readlink -f "$(command -v node)")" ;;
    make) echo "$BASE/build $gcc_dir $(readlink -f "$(command -v gcc)" "$(command -v as)" "$(command -v ld)" "$(command -v make)")" ;;
    randrw) echo "$BASE/data/rand.bin $(readlink -f "$(command -v fio)" 2>/dev/null) $TOOLS" ;;
    *) echo "$TOOLS" ;;
  esac
}

# ---- run -------------------------------------------------------------------------------------------
wl_list=()
for w in $WORKLOADS; do
  case " $ALL_WORKLOADS " in *" $w "*) ;; *) die "unknown workload $w" ;; esac
  [[ $w == npm && $NPM_OK == 0 ]] && { NOTES+=("npm workloads skipped: the npm setup failed"); continue; }
  wl_list+=("$w")
done
log "systems: ${sys_list[*]}"
log "workloads: ${wl_list[*]}; $REPS repetition(s); agentfs $AGENTFS_COMMIT"

for REP in $(seq 1 "$REPS"); do
  # the order of the systems rotates from one repetition to the next, so that none is always first
  k=$(((REP - 1) % ${#sys_list[@]}))
  order=("${sys_list[@]:k}" "${sys_list[@]:0:k}")
  [[ ${ROTATE:-1} == 1 ]] || order=("${sys_list[@]}")
  for wl in "${wl_list[@]}"; do
    for SYSNAME in "${order[@]}"; do
      [[ $wl == checkpoint && $SYSNAME != agentfs ]] && continue
      log "rep $REP/$REPS  $wl  $SYSNAME"
      CUR_LOG="$LOGS/r$REP-$wl-$SYSNAME.log"
      # Only the cold read starts from an empty page cache (it drops it itself, after mounting); the
      # others start warm, with their inputs read in, and with nothing dirty (sync).
      # shellcheck disable=SC2046
      warm $(inputs_for "$wl")
      if ! setup_system "$SYSNAME" "$wl" >>"$CUR_LOG" 2>&1; then
        record_fail "$wl" "mount"
        teardown_system "$SYSNAME" >>"$CUR_LOG" 2>&1 || true
        continue
      fi
      sync
      if [[ $SYSNAME == agentfs-run ]]; then run_in_sandbox "$wl" || true; else "wl_$wl" || true; fi
      teardown_system "$SYSNAME" >>"$CUR_LOG" 2>&1 || { log "teardown of $SYSNAME failed: $(tail -3 "$CUR_LOG" | tr '\n' ' ')"; release_mount "$SYS/$SYSNAME/mnt"; }
    done
  done
done

# ---- report ----------------------------------------------------------------------------------------
mkdir -p "$RESULTS"
notes_json=$(printf '%s\n' "${NOTES[@]+"${NOTES[@]}"}" | python3 -c 'import json,sys; print(json.dumps([l for l in sys.stdin.read().splitlines() if l]))')
cat >"$ROOT/meta.json" <<EOF
{
  "date": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "quick": $([[ $QUICK == 1 ]] && echo true || echo false),
  "reps": $REPS,
  "systems": $(printf '%s\n' "${sys_list[@]}" | python3 -c 'import json,sys; print(json.dumps(sys.stdin.read().split()))'),
  "agentfs_commit": "$AGENTFS_COMMIT",
  "agentfs_mount_background": $AGENTFS_BACKGROUND,
  "kernel": "$(uname -r)",
  "cpus": $(nproc),
  "mem_gib": $(awk '/MemTotal/ { printf "%d", $2 / 1048576 + 0.5 }' /proc/meminfo),
  "fuse_overlayfs": "$(fuse-overlayfs --version 2>/dev/null | head -1 | awk '{print $NF}')",
  "fio": $HAVE_FIO,
  "sizes": { "seq_mib": $SEQ_MB, "rand_mib": $RAND_MB, "rand_ops": $RAND_OPS, "small_files": $SMALL_N,
             "small_size": $SMALL_SIZE, "git_files": $nfiles, "build_modules": $BUILD_N,
             "checkpoint_small_mib": $CKPT_SMALL_MB, "checkpoint_big_mib": $CKPT_BIG_MB,
             "npm_dependencies": "$(tr -d '"' <<<"$NPM_DEPS")" },
  "wall_seconds": $((EPOCHSECONDS - START)),
  "loadavg_start": "$LOAD_START",
  "loadavg_end": "$(cut -d' ' -f1-3 /proc/loadavg)",
  "notes": $notes_json
}
EOF
report_args=(--samples "$SAMPLES" --meta "$ROOT/meta.json" --json "$RESULTS/latest.json" --svg "$RESULTS/ratios.svg")
[[ ${NO_README:-0} == 1 ]] || report_args+=(--readme "$repo/benchmarks/README.md")
python3 "$here/tools/report.py" "${report_args[@]}"
log "done in $(elapsed): $RESULTS/latest.json, $RESULTS/ratios.svg${NO_README:+}"
