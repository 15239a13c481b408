#!/usr/bin/env bash
# Training reduces the upper loss for every outer optimiser on small denoising, deblurring
# and tomography problems; sample groups (-samples_groups 2 on 2 ranks) give the same θ as
# one group.
set -euo pipefail
source "$(dirname "$0")/lib_expect.sh"
cli_init "$@"

check_decrease() {  # summary.json → fails unless upper_loss < initial_upper_loss
  python3 - "$1" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
assert j["upper_loss"] < j["initial_upper_loss"], (j["upper_loss"], j["initial_upper_loss"])
print(f'  {j["problem"]:<45} {j["optimizer"] if "optimizer" in j else "":<6} '
      f'L {j["initial_upper_loss"]:.4e} -> {j["upper_loss"]:.4e} in {j["outer_iterations"]} steps')
PY
}

declare -A problem_options=(
  [denoise]="-problem denoise -data_noise 0.1"
  [blur]="-problem blur -blur_sigma 1.0 -data_noise 0.05"
  [tomo]="-problem tomo -tomo_angles 20 -data_noise 0.05"
)
for problem in denoise blur tomo; do
  for optimiser in gd adam lbfgs fuse; do
    out="$work/$problem-$optimiser"
    # shellcheck disable=SC2086
    run 2 train --out "$out" ${problem_options[$problem]} -problem_n 16 -data_samples 2 -reg_type tv \
      -reg_theta -1.5 -outer_type "$optimiser" -outer_max_it 4 -outer_adam_lr 0.2 >"$out.log" 2>&1 ||
      { cat "$out.log"; fail "train $problem $optimiser"; }
    check_decrease "$out/summary.json" || fail "$problem $optimiser did not reduce the upper loss"
  done
done

# One group of 2 ranks versus two groups of 1 rank: the same θ.
common=(-problem tomo -problem_n 16 -tomo_angles 20 -data_samples 3 -reg_type tv -reg_tv_learn_gamma
  -lower_tao_gatol 1e-10 -hyper_ksp_rtol 1e-10 -outer_adaptive_tol false -outer_max_it 3)
run 2 train --out "$work/g1" "${common[@]}" -samples_groups 1 >/dev/null
run 2 train --out "$work/g2" "${common[@]}" -samples_groups 2 >/dev/null
python3 - "$work/g1/summary.json" "$work/g2/summary.json" <<'PY' || fail "-samples_groups 2 changed theta"
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
assert b["samples_groups"] == 2
for x, y in zip(a["theta"], b["theta"]):
    assert abs(x - y) <= 1e-8 * max(1.0, abs(x)), (a["theta"], b["theta"])
print("  groups 1 and 2: same theta", a["theta"])
PY
expect_error 2 "-samples_groups" train --out "$work/bad" "${common[@]}" -samples_groups 3

# -outer_progress_evaluations 0: one line per evaluation of L (the initial one, then every trial
# of every step), as many as summary.json counts; with the default (30 s) none at this size.
run 2 train --out "$work/lines" "${common[@]}" -outer_max_it 3 -outer_progress_evaluations 0 >"$work/lines.log" 2>&1 ||
  { cat "$work/lines.log"; fail "train with evaluation lines"; }
lines=$(grep -c -E "^  (initial evaluation|step [0-9]+, evaluation [0-9]+): L " "$work/lines.log" || true)
total=$(python3 -c "import json; print(json.load(open('$work/lines/summary.json'))['evaluations_total'])")
[ "$lines" = "$total" ] || fail "$lines evaluation lines for $total evaluations: $(cat "$work/lines.log")"
grep -q "^train: initial reconstructions: upper loss" "$work/lines.log" || fail "no line for the initial reconstructions"
run 2 train --out "$work/quiet" "${common[@]}" -outer_max_it 3 >"$work/quiet.log" 2>&1 || fail "train without evaluation lines"
! grep -q "evaluation [0-9]*: L" "$work/quiet.log" || fail "evaluation lines below the default threshold"
echo "train_optimisers: ok"
