#!/usr/bin/env bash
# The workload suite's timing helpers and workloads, sourced by run.sh; for the agentfs-run system, run.sh
# also sources it inside `agentfs run` (run.sh --inside WORKLOAD), so the workload is timed in the sandbox.
# Expects: START, MNT, BASE, FIX, TOOLS, SRC_SHM, SAMPLES, REP, SYSNAME, CUR_LOG, WL_TIMEOUT, HAVE_FIO and the
# sizes (RAND_MB, RAND_OPS, SMALL_N, SMALL_SIZE, BUILD_N, CKPT_*), AGENTFS and CUR_STORE for checkpoints.

# ---- output ----------------------------------------------------------------------------------------
elapsed() { local s=$((EPOCHSECONDS - START)); printf '%02d:%02d' $((s / 60)) $((s % 60)); }
log() { printf '[%s] %s\n' "$(elapsed)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

drop_caches() { sync; echo 3 >/proc/sys/vm/drop_caches; }

# ---- timing ----------------------------------------------------------------------------------------
record() { printf '%s\t%s\t%s\t%s\tok\t\n' "$REP" "$1" "$SYSNAME" "$2" >>"$SAMPLES"; }
record_fail() {
  local why; why=$(tail -5 "$CUR_LOG" 2>/dev/null | tr '\t\n' '  ' | cut -c1-600)
  printf '%s\t%s\t%s\t\tfailed\t%s\n' "$REP" "$1" "$SYSNAME" "exit $2: $why" >>"$SAMPLES"
  log "    FAILED $1 on $SYSNAME (exit $2): $why"
}
verify() { # label cmd...: an untimed correctness check of what the workload left; a failure is recorded
  local label=$1 rc=0; shift
  printf '$ %s\n' "$*" >>"$CUR_LOG"
  timeout -k 10 "$WL_TIMEOUT" "$@" >>"$CUR_LOG" 2>&1 </dev/null || rc=$?
  ((rc == 0)) || record_fail "verify-$label" "$rc"
  return 0
}
secs_since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.6f", b - a }'; }

tm() { # label cmd... : runs cmd, records its wall time under label
  local label=$1; shift
  local t0=$EPOCHREALTIME rc=0 s
  timeout -k 10 "$WL_TIMEOUT" "$@" >>"$CUR_LOG" 2>&1 </dev/null || rc=$?
  s=$(secs_since "$t0")
  if ((rc == 0)); then
    record "$label" "$s"
    printf '[%s]     %-16s %-20s %9.3f s\n' "$(elapsed)" "$label" "$SYSNAME" "$s" >&2
  else
    record_fail "$label" "$rc"
  fi
  return $rc
}

# ---- workloads -------------------------------------------------------------------------------------
# Each runs on a fresh mount ($MNT) of system $SYSNAME, made after the workload's inputs outside the mount
# were read into the page cache; only the tm lines are timed, verify lines check what was left.
wl_seqread-cold() {
  # "Cold" is the guest's page cache. The virtual disk's host may cache what was read recently, which
  # made whichever system read the file first slower; an untimed O_DIRECT read of the base file (which
  # fills no guest cache) puts every system in the same state: host warm, guest cold.
  dd if="$BASE/data/seq.bin" of=/dev/null bs=1M iflag=direct status=none 2>/dev/null || true
  drop_caches
  tm seqread-cold dd if="$MNT/data/seq.bin" of=/dev/null bs=1M
}
wl_seqread-warm() {
  dd if="$MNT/data/seq.bin" of=/dev/null bs=1M status=none
  tm seqread-warm dd if="$MNT/data/seq.bin" of=/dev/null bs=1M
  verify seqread-content cmp "$MNT/data/seq.bin" "$SRC_SHM"
}
wl_seqwrite() {
  cat "$SRC_SHM" >/dev/null
  tm seqwrite-fsync dd if="$SRC_SHM" of="$MNT/seqwrite.bin" bs=1M conv=fsync || return 1
  verify seqwrite-content cmp "$MNT/seqwrite.bin" "$SRC_SHM"
}
wl_randrw() {
  if ((HAVE_FIO)); then
    tm randrw-4k fio --name=randrw --filename="$MNT/data/rand.bin" --rw=randrw --rwmixread=50 --bs=4k \
      --size="${RAND_MB}M" --number_ios="$RAND_OPS" --ioengine=psync --end_fsync=1 --randrepeat=1 \
      --norandommap --invalidate=0 --output-format=terse
  else
    tm randrw-4k "$TOOLS/randrw" "$MNT/data/rand.bin" "$RAND_OPS"
  fi
}
wl_smallfiles() {
  local t0=$EPOCHREALTIME out rc=0 s
  out=$(timeout -k 10 "$WL_TIMEOUT" "$TOOLS/smallfiles" "$MNT/small" "$SMALL_N" "$SMALL_SIZE" 2>>"$CUR_LOG") || rc=$?
  s=$(secs_since "$t0")
  if ((rc != 0)); then record_fail smallfiles "$rc"; return 1; fi
  record smallfiles "$s"
  printf '[%s]     %-16s %-20s %9.3f s  %s\n' "$(elapsed)" smallfiles "$SYSNAME" "$s" "$out" >&2
  local phase
  for phase in create stat read delete; do
    record "smallfiles-$phase" "$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$out" "$phase")"
  done
}
wl_git() {
  tm git-clone git clone -q --no-hardlinks "file://$FIX/repo.git" "$MNT/clone" || return 1
  sync
  tm git-status git -C "$MNT/clone" status --porcelain || return 1
  # the clone must be clean: anything listed means files read back differently from what was written
  verify git-clean bash -c "out=\$(git -C '$MNT/clone' status --porcelain) && [[ -z \$out ]] || { echo \"git status lists: \$(head -c 300 <<<\"\$out\")\"; exit 1; }"
  verify git-fsck git -C "$MNT/clone" fsck --no-progress
  # the checked-out files hash to what the index says (git status trusts stat data; this reads every file)
  verify git-content bash -c "diff <(git -C '$MNT/clone' ls-files -s | awk '{ print \$2 }') <(cd '$MNT/clone' && git ls-files -z | xargs -0 git hash-object --) >/dev/null || { echo 'checked-out content differs from the index'; exit 1; }"
}
wl_tree() { # a checkout in the base directory: the agent's loop of status, reads and copies (each warm)
  git -C "$MNT/checkout" status --porcelain >/dev/null
  tm git-status-base git -C "$MNT/checkout" status --porcelain || return 1
  verify git-status-base-clean bash -c "out=\$(git -C '$MNT/checkout' status --porcelain) && [[ -z \$out ]] || { echo \"git status lists: \$(head -c 300 <<<\"\$out\")\"; exit 1; }"
  find "$MNT/checkout" -path "$MNT/checkout/.git" -prune -o -type f -print0 | xargs -0 cat >/dev/null
  tm tree-read-warm bash -c "find '$MNT/checkout' -path '$MNT/checkout/.git' -prune -o -type f -print0 | xargs -0 cat >/dev/null" || return 1
  tm cp-a cp -a "$BASE/checkout" "$MNT/copy" || return 1
  sync
  verify cp-a-content diff -r --no-dereference "$BASE/checkout" "$MNT/copy"
}
wl_npm() {
  tm npm-install bash -c "cd '$MNT/proj' && npm install --offline --cache '$FIX/npm-cache' --no-audit --no-fund --loglevel=error" || return 1
  sync
  verify npm-require bash -c "cd '$MNT/proj' && node -e \"require('express'); require('lodash')\""
  tm npm-rm rm -rf "$MNT/proj/node_modules" || return 1
  verify npm-rm-empty bash -c "[[ ! -e '$MNT/proj/node_modules' ]] || { echo 'node_modules still exists:'; find '$MNT/proj/node_modules' | head; exit 1; }"
}
wl_make() {
  tm make-j2 make -C "$MNT/build" -j2 -s || return 1
  verify make-objects bash -c "n=\$(ls '$MNT/build/obj/'*.o | wc -l); [[ \$n == $((BUILD_N + 1)) ]] || { echo \"\$n objects, expected $((BUILD_N + 1))\"; exit 1; }"
  verify make-app-runs "$MNT/build/app"
  verify make-uptodate bash -c "out=\$(make -C '$MNT/build' -q 2>&1) || { echo \"make -q: a second make would rebuild: \$out\"; exit 1; }"
}
CKPT_PROBED=0
CKPT_MOUNTED=1   # cleared if `agentfs checkpoint` refuses a mounted store (then the store is unmounted for it)
wl_checkpoint() { # agentfs only: checkpoint and branch of a store holding little, then much data
  local out
  if ((CKPT_MOUNTED == 1 && CKPT_PROBED == 0)); then # can a mounted store be checkpointed? (on the empty store)
    CKPT_PROBED=1
    if ! out=$(timeout 300 "${AGENTFS[@]}" checkpoint "$CUR_STORE" -m probe 2>&1); then
      CKPT_MOUNTED=0
      NOTES+=("\`agentfs checkpoint STORE\` with the store mounted failed ($out); checkpoints were timed unmounted")
      log "    checkpoint of a mounted store failed ($out); timing checkpoints unmounted"
    fi
  fi
  mkdir -p "$MNT/ck"
  tm cli-noop "${AGENTFS[@]}" branches "$CUR_STORE" || true
  dd if="$SRC_SHM" of="$MNT/ck/a.bin" bs=1M count=$CKPT_SMALL_MB conv=fsync status=none
  ckpt_pair "${CKPT_SMALL_MB}M" || return 1
  if ! grep -qs " $MNT " /proc/mounts; then
    # shellcheck disable=SC2046
    agentfs_mount "$CUR_STORE" "$MNT" $(agentfs_mount_opts "$SYSNAME") || return 1
  fi
  dd if="$SRC_SHM" of="$MNT/ck/b.bin" bs=1M count=$((CKPT_BIG_MB - CKPT_SMALL_MB)) conv=fsync status=none
  ckpt_pair "${CKPT_BIG_MB}M" || return 1
  # the same right away, with nothing new: what a checkpoint costs when no data is waiting to be committed
  tm "checkpoint-again-${CKPT_BIG_MB}M" "${AGENTFS[@]}" checkpoint "$CUR_STORE"
}
ckpt_pair() { # tag: time a checkpoint, then a branch from it (store mounted if the command allows it)
  local tag=$1 id
  sync
  ((CKPT_MOUNTED)) || release_mount "$MNT"
  tm "checkpoint-$tag" "${AGENTFS[@]}" checkpoint "$CUR_STORE" || return 1
  id=$(tail -1 "$CUR_LOG" | tr -d '[:space:]')
  [[ $id =~ ^[0-9]+$ ]] || { record_fail "branch-$tag" "no-checkpoint-id"; return 1; }
  tm "branch-$tag" "${AGENTFS[@]}" branch "$CUR_STORE" "b-$tag" --from "$id"
}
