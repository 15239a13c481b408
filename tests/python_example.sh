#!/usr/bin/env bash
# usage: bash python_example.sh <script> <libbilearn.so> [launcher...]
# Runs examples/python/recycle_sequence.py with Debian's /usr/bin/python3 (petsc4py) under the
# launcher (e.g. mpiexec -n 2 ...) and passes only if it exits 0, printed one row per system and
# rminres took fewer iterations in total than plain MINRES after the first system.
set -uo pipefail
script=$1
lib=$2
shift 2
out=$(mktemp)
trap 'rm -f "$out"' EXIT
/usr/bin/python3 -c 'import petsc4py' 2>/dev/null ||
  { echo "FAIL: /usr/bin/python3 cannot import petsc4py: install python3-petsc4py (scripts/setup.sh)" >&2; exit 1; }
"$@" /usr/bin/python3 "$script" --lib "$lib" --systems 6 >"$out" 2>&1
status=$?
cat "$out"
[ "$status" -eq 0 ] || { echo "FAIL: the example exited with status $status" >&2; exit 1; }
rows=$(grep -cE '^ *[0-9]+ +[0-9]+ +[0-9]+ +[0-9.]+$' "$out")
[ "$rows" -eq 6 ] || { echo "FAIL: expected 6 rows of iterations, got $rows" >&2; exit 1; }
read -r minres rminres < <(sed -n 's/^total after the first system: minres \([0-9]*\) rminres \([0-9]*\) .*/\1 \2/p' "$out")
[ -n "${minres:-}" ] && [ -n "${rminres:-}" ] || { echo "FAIL: no totals line" >&2; exit 1; }
[ "$minres" -gt 0 ] && [ "$rminres" -lt "$minres" ] ||
  { echo "FAIL: rminres took $rminres iterations after the first system, MINRES $minres: no fewer" >&2; exit 1; }
echo "ok: rminres $rminres iterations after the first system against MINRES $minres"
