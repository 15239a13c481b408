#!/usr/bin/env bash
# bilearn train end to end on a small tomography problem: the run reduces the upper loss,
# writes its files, and a run stopped after 2 steps and resumed (on another rank count)
# ends with exactly the θ of an uninterrupted 4-step run. Bad input to train fails cleanly.
set -euo pipefail
source "$(dirname "$0")/lib_expect.sh"
cli_init "$@"

common=(-problem tomo -problem_n 20 -tomo_angles 30 -reg_type tv -reg_tv_learn_gamma -data_samples 2
  -lower_tao_gatol 1e-9 -hyper_ksp_rtol 1e-10 -hyper_ksp_type minres)

run 2 train --out "$work/full" "${common[@]}" -outer_max_it 4 >"$work/full.log"
for f in summary.json history.csv initial_000.png learned_000.png truth_000.png; do
  [ -s "$work/full/$f" ] || fail "train did not write $f"
done
[ "$(wc -l <"$work/full/history.csv")" -eq 5 ] || fail "history.csv should have a header and 4 rows"
head -1 "$work/full/history.csv" | grep -q '^iteration,upper_loss,grad_norm,step,backtracks,krylov_iterations,lower_iterations,seconds' ||
  fail "history.csv header"

python3 - "$work/full/summary.json" <<'PY' || fail "summary.json contents"
import json, sys
j = json.load(open(sys.argv[1]))
for key in ["command", "ranks", "theta", "upper_loss", "krylov_iterations_total", "lower_iterations_total",
            "wall_seconds", "peak_rss_mb_max_rank", "initial_upper_loss", "outer_iterations",
            "armijo_backtracks_total"]:
    assert key in j, key
assert j["outer_iterations"] == 4
assert j["upper_loss"] < j["initial_upper_loss"], (j["upper_loss"], j["initial_upper_loss"])
PY

run 2 train --out "$work/part" "${common[@]}" -outer_max_it 2 >"$work/part.log"
run 1 train --resume "$work/part" "${common[@]}" -outer_max_it 4 >"$work/resume.log"
python3 - "$work/full/summary.json" "$work/part/summary.json" <<'PY' || fail "resumed theta differs from the uninterrupted run"
import json, sys
a = json.load(open(sys.argv[1]))["theta"]
b = json.load(open(sys.argv[2]))["theta"]
assert len(a) == len(b)
for x, y in zip(a, b):
    assert abs(x - y) <= 1e-12 * max(1.0, abs(x)), (a, b)
PY

expect_error 2 "--out" train "${common[@]}"
expect_error 2 "-outer_type" train --out "$work/bad" "${common[@]}" -outer_type sgdx
expect_error 1 "-reg_theta" train --out "$work/bad" "${common[@]}" -reg_theta 1,2,3
echo "train_resume: ok"
