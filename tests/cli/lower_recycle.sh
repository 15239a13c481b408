#!/usr/bin/env bash
# Recycling in the lower-level Newton solves: -lower_tao_nls_ksp_type rminres with
# -lower_recycle_seed hyper (each sample's Newton KSP starts from its hypergradient space) or
# previous (from what the previous solve left). The Newton KSP is rminres with a space in use
# (-lower_tao_view), and training ends at the θ of the default Newton KSP (the lower level is
# solved to the same tolerance; recycling changes only how). Options all read (-strict_options).
set -euo pipefail
source "$(dirname "$0")/lib_expect.sh"
cli_init "$@"

common=(-problem tomo -problem_n 16 -tomo_angles 20 -data_samples 2 -reg_type tv -reg_tv_learn_gamma
  -hyper_ksp_type rminres -outer_max_it 3 -outer_adaptive_tol false -strict_options)

run 2 train --out "$work/plain" "${common[@]}" >/dev/null || fail "train with the default Newton KSP"
for seed in hyper previous; do
  run 2 train --out "$work/$seed" "${common[@]}" -lower_tao_nls_ksp_type rminres -lower_recycle_seed "$seed" \
    -lower_tao_view >"$work/$seed.txt" || fail "train -lower_recycle_seed $seed"
  grep -q "type: rminres" "$work/$seed.txt" || fail "-lower_tao_view shows no rminres Newton KSP"
  grep -qE "recycle space: k=20, .*dimension used [1-9]" "$work/$seed.txt" || fail "$seed: the Newton KSP used no space"
  python3 - "$work/plain/summary.json" "$work/$seed/summary.json" <<'PY' || fail "-lower_recycle_seed $seed: theta differs"
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
assert b["outer_iterations"] == 3
for x, y in zip(a["theta"], b["theta"]):
    assert abs(x - y) <= 1e-6 * max(1.0, abs(x)), (a["theta"], b["theta"])
print("  seed %s: theta %s (default Newton KSP: %s)" % (sys.argv[2].split("/")[-2], b["theta"], a["theta"]))
PY
done
expect_error 1 "unknown value 'bogus' for -lower_recycle_seed (choose one of hyper, previous)" \
  hypergrad "${common[@]}" -lower_tao_nls_ksp_type rminres -lower_recycle_seed bogus
echo "lower_recycle: ok"
