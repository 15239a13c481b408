#!/usr/bin/env bash
# Helpers for the CLI tests (sourced, not a test itself). A test script starts with
#   source "$(dirname "$0")/lib_expect.sh"
#   cli_init "$@"          # args: <bilearn> <mpiexec> [mpiexec flags...]
# and then uses run, fail and expect_error:
#   run NP ARGS...                 bilearn ARGS on NP ranks
#   expect_error NP TEXT ARGS...   bilearn ARGS on NP ranks must fail cleanly (see below)
# Sets: bilearn, mpiexec, flags (array), work (a temporary directory removed on exit).

cli_init() {
  bilearn=$1
  mpiexec=$2
  shift 2
  flags=("$@")
  # Open MPI's launcher adds its own "---- Primary job terminated ..." banner on stderr
  # when a rank exits non-zero; --quiet silences the launcher only, never the program.
  quiet=()
  if "$mpiexec" --version 2>&1 | grep -qi 'open mpi\|openrte'; then quiet=(--quiet); fi
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
}

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

run() {
  local np=$1
  shift
  "$mpiexec" -n "$np" "${flags[@]}" "$bilearn" "$@"
}

# expect_error NP TEXT ARGS...: bilearn ARGS on NP ranks must
#   - exit with a non-zero status,
#   - write exactly one line to stderr, starting with "bilearn: error:" and containing TEXT
#     (a fixed string; empty matches anything),
#   - print no PETSc traceback ("[0]PETSC ERROR", "----" lines) or C++ abort on stdout or stderr.
expect_error() {
  local np=$1 text=$2
  shift 2
  local out=$work/expect_error.out err=$work/expect_error.err status=0
  "$mpiexec" "${quiet[@]}" -n "$np" "${flags[@]}" "$bilearn" "$@" >"$out" 2>"$err" || status=$?
  local what="bilearn $* (on $np rank(s))"
  [ "$status" -ne 0 ] || fail "$what succeeded; expected an error containing '$text'"
  [ "$(wc -l <"$err")" -eq 1 ] || fail "$what: expected exactly one line on stderr, got:
$(cat "$err")"
  grep -q '^bilearn: error: ' "$err" || fail "$what: the stderr line does not start with 'bilearn: error:': $(cat "$err")"
  grep -qF -- "$text" "$err" || fail "$what: the error line lacks '$text': $(cat "$err")"
  if cat "$out" "$err" | grep -q 'PETSC ERROR\|^ *----\|terminate called\|Traceback'; then
    fail "$what: traceback in the output:
$(cat "$out" "$err")"
  fi
  echo "ok: $what -> $(cat "$err")"
}
