#!/usr/bin/env bash
# bench serve at a small size (2 jobs, N = 16): launched itself under mpiexec on one rank, it
# starts its standalone and service runs (2 ranks each), prints the side-by-side table, finds
# every job's θ equal in the three ways, writes its --json summary and reads every option given;
# on 2 ranks it refuses with one error line.
set -euo pipefail
source "$(dirname "$0")/lib_expect.sh"
cli_init "$@"

launcher="$mpiexec ${flags[*]}"
run 1 bench serve -bench_jobs 2 -bench_n 16 -bench_angles 20 -bench_ranks 2 -bench_mpiexec "$launcher" \
  --json "$work/serve.json" -strict_options >"$work/serve.txt" || { cat "$work/serve.txt"; fail "bench serve exited non-zero"; }
cat "$work/serve.txt"
grep -q "^bench serve: 2 train jobs (tomo N = 16, 20 angles" "$work/serve.txt" || fail "no title line"
for way in "standalone mpiexec" "service, no cache" "service + cache"; do
  grep -q "^  $way " "$work/serve.txt" || fail "no row '$way'"
done
grep -q "theta of every job equal in the three ways: yes" "$work/serve.txt" || fail "theta differs"
python3 - "$work/serve.json" <<'PY' || fail "bench serve --json"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["command"] == "bench serve" and j["jobs"] == 2 and j["theta_equal"] is True, j
assert j["operator_assemblies"] == [2, 2, 1], j["operator_assemblies"]  # standalone, no cache, cache
assert all(j[k] > 0 for k in ("wall_seconds_standalone", "wall_seconds_service_no_cache", "wall_seconds_service_cache")), j
PY
expect_error 2 "bench serve runs on one rank" bench serve -bench_jobs 1
echo "bench_serve: ok"
