#!/usr/bin/env bash
# reconstruct and hypergrad end to end on a small tomography problem, with their --json
# summaries: the upper loss is the mean of the sample losses and the same on 1 and 2 ranks and
# in both commands; the implicit hypergradient agrees with central differences (-hyper_method
# fd); --out writes the PNGs; -options_file gives the run of the same options on the command
# line; --version prints the version. Every run passes -strict_options (no unused option).
set -euo pipefail
source "$(dirname "$0")/lib_expect.sh"
cli_init "$@"

common=(-problem tomo -problem_n 16 -tomo_angles 20 -data_samples 2 -reg_type tv -reg_tv_learn_gamma -strict_options)

run 1 reconstruct "${common[@]}" --json "$work/r1.json" >"$work/r1.txt" || fail "reconstruct on 1 rank"
run 2 reconstruct "${common[@]}" --json "$work/r2.json" --out "$work/rec" >"$work/r2.txt" || fail "reconstruct on 2 ranks"
cat "$work/r2.txt"
for f in recon_000.png recon_001.png truth_000.png truth_001.png; do [ -s "$work/rec/$f" ] || fail "reconstruct --out: no $f"; done
python3 - "$work/r1.json" "$work/r2.json" "$work/r2.txt" <<'PY' || fail "reconstruct --json"
import json, math, re, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
for j, ranks in ((a, 1), (b, 2)):
    assert j["command"] == "reconstruct" and j["ranks"] == ranks and j["samples"] == 2 and j["n"] == 16, j
    assert j["theta"] == [-2, -2], j["theta"]
    assert len(j["sample_loss"]) == 2 and len(j["sample_psnr"]) == 2
    assert all(math.isfinite(x) and x > 0 for x in j["sample_loss"] + j["sample_psnr"]), j
    assert abs(j["upper_loss"] - sum(j["sample_loss"]) / 2) <= 1e-12 * j["upper_loss"], j
    assert j["lower_iterations_total"] > 0 and "operator_transpose_stored" in j
assert abs(a["upper_loss"] - b["upper_loss"]) <= 1e-8 * a["upper_loss"], (a["upper_loss"], b["upper_loss"])
printed = re.search(r"^upper loss (\S+),", open(sys.argv[3]).read(), re.M).group(1)
assert abs(float(printed) - b["upper_loss"]) <= 1e-6 * b["upper_loss"], (printed, b["upper_loss"])
PY

run 1 hypergrad "${common[@]}" -hyper_ksp_rtol 1e-10 --json "$work/h1.json" >"$work/h1.txt" || fail "hypergrad implicit"
cat "$work/h1.txt"
run 2 hypergrad "${common[@]}" -hyper_method fd --json "$work/f2.json" >/dev/null || fail "hypergrad fd"
python3 - "$work/h1.json" "$work/f2.json" "$work/r1.json" <<'PY' || fail "hypergrad --json"
import json, math, sys
h, f, r = (json.load(open(x)) for x in sys.argv[1:4])
assert h["command"] == "hypergrad" and h["method"] == "implicit" and f["method"] == "fd", (h["method"], f["method"])
assert len(h["hypergradient"]) == 2 and len(f["hypergradient"]) == 2
assert h["krylov_iterations_total"] > 0 and f["krylov_iterations_total"] == 0
norm = math.sqrt(sum(x * x for x in h["hypergradient"]))
diff = math.sqrt(sum((x - y) ** 2 for x, y in zip(h["hypergradient"], f["hypergradient"])))
assert norm > 0 and diff <= 2e-3 * norm, (h["hypergradient"], f["hypergradient"])
for j in (h, f):
    assert abs(j["upper_loss"] - r["upper_loss"]) <= 1e-8 * r["upper_loss"], (j["upper_loss"], r["upper_loss"])
PY

# -options_file: the same options from a commented file give the same summary.
{
  echo "# reconstruct_hypergrad.sh: the options of the command line above"
  printf '%s\n' "-problem tomo" "-problem_n 16" "-tomo_angles 20" "-data_samples 2" "-reg_type tv" "-reg_tv_learn_gamma"
} >"$work/job.opts"
run 2 reconstruct -options_file "$work/job.opts" -strict_options --json "$work/o2.json" >/dev/null || fail "-options_file"
python3 - "$work/r2.json" "$work/o2.json" <<'PY' || fail "-options_file gives another result"
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
assert a["sample_loss"] == b["sample_loss"] and a["theta"] == b["theta"], (a["sample_loss"], b["sample_loss"])
PY
# A later command-line option overrides the file's.
run 1 reconstruct -options_file "$work/job.opts" -problem_n 12 -strict_options --json "$work/o3.json" >/dev/null
python3 -c 'import json, sys; assert json.load(open(sys.argv[1]))["n"] == 12' "$work/o3.json" || fail "override of -options_file"
expect_error 1 "options_file" reconstruct -options_file "$work/missing.opts"

run 1 --version >"$work/version.txt" || fail "--version exited non-zero"
grep -qE '^bilearn [0-9]+\.[0-9]+\.[0-9]+$' "$work/version.txt" || fail "--version printed: $(cat "$work/version.txt")"
echo "reconstruct_hypergrad: ok"
