#!/usr/bin/env bash
# `bilearn bench recycle` on a tiny tomography run (2 ranks): records the hypergradient
# systems of the training, replays them with warm MINRES, rminres and rcg, and prints one row
# per method. Checks: every method reaches the reference hypergradient to the accuracy the
# tolerance implies, recycling cuts the iterations, no solve is rerun after a failed check,
# and the --json file holds the rows. With -bench_oracle, the oracle-stopped rows are never less
# accurate than warm MINRES; with -bench_exact 1, exact eigenvectors cut the iterations.
# -bench_save/-bench_load replay the same sequence with the same iterations; a method that does
# not converge, or whose error is NaN, is a failed row and makes the command fail.
# usage: bash bench_recycle.sh <bilearn> <mpiexec> [mpiexec flags...]
set -euo pipefail
source "$(dirname "$0")/lib_expect.sh"
cli_init "$@"

# rows FILE: the table rows of a bench recycle output as "method its err_max rst fail" (the
# numbers as printed, nan included); a check in Python, not awk: Debian's mawk takes
# "-nan < 1e-4" as true.
rows() {
  python3 - "$1" <<'PY'
import sys
header = None
for line in open(sys.argv[1]):
    f = line.split()
    if f[:2] == ["method", "its"]:
        header = f
        continue
    if header and f and f[0].startswith("("):
        break
    if header and len(f) == 15:  # method its x PC H-equiv x seconds x ms/it x err-max err-mean MB rst fail
        print(f[0], f[1], f[10], f[13], f[14])
PY
}
# check_rows FILE METHOD...: every METHOD has a row with a finite error below 1e-4, no rerun
# solve and no failed system.
check_rows() {
  local file=$1
  shift
  rows "$file" >"$file.rows"
  python3 - "$file.rows" "$@" <<'PY' || fail "$file: $(cat "$file.rows")"
import math, sys
rows = {f[0]: f[1:] for f in (l.split() for l in open(sys.argv[1]))}
for m in sys.argv[2:]:
    assert m in rows, "no row for " + m
    its, err, rst, failed = rows[m]
    err = float(err)
    assert math.isfinite(err) and err < 1e-4, "%s: hypergradient error %s" % (m, err)
    assert rst == "0", "%s: %s solves failed their true-residual check" % (m, rst)
    assert failed == "0", "%s: %s systems failed" % (m, failed)
PY
}
its_of() { awk -v m="$2" '$1 == m { print $2 }' "$1.rows"; }

out=$work/bench.txt
methods=minres_warm,rminres_ritz_both,rminres_ritz_both_nosplit,rcg_ritz_both
small=(-problem_n 32 -tomo_angles 30 -data_samples 2 -reg_foe_filters dct3 -bench_k 8)
run 2 bench recycle --out "$work/run" --json "$work/bench.json" "${small[@]}" -outer_max_it 3 -outer_progress false \
  -bench_methods "$methods" -bench_oracle -bench_exact 1 -bench_repeat 2 -bench_save "$work/seq.bin" \
  -strict_options >"$out" || fail "bench recycle exited with $?"
