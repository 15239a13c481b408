#!/usr/bin/env bash
# The training comparison of `bilearn bench hypergrad` (-bench_hypergrad_train_steps K) on a small
# tomography problem (N = 20, S = 2, K = 2, 2 ranks): one row per method in the printed table
# and in --json, finite numbers, implicit's learned L below the initial one, onestep (the same
# formula, loose) learning the same θ to within 1e-3, costs that add up (H-equivalents = half
# the products with A and Aᵀ, at least the Hessian products), the accuracy block at the implicit
# run's last iterate sitting at that run's final θ; bad training options are refused.
set -euo pipefail
source "$(dirname "$0")/lib_expect.sh"
cli_init "$@"

# Fixed tolerances (-outer_adaptive_tol false): the runs' own losses are then those of the tight
# lower solve that judges them, which the checks below compare to 1e-6.
common=(-problem_n 20 -data_samples 2 -tomo_angles 60 -bench_theta_shifts 0 -bench_repeats 1
  -bench_methods implicit,onestep,retune-10 -hyper_unrolled_max_it 100 -bench_hypergrad_train_steps 2
  -outer_adaptive_tol false)
run 2 bench hypergrad --json "$work/bench.json" "${common[@]}" -bench_hypergrad_train_points 2 \
  -bench_hypergrad_train_methods implicit,onestep,retune-1,unrolled >"$work/bench.log" 2>&1 ||
  { cat "$work/bench.log"; fail "bench hypergrad with training"; }
grep -q "^training comparison: 2 outer steps of gd" "$work/bench.log" || { cat "$work/bench.log"; fail "no table"; }
for m in implicit onestep retune-1 unrolled; do
  grep -Eq "^  $m +[0-9.e+-]+ " "$work/bench.log" || { cat "$work/bench.log"; fail "no table row for $m"; }
done
grep -q "^theta = implicit iterate 2:" "$work/bench.log" || { cat "$work/bench.log"; fail "no block at theta_2"; }
python3 - "$work/bench.json" <<'PY' || { cat "$work/bench.log"; fail "bench hypergrad training JSON"; }
import json, math, sys
j = json.load(open(sys.argv[1]))
t = j["training"]
assert t["steps"] == 2 and t["optimizer"] == "gd", t
rows = {r["method"]: r for r in t["rows"]}
assert list(rows) == ["implicit", "onestep", "retune-1", "unrolled"], list(rows)
for m, r in rows.items():
    for key in ("upper_loss", "own_upper_loss", "mean_psnr", "h_equivalents", "seconds"):
        assert math.isfinite(r[key]), (m, key, r[key])
    assert r["stop_reason"] == "max_it" and r["outer_iterations"] == 2, (m, r["stop_reason"])
    assert len(r["theta"]) == len(j["theta"]) and all(math.isfinite(x) for x in r["theta"]), m
    assert r["h_equivalents"] == r["operator_applications"] / 2, m
    assert r["h_equivalents"] >= r["hessian_products"] > 0 and r["evaluations"] >= 3, m
    assert r["seconds"] >= 0 and r["lower_iterations"] > 0, m
imp, one = rows["implicit"], rows["onestep"]
assert imp["upper_loss"] < t["initial_upper_loss"], (imp["upper_loss"], t["initial_upper_loss"])
assert imp["mean_psnr"] > t["initial_mean_psnr"], (imp["mean_psnr"], t["initial_mean_psnr"])
assert abs(imp["own_upper_loss"] - imp["upper_loss"]) <= 1e-6 * imp["upper_loss"]  # TAO-based: the same L
assert max(abs(a - b) for a, b in zip(imp["theta"], one["theta"])) < 1e-3
assert imp["krylov_iterations"] > 0 and rows["retune-1"]["krylov_iterations"] == 0
assert rows["retune-1"]["gradient_steps"] > 0 and rows["unrolled"]["gradient_steps"] > 0
assert rows["unrolled"]["lower_iterations"] == rows["unrolled"]["gradient_steps"]
# The accuracy table: one block at θ0 + 0, one at the implicit run's θ_2 = its final θ.
points = {p["theta_point"]: p for p in j["points"]}
assert set(points) == {"initial +0", "implicit iterate 2"}, set(points)
p2 = points["implicit iterate 2"]
assert p2["theta"] == imp["theta"]
assert abs(p2["upper_loss"] - imp["upper_loss"]) <= 1e-6 * imp["upper_loss"]
assert {(r["method"], r["theta_point"]) for r in j["rows"]} == {
    (m, p) for m in ("implicit", "onestep", "retune-10") for p in points}
for r in j["rows"]:  # ‖g − g_ref‖² = ‖g_ref‖² (1 − 2 c ρ + ρ²) with ρ = ‖g‖/‖g_ref‖
    c, rho = r["cosine"], r["norm_ratio"]
    assert abs(r["relative_error"] ** 2 - (1 - 2 * c * rho + rho * rho)) < 1e-8, r
assert all(r["train_iteration"] == 2 for r in j["rows"] if r["theta_point"] == "implicit iterate 2")
print("  L(theta_2):", {m: f'{r["upper_loss"]:.4e}' for m, r in rows.items()},
      "initial", f'{t["initial_upper_loss"]:.4e}')
PY
small=(-problem_n 16 -data_samples 2 -bench_theta_shifts 0 -bench_repeats 1)
expect_error 1 "-bench_hypergrad_train_points" bench hypergrad "${small[@]}" -bench_hypergrad_train_steps 2 \
  -bench_hypergrad_train_points 3
expect_error 1 "needs implicit" bench hypergrad "${small[@]}" -bench_hypergrad_train_steps 2 \
  -bench_hypergrad_train_points 1 -bench_hypergrad_train_methods onestep
expect_error 1 "unknown method 'retune-7'" bench hypergrad "${small[@]}" -bench_hypergrad_train_methods retune-7
expect_error 1 "-outer_max_it" bench hypergrad "${small[@]}" -bench_hypergrad_train_steps 2 -outer_max_it 5
echo "bench_hypergrad_train: ok"
