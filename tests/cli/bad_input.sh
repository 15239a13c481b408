#!/usr/bin/env bash
# Bad input to `bilearn operator` on 1 and 2 ranks: non-zero exit, exactly one
# `bilearn: error:` line naming the problem, no PETSc traceback (checks in lib_expect.sh).
# usage: bash bad_input.sh <bilearn> <mpiexec> [mpiexec flags...]
set -euo pipefail
source "$(dirname "$0")/lib_expect.sh"
cli_init "$@"

# Files: random bytes, and a valid operator file for a 10x10 grid (wrong size for N = 24).
head -c 4096 /dev/urandom >"$work/garbled.bin"
run 1 operator -problem blur -problem_n 10 --write "$work/n10.bin" >/dev/null || fail "writing the 10x10 blur failed"

for np in 1 2; do
  expect_error "$np" "cannot open matrix file '$work/missing.bin'" \
    operator -problem matrix -problem_n 24 -matrix_file "$work/missing.bin"
  expect_error "$np" "matrix file '$work/garbled.bin' is not a PETSc binary matrix" \
    operator -problem matrix -problem_n 24 -matrix_file "$work/garbled.bin"
  expect_error "$np" "matrix file '$work/n10.bin' has 100 columns, the 24x24 grid needs 576" \
    operator -problem matrix -problem_n 24 -matrix_file "$work/n10.bin"
  expect_error "$np" "-matrix_file" operator -problem matrix -problem_n 24
  expect_error "$np" "-problem_n" operator -problem_n 0
  expect_error "$np" "unknown value 'nonsense' for -problem" operator -problem nonsense
  expect_error "$np" "-blur_sigma must be positive" operator -problem blur -problem_n 24 -blur_sigma -1
  expect_error "$np" "--bogus" operator --bogus
  expect_error "$np" "-tomo_angles" operator -problem tomo -problem_n 24 -tomo_angles 0
  expect_error "$np" "cannot write operator file" operator -problem denoise -problem_n 24 --write "$work/no/such/dir/A.bin"
  expect_error "$np" "unknown benchmark 'nonsense'" bench nonsense
done
echo "ok: bad input gives one error line"
