#!/usr/bin/env bash
# `bilearn hypergrad -hyper_method M --json F` end to end for the cheaper estimators (onestep,
# retune, unrolled) on tomography N = 16 with the default options otherwise: exit status 0 and the
# JSON fields each method promises; a gradient step at or above 2/Lip is one clean error line.
set -euo pipefail
source "$(dirname "$0")/lib_expect.sh"
cli_init "$@"

common=(-problem tomo -problem_n 16 -tomo_angles 20 -data_samples 2 -reg_type foe -reg_foe_filters dct3)
for method in implicit onestep retune unrolled; do
  run 2 hypergrad --json "$work/$method.json" "${common[@]}" -hyper_method "$method" -hyper_retune_k 7 \
    -hyper_unrolled_max_it 50 >"$work/$method.log" 2>&1 || { cat "$work/$method.log"; fail "hypergrad $method"; }
done
python3 - "$work" <<'PY' || fail "hypergrad JSON fields"
import json, math, sys
d = sys.argv[1]
j = {m: json.load(open(f"{d}/{m}.json")) for m in ("implicit", "onestep", "retune", "unrolled")}
for m, s in j.items():
    assert s["command"] == "hypergrad" and s["method"] == m and s["ranks"] == 2, (m, s["method"])
    g = s["hypergradient"]
    assert len(g) == len(s["theta"]) == 8 and all(math.isfinite(x) for x in g) and any(x != 0 for x in g), (m, g)
    assert s["upper_loss"] > 0 and s["mixed_products_total"] > 0, m
    for field in ("krylov_iterations_total", "lower_iterations_total", "wall_seconds", "peak_rss_mb_max_rank",
                  "gradient_steps_total", "stored_iterates", "stored_iterates_mb_max_rank", "gradient_step",
                  "lipschitz_estimate", "hessian_products_total"):
        assert field in s, (m, field)
# onestep (Newton, the default nls lower solver): one loose Krylov solve, one J product per sample.
o = j["onestep"]
assert o["mixed_products_total"] == 2 and 0 < o["krylov_iterations_total"] < j["implicit"]["krylov_iterations_total"]
assert o["upper_loss"] == j["implicit"]["upper_loss"]
# retune: K = 7 steps per sample, 8 iterates stored, tau = 1/Lip, no Krylov solve.
r = j["retune"]
assert r["gradient_steps_total"] == 14 and r["stored_iterates"] == 8 and r["mixed_products_total"] == 14, r
assert r["krylov_iterations_total"] == 0 and abs(r["gradient_step"] * r["lipschitz_estimate"] - 1) < 1e-12, r
assert r["upper_loss"] == j["implicit"]["upper_loss"]
# unrolled: its own gradient map from 0 (50 steps: tomography is far from converged), all stored.
u = j["unrolled"]
assert u["gradient_steps_total"] == 100 and u["lower_iterations_total"] == 100 and u["stored_iterates"] >= 51, u
assert u["stored_iterates_mb_max_rank"] > 0 and u["upper_loss"] > j["implicit"]["upper_loss"], u
cos = sum(a * b for a, b in zip(o["hypergradient"], j["implicit"]["hypergradient"])) / math.sqrt(
    sum(a * a for a in o["hypergradient"]) * sum(b * b for b in j["implicit"]["hypergradient"]))
assert cos > 0.99, cos
for m, s in j.items():
    print(f"  {m:<9} |g| = {math.sqrt(sum(x * x for x in s['hypergradient'])):.4e}  H products "
          f"{s['hessian_products_total']:5d}  J products {s['mixed_products_total']:4d}  "
          f"stored {s['stored_iterates']:3d}")
PY
expect_error 2 "-hyper_gradient_step" hypergrad "${common[@]}" -hyper_method retune -hyper_gradient_step 1e6
expect_error 1 "-hyper_step_fraction" hypergrad "${common[@]}" -hyper_method unrolled -hyper_step_fraction 2.5
expect_error 1 "-hyper_onestep_map" hypergrad "${common[@]}" -hyper_method onestep -hyper_onestep_map newtn
echo "hypergrad_methods: ok"
