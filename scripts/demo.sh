#!/usr/bin/env bash
# The main job on a sample git project: create a store over it, mount the session, let ordinary tools
# (an editor's sed, git) change it, checkpoint and roll back while it is mounted, branch, diff, export a
# patch that `git apply` takes, unmount. The sample project is never written; it is checked at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v git >/dev/null || need+=(git)
[ "$(id -u)" = 0 ] || command -v fusermount3 >/dev/null || need+=(fuse3)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

work=$(mktemp -d)
A=./agentfs
S="$work/session.agentfs"
M="$work/session"
cleanup() {
  if mountpoint -q "$M" 2>/dev/null; then $A unmount "$M" >/dev/null 2>&1 || umount -l "$M" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
run() { say "$*"; "$@"; }
g() { git -c user.name=Agent -c user.email=agent@example.com -c init.defaultBranch=main "$@"; }

# A small project under git, as a developer keeps it.
mkdir -p "$work/project/src"
printf 'def greet():\n    return "hello"\n' > "$work/project/src/app.py"
printf '# Sample project\n' > "$work/project/README.md"
(cd "$work/project" && g init -q && g add -A && g commit -qm "initial")
hash_tree() { (cd "$1" && find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum); }
before=$(hash_tree "$work/project")

run $A init "$S" --base "$work/project"
mkdir "$M"
run $A mount "$S" "$M" --background
run $A status

say "cd SESSION && sed -i s/hello/hello, agent/ src/app.py && echo 'notes' > NOTES.md && git status --short"
(cd "$M" && sed -i 's/"hello"/"hello, agent"/' src/app.py && echo notes > NOTES.md && git status --short)
say "agentfs checkpoint STORE -m 'task 1: greeting'      (live, while mounted)"
cp1=$($A checkpoint "$S" -m "task 1: greeting" | tail -n 1)
echo "$cp1"

say "rm README.md src/app.py   (the agent goes wrong)"
rm "$M/README.md" "$M/src/app.py"
run ls "$M" "$M/src"
run $A rollback "$S" "$cp1"
say "ls SESSION; cat SESSION/src/app.py   (back at the checkpoint, without remounting)"
ls "$M"; cat "$M/src/app.py"

run $A branch "$S" experiment --from "$cp1"
printf 'print("experiment")\n' | $A fs "$S" write src/extra.py --branch experiment
run $A diff "$S" --branch experiment --name-status
run $A diff "$S"
run $A log "$S"
run $A patch "$S" -o "$work/session.patch"
say "git apply the patch to a fresh clone of the project"
g clone -q "$work/project" "$work/clone"
(cd "$work/clone" && git apply "$work/session.patch" && git status --short)
run $A unmount "$M"

after=$(hash_tree "$work/project")
say "the project directory is unchanged"
[ "$before" = "$after" ] && echo "yes: $(grep return "$work/project/src/app.py")"
