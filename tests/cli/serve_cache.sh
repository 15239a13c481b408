#!/usr/bin/env bash
# bilearn serve's warm caches beyond the operator (docs/user_guide.md, "The solver service"), on
# 1 and 2 ranks: a spool with three jobs of one geometry and one of another,
#   a_train  train, implicit hypergradients          first of its geometry: operator and PC symbol miss
#   b_step   train, one-step gradient map, 2nd noise  PC symbol hit; Lipschitz estimates miss (new)
#   c_step   hypergrad, one-step gradient map         PC symbol hit; Lipschitz hit (b's first θ; with
#                                                     -strict_options: the eigensolver's option counts as read)
#   d_other  hypergrad as c, 24 angles                another geometry: every kind misses
# shows the hit and miss counts on every job's log line, in the closing line and in status.json,
# and every job's result equals a standalone run of its options (θ, hypergradient to 1e-10):
# a hit is the value a recomputation gives. A service with -serve_cache_mb 0 keeps nothing and
# gives the same results.
set -euo pipefail
source "$(dirname "$0")/lib_expect.sh"
source "$(dirname "$0")/lib_serve.sh"
cli_init "$@"

common=(-problem tomo -problem_n 16 -tomo_angles 20 -data_samples 2 -lower_tao_gatol 1e-9)
train=(-outer_max_it 2 -outer_adaptive_tol false)
step=(-hyper_method onestep -hyper_onestep_map gradient -hyper_lipschitz_eps_tol 1e-3)
job "$work/a_train.opts" train "${common[@]}" "${train[@]}"
job "$work/b_step.opts" train "${common[@]}" "${train[@]}" "${step[@]}" -data_noise 0.02
job "$work/c_step.opts" hypergrad "${common[@]}" "${step[@]}" -strict_options  # its eigensolver option counts as read on a hit
job "$work/d_other.opts" hypergrad "${common[@]}" "${step[@]}" -tomo_angles 24

# serve NP SPOOL LOG [OPTIONS...]: the four jobs through one service
serve() {
  local np=$1 spool=$2 log=$3
  shift 3
  for f in a_train b_step c_step d_other; do
    run 1 submit --spool "$spool" "$work/$f.opts" >/dev/null
    sleep 0.01  # queued in this order (oldest first)
  done
  run "$np" serve --spool "$spool" --until-empty -serve_poll_seconds 0.1 "$@" >"$log" 2>&1 ||
    { cat "$log"; fail "serve on $np rank(s) did not exit 0"; }
  for f in a_train b_step c_step d_other; do
    [ -s "$spool/done/$f/summary.json" ] || { cat "$log"; fail "$np rank(s): $f not in done/"; }
  done
}

# counts LOG JOB KIND: "HITS MISSES" of KIND ("pc symbol", "lipschitz") on JOB's log line ("0 0": none)
counts() {
  local line
  line=$(grep "job $2 (.*) done" "$1") || fail "no log line for job $2"
  if [[ $line =~ $3\ cache:\ ([0-9]+)\ hit\(s\),\ ([0-9]+)\ miss\(es\) ]]; then
    echo "${BASH_REMATCH[1]} ${BASH_REMATCH[2]}"
  else
    echo "0 0"
  fi
}
# expect_counts LOG JOB KIND CONDITION: CONDITION (python, on h and m) holds for JOB's counts
expect_counts() {
  local c
  c=$(counts "$1" "$2" "$3")
  python3 -c "import sys; h, m = map(int, sys.argv[1].split()); sys.exit(0 if ($4) else 1)" "$c" ||
    { cat "$1"; fail "job $2: $3 cache hits and misses '$c' fail: $4"; }
}

# same_results SPOOL NP WHAT: the jobs' results equal the standalone runs on NP ranks, and so do
# their iteration counts (a preconditioner built from a wrong symbol changes them before θ) and
# the Lipschitz estimates
same_results() {
  local spool=$1 np=$2 what=$3 key
  for key in krylov_iterations_total lower_iterations_total; do
    [ "$(json_field "$spool/done/a_train/summary.json" $key)" = "$(json_field "$work/a$np/summary.json" $key)" ] ||
      fail "$what: a_train's $key differs from the standalone run"
    [ "$(json_field "$spool/done/b_step/summary.json" $key)" = "$(json_field "$work/b$np/summary.json" $key)" ] ||
      fail "$what: b_step's $key differs from the standalone run"
  done
  for key in lipschitz_estimate lower_iterations_total; do
    [ "$(json_field "$spool/done/c_step/summary.json" $key)" = "$(json_field "$work/c$np.json" $key)" ] ||
      fail "$what: c_step's $key differs from the standalone run"
    [ "$(json_field "$spool/done/d_other/summary.json" $key)" = "$(json_field "$work/d$np.json" $key)" ] ||
      fail "$what: d_other's $key differs from the standalone run"
  done
  same_as_standalone "$spool/done/a_train/summary.json" "$work/a$np/summary.json" theta "$what: a_train's theta differs from the standalone run"
  same_as_standalone "$spool/done/b_step/summary.json" "$work/b$np/summary.json" theta "$what: b_step's theta differs from the standalone run"
  same_as_standalone "$spool/done/c_step/summary.json" "$work/c$np.json" hypergradient "$what: c_step's hypergradient differs from the standalone run"
  same_as_standalone "$spool/done/d_other/summary.json" "$work/d$np.json" hypergradient "$what: d_other's hypergradient differs from the standalone run"
}

