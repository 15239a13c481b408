#!/usr/bin/env bash
# usage: bash expect_output.sh REGEX COMMAND [ARGS...]
# Runs COMMAND and passes only if it exits 0 AND its output (stdout and stderr together)
# matches REGEX (Python syntax, '.' also matches newlines). CMake's PASS_REGULAR_EXPRESSION
# alone ignores the exit status: a crash after the expected output would pass.
set -uo pipefail
regex=$1
shift
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$@" >"$out" 2>&1
status=$?
cat "$out"
if [ "$status" -ne 0 ]; then
  echo "FAIL: exit status $status: $*" >&2
  exit 1
fi
/usr/bin/python3 - "$regex" "$out" <<'PY' || { echo "FAIL: the output does not match: $regex" >&2; exit 1; }
import re, sys
sys.exit(0 if re.search(sys.argv[1], open(sys.argv[2], errors="replace").read(), re.S) else 1)
PY
