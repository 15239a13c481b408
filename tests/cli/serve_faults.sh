#!/usr/bin/env bash
# bilearn serve under faults (docs/user_guide.md, "The solver service"), 2 ranks:
# - SIGUSR1 to the launcher, SIGTERM to the ranks during a train job: the job stops after its
#   outer step with a checkpoint, stays in running/ (released), the service exits 0; a service
#   started again on the spool resumes it and ends with the θ of an uninterrupted run.
# - kill -9 of the whole service mid-job: the next service takes the job over from the dead one
#   (same host, no such process) and resumes it from its last checkpoint (at most one outer step
#   lost), final θ again equal.
# - a job held by a live service (fresh heartbeat) is left alone; one whose service on another
#   host stopped beating for -serve_stale_seconds is taken over.
# - SIGTERM while the service waits for jobs: it exits 0.
# - two services on one spool run every job exactly once.
set -euo pipefail
source "$(dirname "$0")/lib_expect.sh"
cli_init "$@"
source "$(dirname "$0")/lib_reliability.sh"

steps=12
common=(-problem tomo -problem_n 16 -tomo_angles 20 -reg_type foe -data_samples 2 -lower_tao_gatol 1e-9
  -hyper_ksp_rtol 1e-10 -outer_max_it $steps -strict_options)
run_bounded 120 "$work/full.log" train --out "$work/full" "${common[@]}" || { cat "$work/full.log"; fail "uninterrupted run"; }
expected=$(theta_of "$work/full/summary.json")

job_file() {  # job_file FILE: the train job, one option per line (common: pairs, then -strict_options)
  {
    echo "-serve_command train"
    printf '%s %s\n' "${common[@]:0:${#common[@]}-1}"
    echo "-strict_options"
  } >"$1"
}
job_file "$work/train.opts"
rows_of() { if [ -f "$1" ]; then echo $(($(wc -l <"$1") - 1)); else echo 0; fi; }
wait_rows() {  # wait_rows FILE K: until FILE has K history rows (or the job ends)
  for _ in $(seq 1500); do
    [ "$(rows_of "$1")" -ge "$2" ] && return 0
    kill -0 "$job" 2>/dev/null || return 0
    sleep 0.02
  done
}
resumed_from() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["resumed_from"])' "$1"; }

# stop_and_resume NAME SIGNAL TARGET
stop_and_resume() {
  local name=$1 sig=$2 target=$3 spool=$work/$1 status=0
  run 1 submit --spool "$spool" "$work/train.opts" >/dev/null
  start_job "$work/$name.log" serve --spool "$spool" --until-empty
  wait_rows "$spool/running/train/history.csv" 2
  case $target in
    launcher) kill -"$sig" "$job" ;;
    ranks) kill -"$sig" $(rank_pids "$job") ;;
  esac
  wait_job "$job" 120 || status=$?
  [ "$status" -eq 0 ] || { cat "$work/$name.log"; fail "$name: the service exited $status after SIG$sig"; }
  grep -q "stopped with a checkpoint" "$work/$name.log" || { cat "$work/$name.log"; fail "$name: job not stopped"; }
  [ -d "$spool/running/train/checkpoint" ] || fail "$name: the job left running/ or has no checkpoint"
  grep -q '^released ' "$spool/running/train/owner" || fail "$name: the job was not released"
  [ "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["state"])' "$spool/status.json")" = stopped ] ||
    fail "$name: status.json"
  run_bounded 120 "$work/$name-2.log" serve --spool "$spool" --until-empty ||
    { cat "$work/$name-2.log"; fail "$name: second service"; }
  grep -q "job train (train, resumed from its checkpoint) done" "$work/$name-2.log" ||
    { cat "$work/$name-2.log"; fail "$name: not resumed"; }
  [ "$(theta_of "$spool/done/train/summary.json")" = "$expected" ] ||
    fail "$name: resumed theta differs from the uninterrupted run"
  echo "$name: SIG$sig to $target: stopped after step $(resumed_from "$spool/done/train/summary.json"), resumed, theta equal"
}
stop_and_resume usr1 USR1 launcher
stop_and_resume term TERM ranks

