#!/usr/bin/env bash
# agentfs run's start-up: the time from starting `agentfs run` to the first instruction of its command, for two
# builds of the command interleaved (A, B, A, B, ...), each on a store of its own over a one-file base.
# usage: benchmarks/run-startup.sh N PROGRAM_A PROGRAM_B
#   PROGRAM is a native program (Native AOT, .agentfs-build/publish/AgentFs.Cli/release_linux-x64/AgentFs.Cli)
#   or AgentFs.Cli.dll (run with dotnet). Prints each run, then min/median/max of each and the paired ratio A/B.
set -euo pipefail
n=$1 a=$2 b=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
run() { case "$1" in *.dll) dotnet "$@" ;; *) "$@" ;; esac; }
for side in a b; do mkdir "$work/base-$side"; echo hello >"$work/base-$side/f"; done
run "$a" init "$work/a.agentfs" --base "$work/base-a" >/dev/null
run "$b" init "$work/b.agentfs" --base "$work/base-b" >/dev/null
for _ in $(seq "$n"); do
    for side in a b; do
        program=$a; [[ $side == b ]] && program=$b
        s=$(date +%s%N); e=$(run "$program" run "$work/$side.agentfs" --net none -- /bin/date +%s%N)
        echo "$side $(( (e - s) / 1000000 ))"
    done
done | tee "$work/times"
for side in a b; do
    grep "^$side " "$work/times" | awk '{print $2}' | sort -n |
        awk -v s="$side" '{t[NR] = $1} END {printf "%s: min %d ms, median %d ms, max %d ms (%d runs)\n", s, t[1], t[int((NR + 1) / 2)], t[NR], NR}'
done
paste <(grep '^a ' "$work/times" | awk '{print $2}') <(grep '^b ' "$work/times" | awk '{print $2}') | awk '{print $1 / $2}' | sort -n |
    awk '{r[NR] = $1} END {printf "a/b pair by pair: min %.2f, median %.2f, max %.2f\n", r[1], r[int((NR + 1) / 2)], r[NR]}'
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
