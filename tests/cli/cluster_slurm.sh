#!/usr/bin/env bash
# cluster/slurm/train.sbatch run locally with a fake Slurm environment (SLURM_JOB_ID,
# SLURM_SUBMIT_DIR, SLURM_NTASKS and a recorder in place of sbatch): SIGUSR1 to the batch shell
# mid-run (what --signal=B:USR1@300 does) makes bilearn checkpoint and exit 0, and the script
# submits a follow-up job of itself after this one; running that follow-up resumes the run
# (train --resume) to its last step. The PBS watchdog (bilearn_watchdog) stops a run the same way.
set -euo pipefail
source "$(dirname "$0")/lib_expect.sh"
cli_init "$@"
source "$(dirname "$0")/lib_fake_slurm.sh"
# Enough steps that the signal arrives mid-run (a smoke step takes ~10 ms); Adam with a tiny rate
# takes all of them rather than converging early.
steps=300
opts=$root/cluster/options/smoke.opts
slow=(-outer_type adam -outer_adam_lr 1e-4)

# history_rows CSV: the number of outer steps recorded so far.
history_rows() { if [ -f "$1" ]; then echo $(($(wc -l <"$1") - 1)); else echo 0; fi; }
# stop_mid_run PID CSV: SIGUSR1 to PID once a step is recorded (the trainer's handler is set).
stop_mid_run() {
  for _ in $(seq 600); do
    [ "$(history_rows "$2")" -ge 1 ] && break
    sleep 0.1
  done
  kill -USR1 "$1"
}

SLURM_JOB_ID=1001 bash "$root/cluster/slurm/train.sbatch" "$opts" "$work/run" -outer_max_it $steps "${slow[@]}" \
  >"$work/job1.log" 2>&1 &
job=$!
stop_mid_run "$job" "$work/run/history.csv"
status=0
wait "$job" || status=$?
cat "$work/job1.log"
[ "$status" -eq 0 ] || fail "the job exited with $status after SIGUSR1"
python3 - "$work/run/summary.json" $steps <<'PY' || fail "the first job did not stop on the signal"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["stop_reason"] == "signal" and 0 < j["outer_iterations"] < int(sys.argv[2]), (j["stop_reason"], j["outer_iterations"])
PY
[ -e "$work/run/checkpoint/LATEST" ] || fail "no checkpoint after the signal"
[ -f "$work/submitted.txt" ] || fail "no follow-up job submitted"
expected=$(printf '%s\n' "--dependency=afterany:1001" "$root/cluster/slurm/train.sbatch" "$opts" "$work/run" \
  -outer_max_it $steps "${slow[@]}")
[ "$(cat "$work/submitted.txt")" = "$expected" ] || fail "follow-up submitted as: $(cat "$work/submitted.txt")"

# The follow-up job: the submitted script with its arguments, as Slurm would run it.
mapfile -t follow <"$work/submitted.txt"
rm "$work/submitted.txt"
SLURM_JOB_ID=1002 bash "${follow[@]:1}" >"$work/job2.log" 2>&1 || { cat "$work/job2.log"; fail "the follow-up job"; }
grep -q "train --resume $work/run" "$work/job2.log" || fail "the follow-up did not resume: $(cat "$work/job2.log")"
python3 - "$work/run/summary.json" $steps "$work/run/history.csv" <<'PY' || fail "the resumed run did not finish"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["stop_reason"] == "max_it" and j["outer_iterations"] == int(sys.argv[2]), (j["stop_reason"], j["outer_iterations"])
assert len(open(sys.argv[3]).read().splitlines()) == 1 + int(sys.argv[2]), "history.csv lacks steps"
PY
[ ! -e "$work/submitted.txt" ] || fail "a finished run submitted another job"

# PBS's watchdog: SIGUSR1 to the job shell after the given seconds; the same stop. Adam with a
# tiny rate takes all 2000 steps (gd converged within the 4 s on a quiet machine).
cat >"$work/pbs_like.sh" <<SH
source "$root/cluster/bilearn_job.sh"
watchdog=\$(bilearn_watchdog 4)
status=0
bilearn_train "$opts" "$work/pbs" -outer_max_it 2000 -outer_type adam -outer_adam_lr 1e-4 || status=\$?
kill "\$watchdog" 2>/dev/null || true
exit \$status
SH
status=0
bash "$work/pbs_like.sh" >"$work/pbs.log" 2>&1 || status=$?
[ "$status" -eq 75 ] || { cat "$work/pbs.log"; fail "the watchdog run returned $status, expected 75 (to be resumed)"; }
echo "cluster_slurm: ok"
