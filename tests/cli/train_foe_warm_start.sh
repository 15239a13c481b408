#!/usr/bin/env bash
# A 2-sample fields-of-experts tomography training run (the demo's problem with 2 samples: N = 64,
# 60 angles) takes a first gradient step of length 7.5 in θ (log10 weights); the hypergradient
# KSP of that trial point, warm started from the previous w, stopped with DIVERGED_DTOL after 0
# iterations (PETSc's divergence test compares a nonzero guess's residual with 10^4‖b‖). A warm
# start worse than zero now gives way to zero (solve_hypergradient_system): the run completes
# its steps and reduces the upper loss.
set -euo pipefail
source "$(dirname "$0")/lib_expect.sh"
cli_init "$@"

out=$work/foe
run 2 train --out "$out" -problem tomo -problem_n 64 -tomo_angles 60 -data_samples 2 -data_noise 0.02 \
  -reg_type foe -outer_max_it 2 >"$work/log" 2>&1 || { cat "$work/log"; fail "the 2-sample foe training run failed"; }
python3 - "$out/summary.json" <<'PY' || fail "the run did not take its 2 steps with a lower upper loss"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["outer_iterations"] == 2, j["outer_iterations"]
assert j["upper_loss"] < j["initial_upper_loss"], (j["upper_loss"], j["initial_upper_loss"])
print(f'ok: L {j["initial_upper_loss"]:.4e} -> {j["upper_loss"]:.4e} in {j["outer_iterations"]} steps')
PY
