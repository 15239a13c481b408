#!/usr/bin/env bash
# -problem_store_transpose auto|true|false and -problem_transpose_max_mb through the command
# line: `bilearn operator` on 1, 2 and 3 ranks prints and writes operator_transpose_stored,
# matrix_mb_max_rank and transpose_mb_max_rank (auto stores A^T under the limit, not over
# it; false never; true always), the norm is the same with and without the stored A^T,
# `reconstruct` summaries carry the same fields, and bad values are one error line.
# usage: bash operator_transpose.sh <bilearn> <mpiexec> [mpiexec flags...]
set -euo pipefail
source "$(dirname "$0")/lib_expect.sh"
cli_init "$@"
n=24

check() {  # check JSON STORED: the three fields, stored as expected, sizes consistent
  python3 - "$1" "$2" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
stored = sys.argv[2] == "yes"
for key in ("operator_transpose_stored", "matrix_mb_max_rank", "transpose_mb_max_rank", "peak_rss_mb_max_rank"):
    assert key in j, key
assert j["operator_transpose_stored"] is stored, j
assert j["matrix_mb_max_rank"] > 0, j
if stored:
    assert 0.3 * j["matrix_mb_max_rank"] < j["transpose_mb_max_rank"] < 3 * j["matrix_mb_max_rank"], j
else:
    assert j["transpose_mb_max_rank"] == 0, j
PY
}

for np in 1 2 3; do
  for mode in default auto true false tiny true_tiny; do
    case $mode in
      default) opts=() expect=yes ;;
      auto) opts=(-problem_store_transpose auto) expect=yes ;;
      true) opts=(-problem_store_transpose true) expect=yes ;;
      false) opts=(-problem_store_transpose false) expect=no ;;
      tiny) opts=(-problem_transpose_max_mb 0.001) expect=no ;;
      true_tiny) opts=(-problem_store_transpose true -problem_transpose_max_mb 0.001) expect=yes ;;
    esac
    out=$work/op-$np-$mode
    run "$np" operator -problem_n $n "${opts[@]}" --json "$out.json" >"$out.txt" || fail "$mode on $np ranks exited with $?"
    check "$out.json" $expect || fail "$mode on $np ranks: bad JSON summary"
    grep -q "^  transpose_stored  $expect\$" "$out.txt" || fail "$mode on $np ranks: printed no 'transpose_stored $expect'"
    grep -qE '^  (matrix_mb|transpose_mb|peak_rss_mb) ' "$out.txt" || fail "$mode on $np ranks: printed no memory lines"
  done
  python3 - "$work/op-$np-true.json" "$work/op-$np-false.json" <<'PY' || fail "norm differs with the stored A^T on $np ranks"
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
assert abs(a["norm_2"] - b["norm_2"]) <= 1e-6 * a["norm_2"], (a["norm_2"], b["norm_2"])
assert a["nnz"] == b["nnz"]
PY
done
echo "ok: operator summaries on 1, 2, 3 ranks (auto/true/false/limit)"

run 2 reconstruct -problem_n 16 -data_samples 1 --json "$work/rec.json" >"$work/rec.txt" || fail "reconstruct exited with $?"
check "$work/rec.json" yes || fail "reconstruct summary lacks the operator fields"
run 2 reconstruct -problem_n 16 -data_samples 1 -problem_store_transpose false --json "$work/rec-f.json" \
  >"$work/rec-f.txt" || fail "reconstruct (false) exited with $?"
check "$work/rec-f.json" no || fail "reconstruct summary (false) is wrong"
python3 - "$work/rec.json" "$work/rec-f.json" <<'PY' || fail "reconstruction differs with the stored A^T"
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
assert abs(a["upper_loss"] - b["upper_loss"]) <= 1e-6 * abs(a["upper_loss"]), (a["upper_loss"], b["upper_loss"])
PY
echo "ok: reconstruct summaries carry the operator fields"

expect_error 2 "-problem_store_transpose" operator -problem_n 8 -problem_store_transpose maybe
expect_error 2 "-problem_transpose_max_mb" operator -problem_n 8 -problem_transpose_max_mb -1
expect_error 2 "" operator -problem_n 8 -problem_transpose_max_mb lots
echo "ok: bad values rejected with one error line"
