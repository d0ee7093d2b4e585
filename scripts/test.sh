#!/usr/bin/env bash
# Installs what the tests need on a fresh Debian machine with the .NET SDK, runs every test project,
# and ends with the line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."

need=()
command -v sqlite3 >/dev/null || need+=(sqlite3)
command -v git >/dev/null || need+=(git)
command -v fusermount3 >/dev/null || need+=(fuse3)
command -v getfattr >/dev/null || need+=(attr)
command -v setfacl >/dev/null || need+=(acl)
command -v rsync >/dev/null || need+=(rsync)
command -v setcap >/dev/null || need+=(libcap2-bin)
command -v setpriv >/dev/null || need+=(util-linux)
for lib in libaio.so.1:libaio1 liburing.so.2:liburing2; do ldconfig -p | grep -q "${lib%%:*}" || need+=("${lib##*:}"); done  # xfstests' fsx, fsstress
command -v bwrap >/dev/null || need+=(bubblewrap)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || need+=(postgresql)  # the sandbox's database scenario
command -v cc >/dev/null || need+=(gcc)
command -v npm >/dev/null || need+=(npm)
command -v curl >/dev/null || need+=(curl)  # --net allow= tests
command -v clang >/dev/null || command -v clang-14 >/dev/null || need+=(clang)  # ./agentfs links the command with Native AOT
dpkg -s zlib1g-dev >/dev/null 2>&1 || need+=(zlib1g-dev)  # ... which links zlib
command -v chromium >/dev/null || need+=(chromium)  # agentfs report, loaded in a headless browser
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null; fi
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
dotnet build AgentFs.sln -c Release -v q -nologo 2>&1 | grep -E "error|Build succeeded" | head -50
# Build ./agentfs now (a Native AOT publish, a few minutes; ReadyToRun without clang, ~15 s), once for all the
# test projects, not inside the first test that runs it under a timeout.
./agentfs --version >/dev/null || echo "building ./agentfs failed; the tests that run it will say why"
status=0
for proj in tests/*/*.csproj; do
  echo "== $proj"
  dotnet test "$proj" -c Release --no-build --nologo 2>&1 | tee -a "$log" | grep -vE "^\s*$" | grep -E "Passed!|Failed!|Failed |Error Message|^\s+(Assert|Expected|Actual)" | head -80
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
done
passed=$(grep -hoE "Passed: +[0-9]+" "$log" | awk '{s+=$2} END {print s+0}')
failed=$(grep -hoE "Failed: +[0-9]+" "$log" | awk '{s+=$2} END {print s+0}')
if [ "$passed" -eq 0 ] && [ "$failed" -eq 0 ]; then failed=1; echo "no test ran"; fi
[ "$status" -ne 0 ] && [ "$failed" -eq 0 ] && failed=1
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
