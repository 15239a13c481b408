#!/usr/bin/env bash
# SIGUSR1 and SIGTERM during a 2-rank `train`: the run finishes the outer step it is in, writes
# a checkpoint and exits 0 (stop_reason "signal"), and `--resume` goes on to the uninterrupted
# run's θ bit for bit. Cases: SIGUSR1 to the launcher (Open MPI's mpirun passes it on to the
# ranks; what --signal=B:USR1 makes the cluster scripts do), SIGTERM to one rank only (the others
# learn it at the next step's reduction), SIGTERM to both ranks while the run is still setting up
# (caught from the start of the command: the run stops after its first step instead of dying).
# (SIGTERM to mpirun itself makes Open MPI's launcher exit 1 at once while the ranks go on:
# cluster/bilearn_job.sh therefore turns a TERM into a USR1 for mpirun.)
set -euo pipefail
source "$(dirname "$0")/lib_expect.sh"
cli_init "$@"
source "$(dirname "$0")/lib_reliability.sh"

steps=16
common=(-problem tomo -problem_n 24 -tomo_angles 30 -reg_type foe -data_samples 3 -lower_tao_gatol 1e-9
  -hyper_ksp_rtol 1e-10 -hyper_ksp_type rminres -outer_max_it $steps -strict_options)
run_bounded 300 "$work/full.log" train --out "$work/full" "${common[@]}" || { cat "$work/full.log"; fail "uninterrupted run"; }
expected=$(theta_of "$work/full/summary.json")

rows_of() { if [ -f "$1" ]; then echo $(($(wc -l <"$1") - 1)); else echo 0; fi; }

# stop_and_resume NAME SIGNAL TARGET WAIT_FOR: starts the run, waits (WAIT_FOR: "step K" or
# "setup", the command's first output line), sends SIGNAL to TARGET (launcher, rank1 or ranks),
# checks the stop and resumes.
stop_and_resume() {
  local name=$1 sig=$2 target=$3 wait_for=$4 out=$work/$1 seen=0 status=0
  start_job "$work/$name.log" train --out "$out" "${common[@]}"
  for _ in $(seq 1200); do
    if [ "$wait_for" = setup ]; then
      grep -q "^train: " "$work/$name.log" 2>/dev/null && break
    else
      seen=$(rows_of "$out/history.csv")
      [ "$seen" -ge "${wait_for#step }" ] && break
    fi
    kill -0 "$job" 2>/dev/null || break
    sleep 0.02
  done
  local ranks
  ranks=$(rank_pids "$job")
  case $target in
    launcher) kill -"$sig" "$job" ;;
    rank1) kill -"$sig" $(echo "$ranks" | tail -1) ;;
    ranks) kill -"$sig" $ranks ;;
  esac
  # The steps finished when the signal went out (steps are fast: re-read after the kill).
  [ "$wait_for" = setup ] || seen=$(rows_of "$out/history.csv")
  wait_job "$job" 120 || status=$?
  [ "$status" -eq 0 ] || { cat "$work/$name.log"; fail "$name: exit status $status after SIG$sig"; }
  python3 - "$out/summary.json" "$seen" "$steps" "$sig" <<'PY' || fail "$name: did not stop within one outer step"
import json, sys
j = json.load(open(sys.argv[1]))
seen, steps, sig = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
k = j["outer_iterations"]
assert j["stop_reason"] == "signal", j["stop_reason"]
assert "SIG" + sig in j["stop_message"], j["stop_message"]
assert max(seen, 1) <= k <= seen + 1 < steps, (seen, k)
PY
  local k
  k=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["outer_iterations"])' "$out/summary.json")
  [ "$(cat "$out/checkpoint/LATEST")" = "$(printf 'checkpoint-%06d' "$k")" ] || fail "$name: no checkpoint of step $k"
  verify_checkpoints "$out/checkpoint" >/dev/null || fail "$name: incomplete checkpoint"
  echo "$name: SIG$sig to $target after step $seen: stopped after step $k with a checkpoint, exit 0"
  run_bounded 300 "$work/$name-resume.log" train --resume "$out" "${common[@]}" ||
    { cat "$work/$name-resume.log"; fail "$name: resume"; }
  [ "$(theta_of "$out/summary.json")" = "$expected" ] || fail "$name: resumed theta differs from the uninterrupted run"
}

stop_and_resume usr1 USR1 launcher "step 3"
stop_and_resume term TERM rank1 "step 6"
stop_and_resume term_setup TERM ranks setup
echo "reliability_signals: ok"