cat "$out"
check_rows "$out" ${methods//,/ }
[ "$(its_of "$out" rminres_ritz_both)" -lt "$(its_of "$out" minres_warm)" ] ||
  fail "recycling did not cut the iterations ($(its_of "$out" rminres_ritz_both) vs $(its_of "$out" minres_warm))"
python3 - "$work/bench.json" <<'PY' || fail "--json lacks the method rows or their fields"
import json, sys
j = json.load(open(sys.argv[1]))
rows = {r["method"]: r for r in j["methods"]}
assert "rcg_ritz_both" in rows, rows.keys()
for r in rows.values():
    assert "h_equivalent" in r and r["failed_systems"] == 0, r
PY

# Oracle rows stop at warm MINRES's error, system by system: their largest error cannot exceed it.
python3 - "$out.rows" <<'PY' || fail "oracle stopping less accurate than warm MINRES: $(cat "$out.rows")"
import math, sys
rows = {f[0]: f[1:] for f in (l.split() for l in open(sys.argv[1]))}
warm, oracle = float(rows["minres_warm"][1]), float(rows["rminres_ritz_both_oracle"][1])
assert math.isfinite(oracle) and oracle <= warm * (1 + 1e-9), (oracle, warm)
PY
# Deflation bound: exact eigenvectors (k = 8 and 16) must cut MINRES's iterations.
bound=$(grep -A3 "^deflation bound" "$out" | awk '$1 ~ /^[0-9]+$/') || fail "no deflation bound rows"
[ "$(wc -l <<<"$bound")" = 2 ] || fail "expected 2 deflation bound rows, got: $bound"
while read -r _ k minres exact _; do
  [ "$exact" -lt "$minres" ] || fail "exact deflation with k = $k did not cut the iterations ($exact vs $minres)"
done <<<"$bound"
grep -q '"deflation_bound"' "$work/bench.json" || fail "--json lacks deflation_bound"

# -bench_save/-bench_load: the saved sequence replays (no training) with the same iterations.
run 2 bench recycle "${small[@]}" -bench_methods "$methods" -bench_load "$work/seq.bin" -strict_options \
  >"$work/load.txt" || fail "bench recycle -bench_load exited with $?"
grep -q "loaded 8 systems" "$work/load.txt" || fail "-bench_load: $(head -1 "$work/load.txt")"
check_rows "$work/load.txt" ${methods//,/ }
for m in ${methods//,/ }; do
  [ "$(its_of "$work/load.txt" "$m")" = "$(its_of "$out" "$m")" ] ||
    fail "$m: $(its_of "$work/load.txt" "$m") iterations on the loaded sequence, $(its_of "$out" "$m") recorded"
done
expect_error 2 "-bench_load: '$work/seq.bin' was recorded with N = 32" bench recycle -problem_n 24 -data_samples 2 \
  -reg_foe_filters dct3 -bench_load "$work/seq.bin"

# A method that does not converge (here: stopped after 3 iterations) is a failed row and a
# failed command, after the table.
expect_failure() {  # expect_failure TEXT ARGS...: non-zero exit, TEXT on the last stderr line
  local status=0 text=$1
  shift
  "$mpiexec" "${quiet[@]}" -n 2 "${flags[@]}" "$bilearn" bench recycle "$@" >"$work/f.txt" 2>"$work/f.err" || status=$?
  [ "$status" -ne 0 ] || fail "bench recycle $* succeeded: $(cat "$work/f.txt")"
  [ "$(wc -l <"$work/f.err")" -eq 1 ] && grep -qF -- "$text" "$work/f.err" || fail "bench recycle $*: $(cat "$work/f.err")"
  grep -q "^method " "$work/f.txt" || fail "bench recycle $*: no table before the error"
  echo "ok: bench recycle $* -> $(cat "$work/f.err")"
}
expect_failure "methods failed (no convergence or a non-finite error): rcg_ritz_both (8 of 8 systems)" \
  "${small[@]}" -bench_methods minres_warm,rcg_ritz_both -bench_load "$work/seq.bin" -bench_rcg_ritz_both_ksp_max_it 3
failed_rows=$(rows "$work/f.txt")
grep -q "^rcg_ritz_both 24 [^ ]* 0 8$" <<<"$failed_rows" || fail "the failed row: $failed_rows"
# A NaN in the right-hand side of the last system: its error is NaN, shown as such (std::max
# would drop it), and every method fails on that system.
python3 - "$work/seq.bin" "$work/nan.bin" <<'PY'
import struct, sys
n, p, systems = 32 * 32, 8, 8  # header: 5 PetscInt; a system: sample, theta, x_hat and rhs (Vec: id, size, values)
size = 4 + 8 * p + 2 * (8 + 8 * n)
data = bytearray(open(sys.argv[1], "rb").read())
assert len(data) == 20 + systems * size, len(data)
at = 20 + (systems - 1) * size + 4 + 8 * p + (8 + 8 * n) + 8 + 8 * 500
data[at:at + 8] = struct.pack(">d", float("nan"))
open(sys.argv[2], "wb").write(data)
PY
expect_failure "minres_warm (1 of 8 systems)" "${small[@]}" -bench_methods minres_warm,rminres_ritz_both \
  -bench_load "$work/nan.bin"
failed_rows=$(rows "$work/f.txt")
grep -q "^rminres_ritz_both [0-9]* nan 0 1$" <<<"$failed_rows" || fail "the NaN row: $failed_rows"
echo "bench recycle: ok"
