#!/usr/bin/env bash
# scripts/demo.sh (the README's first command) in a reduced mode: the test's program
# (BILEARN_DEMO_BIN: no setup, no build), a smaller problem and 2 steps through the extra
# arguments, which override the demo's options. It writes every file the README lists, reads
# every option it is given (-strict_options), and a second run (the README's example with
# -outer_type lbfgs) replaces the first (the demo passes --force).
set -euo pipefail
source "$(dirname "$0")/lib_expect.sh"
cli_init "$@"
root=$(cd "$(dirname "$0")/../.." && pwd)

reduced=(-problem_n 16 -tomo_angles 20 -data_samples 2 -outer_max_it 2 -strict_options)
BILEARN_DEMO_BIN=$bilearn BILEARN_DEMO_OUT=$work/demo bash "$root/scripts/demo.sh" "${reduced[@]}" >"$work/demo.txt" 2>&1 ||
  { cat "$work/demo.txt"; fail "scripts/demo.sh exited non-zero"; }
tail -3 "$work/demo.txt"
for f in truth_000.png initial_000.png learned_000.png reconstructions.png history.csv history.png summary.json; do
  [ -s "$work/demo/$f" ] || fail "the demo did not write $f"
done
[ -d "$work/demo/checkpoint" ] || fail "the demo wrote no checkpoint/"
python3 - "$work/demo/summary.json" <<'PY' || fail "demo summary.json"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["ranks"] == 2 and j["n"] == 16 and j["samples"] == 2 and j["regulariser"] == "foe", j
assert len(j["theta"]) == 8 and j["outer_iterations"] == 2, j["theta"]
assert j["upper_loss"] < j["initial_upper_loss"], (j["upper_loss"], j["initial_upper_loss"])
PY
BILEARN_DEMO_BIN=$bilearn BILEARN_DEMO_OUT=$work/demo bash "$root/scripts/demo.sh" "${reduced[@]}" -outer_type lbfgs \
  -outer_max_it 1 >"$work/demo2.txt" 2>&1 || { cat "$work/demo2.txt"; fail "the second demo run exited non-zero"; }
python3 -c 'import json, sys; assert json.load(open(sys.argv[1]))["outer_iterations"] == 1' "$work/demo/summary.json" ||
  fail "the second demo run did not replace the first"
echo "demo: ok"
