#!/usr/bin/env bash
# cluster/slurm/serve.sbatch run locally with a fake Slurm environment (SLURM_JOB_ID,
# SLURM_SUBMIT_DIR, SLURM_NTASKS and a recorder in place of sbatch), as cluster_slurm.sh does for
# train.sbatch: SIGUSR1 to the batch shell while the service runs its first job (what
# --signal=B:USR1@300 does at the end of the walltime) makes the job checkpoint and the service
# exit 0, and since jobs remain the script submits itself again after this job; running that
# follow-up resumes the job, runs the rest of the queue and submits nothing more.
set -euo pipefail
source "$(dirname "$0")/lib_expect.sh"
cli_init "$@"
source "$(dirname "$0")/lib_fake_slurm.sh"
spool=$work/spool
for i in 1 2; do
  printf -- '-serve_command train\n-problem tomo\n-problem_n 16\n-tomo_angles 20\n-reg_type foe\n-data_samples 2\n-outer_max_it 12\n-data_noise 0.0%s\n-strict_options\n' \
    "$i" >"$work/job$i.opts"
  "$bilearn" submit --spool "$spool" "$work/job$i.opts" >/dev/null
done
rows() { if [ -f "$1" ]; then echo $(($(wc -l <"$1") - 1)); else echo 0; fi; }

SLURM_JOB_ID=2001 bash "$root/cluster/slurm/serve.sbatch" "$spool" -serve_poll_seconds 0.1 >"$work/job1.log" 2>&1 &
job=$!
for _ in $(seq 1500); do
  [ "$(rows "$spool/running/job1/history.csv")" -ge 1 ] && break
  sleep 0.02
done
kill -USR1 "$job"
status=0
wait "$job" || status=$?
cat "$work/job1.log"
[ "$status" -eq 0 ] || fail "the batch job exited with $status after SIGUSR1"
grep -q "job job1 (train) stopped with a checkpoint" "$work/job1.log" || fail "the first job was not stopped"
[ -f "$spool/incoming/job2.opts" ] || fail "the second job was not left queued"
expected=$(printf '%s\n' "--dependency=afterany:2001" "$root/cluster/slurm/serve.sbatch" "$spool" -serve_poll_seconds 0.1)
[ "$(cat "$work/submitted.txt")" = "$expected" ] || fail "follow-up submitted as: $(cat "$work/submitted.txt")"

mapfile -t follow <"$work/submitted.txt"
rm "$work/submitted.txt"
SLURM_JOB_ID=2002 bash "${follow[@]:1}" >"$work/job2.log" 2>&1 || { cat "$work/job2.log"; fail "the follow-up job"; }
cat "$work/job2.log"
grep -q "job job1 (train, resumed from its checkpoint) done" "$work/job2.log" || fail "job1 not resumed"
[ -s "$spool/done/job1/summary.json" ] && [ -s "$spool/done/job2/summary.json" ] || fail "jobs not done"
[ ! -e "$work/submitted.txt" ] || fail "an empty spool submitted another job"
echo "cluster_serve: ok"
