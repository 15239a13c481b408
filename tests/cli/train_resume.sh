#!/usr/bin/env bash
# bilearn train end to end on a small tomography problem: the run reduces the upper loss,
# writes its files, and a run stopped after 2 steps and resumed (on another rank count)
# ends with exactly the θ of an uninterrupted 4-step run. history.png is a complete 900×720
# PNG, redrawn by the resumed run. Bad input to train fails cleanly.
set -euo pipefail
source "$(dirname "$0")/lib_expect.sh"
cli_init "$@"

# png_size FILE: prints "WIDTH HEIGHT" from the IHDR chunk; fails unless FILE starts with the
# PNG signature and IHDR and ends with the IEND chunk (a complete file).
png_size() {
  [ "$(od -An -tx1 -N8 "$1" | tr -d ' \n')" = 89504e470d0a1a0a ] || return 1
  [ "$(od -An -c -j12 -N4 "$1" | tr -d ' \n')" = IHDR ] || return 1
  [ "$(tail -c 12 "$1" | od -An -tx1 | tr -d ' \n')" = 0000000049454e44ae426082 ] || return 1
  local b
  read -r -a b < <(od -An -tu1 -j16 -N8 "$1" | tr -s ' \n' ' ')
  echo "$(((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3])) $(((b[4] << 24) | (b[5] << 16) | (b[6] << 8) | b[7]))"
}
check_plot() {  # check_plot DIR
  [ -s "$1/history.png" ] || fail "train did not write $1/history.png"
  [ ! -e "$1/history.png.tmp" ] || fail "$1/history.png.tmp left behind"
  local size
  size=$(png_size "$1/history.png") || fail "$1/history.png is not a complete PNG file"
  [ "$size" = "900 720" ] || fail "$1/history.png is $size pixels, expected 900 720"
}

common=(-problem tomo -problem_n 20 -tomo_angles 30 -reg_type tv -reg_tv_learn_gamma -data_samples 2
  -lower_tao_gatol 1e-9 -hyper_ksp_rtol 1e-10 -hyper_ksp_type minres)

run 2 train --out "$work/full" "${common[@]}" -outer_max_it 4 >"$work/full.log"
for f in summary.json history.csv history.png initial_000.png learned_000.png truth_000.png; do
  [ -s "$work/full/$f" ] || fail "train did not write $f"
done
check_plot "$work/full"
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
check_plot "$work/part"
cp "$work/part/history.png" "$work/part-2-steps.png"
run 1 train --resume "$work/part" "${common[@]}" -outer_max_it 4 >"$work/resume.log"
check_plot "$work/part"
! cmp -s "$work/part/history.png" "$work/part-2-steps.png" || fail "the resumed run did not redraw history.png"
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