for np in 1 2; do
  spool=$work/spool$np log=$work/serve$np.log
  serve "$np" "$spool" "$log"
  grep "job .* done\|queue is empty" "$log"
  # Operators as before: one assembly per geometry.
  grep -q "job a_train (train) done .*operator cache: miss" "$log" || fail "a_train: no operator miss"
  grep -q "job c_step (hypergrad) done .*operator cache: hit" "$log" || fail "c_step: no operator hit"
  grep -q "job d_other (hypergrad) done .*operator cache: miss" "$log" || fail "d_other: no operator miss"
  # PC symbol: estimated once per geometry (a's first PC, d's), found by every other PC.
  expect_counts "$log" a_train "pc symbol" "m == 1 and h >= 1"  # 2 samples: lower and hypergradient PCs
  expect_counts "$log" b_step "pc symbol" "m == 0 and h >= 1"
  expect_counts "$log" c_step "pc symbol" "m == 0 and h >= 1"
  expect_counts "$log" d_other "pc symbol" "m == 1"
  # Lipschitz: only the gradient-map jobs estimate it; c's θ is b's first, d's geometry is new.
  expect_counts "$log" a_train lipschitz "h == 0 and m == 0"
  expect_counts "$log" b_step lipschitz "m >= 1"
  expect_counts "$log" c_step lipschitz "h == 1 and m == 0"
  expect_counts "$log" d_other lipschitz "h == 0 and m == 1"
  read -r bh bm < <(counts "$log" b_step lipschitz)
  python3 - "$spool/status.json" "$bh" "$bm" <<'PY' || { cat "$spool/status.json"; fail "$np rank(s): status.json cache counts"; }
import json, sys
c = json.load(open(sys.argv[1]))["cache"]
b_hits, b_misses = int(sys.argv[2]), int(sys.argv[3])
assert c["hits"] == 2 and c["misses"] == 2 and c["operators"] == 2 and c["megabytes"] > 0, c
assert c["pc_symbol"]["misses"] == 2 and c["pc_symbol"]["hits"] >= 3 and c["pc_symbol"]["entries"] == 2, c
assert c["lipschitz"]["hits"] == b_hits + 1 and c["lipschitz"]["misses"] == b_misses + 1, c
assert c["lipschitz"]["entries"] == b_misses + 1, c
PY
  grep -q "serve: the queue is empty; 4 job(s) done, 0 failed, .*; operator cache 2 hit(s), 2 miss(es); pc symbol cache [0-9]* hit(s), 2 miss(es); lipschitz cache $((bh + 1)) hit(s), $((bm + 1)) miss(es)" "$log" ||
    fail "$np rank(s): closing line"

  # The same options standalone, on the same rank count (nothing is cached there).
  run "$np" train --out "$work/a$np" "${common[@]}" "${train[@]}" >/dev/null
  run "$np" train --out "$work/b$np" "${common[@]}" "${train[@]}" "${step[@]}" -data_noise 0.02 >/dev/null
  run "$np" hypergrad --json "$work/c$np.json" "${common[@]}" "${step[@]}" -strict_options >/dev/null
  run "$np" hypergrad --json "$work/d$np.json" "${common[@]}" "${step[@]}" -tomo_angles 24 >/dev/null
  same_results "$spool" "$np" "$np rank(s), with the cache"
  echo "serve on $np rank(s): PC symbol and Lipschitz hits and misses as expected, results equal to standalone runs"
done

# Without a cache (-serve_cache_mb 0): nothing kept, every lookup a miss, the same results.
spool=$work/nocache log=$work/nocache.log
serve 1 "$spool" "$log" -serve_cache_mb 0
python3 -c 'import json, sys
c = json.load(open(sys.argv[1]))["cache"]
assert c["hits"] == 0 and c["operators"] == 0 and c["megabytes"] == 0, c
for kind in ("pc_symbol", "lipschitz"):
    assert c[kind]["hits"] == 0 and c[kind]["entries"] == 0 and c[kind]["misses"] >= 2, c' "$spool/status.json" ||
  { cat "$spool/status.json"; fail "-serve_cache_mb 0: something was kept"; }
same_results "$spool" 1 "-serve_cache_mb 0"
echo "serve_cache: ok"
