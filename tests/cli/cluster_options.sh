#!/usr/bin/env bash
# Every option file of cluster/options/ runs as documented,
#   mpirun -n 2 bilearn train --out D -options_file cluster/options/X.opts
# in smoke mode: options after -options_file override the file's size, samples, groups and steps
# (N = 16, 2 samples, 1 group, 1 step). Each file sets -strict_options, so an option in a file
# that the run does not read fails the test; each file starts with a comment saying what it does.
set -euo pipefail
source "$(dirname "$0")/lib_expect.sh"
cli_init "$@"
root=$(cd "$(dirname "$0")/../.." && pwd)

smoke=(-problem_n 16 -data_samples 2 -samples_groups 1 -outer_max_it 1)
count=0
for file in "$root"/cluster/options/*.opts; do
  name=$(basename "$file" .opts)
  head -1 "$file" | grep -q '^# ' || fail "$file does not start with a comment"
  grep -q '^-strict_options' "$file" || fail "$file does not set -strict_options"
  run 2 train --out "$work/$name" -options_file "$file" "${smoke[@]}" >"$work/$name.txt" 2>&1 ||
    { cat "$work/$name.txt"; fail "$name.opts"; }
  python3 - "$work/$name/summary.json" "$file" <<'PY' || fail "$name.opts: summary.json"
import json, sys
j = json.load(open(sys.argv[1]))
opts = dict(l.split(None, 1) if " " in l.strip() else (l.strip(), "") for l in open(sys.argv[2])
            if l.startswith("-"))
assert j["n"] == 16 and j["samples"] == 2 and j["outer_iterations"] == 1, j
assert j["regulariser"] == opts["-reg_type"].strip(), (j["regulariser"], opts["-reg_type"])
print("  %-14s %-40s %-9s L %.4e -> %.4e" % (sys.argv[2].split("/")[-1], j["problem"][:40], j["regulariser"],
                                             j["initial_upper_loss"], j["upper_loss"]))
PY
  count=$((count + 1))
done
[ "$count" -ge 5 ] || fail "expected at least 5 option files in cluster/options, found $count"
echo "cluster_options: ok ($count files)"