# kill -9 mid-job, then a new service.
spool=$work/kill
run 1 submit --spool "$spool" "$work/train.opts" >/dev/null
start_job "$work/kill.log" serve --spool "$spool" --until-empty -serve_stale_seconds 600
wait_rows "$spool/running/train/history.csv" 3
seen=$(rows_of "$spool/running/train/history.csv")
kill_session "$job" all
[ -f "$spool/running/train/owner" ] || fail "kill: the job is not in running/"
run_bounded 120 "$work/kill-2.log" serve --spool "$spool" --until-empty -serve_stale_seconds 600 ||
  { cat "$work/kill-2.log"; fail "kill: second service"; }
grep -q "job train started (taken over" "$work/kill-2.log" || { cat "$work/kill-2.log"; fail "kill: not taken over"; }
[ "$(theta_of "$spool/done/train/summary.json")" = "$expected" ] || fail "kill: theta differs from the uninterrupted run"
k=$(resumed_from "$spool/done/train/summary.json")
[ "$k" -ge $((seen - 1)) ] && [ "$k" -ge 1 ] || fail "kill: resumed from step $k, but $seen steps were done"
echo "kill -9 after step $seen: taken over, resumed from step $k, theta equal"

# A live owner is left alone; a stale one on another host is taken over.
spool=$work/owners
printf -- '-serve_command reconstruct\n-problem tomo\n-problem_n 16\n-tomo_angles 20\n-data_samples 1\n' >"$work/r.opts"
run 1 submit --spool "$spool" "$work/r.opts" >/dev/null  # creates the spool
for j in live stale; do
  mkdir -m 0755 "$spool/running/$j"
  cp "$work/r.opts" "$spool/running/$j/job.opts"
  touch "$spool/running/$j/heartbeat"
done
echo "$(hostname) $$ test" >"$spool/running/live/owner"
echo "elsewhere.example 1 test" >"$spool/running/stale/owner"
touch -d '-1 hour' "$spool/running/stale/heartbeat" "$spool/running/stale/owner"
run 2 serve --spool "$spool" --until-empty -serve_stale_seconds 60 >"$work/owners.log" 2>&1 ||
  { cat "$work/owners.log"; fail "owners: service"; }
[ -s "$spool/done/stale/summary.json" ] || { cat "$work/owners.log"; fail "the stale job was not taken over"; }
[ -f "$spool/running/live/owner" ] && ! grep -q "job live" "$work/owners.log" || fail "the live job was taken over"
[ -s "$spool/done/r/summary.json" ] || fail "owners: the queued job was not run"
echo "owners: live job left alone, stale job of another host taken over"

# SIGTERM while waiting for jobs.
start_job "$work/idle.log" serve --spool "$work/idle" -serve_poll_seconds 0.2
for _ in $(seq 500); do grep -q '^serve: spool' "$work/idle.log" 2>/dev/null && break; sleep 0.02; done
sleep 0.5
kill -TERM $(rank_pids "$job")
wait_job "$job" 60 || { cat "$work/idle.log"; fail "idle service: exit status $? after SIGTERM"; }
grep -q "received SIGTERM" "$work/idle.log" || { cat "$work/idle.log"; fail "idle service: no closing line"; }

# Two services on one spool.
spool=$work/two
for i in 1 2 3 4 5 6; do run 1 submit --spool "$spool" "$work/r.opts" >/dev/null; done
run 1 serve --spool "$spool" --until-empty -serve_poll_seconds 0.05 >"$work/two-a.log" 2>&1 &
a=$!
run 1 serve --spool "$spool" --until-empty -serve_poll_seconds 0.05 >"$work/two-b.log" 2>&1 &
b=$!
wait $a || fail "two services: the first exited non-zero"
wait $b || fail "two services: the second exited non-zero"
[ "$(ls "$spool/done" | wc -l)" -eq 6 ] || fail "two services: $(ls "$spool/done" | wc -l) jobs done, expected 6"
[ -z "$(ls -A "$spool/failed" "$spool/running" "$spool/incoming" | grep -v ':$' | grep .)" ] || fail "two services: jobs left"
started=$(cat "$work/two-a.log" "$work/two-b.log" | grep -c "started")
unique=$(cat "$work/two-a.log" "$work/two-b.log" | grep "started" | sort -u | wc -l)
[ "$started" -eq 6 ] && [ "$unique" -eq 6 ] || fail "two services: $started starts ($unique different) for 6 jobs"
echo "two services: 6 jobs, each run once ($(grep -c started "$work/two-a.log") + $(grep -c started "$work/two-b.log"))"
echo "serve_faults: ok"
