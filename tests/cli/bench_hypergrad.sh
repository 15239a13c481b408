#!/usr/bin/env bash
# `bilearn bench hypergrad --json F` on a small denoising problem (N = 16, one θ): every method has
# a row; implicit reproduces the tight reference, onestep (loose) and unrolled (converged) are close
# to it, retune's error falls with K; a given -hyper_gradient_step is refused (the bench picks τ).
set -euo pipefail
source "$(dirname "$0")/lib_expect.sh"
cli_init "$@"

common=(-problem denoise -problem_n 16 -data_noise 0.1 -bench_theta_shifts 0 -bench_repeats 1)
run 2 bench hypergrad --json "$work/bench.json" "${common[@]}" >"$work/bench.log" 2>&1 ||
  { cat "$work/bench.log"; fail "bench hypergrad"; }
python3 - "$work/bench.json" <<'PY' || { cat "$work/bench.log"; fail "bench hypergrad JSON"; }
import json, sys
j = json.load(open(sys.argv[1]))
assert j["command"] == "bench hypergrad" and j["ranks"] == 2 and j["n"] == 16
rows = {r["method"]: r for r in j["rows"]}
assert set(rows) == {"implicit", "onestep", "onestep-gradient", "retune-1", "retune-10", "retune-50", "unrolled"}
assert rows["implicit"]["relative_error"] < 1e-5 and rows["onestep"]["relative_error"] < 1e-2
assert rows["unrolled"]["relative_error"] < 1e-3 and rows["unrolled"]["stored_iterates_mb_max_rank"] > 0
assert rows["retune-50"]["relative_error"] < rows["retune-10"]["relative_error"] < rows["retune-1"]["relative_error"]
assert rows["retune-1"]["krylov_iterations"] == 0 and rows["retune-10"]["mixed_products"] == 20
for r in j["rows"]:
    assert -1 <= r["cosine"] <= 1 + 1e-12 and r["seconds_best"] >= 0, r
print("  errors:", {m: f'{r["relative_error"]:.2e}' for m, r in rows.items()})
PY
expect_error 1 "-hyper_gradient_step" bench hypergrad "${common[@]}" -hyper_gradient_step 0.1
echo "bench_hypergrad: ok"
