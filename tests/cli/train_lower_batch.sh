#!/usr/bin/env bash
# -lower_batch (docs/algorithms.md §4.7) end to end: a group's samples solved as one stacked problem
# (Newton KSP lockstepcg, one block per sample) train to the θ and upper loss of the
# sample-by-sample solves, and `bilearn hypergrad` gives their hypergradient; a mini-batch optimiser
# falls back to the per-sample solves for its mini-batch steps; a non-convex expert and two sample
# groups run with it. Options all read (-strict_options).
set -euo pipefail
source "$(dirname "$0")/lib_expect.sh"
cli_init "$@"

common=(-problem tomo -problem_n 32 -data_samples 4 -reg_type foe -outer_max_it 5 -outer_adaptive_tol false
  -strict_options)

for batch in true false; do
  run 2 train --out "$work/$batch" "${common[@]}" -lower_batch "$batch" -lower_tao_view >"$work/$batch.txt" 2>&1 ||
    { cat "$work/$batch.txt"; fail "train -lower_batch $batch"; }
done
# The batched run's Newton KSP is lockstepcg with one block per sample; the other's is cg.
grep -q "4 diagonal blocks, one CG each in lockstep" "$work/true.txt" || fail "-lower_batch true: no lockstepcg Newton KSP"
grep -q "lockstep" "$work/false.txt" && fail "-lower_batch false: a lockstepcg Newton KSP"
# Measured: upper loss 8e-8 and θ 6e-8 apart (the lower solves stop at the same tolerance, not at
# the same iterate); bounds about 10x above.
python3 - "$work/true/summary.json" "$work/false/summary.json" <<'PY' || fail "-lower_batch true and false train differently"
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
assert a["outer_iterations"] == b["outer_iterations"] == 5, (a["outer_iterations"], b["outer_iterations"])
loss = abs(a["upper_loss"] - b["upper_loss"]) / b["upper_loss"]
theta = max(abs(x - y) / max(1.0, abs(y)) for x, y in zip(a["theta"], b["theta"]))
assert loss < 1e-6, (loss, a["upper_loss"], b["upper_loss"])
assert theta < 1e-6, (theta, a["theta"], b["theta"])
# Counted per sample: a lockstep Newton step is B = 4 sample steps.
assert a["lower_iterations_total"] % 4 == 0 and a["lower_iterations_total"] > 0, a["lower_iterations_total"]
assert a["samples"] == 4 and a["samples_groups"] == 1, (a["samples"], a["samples_groups"])
assert a["lower_batch"] is True and b["lower_batch"] is False, (a["lower_batch"], b["lower_batch"])
print("  batched vs per sample: upper loss %.2e, theta %.2e relative; lower iterations %d vs %d, Krylov %d vs %d"
      % (loss, theta, a["lower_iterations_total"], b["lower_iterations_total"], a["krylov_iterations_total"],
         b["krylov_iterations_total"]))
PY

# The hypergradient of 3 samples, solved together (one lockstepcg hypergradient solve) or one by one.
# Measured 1e-6 relative apart (hypergradient KSP rtol 1e-6).
hyper=(-problem tomo -problem_n 32 -data_samples 3 -reg_type foe -strict_options)
for batch in true false; do
  run 2 hypergrad --json "$work/hyper_$batch.json" "${hyper[@]}" -lower_batch "$batch" >"$work/hyper_$batch.txt" 2>&1 ||
    { cat "$work/hyper_$batch.txt"; fail "hypergrad -lower_batch $batch"; }
done
python3 - "$work/hyper_true.json" "$work/hyper_false.json" <<'PY' || fail "hypergrad: -lower_batch changes the hypergradient"
import json, math, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
ga, gb = a["hypergradient"], b["hypergradient"]
d = math.sqrt(sum((x - y) ** 2 for x, y in zip(ga, gb)) / sum(y * y for y in gb))
assert d < 1e-5, (d, ga, gb)
assert a["mixed_products_total"] == b["mixed_products_total"] == 3, (a["mixed_products_total"], b["mixed_products_total"])
print("  hypergradient batched vs per sample: %.2e relative" % d)
PY

# Adam with mini-batches of 2: the full evaluations (initial, final) are batched, the mini-batch steps
# fall back to the per-sample solves.
run 2 train --out "$work/adam" "${common[@]}" -outer_type adam -outer_batch_size 2 -lower_batch true \
  -lower_tao_view >"$work/adam.txt" 2>&1 || { cat "$work/adam.txt"; fail "train -outer_batch_size 2 -lower_batch true"; }
grep -q "    type: lockstepcg" "$work/adam.txt" || fail "adam: no full evaluation solved as a batch"
grep -q "    type: cg" "$work/adam.txt" || fail "adam: no mini-batch solved sample by sample"

# A non-convex expert (Newton steps meet negative curvature) with the batch.
run 2 train --out "$work/lorentzian" "${common[@]}" -reg_foe_expert lorentzian -lower_batch true >"$work/lorentzian.txt" 2>&1 ||
  { cat "$work/lorentzian.txt"; fail "train -reg_foe_expert lorentzian -lower_batch true"; }

# Two sample groups on two ranks: each group's two samples solved together, the same training.
run 2 train --out "$work/groups" "${common[@]}" -samples_groups 2 -lower_batch true -lower_tao_view \
  >"$work/groups.txt" 2>&1 || { cat "$work/groups.txt"; fail "train -samples_groups 2 -lower_batch true"; }
grep -q "2 diagonal blocks, one CG each in lockstep" "$work/groups.txt" || fail "-samples_groups 2: no batch of 2"
python3 - "$work/groups/summary.json" "$work/true/summary.json" <<'PY' || fail "-samples_groups 2 trains differently"
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
assert a["samples_groups"] == 2
theta = max(abs(x - y) / max(1.0, abs(y)) for x, y in zip(a["theta"], b["theta"]))
assert theta < 1e-6, (theta, a["theta"], b["theta"])
print("  two groups vs one: theta %.2e relative" % theta)
PY
echo "train_lower_batch: ok"
