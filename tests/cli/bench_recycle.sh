#!/usr/bin/env bash
# `bilearn bench recycle` on a tiny tomography run (2 ranks): records the hypergradient
# systems of the training, replays them with warm MINRES, rminres and rcg, and prints one row
# per method. Checks: every method reaches the reference hypergradient to the accuracy the
# tolerance implies, recycling cuts the iterations, no solve is rerun after a failed check,
# and the --json file holds the rows. With -bench_oracle, the oracle-stopped rows are never less
# accurate than warm MINRES; with -bench_exact 1, exact eigenvectors cut the iterations.
# usage: bash bench_recycle.sh <bilearn> <mpiexec> [mpiexec flags...]
set -euo pipefail
source "$(dirname "$0")/lib_expect.sh"
cli_init "$@"

out=$work/bench.txt
run 2 bench recycle --out "$work/run" --json "$work/bench.json" -problem_n 32 -tomo_angles 30 -data_samples 2 \
  -reg_foe_filters dct3 -outer_max_it 3 -outer_progress false \
  -bench_methods minres_warm,rminres_ritz_both,rminres_ritz_both_nosplit,rcg_ritz_both -bench_oracle -bench_exact 1 -bench_repeat 2 \
  -bench_k 8 >"$out" ||
  fail "bench recycle exited with $?"
cat "$out"
for m in minres_warm rminres_ritz_both rminres_ritz_both_nosplit rcg_ritz_both; do
  row=$(grep -E "^$m " "$out") || fail "no row for $m"
  read -r _ its _ _ _ _ _ _ _ _ errmax _ _ rst <<<"$row"
  awk -v e="$errmax" 'BEGIN { exit !(e < 1e-4) }' || fail "$m: hypergradient error $errmax"
  [ "$rst" = 0 ] || fail "$m: $rst solves failed their true-residual check"
  eval "its_$m=$its"
done
[ "$its_rminres_ritz_both" -lt "$its_minres_warm" ] ||
  fail "recycling did not cut the iterations ($its_rminres_ritz_both vs $its_minres_warm)"
grep -q '"method": "rcg_ritz_both"' "$work/bench.json" || grep -q '"method":"rcg_ritz_both"' "$work/bench.json" ||
  fail "--json lacks the method rows"
grep -q '"h_equivalent"' "$work/bench.json" || fail "--json lacks h_equivalent"

# Oracle rows stop at warm MINRES's error, system by system: their largest error cannot exceed it.
warm_err=$(grep -E "^minres_warm " "$out" | awk '{print $11}')
oracle_err=$(grep -E "^rminres_ritz_both_oracle " "$out" | awk '{print $11}') || fail "no oracle row"
awk -v o="$oracle_err" -v w="$warm_err" 'BEGIN { exit !(o <= w * (1 + 1e-9)) }' ||
  fail "oracle stopping less accurate than warm MINRES ($oracle_err > $warm_err)"
# Deflation bound: exact eigenvectors (k = 8 and 16) must cut MINRES's iterations.
bound=$(grep -A3 "^deflation bound" "$out" | awk '$1 ~ /^[0-9]+$/') || fail "no deflation bound rows"
[ "$(wc -l <<<"$bound")" = 2 ] || fail "expected 2 deflation bound rows, got: $bound"
while read -r _ k minres exact _; do
  [ "$exact" -lt "$minres" ] || fail "exact deflation with k = $k did not cut the iterations ($exact vs $minres)"
done <<<"$bound"
grep -q '"deflation_bound"' "$work/bench.json" || fail "--json lacks deflation_bound"
echo "bench recycle: ok"
