#!/usr/bin/env bash
# `bilearn bench scale` on a tiny tomography problem (N = 16, 24 angles, one training step), on 1
# and 2 ranks: exits 0, the --json file holds all four rows for both configurations with finite
# numbers, the new and old configurations agree (upper loss, hypergradient), the table prints
# every row, and scripts/scale_table.py reads the two files. `bench scale -help` prints the
# benchmark's options and exits 0 without solving anything.
# usage: bash bench_scale.sh <bilearn> <mpiexec> [mpiexec flags...]
set -euo pipefail
source "$(dirname "$0")/lib_expect.sh"
cli_init "$@"
root=$(cd "$(dirname "$0")/../.." && pwd)
small=(-bench_scale_n 16 -tomo_angles 24 -bench_scale_train_steps 1)

# Every row, both configurations, finite numbers, agreement (python3 standard library only).
check_json() {
  /usr/bin/python3 - "$1" "$2" <<'EOF'
import json, math, sys
path, ranks = sys.argv[1], int(sys.argv[2])
j = json.load(open(path))
def fail(msg):
    sys.exit(f"{path}: {msg}")
if j["command"] != "bench scale" or j["ranks"] != ranks:
    fail(f"command/ranks {j['command']} {j['ranks']}")
if j["failed_rows"]:
    fail(f"failed rows {j['failed_rows']}")
if [s["n"] for s in j["sizes"]] != [16]:
    fail("sizes")
def finite(where, v):
    if isinstance(v, bool) or isinstance(v, str):
        return
    if isinstance(v, dict):
        for k, x in v.items():
            finite(f"{where}.{k}", x)
    elif isinstance(v, list):
        for i, x in enumerate(v):
            finite(f"{where}[{i}]", x)
    elif v is None or not math.isfinite(v):
        fail(f"{where} is {v}")
rows = j["sizes"][0]["rows"]
names = [r["row"] for r in rows]
if names != ["cold_lower", "warm_lower", "hypergradient", "train"]:
    fail(f"rows {names}")
keys = ["seconds", "first_seconds", "cpu_seconds", "newton_iterations", "newton_krylov_iterations", "hyper_krylov_iterations", "h_products",
        "pc_applies", "peak_rss_mb_max_rank", "upper_loss", "seconds_split"]
for r in rows:
    for config in ("new", "old"):
        c = r[config]
        if not isinstance(c, dict):
            fail(f"{r['row']}: no {config} configuration")
        for k in keys:
            if k not in c:
                fail(f"{r['row']}.{config} lacks {k}")
        finite(f"{r['row']}.{config}", c)
        if c["seconds"] <= 0 or c["newton_iterations"] <= 0 or c["h_products"] <= 0 or c["peak_rss_mb_max_rank"] <= 0:
            fail(f"{r['row']}.{config}: zero counts {c}")
    for k in ("time_ratio", "h_products_ratio", "upper_loss_rel_diff"):
        finite(f"{r['row']}.{k}", r[k])
    if not r["agree"] or r["upper_loss_rel_diff"] > 1e-4:
        fail(f"{r['row']}: new and old disagree ({r['upper_loss_rel_diff']})")
    # The new defaults use PC circulant, the old configuration none.
    if r["new"]["pc_applies"] <= 0 or r["old"]["pc_applies"] != 0:
        fail(f"{r['row']}: PC applies {r['new']['pc_applies']} / {r['old']['pc_applies']}")
h = rows[2]
if h["hypergradient_rel_diff"] > 1e-5 or len(h["new"]["hypergradient"]) != 8 or h["new"]["hyper_krylov_iterations"] <= 0:
    fail(f"hypergradient row {h}")
t = rows[3]["new"]
if t["outer_iterations"] != 1 or len(t["theta"]) != 8:
    fail(f"train row {t}")
print(f"{path}: ok")
EOF
}

for np in 1 2; do
  out=$work/scale_$np.txt
  run "$np" bench scale "${small[@]}" --json "$work/scale_$np.json" >"$out" || { cat "$out"; fail "bench scale on $np rank(s) exited with $?"; }
  cat "$out"
  for label in "cold lower" "warm lower" "hypergradient" "train (1)"; do
    grep -q "^$label .* ok$" "$out" || fail "$np rank(s): no agreeing row '$label' in the table"
  done
  if grep -qw -e FAILED -e nan -e inf -e -nan "$out"; then fail "$np rank(s): FAILED, nan or inf in the table"; fi
  check_json "$work/scale_$np.json" "$np" || fail "the --json of $np rank(s)"
done
/usr/bin/python3 "$root/scripts/scale_table.py" "$work/scale_1.json" "$work/scale_2.json" >"$work/speedup.txt" ||
  fail "scale_table.py failed"
cat "$work/speedup.txt"
[ "$(grep -cE '^ +16 (cold_lower|warm_lower|hypergradient|train) ' "$work/speedup.txt")" = 4 ] ||
  fail "scale_table.py did not print the four rows"

# -help: the options, exit 0, nothing solved (no table), quickly.
start=$(date +%s)
run 1 bench scale -bench_scale_n 512 -help >"$work/help.txt" 2>&1 || { cat "$work/help.txt"; fail "bench scale -help exited with $?"; }
elapsed=$(($(date +%s) - start))
for option in -bench_scale_n -bench_scale_train_steps -bench_repeat -bench_scale_old_rows -lower_forcing -hyper_ksp_type; do
  grep -q -- "$option" "$work/help.txt" || fail "-help lacks $option"
done
if grep -q "^row \|agreement" "$work/help.txt"; then fail "-help ran the benchmark"; fi
[ "$elapsed" -lt 20 ] || fail "-help took ${elapsed} s"

# A failing row (weights of 10^309 overflow the objective): the table still prints, one error line.
expect_error 1 "FAILED rows" bench scale "${small[@]}" -reg_theta 309,309,309,309,309,309,309,309

# Bad input: one error line.
expect_error 1 "-bench_scale_old_rows" bench scale "${small[@]}" -bench_scale_old_rows cold
echo "bench scale: ok"
