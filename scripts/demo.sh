#!/usr/bin/env bash
# The main job on a sample directory: create a store over it, change files, checkpoint, branch,
# roll back, list. The sample directory is never written; it is checked at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
A=./agentfs
S="$work/session.agentfs"
say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
run() { say "$*"; "$@"; }

mkdir -p "$work/project/src"
printf 'print("hello")\n' > "$work/project/src/main.py"
printf '# Sample project\n' > "$work/project/README.md"
before=$(cd "$work/project" && find . -type f -exec sha256sum {} + | sort | sha256sum)

run $A init "$S" --base "$work/project"
say "echo 'print(\"hello, agent\")' | agentfs fs STORE write src/main.py"
printf 'print("hello, agent")\n' | $A fs "$S" write src/main.py
run $A fs "$S" mkdir docs
say "echo notes | agentfs fs STORE write docs/notes.md"
echo notes | $A fs "$S" write docs/notes.md
say "agentfs checkpoint STORE -m 'first task'"
cp1=$($A checkpoint "$S" -m "first task" | tail -n 1)
echo "$cp1"
run $A fs "$S" rm README.md
run $A fs "$S" ls -l /
run $A branch "$S" experiment --from "$cp1"
say "echo 'print(\"experiment\")' | agentfs fs STORE write src/main.py --branch experiment"
printf 'print("experiment")\n' | $A fs "$S" write src/main.py --branch experiment
run $A rollback "$S" "$cp1"
run $A fs "$S" ls -l /
run $A fs "$S" cat src/main.py
run $A fs "$S" cat src/main.py --branch experiment
run $A diff "$S" --branch experiment
run $A diff "$S" --name-status
run $A log "$S"
run $A branches "$S"
after=$(cd "$work/project" && find . -type f -exec sha256sum {} + | sort | sha256sum)
say "the sample directory is unchanged"
[ "$before" = "$after" ] && echo "yes: $(cat "$work/project/src/main.py")"
