#!/usr/bin/env bash
# bilearn serve / submit (docs/user_guide.md, "The solver service"), on 1 and 2 ranks: a spool
# with good jobs (train, reconstruct, hypergrad, each behind a job with other options, so that
# options leaking from one job into the next would change its result) and bad ones (an unknown
# option under -strict_options, a failing lower-level solve, a missing input file, a file that
# is no options file, an option writing outside the job folder) ends with the good jobs in
# done/ (their results equal to standalone runs of the same options, θ to 1e-10) and every bad
# one in failed/ with a one-line error.txt; the service exits 0 and status.json counts them.
# All jobs share one geometry: the first assembles the operator, the others hit the cache (and
# still equal the standalone runs).
# (serve_refuse.sh: what submit and serve refuse.)
set -euo pipefail
source "$(dirname "$0")/lib_expect.sh"
source "$(dirname "$0")/lib_serve.sh"
cli_init "$@"

common=(-problem tomo -problem_n 16 -tomo_angles 20 -data_samples 2 -lower_tao_gatol 1e-9)


for np in 1 2; do
  spool=$work/spool$np
  # Each good job follows one with other options (-reg_type, -outer_type, -hyper_method).
  job "$work/a_other.opts" train "${common[@]}" -reg_type tikhonov -outer_type adam -outer_max_it 1
  job "$work/b_train.opts" train "${common[@]}" -outer_max_it 3 -strict_options
  job "$work/c_other.opts" hypergrad "${common[@]}" -hyper_method onestep -reg_theta -1.5
  job "$work/d_hyper.opts" hypergrad "${common[@]}" -strict_options -reg_view ascii:reg.txt
  job "$work/e_recon.opts" reconstruct "${common[@]}" -strict_options
  job "$work/f_typo.opts" train "${common[@]}" -outer_max_it 1 -strict_options -typo_option 3
  job "$work/g_nolower.opts" hypergrad "${common[@]}" -lower_tao_max_it 1
  job "$work/h_nofile.opts" reconstruct "${common[@]}" -data_file "$work/missing.h5"
  for f in a_other b_train c_other d_hyper e_recon f_typo g_nolower h_nofile; do
    run 1 submit --spool "$spool" "$work/$f.opts" >/dev/null
    sleep 0.01  # queued in this order (oldest first)
  done
  # Dropped into incoming/ directly, bypassing submit's checks: the service fails them.
  printf 'not an options file\n' >"$spool/incoming/i_garbage.opts"
  printf -- '-serve_command reconstruct\n-problem_view ascii:/tmp/serve_spool_outside.txt\n' \
    >"$spool/incoming/j_outside.opts"
  run "$np" serve --spool "$spool" --until-empty -serve_poll_seconds 0.1 >"$work/serve$np.log" 2>&1 ||
    { cat "$work/serve$np.log"; fail "serve on $np rank(s) did not exit 0"; }
  [ ! -e /tmp/serve_spool_outside.txt ] || fail "a job wrote outside its folder"

  for good in a_other b_train c_other d_hyper e_recon; do
    [ -s "$spool/done/$good/summary.json" ] || { cat "$work/serve$np.log"; fail "$np rank(s): $good not in done/"; }
  done
  for bad in f_typo g_nolower h_nofile i_garbage j_outside; do
    e=$spool/failed/$bad/error.txt
    [ -s "$e" ] || { cat "$work/serve$np.log"; fail "$np rank(s): $bad not in failed/ with error.txt"; }
    [ "$(wc -l <"$e")" -eq 1 ] && grep -q '^bilearn: error: ' "$e" || fail "$bad: error.txt is not one error line: $(cat "$e")"
  done
  grep -q "typo_option" "$spool/failed/f_typo/error.txt" || fail "f_typo: $(cat "$spool/failed/f_typo/error.txt")"
  grep -q "lower-level solve did not converge" "$spool/failed/g_nolower/error.txt" || fail "g_nolower"
  grep -q "missing.h5" "$spool/failed/h_nofile/error.txt" || fail "h_nofile"
  grep -q "is not an option" "$spool/failed/i_garbage/error.txt" || fail "i_garbage: $(cat "$spool/failed/i_garbage/error.txt")"
  grep -q "writes only inside its own folder" "$spool/failed/j_outside/error.txt" || fail "j_outside"
  [ -z "$(find "$spool/incoming" "$spool/running" -mindepth 1)" ] || fail "jobs left in incoming/ or running/"
  for f in history.csv history.png reconstructions.png checkpoint output.txt job.opts; do
    [ -e "$spool/done/b_train/$f" ] || fail "done/b_train lacks $f"
  done
  [ -s "$spool/done/d_hyper/reg.txt" ] || fail "-reg_view ascii:reg.txt did not write into the job folder"
  [ ! -e "$spool/done/b_train/owner" ] || fail "the owner file was left in done/"
  python3 - "$spool/status.json" <<'PY' || fail "status.json"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["state"] == "stopped" and s["jobs_done"] == 5 and s["jobs_failed"] == 5, s
assert s["jobs_queued"] == 0 and s["jobs_running"] == 0 and s["service"]["jobs_done"] == 5, s
assert s["uptime_seconds"] > 0 and "hits" in s["cache"] and "misses" in s["cache"], s
PY
  grep -q "serve: the queue is empty; 5 job(s) done, 5 failed" "$work/serve$np.log" || fail "closing line"
  # One geometry: the first job assembles A (and Aᵀ), the later ones find it in the cache.
  grep -q "job a_other (train) done .*operator cache: miss" "$work/serve$np.log" || fail "a_other: no cache miss"
  for good in b_train d_hyper e_recon; do
    grep -q "job $good (.*) done .*operator cache: hit" "$work/serve$np.log" || fail "$good: no cache hit"
  done
  python3 -c 'import json, sys
c = json.load(open(sys.argv[1]))["cache"]
assert c["hits"] >= 4 and c["misses"] == 1 and c["operators"] == 1 and c["megabytes"] > 0, c' "$spool/status.json" ||
    fail "status.json cache counts"

  # The same options standalone, on the same rank count.
  run "$np" train --out "$work/b$np" "${common[@]}" -outer_max_it 3 >/dev/null
  run "$np" hypergrad --json "$work/d$np.json" "${common[@]}" >/dev/null
  run "$np" reconstruct --json "$work/e$np.json" "${common[@]}" >/dev/null
  same_as_standalone "$spool/done/b_train/summary.json" "$work/b$np/summary.json" theta "$np rank(s): the train job's theta differs from the standalone run"
  same_as_standalone "$spool/done/d_hyper/summary.json" "$work/d$np.json" hypergradient "$np rank(s): the hypergrad job's hypergradient differs from the standalone run"
  same_as_standalone "$spool/done/e_recon/summary.json" "$work/e$np.json" upper_loss "$np rank(s): the reconstruct job's loss differs from the standalone run"
  echo "serve on $np rank(s): 5 jobs done (equal to standalone runs), 5 failed with one error line each"
done
echo "serve_spool: ok"
